from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Q
from PIL import Image

from siyu.accounts.models import Address, Shopper, StaffMember
from siyu.catalog.models import Category, Product, ProductImage, ProductStatus, ShippingTemplate, Sku
from siyu.catalog.shipping import shipping_fee
from siyu.cli.demo import build_demo
from siyu.core.crypto import lookup_hash
from siyu.orders.models import Order
from siyu.shops.models import Shop

pytestmark = pytest.mark.django_db


def _longest_side(field) -> int:
    with Image.open(field.path) as img:
        return max(img.size)


def _check_catalogue(shop: Shop) -> None:
    products = Product.objects.filter(shop=shop)
    assert 38 <= products.count() <= 45
    tops = Category.objects.filter(shop=shop, parent=None)
    assert sorted(tops.values_list("name", flat=True)) == sorted(
        ["茶饮冲调", "休闲零食", "美妆护肤", "个护清洁", "家居日用", "母婴用品"]
    )
    for top in tops:
        assert top.children.count() >= 3
        assert products.filter(category__parent=top).exists(), top.name
    assert products.filter(category__parent=None).count() == 0  # products sit in sub-categories
    featured = products.filter(featured_position__isnull=False).order_by("featured_position")
    assert [p.featured_position for p in featured] == list(range(1, 9))
    assert all(p.status == ProductStatus.ON_SALE for p in featured)
    statuses = dict(products.values_list("status").annotate(n=Count("id")))
    assert statuses[ProductStatus.ON_SALE] >= 35 and statuses[ProductStatus.DRAFT] >= 2
    assert statuses[ProductStatus.OFF_SHELF] >= 1
    policies = dict(products.values_list("return_policy").annotate(n=Count("id")))
    assert policies["no_reason_7d"] > products.count() / 2
    assert policies["quality_only"] >= 5 and policies["no_returns"] == 1
    assert products.get(name__startswith="西湖龙井").consumption_cycle_days == 30
    assert products.get(name="超薄透气纸尿裤").consumption_cycle_days == 20


def _check_skus(shop: Shop) -> None:
    active = Sku.objects.filter(shop=shop, is_active=True)
    assert not active.filter(Q(price=0) | Q(cost_price=None)).exists()
    assert all(s.list_price is None or s.list_price >= s.price for s in active)
    assert active.filter(list_price__isnull=False).exists()
    assert active.filter(stock=0).exists() and active.filter(stock__gt=0).count() > 40
    towel = Product.objects.get(shop=shop, name="A类纯棉毛巾")
    assert towel.spec_names == ["颜色", "规格"]
    towel_skus = {s.spec_key: s for s in towel.skus.filter(is_active=True)}
    assert len(towel_skus) == 6
    assert towel_skus["燕麦/浴巾1条"].price == towel_skus["燕麦/毛巾3条"].price + 4000
    assert (towel.price_min, towel.price_max) == (3990, 7990)
    assert Product.objects.filter(shop=shop, name="临安手剥山核桃 250g").get().skus.get(is_active=True).stock == 0


def _check_images(shop: Shop) -> None:
    for product in Product.objects.filter(shop=shop).annotate(n=Count("images")):
        assert product.main_image and product.main_thumb, product.name
        assert 1 <= product.n <= 3, product.name
        assert _longest_side(product.main_thumb) <= 400 < _longest_side(product.main_image) <= 1200
    image = ProductImage.objects.filter(product__shop=shop).first()
    assert _longest_side(image.thumb) <= 400
    shop.refresh_from_db()
    assert _longest_side(shop.logo) == 400  # drawn at 512, resized by the service
    assert _longest_side(shop.banner) == 1500  # drawn at 1600
    assert _longest_side(shop.banner_thumb) == 750


def test_demo_builds_a_whole_micro_mall():
    out = StringIO()
    call_command("demo", stdout=out)
    shop = Shop.objects.get()
    assert (shop.slug, shop.name, shop.is_default) == ("main", "私域优选", True)
    assert shop.slogan and shop.audience and shop.description
    _check_catalogue(shop)
    _check_skus(shop)
    _check_images(shop)
    templates = {t.name: t for t in ShippingTemplate.objects.filter(shop=shop)}
    assert len(templates) == 3
    assert [t.name for t in templates.values() if t.is_default] == ["满99包邮"]
    assert shipping_fee(templates["满99包邮"], subtotal=5000) == 800
    assert shipping_fee(templates["满99包邮"], subtotal=9900) == 0
    remote = templates["包邮（偏远地区加收）"]
    assert shipping_fee(remote, subtotal=5000, province="新疆维吾尔自治区") == 1500
    assert shipping_fee(remote, subtotal=5000, province="浙江省") == 0
    roles = set(StaffMember.objects.filter(shop=shop).values_list("role", flat=True))
    assert roles == {"owner", "operator", "service", "finance"}
    assert StaffMember.objects.filter(shop=shop).count() == 4
    shopper = Shopper.objects.get(phone_hash=lookup_hash("13600136004"))
    address = Address.objects.get(shop=shop, shopper=shopper)
    assert (address.phone, address.province, address.is_default) == ("13600136004", "新疆维吾尔自治区", True)
    assert Address.objects.filter(shop=shop).count() == Shopper.objects.count() == 6  # 5 + an invited friend
    assert "demo / demo12345" in out.getvalue()
    _check_activity(shop)


def _check_activity(shop: Shop) -> None:
    """Orders at every stage, and a customer pool imported from a Taobao export."""
    from siyu.customers.models import Customer, ExternalOrder, ImportJob, MemberLevel, Segment

    statuses = set(Order.objects.filter(shop=shop).values_list("status", flat=True))
    assert statuses == {"pending_payment", "paid", "shipped", "completed"}
    job = ImportJob.objects.get(shop=shop)
    assert job.imported == 120 and job.rejected == 1 and job.status == "done"
    assert Customer.objects.filter(shop=shop, source="taobao").count() == 120
    assert ExternalOrder.objects.filter(shop=shop).count() == job.total_rows - 1
    assert Customer.objects.filter(shop=shop, rfm_r__gt=0).count() >= 120
    assert MemberLevel.objects.filter(shop=shop).count() == 2
    assert Segment.objects.get(shop=shop).member_count >= 0
    _check_fission(shop)
    _check_promotions(shop)


def _check_promotions(shop: Shop) -> None:
    """One of each promotion kind, running, so the console and storefront show them."""
    from siyu.promotions.bargains.models import BargainCampaign
    from siyu.promotions.coupons.models import Coupon
    from siyu.promotions.discounts.models import LimitedTimeDiscount, ThresholdActivity
    from siyu.promotions.flashsales.models import FlashItem
    from siyu.promotions.groupbuys.models import GroupBuy

    assert Coupon.objects.get(shop=shop).status == "active"
    assert ThresholdActivity.objects.filter(shop=shop).count() == 1
    assert LimitedTimeDiscount.objects.filter(shop=shop).count() == 1
    item = FlashItem.objects.select_related("sku").get(session__shop=shop)
    assert item.stock_left > 0 and item.flash_price < item.sku.price
    assert GroupBuy.objects.filter(shop=shop).count() == 1
    assert BargainCampaign.objects.filter(shop=shop).count() == 1


def _check_fission(shop: Shop) -> None:
    """An invited friend with a completed first order, an approved promoter with a shared sale, a code batch."""
    from siyu.core.events import event_dispatch, events_pending
    from siyu.distribution.models import Commission, Promoter, TraceCode
    from siyu.referrals.models import ReferralBinding, ReferralReward

    for event_id in events_pending():  # what the worker does after the demo's transaction commits
        event_dispatch(event_id=event_id)
    assert ReferralBinding.objects.filter(shop=shop).count() == 1
    assert set(ReferralReward.objects.filter(shop=shop).values_list("role", "status")) == {
        ("referrer", "pending"),
        ("referee", "pending"),
    }
    promoter = Promoter.objects.get(shop=shop)
    assert promoter.status == "approved"
    assert Commission.objects.filter(promoter=promoter, status="frozen").exists()
    assert TraceCode.objects.filter(shop=shop).count() == 30


def test_if_empty_builds_once_then_does_nothing():
    call_command("demo", "--if-empty", "--products", "3", stdout=StringIO())
    counts = (Shop.objects.count(), Product.objects.count(), StaffMember.objects.count())
    assert counts == (1, 3, 4)
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert (Shop.objects.count(), Product.objects.count(), StaffMember.objects.count()) == counts
    assert out.getvalue().strip()  # says why nothing happened


def test_if_empty_respects_any_existing_shop(other_shop):
    call_command("demo", "--if-empty", stdout=StringIO())
    assert list(Shop.objects.all()) == [other_shop]


def test_building_twice_without_if_empty_is_a_clear_error():
    call_command("demo", "--products", "1", stdout=StringIO())
    with pytest.raises(CommandError) as excinfo:
        call_command("demo", "--products", "1", stdout=StringIO())
    assert "conflict" in str(excinfo.value)
    assert Product.objects.count() == 1


def test_products_option_spreads_over_categories():
    call_command("demo", "--products", "6", stdout=StringIO())
    tops = set(Product.objects.values_list("category__parent__name", flat=True))
    assert len(tops) == 6
    assert Product.objects.filter(featured_position__isnull=False).count() == 6


def test_demo_staff_can_log_in(client):
    call_command("demo", "--products", "1", stdout=StringIO())
    assert client.login(username="demo", password="demo12345")
    member = StaffMember.objects.get(user__username="demo")
    assert member.role == "owner" and member.can("staff.manage")
    for username in ("demo-ops", "demo-cs", "demo-finance"):
        assert client.login(username=username, password="demo12345")
    assert not client.login(username="demo", password="wrong-password")


class _Rollback(Exception):
    pass


def _snapshot(seed: int) -> list:
    try:
        with transaction.atomic():
            build_demo(seed=seed, products=5)
            rows = list(
                Sku.objects.filter(is_active=True)
                .order_by("product__name", "spec_key")
                .values_list("product__name", "spec_key", "price", "cost_price", "stock")
            )
            raise _Rollback
    except _Rollback:
        return rows


def test_same_seed_builds_the_same_shop():
    first, again, other = _snapshot(7), _snapshot(7), _snapshot(8)
    assert first == again
    assert first != other
    assert [r[:3] for r in first] == [r[:3] for r in other]  # the seed varies stock and costs, not the catalogue
