"""A campaign's results per variant and for the control group, with uplift and ROI.

Attribution: an order counts for the campaign when it was placed by a recipient's shopper
(treatment or control: the control group is in the audience, it just gets no message) and paid
within the attribution window, [send start, send start + attribution_days). Revenue is what was
paid less what was refunded. Orders are read, never changed.

ROI = (incremental gross profit − discounts given − message cost) / (discounts given + message cost)
  incremental gross profit = (treatment revenue per recipient − control revenue per recipient)
                             × treated recipients × margin
  margin = gross profit / revenue over the attributed orders' lines whose SKU has a cost price;
           the campaign's own margin setting where no line has one
  discounts given = the campaign coupon's discounts on attributed orders that used its grants
  message cost = what the channel charged for the messages sent
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, F, Q, Sum

from siyu.customers.models import Customer
from siyu.orders.models import Order, OrderLine
from siyu.promotions.coupons.models import CouponGrant

from .models import Campaign, CampaignRecipient, CampaignVariant, RecipientStatus
from .stats import Interval, conversion_uplift, mean_var, roi, welch_uplift

ROI_FORMULA = (
    "ROI = (incremental gross profit − discounts given − message cost) ÷ (discounts given + message cost); "
    "incremental gross profit = (treatment revenue per recipient − control revenue per recipient) "
    "× treated recipients × margin"
)


@dataclass
class GroupResult:
    key: str  # "control" or the variant letter
    label: str
    recipients: int = 0
    delivered: int = 0
    clicked: int = 0
    ordered: int = 0
    revenue: int = 0  # fen
    squares: float = 0.0
    message_cost: int = 0
    conversion_uplift: Interval | None = None
    revenue_uplift: Interval | None = None  # fen per recipient

    @property
    def conversion(self) -> float:
        return self.ordered / self.recipients if self.recipients else 0.0

    @property
    def revenue_per_recipient(self) -> float:
        return self.revenue / self.recipients if self.recipients else 0.0


@dataclass
class CampaignResults:
    window: tuple[datetime, datetime] | None
    groups: list[GroupResult] = field(default_factory=list)  # control first, then A, B…
    treatment: GroupResult | None = None  # every variant together
    margin_bp: int = 0
    margin_from_costs: bool = False
    discounts: int = 0
    message_cost: int = 0
    incremental_profit: float = 0.0
    roi: float | None = None
    formula: str = ROI_FORMULA


def attribution_window(campaign: Campaign) -> tuple[datetime, datetime] | None:
    if campaign.send_started_at is None:
        return None
    return campaign.send_started_at, campaign.send_started_at + timedelta(days=campaign.attribution_days)


def _orders(campaign: Campaign, window: tuple[datetime, datetime]):
    return Order.objects.filter(shop_id=campaign.shop_id, paid_at__gte=window[0], paid_at__lt=window[1])


# One statement for every group: the window's orders are summed per shopper first (one pass over
# the shop's orders in the window), then joined to the recipients (one pass over the campaign's
# rows) and grouped by variant; nothing per recipient leaves the database. The sum of squares is
# taken in floating point: it only feeds the revenue interval, and an integer sum of 100,000
# squares of yuan amounts would overflow SQLite's 64-bit integers.
_GROUPS_SQL = """
WITH bought AS (
    SELECT o.shopper_id, COUNT(*) AS n, SUM(o.paid_amount - o.refunded_amount) AS rev
    FROM {order} o
    WHERE o.shop_id = %(shop)s AND o.paid_at >= %(start)s AND o.paid_at < %(end)s
      AND o.shopper_id IS NOT NULL
    GROUP BY o.shopper_id
)
SELECT r.variant_id,
       COUNT(*),
       SUM(CASE WHEN r.status = %(sent)s THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.first_clicked_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(r.cost_fen),
       SUM(CASE WHEN b.n > 0 THEN 1 ELSE 0 END),
       SUM(b.rev),
       SUM(CAST(b.rev AS DOUBLE PRECISION) * b.rev)
FROM {recipient} r
JOIN {customer} c ON c.id = r.customer_id
LEFT JOIN bought b ON b.shopper_id = c.shopper_id
WHERE r.campaign_id = %(campaign)s
GROUP BY r.variant_id
"""
_COLUMNS = ("recipients", "delivered", "clicked", "message_cost", "ordered", "revenue", "squares")


def _groups(campaign: Campaign, window) -> dict[int | None, dict]:
    """Per variant (None: control): recipients, delivered, clicked, message cost and, once sending
    began, ordered, revenue and the sum of squared revenue per recipient. One query."""
    if window is None:
        rows = (
            CampaignRecipient.objects.filter(campaign=campaign)
            .values("variant_id")
            .annotate(
                recipients=Count("pk"),
                delivered=Count("pk", filter=Q(status=RecipientStatus.SENT)),
                clicked=Count("pk", filter=Q(first_clicked_at__isnull=False)),
                message_cost=Sum("cost_fen"),
            )
            .order_by()
        )
        found: dict[int | None, dict] = {}
        for row in rows:
            values: dict = dict(row)
            found[values.pop("variant_id")] = values
        return found
    sql = _GROUPS_SQL.format(
        order=Order._meta.db_table, recipient=CampaignRecipient._meta.db_table, customer=Customer._meta.db_table
    )
    params = {"shop": campaign.shop_id, "start": window[0], "end": window[1], "sent": RecipientStatus.SENT}
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "campaign": campaign.pk})
        return {row[0]: dict(zip(_COLUMNS, row[1:], strict=True)) for row in cursor.fetchall()}


def _margin(campaign: Campaign, window) -> tuple[int, bool]:
    treated = CampaignRecipient.objects.filter(
        campaign=campaign, variant__isnull=False, customer__shopper__isnull=False
    )
    lines = OrderLine.objects.filter(
        order__in=_orders(campaign, window).filter(shopper_id__in=treated.values("customer__shopper_id")),
        sku__cost_price__isnull=False,
    ).aggregate(sales=Sum("line_total"), cost=Sum(F("sku__cost_price") * F("quantity")))
    if not lines["sales"]:
        return campaign.margin_bp, False
    return max(round((lines["sales"] - lines["cost"]) * 10000 / lines["sales"]), 0), True


def _discounts(campaign: Campaign, window) -> int:
    if campaign.coupon is None:
        return 0
    ref = campaign.coupon.public_id
    used = CouponGrant.objects.filter(coupon_id=campaign.coupon.pk, slot=f"campaign:{campaign.pk}", order__isnull=False)
    total = 0
    for adjustments in (
        _orders(campaign, window).filter(pk__in=used.values("order_id")).values_list("adjustments", flat=True)
    ):
        for adj in adjustments or []:
            if adj.get("kind") == "coupon" and adj.get("ref") == ref:
                total += int(adj.get("amount") or 0)
    return total


def campaign_results(*, campaign: Campaign) -> CampaignResults:
    """Per group and overall. Queries: 2 before sending; 4 (5 with a coupon) after."""
    window = attribution_window(campaign)
    found = _groups(campaign, window)
    variants = list(CampaignVariant.objects.filter(campaign=campaign).order_by("index"))
    groups = [GroupResult("control", "control", **_clean(found.get(None)))]
    groups += [GroupResult(v.letter, v.letter, **_clean(found.get(v.pk))) for v in variants]
    treatment = GroupResult("treatment", "treatment")
    for g in groups[1:]:
        for name in ("recipients", "delivered", "clicked", "ordered", "revenue", "squares", "message_cost"):
            setattr(treatment, name, getattr(treatment, name) + getattr(g, name))
    result = CampaignResults(window=window, groups=groups, treatment=treatment)
    result.message_cost = sum(g.message_cost for g in groups)
    if window is None:
        return result
    control = groups[0]
    for g in [*groups[1:], treatment]:
        _uplift(g, control)
    result.margin_bp, result.margin_from_costs = _margin(campaign, window)
    result.discounts = _discounts(campaign, window)
    result.incremental_profit = (
        (treatment.revenue_per_recipient - control.revenue_per_recipient)
        * treatment.recipients
        * result.margin_bp
        / 10000
        if control.recipients and treatment.recipients
        else 0.0
    )
    result.roi = roi(
        incremental_profit=result.incremental_profit, discounts=result.discounts, message_cost=result.message_cost
    )
    return result


def _clean(row: dict | None) -> dict:
    row = dict(row or {})
    for name in ("recipients", "delivered", "clicked", "ordered", "revenue", "message_cost"):
        row[name] = int(row.get(name) or 0)
    row["squares"] = float(row.get("squares") or 0)
    return row


def _uplift(group: GroupResult, control: GroupResult) -> None:
    group.conversion_uplift = conversion_uplift(
        x1=group.ordered, n1=group.recipients, x0=control.ordered, n0=control.recipients
    )
    m1, v1 = mean_var(total=group.revenue, squares=group.squares, n=group.recipients)
    m0, v0 = mean_var(total=control.revenue, squares=control.squares, n=control.recipients)
    group.revenue_uplift = welch_uplift(
        mean1=m1, var1=v1, n1=group.recipients, mean0=m0, var0=v0, n0=control.recipients
    )
