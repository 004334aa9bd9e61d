"""Shared steps for the promoter, commission and wallet tests."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F

from siyu.accounts.models import Address, Shopper
from siyu.accounts.services import address_create
from siyu.catalog.models import Product
from siyu.distribution import ledger
from siyu.distribution.models import Commission, DistributionSettings, Promoter
from siyu.distribution.promoters import promoter_apply, promoter_decide
from siyu.orders import lifecycle
from siyu.orders.fulfilment import order_ship
from siyu.orders.models import Order
from siyu.payments.aftersales import aftersale_review
from siyu.shops.models import Shop

from ..factories import make_product, make_shopper
from ..orders.helpers import ask, pay, place

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int = 1, born: str = "19900307") -> str:
    """A valid 18-character ID number (Hangzhou, the given birth date, a serial)."""
    body = f"330106{born}{serial % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def address_for(shop: Shop, shopper: Shopper, detail: str = "文三路 1 号", phone: str = "13800138000") -> Address:
    return address_create(
        shop=shop,
        shopper=shopper,
        data={
            "recipient": "买家",
            "phone": phone,
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": detail,
        },
    )


def approved_promoter(shop: Shop, owner, shopper: Shopper | None = None, parent: Promoter | None = None) -> Promoter:
    shopper = shopper or make_shopper()
    promoter = promoter_apply(
        shop=shop,
        shopper=shopper,
        real_name="张三",
        id_number=id_number(Promoter.objects.count() + 1),
        payout_kind="alipay",
        payout_account="zhangsan@example.com",
        parent_code=parent.shopper.share_code if parent else "",
    )
    return promoter_decide(actor=owner, promoter=promoter, approve=True)


@dataclass
class World:
    shop: Shop
    owner: object
    promoter: Promoter
    buyer: Shopper
    address: Address
    tea: Product


def world(shop: Shop, owner, *, price: int = 10000, **settings) -> World:
    if settings:
        DistributionSettings.objects.update_or_create(shop=shop, defaults=settings)
    promoter = approved_promoter(shop, owner)
    buyer = make_shopper()
    return World(
        shop=shop,
        owner=owner,
        promoter=promoter,
        buyer=buyer,
        address=address_for(shop, buyer),
        tea=make_product(shop, name="龙井", price=price, stock=100),
    )


def referred_order(w: World, *, quantity: int = 1, buyer: Shopper | None = None, address=None, product=None, **extra):
    """Placed through the promoter's link and paid; run inside capture_on_commit(execute=True)."""
    order = place(
        w.shop,
        buyer or w.buyer,
        address or w.address,
        product or w.tea,
        quantity=quantity,
        ref_code=w.promoter.shopper.share_code,
        **extra,
    )
    pay(order)
    order.refresh_from_db()
    return order


def ship_and_receive(w: World, order) -> None:
    order_ship(actor=w.owner, order_id=order.pk, carrier="中通", tracking_number="ZT" + secrets.token_hex(4))
    lifecycle.order_confirm_receipt(order_id=order.pk, actor=order.shopper)
    order.refresh_from_db()


def refund_line(w: World, order, quantity: int, line=None, reason_code: str = "other"):
    line = line or order.lines.order_by("id").first()
    sale = ask(order, line, "refund_only", quantity, reason_code)
    aftersale_review(actor=w.owner, shop=w.shop, public_id=sale.public_id, approve=True)
    return sale  # the refund settles after commit: refresh it after leaving capture_on_commit


def received_days_ago(order, days: int) -> None:
    """Move a received order's receipt `days` back, and let its commissions learn their settlement
    date again from it (as the hourly settlement does for commissions that have none)."""
    Order.objects.filter(pk=order.pk).update(received_at=F("received_at") - timedelta(days=days))
    Commission.objects.filter(order_id=order.pk).update(settle_after=None)
    order.refresh_from_db()


def fund(promoter: Promoter, amount: int) -> None:
    """Settled money in the promoter's available account, as commission settlement leaves it."""
    ledger.post(
        shop_id=promoter.shop_id,
        lines=ledger.transfer(
            ledger.shop_account(promoter.shop_id, ledger.EXPENSE),
            ledger.promoter_account(promoter, ledger.AVAILABLE),
            amount,
        ),
        ref_type="commission",
        ref_id=0,
    )
