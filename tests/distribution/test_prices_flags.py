"""Price floors (refused below without an override; audited with one), trust flags, sell-through."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.roles import SERVICE
from siyu.catalog.models import Sku
from siyu.core.errors import Conflict, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.distribution.flags import flags_scan
from siyu.distribution.models import PriceFloor, PromoterFlag
from siyu.distribution.prices import price_floor_set, sku_price_check
from siyu.distribution.sellthrough import promoter_sellthrough
from siyu.orders.models import Order
from siyu.referrals.models import ShareVisit

from ..factories import make_shopper, make_staff
from ..orders.helpers import place
from .promoter_steps import address_for, referred_order, refund_line, world

pytestmark = pytest.mark.django_db


def test_price_below_floor_is_refused_without_override_and_audited_with_one(shop, owner, product):
    sku = product.skus.get()
    with pytest.raises(PermissionDenied):
        price_floor_set(actor=make_staff(shop, role=SERVICE), sku=sku, min_price=1500)
    floor = price_floor_set(actor=owner, sku=sku, min_price="15.00")
    assert floor.min_price == 1500
    assert sku_price_check(sku=sku, price=1500) == 1500  # at the floor is fine
    with pytest.raises(Conflict) as exc:
        sku_price_check(sku=sku, price="14.99")
    assert exc.value.code == "below_price_floor" and exc.value.detail["min_price"] == 1500
    with pytest.raises(PermissionDenied):
        sku_price_check(sku=sku, price=1400, override_reason="清仓", actor=None)
    assert not AuditEntry.objects.filter(action="price_floor.override").exists()
    assert sku_price_check(sku=sku, price=1400, override_reason="清仓", actor=owner) == 1400
    entry = AuditEntry.objects.get(action="price_floor.override")
    assert (entry.target_type, entry.target_id, entry.actor) == ("sku", str(sku.pk), owner.user)
    assert entry.data == {"price": 1400, "min_price": 1500, "reason": "清仓"}
    assert price_floor_set(actor=owner, sku=sku, min_price=0) is None and not PriceFloor.objects.exists()


def test_checkout_refuses_to_sell_below_the_floor_without_override(shop, owner, shopper, address, product):
    sku = product.skus.get()  # 19.90
    PriceFloor.objects.create(shop=shop, sku=sku, min_price=2000)
    with pytest.raises(Conflict) as exc:
        place(shop, shopper, address, product)
    assert exc.value.code == "below_price_floor"
    assert not Order.objects.exists() and Sku.objects.get(pk=sku.pk).stock == 10  # nothing placed or reserved
    sku_price_check(sku=sku, price=1990, override_reason="活动价", actor=owner)
    assert place(shop, shopper, address, product).lines.get().unit_price == 1990


def test_flags_for_address_device_and_refund_spike_are_raised_once(
    shop, owner, settings, django_capture_on_commit_callbacks
):
    w = world(shop, owner)
    buyers = [make_shopper() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        orders = [
            referred_order(w, buyer=b, address=address_for(shop, b, detail="同一个地址 8 号", phone="13900000001"))
            for b in buyers
        ]
        orders += [referred_order(w) for _ in range(2)]
        for order in orders[:2]:
            refund_line(w, order, 1)
    for buyer in buyers:
        ShareVisit.objects.create(shop=shop, code=w.promoter.shopper.share_code, visitor_key="device-1", shopper=buyer)
    assert flags_scan(shop=shop) == 4  # one phone, one address, one device, a 40% refund rate
    assert sorted(PromoterFlag.objects.values_list("kind", flat=True)) == [
        "address_cluster",
        "address_cluster",
        "device_cluster",
        "refund_spike",
    ]
    assert flags_scan(shop=shop) == 0
    assert flags_scan(shop=shop, now=timezone.now() + timedelta(days=31)) == 0  # the month has passed


def test_sellthrough_per_promoter(shop, owner, django_capture_on_commit_callbacks, django_assert_num_queries):
    w = world(shop, owner, default_rate_bp=1000)
    friend = make_shopper()
    friend_address = address_for(shop, friend)
    with django_capture_on_commit_callbacks(execute=True):
        first = referred_order(w, quantity=2)
        referred_order(w)
        referred_order(w, buyer=friend, address=friend_address)
        refund_line(w, first, 1)
    with django_assert_num_queries(4):
        (row,) = promoter_sellthrough(shop=shop)
    assert (row.promoter, row.orders, row.customers, row.repeat_customers) == (w.promoter, 3, 2, 1)
    assert row.repeat_rate_bp == 5000
    assert (row.sales, row.refunded, row.refunded_orders) == (40000, 10000, 1)
    assert row.commission == 3000 and row.commission_settled == 0
