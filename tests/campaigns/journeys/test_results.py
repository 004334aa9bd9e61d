"""Results against a hand computation: a known set of enrolments and orders."""

import math
from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone
from scipy import stats

from siyu.campaigns.journeys.models import EnrolmentStatus, JourneyEnrolment
from siyu.campaigns.journeys.results import journey_results
from tests.customers.test_segments import paid_order
from tests.factories import make_product

from .conftest import journey, person

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def enrol(j, customer, *, variant=None, at, sent=False, clicked=False):
    return JourneyEnrolment.objects.create(
        journey=j,
        customer=customer,
        occasion="joined",
        variant=variant,
        code=f"k{customer.pk}",
        status=EnrolmentStatus.SENT if sent else (EnrolmentStatus.PENDING if variant else EnrolmentStatus.HOLDOUT),
        enrolled_at=at,
        attributed_until=at + 7 * DAY,
        cost_fen=5 if sent else 0,
        sent_at=at if sent else None,
        first_clicked_at=at if clicked else None,
    )


def order(shop, customer, product, *, paid_at, amount, refunded=0):
    made = paid_order(shop, customer.shopper, [product], paid_at=paid_at)
    type(made).objects.filter(pk=made.pk).update(paid_amount=amount, refunded_amount=refunded)


@pytest.fixture
def known(owner, shop):
    """Holdout: 4 enrolled, one bought ¥20. Variant A: 6 enrolled (5 delivered, 2 clicked), three
    bought ¥30, ¥10 and ¥20 less ¥5 refunded. Orders outside a window do not count."""
    j = journey(owner, shop, "welcome")
    a = j.variants.get()
    tea = make_product(shop, name="茶")
    at = timezone.now() - 10 * DAY
    held = [person(shop) for _ in range(4)]
    treated = [person(shop) for _ in range(6)]
    for c in held:
        enrol(j, c, at=at)
    for i, c in enumerate(treated):
        enrol(j, c, variant=a, at=at, sent=i < 5, clicked=i < 2)
    order(shop, held[0], tea, paid_at=at + DAY, amount=2000)
    order(shop, treated[0], tea, paid_at=at + DAY, amount=3000)
    order(shop, treated[1], tea, paid_at=at + 2 * DAY, amount=1000)
    order(shop, treated[2], tea, paid_at=at + 6 * DAY, amount=2000, refunded=500)
    order(shop, treated[3], tea, paid_at=at - DAY, amount=9900)  # before enrolment
    order(shop, held[1], tea, paid_at=at + 8 * DAY, amount=9900)  # after the window
    return j


def test_groups_uplift_and_roi_by_hand(known, django_assert_num_queries):
    with django_assert_num_queries(3):  # groups, variants, margin (no coupon)
        result = journey_results(journey=known)
    holdout, a = result.groups
    assert (holdout.key, a.key) == ("holdout", "A")
    assert (holdout.recipients, holdout.delivered, holdout.clicked, holdout.ordered, holdout.revenue) == (
        4,
        0,
        0,
        1,
        2000,
    )
    assert (a.recipients, a.delivered, a.clicked, a.ordered, a.revenue) == (6, 5, 2, 3, 5500)
    assert a.conversion == 0.5 and holdout.conversion == 0.25
    # conversion: d = 0.5 − 0.25; se = √(0.5·0.5/6 + 0.25·0.75/4) = √0.0885417 = 0.297559
    se = math.sqrt(0.25 / 6 + 0.1875 / 4)
    assert a.conversion_uplift.diff == pytest.approx(0.25)
    assert a.conversion_uplift.low == pytest.approx(0.25 - 1.959964 * se, abs=1e-6)
    assert a.conversion_uplift.high == pytest.approx(0.25 + 1.959964 * se, abs=1e-6)
    assert not a.conversion_uplift.significant
    # revenue per enrolment: A mean 5500/6, s² = (12 250 000 − 5500²/6)/5; holdout mean 500, s² = 1 000 000
    v1, v0 = (12_250_000 - 5500**2 / 6) / 5, 1_000_000.0
    se_r = math.sqrt(v1 / 6 + v0 / 4)
    df = (v1 / 6 + v0 / 4) ** 2 / ((v1 / 6) ** 2 / 5 + (v0 / 4) ** 2 / 3)
    half = stats.t.ppf(0.975, df) * se_r
    assert a.revenue_uplift.diff == pytest.approx(5500 / 6 - 500)
    assert (a.revenue_uplift.low, a.revenue_uplift.high) == (
        pytest.approx(5500 / 6 - 500 - half),
        pytest.approx(5500 / 6 - 500 + half),
    )
    # ROI: incremental profit = (916.67 − 500) × 6 × 30% = 750; cost 5 × 5 sent = 25
    assert result.message_cost == 25 and result.margin_bp == 3000 and not result.margin_from_costs
    assert result.incremental_profit == pytest.approx(750)
    assert result.roi == pytest.approx((750 - 25) / 25)
    assert result.treatment.recipients == 6 and result.treatment.revenue == 5500


def test_results_before_anyone_is_enrolled(owner, shop, django_assert_num_queries):
    j = journey(owner, shop, "birthday")
    with django_assert_num_queries(2):
        result = journey_results(journey=j)
    assert [g.recipients for g in result.groups] == [0, 0] and result.roi is None


def test_margin_from_cost_prices_of_the_attributed_lines_only(known):
    from siyu.catalog.models import Sku
    from siyu.orders.models import OrderLine

    Sku.objects.filter(shop=known.shop).update(cost_price=400)
    held = JourneyEnrolment.objects.filter(journey=known, status=EnrolmentStatus.HOLDOUT)
    outside = OrderLine.objects.filter(shop=known.shop).filter(
        Q(order__paid_amount=9900) | Q(order__shopper__in=held.values("customer__shopper"))
    )
    assert outside.update(line_total=400) == 3  # sold at cost: 0% if they were counted
    result = journey_results(journey=known)
    # three attributed treated orders, one line of ¥10 each at cost ¥4: 60%; the order before
    # enrolment, the one after the window and the holdout's are left out
    assert (result.margin_bp, result.margin_from_costs) == (6000, True)
    assert result.incremental_profit == pytest.approx((5500 / 6 - 500) * 6 * 0.6)
