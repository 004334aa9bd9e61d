"""Price adjustments and basket checks from higher domains (membership discounts, points, price
floors) without orders importing them.

Two kinds of hook, asked in this order by `order_quote`:
- a line pricer (limited-time prices, member prices per SKU, flash sales, group buys, bargains) may
  offer each line a unit price; the lowest offer wins, except that an `exclusive` offer (a mode the
  shopper chose explicitly, such as buying in a flash sale) always wins and excludes the others;
- an adjuster (threshold discounts, coupons, member discount, points) takes amounts off the basket,
  in `priority` order, each seeing the lines at their final prices and the adjustments before it.
The server computes them all: nothing a client sends is taken as a price.

An adjuster or a basket check may also name `reads`: SQL expressions that checkout annotates on the
basket's SKU query. What every domain needs to know then arrives with the SKUs in one SELECT
instead of one round trip per domain; the hook gets the values in `read` (an empty dict when the
basket had no SKU row to carry them: read them yourself then). A read builder is called as
`build(shop=, shopper=, now=)` and may use only `shop.pk`, `shopper.pk`, `shopper.phone_hash` and
`now`: checkout compiles the SKU query once per process with stand-ins for them and reuses the SQL
(siyu/orders/sku_read.py). Hooks naming the same builder share one column.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from siyu.core.errors import InvalidInput

# builder(*, shop, shopper, now) -> a query expression, or None when there is nothing to read
ReadBuilder = Callable[..., Any]


@dataclass(frozen=True)
class Adjustment:
    kind: str  # "member_discount" | "points" | "coupon" | …
    label: str
    amount: int = 0  # fen taken off the items
    free_shipping: bool = False
    points_used: int = 0
    ref: str = ""  # which promotion (its public id), kept on the order for returns and reports
    exclusive: bool = False  # the seller said no coupon may be used with this one (a 满减 that does not stack)


@dataclass(frozen=True)
class LinePrice:
    """A line pricer's offer for one SKU."""

    unit_price: int
    kind: str  # "limited_time" | "member_price" | "flash_sale" | "group_buy" | "bargain" | …
    label: str
    ref: str = ""
    exclusive: bool = False  # chosen by the shopper (a flash sale, a group): wins over any other offer
    holds_stock: bool = False  # the promotion reserves and gives back this line's stock itself
    pay_minutes: int | None = None  # a shorter payment deadline for the whole order


class PricingLine(NamedTuple):
    """A line as a pricer or adjuster sees it. `unit_price` is the SKU's price for a pricer and the
    final price for an adjuster; `promotion` is the winning offer's kind ("" for none)."""

    sku_id: int
    product_id: int
    category_id: int | None
    list_price: int
    unit_price: int
    quantity: int
    promotion: str = ""


class BasketLine(NamedTuple):
    """A line as a basket check sees it: what it would be sold at, and the hook's values for its SKU."""

    sku_id: int
    unit_price: int
    quantity: int
    read: Mapping[str, Any]


class _Hook(NamedTuple):
    func: Callable[..., Any]
    reads: Mapping[str, ReadBuilder]
    priority: int = 50


# pricer(*, shop, shopper, lines: list[PricingLine], options[, read]) -> {sku_id: LinePrice}
_pricers: list[_Hook] = []
# adjuster(*, shop, shopper, subtotal, shipping_fee, options, lines: list[PricingLine],
#          prior: list[Adjustment][, read]) -> list[Adjustment]
_adjusters: list[_Hook] = []
# check(*, shop, shopper, lines: list[BasketLine]) -> None; raises a DomainError to refuse a submission
_checks: list[_Hook] = []


def _register(registry: list[_Hook], func, reads: Mapping[str, ReadBuilder] | None, priority: int = 50) -> None:
    if all(hook.func is not func for hook in registry):
        registry.append(_Hook(func, dict(reads or {}), priority))
        registry.sort(key=lambda hook: hook.priority)


def register_line_pricer(func, *, reads: Mapping[str, ReadBuilder] | None = None):
    _register(_pricers, func, reads)
    return func


def register_adjuster(func, *, reads: Mapping[str, ReadBuilder] | None = None, priority: int = 50):
    """Lower priorities run first: threshold discounts (10), coupons (20), membership and points (50)."""
    _register(_adjusters, func, reads, priority)
    return func


def register_basket_check(func, *, reads: Mapping[str, ReadBuilder] | None = None):
    _register(_checks, func, reads)
    return func


def _column(build: ReadBuilder) -> str:
    # Named after the builder: two hooks reading the same thing share one column, and a read can
    # never shadow a Sku field.
    return f"read_{id(build):x}"


def hooks_key() -> tuple[int, ...]:
    """What the registered hooks are, for caches of SQL built from their reads."""
    return tuple(id(hook.func) for hook in _pricers + _adjusters + _checks)


def sku_read_annotations(*, shop, shopper, now) -> dict[str, Any]:
    """Every registered hook's reads for this shop, shopper and time, to annotate on the SKU query."""
    found: dict[str, Any] = {}
    for hook in _pricers + _adjusters + _checks:
        for build in hook.reads.values():
            column = _column(build)
            if column not in found:
                expression = build(shop=shop, shopper=shopper, now=now)
                if expression is not None:
                    found[column] = expression
    return found


def _read(hook: _Hook, row: object | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {name: getattr(row, _column(build)) for name, build in hook.reads.items() if hasattr(row, _column(build))}


def line_prices_for(
    *, shop, shopper, lines: list[PricingLine], options: dict, row: object | None = None
) -> dict[int, LinePrice]:
    """The winning offer per SKU (absent: the SKU's own price). An offer above the SKU's price is
    ignored; two exclusive offers for one line are refused (the shopper asked for two modes)."""
    if not _pricers:
        return {}
    offers: dict[int, list[LinePrice]] = {}
    for hook in _pricers:
        extra = {"read": _read(hook, row)} if hook.reads else {}
        for sku_id, offer in hook.func(shop=shop, shopper=shopper, lines=lines, options=options, **extra).items():
            offers.setdefault(sku_id, []).append(offer)
    list_prices = {ln.sku_id: ln.list_price for ln in lines}
    won: dict[int, LinePrice] = {}
    for sku_id, found in offers.items():
        exclusive = [o for o in found if o.exclusive]
        if len(exclusive) > 1:
            raise InvalidInput(detail={"options": "one promotion per item"})
        if exclusive:
            won[sku_id] = exclusive[0]
            continue
        cheaper = [o for o in found if 0 <= o.unit_price < list_prices.get(sku_id, 0)]
        if cheaper:
            won[sku_id] = min(cheaper, key=lambda o: o.unit_price)
    return won


def adjustments_for(
    *,
    shop,
    shopper,
    subtotal: int,
    shipping_fee: int,
    options: dict,
    lines: list[PricingLine] | None = None,
    row: object | None = None,
) -> list[Adjustment]:
    """`row`: a SKU read with `sku_read_annotations` (its per-shopper values are the same on every row)."""
    if shopper is None:
        return []
    found: list[Adjustment] = []
    for hook in _adjusters:
        extra = {"read": _read(hook, row)} if hook.reads else {}
        found.extend(
            hook.func(
                shop=shop,
                shopper=shopper,
                subtotal=subtotal,
                shipping_fee=shipping_fee,
                options=options,
                lines=list(lines or []),
                prior=list(found),
                **extra,
            )
        )
    return found


def basket_checks_run(*, shop, shopper, lines: list[tuple[Any, int, int]]) -> None:
    """Run every basket check over (SKU read with `sku_read_annotations`, unit price, quantity)."""
    for hook in _checks:
        hook.func(
            shop=shop,
            shopper=shopper,
            lines=[BasketLine(sku.pk, price, quantity, _read(hook, sku)) for sku, price, quantity in lines],
        )
