"""Event subscribers of the content library (registered by ContentConfig.ready)."""

from siyu.core.events import subscribe

from .tracking import on_order_placed

# In the worker, not in the checkout's transaction: attribution may lag the order by a moment, and
# checkout pays nothing for it.
subscribe("order.placed")(on_order_placed)
