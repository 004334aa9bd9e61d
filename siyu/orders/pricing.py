"""Price adjustments from higher domains (membership discounts, points) without orders importing them.

A higher domain registers an adjuster; `order_quote` asks every adjuster for its adjustments. The
server computes them all: nothing a client sends is taken as a price.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Adjustment:
    kind: str  # "member_discount" | "points" | …
    label: str
    amount: int = 0  # fen taken off the items
    free_shipping: bool = False
    points_used: int = 0


# adjuster(*, shop, shopper, subtotal, shipping_fee, options) -> list[Adjustment]
_adjusters: list[Callable[..., list[Adjustment]]] = []


def register_adjuster(func):
    if func not in _adjusters:
        _adjusters.append(func)
    return func


def adjustments_for(*, shop, shopper, subtotal: int, shipping_fee: int, options: dict) -> list[Adjustment]:
    if shopper is None:
        return []
    found: list[Adjustment] = []
    for adjuster in _adjusters:
        found.extend(
            adjuster(shop=shop, shopper=shopper, subtotal=subtotal, shipping_fee=shipping_fee, options=options)
        )
    return found
