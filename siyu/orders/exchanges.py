"""Exchanges that ship: after the returned goods arrive, a replacement leaves the warehouse.

    awaiting_return ──goods received──► replacement_ready ──staff ship──► replacement_sent ──► exchanged
                     └─out of stock──► awaiting_stock ──stock back / staff retry──┘     (shopper or worker)

The replacement is the line's own SKU unless staff choose another SKU of the same product at the
same price (a size swap). It is taken from stock with one conditional UPDATE, never read and
compared in Python, so two exchanges racing for the last unit cannot both have it: the loser waits
(`awaiting_stock`), shown to staff, and is tried again by the worker when stock comes back or by
staff at once (perhaps with another SKU). No money moves in an exchange.

The public entries (`aftersale_exchange_*`) are re-exported by `siyu.payments.aftersales`, the one
home interfaces call; the worker calls `exchanges_retry_waiting` and `exchanges_auto_confirm_due`.

Locks (siyu/core/locks.py): the order, then the after-sale, then stock rows (sku pk order).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Sku
from siyu.core import locks
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import Actor, require
from siyu.core.soldout import soldout_clear_on_commit
from siyu.shops.models import Shop

from .aftersales import sale_lock, sale_of_shop
from .fulfilment import tracking_clean
from .lifecycle import order_lock, timeline_add
from .models import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderLine
from .states import AFTERSALE_STATES

A = AfterSaleStatus


def replacement_sku_for(*, line: OrderLine, sku_id: int | str | None) -> Sku:
    """The SKU an exchange sends: the line's own by default, or another active SKU of the same
    product at the same price as the line's SKU (so an exchange never hides a price change)."""
    if sku_id in (None, "") or str(sku_id) == str(line.sku_id):
        return line.sku
    try:
        sku_pk = int(sku_id)
    except (TypeError, ValueError):
        raise InvalidInput(detail={"replacement_sku": "not a whole number"}) from None
    sku = Sku.objects.filter(pk=sku_pk, shop_id=line.shop_id, product_id=line.product_id, is_active=True).first()
    if sku is None:
        raise InvalidInput(
            _("Choose another option of the same product."), detail={"replacement_sku": "not an option of this product"}
        )
    if sku.price != line.sku.price:
        raise InvalidInput(
            _("The replacement must cost the same as the item bought."), detail={"replacement_sku": "different price"}
        )
    return sku


def _sku_words(sku: Sku, quantity: int) -> str:
    return f"{sku.label or sku.product.name} × {quantity}"


def _take_replacement(*, order: Order, sale: AfterSale, actor, restock_sku_id: int | None) -> bool:
    """Put returned goods back (when `restock_sku_id`) and take the replacement, stock rows in pk
    order; move the exchange to replacement_ready, or to awaiting_stock when none is left.

    Locks: the caller holds the order and the after-sale; this takes the stock rows (rank STOCK).
    When both are the same SKU the returned unit goes back first, so it can be the replacement.
    """
    sku = sale.replacement_sku or sale.line.sku
    quantity = sale.quantity
    pks = sorted({pk for pk in (restock_sku_id, sku.pk) if pk is not None})
    locks.note_update(rank=locks.STOCK, table=Sku._meta.db_table, pks=pks)
    taken = False
    for pk in pks:
        if pk == restock_sku_id:
            Sku.objects.filter(pk=pk).update(stock=F("stock") + quantity)
            soldout_clear_on_commit(sku_ids=[pk])
        if pk == sku.pk:
            # The one conditional UPDATE: never below zero, never two exchanges for one unit.
            taken = bool(Sku.objects.filter(pk=pk, stock__gte=quantity).update(stock=F("stock") - quantity))
    words = _sku_words(sku, quantity)
    if taken:
        AFTERSALE_STATES.move(sale, to=A.REPLACEMENT_READY, actor=actor, why="replacement reserved")
        timeline_add(order=order, actor=actor, action="aftersale.replacement_reserved", note=words)
    elif sale.status != A.AWAITING_STOCK:
        AFTERSALE_STATES.move(sale, to=A.AWAITING_STOCK, actor=actor, why="out of stock")
        timeline_add(order=order, actor=actor, action="aftersale.awaiting_stock", note=words)
    return taken


def exchange_goods_received(*, order: Order, sale: AfterSale, actor) -> None:
    """An exchange's goods are back: restock them and reserve the replacement (or wait for stock).
    Locks: the caller holds the order and the after-sale; stock rows follow."""
    _take_replacement(order=order, sale=sale, actor=actor, restock_sku_id=sale.line.sku_id)


def _locked(*, shop: Shop, public_id: str) -> tuple[Order, AfterSale]:
    found = sale_of_shop(shop_id=shop.pk, public_id=public_id)
    order = order_lock(order_id=found.order_id)
    return order, sale_lock(sale_id=found.pk)


def aftersale_exchange_retry(
    *, actor: Actor, shop: Shop, public_id: str, replacement_sku_id: int | str | None = None
) -> AfterSale:
    """Staff try again to reserve a waiting exchange's replacement, perhaps choosing another SKU
    of the same product at the same price. Still none in stock: 409 replacement_out_of_stock and
    nothing changes. Locks: the order, the after-sale, the stock row."""
    require(actor, "orders.manage", shop_id=shop.pk)
    with transaction.atomic():
        order, sale = _locked(shop=shop, public_id=public_id)
        if sale.status != A.AWAITING_STOCK:
            raise Conflict(code="bad_transition", detail={"from": sale.status, "to": A.REPLACEMENT_READY})
        if replacement_sku_id not in (None, ""):
            sku = replacement_sku_for(line=sale.line, sku_id=replacement_sku_id)
            sale.replacement_sku = sku
            sale.save(update_fields=["replacement_sku", "updated_at"])
        if not _take_replacement(order=order, sale=sale, actor=actor, restock_sku_id=None):
            raise Conflict(_("The replacement is still out of stock."), code="replacement_out_of_stock")
    return sale


def exchanges_retry_waiting(*, limit: int = 200) -> int:
    """The worker: reserve replacements for exchanges waiting on stock that has come back, oldest
    request first. Each in its own transaction; the conditional UPDATE decides who gets a unit, so
    this may run beside staff retries and checkouts. Returns how many were reserved."""
    due = list(
        AfterSale.objects.filter(
            status=A.AWAITING_STOCK, kind=AfterSaleKind.EXCHANGE, replacement_sku__stock__gte=F("quantity")
        )
        .order_by("id")
        .values_list("id", "order_id")[:limit]
    )
    done = 0
    for sale_id, order_id in due:
        with transaction.atomic():
            order = order_lock(order_id=order_id)
            sale = sale_lock(sale_id=sale_id)
            if sale.status == A.AWAITING_STOCK:
                done += _take_replacement(order=order, sale=sale, actor="system", restock_sku_id=None)
    return done


def aftersale_exchange_ship(
    *, actor: Actor, shop: Shop, public_id: str, carrier: str, tracking_number: str
) -> AfterSale:
    """Staff send the reserved replacement with its own carrier and tracking number.
    Locks: the order, the after-sale."""
    require(actor, "orders.manage", shop_id=shop.pk)
    carrier, tracking_number = tracking_clean(carrier, tracking_number)
    with transaction.atomic():
        order, sale = _locked(shop=shop, public_id=public_id)
        fields = {
            "replacement_carrier": carrier,
            "replacement_tracking": tracking_number,
            "replacement_shipped_at": timezone.now(),
        }
        AFTERSALE_STATES.move(
            sale, to=A.REPLACEMENT_SENT, actor=actor, why=f"{carrier} {tracking_number}", fields=fields
        )
        timeline_add(
            order=order, actor=actor, action="aftersale.replacement_shipped", note=f"{carrier} {tracking_number}"
        )
    return sale


def _confirm(*, order: Order, sale: AfterSale, actor, note: str = "") -> None:
    AFTERSALE_STATES.move(
        sale, to=A.EXCHANGED, actor=actor, why=note or "received", fields={"replacement_received_at": timezone.now()}
    )
    timeline_add(order=order, actor=actor, action="aftersale.replacement_received", note=note)


def aftersale_exchange_received(*, shop: Shop, shopper: Shopper, public_id: str) -> AfterSale:
    """The shopper confirms the replacement arrived. Locks: the order, the after-sale."""
    with transaction.atomic():
        order, sale = _locked(shop=shop, public_id=public_id)
        if order.shopper_id != shopper.pk:
            raise NotFound(detail={"after_sale": str(public_id)[:20]})
        _confirm(order=order, sale=sale, actor=shopper)
    return sale


def exchanges_auto_confirm_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The worker: replacements shipped more than SIYU_AUTO_CONFIRM_DAYS ago count as received,
    as shipped orders do. Locks: each order, then its after-sale."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SIYU_AUTO_CONFIRM_DAYS)
    due = list(
        AfterSale.objects.filter(status=A.REPLACEMENT_SENT, replacement_shipped_at__lt=cutoff)
        .order_by("id")
        .values_list("id", "order_id")[:limit]
    )
    done = 0
    for sale_id, order_id in due:
        with transaction.atomic():
            order = order_lock(order_id=order_id)
            sale = sale_lock(sale_id=sale_id)
            if sale.status == A.REPLACEMENT_SENT:  # the shopper may have confirmed meanwhile
                _confirm(order=order, sale=sale, actor="system", note="auto-confirmed")
                done += 1
    return done
