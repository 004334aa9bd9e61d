"""Fission figures on generated data, checked against plain counts in Python."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from siyu.customers.stats import customer_for_shopper
from siyu.orders.models import Order, OrderStatus
from siyu.referrals.analytics import (
    fission_overview,
    referral_funnel,
    referral_k_factor,
    referral_new_customer_share,
    referral_top_referrers,
    referral_tree,
)
from siyu.referrals.models import ReferralBinding, ShareVisit

from ..customers.member_steps import bare_order
from ..factories import make_shopper

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def _at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=TZ)


def _bind(shop, referee, *, referrer=None, staff=None, at):
    code = referrer.share_code if referrer else staff.share_code
    binding = ReferralBinding.objects.create(
        shop=shop, referee=referee, referrer_shopper=referrer, referrer_staff=staff, code=code, expires_at=at
    )
    ReferralBinding.objects.filter(pk=binding.pk).update(bound_at=at, expires_at=at + timedelta(days=30))
    return binding


def _order(shop, shopper, *, paid_at, paid=1000, refunded=0):
    order = bare_order(shop, shopper, status=OrderStatus.COMPLETED, paid=paid)
    Order.objects.filter(pk=order.pk).update(created_at=paid_at, paid_at=paid_at, refunded_amount=refunded)
    return order


@pytest.fixture
def world(shop, other_shop, owner):
    """Three sharers (two shoppers, one staff), a two-level tree, visits, orders, and noise."""
    rng = random.Random(5)
    a, b = make_shopper(), make_shopper()
    referees, bindings, orders, visits = [], [], [], []
    for i in range(14):
        person = make_shopper()
        bound = _at(1 + i % 2, 1 + i)
        sharer = {"referrer": a} if i % 3 == 0 else {"referrer": b} if i % 3 == 1 else {"staff": owner}
        bindings.append(_bind(shop, person, at=bound, **sharer))
        referees.append(person)
        for k in range(i % 3):  # 0, 1 or 2 orders after the binding
            paid_at = bound + timedelta(days=3 + 10 * k)
            orders.append(_order(shop, person, paid_at=paid_at, paid=1000 + 100 * i, refunded=100 * (k == 1)))
    # grandchildren: people brought in by a's first referee
    child = referees[0]
    for i in range(3):
        person = make_shopper()
        bindings.append(_bind(shop, person, referrer=child, at=_at(2, 20 + i)))
        orders.append(_order(shop, person, paid_at=_at(2, 25 + i), paid=2000))
    # a referee who had bought before the binding: never counted as a referred first order
    early = make_shopper()
    _order(shop, early, paid_at=_at(1, 2))
    bindings.append(_bind(shop, early, referrer=a, at=_at(1, 5)))
    orders.append(_order(shop, early, paid_at=_at(1, 9)))
    # new customers who came by themselves, and another shop's data
    for i in range(5):
        _order(shop, make_shopper(), paid_at=_at(1 + i % 2, 10 + i))
    stranger = make_shopper()
    _bind(other_shop, stranger, referrer=a, at=_at(1, 10))
    _order(other_shop, stranger, paid_at=_at(1, 11))
    for i in range(40):
        code = rng.choice([a.share_code, b.share_code, owner.share_code, child.share_code])
        visit = ShareVisit.objects.create(shop=shop, code=code, visitor_key=f"v{rng.randint(1, 25)}")
        at = _at(1 + i % 2, 1 + rng.randint(0, 27), rng.randint(0, 23))
        ShareVisit.objects.filter(pk=visit.pk).update(at=at)
        visit.at = at
        visits.append(visit)
    ShareVisit.objects.create(shop=other_shop, code=a.share_code, visitor_key="elsewhere")
    return {"a": a, "b": b, "owner": owner, "child": child, "bindings": bindings, "orders": orders, "visits": visits}


def _firsts(shop):
    """shopper id → first paid_at in the shop, the plain way."""
    firsts = {}
    for order in Order.objects.filter(shop=shop, paid_at__isnull=False):
        if order.shopper_id not in firsts or order.paid_at < firsts[order.shopper_id]:
            firsts[order.shopper_id] = order.paid_at
    return firsts


def _referred_firsts(shop, start, end):
    firsts = _firsts(shop)
    out = []
    for b in ReferralBinding.objects.filter(shop=shop):
        first = firsts.get(b.referee_id)
        if first and first >= b.bound_at and start <= first < end:
            out.append(b)
    return out


def _referred_orders(shop, start, end):
    bound = {b.referee_id: b for b in ReferralBinding.objects.filter(shop=shop)}
    return [
        o
        for o in Order.objects.filter(shop=shop, paid_at__isnull=False)
        if o.shopper_id in bound and bound[o.shopper_id].bound_at <= o.created_at and start <= o.paid_at < end
    ]


@pytest.mark.parametrize("month", [1, 2])
def test_funnel_matches_plain_counts(shop, world, month, django_assert_num_queries):
    start, end = _at(month, 1, 0), _at(month + 1, 1, 0)
    with django_assert_num_queries(4):
        funnel = referral_funnel(shop=shop, start=start, end=end)
    visits = [v for v in world["visits"] if start <= v.at < end]
    orders = _referred_orders(shop, start, end)
    signups = [b for b in ReferralBinding.objects.filter(shop=shop) if start <= b.bound_at < end]
    linked = {v.shopper_id for v in ShareVisit.objects.filter(shop=shop, at__gte=start, at__lt=end)}
    assert funnel == {
        "invites": len({v.code for v in visits}),
        "visits": len(visits),
        # a sign-up whose visit is not among the period's (none is linked here) is a visitor too
        "visitors": len({v.visitor_key for v in visits}) + sum(1 for b in signups if b.referee_id not in linked),
        "signups": len(signups),
        "first_orders": len(_referred_firsts(shop, start, end)),
        "revenue": sum(o.paid_amount - o.refunded_amount for o in orders),
        "orders": len(orders),
    }
    assert funnel["first_orders"] > 0 and funnel["revenue"] > 0
    assert funnel["visitors"] >= funnel["signups"] >= funnel["first_orders"]


def test_k_factor_per_month_is_new_referred_customers_over_sharers(shop, world, django_assert_num_queries):
    with django_assert_num_queries(2):
        rows = referral_k_factor(shop=shop, start=_at(1, 1, 0), end=_at(3, 1, 0), period="month")
    assert [timezone.localtime(r["period"]).month for r in rows] == [1, 2]
    for row in rows:
        month = timezone.localtime(row["period"]).month
        start, end = _at(month, 1, 0), _at(month + 1, 1, 0)
        sharers = len({v.code for v in world["visits"] if start <= v.at < end})
        new = len(_referred_firsts(shop, start, end))
        assert (row["invites"], row["new_customers"]) == (sharers, new)
        assert row["k"] == (Decimal(new) / Decimal(sharers)).quantize(Decimal("0.01"))


def test_share_of_new_customers_who_came_by_referral(shop, world, django_assert_num_queries):
    start, end = _at(1, 1, 0), _at(3, 1, 0)
    with django_assert_num_queries(2):
        share = referral_new_customer_share(shop=shop, start=start, end=end)
    new = sum(1 for first in _firsts(shop).values() if start <= first < end)
    referred = len(_referred_firsts(shop, start, end))
    # rounded half up, not truncated (a truncated 2/3 would read 66.66%)
    rounded = int((Decimal(referred * 10_000) / new).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert share == {"new_customers": new, "referred": referred, "share_bp": rounded}
    assert 0 < referred < new


def test_top_referrers_rank_by_people_brought_then_revenue(shop, world, django_assert_num_queries):
    start, end = _at(1, 1, 0), _at(3, 1, 0)
    with django_assert_num_queries(4):
        top = referral_top_referrers(shop=shop, start=start, end=end)
    bindings = [b for b in ReferralBinding.objects.filter(shop=shop) if start <= b.bound_at < end]
    orders = _referred_orders(shop, start, end)
    by_referee = {b.referee_id: b for b in ReferralBinding.objects.filter(shop=shop)}
    for item in top:
        field = "referrer_shopper_id" if item.kind == "shopper" else "referrer_staff_id"
        mine = [b for b in bindings if getattr(b, field) == item.id]
        sold = [o for o in orders if getattr(by_referee[o.shopper_id], field) == item.id]
        assert item.referred == len(mine)
        assert item.revenue == sum(o.paid_amount - o.refunded_amount for o in sold)
        assert item.buyers == len({o.shopper_id for o in sold})
    assert [t.referred for t in top] == sorted((t.referred for t in top), reverse=True)
    assert {(t.kind, t.id) for t in top} >= {("shopper", world["a"].pk), ("staff", world["owner"].pk)}
    assert next(t for t in top if t.kind == "staff").name == world["owner"].display_name


def test_referral_tree_is_nested_depth_limited_and_constant_in_queries(shop, world, django_assert_num_queries):
    a, child = world["a"], world["child"]
    customer = customer_for_shopper(shop=shop, shopper=a)
    with django_assert_num_queries(3):
        tree = referral_tree(shop=shop, customer=customer, depth=3)
    direct = {b.referee_id for b in ReferralBinding.objects.filter(shop=shop, referrer_shopper=a)}
    assert {n["shopper_id"] for n in tree} == direct
    node = next(n for n in tree if n["shopper_id"] == child.pk)
    grandchildren = {b.referee_id for b in ReferralBinding.objects.filter(shop=shop, referrer_shopper=child)}
    assert {n["shopper_id"] for n in node["children"]} == grandchildren and len(grandchildren) == 3
    assert all(n["orders"] == 1 and n["revenue"] == 2000 and n["depth"] == 2 for n in node["children"])
    shallow = referral_tree(shop=shop, customer=customer, depth=1)
    assert all(n["children"] == [] for n in shallow) and len(shallow) == len(direct)
    staff_tree = referral_tree(shop=shop, staff=world["owner"])
    assert {n["shopper_id"] for n in staff_tree} == {
        b.referee_id for b in ReferralBinding.objects.filter(shop=shop, referrer_staff=world["owner"])
    }


def test_overview_bundles_the_figures(shop, world):
    overview = fission_overview(shop=shop, start=_at(1, 1, 0), end=_at(3, 1, 0))
    assert set(overview) == {"funnel", "k_factor", "new_customers", "top_referrers"}


def test_a_sign_up_whose_visit_came_before_the_period_still_counts_as_a_visitor(shop):
    """The funnel never shows more sign-ups than visitors: the link was opened last month, the
    sign-up is this month; a linked visit in the period is not counted twice."""
    sharer, late, prompt = make_shopper(), make_shopper(), make_shopper()
    old = ShareVisit.objects.create(shop=shop, code=sharer.share_code, visitor_key="early", shopper=late)
    ShareVisit.objects.filter(pk=old.pk).update(at=_at(1, 3))
    ShareVisit.objects.create(shop=shop, code=sharer.share_code, visitor_key="now", shopper=prompt)
    ShareVisit.objects.filter(visitor_key="now").update(at=_at(2, 4))
    _bind(shop, late, referrer=sharer, at=_at(2, 2))
    _bind(shop, prompt, referrer=sharer, at=_at(2, 5))
    funnel = referral_funnel(shop=shop, start=_at(2, 1, 0), end=_at(3, 1, 0))
    assert (funnel["visits"], funnel["visitors"], funnel["signups"]) == (1, 2, 2)
