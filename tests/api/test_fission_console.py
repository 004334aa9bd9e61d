"""Console API for fission and distribution: analytics, rules, promoters, withdrawals, flags,
price floors and traceability batches; permissions through the services, fixed query counts."""

import pytest
from django.test import Client

from siyu.accounts.roles import FINANCE, SERVICE
from siyu.catalog.models import Sku
from siyu.distribution import ledger, trace
from siyu.distribution.models import DistributionSettings, PriceFloor, Promoter, PromoterFlag, TraceCode, Withdrawal
from siyu.distribution.payouts import SandboxPayoutProvider
from siyu.distribution.promoters import promoter_apply
from siyu.distribution.withdrawals import withdrawal_request
from siyu.referrals.models import ReferralBinding, ReferralSettings, ShareVisit

from ..distribution.promoter_steps import approved_promoter, fund, id_number
from ..factories import make_product, make_shopper, make_staff
from .conftest import API

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox():
    SandboxPayoutProvider.reset()
    yield
    SandboxPayoutProvider.reset()


def as_role(shop, role, username) -> Client:
    """A session-signed-in client (only owners and operators may hold API tokens)."""
    client = Client()
    client.force_login(make_staff(shop, role=role, username=username).user)
    return client


def applicant(shop, n=1):
    return promoter_apply(
        shop=shop,
        shopper=make_shopper(),
        real_name="李雷",
        id_number=id_number(100 + n),
        payout_kind="wechat",
        payout_account="wx-lilei-8888",
    )


# --- fission -------------------------------------------------------------------------------


def test_overview_counts_the_funnel(api, shop, owner, django_assert_num_queries):
    sharer = make_shopper()
    for i in range(3):
        ShareVisit.objects.create(shop=shop, code=sharer.share_code, visitor_key=f"v{i}")
    friend = make_shopper()
    ReferralBinding.objects.create(
        shop=shop, referee=friend, referrer_shopper=sharer, code=sharer.share_code, expires_at="2099-01-01T00:00Z"
    )
    with django_assert_num_queries(13):  # shop, token, 4 funnel, 2 K-factor, 2 share, 2 top referrers, names
        response = api.get(f"{API}/console/fission/overview", {"days": 7, "period": "day"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["funnel"]["invites"] == 1 and body["funnel"]["visits"] == 3 and body["funnel"]["signups"] == 1
    assert body["top_referrers"][0]["referred"] == 1 and body["top_referrers"][0]["kind"] == "shopper"
    assert api.get(f"{API}/console/fission/overview", {"period": "year"}).status_code == 400


def test_referral_settings_read_and_patch(api, shop):
    assert api.get(f"{API}/console/fission/referral-settings").json()["window_days"] == 30
    response = api.patch(
        f"{API}/console/fission/referral-settings",
        {"window_days": 14, "reward_kind": "credit", "referrer_reward": 500},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["reward_kind"] == "credit"
    assert ReferralSettings.objects.get(shop=shop).window_days == 14
    bad = api.patch(f"{API}/console/fission/referral-settings", {"window_days": 0}, content_type="application/json")
    # the range is in the document, so it is refused like any schema rule, naming the field
    assert bad.status_code == 400 and {e["loc"][-1] for e in bad.json()["detail"]["errors"]} == {"window_days"}


def test_finance_cannot_change_referral_rules(shop, owner):
    finance = as_role(shop, FINANCE, "caiwu")
    response = finance.patch(
        f"{API}/console/fission/referral-settings", {"window_days": 3}, content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


# --- promoters -----------------------------------------------------------------------------


def test_promoter_list_masks_identity_and_has_fixed_queries(api, shop, django_assert_num_queries):
    for n in range(4):
        applicant(shop, n)
    with django_assert_num_queries(4):  # shop, token, count, page
        response = api.get(f"{API}/console/promoters", {"status": "applied"})
    body = response.json()
    assert body["count"] == 4 and body["items"][0]["status"] == "applied"
    item = body["items"][0]
    assert item["real_name"] == "李雷" and "*" in item["id_number_masked"]
    assert id_number(100) not in response.content.decode()
    assert "wx-lilei-8888" not in response.content.decode()


def test_approve_reject_and_suspend(api, shop):
    first, second = applicant(shop, 1), applicant(shop, 2)
    response = api.post(
        f"{API}/console/promoters/{first.pk}/decision", {"approve": True}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "approved"
    response = api.post(
        f"{API}/console/promoters/{second.pk}/decision",
        {"approve": False, "note": "资料不全"},
        content_type="application/json",
    )
    assert response.json()["status"] == "rejected" and response.json()["note"] == "资料不全"
    again = api.post(
        f"{API}/console/promoters/{second.pk}/decision", {"approve": True}, content_type="application/json"
    )
    assert again.status_code == 409 and again.json()["code"] == "bad_transition"
    suspended = api.post(f"{API}/console/promoters/{first.pk}/suspension", {}, content_type="application/json")
    assert suspended.json()["status"] == "suspended"


def test_finance_cannot_decide_on_promoters(shop, owner):
    promoter = applicant(shop)
    finance = as_role(shop, FINANCE, "caiwu")
    response = finance.post(
        f"{API}/console/promoters/{promoter.pk}/decision", {"approve": True}, content_type="application/json"
    )
    assert response.status_code == 403
    assert Promoter.objects.get(pk=promoter.pk).status == "applied"


def test_settings_refuse_a_third_tier_and_unknown_fields(api, shop):
    response = api.patch(f"{API}/console/distribution/settings", {"tiers": 3}, content_type="application/json")
    assert response.status_code == 400 and {e["loc"][-1] for e in response.json()["detail"]["errors"]} == {"tiers"}
    schema = api.get(f"{API}/openapi.json").json()["components"]["schemas"]["DistributionSettingsIn"]
    assert schema["properties"]["tiers"]["anyOf"][0]["maximum"] == 2  # the document says so too
    fee = api.patch(f"{API}/console/distribution/settings", {"entry_fee_fen": 100}, content_type="application/json")
    assert fee.status_code == 400  # no such setting exists
    ok = api.patch(
        f"{API}/console/distribution/settings",
        {"tiers": 2, "second_tier_rate_bp": 300, "min_withdrawal_fen": 2000},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["tiers"] == 2 and ok.json()["min_withdrawal_fen"] == 2000
    assert DistributionSettings.objects.get(shop=shop).tiers == 2


def test_commission_rules_crud(api, shop, product):
    response = api.post(
        f"{API}/console/distribution/commission-rules",
        {"product_id": product.pk, "tier": 1, "rate_bp": 1500},
        content_type="application/json",
    )
    assert response.status_code == 201
    rule_id = response.json()["id"]
    assert (
        api.post(
            f"{API}/console/distribution/commission-rules",
            {"product_id": product.pk, "tier": 3, "rate_bp": 100},
            content_type="application/json",
        ).status_code
        == 400
    )
    assert [r["rate_bp"] for r in api.get(f"{API}/console/distribution/commission-rules").json()] == [1500]
    assert api.delete(f"{API}/console/distribution/commission-rules/{rule_id}").status_code == 204
    assert api.get(f"{API}/console/distribution/commission-rules").json() == []


# --- withdrawals ---------------------------------------------------------------------------


def test_withdrawal_needs_two_finance_approvers_above_threshold(shop, owner):
    DistributionSettings.objects.create(shop=shop, second_approval_over=10000)
    promoter = approved_promoter(shop, owner)
    fund(promoter, 50000)
    big = withdrawal_request(shop=shop, shopper=promoter.shopper, amount=20000)
    first, second = as_role(shop, FINANCE, "caiwu1"), as_role(shop, FINANCE, "caiwu2")
    url = f"{API}/console/withdrawals/{big.pk}"
    listed = first.get(f"{API}/console/withdrawals").json()
    assert listed[0]["approvals_needed"] == 2 and listed[0]["amount_fen"] == 20000
    assert first.post(f"{url}/approve").json()["status"] == "requested"
    twice = first.post(f"{url}/approve")
    assert twice.status_code == 409 and twice.json()["code"] == "second_approver_needed"
    assert second.post(f"{url}/approve").json()["status"] == "approved"
    paid = second.post(f"{url}/pay", {}, content_type="application/json")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    again = first.post(f"{url}/pay", {}, content_type="application/json")
    assert again.json()["status"] == "paid" and len(SandboxPayoutProvider.calls) == 1


def test_customer_service_cannot_approve_or_pay(shop, owner):
    promoter = approved_promoter(shop, owner)
    fund(promoter, 5000)
    withdrawal = withdrawal_request(shop=shop, shopper=promoter.shopper, amount=2000)
    service = as_role(shop, SERVICE, "kefu")
    for action in ("approve", "pay", "reject"):
        response = service.post(
            f"{API}/console/withdrawals/{withdrawal.pk}/{action}", {}, content_type="application/json"
        )
        assert response.status_code == 403, action
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "requested"


def test_reject_gives_the_money_back(api, shop, owner):
    promoter = approved_promoter(shop, owner)
    fund(promoter, 5000)
    withdrawal = withdrawal_request(shop=shop, shopper=promoter.shopper, amount=2000)
    response = api.post(
        f"{API}/console/withdrawals/{withdrawal.pk}/reject", {"note": "账户有误"}, content_type="application/json"
    )
    assert response.json()["status"] == "rejected"
    assert ledger.balances_of(promoter=promoter)[ledger.AVAILABLE] == 5000


# --- sell-through, flags, price floors -----------------------------------------------------


def test_sellthrough_flags_and_floors(api, shop, owner, product, django_assert_num_queries):
    promoter = approved_promoter(shop, owner)
    rows = api.get(f"{API}/console/promoters/sell-through", {"days": 30}).json()
    assert rows[0]["promoter_id"] == promoter.pk and rows[0]["orders"] == 0
    flag = PromoterFlag.objects.create(shop=shop, promoter=promoter, kind="self_purchase", data={"key": "o1"})
    assert [f["kind"] for f in api.get(f"{API}/console/promoter-flags").json()] == ["self_purchase"]
    assert api.post(f"{API}/console/promoter-flags/{flag.pk}/resolve").json()["resolved_at"] is not None
    assert api.get(f"{API}/console/promoter-flags").json() == []
    sku = Sku.objects.get(product=product)
    response = api.put(f"{API}/console/price-floors/{sku.pk}", {"min_price_fen": 1500}, content_type="application/json")
    assert response.status_code == 200 and PriceFloor.objects.get(sku=sku).min_price == 1500
    with django_assert_num_queries(3):  # shop, token, floors
        assert api.get(f"{API}/console/price-floors").json() == [{"sku_id": sku.pk, "min_price_fen": 1500}]
    removed = api.put(f"{API}/console/price-floors/{sku.pk}", {"min_price_fen": 0}, content_type="application/json")
    assert removed.status_code == 204 and not PriceFloor.objects.exists()


# --- traceability --------------------------------------------------------------------------


def test_trace_batch_create_list_codes_and_detail(api, shop, product, django_assert_num_queries):
    response = api.post(
        f"{API}/console/trace/batches",
        {"product": product.public_id, "name": "2025 春", "quantity": 25},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    batch = response.json()
    assert batch["quantity"] == 25 and batch["scanned"] == 0 and batch["product_id"] == product.public_id
    bad = api.post(
        f"{API}/console/trace/batches",
        {"product": product.public_id, "name": "x", "quantity": 10001},
        content_type="application/json",
    )
    assert bad.status_code == 400 and {e["loc"][-1] for e in bad.json()["detail"]["errors"]} == {"quantity"}
    missing = api.post(
        f"{API}/console/trace/batches",
        {"product": "nosuchproduct", "name": "x", "quantity": 1},
        content_type="application/json",
    )
    assert missing.status_code == 404 and missing.json()["detail"] == {"product": "nosuchproduct"}
    other = make_product(shop, name="另一个")
    not_its_sku = api.post(
        f"{API}/console/trace/batches",
        {"product": product.public_id, "sku_id": other.skus.get().pk, "name": "x", "quantity": 1},
        content_type="application/json",
    )
    assert not_its_sku.status_code == 404 and not_its_sku.json()["detail"] == {"sku": other.skus.get().pk}
    with django_assert_num_queries(4):  # shop, token, count, page
        listed = api.get(f"{API}/console/trace/batches").json()
    assert listed["count"] == 1
    with django_assert_num_queries(5):  # shop, token, batch, count, page
        codes = api.get(f"{API}/console/trace/batches/{batch['id']}/codes", {"limit": 10}).json()
    assert codes["count"] == 25 and [c["serial"] for c in codes["items"]] == list(range(1, 11))
    first = codes["items"][0]
    assert first["scan_url"] == f"http://testserver/t/{first['code']}/"
    trace.trace_scan(code=first["code"], ip="10.9.8.7")
    detail = api.get(f"{API}/console/trace/codes/{first['code']}").json()
    assert detail["scan_count"] == 1 and detail["scans"][0]["place"] == "10.9.*.*"


def test_customer_service_cannot_create_trace_batches(shop, owner, product):
    service = as_role(shop, SERVICE, "kefu")
    response = service.post(
        f"{API}/console/trace/batches",
        {"product": product.public_id, "name": "x", "quantity": 2},
        content_type="application/json",
    )
    assert response.status_code == 403 and not TraceCode.objects.exists()
