"""Coupon definitions (create, change, start, end) and grants (claims, and grants by rules or pushes).

Counters: `Coupon.claimed` changes only by one conditional UPDATE (`_take`), never read-compare-
write, so 64 parallel claims of a total-1 coupon make exactly one grant. The per-customer limit is a
unique (coupon, shopper, slot) constraint: a claim takes slot "c<n+1>" where n is the claims the
shopper holds, so two parallel claims of one slot cannot both insert. No row locks are taken here.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Category, Product
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id
from siyu.core.permissions import require
from siyu.core.states import StateMachine
from siyu.shops.models import Shop

from .models import (
    Coupon,
    CouponGrant,
    CouponKind,
    CouponRule,
    CouponScope,
    CouponStatus,
    GrantSource,
    GrantStatus,
)

S = CouponStatus
COUPON_STATES = StateMachine(
    name="coupon",
    table={S.DRAFT: {S.ACTIVE, S.ENDED}, S.ACTIVE: {S.ENDED}, S.ENDED: set()},
    labels={s.value: s.label for s in CouponStatus},
)
GRANT_STATES = StateMachine(
    name="coupon_grant",
    table={
        GrantStatus.AVAILABLE: {GrantStatus.USED, GrantStatus.EXPIRED, GrantStatus.VOID},
        GrantStatus.USED: {GrantStatus.AVAILABLE},  # a cancel or a full refund gives it back
        GrantStatus.EXPIRED: set(),
        GrantStatus.VOID: set(),
    },
)

MAX_IDS = 200
CLAIM_SOURCES = (GrantSource.CENTRE, GrantSource.LINK)
# Fields a running coupon may still change: grants already made must keep meaning what they said.
LIVE_FIELDS = ("name", "public", "total", "per_customer", "rule")


# --- the per-shop flag (pages without coupons cost no query) -------------------------------


def _flag_key(shop_id: int) -> str:
    return f"coupons:centre:{shop_id}"


def shop_has_public_coupons(*, shop_id: int) -> bool:
    """Whether the shop runs an active public coupon, cached (5 minutes in a shared cache, 30
    seconds in local memory; dropped on every change here). A stale answer only shows or hides a
    panel for a while; no money depends on it."""
    found = cache.get(_flag_key(shop_id))
    if found is None:
        found = Coupon.objects.filter(shop_id=shop_id, status=S.ACTIVE, public=True).exists()
        shared = "redis" in settings.CACHES.get("default", {}).get("BACKEND", "").lower()
        # Local memory is per process: other processes learn of a change within 30 seconds.
        cache.set(_flag_key(shop_id), found, 300 if shared else 30)
    return bool(found)


def _flag_drop(shop_id: int) -> None:
    transaction.on_commit(lambda: cache.delete(_flag_key(shop_id)))


# --- definitions ---------------------------------------------------------------------------


def _int(data: dict, name: str, *, low: int = 0, high: int = 10**9, default: int | None = 0) -> Any:
    value: Any = data.get(name, default)
    if value is None or value == "":
        if default is None:
            return None
        value = default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(detail={name: "a whole number"}) from None
    if isinstance(value, bool) or not low <= number <= high:
        raise InvalidInput(detail={name: f"{low} to {high}"})
    return number


def _when(data: dict, name: str) -> datetime | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value.strip()) if len(value) <= 40 else None
        if parsed is None:
            raise InvalidInput(detail={name: "a date and time, e.g. 2025-01-31T23:59:00+08:00"})
        value = parsed
    if not isinstance(value, datetime):
        raise InvalidInput(detail={name: "a date and time"})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _ids(shop: Shop, data: dict, name: str, model) -> list[int]:
    raw = data.get(name) or []
    if not isinstance(raw, list | tuple) or len(raw) > MAX_IDS:
        raise InvalidInput(detail={name: f"a list of at most {MAX_IDS} ids"})
    try:
        ids = sorted({int(v) for v in raw})
    except (TypeError, ValueError):
        raise InvalidInput(detail={name: "ids are whole numbers"}) from None
    if ids and model.objects.filter(shop=shop, pk__in=ids).count() != len(ids):
        raise NotFound(detail={name: "not all of these belong to this shop"})
    return ids


def coupon_data_clean(*, shop: Shop, data: dict) -> dict:
    """Check a coupon definition (amounts in fen, rates in basis points); refuse with InvalidInput."""
    if not isinstance(data, dict):
        raise InvalidInput(detail={"coupon": "an object"})
    name = str(data.get("name") or "").strip()
    if not 1 <= len(name) <= 40:
        raise InvalidInput(_("Give the coupon a name of at most 40 characters."), detail={"name": "1 to 40"})
    kind = str(data.get("kind") or "")
    if kind not in CouponKind.values:
        raise InvalidInput(detail={"kind": f"one of {', '.join(CouponKind.values)}"})
    clean: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "amount_off": _int(data, "amount_off", high=10**8),
        "percent_off_bp": _int(data, "percent_off_bp", high=9999),
        "max_off": _int(data, "max_off", high=10**8),
        "min_spend": _int(data, "min_spend", high=10**9),
        "total": _int(data, "total", low=1, high=10**7, default=None),
        "per_customer": _int(data, "per_customer", low=1, high=100, default=1),
        "valid_days": _int(data, "valid_days", low=1, high=366, default=None),
        "valid_from": _when(data, "valid_from"),
        "valid_until": _when(data, "valid_until"),
        "public": bool(data.get("public", True)),
        "rule": str(data.get("rule") or ""),
    }
    if clean["rule"] not in CouponRule.values:
        raise InvalidInput(detail={"rule": f"one of {', '.join(v for v in CouponRule.values if v)} or empty"})
    if kind in (CouponKind.AMOUNT_OFF, CouponKind.NO_THRESHOLD) and not clean["amount_off"]:
        raise InvalidInput(_("Say how much the coupon takes off."), detail={"amount_off": "more than 0"})
    if kind == CouponKind.AMOUNT_OFF and not clean["min_spend"]:
        raise InvalidInput(_("Give the spend the coupon needs."), detail={"min_spend": "more than 0"})
    if kind == CouponKind.NO_THRESHOLD:
        clean["min_spend"] = 0
    if kind == CouponKind.PERCENT_OFF and not clean["percent_off_bp"]:
        raise InvalidInput(_("Say how much the coupon takes off."), detail={"percent_off_bp": "1 to 9999"})
    if kind != CouponKind.PERCENT_OFF:
        clean["percent_off_bp"], clean["max_off"] = 0, 0
    if kind in (CouponKind.PERCENT_OFF, CouponKind.FREE_SHIPPING):
        clean["amount_off"] = 0
    if clean["valid_days"] is None:
        if clean["valid_until"] is None:
            raise InvalidInput(
                _("Give an end date or a number of days after the claim."), detail={"valid_until": "required"}
            )
        if clean["valid_from"] and clean["valid_from"] >= clean["valid_until"]:
            raise InvalidInput(detail={"valid_from": "before valid_until"})
    else:
        clean["valid_from"], clean["valid_until"] = None, None
    scope = str(data.get("scope") or CouponScope.ALL)
    if scope not in CouponScope.values:
        raise InvalidInput(detail={"scope": f"one of {', '.join(CouponScope.values)}"})
    clean["scope"] = scope
    clean["category_ids"] = _ids(shop, data, "category_ids", Category) if scope == CouponScope.CATEGORIES else []
    clean["product_ids"] = _ids(shop, data, "product_ids", Product) if scope == CouponScope.PRODUCTS else []
    clean["excluded_product_ids"] = _ids(shop, data, "excluded_product_ids", Product)
    if scope != CouponScope.ALL and not (clean["category_ids"] or clean["product_ids"]):
        raise InvalidInput(_("Choose the categories or products the coupon is for."), detail={"scope": "empty"})
    return clean


def coupon_create(*, actor, shop: Shop, data: dict) -> Coupon:
    require(actor, "promotions.manage", shop_id=shop.pk)
    clean = coupon_data_clean(shop=shop, data=data)
    with transaction.atomic():
        coupon = Coupon.objects.create(shop=shop, public_id=public_id(12), **clean)
        audit_record(shop_id=shop.pk, actor=actor, action="coupon.create", target=coupon, data={"name": coupon.name})
    return coupon


def coupon_of_shop(*, shop: Shop, public_id: str) -> Coupon:
    coupon = Coupon.objects.filter(shop=shop, public_id=str(public_id or "")[:16]).first()
    if coupon is None:
        raise NotFound(_("This coupon does not exist."), detail={"coupon": str(public_id)[:16]})
    return coupon


def coupon_update(*, actor, coupon: Coupon, data: dict) -> Coupon:
    """Change a draft freely; a running coupon only its name, visibility, total and per-customer
    limit (the total never below what was already granted); an ended one not at all."""
    require(actor, "promotions.manage", shop_id=coupon.shop_id)
    if coupon.status == S.ENDED:
        raise Conflict(_("An ended coupon cannot be changed."), code="coupon_ended")
    if not isinstance(data, dict):
        raise InvalidInput(detail={"coupon": "an object"})
    current = {f: getattr(coupon, f) for f in _DEFINITION_FIELDS}
    clean = coupon_data_clean(shop=coupon.shop, data={**current, **data})
    if coupon.status == S.ACTIVE:
        locked = [f for f in clean if f not in LIVE_FIELDS and clean[f] != current[f]]
        if locked:
            raise Conflict(
                _("A running coupon can only change its name, visibility and quantities."),
                code="coupon_running",
                detail={"fields": locked},
            )
    changed = {f: v for f, v in clean.items() if v != current[f]}
    with transaction.atomic():
        moved = Coupon.objects.filter(pk=coupon.pk).filter(
            Q(total__isnull=True) | Q(claimed__lte=clean["total"] if clean["total"] is not None else F("claimed"))
        )
        if not moved.update(**clean, updated_at=timezone.now()):
            raise Conflict(
                _("The total cannot be below the coupons already given out."),
                code="total_below_claimed",
                detail={"claimed": coupon.claimed},
            )
        audit_record(
            shop_id=coupon.shop_id, actor=actor, action="coupon.update", target=coupon, data={"fields": sorted(changed)}
        )
        _flag_drop(coupon.shop_id)
    coupon.refresh_from_db()
    return coupon


_DEFINITION_FIELDS = (
    "name",
    "kind",
    "amount_off",
    "percent_off_bp",
    "max_off",
    "min_spend",
    "total",
    "per_customer",
    "valid_days",
    "valid_from",
    "valid_until",
    "public",
    "rule",
    "scope",
    "category_ids",
    "product_ids",
    "excluded_product_ids",
)


def coupon_activate(*, actor, coupon: Coupon) -> Coupon:
    require(actor, "promotions.manage", shop_id=coupon.shop_id)
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        if coupon.valid_until and coupon.valid_until <= timezone.now():
            raise Conflict(_("This coupon's dates are over."), code="coupon_expired")
        COUPON_STATES.move(coupon, to=S.ACTIVE, actor=actor, why="started")
        _flag_drop(coupon.shop_id)
    return coupon


def coupon_end(*, actor, coupon: Coupon, void_grants: bool = False) -> Coupon:
    """Stop claims. With `void_grants`, coupons not yet used become void too (one UPDATE)."""
    require(actor, "promotions.manage", shop_id=coupon.shop_id)
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        COUPON_STATES.move(coupon, to=S.ENDED, actor=actor, why="voided unused" if void_grants else "ended")
        if void_grants:
            GRANT_STATES.claim(
                CouponGrant.objects.filter(coupon=coupon), current=GrantStatus.AVAILABLE, to=GrantStatus.VOID
            )
        _flag_drop(coupon.shop_id)
    return coupon


# --- grants --------------------------------------------------------------------------------


def _take(coupon_id: int, count: int = 1) -> bool:
    """Count `count` more grants against the coupon's total: one conditional UPDATE."""
    return bool(
        Coupon.objects.filter(pk=coupon_id, status=S.ACTIVE)
        .filter(Q(total__isnull=True) | Q(total__gte=F("claimed") + count))
        .update(claimed=F("claimed") + count)
    )


def grant_validity(coupon: Coupon, now: datetime) -> tuple[datetime, datetime]:
    if coupon.valid_days:
        return now, now + timedelta(days=coupon.valid_days)
    assert coupon.valid_until is not None  # coupon_data_clean: dates or days
    return (coupon.valid_from or now), coupon.valid_until


def _new_grant(*, coupon: Coupon, shopper_id: int, slot: str, source: str, sharer_code: str, now) -> CouponGrant:
    valid_from, valid_until = grant_validity(coupon, now)
    return CouponGrant(
        shop_id=coupon.shop_id,
        coupon=coupon,
        shopper_id=shopper_id,
        public_id=public_id(12),
        slot=slot,
        source=source,
        sharer_code=str(sharer_code or "")[:12],
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _claimable(coupon: Coupon, now: datetime) -> None:
    if coupon.status != S.ACTIVE:
        raise Conflict(_("This coupon is not being given out now."), code="coupon_not_active")
    if coupon.valid_until and coupon.valid_until <= now:
        raise Conflict(_("This coupon's dates are over."), code="coupon_expired")


def coupon_claim(
    *, shop: Shop, shopper: Shopper, public_id: str, source: str = GrantSource.CENTRE, sharer_code: str = ""
) -> CouponGrant:
    """A shopper takes a coupon in the coupon centre or through a claim link (`source` "link",
    with the sharer's code). Refused: not running (409), none left (409 coupons_gone), the shopper
    already holds their limit (409 claim_limit). A link-only coupon is not found in the centre."""
    if source not in CLAIM_SOURCES:
        raise InvalidInput(detail={"source": "centre or link"})
    coupon = coupon_of_shop(shop=shop, public_id=public_id)
    if source == GrantSource.CENTRE and not coupon.public:
        raise NotFound(_("This coupon does not exist."), detail={"coupon": coupon.public_id})
    now = timezone.now()
    _claimable(coupon, now)
    for _attempt in range(3):
        held = CouponGrant.objects.filter(coupon=coupon, shopper=shopper, source__in=CLAIM_SOURCES).count()
        if held >= coupon.per_customer:
            raise Conflict(
                _("You already have as many of this coupon as one person may claim."),
                code="claim_limit",
                detail={"limit": coupon.per_customer},
            )
        grant = _new_grant(
            coupon=coupon, shopper_id=shopper.pk, slot=f"c{held + 1}", source=source, sharer_code=sharer_code, now=now
        )
        try:
            with transaction.atomic():
                if not _take(coupon.pk):
                    raise Conflict(_("This coupon has all been claimed."), code="coupons_gone")
                grant.save(force_insert=True)
            return grant
        except IntegrityError:
            continue  # a parallel claim took this slot (and its count went back with our savepoint)
    raise Conflict(_("Please try again."), code="claim_busy")


def coupon_grant_issue(*, coupon: Coupon, shopper_id: int, slot: str, source: str, now=None) -> CouponGrant | None:
    """Give a coupon by a rule or a push, once per (coupon, shopper, slot): None when that slot was
    given before, the coupon is not running or none is left. The per-customer limit is for claims."""
    now = now or timezone.now()
    if coupon.status != S.ACTIVE or (coupon.valid_until and coupon.valid_until <= now):
        return None
    grant = _new_grant(coupon=coupon, shopper_id=shopper_id, slot=slot[:40], source=source, sharer_code="", now=now)
    try:
        with transaction.atomic():
            if not _take(coupon.pk):
                return None
            grant.save(force_insert=True)
    except IntegrityError:
        return None
    return grant


def grants_expire_due(*, now=None) -> int:
    """Mark available grants past their end as expired (the worker runs this daily): one UPDATE."""
    now = now or timezone.now()
    return GRANT_STATES.claim(
        CouponGrant.objects.filter(valid_until__lte=now), current=GrantStatus.AVAILABLE, to=GrantStatus.EXPIRED
    )
