"""Multipart uploads at the API's door: a file over the operation's limit is a 413 before any
service reads it. The services still check size, type and content themselves (a non-image is
their 400); this only turns "too big" into the status HTTP clients expect for it."""

from django.utils.translation import gettext_lazy as _
from ninja import UploadedFile

from siyu.core.errors import DomainError

MB = 1024 * 1024


class FileTooLarge(DomainError):
    code = "too_large"
    status = 413
    default_message = _("The file is too large.")


def refuse_oversized(upload: UploadedFile, *, limit: int, field: str) -> UploadedFile:
    if (upload.size or 0) > limit:
        raise FileTooLarge(detail={field: f"at most {limit // MB} MB", "max_bytes": limit})
    return upload


def upload_description(what: str, *, limit: int) -> str:
    """The sentence each upload operation's docs end with, so every one states its limits alike."""
    return (
        f"{what} Send multipart/form-data. A file over {limit // MB} MB is refused with 413 (code too_large); "
        "a file that is not what the operation reads is refused with 400 (code invalid_input)."
    )
