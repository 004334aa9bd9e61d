"""Post images and persona avatars: checked, resized and re-encoded by siyu.core.images (a fresh
JPEG written without metadata, so EXIF — a phone's GPS position included — never reaches storage),
then stored. Every file of a request is checked before any is stored: one bad file refuses all."""

from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import Conflict, InvalidInput
from siyu.core.images import ProcessedImage, image_process

MAX_IMAGES = 9  # what a moments post can carry
TOO_MANY = _("A post has at most 9 images (a product poster counts as one).")
FOLDER = "content"


def images_process(uploads: list | None, *, field: str = "images", room: int = MAX_IMAGES) -> list[ProcessedImage]:
    """`room`: how many more the post may take. More than any post carries is 400 `too_many_images`,
    more than this post has room for is 409 `too_many_images` (what it holds already decides); a
    file that is not a JPEG/PNG/WebP image within limits is 400 `bad_image` (the field named)."""
    uploads = list(uploads or [])
    if len(uploads) > MAX_IMAGES:
        raise InvalidInput(TOO_MANY, code="too_many_images", detail={field: f"at most {MAX_IMAGES}"})
    if len(uploads) > room:
        raise Conflict(TOO_MANY, code="too_many_images", detail={field: f"at most {MAX_IMAGES}", "room": max(room, 0)})
    processed = []
    for n, upload in enumerate(uploads):
        try:
            processed.append(image_process(upload, field=field, full_side=1440, thumb_side=360))
        except InvalidInput as exc:
            detail = dict(exc.detail) if isinstance(exc.detail, dict) else {}
            raise InvalidInput(exc.message, code="bad_image", detail={**detail, "index": n}) from None
    return processed


def images_store(processed: list[ProcessedImage]) -> list[dict]:
    return [
        {
            "full": default_storage.save(f"{FOLDER}/{p.full_name}", p.full),
            "thumb": default_storage.save(f"{FOLDER}/{p.thumb_name}", p.thumb),
        }
        for p in processed
    ]


def images_discard(stored: list[dict]) -> None:
    """Files no row points at any more (removed from a post, or a save that failed)."""
    for image in stored:
        for name in image.values():
            default_storage.delete(name)


def image_urls(stored: list[dict] | None) -> list[dict]:
    """{"full": url, "thumb": url} for each stored image (no query: the storage builds the URL)."""
    return [{"full": default_storage.url(p["full"]), "thumb": default_storage.url(p["thumb"])} for p in stored or []]
