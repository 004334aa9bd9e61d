"""Group buys wired into checkout and the order events (registered when apps.py imports this).

All in the order's or the payment's own transaction: the member is made with the order (a
refusal rolls it back), decided with the payment, released with a cancellation, and done (or gone
from an open group) with a full refund. Each costs no query for an order without a group buy
(the event names its promotions; payment, cancellation and refund read a cached per-shop flag).
"""

from siyu.core.events import subscribe
from siyu.orders.pricing import register_adjuster, register_line_pricer

from .groups import member_on_cancelled, member_on_paid, member_on_place, member_on_refunded
from .pricing import group_join_marker, group_price_offers

register_line_pricer(group_price_offers)
# Before every discount (they see it as a zero-amount prior adjustment).
register_adjuster(group_join_marker, priority=1)

subscribe("order.placed", in_transaction=True)(member_on_place)
subscribe("order.paid", in_transaction=True)(member_on_paid)
subscribe("order.cancelled", in_transaction=True)(member_on_cancelled)
subscribe("order.refunded", in_transaction=True)(member_on_refunded)
