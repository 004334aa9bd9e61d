"""CLV in the console (win-back page, CSV, customer block) and the API, with fixed query counts."""

import csv
import io
import json

import pytest

from siyu.accounts.services import token_issue
from siyu.analytics import clv
from siyu.analytics.models import ClvFit, CustomerValue
from tests.factories import make_staff

from .clv_helpers import synthetic_pool

pytestmark = pytest.mark.django_db
API = "/api/v1/console"


@pytest.fixture
def pool(shop):
    end = synthetic_pool(shop, customers=60)
    return clv.clv_fit_shop(shop=shop, calibration_end=end)


@pytest.fixture
def key(shop, owner):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, staff=owner, name='t')[1]}"}


def _shrink_winback(shop, keep: int) -> None:
    """Flag exactly `keep` customers for win-back, so the page can be counted at two sizes."""
    ids = list(CustomerValue.objects.filter(shop=shop).order_by("pk").values_list("pk", flat=True)[:keep])
    CustomerValue.objects.filter(shop=shop).update(win_back=False)
    CustomerValue.objects.filter(pk__in=ids).update(win_back=True)


@pytest.mark.parametrize("keep", [2, 20])
def test_winback_page_lists_candidates_with_fixed_queries(staff_client, shop, pool, keep, django_assert_num_queries):
    _shrink_winback(shop, keep)
    with django_assert_num_queries(5):  # session, user, staff, the fit, the candidates with customers
        response = staff_client.get("/console/analytics/win-back/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == keep and all(r.win_back for r in rows)
    for row in rows:
        assert row.customer.public_id in response.content.decode()


def test_winback_csv_has_every_candidate_in_order(staff_client, shop, pool):
    response = staff_client.get("/console/analytics/win-back/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["public_id", "name", "phone", "clv"]
    expected = list(
        CustomerValue.objects.filter(shop=shop, win_back=True)
        .order_by("-clv", "p_alive", "customer_id")
        .values_list("customer__public_id", flat=True)
    )
    assert [r[0] for r in rows[1:]] == expected and expected
    assert all("****" in r[2] for r in rows[1:])  # phones masked


def test_refit_button_fits_now(staff_client, shop, pool):
    response = staff_client.post("/console/analytics/clv/refit/")
    assert response.status_code == 302
    assert ClvFit.objects.filter(shop=shop).count() == 2  # the test worker runs tasks at once


def test_page_before_any_fit_says_so(staff_client, shop):
    response = staff_client.get("/console/analytics/win-back/")
    assert response.status_code == 200 and response.context["fit"] is None


def test_customer_page_shows_the_clv_block(staff_client, shop, pool):
    value = CustomerValue.objects.filter(shop=shop).order_by("-clv").first()
    response = staff_client.get(f"/console/customers/{value.customer.public_id}/")
    assert response.status_code == 200
    assert response.context["clv"] == value
    assert "clv-block" in response.content.decode()


def test_api_fit_customer_and_winback(client, shop, pool, key, django_assert_num_queries):
    fit = client.get(f"{API}/clv/fit", **key).json()
    assert fit["fitted"] and fit["status"] == "ok" and fit["customers"] == 60
    assert set(fit["parameters"]) >= {"r", "alpha", "a", "b", "p", "q", "gamma"}

    value = CustomerValue.objects.filter(shop=shop).first()
    one = client.get(f"{API}/clv/customers/{value.customer.public_id}", **key).json()
    assert one["clv"] == value.clv and one["p_alive"] == pytest.approx(value.p_alive)

    for limit in (1, 3):
        with django_assert_num_queries(3):  # token, staff, the candidates with their customers
            items = client.get(f"{API}/clv/win-back?limit={limit}", **key).json()["items"]
        assert len(items) == limit and all(i["win_back"] for i in items)


def test_api_refuses_bad_input_and_other_shops(client, shop, other_shop, pool, key):
    assert client.get(f"{API}/clv/win-back?limit=0", **key).status_code in (400, 422)
    assert client.get(f"{API}/clv/win-back?limit=abc", **key).status_code in (400, 422)
    missing = client.get(f"{API}/clv/customers/nobody", **key)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    other_key = token_issue(shop=other_shop, staff=make_staff(other_shop), name="o")[1]
    other = {"HTTP_AUTHORIZATION": f"Bearer {other_key}"}
    assert client.get(f"/s/{other_shop.slug}{API}/clv/fit", **other).json() == json.loads(
        json.dumps({"fitted": False, **_empty_fit()})
    )
    value = CustomerValue.objects.filter(shop=shop).first()
    assert client.get(f"/s/{other_shop.slug}{API}/clv/customers/{value.customer.public_id}", **other).status_code == 404
    assert client.get(f"/s/{other_shop.slug}{API}/clv/win-back", **other).json() == {"items": []}


def _empty_fit() -> dict:
    return {
        "fitted_at": None,
        "calibration_end": None,
        "status": "",
        "error_code": "",
        "error_message": "",
        "customers": 0,
        "repeaters": 0,
        "parameters": {},
    }
