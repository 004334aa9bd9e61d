"""Checking and resizing uploaded images on the server."""

import io
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InvalidInput
from .ids import public_id

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS_SIDE = 8000
MIN_PIXELS_SIDE = 64
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}


@dataclass(frozen=True)
class ProcessedImage:
    full: ContentFile
    thumb: ContentFile
    stem: str  # the random part of both file names

    @property
    def full_name(self) -> str:
        return f"{self.stem}.jpg"

    @property
    def thumb_name(self) -> str:
        return f"{self.stem}_t.jpg"


def _encode(img: Image.Image, longest: int, name: str) -> ContentFile:
    copy = img.copy()
    copy.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=82, optimize=True, progressive=True)
    return ContentFile(out.getvalue(), name=name)


def image_process(upload, *, field: str = "image", full_side: int = 1200, thumb_side: int = 400) -> ProcessedImage:
    """Validate type, size and pixel dimensions, then return a resized JPEG and a thumbnail.

    Anything that is not a real JPEG/PNG/WebP within limits is an InvalidInput, never a crash.
    """
    size = getattr(upload, "size", None)
    if size is None or size <= 0:
        raise InvalidInput(_("The file is empty."), detail={field: "empty"})
    if size > MAX_UPLOAD_BYTES:
        raise InvalidInput(_("The image is too large (at most 8 MB)."), detail={field: "too large"})
    raw = upload.read()
    try:
        probe = Image.open(io.BytesIO(raw))
        fmt = probe.format
        width, height = probe.size
        if fmt not in ALLOWED_FORMATS:
            raise InvalidInput(_("Use a JPEG, PNG or WebP image."), detail={field: "unsupported type"})
        if max(width, height) > MAX_PIXELS_SIDE or min(width, height) < MIN_PIXELS_SIDE:
            raise InvalidInput(
                _("The image must be between 64 and 8000 pixels on each side."),
                detail={field: f"{width}x{height} pixels"},
            )
        probe.verify()
        opened = Image.open(io.BytesIO(raw))
        opened.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput(_("The file is not a readable image."), detail={field: "not an image"}) from None
    img = ImageOps.exif_transpose(opened)
    if img.mode not in ("RGB", "L"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        rgba = img.convert("RGBA")
        background.paste(rgba, mask=rgba.split()[-1])
        img = background
    else:
        img = img.convert("RGB")
    stem = public_id(16)
    return ProcessedImage(
        full=_encode(img, full_side, f"{stem}.jpg"), thumb=_encode(img, thumb_side, f"{stem}_t.jpg"), stem=stem
    )
