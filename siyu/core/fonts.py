"""Finding a font that can draw Chinese, for generated images and share posters.

Nothing is downloaded: we use SIYU_POSTER_FONT when it is set, otherwise a CJK font the
operating system already has (Noto CJK, WenQuanYi, Droid Sans Fallback), otherwise nothing,
and callers draw without text.
"""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from PIL import ImageFont

FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/usr/share/fonts-droid-fallback",
    "/System/Library/Fonts",
    "/Library/Fonts",
)
# Most specific first: the Simplified Chinese cut of a Sans face reads best on small screens.
KNOWN_FILES = (
    "opentype/noto/NotoSansCJK-Regular.ttc",
    "noto-cjk/NotoSansCJK-Regular.ttc",
    "opentype/noto/NotoSansCJK-Bold.ttc",
    "opentype/noto/NotoSansCJKsc-Regular.otf",
    "truetype/wqy/wqy-zenhei.ttc",
    "truetype/wqy/wqy-microhei.ttc",
    "wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "truetype/droid/DroidSansFallbackFull.ttf",
    "truetype/DroidSansFallbackFull.ttf",
    "opentype/noto/NotoSerifCJK-Regular.ttc",
)
NAME_PATTERNS = ("NotoSansCJK*", "NotoSansSC*", "wqy-*", "DroidSansFallback*", "NotoSerifCJK*", "PingFang*")


@lru_cache(maxsize=1)
def _system_cjk_font() -> str | None:
    for base in FONT_DIRS:
        for rel in KNOWN_FILES:
            candidate = Path(base) / rel
            if candidate.is_file():
                return str(candidate)
    # Distributions disagree on where fonts live, so fall back to a (cached, one-time) search.
    for base in FONT_DIRS:
        root = Path(base)
        if not root.is_dir():
            continue
        for pattern in NAME_PATTERNS:
            for candidate in sorted(root.rglob(pattern)):
                if candidate.suffix.lower() in {".ttc", ".ttf", ".otf"} and candidate.is_file():
                    return str(candidate)
    return None


def find_cjk_font() -> str | None:
    """The path of a font file that can draw Chinese, or None when the machine has none."""
    configured = getattr(settings, "SIYU_POSTER_FONT", "") or ""
    if configured and Path(configured).is_file():
        return configured
    return _system_cjk_font()


@lru_cache(maxsize=8)
def _sc_face_index(path: str) -> int:
    """In a font collection, the index of the Simplified Chinese face (0 when there is no such face)."""
    if not path.lower().endswith(".ttc"):
        return 0
    for index in range(10):
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0] or ""
        except OSError:
            break
        if family.endswith(" SC"):
            return index
    return 0


@lru_cache(maxsize=64)
def _load(path: str, size: int) -> ImageFont.FreeTypeFont | None:
    try:
        return ImageFont.truetype(path, size, index=_sc_face_index(path))
    except OSError:
        return None


def cjk_font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | None:
    """A loaded CJK font of `size` pixels (the Simplified Chinese face), or None.

    With bold=True the bold sibling of the found file is used when there is one.
    """
    path = find_cjk_font()
    if not path:
        return None
    if bold and "Regular" in Path(path).name:
        sibling = Path(path).with_name(Path(path).name.replace("Regular", "Bold"))
        if sibling.is_file():
            path = str(sibling)
    return _load(path, int(size))
