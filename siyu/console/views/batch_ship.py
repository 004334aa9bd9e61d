"""Batch shipping from a spreadsheet: upload, apply the good rows, report and hand back the rest.

The rejected rows travel in the report page itself (a hidden field posted back to get them as
CSV) rather than in the session: sessions are signed cookies and a few hundred rows do not fit.
"""

import json

from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError
from siyu.orders.fulfilment import MAX_BATCH_ROWS, orders_ship_batch, shipping_rows_parse

from ..decorators import staff_required
from ..labels import SHIP_REJECT_LABELS
from ..order_forms import BatchShipForm
from ..rendering import error_status, form_error, page, render_error
from ..spreadsheets import csv_response

# The first three are what the parser reads, so a corrected file of rejected rows uploads again as is.
COLUMNS = ("订单号", "快递公司", "快递单号")
SAMPLE_ROWS = (
    ("202612010930001234", "顺丰速运", "SF1234567890123"),
    ("202612010931005678", "中通快递", "ZT78901234567"),
)


def _rejected_rows(result: dict) -> list[dict]:
    return [
        {
            "row": r.get("row"),
            "order": r.get("order", ""),
            "carrier": r.get("carrier", ""),
            "tracking": r.get("tracking", ""),
            "reason": str(SHIP_REJECT_LABELS.get(r.get("code"), r.get("error", ""))),
        }
        for r in result["rejected"]
    ]


def _apply(request, form: BatchShipForm) -> dict | None:
    """Parse and ship; a problem with the file itself goes on the form and returns None."""
    upload = form.cleaned_data["file"]
    try:
        rows = shipping_rows_parse(filename=upload.name, content=upload.read())
    except DomainError as exc:
        form_error(form, exc)
        return None
    if not rows:
        form.add_error("file", _("The file has no rows under the header."))
        return None
    return orders_ship_batch(actor=request.staff, shop=request.shop, rows=rows)


@staff_required(perm="orders.view")
def batch_ship(request):
    form = BatchShipForm(request.POST or None, request.FILES or None)
    result, rejected, status = None, [], 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = _apply(request, form)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            if result is not None:
                status = 200
                rejected = _rejected_rows(result)
    context = {
        "form": form,
        "result": result,
        "rejected": rejected,
        "rejected_json": json.dumps(rejected, ensure_ascii=False) if rejected else "",
        "columns": COLUMNS,
        "sample_rows": SAMPLE_ROWS,
        "max_rows": MAX_BATCH_ROWS,
    }
    return page(request, "console/batch_ship.html", context, status=status)


@staff_required(perm="orders.view")
def batch_ship_sample(request):
    return csv_response(filename="shipping-sample.csv", header=COLUMNS, rows=SAMPLE_ROWS)


def _posted_rows(raw: str) -> list[dict] | None:
    try:
        rows = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(rows, list) or len(rows) > MAX_BATCH_ROWS or not all(isinstance(r, dict) for r in rows):
        return None
    return rows


@staff_required(perm="orders.view")
@require_POST
def batch_ship_rejected(request):
    """The report's rejected rows, posted back, as a CSV to fix and upload again."""
    rows = _posted_rows(request.POST.get("rows", ""))
    if rows is None:
        return render_error(request, status=400, message=_("The rejected rows could not be read."))
    header = (*COLUMNS, _("Row"), _("Reason"))
    keys = ("order", "carrier", "tracking", "row", "reason")
    body = ([str(r.get(k, "") or "")[:300] for k in keys] for r in rows)
    return csv_response(filename="shipping-rejected.csv", header=header, rows=body)
