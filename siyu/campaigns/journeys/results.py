"""A journey's results per variant and for the holdout, with uplift and ROI — the campaigns' maths
(siyu/campaigns/outreach/stats.py) over a journey's own rows.

Attribution: an order counts for an enrolment when the enrolled customer's shopper paid it within
that enrolment's window, [enrolled_at, attributed_until) — the same window for the held-out and the
messaged, since both were enrolled the same way at the same moment. Revenue is paid less refunded.
A customer enrolled on several occasions counts once per enrolment. Orders are read, never changed.

ROI = (incremental gross profit − discounts given − message cost) / (discounts given + message cost),
with incremental gross profit = (treatment − holdout revenue per enrolment) × treated × margin, the
margin from SKU cost prices where the attributed lines have them, else the journey's setting.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat

from siyu.campaigns.outreach.results import ROI_FORMULA, GroupResult
from siyu.campaigns.outreach.stats import conversion_uplift, mean_var, roi, welch_uplift
from siyu.orders.models import Order, OrderLine
from siyu.promotions.coupons.models import CouponGrant

from .models import EnrolmentStatus, Journey, JourneyEnrolment

FIGURES = ("recipients", "delivered", "clicked", "ordered", "revenue", "message_cost")


@dataclass
class JourneyResults:
    groups: list[GroupResult] = field(default_factory=list)  # holdout first, then A, B…
    treatment: GroupResult | None = None  # every variant together
    margin_bp: int = 0
    margin_from_costs: bool = False
    discounts: int = 0
    message_cost: int = 0
    incremental_profit: float = 0.0
    roi: float | None = None
    formula: str = ROI_FORMULA


def _attributed(journey: Journey):
    """Orders of the shop paid inside an enrolment's window (correlated to the outer enrolment)."""
    return Order.objects.filter(
        shop_id=journey.shop_id,
        shopper_id=OuterRef("customer__shopper_id"),
        paid_at__gte=OuterRef("enrolled_at"),
        paid_at__lt=OuterRef("attributed_until"),
    ).values("shopper_id")


def _groups(journey: Journey) -> dict[str, dict]:
    theirs = _attributed(journey)
    revenue = theirs.annotate(v=Sum(F("paid_amount") - F("refunded_amount"))).values("v")
    count = theirs.annotate(c=Count("pk")).values("c")
    rows = (
        JourneyEnrolment.objects.filter(journey=journey)
        .annotate(
            rev=Coalesce(Subquery(revenue, output_field=IntegerField()), Value(0)),
            n_orders=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
            held=Q(status=EnrolmentStatus.HOLDOUT),
        )
        .values("variant_id", "held")
        .annotate(
            recipients=Count("pk"),
            delivered=Count("pk", filter=Q(status=EnrolmentStatus.SENT)),
            clicked=Count("pk", filter=Q(first_clicked_at__isnull=False)),
            message_cost=Sum("cost_fen"),
            ordered=Count("pk", filter=Q(n_orders__gt=0)),
            revenue=Sum("rev"),
            squares=Sum(F("rev") * F("rev")),
        )
        .order_by()
    )
    found: dict[str, dict] = {}
    for row in rows:
        values = dict(row)
        key = "holdout" if values.pop("held") else str(values.pop("variant_id", None))
        values.pop("variant_id", None)
        found[key] = values
    return found


def _clean(row: dict | None) -> dict:
    row = dict(row or {})
    cleaned: dict[str, Any] = {name: int(row.get(name) or 0) for name in FIGURES}
    cleaned["squares"] = float(row.get("squares") or 0)
    return cleaned


def _margin(journey: Journey) -> tuple[int, bool]:
    treated = JourneyEnrolment.objects.filter(journey=journey, variant__isnull=False).exclude(
        status=EnrolmentStatus.HOLDOUT
    )
    windows = treated.filter(
        customer__shopper_id=OuterRef("order__shopper_id"),
        enrolled_at__lte=OuterRef("order__paid_at"),
        attributed_until__gt=OuterRef("order__paid_at"),
    )
    lines = OrderLine.objects.filter(
        Exists(windows), shop_id=journey.shop_id, order__paid_at__isnull=False, sku__cost_price__isnull=False
    )
    sums = lines.aggregate(sales=Sum("line_total"), cost=Sum(F("sku__cost_price") * F("quantity")))
    if not sums["sales"]:
        return journey.margin_bp, False
    return max(round((sums["sales"] - sums["cost"]) * 10000 / sums["sales"]), 0), True


def _discounts(journey: Journey) -> int:
    """The journey coupon's discounts on orders that used the grants it gave."""
    if journey.coupon is None:
        return 0
    ref = journey.coupon.public_id
    mine = (
        JourneyEnrolment.objects.filter(journey=journey)
        .annotate(slot=Concat(Value("journey:"), Cast("pk", CharField())))
        .filter(slot=OuterRef("slot"))
    )
    used = CouponGrant.objects.filter(
        Exists(mine), coupon_id=journey.coupon.pk, slot__startswith="journey:", order__isnull=False
    )
    total = 0
    for adjustments in used.values_list("order__adjustments", flat=True):
        for adj in adjustments or []:
            if adj.get("kind") == "coupon" and adj.get("ref") == ref:
                total += int(adj.get("amount") or 0)
    return total


def journey_results(*, journey: Journey) -> JourneyResults:
    """Per group and overall: 3 queries, 4 with costed lines, 6 with a coupon."""
    found = _groups(journey)
    variants = sorted(journey.variants.all(), key=lambda v: v.index)  # prefetched by journey_get
    groups = [GroupResult("holdout", "holdout", **_clean(found.get("holdout")))]
    groups += [GroupResult(v.letter, v.letter, **_clean(found.get(str(v.pk)))) for v in variants]
    treatment = GroupResult("treatment", "treatment")
    for g in groups[1:]:
        for name in (*FIGURES, "squares"):
            setattr(treatment, name, getattr(treatment, name) + getattr(g, name))
    result = JourneyResults(groups=groups, treatment=treatment)
    result.message_cost = sum(g.message_cost for g in groups)
    holdout = groups[0]
    for g in [*groups[1:], treatment]:
        _uplift(g, holdout)
    if not treatment.recipients:
        result.margin_bp = journey.margin_bp
        return result
    result.margin_bp, result.margin_from_costs = _margin(journey)
    result.discounts = _discounts(journey)
    if holdout.recipients:
        result.incremental_profit = (
            (treatment.revenue_per_recipient - holdout.revenue_per_recipient)
            * treatment.recipients
            * result.margin_bp
            / 10000
        )
    result.roi = roi(
        incremental_profit=result.incremental_profit, discounts=result.discounts, message_cost=result.message_cost
    )
    return result


def _uplift(group: GroupResult, holdout: GroupResult) -> None:
    group.conversion_uplift = conversion_uplift(
        x1=group.ordered, n1=group.recipients, x0=holdout.ordered, n0=holdout.recipients
    )
    m1, v1 = mean_var(total=group.revenue, squares=group.squares, n=group.recipients)
    m0, v0 = mean_var(total=holdout.revenue, squares=holdout.squares, n=holdout.recipients)
    group.revenue_uplift = welch_uplift(
        mean1=m1, var1=v1, n1=group.recipients, mean0=m0, var0=v0, n0=holdout.recipients
    )
