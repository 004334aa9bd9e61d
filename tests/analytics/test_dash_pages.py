"""The analytics pages and the dashboard: they render their charts and tables, export them, cost a
fixed number of queries whatever the data, and the suggested cycle applies through the catalogue."""

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from siyu.accounts.roles import FINANCE

from ..console.helpers import login_client
from ..factories import make_product, make_shopper, make_staff
from .dash_data import build, make_paid_order

PAGES = ["analytics_trends", "analytics_funnel", "analytics_profit", "analytics_cohorts", "analytics_repurchase"]
Q1 = "start=2024-01-01&end=2024-03-31"
# shop, user, staff, then each report's aggregate queries
BASE = 3
QUERIES = {
    "analytics_trends": BASE + 2,
    "analytics_funnel": BASE + 2,
    "analytics_profit": BASE + 2,
    "analytics_cohorts": BASE + 1,
    "analytics_repurchase": BASE + 7,
}


@pytest.fixture
def world(shop):
    return build(shop)


@pytest.fixture
def en_client(staff_client):
    staff_client.cookies["django_language"] = "en"
    return staff_client


@pytest.mark.parametrize("name", PAGES)
def test_each_page_draws_its_charts_and_tables(staff_client, world, name):
    response = staff_client.get(reverse(f"console:{name}") + "?" + Q1 + "&grain=month")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and 'role="img"' in body and "<table" in body
    assert "style=" not in body.split("<main", 1)[-1]  # the Content-Security-Policy allows no inline styles
    assert "<script" not in body.split("<svg", 1)[1]


def test_pages_show_the_numbers(en_client, world):
    body = en_client.get(
        reverse("console:analytics_trends") + "?start=2024-02-01&end=2024-02-29&grain=month"
    ).content.decode()
    assert "50.00" in body and "66.7" in body  # revenue ¥50.00, +66.7 %
    body = en_client.get(reverse("console:analytics_funnel") + "?" + Q1).content.decode()
    assert "Median days from the first to the second order: <strong>31</strong>" in body
    body = en_client.get(
        reverse("console:analytics_profit")
        + "?base_start=2024-01-01&base_end=2024-01-31&start=2024-02-01&end=2024-02-29"
    ).content.decode()
    assert "27.14" in body and "-7.14" in body and "LMDI" in body


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_every_table_exports(staff_client, world, kind):
    url = reverse("console:analytics_funnel") + f"?{Q1}&export={kind}&table=sources"
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"] and f".{kind}" in response["Content-Disposition"]
    if kind == "csv":
        text = response.content.decode("utf-8-sig")
        lines = text.splitlines()
        assert len(lines) == 6  # header + five sources
        assert lines[1].split(",")[1:5] == ["4", "2", "2", "1"]  # organic
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[1][1:5] == (4, 2, 2, 1)
    assert staff_client.get(reverse("console:analytics_funnel") + "?export=csv&table=nope").status_code == 404


def test_bad_filters_fall_back_to_defaults(staff_client, world):
    for query in (
        "start=yesterday",
        "grain=hour&source=nowhere",
        "start=0001-01-01&end=9999-12-31",
        "start=2024-03-01&end=2024-01-01",
    ):
        for name in PAGES:
            assert staff_client.get(reverse(f"console:{name}") + "?" + query).status_code == 200, (name, query)


def _grow(world, n: int) -> None:
    """n more buyers with two orders each, some referred, across the quarter."""
    for i in range(n):
        buyer = make_shopper()
        day = date(2024, 1, 1) + timedelta(days=i % 80)
        make_paid_order(
            world.shop, buyer, day, [(world.x, 1), (world.z, 1)], ref_code=world.a.share_code if i % 3 else ""
        )
        make_paid_order(world.shop, buyer, day + timedelta(days=9), [(world.y, 2)])


@pytest.mark.parametrize("name", PAGES)
def test_query_count_is_fixed(staff_client, world, name, django_assert_num_queries):
    url = reverse(f"console:{name}") + "?" + Q1 + "&grain=week"
    for extra in (0, 25):
        _grow(world, extra)
        with django_assert_num_queries(QUERIES[name]):
            assert staff_client.get(url).status_code == 200


def test_dashboard_charts_and_query_count(staff_client, shop, owner, django_assert_num_queries):
    # 11 queries for the tiles (tests/console/test_pages.py), 4 for the charts
    product = make_product(shop, name="今日")
    for n in (0, 12):
        for _ in range(n):
            make_paid_order(shop, make_shopper(), timezone.localdate() - timedelta(days=n % 7), [(product, 1)])
        with django_assert_num_queries(15):
            response = staff_client.get(reverse("console:home"))
        body = response.content.decode()
        assert body.count("<svg") >= 3 and reverse("console:analytics_funnel") in body


def test_apply_the_suggested_cycle(en_client, world):
    for day in (date(2024, 1, 1), date(2024, 1, 21), date(2024, 2, 10)):
        make_paid_order(world.shop, world.p, day, [(world.x, 1)])
    url = reverse("console:analytics_repurchase") + "?" + Q1
    body = en_client.get(url).content.decode()
    assert "Use 26 days" in body
    apply = reverse("console:analytics_cycle_apply", args=[world.x.public_id])
    response = en_client.post(apply, {"days": "26", "next": url})
    assert response.status_code == 302 and response.url == url
    world.x.refresh_from_db()
    assert world.x.consumption_cycle_days == 26
    assert "Use 26 days" not in en_client.get(url).content.decode()
    en_client.post(apply, {"days": "0"})
    world.x.refresh_from_db()
    assert world.x.consumption_cycle_days == 26  # refused by the catalogue service
    assert en_client.get(apply).status_code == 405


def test_roles_and_shops(shop, world, other_shop):
    finance = login_client(make_staff(shop, role=FINANCE, username="caiwu"))
    assert finance.get(reverse("console:analytics_trends")).status_code == 200
    response = finance.post(reverse("console:analytics_cycle_apply", args=[world.x.public_id]), {"days": "30"})
    assert response.status_code == 403  # finance may look, not change the catalogue
    rival = login_client(make_staff(other_shop, username="rival"))
    assert rival.get(reverse("console:analytics_trends")).status_code == 403
