"""Price adjustments and basket checks from higher domains (membership discounts, points, price
floors) without orders importing them.

A higher domain registers an adjuster; `order_quote` asks every adjuster for its adjustments. The
server computes them all: nothing a client sends is taken as a price.

An adjuster or a basket check may also name `reads`: SQL expressions (built per shop and shopper)
that checkout annotates on the basket's SKU query. What every domain needs to know then arrives
with the SKUs in one SELECT instead of one round trip per domain; the hook gets the values in
`read` (an empty dict when the basket had no SKU row to carry them: read them yourself then).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

# builder(*, shop, shopper) -> a query expression, or None when there is nothing to read
ReadBuilder = Callable[..., Any]


@dataclass(frozen=True)
class Adjustment:
    kind: str  # "member_discount" | "points" | …
    label: str
    amount: int = 0  # fen taken off the items
    free_shipping: bool = False
    points_used: int = 0


class BasketLine(NamedTuple):
    """A line as a basket check sees it: what it would be sold at, and the hook's values for its SKU."""

    sku_id: int
    unit_price: int
    quantity: int
    read: Mapping[str, Any]


class _Hook(NamedTuple):
    func: Callable[..., Any]
    reads: Mapping[str, ReadBuilder]


# adjuster(*, shop, shopper, subtotal, shipping_fee, options[, read]) -> list[Adjustment]
_adjusters: list[_Hook] = []
# check(*, shop, shopper, lines: list[BasketLine]) -> None; raises a DomainError to refuse a submission
_checks: list[_Hook] = []


def _register(registry: list[_Hook], func, reads: Mapping[str, ReadBuilder] | None) -> None:
    if all(hook.func is not func for hook in registry):
        registry.append(_Hook(func, dict(reads or {})))


def register_adjuster(func, *, reads: Mapping[str, ReadBuilder] | None = None):
    _register(_adjusters, func, reads)
    return func


def register_basket_check(func, *, reads: Mapping[str, ReadBuilder] | None = None):
    _register(_checks, func, reads)
    return func


def _column(hook: _Hook, name: str) -> str:
    # Prefixed so a hook's name can never shadow a Sku field or another hook's value.
    return f"hook_{id(hook.func):x}_{name}"


def sku_read_annotations(*, shop, shopper) -> dict[str, Any]:
    """Every registered hook's reads for this shop and shopper, to annotate on the SKU query."""
    found: dict[str, Any] = {}
    for hook in _adjusters + _checks:
        for name, build in hook.reads.items():
            expression = build(shop=shop, shopper=shopper)
            if expression is not None:
                found[_column(hook, name)] = expression
    return found


def _read(hook: _Hook, row: object | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {name: getattr(row, _column(hook, name)) for name in hook.reads if hasattr(row, _column(hook, name))}


def adjustments_for(
    *, shop, shopper, subtotal: int, shipping_fee: int, options: dict, row: object | None = None
) -> list[Adjustment]:
    """`row`: a SKU read with `sku_read_annotations` (its per-shopper values are the same on every row)."""
    if shopper is None:
        return []
    found: list[Adjustment] = []
    for hook in _adjusters:
        extra = {"read": _read(hook, row)} if hook.reads else {}
        found.extend(
            hook.func(
                shop=shop, shopper=shopper, subtotal=subtotal, shipping_fee=shipping_fee, options=options, **extra
            )
        )
    return found


def basket_checks_run(*, shop, shopper, lines: list[tuple[Any, int]]) -> None:
    """Run every basket check over (SKU read with `sku_read_annotations`, quantity) pairs."""
    for hook in _checks:
        hook.func(
            shop=shop,
            shopper=shopper,
            lines=[BasketLine(sku.pk, sku.price, quantity, _read(hook, sku)) for sku, quantity in lines],
        )
