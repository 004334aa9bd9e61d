"""The share poster: a phone-sized PNG a shopper can save and post to moments or a chat group."""

import io

import qrcode
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont

from siyu.core.fonts import cjk_font
from siyu.core.money import format_yuan

WIDTH, HEIGHT = 750, 1100
ACCENT = (226, 61, 47)


def _font(size: int):
    return cjk_font(size) or ImageFont.load_default(size=size)


def _product_image(product) -> Image.Image:
    field = product.main_image
    if field and field.name and default_storage.exists(field.name):
        with default_storage.open(field.name, "rb") as fh:
            img = Image.open(fh)
            img.load()
        return img.convert("RGB")
    return Image.new("RGB", (WIDTH, WIDTH), (240, 236, 230))


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, lines: int) -> list[str]:
    out, current = [], ""
    for ch in text:
        if draw.textlength(current + ch, font=font) > width:
            out.append(current)
            current = ch
            if len(out) == lines:
                break
        else:
            current += ch
    if len(out) < lines and current:
        out.append(current)
    if len(out) == lines and "".join(out) != text:
        out[-1] = out[-1][:-1] + "…"
    return out


def _qr(url: str, size: int) -> Image.Image:
    code = qrcode.QRCode(border=1, box_size=10, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB").resize((size, size))


def poster_png(*, product, shop, share_url: str) -> bytes:
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    photo = _product_image(product)
    side = min(photo.size)
    photo = photo.crop(
        ((photo.width - side) // 2, (photo.height - side) // 2, (photo.width + side) // 2, (photo.height + side) // 2)
    ).resize((WIDTH, WIDTH))
    canvas.paste(photo, (0, 0))
    draw = ImageDraw.Draw(canvas)
    top = WIDTH + 24
    name_font = _font(34)
    for i, line in enumerate(_wrap(draw, product.name, name_font, 440, 2)):
        draw.text((32, top + i * 46), line, fill=(30, 30, 30), font=name_font)
    price = "¥" + format_yuan(product.price_min)
    draw.text((32, top + 104), price, fill=ACCENT, font=_font(52))
    if product.list_price and product.list_price > product.price_min:
        draw.text(
            (40 + draw.textlength(price, font=_font(52)), top + 124),
            "¥" + format_yuan(product.list_price),
            fill=(150, 150, 150),
            font=_font(26),
        )
    draw.text((32, HEIGHT - 60), shop.name, fill=(110, 110, 110), font=_font(26))
    qr = _qr(share_url, 230)
    canvas.paste(qr, (WIDTH - 230 - 28, top))
    draw.text((WIDTH - 230 - 28, top + 238), "长按识别 / Scan", fill=(140, 140, 140), font=_font(22))
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()


def invite_poster_png(*, shop, share_url: str, title: str, lines: list[str]) -> bytes:
    """The shop-level "invite friends" poster: a headline, the reward rules and a large QR code of
    the shopper's invite link."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, WIDTH, 360), fill=ACCENT)
    draw.text((48, 56), shop.name, fill=(255, 235, 230), font=_font(30))
    title_font = _font(56)
    for i, line in enumerate(_wrap(draw, title, title_font, WIDTH - 96, 2)):
        draw.text((48, 130 + i * 74), line, fill="white", font=title_font)
    side = 380
    qr_top = HEIGHT - side - 70
    body_font = _font(30)
    top = 400
    for text in lines:
        for line in _wrap(draw, text, body_font, WIDTH - 96, 2):
            if top + 44 > qr_top - 16:
                break  # the QR code matters more than the last line of rules
            draw.text((48, top), line, fill=(60, 60, 60), font=body_font)
            top += 44
        top += 8
    canvas.paste(_qr(share_url, side), ((WIDTH - side) // 2, qr_top))
    hint = "长按识别 / Scan"
    hint_font = _font(24)
    draw.text(
        ((WIDTH - draw.textlength(hint, font=hint_font)) // 2, qr_top + side + 12),
        hint,
        fill=(140, 140, 140),
        font=hint_font,
    )
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()
