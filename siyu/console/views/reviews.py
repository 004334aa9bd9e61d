"""Console pages for reviews: the list (filters: rating, photos, hidden, needs a reply, product)
with reply / hide with a reason / unhide / feature on each row, and the settings page (points for
photo reviews, the sensitive-word list). Staff see the original text; shoppers see words masked.
The services check the permissions again: reading needs customers.view, acting customers.manage
(service staff included), the settings catalog.manage."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.community.reviews import selectors, services
from siyu.core.errors import DomainError
from siyu.core.settings_rows import whole_number, yes_no

from ..decorators import staff_required
from ..paging import paged
from ..rendering import error_status, form_error, page


def _tri(value: str) -> bool | None:
    return None if value in ("", None) else yes_no(value)


@staff_required(perm=selectors.VIEW)
def review_list(request):
    g = request.GET
    rating = whole_number(g.get("rating", ""))
    filters = {
        "rating": rating if rating in (1, 2, 3, 4, 5) else None,
        "photos": _tri(g.get("photos", "")),
        "hidden": _tri(g.get("hidden", "")),
        "needs_reply": bool(yes_no(g.get("needs_reply", ""))),
        "product": g.get("product", "")[:20],
    }
    qs = selectors.reviews_for_staff(actor=request.staff, shop=request.shop, **filters)
    listing = paged(request, qs, per_page=20)
    return page(
        request,
        "console/reviews/list.html",
        {"listing": listing, "filters": filters, "g": g, "ratings": [5, 4, 3, 2, 1]},
    )


@require_POST
@staff_required(perm=selectors.MODERATE)
def review_action(request, public_id: str):
    action = request.POST.get("action", "")
    common = {"actor": request.staff, "shop": request.shop, "public_id": public_id}
    try:
        if action == "reply":
            services.review_reply(**common, text=request.POST.get("text", "")[:600])
            messages.success(request, _("Reply saved."))
        elif action == "hide":
            services.review_hide(**common, reason=request.POST.get("reason", "")[:300])
            messages.success(request, _("Review hidden."))
        elif action == "unhide":
            services.review_unhide(**common)
            messages.success(request, _("Review shown again."))
        elif action in ("feature", "unfeature"):
            services.review_feature(**common, featured=action == "feature")
            messages.success(request, _("Saved."))
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, f"{exc.message} {exc.detail or ''}".strip())
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "console:reviews")


class ReviewSettingsForm(forms.Form):
    photo_points = forms.IntegerField(
        label=gettext_lazy("Points for a photo review"),
        min_value=0,
        max_value=services.MAX_PHOTO_POINTS,
        help_text=gettext_lazy("Granted once per review that has photos; 0 turns the reward off."),
    )
    sensitive_words = forms.CharField(
        label=gettext_lazy("Sensitive words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("One per line. Shoppers see them masked with ＊; staff see the original text."),
    )


@staff_required(perm=selectors.VIEW)
def review_settings(request):
    current = selectors.review_settings_get(shop=request.shop)
    initial = {"photo_points": current.photo_points, "sensitive_words": "\n".join(current.sensitive_words)}
    form = ReviewSettingsForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.review_settings_update(actor=request.staff, shop=request.shop, data=form.cleaned_data)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("console:review_settings")
    return page(request, "console/reviews/settings.html", {"form": form, "current": current}, status=status)
