"""The CLV figures as segment rule fields (registered with the customer pool from AppConfig.ready).

  clv                  the customer's CLV at the last fit, an amount (fen or a yuan string)
  p_alive              P(alive) in whole percent, 0–100 ("p_alive < 50")
  expected_orders_365  expected orders in the next 365 days, whole orders ("< 1")
  win_back             flagged for win-back at the last fit (see siyu.analytics.clv); `is false`
                       also matches customers the fit has not covered
Customers the last fit did not cover have no figures, so a number rule never matches them.
"""

from django.utils.translation import gettext_lazy as _

from siyu.customers.segment_fields import compare_q, flag_q, register_segment_field
from siyu.customers.segment_values import FEN, FLAG, int_in, pair

_NUMBER_OPS = (">", ">=", "<", "<=")


def register_clv_segment_fields() -> None:
    percent = int_in(0, 100)
    orders = int_in(0, 10**6)
    register_segment_field(
        name="clv",
        label=_("Lifetime value, predicted (yuan)"),
        ops={**{op: FEN for op in _NUMBER_OPS}, "between": pair(FEN)},
        build=compare_q("value__clv"),
    )
    register_segment_field(
        name="p_alive",
        label=_("Chance still a customer (%)"),
        ops={**{op: percent for op in _NUMBER_OPS}, "between": pair(percent)},
        build=compare_q("value__p_alive", scale=0.01),
    )
    register_segment_field(
        name="expected_orders_365",
        label=_("Expected orders in the next 365 days"),
        ops={**{op: orders for op in _NUMBER_OPS}, "between": pair(orders)},
        build=compare_q("value__expected_orders_365"),
    )
    register_segment_field(
        name="win_back",
        label=_("Worth winning back (high value, probably lapsed)"),
        ops={"is": FLAG},
        build=flag_q("value__win_back"),
    )
