"""Traceability batches (一物一码): create, print the QR sheet, export the codes, watch the scans."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from siyu.core.errors import DomainError
from siyu.distribution import trace

from ..decorators import staff_required
from ..forms import choice_field
from ..rendering import error_status, form_error, page
from ..spreadsheets import csv_response

VIEW = "catalog.view"
PAGE_SIZE = 30
CODES_PAGE = 100
# 30 labels fill one A4 page (5 × 6); one sheet page holds ten A4 pages, so a big batch prints in parts
# and no single response has to draw thousands of QR images.
SHEET_PAGE = 300
LABELS_PER_A4 = 30


class TraceBatchForm(forms.Form):
    product = forms.ChoiceField(label=gettext_lazy("Product"))
    sku = forms.ChoiceField(label=gettext_lazy("Variant"), required=False)
    name = forms.CharField(label=gettext_lazy("Batch name"), max_length=40)
    quantity = forms.IntegerField(
        label=gettext_lazy("Number of codes"),
        min_value=1,
        max_value=trace.MAX_QUANTITY,
        help_text=gettext_lazy("One code per physical item, at most 10,000 per batch."),
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "product").choices = [("", "—")] + [(p.public_id, p.name) for p in targets]
        choice_field(self, "sku").choices = [("", gettext_lazy("Any variant"))] + [
            (str(sku.pk), f"{p.name} · {sku.label}") for p in targets for sku in p.skus.all() if sku.label
        ]


def scan_url(request, code: str) -> str:
    return request.build_absolute_uri(reverse("storefront:trace", args=[code]))


def _list_page(request, *, form=None, status: int = 200):
    batches = Paginator(trace.trace_batches_for_staff(shop=request.shop), PAGE_SIZE).get_page(request.GET.get("page"))
    form = form or TraceBatchForm(targets=trace.trace_targets(shop=request.shop))
    return page(request, "console/trace_batches.html", {"page_obj": batches, "form": form}, status=status)


@staff_required(perm=VIEW)
def trace_batches(request):
    if request.method != "POST":
        return _list_page(request)
    form = TraceBatchForm(request.POST, targets=trace.trace_targets(shop=request.shop))
    if not form.is_valid():
        return _list_page(request, form=form, status=400)
    data = form.cleaned_data
    try:
        batch = trace.trace_batch_create(
            actor=request.staff,
            shop=request.shop,
            product=data["product"],
            sku=data["sku"] or None,
            name=data["name"],
            quantity=data["quantity"],
        )
    except DomainError as exc:
        form_error(form, exc)
        return _list_page(request, form=form, status=error_status(exc))
    messages.success(request, _("%(n)s codes are ready to print.") % {"n": batch.quantity})
    return redirect("console:trace_batch", batch_id=batch.pk)


@staff_required(perm=VIEW)
@require_GET
def trace_batch(request, batch_id: int):
    batch = trace.trace_batch_for_staff(shop=request.shop, batch_id=batch_id)
    flagged_only = request.GET.get("flagged") == "1"
    codes = Paginator(trace.trace_codes_of_batch(batch=batch, flagged_only=flagged_only), CODES_PAGE).get_page(
        request.GET.get("page")
    )
    sheets = range(1, (batch.quantity + SHEET_PAGE - 1) // SHEET_PAGE + 1)
    context = {
        "batch": batch,
        "page_obj": codes,
        "query": "flagged=1" if flagged_only else "",
        "flagged_only": flagged_only,
        "scans": trace.trace_scans_of_batch(batch=batch),
        "sheets": sheets,
    }
    return page(request, "console/trace_batch.html", context)


@staff_required(perm=VIEW)
@require_GET
def trace_sheet(request, batch_id: int):
    """A print-ready page of labels: QR image, serial and the code as text for typing in by hand."""
    batch = trace.trace_batch_for_staff(shop=request.shop, batch_id=batch_id)
    part = Paginator(trace.trace_codes_of_batch(batch=batch), SHEET_PAGE).get_page(request.GET.get("part"))
    labels = [{"code": c, "qr": trace.trace_qr_data_uri(url=scan_url(request, c.code))} for c in part.object_list]
    sheets = [labels[i : i + LABELS_PER_A4] for i in range(0, len(labels), LABELS_PER_A4)]
    return page(request, "console/trace_sheet.html", {"batch": batch, "part": part, "sheets": sheets})


@staff_required(perm=VIEW)
@require_GET
def trace_csv(request, batch_id: int):
    batch = trace.trace_batch_for_staff(shop=request.shop, batch_id=batch_id)
    codes = trace.trace_codes_of_batch(batch=batch).only("code", "serial").iterator(chunk_size=2000)
    rows = ((c.code, c.serial, scan_url(request, c.code)) for c in codes)
    stamp = timezone.localtime().strftime("%Y%m%d")
    return csv_response(
        filename=f"trace-{batch.pk}-{stamp}.csv", header=[_("Code"), _("Serial"), _("Scan URL")], rows=rows
    )


@staff_required(perm=VIEW)
@require_GET
def trace_code_png(request, code: str):
    """One label's QR image, for printing on packaging artwork."""
    found = trace.trace_code_lookup(code=code, shop=request.shop)
    png = trace.trace_qr_png(url=scan_url(request, found.code), box_size=10)
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{found.code}.png"'
    return response


@staff_required(perm=VIEW)
@require_GET
def trace_code(request, code: str):
    found, scans = trace.trace_scans_of_code(shop=request.shop, code=code)
    return page(request, "console/trace_code.html", {"item": found, "scans": scans, "url": scan_url(request, code)})
