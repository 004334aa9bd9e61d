import io
from pathlib import Path

import pytest
from PIL import Image

from siyu.cli import images
from siyu.core import fonts
from siyu.core.images import image_process


def test_find_cjk_font_returns_none_or_an_existing_file():
    path = fonts.find_cjk_font()
    assert path is None or Path(path).is_file()


def test_configured_font_wins_when_it_exists(settings, tmp_path):
    font = tmp_path / "poster.ttf"
    font.write_bytes(b"not really a font, but a file")
    settings.SIYU_POSTER_FONT = str(font)
    assert fonts.find_cjk_font() == str(font)
    settings.SIYU_POSTER_FONT = str(tmp_path / "missing.ttf")
    assert fonts.find_cjk_font() != str(tmp_path / "missing.ttf")


def test_cjk_font_draws_chinese_when_a_font_exists():
    font = fonts.cjk_font(40)
    if fonts.find_cjk_font() is None:
        assert font is None
        pytest.skip("no CJK font on this machine")
    # A font that lacks the glyph draws "tofu" boxes of one shared shape; a CJK font does not.
    assert bytes(font.getmask("龙")) != bytes(font.getmask("井"))


def _decode(upload) -> Image.Image:
    upload.seek(0)
    return Image.open(io.BytesIO(upload.read()))


@pytest.mark.parametrize("motif", sorted(images.MOTIFS))
def test_product_pictures_pass_the_upload_checks(motif):
    upload = images.product_main_image(name="西湖龙井 明前特级绿茶", theme="tea", motif=motif, tag="热卖")
    assert _decode(upload).size == (images.PRODUCT_SIDE, images.PRODUCT_SIDE)
    upload.seek(0)
    processed = image_process(upload, field="main_image")
    assert max(Image.open(processed.thumb).size) == 400


def test_pictures_are_drawn_without_a_font(monkeypatch):
    with_font = _decode(images.product_main_image(name="每日坚果", theme="snack", motif="box"))
    monkeypatch.setattr(images, "cjk_font", lambda *args, **kwargs: None)
    without = images.product_main_image(name="每日坚果", theme="snack", motif="box")
    detail = images.product_detail_image(name="每日坚果", theme="snack", motif="box", point="独立小包", index=1)
    banner = images.shop_banner(name="私域优选", slogan="好物不贵", badge="满99包邮")
    logo = images.shop_logo(name="私域优选")
    for upload in (without, detail, banner, logo):
        assert _decode(upload).format == "JPEG"
    if fonts.find_cjk_font():
        assert with_font.tobytes() != _decode(without).tobytes()  # the name was drawn


def test_pictures_are_deterministic_per_seed():
    def draw(seed):
        return images.product_main_image(name="香氛沐浴露", theme="care", motif="bottle", seed=seed).read()

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)


def test_wrap_breaks_chinese_and_ends_cut_text_with_an_ellipsis():
    font = fonts.cjk_font(20)
    if font is None:
        pytest.skip("no CJK font on this machine")
    lines = images._wrap("一二三四五六七八九十" * 3, font, width=100, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 100 for line in lines)
    assert images._wrap("龙井", font, width=100, max_lines=2) == ["龙井"]
