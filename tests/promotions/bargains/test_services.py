"""Bargains: campaign rules, starting, helping, buying at the reached price, cancel and payment."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited
from siyu.core.models import AuditEntry
from siyu.distribution.commissions import line_paid_amount
from siyu.distribution.models import Commission
from siyu.distribution.prices import price_floor_set, sku_price_check
from siyu.orders.checkout import order_place, order_quote
from siyu.orders.lifecycle import order_cancel
from siyu.promotions.bargains import campaigns as campaign_services
from siyu.promotions.bargains.models import Bargain, BargainCampaign, BargainHelp
from siyu.promotions.bargains.services import bargain_help, bargain_start, slots_release_expired
from siyu.promotions.results import promotion_results

from ...distribution.promoter_steps import address_for, world
from ...factories import make_shopper, make_staff
from ...orders.helpers import pay
from .conftest import campaign_data


def started(shop, campaign, starter=None, **kw):
    return bargain_start(shop=shop, shopper=starter or make_shopper(), campaign_id=campaign.public_id, **kw).bargain


def help_all(shop, bargain, friends):
    return [bargain_help(shop=shop, helper=f, bargain_id=bargain.public_id) for f in friends]


def buy(shop, bargain, address, key="bargain-0001"):
    return order_place(
        shop=shop,
        shopper=bargain.starter,
        items=[{"sku": bargain.campaign.sku_id, "quantity": 1}],
        address_id=address.public_id,
        idempotency_key=key,
        options={"promotion": f"bargain:{bargain.public_id}"},
    )


# --- campaigns -------------------------------------------------------------------------------


def test_campaign_rules(shop, owner, sku):
    with pytest.raises(InvalidInput) as exc:
        campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, helps_needed=1))
    assert exc.value.detail == {"helps_needed": "2 to 100"}
    with pytest.raises(InvalidInput):
        campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, helps_needed=101))
    with pytest.raises(Conflict) as exc:  # 50.00 - 49.97 leaves 3 fen for 5 helps
        campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, floor_price=4997))
    assert exc.value.code == "bargain_floor_too_high"
    data = campaign_data(sku)
    data["ends_at"] = data["starts_at"]
    with pytest.raises(InvalidInput):
        campaign_services.campaign_create(actor=owner, shop=shop, data=data)
    with pytest.raises(NotFound):
        campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, sku_id=sku.pk + 999))
    service = make_staff(shop, role="service", username="kefu")
    with pytest.raises(PermissionDenied):
        campaign_services.campaign_create(actor=service, shop=shop, data=campaign_data(sku))


def test_campaign_floor_respects_the_minimum_advertised_price_unless_overridden(shop, owner, sku):
    price_floor_set(actor=owner, sku=sku, min_price=3000)
    with pytest.raises(InvalidInput) as exc:
        campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, floor_price=2000))
    assert exc.value.code == "below_price_floor" and exc.value.status == 400
    assert exc.value.detail["min_price"] == 3000
    # at the floor: fine
    campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, floor_price=3000))
    # an audited override for exactly that price lets it through
    sku_price_check(sku=sku, price=2000, override_reason="清仓", actor=owner)
    made = campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, floor_price=2000))
    assert made.floor_price == 2000
    assert AuditEntry.objects.filter(action="bargain_campaign.create", target_id=str(made.pk)).exists()


def test_update_end_and_the_panel_cache(shop, owner, campaign):
    assert [c.public_id for c in campaign_services.live_campaigns(shop_id=shop.pk)] == [campaign.public_id]
    campaign_services.campaign_update(actor=owner, campaign=campaign, data={"floor_price": 1500})
    assert campaign_services.live_campaigns(shop_id=shop.pk)[0].floor_price == 1500
    campaign_services.campaign_end(actor=owner, campaign=campaign)
    assert campaign_services.live_campaigns(shop_id=shop.pk) == []
    assert AuditEntry.objects.filter(action="bargain_campaign.end").count() == 1
    with pytest.raises(Conflict):
        campaign_services.campaign_update(actor=owner, campaign=campaign, data={"name": "x"})


# --- start and help --------------------------------------------------------------------------


def test_start_draws_a_schedule_and_one_live_bargain_per_shopper(shop, campaign, shopper):
    first = bargain_start(shop=shop, shopper=shopper, campaign_id=campaign.public_id)
    assert first.created
    b = first.bargain
    assert (b.start_price, b.floor_price, b.current_price) == (5000, 1000, 5000)
    assert len(b.cuts) == 5 and sum(b.cuts) == 4000 and min(b.cuts) >= 1
    assert b.deadline <= timezone.now() + timedelta(hours=24)
    again = bargain_start(shop=shop, shopper=shopper, campaign_id=campaign.public_id)
    assert not again.created and again.bargain.pk == b.pk
    # once its deadline has passed unbought, a new one may start
    Bargain.objects.filter(pk=b.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    third = bargain_start(shop=shop, shopper=shopper, campaign_id=campaign.public_id)
    assert third.created and Bargain.objects.get(pk=b.pk).status == "expired"


def test_start_refused_outside_the_campaign(shop, owner, campaign, shopper):
    with pytest.raises(NotFound):
        bargain_start(shop=shop, shopper=shopper, campaign_id="nope")
    BargainCampaign.objects.filter(pk=campaign.pk).update(starts_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(Conflict) as exc:
        bargain_start(shop=shop, shopper=shopper, campaign_id=campaign.public_id)
    assert exc.value.code == "bargain_campaign_closed"


def test_helps_follow_the_schedule_down_to_the_floor_exactly(shop, campaign, friends):
    b = started(shop, campaign)
    helps = help_all(shop, b, friends[:5])
    assert [h.cut for h in helps] == b.cuts and [h.position for h in helps] == [1, 2, 3, 4, 5]
    b.refresh_from_db()
    assert (b.current_price, b.helps_done) == (1000, 5)
    with pytest.raises(Conflict) as exc:
        bargain_help(shop=shop, helper=friends[5], bargain_id=b.public_id)
    assert exc.value.code == "bargain_done"
    b.refresh_from_db()
    assert b.current_price == 1000


def test_help_refusals(shop, campaign, friends, other_shop):
    b = started(shop, campaign)
    with pytest.raises(Conflict) as exc:
        bargain_help(shop=shop, helper=b.starter, bargain_id=b.public_id)
    assert exc.value.code == "bargain_own"
    bargain_help(shop=shop, helper=friends[0], bargain_id=b.public_id)
    with pytest.raises(Conflict) as exc:
        bargain_help(shop=shop, helper=friends[0], bargain_id=b.public_id)
    assert exc.value.code == "bargain_helped"
    with pytest.raises(NotFound):  # another shop's bargain is not found
        bargain_help(shop=other_shop, helper=friends[1], bargain_id=b.public_id)
    Bargain.objects.filter(pk=b.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict) as exc:
        bargain_help(shop=shop, helper=friends[1], bargain_id=b.public_id)
    assert exc.value.code == "bargain_closed"
    assert BargainHelp.objects.filter(bargain=b).count() == 1


def test_rate_limits_per_shopper_and_per_network(shop, owner, sku, friends, settings):
    settings.SIYU_BARGAIN_HELPS_PER_SHOPPER_HOUR = 2
    settings.SIYU_BARGAIN_HELPS_PER_IP_HOUR = 3
    campaign = campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, helps_needed=10))
    bargains = [started(shop, campaign) for _ in range(4)]
    helper = friends[0]
    for b in bargains[:2]:
        bargain_help(shop=shop, helper=helper, bargain_id=b.public_id)
    with pytest.raises(RateLimited) as exc:
        bargain_help(shop=shop, helper=helper, bargain_id=bargains[2].public_id)
    assert exc.value.detail == {"limit": "shopper"}
    bargain_help(shop=shop, helper=friends[1], bargain_id=bargains[0].public_id, ip="10.0.0.9")
    bargain_help(shop=shop, helper=friends[2], bargain_id=bargains[0].public_id, ip="10.0.0.9")
    bargain_help(shop=shop, helper=friends[3], bargain_id=bargains[0].public_id, ip="10.0.0.9")
    with pytest.raises(RateLimited) as exc:
        bargain_help(shop=shop, helper=friends[4], bargain_id=bargains[0].public_id, ip="10.0.0.9")
    assert exc.value.detail == {"limit": "ip"}


def test_helper_sharing_device_network_or_address_is_flagged(shop, campaign, friends):
    starter = make_shopper()
    address_for(shop, starter, detail="同一个地址 8 号", phone="13700000001")
    b = started(shop, campaign, starter=starter, device="dev-1", ip="192.0.2.7")
    twin = friends[0]
    address_for(shop, twin, detail="同一个地址 8 号", phone="13700000002")
    flagged = bargain_help(shop=shop, helper=twin, bargain_id=b.public_id, device="dev-1", ip="192.0.2.7")
    assert flagged.flags == ["same_device", "same_network", "same_address"] and flagged.flagged
    clean = bargain_help(shop=shop, helper=friends[1], bargain_id=b.public_id, device="dev-2", ip="198.51.100.1")
    assert clean.flags == [] and not clean.flagged


# --- buying ----------------------------------------------------------------------------------


def test_starter_buys_at_the_floor_once_reached(shop, campaign, friends, django_capture_on_commit_callbacks):
    b = started(shop, campaign)
    address = address_for(shop, b.starter)
    with pytest.raises(Conflict) as exc:  # floor not reached and buying early not allowed
        buy(shop, b, address)
    assert exc.value.code == "bargain_not_at_floor"
    help_all(shop, b, friends[:5])
    quote = order_quote(
        shop=shop,
        items=[{"sku": campaign.sku_id, "quantity": 1}],
        shopper=b.starter,
        options={"promotion": f"bargain:{b.public_id}"},
    )
    assert quote.lines[0].unit_price == 1000 and quote.promotions == [f"bargain:{campaign.public_id}"]
    order = buy(shop, b, address)
    line = order.lines.get()
    assert (line.list_price, line.unit_price, line.promotion) == (5000, 1000, f"bargain:{campaign.public_id}")
    b.refresh_from_db()
    assert (b.status, b.order_id, b.holds_slot) == ("ordered", order.pk, True)
    assert BargainCampaign.objects.get(pk=campaign.pk).slots_taken == 1
    # another order through the same bargain is refused (and rolls back)
    with pytest.raises(Conflict):
        buy(shop, b, address, key="bargain-0002")
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    b.refresh_from_db()
    assert b.status == "bought"
    results = promotion_results(shop=shop, kind="bargain", ref=campaign.public_id)
    assert (results.orders_paid, results.discount) == (1, 4000)


def test_only_the_starter_one_piece_of_its_own_sku(shop, campaign, friends, product):
    b = started(shop, campaign)
    help_all(shop, b, friends[:5])
    stranger = friends[6]
    with pytest.raises(NotFound):
        order_quote(
            shop=shop,
            items=[{"sku": campaign.sku_id, "quantity": 1}],
            shopper=stranger,
            options={"promotion": f"bargain:{b.public_id}"},
        )
    for items in ([{"sku": campaign.sku_id, "quantity": 2}], [{"sku": product.skus.get().pk, "quantity": 1}]):
        with pytest.raises(Conflict) as exc:
            order_quote(shop=shop, items=items, shopper=b.starter, options={"promotion": f"bargain:{b.public_id}"})
        assert exc.value.code == "bargain_one_piece"


def test_buy_at_current_price_when_the_seller_allows(shop, owner, sku, friends):
    campaign = campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, buy_at_current=True))
    b = started(shop, campaign)
    first = bargain_help(shop=shop, helper=friends[0], bargain_id=b.public_id)
    order = buy(shop, b, address_for(shop, b.starter))
    assert order.lines.get().unit_price == 5000 - first.cut
    with pytest.raises(Conflict):  # an ordered bargain takes no more helps
        bargain_help(shop=shop, helper=friends[1], bargain_id=b.public_id)


def test_cancel_makes_it_buyable_again_once_and_keeps_the_slot(shop, campaign, friends):
    b = started(shop, campaign)
    help_all(shop, b, friends[:5])
    address = address_for(shop, b.starter)
    order = buy(shop, b, address)
    order_cancel(order_id=order.pk, actor=b.starter)
    b.refresh_from_db()
    assert (b.status, b.order_id, b.holds_slot) == ("open", None, True)
    with pytest.raises(Conflict):  # the order stays cancelled: nothing moves twice
        order_cancel(order_id=order.pk, actor=b.starter)
    again = buy(shop, b, address, key="bargain-0002")
    assert again.lines.get().unit_price == 1000
    assert BargainCampaign.objects.get(pk=campaign.pk).slots_taken == 1  # the same slot


def test_cancel_after_the_deadline_expires_it_and_the_slot_goes_back(shop, campaign, friends):
    b = started(shop, campaign)
    help_all(shop, b, friends[:5])
    order = buy(shop, b, address_for(shop, b.starter))
    Bargain.objects.filter(pk=b.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    order_cancel(order_id=order.pk, actor=b.starter)
    b.refresh_from_db()
    assert b.status == "expired"
    assert slots_release_expired() == 1
    assert slots_release_expired() == 0
    assert BargainCampaign.objects.get(pk=campaign.pk).slots_taken == 0


def test_the_cap_limits_how_many_buy(shop, owner, sku, friends):
    campaign = campaign_services.campaign_create(
        actor=owner, shop=shop, data=campaign_data(sku, stock_cap=1, helps_needed=2)
    )
    first, second = started(shop, campaign), started(shop, campaign)
    help_all(shop, first, friends[:2])
    help_all(shop, second, friends[2:4])
    buy(shop, first, address_for(shop, first.starter))
    with pytest.raises(Conflict) as exc:
        buy(shop, second, address_for(shop, second.starter))
    assert exc.value.code == "bargain_sold_out"
    assert Bargain.objects.get(pk=second.pk).status == "open"  # rolled back with the order


def test_checkout_refuses_a_bargain_price_below_a_floor_set_later(shop, owner, campaign, friends, sku):
    b = started(shop, campaign)
    help_all(shop, b, friends[:5])
    price_floor_set(actor=owner, sku=sku, min_price=2000)
    with pytest.raises(Conflict) as exc:
        buy(shop, b, address_for(shop, b.starter))
    assert exc.value.code == "below_price_floor"
    assert Bargain.objects.get(pk=b.pk).status == "open"


def test_commission_is_on_the_bargain_price_paid(shop, owner, sku, django_capture_on_commit_callbacks):
    w = world(shop, owner, default_rate_bp=1000)
    campaign = campaign_services.campaign_create(actor=owner, shop=shop, data=campaign_data(sku, helps_needed=2))
    b = started(shop, campaign, starter=w.buyer)
    help_all(shop, b, [make_shopper(), make_shopper()])
    with django_capture_on_commit_callbacks(execute=True):
        order = order_place(
            shop=shop,
            shopper=w.buyer,
            items=[{"sku": sku.pk, "quantity": 1}],
            address_id=w.address.public_id,
            idempotency_key="bargain-comm-1",
            ref_code=w.promoter.shopper.share_code,
            options={"promotion": f"bargain:{b.public_id}"},
        )
        pay(order)
    order.refresh_from_db()
    assert order.paid_amount == order.total == 1000 + order.shipping_fee
    assert line_paid_amount(order=order, line=order.lines.get()) == 1000
    commission = Commission.objects.get(order=order)
    assert (commission.base_amount, commission.amount) == (1000, 100)
