"""What all promotions share reacts to orders here (subscriptions register on import).

In the order's own transaction: one `PromotionUse` row per promotion the order names, so results
(orders, revenue, discount given) can be read per promotion without parsing order JSON. An order
without promotions costs nothing: the event's payload says so before any query.
"""

from collections import defaultdict

from siyu.core.events import event_order_id, subscribe
from siyu.core.prepared import PreparedRead, insert_new
from siyu.orders.models import Order, OrderLine

from .models import PromotionUse


def _split(name: str) -> tuple[str, str]:
    kind, _sep, ref = str(name).partition(":")
    return kind[:30], ref[:40]


def _promoted_lines_query(*, order: int):
    return (
        OrderLine.objects.filter(order_id=order)
        .exclude(promotion="")
        .values_list("promotion", "list_price", "unit_price", "quantity")
    )


# Read in every promotion order's transaction: compiled once (siyu/core/prepared.py).
_PROMOTED_LINES = PreparedRead.by_value(OrderLine, _promoted_lines_query, order=-7_301_201)


@subscribe("order.placed", in_transaction=True)
def uses_on_place(event) -> None:
    named = [p for p in event.payload.get("promotions") or [] if ":" in str(p)]
    if not named:
        return
    order_id = event_order_id(event)
    discount: dict[tuple[str, str], int] = defaultdict(int)
    line_names = set()
    for promotion, list_price, unit_price, quantity in _PROMOTED_LINES.rows(order=order_id):
        line_names.add(promotion)
        discount[_split(promotion)] += max(0, list_price - unit_price) * quantity
    if any(name not in line_names for name in named):
        adjustments = Order.objects.filter(pk=order_id).values_list("adjustments", flat=True).first() or []
        for adjustment in adjustments:
            if adjustment.get("ref"):
                discount[_split(f"{adjustment['kind']}:{adjustment['ref']}")] += int(adjustment.get("amount") or 0)
    # Compiled once (siyu/core/prepared.py). ignore_conflicts: a promotion's own subscriber may have
    # written its row already, with what it knows better (a free-shipping coupon's postage waived:
    # siyu.promotions.coupons.checkout).
    insert_new(
        [
            PromotionUse(shop_id=event.shop_id, order_id=order_id, kind=kind, ref=ref, discount=amount)
            for (kind, ref), amount in discount.items()
        ],
        ignore_conflicts=True,
    )
