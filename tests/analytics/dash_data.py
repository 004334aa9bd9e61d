"""A small, hand-computable shop for the dashboard tests (dates are local, Asia/Shanghai, at noon).

Products: X (¥10, cost ¥5) and Y (¥20, cost ¥12) in category 茶; Z (¥10, cost ¥3), no category.
A  organic:  Jan 10 X ¥10 · Feb 10 X ¥10 · Mar 12 X ¥10
B  referral (bound to A Jan 19, ref A): Jan 20 Y ¥20 · Feb 25 X ¥10, fully refunded
C  promoter (ref P, an approved promoter): Feb 5 X + Y ¥30
D  organic:  Feb 15 Z ¥10 · Mar 1 Z ¥10
E  signed in Feb 20, no order; F  an unpaid order placed Mar 5.
All in 2024 (a leap year: Feb has 29 days).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from siyu.accounts.models import AgreementAcceptance, Shopper
from siyu.analytics.buyers import buyer_summary_refresh
from siyu.catalog.models import Product
from siyu.core.ids import public_id
from siyu.distribution.models import Promoter
from siyu.orders.models import Order, OrderLine, OrderStatus
from siyu.referrals.models import ReferralBinding

from ..factories import CategoryFactory, make_product, make_shopper


def local(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour), timezone.get_current_timezone())


def make_paid_order(
    shop, shopper, when: date | None, lines, *, ref_code: str = "", refunded: bool = False, placed=None
):
    """An order straight in the tables (no checkout rules matter here). `lines`: [(product, qty)];
    when=None leaves it unpaid. refunded=True refunds everything."""
    total = sum(p.price_min * q for p, q in lines)
    placed_at = local(placed or when)
    order = Order.objects.create(
        shop=shop,
        public_id=public_id(16),
        number=public_id(20),
        shopper=shopper,
        idempotency_key=public_id(16),
        subtotal=total,
        total=total,
        paid_amount=total if when else 0,
        refunded_amount=total if refunded else 0,
        status=(OrderStatus.CLOSED if refunded else OrderStatus.COMPLETED) if when else OrderStatus.PENDING_PAYMENT,
        recipient="测试",
        phone="13800138000",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address_detail="文三路 1 号",
        ref_code=ref_code,
        pay_deadline=placed_at + timedelta(minutes=30),
        paid_at=local(when) if when else None,
    )
    Order.objects.filter(pk=order.pk).update(created_at=placed_at)
    for product, quantity in lines:
        sku = product.skus.first()
        OrderLine.objects.create(
            order=order,
            shop=shop,
            sku=sku,
            product=product,
            product_name=product.name,
            unit_price=sku.price,
            list_price=sku.price,
            quantity=quantity,
            line_total=sku.price * quantity,
            return_policy="no_reason_7d",
            refunded_quantity=quantity if refunded else 0,
            refunded_amount=sku.price * quantity if refunded else 0,
        )
    # Straight into the tables, past the events: refresh the buyer summary as their handlers would.
    buyer_summary_refresh(shop_id=shop.pk, shopper_id=shopper.pk)
    return order


@dataclass
class World:
    shop: object
    x: Product
    y: Product
    z: Product
    a: Shopper
    b: Shopper
    c: Shopper
    d: Shopper
    e: Shopper
    f: Shopper
    p: Shopper


def _product(shop, name: str, price: int, cost: int | None, category=None) -> Product:
    product = make_product(shop, name=name, price=price, category=category)
    product.skus.update(cost_price=cost)
    return product


def build(shop) -> World:
    tea = CategoryFactory(shop=shop, name="茶")
    x = _product(shop, "X", 1000, 500, tea)
    y = _product(shop, "Y", 2000, 1200, tea)
    z = _product(shop, "Z", 1000, 300)
    a, b, c, d, e, f, p = (make_shopper() for _ in range(7))
    Promoter.objects.create(
        shop=shop, shopper=p, status=Promoter.Status.APPROVED, real_name="推广", id_number="x", id_number_hash="h"
    )
    binding = ReferralBinding.objects.create(
        shop=shop, referee=b, referrer_shopper=a, code=a.share_code, expires_at=local(date(2024, 2, 19))
    )
    ReferralBinding.objects.filter(pk=binding.pk).update(bound_at=local(date(2024, 1, 19)))
    AgreementAcceptance.objects.create(shop=shop, shopper=e, version="v1", accepted_at=local(date(2024, 2, 20)))
    make_paid_order(shop, a, date(2024, 1, 10), [(x, 1)])
    make_paid_order(shop, a, date(2024, 2, 10), [(x, 1)])
    make_paid_order(shop, a, date(2024, 3, 12), [(x, 1)])
    make_paid_order(shop, b, date(2024, 1, 20), [(y, 1)], ref_code=a.share_code)
    make_paid_order(shop, b, date(2024, 2, 25), [(x, 1)], refunded=True)
    make_paid_order(shop, c, date(2024, 2, 5), [(x, 1), (y, 1)], ref_code=p.share_code)
    make_paid_order(shop, d, date(2024, 2, 15), [(z, 1)])
    make_paid_order(shop, d, date(2024, 3, 1), [(z, 1)])
    make_paid_order(shop, f, None, [(z, 1)], placed=date(2024, 3, 5))
    return World(shop, x, y, z, a, b, c, d, e, f, p)
