"""Storefront API for fission and distribution: invite link, referrals, promoter application,
commissions, wallet, withdrawals; the public traceability scan; and tenancy of all of it."""

import pytest

from siyu.accounts.services import token_issue
from siyu.distribution import trace
from siyu.distribution.models import Promoter, TraceScan, Withdrawal
from siyu.distribution.withdrawals import withdrawal_request
from siyu.referrals.models import ReferralBinding

from ..distribution.promoter_steps import approved_promoter, fund, id_number
from ..factories import make_product, make_shopper, make_staff
from .conftest import API, OTHER_API, bearer

pytestmark = pytest.mark.django_db

APPLICATION = {
    "real_name": "韩梅梅",
    "id_number": id_number(7),
    "payout_kind": "alipay",
    "payout_account": "hmm@example.com",
}


@pytest.fixture
def me(client, shopper_key):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {shopper_key}"
    return client


def test_invite_shows_link_and_my_referrals(me, shop, shopper, django_assert_num_queries):
    friend = make_shopper()
    ReferralBinding.objects.create(
        shop=shop, referee=friend, referrer_shopper=shopper, code=shopper.share_code, expires_at="2099-01-01T00:00Z"
    )
    with django_assert_num_queries(5):  # shop, token, rules, referrals, rewards
        response = me.get(f"{API}/storefront/invite")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["share_code"] == shopper.share_code
    assert body["share_url"] == f"http://testserver/?ref={shopper.share_code}"
    assert [r["referee"] for r in body["referrals"]] == [str(friend)]
    assert body["referrals"][0]["first_order_status"] is None


def test_signed_out_gets_401(client, shop):
    for path in ("invite", "promoter", "promoter/wallet", "promoter/commissions"):
        response = client.get(f"{API}/storefront/{path}")
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated", path


def test_apply_then_status(me, shop, shopper):
    assert me.get(f"{API}/storefront/promoter").json()["code"] == "not_a_promoter"
    response = me.post(f"{API}/storefront/promoter/application", APPLICATION, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "applied"
    assert "id_number" not in response.json()
    again = me.post(f"{API}/storefront/promoter/application", APPLICATION, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_applied"
    bad = me.post(
        f"{API}/storefront/promoter/application", {**APPLICATION, "id_number": "123"}, content_type="application/json"
    )
    assert bad.status_code in (400, 409)
    status = me.get(f"{API}/storefront/promoter").json()
    assert status["status"] == "applied" and status["share_code"] == shopper.share_code
    assert Promoter.objects.get(shopper=shopper).real_name == "韩梅梅"


def test_application_refuses_unknown_fields(me):
    response = me.post(
        f"{API}/storefront/promoter/application", {**APPLICATION, "entry_fee": 100}, content_type="application/json"
    )
    assert response.status_code == 400


def test_wallet_commissions_and_withdraw(me, shop, owner, shopper, django_assert_num_queries):
    promoter = approved_promoter(shop, owner, shopper=shopper)
    fund(promoter, 8000)
    with django_assert_num_queries(5):  # shop, token, promoter, count, page
        body = me.get(f"{API}/storefront/promoter/commissions").json()
    assert body == {"count": 0, "limit": 20, "offset": 0, "items": []}
    response = me.post(f"{API}/storefront/promoter/withdrawals", {"amount_fen": 3000}, content_type="application/json")
    assert response.status_code == 201 and response.json()["status"] == "requested"
    wallet = me.get(f"{API}/storefront/promoter/wallet").json()
    assert wallet["available_fen"] == 5000 and wallet["withdrawing_fen"] == 3000
    assert [w["amount_fen"] for w in wallet["withdrawals"]] == [3000]
    too_much = me.post(f"{API}/storefront/promoter/withdrawals", {"amount_fen": 6000}, content_type="application/json")
    assert too_much.status_code == 409 and too_much.json()["code"] == "insufficient_balance"
    assert Withdrawal.objects.count() == 1


def test_trace_scan_is_public_and_counts(client, shop, owner, product):
    batch = trace.trace_batch_create(actor=owner, shop=shop, product=product, name="首批", quantity=2)
    code = trace.trace_codes_of_batch(batch=batch).first()
    first = client.get(f"{API}/storefront/trace/{code.code}")
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["genuine"] and body["first_scan"] and body["scan_count"] == 1 and body["batch"] == "首批"
    assert body["product_id"] == product.public_id and not body["suspicious"]
    second = client.get(f"{API}/storefront/trace/{code.code}").json()
    assert not second["first_scan"] and second["scan_count"] == 1  # a repeat from the same address
    third = client.get(f"{API}/storefront/trace/{code.code}", REMOTE_ADDR="198.51.100.7").json()
    assert third["scan_count"] == 2
    unknown = client.get(f"{API}/storefront/trace/zzzzzzzzzzzzzzzz")
    assert unknown.status_code == 404 and unknown.json()["code"] == "trace_unknown"


# --- tenancy -------------------------------------------------------------------------------


def test_other_shops_staff_see_nothing_of_ours(client, shop, owner, other_shop, other_key, product):
    promoter = approved_promoter(shop, owner)
    fund(promoter, 5000)
    withdrawal = withdrawal_request(shop=shop, shopper=promoter.shopper, amount=2000)
    batch = trace.trace_batch_create(actor=owner, shop=shop, product=product, name="批", quantity=2)
    code = trace.trace_codes_of_batch(batch=batch).first()
    headers = bearer(other_key)
    assert client.get(f"{OTHER_API}/console/promoters", headers=headers).json()["count"] == 0
    assert client.get(f"{OTHER_API}/console/withdrawals", headers=headers).json() == []
    assert client.get(f"{OTHER_API}/console/trace/batches", headers=headers).json()["count"] == 0
    for method, path in (
        ("get", f"promoters/{promoter.pk}"),
        ("post", f"promoters/{promoter.pk}/suspension"),
        ("post", f"withdrawals/{withdrawal.pk}/reject"),
        ("get", f"trace/batches/{batch.pk}"),
        ("get", f"trace/batches/{batch.pk}/codes"),
        ("get", f"trace/codes/{code.code}"),
    ):
        url = f"{OTHER_API}/console/{path}"
        if method == "get":
            response = client.get(url, headers=headers)
        else:
            response = client.post(url, {}, content_type="application/json", headers=headers)
        assert response.status_code == 404 and response.json()["code"] in ("not_found", "trace_unknown"), path
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "requested"
    assert Promoter.objects.get(pk=promoter.pk).status == "approved"
    # another shop's token is refused outright on our address
    assert client.get(f"{API}/console/promoters", headers=headers).status_code == 403


def test_other_shops_code_is_unknown_there(client, shop, owner, other_shop, product):
    batch = trace.trace_batch_create(actor=owner, shop=shop, product=product, name="批", quantity=1)
    code = trace.trace_codes_of_batch(batch=batch).first()
    response = client.get(f"{OTHER_API}/storefront/trace/{code.code}")
    assert response.status_code == 404 and response.json()["code"] == "trace_unknown"
    assert not TraceScan.objects.exists()


def test_a_shopper_is_a_promoter_per_shop(client, shop, owner, other_shop, shopper):
    approved_promoter(shop, owner, shopper=shopper)
    make_staff(other_shop, username="otherowner")
    key = token_issue(shop=other_shop, shopper=shopper, name="other")[1]
    response = client.get(f"{OTHER_API}/storefront/promoter", headers=bearer(key))
    assert response.status_code == 404 and response.json()["code"] == "not_a_promoter"
    make_product(other_shop)
