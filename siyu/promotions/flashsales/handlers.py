"""Flash sales wired into checkout and the order events (imported by the app's ready())."""

from siyu.core.events import subscribe
from siyu.orders.pricing import register_line_pricer

from .buying import flash_line_price, flash_release_on_cancel, flash_take_on_place

register_line_pricer(flash_line_price)
subscribe("order.placed", in_transaction=True)(flash_take_on_place)
subscribe("order.cancelled", in_transaction=True)(flash_release_on_cancel)
