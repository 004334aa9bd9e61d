"""Buying in a flash sale: the checkout line pricer, and the order subscribers that take and give
back the flash stock and the shopper's allowance.

A flash-sale order is "buy now" only: one line, the SKU of the item the shopper named with the
option `promotion="flash_sale:<item public id>"`. The pricer offers the flash price (exclusive,
holding its own stock, with the session's short payment deadline) only inside the session's
window and within the per-customer limit; anything else is refused with a stable code rather than
silently sold at the normal price.

In the order's own transaction (`order.placed`), in this order (siyu/core/locks.py rank STOCK,
taken last): the shopper's purchase counter (one upsert that refuses to pass the limit), the
FlashOrder row, then the item's flash stock (one conditional UPDATE, last: the hot row). A refusal raises Conflict and
rolls the whole order back. `order.cancelled` gives the units back exactly once (FlashOrder.released
flips once): to the flash stock while the session still holds it, else to the SKU's own stock.

Sold out is cheap: when the flash stock reaches 0 the item is marked in the cache, and buy
requests for it are refused from that mark without a query; every give-back clears it after commit.
A stale "available" is harmless: the conditional UPDATE decides.
"""

import functools
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Sku
from siyu.core import locks
from siyu.core.errors import Conflict, InvalidInput
from siyu.core.events import event_order_id
from siyu.core.prepared import PreparedRead, execute, insert_new
from siyu.core.soldout import soldout_clear_on_commit
from siyu.orders.models import OrderLine
from siyu.orders.pricing import LinePrice, PricingLine

from .models import FlashItem, FlashOrder, FlashPurchase, SessionStatus

KIND = "flash_sale"
PREFIX = KIND + ":"
SHARED_TTL, LOCAL_TTL = 300, 5


# --- the sold-out mark ----------------------------------------------------------------------


def _soldout_key(ref: str) -> str:
    return f"siyu:flash:soldout:{ref}"


def _ttl() -> int:
    # As siyu.core.soldout: a local-memory mark reaches only its own process, so it expires quickly.
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return SHARED_TTL if "redis" in backend.lower() else LOCAL_TTL


def flash_soldout(*, ref: str) -> bool:
    return cache.get(_soldout_key(ref)) is not None


def flash_soldout_mark(*, ref: str) -> None:
    cache.set(_soldout_key(ref), 1, _ttl())


def flash_soldout_clear_on_commit(*, ref: str) -> None:
    transaction.on_commit(lambda: cache.delete(_soldout_key(ref)))


def _sold_out() -> Conflict:
    return Conflict(_("This flash sale is sold out."), code="flash_sale_sold_out")


# --- the line pricer ------------------------------------------------------------------------


def item_ref(options: dict | None) -> str:
    """The item public id a shopper is buying through, or "" when the order is not a flash sale."""
    promotion = str((options or {}).get("promotion") or "")
    return promotion[len(PREFIX) :][:16] if promotion.startswith(PREFIX) else ""


def flash_line_price(*, shop, shopper, lines: list[PricingLine], options: dict, **_kw: Any) -> dict[int, LinePrice]:
    """Checkout's line pricer. No query unless the shopper asked for a flash sale."""
    ref = item_ref(options)
    if not ref:
        return {}
    if flash_soldout(ref=ref):
        raise _sold_out()
    found = _ITEM_READ.fetch(shape=shopper is not None, shop=shop.pk, ref=ref, shopper=getattr(shopper, "pk", None))
    item = found[0] if found else None
    if item is None:
        raise InvalidInput(_("This flash sale does not exist."), code="flash_sale_not_found", detail={"promotion": ref})
    session = item.session
    now = timezone.now()
    running = session.status == SessionStatus.SCHEDULED and session.starts_at <= now < session.ends_at
    if not running or not item.stock_taken or item.stock_returned:
        raise Conflict(_("This flash sale is not on now."), code="flash_sale_not_running", detail={"promotion": ref})
    if len(lines) != 1 or lines[0].sku_id != item.sku_id:
        raise InvalidInput(
            _("A flash sale item is bought on its own."), code="flash_sale_one_item", detail={"promotion": ref}
        )
    if lines[0].quantity + (getattr(item, "held", None) or 0) > item.per_customer_limit:
        raise Conflict(
            _("At most %(limit)s per customer.") % {"limit": item.per_customer_limit},
            code="flash_sale_limit",
            detail={"limit": item.per_customer_limit},
        )
    if item.stock_left <= 0:
        raise _sold_out()
    return {
        item.sku_id: LinePrice(
            unit_price=item.flash_price,
            kind=KIND,
            label=str(_("Flash sale")),
            ref=ref,
            exclusive=True,
            holds_stock=True,
            pay_minutes=session.pay_minutes,
        )
    }


_ITEM_FIELDS = (
    "sku_id",
    "flash_price",
    "stock_left",
    "per_customer_limit",
    "stock_taken",
    "stock_returned",
    "session__status",
    "session__starts_at",
    "session__ends_at",
    "session__pay_minutes",
)


def _item_query(*, shop_id: int, ref: str, shopper_id: int | None):
    items = FlashItem.objects.filter(shop_id=shop_id, public_id=ref).select_related("session").only(*_ITEM_FIELDS)
    if shopper_id is not None:
        # What the shopper already holds, in the same query: a second try is refused here, before
        # any transaction (the subscriber's conditional upsert still decides under a race).
        held = FlashPurchase.objects.filter(item=OuterRef("pk"), shopper_id=shopper_id).values("quantity")[:1]
        items = items.annotate(held=Subquery(held))
    return items.order_by("pk")[:1]


# Read by every flash-sale buy and quote: compiled once per shape (with a shopper or without).
_ITEM_READ = PreparedRead(
    FlashItem,
    _item_query,
    lambda with_shopper: (
        {"shop_id": -7_301_401, "ref": "stand-in-ref", "shopper_id": -7_301_403 if with_shopper else None},
        {"shop": -7_301_401, "ref": "stand-in-ref", "shopper": -7_301_403},
    ),
)


# --- taking the stock when the order is placed ------------------------------------------------

# Adds to the shopper's counter only while the sum stays within the limit: no row back = over it.
_ALLOWANCE_TAKE = (
    "INSERT INTO flashsales_flashpurchase (shop_id, item_id, shopper_id, quantity) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (item_id, shopper_id) DO UPDATE SET quantity = flashsales_flashpurchase.quantity + EXCLUDED.quantity "
    "WHERE flashsales_flashpurchase.quantity + EXCLUDED.quantity <= %s RETURNING quantity"
)
_FLASH_TAKE = (
    "UPDATE flashsales_flashitem SET stock_left = stock_left - %s "
    "WHERE id = %s AND stock_left >= %s AND NOT stock_returned RETURNING stock_left"
)


def _execute_one(sql: str, params: list) -> tuple | None:
    rows = execute(connection, sql, params)
    return rows[0] if rows else None


def _held_line_query(*, order: int, promotion: str):
    return (
        OrderLine.objects.filter(order_id=order, promotion=promotion, stock_held=True)
        .order_by("pk")
        .values_list("quantity", "order__shopper_id")[:1]
    )


def _item_limit_query(*, shop: int, ref: str):
    return (
        FlashItem.objects.filter(shop_id=shop, public_id=ref).order_by("pk").values_list("id", "per_customer_limit")[:1]
    )


# Read in every flash order's transaction: compiled once (siyu/core/prepared.py).
_HELD_LINE = PreparedRead.by_value(OrderLine, _held_line_query, order=-7_301_301, promotion="flash_sale:stand-in")
_ITEM_LIMIT = PreparedRead.by_value(FlashItem, _item_limit_query, shop=-7_301_303, ref="stand-in-ref")


def flash_take_on_place(event) -> None:
    """order.placed, in the order's transaction. Locks (rank STOCK): the purchase counter, then
    the item row, each by one conditional statement."""
    refs = [p[len(PREFIX) :] for p in event.payload.get("promotions") or [] if str(p).startswith(PREFIX)]
    if not refs:
        return  # not a flash-sale order: no query
    order_id = event_order_id(event)
    ref = refs[0]
    line = _HELD_LINE.rows(order=order_id, promotion=PREFIX + ref)
    found = _ITEM_LIMIT.rows(shop=event.shop_id, ref=ref)
    if not line or not found:
        raise Conflict(_("This flash sale is not on now."), code="flash_sale_not_running")
    (quantity, shopper_id), (item_id, limit) = line[0], found[0]
    locks.note_update(rank=locks.STOCK, table=FlashPurchase._meta.db_table, pks=[(item_id, shopper_id)])
    allowed = _execute_one(_ALLOWANCE_TAKE, [event.shop_id, item_id, shopper_id, quantity, limit])
    if allowed is None or quantity > limit:
        raise Conflict(
            _("At most %(limit)s per customer.") % {"limit": limit},
            code="flash_sale_limit",
            detail={"limit": limit},
        )
    insert_new(
        [
            FlashOrder(
                shop_id=event.shop_id, order_id=order_id, item_id=item_id, shopper_id=shopper_id, quantity=quantity
            )
        ]
    )
    # The hot row last, so its lock is held only from here to the commit.
    locks.note_update(rank=locks.STOCK, table=FlashItem._meta.db_table, pks=[item_id])
    left = _execute_one(_FLASH_TAKE, [quantity, item_id, quantity])
    if left is None:
        if quantity == 1:  # not even one left (a bigger quantity may still fit)
            flash_soldout_mark(ref=ref)
        raise _sold_out()
    if left[0] == 0:
        transaction.on_commit(functools.partial(flash_soldout_mark, ref=ref))


# --- giving it back when the order is cancelled ----------------------------------------------


def flash_release_on_cancel(event) -> None:
    """order.cancelled, in the cancellation's transaction (the order is locked). One query when the
    order was not a flash-sale order. Locks (rank STOCK): purchase counter, item, then the SKU."""
    order_id = event_order_id(event)
    held = FlashOrder.objects.filter(order_id=order_id, released=False).select_related("item").first()
    if held is None or not FlashOrder.objects.filter(pk=held.pk, released=False).update(released=True):
        return  # not a flash order, or its units went back already
    item = held.item
    locks.note_update(rank=locks.STOCK, table=FlashPurchase._meta.db_table, pks=[(item.pk, held.shopper_id)])
    FlashPurchase.objects.filter(item_id=item.pk, shopper_id=held.shopper_id, quantity__gte=held.quantity).update(
        quantity=F("quantity") - held.quantity
    )
    locks.note_update(rank=locks.STOCK, table=FlashItem._meta.db_table, pks=[item.pk])
    # While the session holds its stock the units go back to it; once it has ended (its leftover
    # returned), to the SKU. The session's end locks the item row first, so this UPDATE waits for
    # it and then sees stock_returned as it committed.
    if FlashItem.objects.filter(pk=item.pk, stock_returned=False).update(stock_left=F("stock_left") + held.quantity):
        flash_soldout_clear_on_commit(ref=item.public_id)
        return
    FlashItem.objects.filter(pk=item.pk).update(returned_quantity=F("returned_quantity") + held.quantity)
    locks.note_update(rank=locks.STOCK, table=Sku._meta.db_table, pks=[item.sku_id])
    Sku.objects.filter(pk=item.sku_id).update(stock=F("stock") + held.quantity)
    soldout_clear_on_commit(sku_ids=[item.sku_id])
