"""Trial API: console setup, status, select and draw, reports; storefront apply, my trials, report;
list endpoints' query counts at two sizes."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.services import token_issue
from siyu.community.trials.selection import applications_select
from siyu.community.trials.services import trial_move

from .conftest import apply_many
from .test_services import receive

pytestmark = pytest.mark.django_db
SF, CON = "/api/v1/storefront", "/api/v1/console"


@pytest.fixture
def shopper_auth(shop, shopper):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, shopper=shopper, name='t')[1]}"}


@pytest.fixture
def staff_auth(shop, owner):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, staff=owner, name='t')[1]}"}


def _post(client, url, body, auth):
    return client.post(url, json.dumps(body), content_type="application/json", **auth)


def test_console_creates_opens_and_draws(client, staff_auth, product):
    now = timezone.now()
    body = {
        "title": "试用 A",
        "sku": product.skus.get().pk,
        "quantity": 2,
        "apply_starts_at": (now - timedelta(hours=1)).isoformat(),
        "apply_ends_at": (now + timedelta(days=2)).isoformat(),
        "report_due_on": (now + timedelta(days=20)).date().isoformat(),
        "questions": [{"text": "味道", "kind": "rating"}],
    }
    made = _post(client, f"{CON}/trials", body, staff_auth)
    assert made.status_code == 201, made.content
    trial_id = made.json()["id"]
    assert made.json()["questions"] == [{"id": "q1", "text": "味道", "kind": "rating"}]
    bad = _post(client, f"{CON}/trials/{trial_id}/status", {"to": "running"}, staff_auth)
    assert bad.status_code == 409 and bad.json()["code"] == "bad_transition"
    opened = _post(client, f"{CON}/trials/{trial_id}/status", {"to": "open"}, staff_auth)
    assert opened.json()["status"] == "open" and opened.json()["accepting"] is True
    from siyu.community.trials.models import Trial

    apply_many(Trial.objects.get(public_id=trial_id), 3)
    _post(client, f"{CON}/trials/{trial_id}/status", {"to": "selecting"}, staff_auth)
    drawn = _post(client, f"{CON}/trials/{trial_id}/draw", {"count": 5}, staff_auth)
    assert drawn.status_code == 201 and len(drawn.json()["winners"]) == 2
    draws = client.get(f"{CON}/trials/{trial_id}/draws", **staff_auth).json()
    assert draws[0]["seed"] == drawn.json()["seed"]
    apps = client.get(f"{CON}/trials/{trial_id}/applications?status=selected", **staff_auth).json()
    assert apps["count"] == 2 and all(a["order_id"] for a in apps["items"])


def test_console_input_errors_are_400_not_500(client, staff_auth, product):
    bad = _post(client, f"{CON}/trials", {"title": "x", "sku": 1, "quantity": 0}, staff_auth)
    assert bad.status_code == 400 and bad.json()["code"]
    missing = _post(client, f"{CON}/trials/nope/select", {"applications": ["zzz"]}, staff_auth)
    assert missing.status_code == 404


def test_shopper_applies_once_and_reports(client, shopper_auth, staff_auth, owner, trial, shopper, address):
    resp = _post(client, f"{SF}/trials/{trial.public_id}/apply", {"address_id": address.public_id}, shopper_auth)
    assert resp.status_code == 201, resp.content
    app_id = resp.json()["application_id"]
    again = _post(client, f"{SF}/trials/{trial.public_id}/apply", {"address_id": address.public_id}, shopper_auth)
    assert again.status_code == 409 and again.json()["code"] == "trial_applied"
    trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="selecting")
    [order] = applications_select(actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[app_id])
    mine = client.get(f"{SF}/my/trials", **shopper_auth).json()
    assert mine[0]["status"] == "selected" and mine[0]["order_id"] == order.public_id
    receive(order, owner)
    answers = json.dumps({"q1": {"rating": 4, "text": "好"}, "q2": {"rating": 3}})
    report = client.post(
        f"{SF}/my/trials/{app_id}/report", {"rating": 4, "text": "不错", "answers": answers}, **shopper_auth
    )
    assert report.status_code == 201, report.content
    assert report.json()["late"] is False
    broken = client.post(f"{SF}/my/trials/{app_id}/report", {"rating": 4, "text": "x", "answers": "{"}, **shopper_auth)
    assert broken.status_code == 400
    published = client.post(f"{CON}/trial-reports/{report.json()['id']}/publish", **staff_auth)
    assert published.status_code == 200 and published.json()["review_id"]


def test_public_trial_and_sign_in(client, trial, address):
    assert client.get(f"{SF}/trials/{trial.public_id}").json()["title"] == trial.title
    anonymous = _post(client, f"{SF}/trials/{trial.public_id}/apply", {"address_id": address.public_id}, {})
    assert anonymous.status_code == 401


def test_other_shop_staff_see_nothing(client, trial, other_shop):
    from tests.factories import make_staff

    other = make_staff(other_shop, username="other-owner")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=other_shop, staff=other, name='t')[1]}"}
    assert client.get(f"{CON}/trials/{trial.public_id}", **auth).status_code == 403  # wrong shop
    theirs = client.get(f"/s/other/api/v1/console/trials/{trial.public_id}", **auth)
    assert theirs.status_code == 404
    assert client.get("/s/other/api/v1/console/trials", **auth).json()["count"] == 0


@pytest.mark.parametrize("size", [2, 6])
def test_list_query_counts(client, staff_auth, owner, trial, size, django_assert_num_queries):
    apps = apply_many(trial, size)
    trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="selecting")
    applications_select(
        actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[a.public_id for a in apps[:1]]
    )
    with django_assert_num_queries(5):
        assert client.get(f"{CON}/trials/{trial.public_id}/applications", **staff_auth).json()["count"] == size
    with django_assert_num_queries(4):
        assert client.get(f"{CON}/trials", **staff_auth).json()["count"] == 1
    with django_assert_num_queries(4):
        assert client.get(f"{CON}/trial-reports", **staff_auth).json()["count"] == 0


@pytest.mark.parametrize("size", [1, 3])
def test_my_trials_query_count(client, shop, owner, product, shopper, address, size, django_assert_num_queries):
    from siyu.community.trials.applications import trial_apply

    from .conftest import open_trial

    for _ in range(size):
        t = open_trial(owner, product)
        trial_apply(shop=shop, shopper=shopper, public_id=t.public_id, address_id=address.public_id)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, shopper=shopper, name='t')[1]}"}
    with django_assert_num_queries(3):
        assert len(client.get(f"{SF}/my/trials", **auth).json()) == size
