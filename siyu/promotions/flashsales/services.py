"""Setting up flash sales: sessions and their items, scheduling (which takes the flash stock out of
the SKUs' stock) and ending (which puts what is left back, exactly once).

Locks, always in this order (siyu/core/locks.py): the session row (rank SHOP, a promotion-level
row), then each item row and its SKU's stock (rank STOCK, item pk order). Permission:
promotions.manage for every change.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import ProductStatus, Sku
from siyu.core import locks
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import Actor, require
from siyu.core.soldout import soldout_clear_on_commit
from siyu.core.states import StateMachine
from siyu.shops.models import Shop

from .buying import flash_soldout_clear_on_commit
from .models import FlashItem, FlashSession, SessionStatus
from .selectors import flash_flag_forget

S = SessionStatus
SESSION_STATES = StateMachine(
    name="flash_session",
    table={S.DRAFT: {S.SCHEDULED, S.ENDED}, S.SCHEDULED: {S.ENDED}, S.ENDED: set()},
    labels=dict(S.choices),
)
MAX_LIMIT = 99
MAX_PAY_MINUTES = 30
MAX_SESSION_DAYS = 31
PERM = "promotions.manage"


def _clean_session(*, name, starts_at, ends_at, pay_minutes) -> dict:
    name = str(name or "").strip()
    if not 1 <= len(name) <= 60:
        raise InvalidInput(_("Give the session a name (at most 60 characters)."), detail={"name": "1 to 60 characters"})
    if not isinstance(starts_at, datetime) or not isinstance(ends_at, datetime):
        raise InvalidInput(detail={"starts_at": "a date and time"})
    if not all(2000 <= v.year <= 2100 for v in (starts_at, ends_at)):
        raise InvalidInput(detail={"starts_at": "between the years 2000 and 2100"})
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        starts_at, ends_at = (timezone.make_aware(v) if timezone.is_naive(v) else v for v in (starts_at, ends_at))
    if ends_at <= starts_at:
        raise InvalidInput(_("The session must end after it starts."), detail={"ends_at": "after starts_at"})
    if ends_at - starts_at > timedelta(days=MAX_SESSION_DAYS):
        raise InvalidInput(detail={"ends_at": f"at most {MAX_SESSION_DAYS} days after starts_at"})
    if ends_at <= timezone.now():
        raise InvalidInput(_("The session must end in the future."), detail={"ends_at": "in the future"})
    try:
        pay_minutes = int(pay_minutes)
    except (TypeError, ValueError):
        raise InvalidInput(detail={"pay_minutes": "a whole number"}) from None
    if not 1 <= pay_minutes <= MAX_PAY_MINUTES:
        raise InvalidInput(detail={"pay_minutes": f"1 to {MAX_PAY_MINUTES}"})
    return {"name": name, "starts_at": starts_at, "ends_at": ends_at, "pay_minutes": pay_minutes}


def flash_session_create(*, actor: Actor, shop: Shop, name, starts_at, ends_at, pay_minutes=5) -> FlashSession:
    require(actor, PERM, shop_id=shop.pk)
    fields = _clean_session(name=name, starts_at=starts_at, ends_at=ends_at, pay_minutes=pay_minutes)
    with transaction.atomic():
        session = FlashSession.objects.create(shop=shop, **fields)
        audit_record(shop_id=shop.pk, actor=actor, action="flash_session.create", target=session, data={})
    return session


def _session_locked(*, shop: Shop, session_id: str) -> FlashSession:
    session = locks.lock_one(FlashSession.objects.filter(shop=shop, public_id=str(session_id)), rank=locks.SHOP)
    if session is None:
        raise NotFound(detail={"session": session_id})
    return session


def _draft_only(session: FlashSession) -> None:
    if session.status != S.DRAFT:
        raise Conflict(
            _("A scheduled session cannot be changed; end it instead."),
            code="flash_session_not_draft",
            detail={"status": session.status},
        )


def flash_session_update(
    *, actor: Actor, shop: Shop, session_id: str, name, starts_at, ends_at, pay_minutes
) -> FlashSession:
    """Change a draft session. Locks: the session."""
    require(actor, PERM, shop_id=shop.pk)
    fields = _clean_session(name=name, starts_at=starts_at, ends_at=ends_at, pay_minutes=pay_minutes)
    with transaction.atomic():
        session = _session_locked(shop=shop, session_id=session_id)
        _draft_only(session)
        for key, value in fields.items():
            setattr(session, key, value)
        session.save()
    return session


def flash_session_delete(*, actor: Actor, shop: Shop, session_id: str) -> None:
    """Delete a draft session and its items (nothing was taken from stock yet). Locks: the session."""
    require(actor, PERM, shop_id=shop.pk)
    with transaction.atomic():
        session = _session_locked(shop=shop, session_id=session_id)
        _draft_only(session)
        audit_record(shop_id=shop.pk, actor=actor, action="flash_session.delete", target=session, data={})
        session.delete()


def _clean_item(*, sku: Sku, flash_price, flash_stock, per_customer_limit) -> dict:
    try:
        flash_price, flash_stock, limit = int(flash_price), int(flash_stock), int(per_customer_limit)
    except (TypeError, ValueError):
        raise InvalidInput(detail={"item": "price, stock and limit are whole numbers"}) from None
    if not 1 <= flash_price <= sku.price:
        # 409: the bound is the SKU's current price, not something the request alone can get wrong.
        raise Conflict(
            _("The flash price must be above zero and not above the SKU's price."),
            code="flash_price_too_high",
            detail={"flash_price": f"1 to {sku.price}"},
        )
    if not 1 <= flash_stock <= 1_000_000:
        raise InvalidInput(detail={"flash_stock": "1 to 1000000"})
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(detail={"per_customer_limit": f"1 to {MAX_LIMIT}"})
    return {"flash_price": flash_price, "flash_stock": flash_stock, "per_customer_limit": limit}


def _sku_of(shop: Shop, sku_id) -> Sku:
    try:
        pk = int(sku_id)
    except (TypeError, ValueError):
        raise InvalidInput(detail={"sku": "an id"}) from None
    sku = Sku.objects.filter(shop=shop, pk=pk).select_related("product").first()
    if sku is None:
        raise NotFound(detail={"sku": pk})
    return sku


def flash_item_add(
    *, actor: Actor, shop: Shop, session_id: str, sku_id, flash_price, flash_stock, per_customer_limit=1
) -> FlashItem:
    """Add a SKU to a draft session. Locks: the session."""
    require(actor, PERM, shop_id=shop.pk)
    sku = _sku_of(shop, sku_id)
    fields = _clean_item(
        sku=sku, flash_price=flash_price, flash_stock=flash_stock, per_customer_limit=per_customer_limit
    )
    with transaction.atomic():
        session = _session_locked(shop=shop, session_id=session_id)
        _draft_only(session)
        if FlashItem.objects.filter(session=session, sku=sku).exists():
            raise Conflict(_("This SKU is already in the session."), code="flash_item_exists", detail={"sku": sku.pk})
        return FlashItem.objects.create(shop=shop, session=session, sku=sku, product_id=sku.product_id, **fields)


def flash_item_update(
    *, actor: Actor, shop: Shop, item_id: str, flash_price, flash_stock, per_customer_limit
) -> FlashItem:
    """Change an item of a draft session. Locks: its session."""
    require(actor, PERM, shop_id=shop.pk)
    item = FlashItem.objects.filter(shop=shop, public_id=str(item_id)).select_related("sku", "session").first()
    if item is None:
        raise NotFound(detail={"item": item_id})
    fields = _clean_item(
        sku=item.sku, flash_price=flash_price, flash_stock=flash_stock, per_customer_limit=per_customer_limit
    )
    with transaction.atomic():
        _draft_only(_session_locked(shop=shop, session_id=item.session.public_id))
        FlashItem.objects.filter(pk=item.pk).update(**fields)
    item.refresh_from_db()
    return item


def flash_item_remove(*, actor: Actor, shop: Shop, item_id: str) -> None:
    require(actor, PERM, shop_id=shop.pk)
    item = FlashItem.objects.filter(shop=shop, public_id=str(item_id)).select_related("session").first()
    if item is None:
        raise NotFound(detail={"item": item_id})
    with transaction.atomic():
        _draft_only(_session_locked(shop=shop, session_id=item.session.public_id))
        FlashItem.objects.filter(pk=item.pk).delete()


def flash_session_schedule(*, actor: Actor, shop: Shop, session_id: str) -> FlashSession:
    """Publish a draft session: take each item's flash stock out of its SKU's stock with one
    conditional UPDATE (all items or none: not enough stock for one refuses the whole session).
    Locks: the session, then the SKU rows (item pk order)."""
    require(actor, PERM, shop_id=shop.pk)
    with transaction.atomic():
        session = _session_locked(shop=shop, session_id=session_id)
        SESSION_STATES.check(session.status, S.SCHEDULED)
        if session.ends_at <= timezone.now():
            raise Conflict(_("This session is already over."), code="flash_session_over")
        items = list(FlashItem.objects.filter(session=session).select_related("sku__product").order_by("pk"))
        if not items:
            raise Conflict(_("Add at least one item first."), code="flash_session_empty")
        for item in items:
            if not item.sku.is_active or item.sku.product.status != ProductStatus.ON_SALE:
                raise Conflict(_("An item is not on sale."), code="flash_item_not_on_sale", detail={"sku": item.sku_id})
            locks.note_update(rank=locks.STOCK, table=Sku._meta.db_table, pks=[item.sku_id])
            if not Sku.objects.filter(pk=item.sku_id, stock__gte=item.flash_stock).update(
                stock=F("stock") - item.flash_stock
            ):
                raise Conflict(
                    _("Not enough stock for the flash stock of an item."),
                    code="insufficient_stock",
                    detail={"sku": item.sku_id, "flash_stock": item.flash_stock},
                )
        FlashItem.objects.filter(session=session).update(stock_taken=True, stock_left=F("flash_stock"))
        SESSION_STATES.move(session, to=S.SCHEDULED, actor=actor, why="scheduled")
        for item in items:
            flash_soldout_clear_on_commit(ref=item.public_id)
        transaction.on_commit(lambda: flash_flag_forget(shop_id=shop.pk))
    return session


def flash_session_end(*, shop: Shop, session_id: str, actor: Actor | str = "system") -> FlashSession:
    """End a session (staff at any time, or the worker when its time is up): what is left of each
    item's flash stock goes back to its SKU, exactly once. Locks: the session, then each item
    (pk order) and its SKU."""
    if not isinstance(actor, str):
        require(actor, PERM, shop_id=shop.pk)
    with transaction.atomic():
        session = _session_locked(shop=shop, session_id=session_id)
        if session.status == S.ENDED:
            return session
        SESSION_STATES.check(session.status, S.ENDED)
        returned: list[int] = []
        for item in locks.lock_rows(FlashItem.objects.filter(session=session), rank=locks.STOCK):
            if not item.stock_taken or item.stock_returned:
                continue
            left = item.stock_left
            FlashItem.objects.filter(pk=item.pk).update(stock_left=0, stock_returned=True, returned_quantity=left)
            if left:
                locks.note_update(rank=locks.STOCK, table=Sku._meta.db_table, pks=[item.sku_id])
                Sku.objects.filter(pk=item.sku_id).update(stock=F("stock") + left)
                returned.append(item.sku_id)
        soldout_clear_on_commit(sku_ids=returned)
        SESSION_STATES.move(session, to=S.ENDED, actor=actor, why="ended")
        transaction.on_commit(lambda: flash_flag_forget(shop_id=shop.pk))
    return session


def flash_sessions_end_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """End every scheduled session whose time is up (the worker, every minute). One query when none is."""
    now = now or timezone.now()
    due = list(
        FlashSession.objects.filter(status=S.SCHEDULED, ends_at__lte=now)
        .select_related("shop")
        .order_by("ends_at", "id")[:limit]
    )
    for session in due:
        flash_session_end(shop=session.shop, session_id=session.public_id, actor="system")
    return len(due)
