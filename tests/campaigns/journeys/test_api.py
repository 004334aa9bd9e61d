"""Console API: create, change, switch on and off, results; bad input, roles, tenancy, query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.roles import OWNER, SERVICE
from siyu.accounts.services import token_issue
from siyu.campaigns.journeys.engine import journey_run
from siyu.campaigns.journeys.models import Journey, JourneyEnrolment
from siyu.customers.models import Lifecycle

from ...factories import make_staff
from .conftest import journey, person

pytestmark = pytest.mark.django_db
API = "/api/v1/console/journeys"


def bearer(client, shop, staff):
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer " + token_issue(shop=shop, staff=staff, name="t")[1]
    return client


@pytest.fixture
def owner_api(client, shop, owner):
    return bearer(client, shop, owner)


def body(**extra):
    return {
        "name": "购物车提醒",
        "kind": "abandoned_cart",
        "channel": "log",
        "delay_hours": 4,
        "holdout_bp": 2000,
        "variants": [{"text": "{name}，{product} 还在购物车里 {link}"}, {"text": "{shop} 为您留着 {product}"}],
        **extra,
    }


def test_create_change_activate_pause_and_results(owner_api, shop, log_on):
    created = owner_api.post(API, body(), content_type="application/json")
    assert created.status_code == 201, created.content
    out = created.json()
    assert (out["kind"], out["active"], out["holdout_bp"], out["enrolled"]) == ("abandoned_cart", False, 2000, 0)
    assert [v["letter"] for v in out["variants"]] == ["A", "B"]
    url = f"{API}/{out['id']}"
    change = {k: v for k, v in body(name="购物车提醒 2", holdout_bp=1000).items() if k != "kind"}
    changed = owner_api.put(url, change, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["name"] == "购物车提醒 2"
    on = owner_api.post(f"{url}/activate")
    assert on.status_code == 200 and on.json()["active"] and on.json()["active_since"]
    results = owner_api.get(f"{url}/results").json()
    assert [g["group"] for g in results["groups"]] == ["holdout", "A", "B", "treatment"]
    assert results["roi"] is None and "ROI" in results["formula"]
    off = owner_api.post(f"{url}/pause")
    assert off.status_code == 200 and not off.json()["active"]


def test_bad_input_answers_4xx_with_a_code(owner_api, shop, owner):
    assert owner_api.post(API, body(kind="anniversary"), content_type="application/json").status_code == 400
    bad = owner_api.post(API, body(variants=[{"text": "{coupon}"}]), content_type="application/json")
    assert bad.status_code == 400 and {"code", "message", "detail"} <= set(bad.json())
    assert owner_api.post(API, body(coupon="nosuch"), content_type="application/json").status_code == 404
    assert owner_api.post(API, body(target="coupon"), content_type="application/json").status_code == 409
    assert owner_api.post(API, "not json", content_type="text/plain").status_code == 415
    assert owner_api.get(f"{API}/nosuch").status_code == 404
    j = journey(owner, shop, "winback", variants=[{"text": "A"}, {"text": "B"}])
    person(shop, lifecycle=Lifecycle.AT_RISK, order_count=1, last_order_at=timezone.now() - timedelta(days=90))
    from siyu.campaigns.journeys.enrol import journey_enrol_due

    j.holdout_bp = 0
    journey_enrol_due(journey=j)
    one = {k: v for k, v in body(variants=[{"text": "A"}]).items() if k != "kind"}
    dealt = j.enrolments.get().variant.letter
    answer = owner_api.put(f"{API}/{j.public_id}", one, content_type="application/json")
    assert answer.status_code == (409 if dealt == "B" else 200)
    assert Journey.objects.get(pk=j.pk).variants.count() == (2 if dealt == "B" else 1)


def test_roles_and_tenancy(client, shop, other_shop, owner):
    mine = journey(owner, shop, "winback")
    theirs = journey(make_staff(other_shop, role=OWNER, username="them"), other_shop, "winback")
    client.force_login(make_staff(shop, role=SERVICE, username="svc").user)  # sees, cannot change
    assert client.get(API).status_code == 200
    assert client.get(f"{API}/{mine.public_id}").status_code == 200
    assert client.post(API, body(), content_type="application/json").status_code == 403
    assert client.post(f"{API}/{mine.public_id}/pause").status_code == 403
    assert client.get(f"{API}/{theirs.public_id}").status_code == 404
    client.force_login(owner.user)
    assert client.post(f"{API}/{theirs.public_id}/pause").status_code == 404
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.active and theirs.active


@pytest.mark.parametrize("n", [2, 12])
def test_list_and_results_query_counts(owner_api, shop, owner, log_on, n, django_assert_num_queries):
    for _ in range(n):
        person(shop, lifecycle=Lifecycle.AT_RISK, order_count=1, last_order_at=timezone.now() - timedelta(days=90))
    j = journey(owner, shop, "winback", holdout_bp=3000)
    journey_run(journey_id=j.pk)
    # the token and its staff member; seeded already?; count; the page with figures; variants
    with django_assert_num_queries(6):
        listed = owner_api.get(API)
    assert listed.status_code == 200 and listed.json()["items"][0]["enrolled"] == n
    # the token and its staff member; the journey with figures; variants; groups; and the margin, read
    # only when someone got the treatment (with n=2, both customers land in the 30 % holdout 9 % of the time)
    treated = JourneyEnrolment.objects.filter(journey=j, variant__isnull=False).exists()
    with django_assert_num_queries(5 + treated):
        assert owner_api.get(f"{API}/{j.public_id}/results").status_code == 200
