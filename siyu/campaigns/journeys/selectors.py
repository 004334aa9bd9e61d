"""Reads for journeys: the shop's list with key figures, one journey with its variants."""

from django.db.models import Count, Prefetch, Q, QuerySet

from siyu.core.permissions import require
from siyu.shops.models import Shop

from .models import EnrolmentStatus, Journey, JourneyVariant
from .services import VIEW, journey_of_shop


def with_variants(rows: QuerySet[Journey]) -> QuerySet[Journey]:
    return rows.prefetch_related(Prefetch("variants", queryset=JourneyVariant.objects.order_by("index")))


def journeys_of(*, actor, shop: Shop) -> QuerySet[Journey]:
    """The shop's journeys with enrolled, held out, sent and clicked counts (one query, plus one
    for the variants when asked for)."""
    require(actor, VIEW, shop_id=shop.pk)
    return (
        Journey.objects.filter(shop=shop)
        .select_related("coupon")
        .annotate(
            n_enrolled=Count("enrolments"),
            n_holdout=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.HOLDOUT)),
            n_sent=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.SENT)),
            n_clicked=Count("enrolments", filter=Q(enrolments__first_clicked_at__isnull=False)),
        )
        .order_by("id")
    )


def journey_get(*, actor, shop: Shop, public_id: str) -> Journey:
    """One journey with its coupon, figures and variants: two queries."""
    rows = with_variants(journeys_of(actor=actor, shop=shop))
    journey = rows.filter(public_id=str(public_id)[:16]).first()
    if journey is None:
        return journey_of_shop(shop=shop, public_id=public_id)  # raises the 404
    return journey
