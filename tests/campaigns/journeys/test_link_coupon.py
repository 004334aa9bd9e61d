"""The tracked link /j/<code>/ and the journey's coupon: given to the messaged only, counted as a
discount in the results."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from siyu.campaigns.journeys.engine import journey_run
from siyu.campaigns.journeys.models import JourneyEnrolment
from siyu.campaigns.journeys.results import journey_results
from siyu.campaigns.journeys.services import journey_link_follow
from siyu.core.errors import NotFound
from siyu.customers.models import Lifecycle
from tests.customers.test_segments import paid_order
from tests.factories import make_product

from ...promotions.coupons.steps import make_coupon
from .conftest import journey, person

pytestmark = pytest.mark.django_db


def lapsed(shop, n):
    last = timezone.now() - timedelta(days=90)
    return [person(shop, lifecycle=Lifecycle.AT_RISK, order_count=1, last_order_at=last) for _ in range(n)]


def test_link_records_the_click_and_opens_the_target(client, owner, shop, other_shop, log_on):
    lapsed(shop, 1)
    product = make_product(shop)
    j = journey(owner, shop, "winback", target="product", target_ref=product.public_id)
    journey_run(journey_id=j.pk)
    row = JourneyEnrolment.objects.get(journey=j)
    url = reverse("storefront:journey_link", args=[row.code])
    assert client.get(url)["Location"] == reverse("storefront:product", args=[product.public_id])
    client.get(url)
    row.refresh_from_db()
    assert row.clicks == 2 and row.first_clicked_at is not None
    assert journey_results(journey=j).groups[1].clicked == 1
    assert client.get(reverse("storefront:journey_link", args=["nope" * 3])).status_code == 404
    with pytest.raises(NotFound):
        journey_link_follow(shop=other_shop, code=row.code)


def test_coupon_to_the_messaged_only_and_counted_as_discount(owner, shop, log_on):
    from siyu.promotions.coupons.models import CouponGrant, GrantStatus

    coupon = make_coupon(shop, owner, name="召回券", kind="no_threshold", amount_off=500, min_spend=0)
    lapsed(shop, 30)
    j = journey(owner, shop, "winback", holdout_bp=3000, coupon=coupon.public_id, target="coupon")
    journey_run(journey_id=j.pk)
    rows = list(JourneyEnrolment.objects.filter(journey=j).select_related("customer"))
    treated = {r.customer.shopper_id for r in rows if r.variant_id}
    held = {r.customer.shopper_id for r in rows if not r.variant_id}
    assert held and treated
    granted = set(CouponGrant.objects.filter(coupon=coupon).values_list("shopper_id", flat=True))
    assert granted == treated and not granted & held
    row = next(r for r in rows if r.variant_id)
    order = paid_order(shop, row.customer.shopper, [make_product(shop)], paid_at=timezone.now() + timedelta(hours=1))
    order.adjustments = [{"kind": "coupon", "label": coupon.name, "amount": 500, "ref": coupon.public_id}]
    order.save(update_fields=["adjustments"])
    CouponGrant.objects.filter(coupon=coupon, shopper=row.customer.shopper).update(order=order, status=GrantStatus.USED)
    with_coupon = journey_results(journey=j)
    assert with_coupon.discounts == 500 and with_coupon.groups[0].key == "holdout"


def test_message_link_is_absolute_for_a_shop_that_is_not_the_default(owner, other_shop, settings):
    from siyu.accounts.roles import OWNER
    from siyu.campaigns.channels.models import ChannelConfig, ChannelSettings
    from siyu.campaigns.journeys.sending import tracked_link
    from tests.factories import make_staff

    settings.SIYU_PUBLIC_URL = "https://shop.example"
    ChannelSettings.objects.update_or_create(shop=other_shop, defaults={"quiet_start": 0, "quiet_end": 0})
    ChannelConfig.objects.update_or_create(shop=other_shop, channel="log", defaults={"enabled": True})
    link = tracked_link(other_shop, "abc")
    assert link.startswith("https://shop.example/") and link.endswith("/j/abc/")
    assert other_shop.is_default or f"/s/{other_shop.slug}/j/abc/" in link
    lapsed(other_shop, 1)
    j = journey(make_staff(other_shop, role=OWNER, username="owner2"), other_shop, "winback")
    journey_run(journey_id=j.pk)
    assert JourneyEnrolment.objects.get(journey=j).status == "sent"
