"""Attribution of a known set of orders, the results per group, ROI, and tracked links."""

from datetime import timedelta

import pytest
from django.urls import reverse

from siyu.campaigns.outreach.models import CampaignClick, CampaignRecipient
from siyu.campaigns.outreach.results import campaign_results
from siyu.campaigns.outreach.stats import conversion_uplift
from siyu.campaigns.outreach.tracking import SESSION_KEY

from ...customers.test_segments import paid_order
from ...factories import make_product, make_shopper
from .conftest import draft, make_pool

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(start, owner, shop, pool, segment):
    campaign = draft(owner, shop, segment, holdout_bp=3000, attribution_days=7)
    start(owner, shop, campaign)
    campaign.refresh_from_db()
    assert campaign.status == "done"
    return campaign


def test_attribution_of_known_orders(sent, shop, other_shop):
    product = make_product(shop)
    sku = product.skus.first()
    sku.cost_price = 600  # 40% margin on the 10.00 lines
    sku.save(update_fields=["cost_price"])
    rows = list(CampaignRecipient.objects.filter(campaign=sent).select_related("customer", "variant").order_by("id"))
    control = [r for r in rows if r.variant is None]
    a = [r for r in rows if r.variant is not None and r.variant.index == 0]
    b = [r for r in rows if r.variant is not None and r.variant.index == 1]
    assert control and len(a) >= 3 and b
    start = sent.send_started_at
    inside = start + timedelta(days=2)
    # counted: two orders by one A recipient (one person ordering), one A, one control, one B (partly refunded)
    paid_order(shop, a[0].customer.shopper, [product, product], paid_at=inside)
    paid_order(shop, a[0].customer.shopper, [product], paid_at=inside + timedelta(hours=1))
    paid_order(shop, a[1].customer.shopper, [product], paid_at=start + timedelta(days=6, hours=23))
    paid_order(shop, control[0].customer.shopper, [product], paid_at=inside)
    refunded = paid_order(shop, b[0].customer.shopper, [product, product], paid_at=inside)
    refunded.refunded_amount = 500
    refunded.save(update_fields=["refunded_amount"])
    # not counted: before the send, after the window, unpaid, someone outside the audience, another shop
    paid_order(shop, a[2].customer.shopper, [product], paid_at=start - timedelta(minutes=1))
    paid_order(shop, a[2].customer.shopper, [product], paid_at=start + timedelta(days=7, minutes=1))
    paid_order(shop, make_shopper(), [product], paid_at=inside)
    paid_order(other_shop, a[2].customer.shopper, [make_product(other_shop)], paid_at=inside)

    result = campaign_results(campaign=sent)
    by = {g.key: g for g in result.groups}
    assert (by["control"].recipients, by["control"].ordered, by["control"].revenue) == (len(control), 1, 1000)
    assert (by["A"].recipients, by["A"].ordered, by["A"].revenue) == (len(a), 2, 4000)
    assert (by["B"].recipients, by["B"].ordered, by["B"].revenue) == (len(b), 1, 1500)
    assert by["A"].delivered == len(a) and by["control"].delivered == 0
    t = result.treatment
    assert (t.recipients, t.ordered, t.revenue) == (len(a) + len(b), 3, 5500)
    want = conversion_uplift(x1=2, n1=len(a), x0=1, n0=len(control))
    assert by["A"].conversion_uplift.diff == pytest.approx(want.diff)
    assert by["A"].conversion_uplift.low == pytest.approx(want.low)
    # revenue per recipient: A's per-recipient revenues are 3000, 1000 and zeros (sum of squares 10,000,000)
    assert by["A"].squares == 3000**2 + 1000**2
    assert result.margin_from_costs and result.margin_bp == 4000
    assert result.message_cost == 5 * t.recipients
    incremental = (5500 / t.recipients - 1000 / len(control)) * t.recipients * 0.4
    assert result.incremental_profit == pytest.approx(incremental)
    assert result.roi == pytest.approx((incremental - result.message_cost) / result.message_cost)


def test_results_before_sending_have_no_window(owner, shop, pool, segment):
    campaign = draft(owner, shop, segment)
    result = campaign_results(campaign=campaign)
    assert result.window is None and result.roi is None and result.groups[0].recipients == 0


def test_tracked_link_records_and_redirects(client, sent, shop):
    row = CampaignRecipient.objects.filter(campaign=sent, variant__isnull=False).first()
    url = reverse("storefront:campaign_link", args=[row.code])
    answer = client.get(url)
    assert answer.status_code == 302 and answer["Location"] == reverse("storefront:home")
    client.get(url)
    row.refresh_from_db()
    assert row.clicks == 2 and row.first_clicked_at is not None
    assert CampaignClick.objects.filter(recipient=row, variant=row.variant).count() == 2
    assert client.session[SESSION_KEY]["campaign"] == sent.public_id
    assert client.session[SESSION_KEY]["recipient"] == row.pk
    assert campaign_results(campaign=sent).groups[row.variant.index + 1].clicked == 1
    assert client.get(reverse("storefront:campaign_link", args=["nope" * 3])).status_code == 404


def test_link_of_another_shop_is_not_found(client, start, owner, shop, other_shop):
    """A code is looked up within the shop serving the request."""
    from siyu.campaigns.outreach.models import CampaignTarget

    make_pool(other_shop, 1)
    product = make_product(shop)
    from .conftest import channels_on

    channels_on(shop)
    make_pool(shop, 2)
    from siyu.customers.segments import segment_save

    from .conftest import CITY

    segment = segment_save(actor=owner, shop=shop, name="s", rules=CITY)
    campaign = draft(owner, shop, segment, holdout_bp=0, target=CampaignTarget.PRODUCT, target_ref=product.public_id)
    start(owner, shop, campaign)
    row = CampaignRecipient.objects.filter(campaign=campaign).first()
    answer = client.get(reverse("storefront:campaign_link", args=[row.code]))
    assert answer["Location"] == reverse("storefront:product", args=[product.public_id])
    from siyu.campaigns.outreach.tracking import link_follow
    from siyu.core.errors import NotFound

    with pytest.raises(NotFound):
        link_follow(shop=other_shop, code=row.code)


def test_coupon_given_to_the_messaged_only_and_counted_as_discount(start, owner, shop, pool, segment, client):
    from siyu.promotions.coupons.models import CouponGrant, GrantStatus

    from ...promotions.coupons.steps import make_coupon

    coupon = make_coupon(shop, owner, name="老客券", kind="no_threshold", amount_off=500, min_spend=0)
    campaign = draft(owner, shop, segment, holdout_bp=3000, coupon=coupon.public_id, target="coupon")
    start(owner, shop, campaign)
    campaign.refresh_from_db()
    rows = CampaignRecipient.objects.filter(campaign=campaign).select_related("customer")
    treated = {r.customer.shopper_id for r in rows if r.variant_id}
    control = {r.customer.shopper_id for r in rows if not r.variant_id}
    granted = set(
        CouponGrant.objects.filter(coupon=coupon, slot=f"campaign:{campaign.pk}").values_list("shopper_id", flat=True)
    )
    assert granted == treated and not granted & control
    # a recipient follows the link to the coupon page, then buys using the grant
    row = next(r for r in rows if r.variant_id)
    assert client.get(reverse("storefront:campaign_link", args=[row.code]))["Location"] == reverse(
        "storefront:coupon", args=[coupon.public_id]
    )
    product = make_product(shop)
    order = paid_order(shop, row.customer.shopper, [product], paid_at=campaign.send_started_at + timedelta(hours=1))
    order.adjustments = [{"kind": "coupon", "label": coupon.name, "amount": 500, "ref": coupon.public_id}]
    order.save(update_fields=["adjustments"])
    CouponGrant.objects.filter(coupon=coupon, shopper=row.customer.shopper).update(order=order, status=GrantStatus.USED)
    result = campaign_results(campaign=campaign)
    assert result.discounts == 500 and not result.margin_from_costs and result.margin_bp == 3000
    # a coupon that is over cannot be chosen
    from siyu.core.errors import Conflict
    from siyu.promotions.coupons.services import coupon_end

    coupon_end(actor=owner, coupon=coupon)
    with pytest.raises(Conflict):
        draft(owner, shop, segment, coupon=coupon.public_id)
