"""Rendering helpers shared by the console views: pages, error pages, DomainErrors on forms."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import DomainError

# Services describe field problems in short English phrases; show the common ones translated.
DETAIL_TEXT = {
    "required": _("This field is required."),
    "not a number": _("Enter a number."),
    "not a whole number": _("Enter a whole number."),
    "out of range": _("The number is out of range."),
    "at most two decimals": _("Use at most two decimals."),
    "not found": _("Not found."),
    "unknown policy": _("Choose one of the listed policies."),
    "unknown role": _("Choose one of the listed roles."),
    "must not be below the price": _("The list price must not be below the price."),
    "1 to 3650 days": _("Enter 1 to 3650 days."),
    "0 to 10000000": _("Enter 0 to 10000000."),
    "not an image": _("The file is not a readable image."),
    "too large": _("The image is too large (at most 8 MB)."),
    "empty": _("The file is empty."),
    "unsupported type": _("Use a JPEG, PNG or WebP image."),
    "invalid phone": _("Enter an 11-digit mainland China mobile number."),
}


class Perms:
    """Lets templates ask `can.catalog_manage` for the signed-in member's `can("catalog.manage")`."""

    def __init__(self, staff):
        self.staff = staff

    def __getitem__(self, key: str) -> bool:
        return bool(self.staff is not None and self.staff.can(key.replace("_", ".", 1)))


def page(request, template: str, context: dict | None = None, *, status: int = 200):
    staff = getattr(request, "staff", None)
    return render(request, template, {"can": Perms(staff), **(context or {})}, status=status)


def render_error(request, *, status: int, message, detail=None):
    return page(
        request,
        "console/error.html",
        {"status": status, "message": message, "detail": detail or {}},
        status=status,
    )


def detail_text(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {detail_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(DETAIL_TEXT.get(str(value), value))


def form_error(form, exc: DomainError) -> None:
    """Put a service's error on a bound form: field details next to fields, the message on top.

    A refusal (403) or a missing row (404) is not something the form can fix, so it is raised
    again for `staff_required` to answer with its own page.
    """
    if exc.status in (403, 404):
        raise exc
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    unplaced = {}
    for key, value in detail.items():
        if key in form.fields:
            form.add_error(key, detail_text(value))
        else:
            unplaced[key] = value
    message = str(exc.message)
    if unplaced:
        message = f"{message} ({detail_text(unplaced)})"
    form.add_error(None, message)


def error_status(exc: DomainError) -> int:
    """Form pages answer 400 for bad input and the error's own status for the rest (403, 409…)."""
    return exc.status if exc.status >= 400 else 400
