"""Each dashboard figure checked against the hand-computed shop in dash_data.py."""

import math
from datetime import date
from decimal import Decimal

import pytest

from siyu.analytics.cohorts import cohorts_report
from siyu.analytics.dash_sql import DateRange, median_of_counts
from siyu.analytics.funnel import funnel_report
from siyu.analytics.profit import profit_report
from siyu.analytics.repurchase import repurchase_report, suggested_cycle
from siyu.analytics.trends import trends_report
from siyu.core.errors import PermissionDenied

from .dash_data import build, make_paid_order

JAN = DateRange(date(2024, 1, 1), date(2024, 1, 31))
FEB = DateRange(date(2024, 2, 1), date(2024, 2, 29))
Q1 = DateRange(date(2024, 1, 1), date(2024, 3, 31))


@pytest.fixture
def world(shop):
    return build(shop)


def test_trends_by_month_with_the_previous_month(world, owner):
    report = trends_report(actor=owner, shop=world.shop, span=FEB, grain="month")
    assert report.previous_span == JAN
    now, before = report.totals, report.previous_totals
    assert (now.orders, now.paid, now.refunds, now.revenue) == (4, 6000, 1000, 5000)
    assert (now.buyers, now.new_buyers, now.returning_buyers, now.aov) == (4, 2, 2, 1250)
    assert (before.orders, before.revenue, before.buyers, before.new_buyers, before.aov) == (2, 3000, 2, 2, 1500)
    assert report.changes["orders"] == Decimal("100.0")
    assert report.changes["revenue"] == Decimal("66.7")
    assert report.changes["aov"] == Decimal("-16.7")
    assert report.changes["refunds"] is None and report.changes["returning_buyers"] is None
    assert [p.period for p in report.points] == [date(2024, 2, 1)]
    assert report.points[0].revenue == 5000 and report.previous_points[0].revenue == 3000


def test_trends_by_day_fill_empty_days(world, owner):
    report = trends_report(actor=owner, shop=world.shop, span=DateRange(date(2024, 2, 1), date(2024, 2, 10)))
    assert len(report.points) == 10 and report.previous_span == DateRange(date(2024, 1, 22), date(2024, 1, 31))
    by_day = {p.period: p for p in report.points}
    assert by_day[date(2024, 2, 5)].revenue == 3000 and by_day[date(2024, 2, 5)].new_buyers == 1
    assert by_day[date(2024, 2, 10)].returning_buyers == 1 and by_day[date(2024, 2, 6)].orders == 0
    assert report.previous_totals.orders == 0  # nothing paid 22–31 January


def test_trends_by_week_align_to_whole_weeks(world, owner):
    report = trends_report(
        actor=owner, shop=world.shop, span=DateRange(date(2024, 2, 7), date(2024, 2, 14)), grain="week"
    )
    assert report.span == DateRange(date(2024, 2, 5), date(2024, 2, 18))  # Monday to Sunday
    assert [p.period for p in report.points] == [date(2024, 2, 5), date(2024, 2, 12)]
    assert [p.orders for p in report.points] == [2, 1]  # C and A; D


def test_funnel_counts_rates_and_median(world, owner):
    report = funnel_report(actor=owner, shop=world.shop, span=Q1, grain="month")
    t = report.totals
    assert (t.visitors, t.first_order, t.second_order, t.referrer) == (6, 4, 3, 1)
    assert (t.first_rate, t.second_rate, t.referrer_rate) == (Decimal("66.7"), Decimal("75.0"), Decimal("25.0"))
    assert report.gaps == {15: 1, 31: 1, 36: 1}
    assert report.median_days_to_second == 31
    by = report.by_source
    assert (by["organic"].visitors, by["organic"].first_order, by["organic"].second_order) == (4, 2, 2)
    assert (by["referral"].visitors, by["referral"].first_order, by["referral"].second_order) == (1, 1, 1)
    assert (by["promoter"].visitors, by["promoter"].first_order, by["promoter"].second_order) == (1, 1, 0)
    assert by["group"].visitors == 0 and by["campaign"].visitors == 0
    months = [(r.period, r.visitors, r.first_order, r.second_order, r.referrer) for r in report.periods]
    assert months == [
        (date(2024, 1, 1), 2, 2, 2, 1),
        (date(2024, 2, 1), 3, 2, 1, 0),
        (date(2024, 3, 1), 1, 0, 0, 0),
    ]


def test_funnel_of_one_source(world, owner):
    report = funnel_report(actor=owner, shop=world.shop, span=Q1, grain="month", source="organic")
    t = report.totals
    assert (t.visitors, t.first_order, t.second_order, t.referrer) == (4, 2, 2, 1)
    assert report.median_days_to_second == 23  # (15 + 31) / 2
    assert sum(r.visitors for r in report.periods) == 4


def test_funnel_counts_only_people_first_seen_in_the_range(world, owner):
    report = funnel_report(actor=owner, shop=world.shop, span=FEB, grain="week")
    assert (report.totals.visitors, report.totals.first_order, report.totals.second_order) == (3, 2, 1)


def test_profit_identity_and_lmdi_adds_up(world, owner):
    report = profit_report(actor=owner, shop=world.shop, base=JAN, current=FEB)
    b, c = report.base, report.current
    assert (b.customers, b.orders, b.revenue, b.cost, b.gross_profit) == (2, 2, 3000, 1700, 1300)
    assert (c.customers, c.orders, c.revenue, c.cost, c.gross_profit) == (4, 4, 5000, 2500, 2500)
    for period in (b, c):  # the identity itself
        assert period.customers * period.aov * period.frequency == period.revenue
    effects = report.revenue.effects
    assert sum(effects.values()) == report.revenue.change == 2000
    weight = 2000 / math.log(5000 / 3000)
    assert effects["customers"] == round(weight * math.log(2)) == 2714
    assert effects["aov"] == round(weight * math.log(1250 / 1500)) == -714
    assert effects["frequency"] == 0
    profit = report.gross_profit.effects
    assert sum(profit.values()) == report.gross_profit.change == 1200
    weight = 1200 / math.log(2500 / 1300)
    margin = math.log((2500 / 5000) / (1300 / 3000))
    assert abs(profit["margin"] - weight * margin) <= 1 and abs(profit["customers"] - weight * math.log(2)) <= 1


def test_profit_unknown_cost_is_not_zero(world, owner):
    world.y.skus.update(cost_price=None)
    report = profit_report(actor=owner, shop=world.shop, base=JAN, current=FEB)
    assert report.base.gross_profit is None and report.base.lines_without_cost == 1
    assert report.gross_profit.effects is None and report.revenue.effects is not None


def test_profit_without_sales_is_not_split(world, owner):
    empty = DateRange(date(2023, 1, 1), date(2023, 1, 31))
    report = profit_report(actor=owner, shop=world.shop, base=empty, current=FEB)
    assert report.revenue.before == 0 and report.revenue.effects is None and report.revenue.change == 5000


def test_cohort_cells(world, owner):
    report = cohorts_report(actor=owner, shop=world.shop, span=Q1)
    jan, feb, mar = report.cohorts
    assert (jan.month, jan.size, feb.size, mar.size) == (date(2024, 1, 1), 2, 2, 0)
    assert [(c.active, c.revenue, c.retention, c.cumulative_per_customer) for c in jan.cells[:3]] == [
        (2, 3000, Decimal("100.0"), 1500),
        (2, 1000, Decimal("100.0"), 2000),
        (1, 1000, Decimal("50.0"), 2500),
    ]
    assert [(c.active, c.retention, c.cumulative_per_customer) for c in feb.cells[:3]] == [
        (2, Decimal("100.0"), 2000),
        (1, Decimal("50.0"), 2500),
        (0, Decimal("0.0"), 2500),
    ]
    assert mar.cells[0].retention is None


def test_cohorts_by_source(world, owner):
    report = cohorts_report(actor=owner, shop=world.shop, span=Q1, source="referral")
    jan = report.cohorts[0]
    assert jan.size == 1
    assert [(c.active, c.retention, c.cumulative_per_customer) for c in jan.cells[:3]] == [
        (1, Decimal("100.0"), 2000),
        (1, Decimal("100.0"), 2000),  # B's February order was refunded in full
        (0, Decimal("0.0"), 2000),
    ]
    assert report.cohorts[1].size == 0


def test_repurchase_rates_and_gaps(world, owner):
    report = repurchase_report(actor=owner, shop=world.shop, span=Q1)
    products = {r.name: (r.buyers, r.repeat_buyers, r.rate) for r in report.products}
    assert products == {"X": (2, 1, Decimal("50.0")), "Y": (2, 0, Decimal("0.0")), "Z": (1, 1, Decimal("100.0"))}
    categories = {r.name: (r.buyers, r.repeat_buyers) for r in report.categories}
    assert categories == {"茶": (3, 1), "": (1, 1)}
    assert (report.buyers, report.repeat_buyers, report.rate) == (4, 2, Decimal("50.0"))
    assert {(b.low, b.count) for b in report.histogram if b.count} == {(15, 1), (31, 3)}
    assert report.median_days_between_orders == 31
    x = next(r for r in report.products if r.name == "X")
    assert (x.gaps, x.median_days, x.suggested_cycle) == (2, 31, None)  # fewer than three gaps


def test_repurchase_gaps_reach_back_before_the_range(world, owner):
    # February–March: A's February and B's February orders follow January ones outside the range.
    report = repurchase_report(actor=owner, shop=world.shop, span=DateRange(date(2024, 2, 1), date(2024, 3, 31)))
    assert {(b.low, b.count) for b in report.histogram if b.count} == {(15, 1), (31, 3)}  # 15; 31, 31, 36
    assert report.median_days_between_orders == 31
    gaps = {r.name: (r.buyers, r.repeat_buyers, r.gaps, r.median_days) for r in report.products}
    # B's refunded X is no purchase; A's X on Feb 10 follows the one on Jan 10
    assert gaps == {"X": (2, 1, 2, 31), "Y": (1, 0, 0, None), "Z": (1, 1, 1, 15)}


def test_repurchase_suggests_a_cycle(world, owner):
    g = world.p  # the promoter buys X every 20 days as well
    for day in (date(2024, 1, 1), date(2024, 1, 21), date(2024, 2, 10)):
        make_paid_order(world.shop, g, day, [(world.x, 1)])
    report = repurchase_report(actor=owner, shop=world.shop, span=Q1)
    x = next(r for r in report.products if r.name == "X")
    assert x.gaps == 4 and x.median_days == Decimal("25.5") and x.suggested_cycle == 26  # 20, 20, 31, 31


def test_median_and_cycle_helpers():
    assert median_of_counts({}) is None
    assert median_of_counts({3: 1}) == 3
    assert median_of_counts({1: 2, 9: 2}) == 5
    assert median_of_counts({1: 1, 2: 1, 100: 1}) == 2
    assert suggested_cycle(Decimal("0.4"), 5) == 1 and suggested_cycle(Decimal(9999), 5) == 3650


def test_every_report_needs_the_permission(world, shop, other_shop):
    from ..factories import make_staff

    stranger = make_staff(other_shop)
    with pytest.raises(PermissionDenied):
        trends_report(actor=stranger, shop=shop, span=FEB)
    with pytest.raises(PermissionDenied):
        funnel_report(actor=None, shop=shop, span=FEB)


def test_other_shops_rows_never_count(world, owner, other_shop):
    from ..factories import make_product

    thing = make_product(other_shop, name="别家")
    make_paid_order(other_shop, world.a, date(2024, 2, 11), [(thing, 3)])
    report = trends_report(actor=owner, shop=world.shop, span=FEB, grain="month")
    assert report.totals.orders == 4
    assert funnel_report(actor=owner, shop=world.shop, span=Q1).totals.second_order == 3
