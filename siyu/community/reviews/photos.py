"""Review photos: checked, resized and re-encoded by siyu.core.images (which writes a fresh JPEG with
no metadata, so EXIF — GPS position included — never reaches storage), then stored."""

from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import InvalidInput
from siyu.core.images import ProcessedImage, image_process

MAX_PHOTOS = 9


def photos_process(uploads: list | None, *, field: str = "photos") -> list[ProcessedImage]:
    """Every upload checked (type, size, pixel limits) before anything is stored."""
    uploads = list(uploads or [])
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInput(_("At most 9 photos."), detail={field: f"at most {MAX_PHOTOS}"})
    return [image_process(u, field=field, full_side=1200, thumb_side=300) for u in uploads]


def photos_store(processed: list[ProcessedImage]) -> list[dict]:
    return [
        {
            "full": default_storage.save(f"reviews/{p.full_name}", p.full),
            "thumb": default_storage.save(f"reviews/{p.thumb_name}", p.thumb),
        }
        for p in processed
    ]


def photos_discard(stored: list[dict]) -> None:
    """Files of a review that was not saved after all (a second submission lost the race)."""
    for photo in stored:
        for name in photo.values():
            default_storage.delete(name)


def photo_urls(stored: list[dict] | None) -> list[dict]:
    """{"full": url, "thumb": url} for each stored photo (no query: the storage builds the URL)."""
    return [{"full": default_storage.url(p["full"]), "thumb": default_storage.url(p["thumb"])} for p in stored or []]
