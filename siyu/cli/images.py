"""Product pictures for the demo shop, drawn locally with Pillow (nothing is downloaded).

Each picture is a soft gradient with a simple drawn product (a cup, a bottle, a pouch…) and the
product's name in a CJK font when the machine has one. Without such a font the text becomes
neutral bars, so the pictures still look finished. The results are ordinary uploads: they go
through the catalogue services and so through the same checks and resizing as a seller's photos.
"""

import colorsys
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFilter

from siyu.core.fonts import cjk_font

Color = tuple[int, int, int]
PRODUCT_SIDE = 900
# Shapes are drawn at twice the size and scaled down: Pillow draws shapes without anti-aliasing.
SUPERSAMPLE = 2


@dataclass(frozen=True)
class Palette:
    top: Color
    bottom: Color
    accent: Color
    ink: Color


PALETTES: dict[str, Palette] = {
    "tea": Palette((232, 244, 226), (178, 214, 170), (74, 140, 84), (36, 70, 42)),
    "snack": Palette((255, 240, 214), (250, 196, 128), (226, 110, 42), (110, 52, 18)),
    "beauty": Palette((253, 232, 238), (240, 176, 196), (206, 72, 112), (104, 30, 56)),
    "care": Palette((226, 244, 250), (160, 212, 232), (38, 134, 176), (20, 62, 90)),
    "home": Palette((246, 238, 226), (214, 192, 160), (150, 104, 62), (80, 56, 34)),
    "baby": Palette((255, 248, 220), (190, 222, 246), (244, 160, 60), (60, 84, 120)),
    "brand": Palette((255, 236, 228), (236, 88, 72), (214, 48, 49), (120, 20, 20)),
}
BANNER = Palette((238, 92, 70), (186, 30, 52), (214, 48, 49), (120, 20, 20))


def _mix(a: Color, b: Color, t: float) -> Color:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _shift_hue(color: Color, degrees: float) -> Color:
    h, light, sat = colorsys.rgb_to_hls(*(c / 255 for c in color))
    r, g, b = colorsys.hls_to_rgb((h + degrees / 360) % 1.0, light, sat)
    return (round(r * 255), round(g * 255), round(b * 255))


def product_palette(theme: str, name: str, seed: int = 0) -> Palette:
    """The theme's colours turned a little per product, so a shelf of one category is not monotone."""
    pal = PALETTES.get(theme, PALETTES["brand"])
    turn = random.Random(f"{seed}:hue:{name}").uniform(-18, 18)
    return Palette(*(_shift_hue(c, turn) for c in (pal.top, pal.bottom, pal.accent, pal.ink)))


def _rgba(color: Color, alpha: int = 255) -> tuple[int, int, int, int]:
    return (*color, alpha)


# --- backgrounds -------------------------------------------------------------------------


# Masks and drawn products repeat across a catalogue; caching them keeps the demo build fast.
@lru_cache(maxsize=8)
def _vertical_mask(size: tuple[int, int]) -> Image.Image:
    return Image.linear_gradient("L").resize(size)


@lru_cache(maxsize=8)
def _glow_mask(side: int) -> Image.Image:
    return Image.eval(Image.radial_gradient("L").resize((side, side)), lambda v: max(0, 255 - v * 2))


def _background(size: tuple[int, int], pal: Palette, rng: random.Random) -> Image.Image:
    """A vertical gradient with an off-centre glow and a few translucent circles."""
    width, height = size
    mask = _vertical_mask(size)
    base = Image.composite(Image.new("RGB", size, pal.bottom), Image.new("RGB", size, pal.top), mask)
    glow_side = int(max(size) * 1.3)
    glow_mask = _glow_mask(glow_side)
    gx, gy = int(width * rng.uniform(0.15, 0.45)), int(height * rng.uniform(0.05, 0.3))
    glow = Image.new("RGB", size, _mix(pal.top, (255, 255, 255), 0.7))
    base.paste(
        glow,
        (0, 0),
        glow_mask.crop(
            (glow_side // 2 - gx, glow_side // 2 - gy, glow_side // 2 - gx + width, glow_side // 2 - gy + height)
        ),
    )
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for _ in range(5):
        r = int(min(size) * rng.uniform(0.05, 0.22))
        cx, cy = rng.randint(0, width), rng.randint(0, height)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255, rng.randint(28, 60)))
    return Image.alpha_composite(base.convert("RGBA"), overlay)


# --- drawn products ----------------------------------------------------------------------
# Each motif draws into a square layer in units of 0..1000, scaled by `k` pixels per unit.


def _box(k: float, *coords: float) -> list[float]:
    return [c * k for c in coords]


def _cup(d: ImageDraw.ImageDraw, k: float, pal: Palette) -> None:
    light, dark = _mix(pal.accent, (255, 255, 255), 0.55), _mix(pal.accent, (0, 0, 0), 0.25)
    for x in (400, 500, 600):
        # Steam: a short sine wave rising from the cup.
        wave = [((x + 22 * math.sin(t / 6 * math.pi)) * k, (420 - t * 12) * k) for t in range(0, 21)]
        d.line(wave, fill=_rgba((255, 255, 255), 210), width=int(14 * k), joint="curve")
    d.ellipse(_box(k, 120, 790, 880, 900), fill=_rgba(light))
    d.ellipse(_box(k, 700, 520, 880, 720), outline=_rgba(pal.accent), width=int(42 * k))
    d.chord(_box(k, 200, 180, 800, 860), 0, 180, fill=_rgba(pal.accent))
    d.ellipse(_box(k, 200, 480, 800, 560), fill=_rgba(dark))
    d.ellipse(_box(k, 230, 492, 770, 548), fill=_rgba(_mix(pal.bottom, pal.accent, 0.6)))


def _bottle(d: ImageDraw.ImageDraw, k: float, pal: Palette) -> None:
    dark = _mix(pal.accent, (0, 0, 0), 0.3)
    d.rounded_rectangle(_box(k, 390, 150, 610, 210), radius=20 * k, fill=_rgba(dark))
    d.rectangle(_box(k, 580, 165, 720, 195), fill=_rgba(dark))
    d.rectangle(_box(k, 455, 210, 545, 320), fill=_rgba(_mix(pal.accent, (255, 255, 255), 0.3)))
    d.rounded_rectangle(_box(k, 300, 310, 700, 900), radius=90 * k, fill=_rgba(pal.accent))
    d.rounded_rectangle(_box(k, 340, 500, 660, 740), radius=24 * k, fill=_rgba((255, 255, 255), 235))
    d.rounded_rectangle(_box(k, 330, 360, 380, 860), radius=25 * k, fill=_rgba((255, 255, 255), 70))


def _jar(d: ImageDraw.ImageDraw, k: float, pal: Palette) -> None:
    dark = _mix(pal.accent, (0, 0, 0), 0.35)
    d.rounded_rectangle(_box(k, 230, 380, 770, 890), radius=110 * k, fill=_rgba(pal.accent))
    d.rounded_rectangle(_box(k, 260, 270, 740, 400), radius=36 * k, fill=_rgba(dark))
    d.rectangle(_box(k, 230, 540, 770, 730), fill=_rgba((255, 255, 255), 230))
    d.ellipse(_box(k, 440, 585, 560, 685), fill=_rgba(pal.accent))


def _pouch(d: ImageDraw.ImageDraw, k: float, pal: Palette) -> None:
    light = _mix(pal.accent, (255, 255, 255), 0.35)
    d.rounded_rectangle(_box(k, 250, 200, 750, 900), radius=50 * k, fill=_rgba(pal.accent))
    teeth = [(250 + i * 25, 200 if i % 2 == 0 else 230) for i in range(21)]
    d.polygon([(x * k, y * k) for x, y in [(250, 260), *teeth, (750, 260)]], fill=_rgba(light))
    d.ellipse(_box(k, 330, 420, 670, 760), fill=_rgba((255, 255, 255), 220))
    for cx, cy in ((440, 540), (550, 560), (470, 650), (580, 660), (510, 600)):
        d.ellipse(_box(k, cx - 48, cy - 38, cx + 48, cy + 38), fill=_rgba(_mix(pal.accent, (120, 70, 20), 0.5)))


def _gift_box(d: ImageDraw.ImageDraw, k: float, pal: Palette) -> None:
    top, side = _mix(pal.accent, (255, 255, 255), 0.3), _mix(pal.accent, (0, 0, 0), 0.3)
    d.polygon([(x * k, y * k) for x, y in ((180, 380), (300, 270), (860, 270), (740, 380))], fill=_rgba(top))
    d.polygon([(x * k, y * k) for x, y in ((740, 380), (860, 270), (860, 780), (740, 890))], fill=_rgba(side))
    d.rectangle(_box(k, 180, 380, 740, 890), fill=_rgba(pal.accent))
    ribbon = _rgba((255, 214, 102))
    d.rectangle(_box(k, 425, 380, 495, 890), fill=ribbon)
    d.polygon([(x * k, y * k) for x, y in ((505, 270), (575, 270), (495, 380), (425, 380))], fill=ribbon)
    d.ellipse(_box(k, 380, 200, 480, 290), outline=ribbon, width=int(26 * k))
    d.ellipse(_box(k, 500, 200, 600, 290), outline=ribbon, width=int(26 * k))


def _lipstick(d: ImageDraw.ImageDraw, k: float, pal: Palette) -> None:
    gold = _rgba((222, 184, 110))
    d.polygon([(x * k, y * k) for x, y in ((430, 470), (430, 270), (570, 190), (570, 470))], fill=_rgba(pal.accent))
    d.rectangle(_box(k, 410, 460, 590, 540), fill=gold)
    d.rounded_rectangle(_box(k, 390, 530, 610, 900), radius=24 * k, fill=_rgba(_mix(pal.ink, (0, 0, 0), 0.3)))
    d.rectangle(_box(k, 390, 590, 610, 610), fill=gold)
    d.ellipse(_box(k, 640, 720, 860, 900), fill=_rgba(_mix(pal.accent, (255, 255, 255), 0.4)))
    d.ellipse(_box(k, 660, 735, 840, 885), fill=_rgba(pal.accent))


def _towels(d: ImageDraw.ImageDraw, k: float, pal: Palette) -> None:
    shades = [_mix(pal.accent, (255, 255, 255), t) for t in (0.0, 0.35, 0.6)]
    for i, shade in enumerate(shades):
        y = 700 - i * 190
        d.rounded_rectangle(_box(k, 170 + i * 20, y, 830 - i * 20, y + 180), radius=70 * k, fill=_rgba(shade))
        d.rectangle(_box(k, 190 + i * 20, y + 120, 810 - i * 20, y + 140), fill=_rgba((255, 255, 255), 150))


def _pack(d: ImageDraw.ImageDraw, k: float, pal: Palette) -> None:
    d.rounded_rectangle(_box(k, 200, 250, 800, 900), radius=70 * k, fill=_rgba(pal.accent))
    d.rounded_rectangle(_box(k, 400, 290, 600, 350), radius=30 * k, fill=(0, 0, 0, 0))
    d.ellipse(_box(k, 330, 480, 670, 820), fill=_rgba((255, 255, 255), 235))
    heart = _rgba(_mix(pal.accent, (230, 60, 80), 0.5))
    d.ellipse(_box(k, 405, 560, 510, 665), fill=heart)
    d.ellipse(_box(k, 490, 560, 595, 665), fill=heart)
    d.polygon([(x * k, y * k) for x, y in ((412, 635), (588, 635), (500, 745))], fill=heart)


MOTIFS: dict[str, Callable[[ImageDraw.ImageDraw, float, Palette], None]] = {
    "cup": _cup,
    "bottle": _bottle,
    "jar": _jar,
    "pouch": _pouch,
    "box": _gift_box,
    "lipstick": _lipstick,
    "towels": _towels,
    "pack": _pack,
}


@lru_cache(maxsize=64)
def _motif_layer(motif: str, side: int, pal: Palette) -> Image.Image:
    big = side * SUPERSAMPLE
    layer = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    MOTIFS.get(motif, _gift_box)(ImageDraw.Draw(layer), big / 1000, pal)
    return layer.reduce(SUPERSAMPLE)


@lru_cache(maxsize=8)
def _shadow(side: int) -> Image.Image:
    shadow = Image.new("RGBA", (side, side // 5), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).ellipse((side * 0.15, 0, side * 0.85, side // 5 - 8), fill=(0, 0, 0, 60))
    return shadow.filter(ImageFilter.GaussianBlur(side // 40))


def _place_motif(canvas: Image.Image, motif: str, pal: Palette, *, side: int, at: tuple[int, int]) -> None:
    """Paste a drawn product with a soft shadow beneath it; `at` is the layer's top-left corner."""
    x, y = at
    canvas.alpha_composite(_shadow(side), (x, y + int(side * 0.8)))
    canvas.alpha_composite(_motif_layer(motif, side, pal), (x, y))


# --- text --------------------------------------------------------------------------------


def _wrap(text: str, font, width: int, max_lines: int) -> list[str]:
    """Break by character (Chinese has no spaces to break on); an ellipsis ends cut-off text."""
    lines, current = [], ""
    for ch in text:
        if current and font.getlength(current + ch) > width:
            lines.append(current)
            current = "" if ch == " " else ch
            if len(lines) == max_lines:
                last = lines[-1]
                while last and font.getlength(last + "…") > width:
                    last = last[:-1]
                lines[-1] = last + "…"
                return lines
        else:
            current += ch
    if current:
        lines.append(current)
    return lines


def _text_block(
    draw: ImageDraw.ImageDraw,
    text: str,
    *,
    box: tuple[int, int, int],
    size: int,
    fill: Color,
    max_lines: int = 2,
    bold: bool = True,
) -> int:
    """Draw wrapped text at (x, y) within `width`; return the height used. Bars stand in without a font."""
    x, y, width = box
    font = cjk_font(size, bold=bold)
    if font is None:
        bars = [width, int(width * 0.6)][:max_lines]
        for i, bar in enumerate(bars):
            top = y + i * int(size * 1.4)
            draw.rounded_rectangle((x, top, x + bar, top + int(size * 0.7)), radius=size // 3, fill=_rgba(fill, 90))
        return len(bars) * int(size * 1.4)
    lines = _wrap(text, font, width, max_lines)
    for i, line in enumerate(lines):
        draw.text((x, y + i * int(size * 1.3)), line, font=font, fill=_rgba(fill))
    return len(lines) * int(size * 1.3)


def _pill(draw: ImageDraw.ImageDraw, text: str, *, at: tuple[int, int], size: int, bg: Color, fg: Color) -> None:
    font = cjk_font(size, bold=True)
    x, y = at
    width = int(font.getlength(text)) if font else size * 2
    draw.rounded_rectangle((x, y, x + width + size * 1.2, y + size * 1.7), radius=size, fill=_rgba(bg))
    if font:
        draw.text((x + size * 0.6, y + size * 0.28), text, font=font, fill=_rgba(fg))


def _upload(img: Image.Image, name: str) -> SimpleUploadedFile:
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=90)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


# --- pictures ----------------------------------------------------------------------------


def product_main_image(
    *, name: str, theme: str, motif: str, tag: str = "", brand: str = "", seed: int = 0
) -> SimpleUploadedFile:
    """The square cover picture: drawn product, name card at the bottom, optional tag pill."""
    pal = product_palette(theme, name, seed)
    rng = random.Random(f"{seed}:main:{name}")
    side = PRODUCT_SIDE
    img = _background((side, side), pal, rng)
    _place_motif(img, motif, pal, side=560, at=((side - 560) // 2 + rng.randint(-30, 30), 60))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((40, 650, side - 40, side - 40), radius=36, fill=(255, 255, 255, 232))
    font = cjk_font(54, bold=True)
    lines = len(_wrap(name, font, side - 160, 2)) if font else 2
    _text_block(draw, name, box=(80, 680 if lines > 1 else 715, side - 160), size=54, fill=pal.ink)
    if tag:
        _pill(draw, tag, at=(40, 40), size=30, bg=pal.accent, fg=(255, 255, 255))
    if brand:
        font = cjk_font(26)
        if font:
            draw.text((side - 40 - font.getlength(brand), 48), brand, font=font, fill=_rgba(pal.ink, 150))
    return _upload(img, "main.jpg")


def product_detail_image(
    *, name: str, theme: str, motif: str, point: str, index: int, seed: int = 0
) -> SimpleUploadedFile:
    """A detail picture that sells one point: a big number, the point, the product beside it."""
    pal = product_palette(theme, name, seed)
    soft = Palette(_mix(pal.top, (255, 255, 255), 0.5), pal.top, pal.accent, pal.ink)
    rng = random.Random(f"{seed}:detail:{index}:{name}")
    side = PRODUCT_SIDE
    img = _background((side, side), soft, rng)
    draw = ImageDraw.Draw(img)
    number_font = cjk_font(150, bold=True)
    if number_font:
        draw.text((70, 40), f"{index:02d}", font=number_font, fill=_rgba(pal.accent, 200))
    else:
        draw.ellipse((70, 70, 220, 220), fill=_rgba(pal.accent, 200))
    draw.rectangle((76, 250, 196, 262), fill=_rgba(pal.accent))
    used = _text_block(draw, point, box=(70, 300, side - 140), size=64, fill=pal.ink)
    _text_block(
        draw,
        name,
        box=(70, 320 + used, side - 140),
        size=32,
        fill=_mix(pal.ink, soft.top, 0.35),
        max_lines=1,
        bold=False,
    )
    _place_motif(img, motif, pal, side=420, at=(side - 460, side - 470))
    return _upload(img, f"detail-{index}.jpg")


def shop_logo(*, name: str, seed: int = 0) -> SimpleUploadedFile:
    """A round badge with the shop's first two characters (or a shopping bag without a font)."""
    pal = PALETTES["brand"]
    side = 512
    img = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    disc = _background((side, side), Palette(pal.bottom, pal.accent, pal.accent, pal.ink), random.Random(seed))
    mask = Image.new("L", (side * SUPERSAMPLE, side * SUPERSAMPLE), 0)
    ImageDraw.Draw(mask).ellipse((16, 16, side * SUPERSAMPLE - 16, side * SUPERSAMPLE - 16), fill=255)
    img.paste(disc, (0, 0), mask.resize((side, side), Image.Resampling.LANCZOS))
    draw = ImageDraw.Draw(img)
    font = cjk_font(170, bold=True)
    label = name[:2]
    if font and label:
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        draw.text(
            ((side - (right - left)) / 2 - left, (side - (bottom - top)) / 2 - top),
            label,
            font=font,
            fill=(255, 255, 255, 255),
        )
    else:
        draw.rounded_rectangle((156, 200, 356, 380), radius=24, fill=(255, 255, 255, 255))
        draw.arc((200, 130, 312, 260), 180, 360, fill=(255, 255, 255, 255), width=20)
    return _upload(img, "logo.jpg")


def shop_banner(*, name: str, slogan: str, badge: str = "", seed: int = 0) -> SimpleUploadedFile:
    """The home page poster: shop name and slogan on the left, a row of drawn products on the right."""
    pal = BANNER
    width, height = 1600, 800
    rng = random.Random(f"{seed}:banner")
    img = _background((width, height), pal, rng)
    for i, (motif, theme) in enumerate((("cup", "tea"), ("bottle", "care"), ("pouch", "snack"))):
        _place_motif(img, motif, PALETTES[theme], side=340, at=(780 + i * 250, 150 + (i % 2) * 200))
    draw = ImageDraw.Draw(img)
    used = _text_block(draw, name, box=(100, 220, 700), size=120, fill=(255, 255, 255), max_lines=1)
    _text_block(draw, slogan, box=(104, 250 + used, 680), size=48, fill=(255, 244, 230), bold=False)
    if badge:
        _pill(draw, badge, at=(104, 560), size=36, bg=(255, 214, 102), fg=pal.ink)
    return _upload(img, "banner.jpg")
