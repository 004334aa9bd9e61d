"""Console fission and distribution pages: analytics, referral rules and tree, promoters, commission
rules, settings, withdrawals, sell-through, flags and price floors. Fixed query counts; each role
may do only what the services allow."""

import pytest
from django.urls import reverse

from siyu.accounts.roles import FINANCE
from siyu.catalog.models import Sku
from siyu.customers.stats import customer_for_shopper
from siyu.distribution.models import (
    CommissionRule,
    DistributionSettings,
    PriceFloor,
    Promoter,
    PromoterFlag,
    Withdrawal,
)
from siyu.distribution.promoters import promoter_apply
from siyu.distribution.withdrawals import withdrawal_request
from siyu.referrals.models import ReferralBinding, ReferralSettings, ShareVisit

from ..distribution.promoter_steps import approved_promoter, fund, id_number
from ..factories import make_shopper, make_staff
from .helpers import login_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(shop, owner):
    return login_client(make_staff(shop, role=FINANCE, username="caiwu"))


def bind(shop, referrer, referee):
    return ReferralBinding.objects.create(
        shop=shop, referee=referee, referrer_shopper=referrer, code=referrer.share_code, expires_at="2099-01-01T00:00Z"
    )


def applicant(shop, n):
    return promoter_apply(
        shop=shop,
        shopper=make_shopper(),
        real_name=f"申请人{n}",
        id_number=id_number(200 + n),
        payout_kind="bank",
        payout_account="6222020200001234",
    )


# --- fission -------------------------------------------------------------------------------


def test_fission_page_shows_funnel_k_and_top_referrers(en_client, shop, django_assert_num_queries):
    sharer, friend = make_shopper(), make_shopper()
    for i in range(4):  # the friend's visit is linked to them (consent), so it is not counted twice
        ShareVisit.objects.create(
            shop=shop, code=sharer.share_code, visitor_key=f"v{i}", shopper=friend if i == 0 else None
        )
    bind(shop, sharer, friend)
    # shop, user, staff; funnel 4; K-factor 2; new-customer share 2; top referrers 2 + names
    with django_assert_num_queries(14):
        response = en_client.get(reverse("console:fission"), {"days": "7", "period": "day"})
    assert response.status_code == 200
    bars = {b["key"]: (b["n"], b["width"]) for b in response.context["bars"]}
    assert bars["visitors"] == (4, 100) and bars["invites"] == (1, 25) and bars["signups"] == (1, 25)
    assert response.context["top"][0].referred == 1
    assert reverse("console:referral_tree_of_shopper", args=[sharer.pk]) in response.content.decode()


def test_referral_settings_save_credit_in_yuan(en_client, shop):
    response = en_client.post(
        reverse("console:referral_settings"),
        {
            "enabled": "on",
            "window_days": "15",
            "reward_kind": "credit",
            "referrer_reward": "8.50",
            "referee_reward": "5",
        },
    )
    assert response.status_code == 302
    rules = ReferralSettings.objects.get(shop=shop)
    assert (rules.window_days, rules.reward_kind, rules.referrer_reward, rules.referee_reward) == (
        15,
        "credit",
        850,
        500,
    )
    page = en_client.get(reverse("console:referral_settings"))
    assert page.context["form"].initial["referrer_reward"] == "8.50"


def test_referral_settings_bad_input_and_finance(en_client, finance_client, shop):
    data = {"window_days": "15", "reward_kind": "points", "referrer_reward": "1.5", "referee_reward": "5"}
    assert en_client.post(reverse("console:referral_settings"), data).status_code == 400
    data["referrer_reward"] = "10"
    assert finance_client.post(reverse("console:referral_settings"), data).status_code == 403
    assert not ReferralSettings.objects.filter(shop=shop, window_days=15).exists()


def test_referral_tree_of_a_customer(en_client, shop, django_assert_num_queries):
    root, child, grandchild = make_shopper(), make_shopper(), make_shopper()
    bind(shop, root, child)
    bind(shop, child, grandchild)
    customer = customer_for_shopper(shop=shop, shopper=root)
    with django_assert_num_queries(8):  # shop, user, staff, customer + tags, tree, bindings, orders
        response = en_client.get(reverse("console:referral_tree", args=[customer.public_id]))
    tree = response.context["tree"]
    assert [n["shopper_id"] for n in tree] == [child.pk]
    assert [n["shopper_id"] for n in tree[0]["children"]] == [grandchild.pk]
    same = en_client.get(reverse("console:referral_tree_of_shopper", args=[root.pk]), {"depth": "1"})
    assert [n["shopper_id"] for n in same.context["tree"]] == [child.pk] and same.context["tree"][0]["children"] == []


# --- promoters -----------------------------------------------------------------------------


def test_promoter_list_has_fixed_queries_and_masks_ids(en_client, shop, django_assert_num_queries):
    for n in range(5):
        applicant(shop, n)
    with django_assert_num_queries(5):  # shop, user, staff, count, page
        response = en_client.get(reverse("console:promoters"), {"status": "applied"})
    assert len(response.context["rows"]) == 5
    text = response.content.decode()
    assert id_number(200) not in text and "6222020200001234" not in text and "330" in text
    # codes and masked numbers are plain monospace text in the row, not API-key boxes
    assert 'class="small code-text"' in text and " key" not in text and 'class="key' not in text


def test_approve_from_the_list_and_finance_cannot(en_client, finance_client, shop):
    promoter = applicant(shop, 1)
    url = reverse("console:promoter_decide", args=[promoter.pk])
    assert finance_client.post(url, {"action": "approve"}).status_code == 403
    response = en_client.post(url, {"action": "approve", "next": "list"})
    assert response.status_code == 302 and response["Location"] == reverse("console:promoters")
    assert Promoter.objects.get(pk=promoter.pk).status == "approved"
    again = en_client.post(url, {"action": "approve"}, follow=True)
    assert "cannot be done in the current state" in again.content.decode()  # the status table refused it


def test_promoter_detail_shows_wallet(en_client, shop, owner, django_assert_num_queries):
    promoter = approved_promoter(shop, owner)
    fund(promoter, 4200)
    # shop, user, staff, promoter; sell-through 4; wallet 3; commissions; flags
    with django_assert_num_queries(13):
        response = en_client.get(reverse("console:promoter_detail", args=[promoter.pk]))
    assert response.status_code == 200
    assert response.context["wallet"].available == 4200
    page = response.content.decode()
    assert "¥42.00" in page and 'class="key' not in page and "code-text" in page
    assert "wechat" not in page and "bank" not in page  # the payout method is a label, not its code


def test_commission_rules_page(en_client, shop, product, django_assert_num_queries):
    response = en_client.post(
        reverse("console:commission_rules"), {"product": str(product.pk), "tier": "1", "rate": "12.5"}
    )
    assert response.status_code == 302
    rule = CommissionRule.objects.get(shop=shop)
    assert (rule.product_id, rule.tier, rule.rate_bp) == (product.pk, 1, 1250)
    with django_assert_num_queries(7):  # shop, user, staff, settings, rules, products, categories
        page = en_client.get(reverse("console:commission_rules"))
    assert page.context["rules"][0]["rate"] == "12.5"
    too_high = en_client.post(
        reverse("console:commission_rules"), {"product": str(product.pk), "tier": "2", "rate": "30"}
    )
    assert too_high.status_code == 400
    assert en_client.post(reverse("console:commission_rule_delete", args=[rule.pk])).status_code == 302
    assert not CommissionRule.objects.exists()


def test_distribution_settings_page(en_client, finance_client, shop):
    data = {
        "enabled": "on",
        "tiers": "2",
        "default_rate": "8",
        "second_tier_rate": "2.5",
        "freeze_days": "10",
        "min_withdrawal": "20",
        "second_approval_over": "500",
    }
    assert finance_client.post(reverse("console:distribution_settings"), data).status_code == 403
    assert en_client.post(reverse("console:distribution_settings"), data).status_code == 302
    saved = DistributionSettings.objects.get(shop=shop)
    assert (saved.tiers, saved.default_rate_bp, saved.second_tier_rate_bp) == (2, 800, 250)
    assert (saved.min_withdrawal, saved.second_approval_over) == (2000, 50000)
    refused = en_client.post(reverse("console:distribution_settings"), {**data, "tiers": "3"})
    assert refused.status_code == 400
    assert DistributionSettings.objects.get(shop=shop).tiers == 2


# --- withdrawals ---------------------------------------------------------------------------


def test_withdrawals_page_and_two_approvers(finance_client, en_client, service_client, shop, owner):
    DistributionSettings.objects.create(shop=shop, second_approval_over=10000)
    promoter = approved_promoter(shop, owner)
    fund(promoter, 60000)
    big = withdrawal_request(shop=shop, shopper=promoter.shopper, amount=30000)
    small = withdrawal_request(shop=shop, shopper=promoter.shopper, amount=2000)
    listed = finance_client.get(reverse("console:withdrawals"))
    needed = {row["w"].pk: row["needed"] for row in listed.context["rows"]}
    assert needed == {big.pk: 2, small.pk: 1}
    url = reverse("console:withdrawal_action", args=[big.pk])
    assert service_client.post(url, {"action": "approve"}).status_code == 403
    finance_client.post(url, {"action": "approve"})
    assert Withdrawal.objects.get(pk=big.pk).status == "requested"
    mine = finance_client.get(reverse("console:withdrawals"))
    assert {row["w"].pk: row["mine"] for row in mine.context["rows"]}[big.pk]
    en_client.post(url, {"action": "approve"})  # the owner is the second, different approver
    assert Withdrawal.objects.get(pk=big.pk).status == "approved"
    en_client.post(url, {"action": "pay"})
    assert Withdrawal.objects.get(pk=big.pk).status == "paid"
    finance_client.post(reverse("console:withdrawal_action", args=[small.pk]), {"action": "reject", "note": "重复"})
    assert Withdrawal.objects.get(pk=small.pk).status == "rejected"


def test_withdrawals_list_has_fixed_queries(finance_client, shop, owner, django_assert_num_queries):
    for _ in range(3):
        promoter = approved_promoter(shop, owner)
        fund(promoter, 5000)
        withdrawal_request(shop=shop, shopper=promoter.shopper, amount=2000)
    with django_assert_num_queries(5):  # shop, user, staff, settings, withdrawals with promoters
        response = finance_client.get(reverse("console:withdrawals"))
    assert len(response.context["rows"]) == 3


# --- sell-through, flags, price floors -----------------------------------------------------


def test_sellthrough_page(en_client, shop, owner, django_assert_num_queries):
    for _ in range(3):
        approved_promoter(shop, owner)
    with django_assert_num_queries(7):  # shop, user, staff, promoters, order totals, repeats, commissions
        response = en_client.get(reverse("console:promoter_sellthrough"), {"days": "90"})
    assert len(response.context["rows"]) == 3 and response.context["days"] == 90


def test_flags_page_and_resolve(en_client, finance_client, shop, owner, django_assert_num_queries):
    promoter = approved_promoter(shop, owner)
    flag = PromoterFlag.objects.create(shop=shop, promoter=promoter, kind="address_cluster", data={"key": "a"})
    PromoterFlag.objects.create(shop=shop, promoter=promoter, kind="refund_spike", data={"key": "b"})
    with django_assert_num_queries(4):  # shop, user, staff, open flags with promoters
        response = en_client.get(reverse("console:promoter_flags"))
    assert "Many buyers, one address or phone" in response.content.decode()
    assert finance_client.post(reverse("console:promoter_flag_resolve", args=[flag.pk])).status_code == 403
    assert en_client.post(reverse("console:promoter_flag_resolve", args=[flag.pk])).status_code == 302
    assert PromoterFlag.objects.get(pk=flag.pk).resolved_at is not None


def test_price_floors_page(en_client, finance_client, shop, product, django_assert_num_queries):
    sku = Sku.objects.get(product=product)
    assert (
        finance_client.post(reverse("console:price_floors"), {"sku": str(sku.pk), "min_price": "15"}).status_code == 403
    )
    assert (
        en_client.post(reverse("console:price_floors"), {"sku": str(sku.pk), "min_price": "15.50"}).status_code == 302
    )
    assert PriceFloor.objects.get(sku=sku).min_price == 1550
    with django_assert_num_queries(6):  # shop, user, staff, products, SKUs, floors
        response = en_client.get(reverse("console:price_floors"))
    assert [row["floor"].min_price for row in response.context["rows"]] == [1550]
    assert en_client.post(reverse("console:price_floors"), {"sku": str(sku.pk), "min_price": "abc"}).status_code == 400


# --- tenancy -------------------------------------------------------------------------------


def test_another_shops_staff_cannot_reach_our_rows(other_client, shop, owner, other_shop):
    promoter = approved_promoter(shop, owner)
    fund(promoter, 5000)
    withdrawal = withdrawal_request(shop=shop, shopper=promoter.shopper, amount=2000)
    flag = PromoterFlag.objects.create(shop=shop, promoter=promoter, kind="self_purchase", data={"key": "x"})
    prefix = "/s/other/console/fission"
    assert other_client.get(f"{prefix}/promoters/{promoter.pk}/").status_code == 404
    assert other_client.post(f"{prefix}/promoters/{promoter.pk}/decide/", {"action": "suspend"}).status_code == 404
    assert other_client.post(f"{prefix}/withdrawals/{withdrawal.pk}/", {"action": "reject"}).status_code == 404
    assert other_client.post(f"{prefix}/flags/{flag.pk}/resolve/").status_code == 404
    assert other_client.get(f"{prefix}/promoters/").context["rows"] == []
    assert other_client.get(f"{prefix}/withdrawals/").context["rows"] == []
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "requested"
    assert Promoter.objects.get(pk=promoter.pk).status == "approved"
    assert other_client.get(reverse("console:promoters")).status_code == 403
