import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from siyu.core.crypto import decrypt, encrypt, lookup_hash, mask_phone
from siyu.core.errors import InvalidInput
from siyu.core.images import image_process
from siyu.core.money import apply_rate, format_yuan, parse_yuan

from ..factories import image_upload


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10_000))
def test_apply_rate_rounds_down_and_never_exceeds_amount(amount, rate):
    share = apply_rate(amount, rate)
    assert 0 <= share <= amount
    assert share * 10_000 <= amount * rate < (share + 1) * 10_000


@given(st.integers(min_value=0, max_value=10**10))
def test_yuan_round_trip(fen):
    assert parse_yuan(format_yuan(fen)) == fen


@pytest.mark.parametrize("bad", ["", "abc", "-1", "1.234", "NaN", "Infinity", "1e9999", None])
def test_parse_yuan_refuses_bad_amounts(bad):
    with pytest.raises(InvalidInput):
        parse_yuan(bad)


def test_format_yuan():
    assert format_yuan(123456) == "1234.56" and format_yuan(5) == "0.05" and format_yuan(-150) == "-1.50"


def test_encryption_round_trip_and_lookup_hash_is_stable(settings):
    token = encrypt("13800138000")
    assert "13800138000" not in token and decrypt(token) == "13800138000"
    assert lookup_hash("13800138000") == lookup_hash("13800138000") != lookup_hash("13800138001")
    assert decrypt("not-a-token") == ""
    assert mask_phone("13800138000") == "138****8000"


def test_image_process_resizes_and_makes_thumbnail():
    out = image_process(image_upload(size=(3000, 2000), fmt="JPEG"))
    full, thumb = Image.open(io.BytesIO(out.full.read())), Image.open(io.BytesIO(out.thumb.read()))
    assert full.size == (1200, 800) and thumb.size == (400, 267)
    assert full.format == "JPEG"


def test_image_process_flattens_transparent_png():
    buf = io.BytesIO()
    Image.new("RGBA", (200, 200), (0, 0, 0, 0)).save(buf, "PNG")
    out = image_process(SimpleUploadedFile("a.png", buf.getvalue()))
    assert Image.open(io.BytesIO(out.full.read())).getpixel((10, 10)) == (255, 255, 255)


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("x.png", b""),
        SimpleUploadedFile("x.png", b"not an image at all"),
        SimpleUploadedFile("x.gif", b"GIF89a" + b"\x00" * 100),
        SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),
    ],
)
def test_image_process_refuses_non_images(upload):
    with pytest.raises(InvalidInput):
        image_process(upload)


def test_image_process_refuses_tiny_and_gif():
    with pytest.raises(InvalidInput):
        image_process(image_upload(size=(10, 10)))
    with pytest.raises(InvalidInput) as exc:
        image_process(image_upload(fmt="GIF"))
    assert exc.value.detail == {"image": "unsupported type"}


def test_image_process_refuses_oversized_dimensions_without_decoding():
    # A PNG header claiming 20000×20000 pixels: refused from the header alone.
    buf = io.BytesIO()
    Image.new("L", (20000, 1)).save(buf, "PNG")
    with pytest.raises(InvalidInput):
        image_process(SimpleUploadedFile("big.png", buf.getvalue()))


def test_spreadsheet_cells_never_start_a_formula():
    from siyu.core.spreadsheets import safe_cell, strip_formula_start

    assert [safe_cell(v) for v in ("=1+1", "+86", "-x", "@a", "\tz", "ok", 5, None)] == [
        "'=1+1",
        "'+86",
        "'-x",
        "'@a",
        "'\tz",
        "ok",
        5,
        None,
    ]
    assert strip_formula_start("=- @HYPERLINK()") == "HYPERLINK()"
