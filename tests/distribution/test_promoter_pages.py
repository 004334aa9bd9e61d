"""Storefront promoter pages: apply, status, micro-shop links, commissions, wallet and withdraw."""

import pytest

from siyu.distribution import ledger
from siyu.distribution.models import Commission, Promoter, Withdrawal

from ..factories import make_product, sign_in_shopper
from .promoter_steps import id_number, referred_order, world

pytestmark = pytest.mark.django_db
SHOP_AND_SHOPPER = 2


def test_apply_form_then_pending_status(client, shop, shopper, django_assert_num_queries):
    sign_in_shopper(client, shopper)
    with django_assert_num_queries(SHOP_AND_SHOPPER + 2):  # + promoter, settings
        page = client.get("/my/promoter/")
    assert page.status_code == 200 and 'name="id_number"' in page.content.decode()
    bad = client.post("/my/promoter/", {"real_name": "李四", "id_number": "123", "payout_kind": "wechat"})
    assert bad.status_code == 400 and not Promoter.objects.exists()
    resp = client.post(
        "/my/promoter/",
        {"real_name": "李四", "id_number": id_number(3), "payout_kind": "alipay", "payout_account": "li@example.com"},
    )
    assert resp.status_code == 302
    promoter = Promoter.objects.get()
    assert (promoter.shopper, promoter.status, promoter.payout_kind) == (shopper, "applied", "alipay")
    with django_assert_num_queries(SHOP_AND_SHOPPER + 1):
        html = client.get("/my/promoter/").content.decode()
    assert 'name="id_number"' not in html
    assert client.get("/my/promoter/wallet/").status_code == 302  # not approved yet


def test_pages_need_sign_in(client, shop):
    for path in ("/my/promoter/", "/my/promoter/shop/", "/my/promoter/commissions/", "/my/promoter/wallet/"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login/" in resp["Location"]


def test_micro_shop_lists_catalogue_with_my_links(client, shop, owner, django_assert_num_queries):
    w = world(shop, owner)
    for i in range(3):
        make_product(shop, name=f"商品{i}")
    sign_in_shopper(client, w.promoter.shopper)
    with django_assert_num_queries(SHOP_AND_SHOPPER + 3):  # + promoter, count, page
        html = client.get("/my/promoter/shop/").content.decode()
    code = w.promoter.shopper.share_code
    assert html.count(f"?ref={code}") == 8  # a link and a poster for each of 4 products
    assert f"/p/{w.tea.public_id}/?ref={code}" in html and "¥100.00" in html


def test_commissions_and_wallet_pages(
    client, shop, owner, django_capture_on_commit_callbacks, django_assert_num_queries
):
    w = world(shop, owner, default_rate_bp=1000, min_withdrawal=100)
    with django_capture_on_commit_callbacks(execute=True):
        for quantity in (1, 2, 3):
            referred_order(w, quantity=quantity)
    sign_in_shopper(client, w.promoter.shopper)
    with django_assert_num_queries(SHOP_AND_SHOPPER + 3):  # + promoter, count, page (with order and line)
        html = client.get("/my/promoter/commissions/").content.decode()
    assert html.count("龙井") == 3 and "¥30.00" in html
    assert "龙井" not in client.get("/my/promoter/commissions/?status=settled").content.decode()
    # settle one commission's worth by hand, as the periodic task would
    commission = Commission.objects.order_by("id").first()
    ledger.post(
        shop_id=shop.pk,
        lines=ledger.transfer(
            ledger.promoter_account(w.promoter, ledger.FROZEN),
            ledger.promoter_account(w.promoter, ledger.AVAILABLE),
            1000,
        ),
        ref_type="commission",
        ref_id=commission.pk,
    )
    with django_assert_num_queries(SHOP_AND_SHOPPER + 5):  # + promoter, balances, withdrawing, withdrawals, settings
        html = client.get("/my/promoter/wallet/").content.decode()
    assert "¥10.00" in html and "¥50.00" in html  # available, frozen
    resp = client.post("/my/promoter/withdraw/", {"amount": "6.00"})
    assert resp.status_code == 302
    assert Withdrawal.objects.get().amount == 600
    too_much = client.post("/my/promoter/withdraw/", {"amount": "5.00"}, follow=True)
    assert too_much.status_code == 200 and Withdrawal.objects.count() == 1
    nonsense = client.post("/my/promoter/withdraw/", {"amount": "abc"}, follow=True)
    assert nonsense.status_code == 200 and Withdrawal.objects.count() == 1
    assert ledger.balances_of(promoter=w.promoter)["available"] == 400


def test_my_page_links_to_promoter(client, shop, shopper):
    sign_in_shopper(client, shopper)
    assert "/my/promoter/" in client.get("/my/").content.decode()
