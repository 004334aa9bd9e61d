"""A group's figures against a hand computation: members, new members, orders, revenue after
refunds, repeat rate, best products, and the leaderboard's order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.community.groups import selectors
from siyu.community.groups.models import GroupMember
from siyu.community.groups.services import group_join
from tests.distribution.promoter_steps import World, refund_line
from tests.factories import make_product, make_shopper

from .conftest import buy, new_group

pytestmark = pytest.mark.django_db


def test_figures_match_a_hand_computation(shop, owner, group, tea, django_capture_on_commit_callbacks):
    cup = make_product(shop, name="杯子", price=5000, stock=100)
    a, b, c, d = (make_shopper() for _ in range(4))
    with django_capture_on_commit_callbacks(execute=True):
        for shopper in (a, b, c, d):
            group_join(shop=shop, shopper=shopper, code=group.code)
        buy(shop, a, tea)  # 100.00
        buy(shop, a, cup)  # 50.00
        two = buy(shop, b, tea, quantity=2)  # 200.00, then 100.00 refunded
        buy(shop, c, tea, paid=False)  # never paid: not counted
        gone = buy(shop, d, tea)  # wholly refunded: not counted
    w = World(shop=shop, owner=owner, promoter=None, buyer=None, address=None, tea=tea)
    with django_capture_on_commit_callbacks(execute=True):
        refund_line(w, two, 1)
        refund_line(w, gone, 1)
    # one more member who joined 10 days ago: a member, but not new this week
    old = group_join(shop=shop, shopper=make_shopper(), code=group.code).member
    GroupMember.objects.filter(pk=old.pk).update(joined_at=timezone.now() - timedelta(days=10))

    f = selectors.group_figures(group_ids=[group.pk])[group.pk]
    # orders: a×2 + b×1; revenue: 100 + 50 + (200 - 100); buyers a, b; a bought twice
    assert (f.members, f.new_members) == (5, 4)
    assert (f.orders, f.revenue, f.buyers, f.repeat_buyers, f.repeat_rate_bp) == (3, 25000, 2, 1, 5000)

    detail = selectors.group_detail(actor=owner, shop=shop, group=group)
    assert detail.figures == f
    assert len(detail.weekly) == selectors.WEEKS and detail.weekly[-1][1] == 4
    assert sum(n for _week, n in detail.weekly) == 5
    assert [(p["name"], p["quantity"], p["revenue"]) for p in detail.products] == [
        ("龙井", 2, 20000),
        ("杯子", 1, 5000),
    ]
    assert detail.signups == 5  # all five joiners had not bought here before joining
    assert detail.visits == 0  # joins are not visits; visits come through links (test_attribution)


def test_leaderboard_ranks_by_the_chosen_figure(shop, owner, tea, django_capture_on_commit_callbacks):
    big, busy = new_group(shop, owner, name="大单群"), new_group(shop, owner, name="人多群")
    with django_capture_on_commit_callbacks(execute=True):
        rich = make_shopper()
        group_join(shop=shop, shopper=rich, code=big.code)
        buy(shop, rich, tea, quantity=3)
        for _ in range(3):
            group_join(shop=shop, shopper=make_shopper(), code=busy.code)
    by_revenue = selectors.group_leaderboard(actor=owner, shop=shop)
    assert [r.group for r in by_revenue] == [big, busy]
    assert by_revenue[0].figures.revenue == 30000
    by_members = selectors.group_leaderboard(actor=owner, shop=shop, sort="members")
    assert [(r.group, r.figures.members) for r in by_members] == [(busy, 3), (big, 1)]


def test_empty_group_has_zero_figures(owner, shop, group):
    f = selectors.group_figures(group_ids=[group.pk])[group.pk]
    assert (f.members, f.orders, f.revenue, f.repeat_rate_bp) == (0, 0, 0, 0)
