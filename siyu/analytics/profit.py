"""The profit identity and what moved it between two periods.

revenue = customers × average order value × purchase frequency
        = C × (R ÷ N) × (N ÷ C)       (C buyers, N paid orders, R revenue net of refunds)
gross profit = revenue × margin        (margin = gross profit ÷ revenue)

Gross profit is revenue less the cost of the goods kept (quantity not refunded × the SKU's cost
price). The cost is the SKU's cost price now (order lines do not copy it); a period with any kept
line whose SKU has no cost price has an unknown gross profit, shown as unknown, never as if the
cost were zero.

The change between two periods is split over the factors with the additive LMDI (logarithmic mean
Divisia index, Ang 2004): for V = ∏ xᵢ, the effect of factor i is L(V₁, V₀) · ln(xᵢ₁ ÷ xᵢ₀), with
L(a, b) = (a − b) ÷ (ln a − ln b) (L(a, a) = a). The effects add up to V₁ − V₀ exactly, with no
residual term; computed in Decimal and rounded to the fen, the rounding remainder (at most a fen or
two) goes to the largest effect so the figures shown still add up. LMDI needs both values positive:
when a period has no sales (or a loss), the change is shown without a split.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from siyu.core.db_router import replica_reads
from siyu.core.permissions import Actor, require
from siyu.orders.models import Order, OrderLine
from siyu.shops.models import Shop

from .dash_sql import DateRange

FACTORS = ("customers", "aov", "frequency")
PROFIT_FACTORS = (*FACTORS, "margin")


@dataclass
class PeriodFigures:
    span: DateRange
    customers: int
    orders: int
    revenue: int  # fen, paid − refunded
    cost: int  # fen, cost of the goods kept whose cost is known
    lines_without_cost: int  # kept lines whose SKU has no cost price

    @property
    def gross_profit(self) -> int | None:
        return None if self.lines_without_cost else self.revenue - self.cost

    @property
    def aov(self) -> Decimal | None:
        return Decimal(self.revenue) / self.orders if self.orders else None

    @property
    def frequency(self) -> Decimal | None:
        return Decimal(self.orders) / self.customers if self.customers else None

    @property
    def margin(self) -> Decimal | None:
        profit = self.gross_profit
        return Decimal(profit) / self.revenue if profit is not None and self.revenue else None

    def factor(self, name: str) -> Decimal | None:
        return Decimal(self.customers) if name == "customers" else getattr(self, name)


@dataclass
class Decomposition:
    """value₀ → value₁ and each factor's share of the change (fen); effects None when it cannot
    be split (a value that is not positive)."""

    before: int | None
    after: int | None
    effects: dict[str, int] | None

    @property
    def change(self) -> int | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass
class ProfitReport:
    base: PeriodFigures
    current: PeriodFigures
    revenue: Decomposition
    gross_profit: Decomposition


def _log_mean(a: Decimal, b: Decimal) -> Decimal:
    return a if a == b else (a - b) / (a.ln() - b.ln())


def lmdi(before: dict[str, Decimal], after: dict[str, Decimal]) -> dict[str, Decimal]:
    """Additive LMDI effects of each factor, for V = product of the factors (all positive)."""
    v0, v1 = Decimal(1), Decimal(1)
    for name in before:
        v0 *= before[name]
        v1 *= after[name]
    weight = _log_mean(v1, v0)
    return {name: weight * (after[name] / before[name]).ln() for name in before}


def _in_fen(effects: dict[str, Decimal], total: int) -> dict[str, int]:
    """Effects rounded to the fen, the rounding remainder on the largest, so they sum to `total`."""
    rounded = {k: int(v.quantize(Decimal(1), rounding=ROUND_HALF_UP)) for k, v in effects.items()}
    largest = max(rounded, key=lambda k: abs(effects[k]))
    rounded[largest] += total - sum(rounded.values())
    return rounded


def decompose(before: PeriodFigures, after: PeriodFigures, factors: tuple[str, ...], value: str) -> Decomposition:
    v0, v1 = getattr(before, value), getattr(after, value)
    if v0 is None or v1 is None:
        return Decomposition(v0, v1, None)
    x0 = {name: before.factor(name) for name in factors}
    x1 = {name: after.factor(name) for name in factors}
    if v0 <= 0 or v1 <= 0 or any(x is None or x <= 0 for x in (*x0.values(), *x1.values())):
        return Decomposition(v0, v1, None)
    with localcontext() as ctx:
        ctx.prec = 40
        effects = lmdi(x0, x1)  # type: ignore[arg-type]  # None excluded just above
    return Decomposition(v0, v1, _in_fen(effects, v1 - v0))


def _in(span: DateRange, path: str = "") -> Q:
    return Q(**{f"{path}paid_at__gte": span.start, f"{path}paid_at__lt": span.end})


@replica_reads()
def profit_report(*, actor: Actor | None, shop: Shop, base: DateRange, current: DateRange) -> ProfitReport:
    """Both periods' figures and the split of the change. Two queries (orders, then lines)."""
    require(actor, "analytics.view", shop_id=shop.pk)
    spans = {"b": base, "c": current}
    orders = Order.objects.filter(Q(shop=shop) & (_in(base) | _in(current))).aggregate(
        **{
            f"{k}_{name}": agg
            for k, span in spans.items()
            for name, agg in (
                ("customers", Count("shopper_id", distinct=True, filter=_in(span))),
                ("orders", Count("id", filter=_in(span))),
                ("revenue", Coalesce(Sum(F("paid_amount") - F("refunded_amount"), filter=_in(span)), 0)),
            )
        }
    )
    kept = F("quantity") - F("refunded_quantity")
    lines = OrderLine.objects.filter(
        Q(shop=shop, quantity__gt=F("refunded_quantity")) & (_in(base, "order__") | _in(current, "order__"))
    ).aggregate(
        **{
            f"{k}_{name}": agg
            for k, span in spans.items()
            for name, agg in (
                ("cost", Coalesce(Sum(kept * F("sku__cost_price"), filter=_in(span, "order__")), 0)),
                ("unknown", Count("id", filter=_in(span, "order__") & Q(sku__cost_price__isnull=True))),
            )
        }
    )

    def figures(k: str) -> PeriodFigures:
        return PeriodFigures(
            span=spans[k],
            customers=orders[f"{k}_customers"],
            orders=orders[f"{k}_orders"],
            revenue=int(orders[f"{k}_revenue"]),
            cost=int(lines[f"{k}_cost"]),
            lines_without_cost=lines[f"{k}_unknown"],
        )

    before, after = figures("b"), figures("c")
    return ProfitReport(
        base=before,
        current=after,
        revenue=decompose(before, after, FACTORS, "revenue"),
        gross_profit=decompose(before, after, PROFIT_FACTORS, "gross_profit"),
    )
