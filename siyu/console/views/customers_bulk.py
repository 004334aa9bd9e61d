"""Bulk actions on the customer list (tag, untag, assign for follow-up, export) and the CSV export.

The list posts the ticked rows (`ids`) or, with "all matching", the list's own query string; the
view turns that into a `Selection` and calls one service in siyu/customers/bulk.py, which checks
the permission, does the work in a few set-based statements and writes the audit row.
"""

from datetime import timedelta
from typing import cast

from django import forms
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.accounts.selectors import staff_list
from siyu.core.errors import DomainError, InvalidInput
from siyu.core.money import format_yuan
from siyu.customers import bulk
from siyu.customers.selectors import levels_for_staff, segments_for_staff, tag_choices

from ..decorators import staff_required
from ..rendering import detail_text
from ..spreadsheets import csv_response
from .customers_forms import DATE, CustomerFilterForm
from .customers_labels import LIFECYCLE_LABELS, SOURCE_LABELS, label

MAX_EXPORT_ROWS = 50_000
ACTIONS = ("tag", "untag", "assign", "export")


class BulkForm(forms.Form):
    """What to do with the selected customers. Which fields are needed depends on the button."""

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    all_matching = forms.BooleanField(required=False)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    tag = forms.TypedChoiceField(label=gettext_lazy("Tag"), required=False, coerce=int, empty_value=None)
    tag_name = forms.CharField(
        label=gettext_lazy("or a new tag"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("New tag")}),
    )
    assignee = forms.TypedChoiceField(label=gettext_lazy("Staff member"), required=False, coerce=int, empty_value=None)
    title = forms.CharField(label=gettext_lazy("Task"), max_length=120, required=False)
    due_on = forms.DateField(label=gettext_lazy("Due on"), required=False, widget=DATE)

    def __init__(self, *args, tags=(), staff=(), **kwargs):
        kwargs.setdefault("prefix", "bulk")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["tag"]).choices = [
            ("", gettext_lazy("Choose a tag")),
            *[(str(pk), name) for pk, name in tags],
        ]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", gettext_lazy("Choose a staff member")),
            *[(str(m.pk), m.display_name) for m in staff],
        ]
        if not self.is_bound:
            self.initial.setdefault("title", gettext_lazy("Follow up"))
            self.initial.setdefault("due_on", timezone.localdate() + timedelta(days=1))

    def clean(self):
        super().clean()
        data = self.cleaned_data
        action = data.get("action")
        if action in ("tag", "untag") and not data.get("tag") and not (data.get("tag_name") or "").strip():
            raise forms.ValidationError(_("Choose a tag or type a new one."))
        if action == "assign":
            if not data.get("assignee"):
                self.add_error("assignee", _("Choose a staff member."))
            if not (data.get("title") or "").strip():
                self.add_error("title", _("This field is required."))
            if not data.get("due_on"):
                self.add_error("due_on", _("This field is required."))
        return data


def bulk_form(shop, *, tags=None) -> BulkForm:
    """An empty form for the list page (tags may be passed in when the page already read them)."""
    return BulkForm(tags=tag_choices(shop=shop) if tags is None else tags, staff=staff_list(shop=shop))


def _filter_form(shop, data) -> CustomerFilterForm:
    return CustomerFilterForm(
        data,
        tags=tag_choices(shop=shop),
        levels=levels_for_staff(shop=shop),
        segments=segments_for_staff(shop=shop).only("pk", "name"),
    )


def _selection(request, data: dict) -> bulk.Selection:
    """The ticked rows, or every customer the list's filters match. A filter the list would leave
    out as invalid is refused here instead: acting on more customers than the merchant saw is worse
    than asking again."""
    if not data.get("all_matching"):
        return bulk.selection_make(ids=request.POST.getlist("ids"))
    query = QueryDict(data.get("query") or "")
    form = _filter_form(request.shop, query or None)
    if form.is_bound and not form.is_valid():
        raise InvalidInput(detail={"filter": "not valid"})
    return bulk.selection_make(filters=form.selector_filters(), all_matching=True)


# --- export ------------------------------------------------------------------------------------


def export_header() -> list[str]:
    return [
        _("Customer ID"),
        _("Name"),
        _("Phone"),
        _("Source"),
        _("Province"),
        _("City"),
        _("Level"),
        _("Lifecycle stage"),
        _("Orders"),
        _("Spent (yuan)"),
        _("First order"),
        _("Last order"),
        _("RFM"),
        _("Tags"),
        _("Joined"),
    ]


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def export_rows(customers):
    """The phone stays masked, as in the list; the cells are guarded against formulas by csv_response."""
    for c in customers:
        yield [
            c.public_id,
            c.name,
            c.masked_phone,
            label(SOURCE_LABELS, c.source),
            c.province,
            c.city,
            c.level.name if c.level else "",
            label(LIFECYCLE_LABELS, c.lifecycle),
            c.order_count,
            format_yuan(c.total_spent),
            _when(c.first_order_at),
            _when(c.last_order_at),
            f"{c.rfm_r}{c.rfm_f}{c.rfm_m}",
            " ".join(link.tag.name for link in c.tag_links.all()),
            _when(c.created_at),
        ]


def _csv(customers) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    rows = export_rows(customers.iterator(chunk_size=2000))
    return csv_response(filename=f"customers-{stamp}.csv", header=export_header(), rows=rows)


@staff_required(perm="customers.view")
def customer_export(request):
    """Everything the list's filters match (GET, the list's own query string); audited like the
    bulk export, since a spreadsheet of the pool leaves the system."""
    form = _filter_form(request.shop, request.GET or None)
    selection = bulk.selection_make(filters=form.selector_filters(), all_matching=True)
    chosen = bulk.customers_bulk_export(
        actor=request.staff, shop=request.shop, selection=selection, limit=MAX_EXPORT_ROWS
    )
    return _csv(chosen)


# --- bulk actions ----------------------------------------------------------------------------


def _run(request, action: str, data: dict, selection: bulk.Selection) -> str:
    """Call the service for `action`; the success message."""
    shop, actor = request.shop, request.staff
    tag = data.get("tag") or (data.get("tag_name") or "").strip()
    if action == "tag":
        result = bulk.customers_bulk_tag(actor=actor, shop=shop, selection=selection, tag=tag)
        return _("Tagged %(changed)s of %(selected)s customers.") % vars(result)
    if action == "untag":
        result = bulk.customers_bulk_untag(actor=actor, shop=shop, selection=selection, tag=tag)
        return _("The tag is removed from %(changed)s of %(selected)s customers.") % vars(result)
    result = bulk.customers_bulk_assign(
        actor=actor,
        shop=shop,
        selection=selection,
        assignee=data["assignee"],
        title=data["title"],
        due_on=data["due_on"],
    )
    return _("%(changed)s customers are assigned, each with a follow-up task.") % vars(result)


@staff_required(perm="customers.view")
@require_POST
def customer_bulk(request):
    """One bulk action on the selected customers, then back to the list as it was filtered."""
    form = BulkForm(request.POST, tags=tag_choices(shop=request.shop), staff=staff_list(shop=request.shop))
    query = str(request.POST.get("bulk-query") or "")[:2000]
    back = reverse("console:customers") + (f"?{QueryDict(query).urlencode()}" if query else "")
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, " ".join(errors) or _("Check the form and try again."))
        return redirect(back)
    data = form.cleaned_data
    try:
        selection = _selection(request, data)
        if data["action"] == "export":
            chosen = bulk.customers_bulk_export(
                actor=request.staff, shop=request.shop, selection=selection, limit=MAX_EXPORT_ROWS
            )
            return _csv(chosen)
        done = _run(request, data["action"], data, selection)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        text = str(exc.message)
        if isinstance(exc.detail, dict) and exc.detail:
            text = f"{text} ({detail_text(exc.detail)})"
        messages.error(request, text)
        return redirect(back)
    messages.success(request, done)
    return redirect(back)
