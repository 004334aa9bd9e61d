"""Console pages and API operations: create, start, progress, results, cancel; roles, tenancy,
query counts at two sizes."""

import pytest
from django.urls import reverse

from siyu.accounts.roles import FINANCE
from siyu.accounts.services import token_issue
from siyu.campaigns.outreach.models import Campaign

from ...factories import make_staff
from .conftest import draft

pytestmark = pytest.mark.django_db
API = "/api/v1/console/campaigns"


@pytest.fixture
def owner_api(client, shop, owner):
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer " + token_issue(shop=shop, staff=owner, name="t")[1]
    return client


def _body(audience, **extra):
    return {
        "name": "618 召回",
        "segment": audience.pk,
        "channel": "log",
        "variants": [{"text": "{name}，618 老客价 {link}"}, {"text": "{name}，送您 {points} 积分"}],
        **extra,
    }


def test_api_create_start_results_cancel(owner_api, segment, django_capture_on_commit_callbacks):
    created = owner_api.post(API, _body(segment), content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["status"] == "draft"
        and body["holdout_bp"] == 1000
        and [v["letter"] for v in body["variants"]]
        == [
            "A",
            "B",
        ]
    )
    cid = body["id"]
    changed = owner_api.put(f"{API}/{cid}", _body(segment, holdout_bp=2500), content_type="application/json")
    assert changed.status_code == 200 and changed.json()["holdout_bp"] == 2500
    with django_capture_on_commit_callbacks(execute=True):
        started = owner_api.post(f"{API}/{cid}/start", content_type="application/json")
    assert started.status_code == 202, started.content
    now = owner_api.get(f"{API}/{cid}").json()
    assert now["status"] == "done" and now["prepared"] == 40 and now["sent"] + now["control"] == 40
    assert now["pending"] == 0
    results = owner_api.get(f"{API}/{cid}/results").json()
    assert [g["group"] for g in results["groups"]] == ["control", "A", "B", "treatment"]
    assert results["groups"][3]["delivered"] == now["sent"] and "ROI" in results["formula"]
    assert owner_api.put(f"{API}/{cid}", _body(segment), content_type="application/json").status_code == 409
    assert owner_api.post(f"{API}/{cid}/cancel").status_code == 409  # done: nothing to cancel
    listed = owner_api.get(API, {"status": "done"}).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == cid


def test_api_refuses_bad_input(owner_api, segment, other_shop):
    for bad in (
        _body(segment, variants=[]),
        _body(segment, variants=[{"text": "{phone}"}]),
        _body(segment, holdout_bp=9000),
        _body(segment, channel="fax"),
        _body(segment, segment=10**9),
        _body(segment, target="product", target_ref="nope"),
    ):
        answer = owner_api.post(API, bad, content_type="application/json")
        assert answer.status_code in (400, 404, 409, 422), (bad, answer.content)
        assert "code" in answer.json()
    assert owner_api.get(f"{API}/nope").status_code == 404
    assert Campaign.objects.count() == 0


def test_api_roles_and_tenancy(client, shop, other_shop, owner, segment):
    campaign = draft(owner, shop, segment)
    finance = make_staff(shop, role=FINANCE, username="fin")
    client.force_login(finance.user)  # every role sees campaigns; only owners and operators change them
    assert client.get(f"{API}/{campaign.public_id}").status_code == 200
    assert client.post(f"{API}/{campaign.public_id}/start").status_code == 403
    assert client.post(API, _body(segment), content_type="application/json").status_code == 403
    stranger = make_staff(other_shop, username="stranger")
    client.force_login(stranger.user)
    assert client.get(f"{API}/{campaign.public_id}").status_code == 401  # not staff of the shop served
    from siyu.campaigns.outreach.selectors import campaign_get
    from siyu.core.errors import NotFound

    with pytest.raises(NotFound):  # nor through their own shop
        campaign_get(actor=stranger, shop=other_shop, public_id=campaign.public_id)


def test_console_create_start_and_detail(staff_client, shop, segment, django_capture_on_commit_callbacks):
    page = staff_client.get(reverse("console:campaign_new"))
    assert page.status_code == 200 and segment.name in page.content.decode()
    answer = staff_client.post(
        reverse("console:campaign_new"),
        {
            "name": "会员日",
            "segment": segment.pk,
            "channel": "log",
            "holdout_percent": "10",
            "text_a": "{name}，会员日来啦 {link}",
            "text_b": "{name}，今天双倍积分",
            "target": "home",
            "attribution_days": 7,
            "margin_percent": "30",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    campaign = Campaign.objects.get(shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("console:campaign_action", args=[campaign.public_id, "start"]))
    detail = staff_client.get(reverse("console:campaign_detail", args=[campaign.public_id]))
    text = detail.content.decode()
    assert detail.status_code == 200 and "<svg" in text and "ROI" in text
    campaign.refresh_from_db()
    assert campaign.status == "done"
    bad = staff_client.post(reverse("console:campaign_new"), {"name": "x", "segment": segment.pk, "channel": "log"})
    assert bad.status_code == 400
    missing = staff_client.post(
        reverse("console:campaign_new"),
        {"name": "x", "segment": segment.pk, "channel": "log", "holdout_percent": "10", "text_a": "hi"}
        | {"target": "product", "target_ref": "nosuch", "attribution_days": 7, "margin_percent": "30"},
    )
    assert missing.status_code == 400 and "nosuch" in missing.content.decode()


def test_console_cancel(staff_client, shop, owner, segment):
    campaign = draft(owner, shop, segment)
    from django.utils import timezone

    from siyu.campaigns.outreach.services import campaign_start

    campaign_start(actor=owner, shop=shop, public_id=campaign.public_id, at=timezone.now() + timezone.timedelta(days=1))
    staff_client.post(reverse("console:campaign_action", args=[campaign.public_id, "cancel"]))
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"


@pytest.mark.parametrize("n", [2, 12])
def test_list_query_counts(staff_client, owner_api, shop, owner, segment, n, django_assert_num_queries):
    for _i in range(n):
        draft(owner, shop, segment)
    with django_assert_num_queries(5):  # the same at both sizes
        assert staff_client.get(reverse("console:campaigns")).status_code == 200
    with django_assert_num_queries(5):
        assert owner_api.get(API).status_code == 200


@pytest.mark.parametrize("size", [1, 3])
def test_detail_query_counts(start, staff_client, shop, owner, segment, size, django_assert_num_queries):
    for _i in range(size):
        campaign = draft(owner, shop, segment)
        start(owner, shop, campaign)
    with django_assert_num_queries(8):
        assert staff_client.get(reverse("console:campaign_detail", args=[campaign.public_id])).status_code == 200
