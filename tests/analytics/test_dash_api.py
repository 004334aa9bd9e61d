"""The dashboards over the API: the same numbers as the pages, fixed query counts, tenancy."""

from datetime import date, timedelta

import pytest

from siyu.accounts.services import token_issue

from ..factories import make_shopper, make_staff
from .dash_data import build, make_paid_order

API = "/api/v1/console/analytics"
Q1 = "start=2024-01-01&end=2024-03-31"
SHOP, TOKEN = 1, 1


@pytest.fixture
def world(shop):
    return build(shop)


@pytest.fixture
def api(client, shop, owner):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_issue(shop=shop, staff=owner, name='t')[1]}"
    return client


def test_trends(api, world):
    body = api.get(f"{API}/trends?start=2024-02-01&end=2024-02-29&grain=month").json()
    assert (body["totals"]["revenue"], body["previous_totals"]["revenue"]) == (5000, 3000)
    assert body["totals"]["aov"] == 1250 and body["changes"]["revenue"] == "66.7"
    assert body["previous_start"] == "2024-01-01"


def test_funnel(api, world):
    body = api.get(f"{API}/funnel?{Q1}&grain=month").json()
    t = body["totals"]
    assert (t["visitors"], t["first_order"], t["second_order"], t["referrer"]) == (6, 4, 3, 1)
    assert body["median_days_to_second"] == "31" and body["gaps"] == {"15": 1, "31": 1, "36": 1}
    assert [r["source"] for r in body["by_source"]] == ["organic", "referral", "promoter", "group", "campaign"]
    assert api.get(f"{API}/funnel?{Q1}&source=promoter").json()["totals"]["visitors"] == 1


def test_profit(api, world):
    body = api.get(f"{API}/profit?base_start=2024-01-01&base_end=2024-01-31&start=2024-02-01&end=2024-02-29").json()
    assert body["revenue"]["effects"] == {"customers": 2714, "aov": -714, "frequency": 0}
    assert body["revenue"]["change"] == 2000 and sum(body["gross_profit"]["effects"].values()) == 1200
    assert body["current"]["gross_profit"] == 2500


def test_cohorts_and_repurchase(api, world):
    cohorts = api.get(f"{API}/cohorts?{Q1}&source=referral").json()["cohorts"]
    assert cohorts[0]["size"] == 1 and cohorts[0]["cells"][0]["cumulative_per_customer"] == 2000
    body = api.get(f"{API}/repurchase?{Q1}").json()
    assert (body["buyers"], body["repeat_buyers"]) == (4, 2)
    x = next(p for p in body["products"] if p["name"] == "X")
    assert (x["buyers"], x["repeat_buyers"], x["public_id"]) == (2, 1, world.x.public_id)


def test_any_dates_the_schema_allows_give_an_answer(api, world):
    for query in ("start=0001-01-01&end=9999-12-31", "start=2024-03-01&end=2024-01-01", "end=1999-01-01"):
        for name in ("trends", "funnel", "profit", "cohorts", "repurchase"):
            assert api.get(f"{API}/{name}?{query}").status_code == 200, (name, query)
    assert api.get(f"{API}/trends?grain=hour").status_code == 400
    assert api.get(f"{API}/funnel?source=tv").status_code == 400


def test_another_shop_sees_only_its_own(client, world, other_shop):
    rival = make_staff(other_shop, username="rival")
    key = token_issue(shop=other_shop, staff=rival, name="r")[1]
    body = client.get(f"/s/other{API}/funnel?{Q1}", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert body["totals"]["visitors"] == 0
    assert client.get(f"{API}/funnel?{Q1}", HTTP_AUTHORIZATION=f"Bearer {key}").status_code in (401, 403)


@pytest.mark.parametrize(
    "name, queries", [("trends", 2), ("funnel", 2), ("profit", 2), ("cohorts", 1), ("repurchase", 7)]
)
def test_query_counts(api, world, name, queries, django_assert_num_queries):
    for n in (0, 20):
        for i in range(n):
            buyer = make_shopper()
            make_paid_order(world.shop, buyer, date(2024, 1, 5) + timedelta(days=i), [(world.x, 1)])
            make_paid_order(world.shop, buyer, date(2024, 2, 5) + timedelta(days=i), [(world.y, 1)])
        with django_assert_num_queries(SHOP + TOKEN + queries):
            assert api.get(f"{API}/{name}?{Q1}").status_code == 200
