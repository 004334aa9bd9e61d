"""What goes to the packing table: the pick list of orders to ship and one order's packing slip,
both printable (console/print.css). Staff with the fulfilment permission see full recipients,
phones and addresses, and each showing is logged (siyu.orders.exports); others see them masked."""

from django.db.models import Prefetch
from django.utils import timezone

from siyu.catalog.selectors import products_for_staff
from siyu.orders.exports import order_contacts_reveal
from siyu.orders.models import OrderLine, OrderStatus
from siyu.orders.selectors import order_for_staff, orders_for_staff

from ..decorators import staff_required
from ..order_forms import OrderFilterForm
from ..rendering import page

TO_SHIP = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)
MAX_PICK_ORDERS = 200  # a day's packing; a narrower filter prints the rest
PRODUCT_CHOICES = 300
LINES = Prefetch("lines", queryset=OrderLine.objects.order_by("id"))


def _left(line) -> int:
    return max(line.quantity - line.refunded_quantity - line.shipped_quantity, 0)


def _pick_rows(orders, contacts) -> tuple[list[dict], list[dict]]:
    """One row per order with what is left to pack, and the totals per SKU to take off the shelf."""
    rows: list[dict] = []
    totals: dict[tuple[str, str], int] = {}
    for order in orders:
        items = [(line, _left(line)) for line in order.lines.all()]
        items = [(line, n) for line, n in items if n]
        rows.append({"order": order, "contacts": contacts[order.pk], "items": items})
        for line, n in items:
            key = (line.product_name, line.sku_label)
            totals[key] = totals.get(key, 0) + n
    summary = [{"product": p, "spec": s, "quantity": n} for (p, s), n in sorted(totals.items())]
    return rows, summary


@staff_required(perm="orders.view")
def pick_list(request):
    """Paid orders still to ship, oldest first (the order they should leave in), with the filters
    of the order list; a status other than "to ship" is ignored here."""
    products = products_for_staff(shop=request.shop).select_related(None).only("public_id", "name")
    filters = OrderFilterForm(request.GET or None, products=products[:PRODUCT_CHOICES])
    args = {**filters.selector_args(), "status": "", "statuses": TO_SHIP}
    query = orders_for_staff(shop=request.shop, **args).prefetch_related(LINES).order_by("id")
    orders = list(query[: MAX_PICK_ORDERS + 1])
    more = len(orders) > MAX_PICK_ORDERS
    orders = orders[:MAX_PICK_ORDERS]
    contacts = order_contacts_reveal(actor=request.staff, shop=request.shop, orders=orders, view="pick_list")
    rows, summary = _pick_rows(orders, contacts)
    context = {
        "rows": rows,
        "summary": summary,
        "more": more,
        "limit": MAX_PICK_ORDERS,
        "printed_at": timezone.localtime(),
        "full": any(c.full for c in contacts.values()),
    }
    return page(request, "console/pick_list.html", context)


@staff_required(perm="orders.view")
def packing_slip(request, public_id: str):
    """One order's slip for the parcel: who it goes to and what is in it."""
    order = order_for_staff(shop=request.shop, public_id=public_id)
    contacts = order_contacts_reveal(actor=request.staff, shop=request.shop, orders=[order], view="packing_slip")
    lines = list(order.lines.all())
    context = {
        "order": order,
        "contacts": contacts[order.pk],
        "items": [(line, _left(line)) for line in lines],
        "printed_at": timezone.localtime(),
    }
    return page(request, "console/packing_slip.html", context)
