"""The demo shop's promotions: one of each kind, running from now, so a seller trying `make run`
finds them in the console and a shopper on the storefront (coupon centre, flash sale, group buy,
bargain, 满减, a limited-time price). Every one goes through its service, as the console does."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from siyu.accounts.models import StaffMember
from siyu.catalog.models import Product, Sku
from siyu.core.errors import DomainError
from siyu.promotions.bargains.campaigns import campaign_create as bargain_campaign_create
from siyu.promotions.coupons.services import coupon_activate, coupon_create
from siyu.promotions.discounts.limited import limited_save
from siyu.promotions.discounts.thresholds import threshold_save
from siyu.promotions.flashsales.services import flash_item_add, flash_session_create, flash_session_schedule
from siyu.promotions.groupbuys.campaigns import groupbuy_create
from siyu.shops.models import Shop


def _off(price: int, share: int) -> int:
    """`share` percent of a price, in whole yuan (what a seller would set)."""
    return max(100, price * share // 100 // 100 * 100)


def demo_promotions(*, shop: Shop, owner: StaffMember, products: list[Product]) -> list[str]:
    """Create and start the demo promotions; returns what was made (a kind a product's price floor
    refuses is skipped: the demo shows the rules it follows)."""
    now = timezone.now()
    window = {"starts_at": now - timedelta(minutes=1), "ends_at": now + timedelta(days=30)}
    found = [p.skus.filter(stock__gt=0).order_by("-stock", "pk").first() for p in products[:4]]
    skus: list[Sku] = [sku for sku in found if sku is not None]
    made: list[str] = []
    if len(skus) < 4:
        return made

    def attempt(name: str, create: Callable[[], object]) -> None:
        try:
            create()
        except DomainError:
            return
        made.append(name)

    def coupon():
        found = coupon_create(
            actor=owner,
            shop=shop,
            data={"name": "满100减20", "kind": "amount_off", "amount_off": 2000, "min_spend": 10000, "valid_days": 14},
        )
        coupon_activate(actor=owner, coupon=found)

    def threshold():
        threshold_save(
            actor=owner,
            shop=shop,
            data={
                "name": "满199减30",
                "mode": "amount",
                "tiers": [{"threshold": 19900, "value": 3000}],
                "stacks_with_coupons": True,
                **{k: v.isoformat() for k, v in window.items()},
            },
        )

    def flash():
        session = flash_session_create(
            actor=owner, shop=shop, name="今日秒杀", starts_at=window["starts_at"], ends_at=now + timedelta(days=2)
        )
        flash_item_add(
            actor=owner,
            shop=shop,
            session_id=session.public_id,
            sku_id=skus[0].pk,
            flash_price=_off(skus[0].price, 60),
            flash_stock=min(20, skus[0].stock),
            per_customer_limit=1,
        )
        flash_session_schedule(actor=owner, shop=shop, session_id=session.public_id)

    def group():
        groupbuy_create(
            actor=owner,
            shop=shop,
            data={
                "name": "两人成团",
                "product": products[1].public_id,
                "prices": {skus[1].pk: _off(skus[1].price, 80)},
                "group_size": 2,
                "hours": 24,
                "per_customer_limit": 2,
                **window,
            },
        )

    def bargain():
        bargain_campaign_create(
            actor=owner,
            shop=shop,
            data={
                "name": "好友帮砍",
                "sku_id": skus[2].pk,
                "floor_price": _off(skus[2].price, 50),
                "helps_needed": 5,
                "hours": 24,
                "stock_cap": 20,
                "buy_at_current": False,
                **window,
            },
        )

    def limited():
        limited_save(
            actor=owner,
            shop=shop,
            data={
                "name": "限时特惠",
                "per_customer_limit": 2,
                "items": [{"sku": skus[3].pk, "off_bp": 1500}],
                **{k: v.isoformat() for k, v in window.items()},
            },
        )

    for name, create in (
        ("coupon", coupon),
        ("threshold", threshold),
        ("flash_sale", flash),
        ("group_buy", group),
        ("bargain", bargain),
        ("limited_time", limited),
    ):
        attempt(name, create)
    return made
