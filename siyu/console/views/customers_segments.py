"""Segments (list, builder with a live count, evaluate, export), tags, and the RFM / lifecycle chart."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError, PermissionDenied
from siyu.customers import rfm, segments, tags
from siyu.customers.models import Lifecycle
from siyu.customers.selectors import segment_for_staff, segments_for_staff, tag_for_staff, tags_for_staff

from ..decorators import staff_required
from ..rendering import error_status, form_error, page
from ..spreadsheets import csv_response
from .customers_forms import SEGMENT_EXAMPLE, SegmentForm, TagCreateForm, rules_text
from .customers_labels import LIFECYCLE_LABELS, label
from .segment_builder import builder_config

EDIT = "customers.manage"


def _message(exc: DomainError) -> str:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    if "rules" in detail:
        where = detail.get("path") or ""
        return _("The rules are not valid: %(reason)s") % {"reason": f"{detail['rules']} {where}".strip()}
    return str(exc.message)


# --- segments ----------------------------------------------------------------------------


@staff_required(perm="customers.view")
def segment_list(request):
    return page(request, "console/segments.html", {"segments": list(segments_for_staff(shop=request.shop))})


def _builder(request, *, segment=None, form=None, preview=None, status: int = 200):
    if form is None:
        initial = {"name": segment.name, "rules": rules_text(segment.rules)} if segment else {"rules": SEGMENT_EXAMPLE}
        form = SegmentForm(initial=initial)
    context = {
        "segment": segment,
        "form": form,
        "preview": preview,
        "example": SEGMENT_EXAMPLE,
        "fields": [(name, ", ".join(ops)) for name, ops in segments.FIELDS.items()],
        "builder": builder_config(shop=request.shop),
    }
    return page(request, "console/segment_edit.html", context, status=status)


def _builder_post(request, segment=None):
    """One form, two buttons: "preview" counts the matching customers, "save" stores and evaluates."""
    form = SegmentForm(request.POST)
    previewing = request.POST.get("action") == "preview"
    if previewing:
        form.fields["name"].required = False
    if not form.is_valid():
        return _builder(request, segment=segment, form=form, status=400)
    rules = form.cleaned_data["rules"]
    try:
        if previewing:
            count = segments.segment_preview_count(shop=request.shop, rules=rules)
            return _builder(request, segment=segment, form=form, preview=count)
        saved = segments.segment_save(
            actor=request.staff, shop=request.shop, name=form.cleaned_data["name"], rules=rules, segment=segment
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        form.add_error("rules" if "rules" in (exc.detail or {}) else None, _message(exc))
        if "name" in (exc.detail or {}):
            form_error(form, exc)
        return _builder(request, segment=segment, form=form, status=error_status(exc))
    messages.success(request, _("The segment is saved: %(n)s customers match.") % {"n": saved.member_count})
    return redirect("console:segments")


@staff_required(perm="customers.view")
def segment_new(request):
    if request.method == "POST":
        return _builder_post(request)
    return _builder(request)


@staff_required(perm="customers.view")
def segment_edit(request, segment_id: int):
    segment = segment_for_staff(shop=request.shop, segment_id=segment_id)
    if request.method == "POST":
        return _builder_post(request, segment)
    return _builder(request, segment=segment)


@staff_required(perm=EDIT)
@require_POST
def segment_evaluate(request, segment_id: int):
    segment = segment_for_staff(shop=request.shop, segment_id=segment_id)
    try:
        segment = segments.segment_evaluate(segment=segment)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, _message(exc))
        return redirect("console:segments")
    messages.success(
        request, _("%(name)s: %(n)s customers match now.") % {"name": segment.name, "n": segment.member_count}
    )
    return redirect("console:segments")


@staff_required(perm=EDIT)
@require_POST
def segment_delete(request, segment_id: int):
    segment = segment_for_staff(shop=request.shop, segment_id=segment_id)
    segments.segment_delete(actor=request.staff, segment=segment)
    messages.success(request, _("The segment is deleted."))
    return redirect("console:segments")


@staff_required(perm="customers.view")
def segment_export(request, segment_id: int):
    """The members as last evaluated, phones masked (the service guards the cells against formulas)."""
    segment = segment_for_staff(shop=request.shop, segment_id=segment_id)
    rows = segments.segment_export(segment=segment)
    header = next(rows)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(filename=f"segment-{segment.pk}-{stamp}.csv", header=header, rows=rows)


# --- tags --------------------------------------------------------------------------------


def _tags_page(request, *, form=None, status: int = 200):
    rows = list(tags_for_staff(shop=request.shop))
    context = {
        "manual": [t for t in rows if t.rules is None],
        "automatic": [{"tag": t, "rules": rules_text(t.rules)} for t in rows if t.rules is not None],
        "form": form or TagCreateForm(),
    }
    return page(request, "console/customer_tags.html", context, status=status)


@staff_required(perm="customers.view")
def tag_list(request):
    if request.method != "POST":
        return _tags_page(request)
    if not request.staff.can(EDIT):
        raise PermissionDenied(detail={"permission": EDIT})
    form = TagCreateForm(request.POST)
    if not form.is_valid():
        return _tags_page(request, form=form, status=400)
    try:
        tag = tags.tag_create(
            actor=request.staff, shop=request.shop, name=form.cleaned_data["name"], rules=form.cleaned_data["rules"]
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        if exc.code == "conflict":
            form.add_error("name", _("A tag with this name exists."))
        else:
            form.add_error("rules" if "rules" in (exc.detail or {}) else None, _message(exc))
        return _tags_page(request, form=form, status=error_status(exc))
    messages.success(request, _("The tag %(name)s is created.") % {"name": tag.name})
    return redirect("console:customer_tags")


@staff_required(perm=EDIT)
@require_POST
def tag_delete(request, tag_id: int):
    tag = tag_for_staff(shop=request.shop, tag_id=tag_id)
    tags.tag_delete(actor=request.staff, tag=tag)
    messages.success(request, _("The tag %(name)s is deleted.") % {"name": tag.name})
    return redirect("console:customer_tags")


@staff_required(perm=EDIT)
@require_POST
def tags_apply(request):
    totals = tags.auto_tags_apply(shop=request.shop)
    messages.success(
        request,
        _("Automatic tags applied: %(added)s added, %(removed)s removed.")
        % {"added": totals["added"], "removed": totals["removed"]},
    )
    return redirect("console:customer_tags")


# --- RFM and lifecycle -------------------------------------------------------------------


def _bars(counts: dict, labels: dict) -> list[dict]:
    """Rows for a CSS bar chart: each width is a share of the largest value."""
    top = max(counts.values(), default=0) or 1
    return [
        {"key": key, "label": labels.get(key, key), "n": n, "width": round(n * 100 / top)} for key, n in counts.items()
    ]


@staff_required(perm="customers.view")
def rfm_page(request):
    dist = rfm.rfm_distribution(shop=request.shop)
    stages = {key: dist["lifecycle"].get(key, 0) for key in Lifecycle.values}
    score_labels = {0: _("no orders")}
    context = {
        "total": dist["total"],
        "stages": _bars(stages, {k: label(LIFECYCLE_LABELS, k) for k in stages}),
        "scores": [
            (_("Recency (R)"), _bars(dist["r"], score_labels)),
            (_("Frequency (F)"), _bars(dist["f"], score_labels)),
            (_("Money (M)"), _bars(dist["m"], score_labels)),
        ],
    }
    return page(request, "console/customer_rfm.html", context)


@staff_required(perm=EDIT)
@require_POST
def rfm_recompute(request):
    result = rfm.rfm_recompute(shop=request.shop)
    messages.success(request, _("Scores recomputed for %(n)s customers.") % {"n": result.get("staged", 0)})
    return redirect("console:customer_rfm")
