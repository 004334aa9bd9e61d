"""Journey services: create and change a journey, switch it on and off, the default set, and the
tracked link. Reading needs promotions.view, changing promotions.manage. Locks: the journey row.

Enrolling and sending run in the worker (siyu/campaigns/journeys/tasks.py).
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from siyu.campaigns.outreach.services import CHANNELS, int_field, text_check
from siyu.campaigns.outreach.tracking import target_path
from siyu.catalog.models import Product
from siyu.core import locks
from siyu.core.audit import actor_describe, audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id
from siyu.core.permissions import require
from siyu.promotions.coupons.models import Coupon, CouponStatus
from siyu.shops.models import Shop

from .models import Journey, JourneyEnrolment, JourneyKind, JourneyTarget, JourneyVariant

MANAGE, VIEW = "promotions.manage", "promotions.view"
MERGE_FIELDS = frozenset({"name", "shop", "product", "link"})
MAX_VARIANTS = 4
MAX_HOLDOUT_BP = 5000
MAX_DELAY_HOURS = 24 * 90


def _variants(data: dict) -> list[dict]:
    raw = data.get("variants")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_VARIANTS:
        raise InvalidInput(detail={"variants": f"1 to {MAX_VARIANTS} variants"})
    cleaned = []
    for i, item in enumerate(raw):
        item = item if isinstance(item, dict) else {"text": item}
        text = str(item.get("text") or "").strip()
        subject = str(item.get("subject") or "").strip()
        if not 1 <= len(text) <= 500 or len(subject) > 80:
            raise InvalidInput(detail={f"variants.{i}.text": "1 to 500 characters (subject at most 80)"})
        problem = text_check(text, MERGE_FIELDS)
        if problem:
            raise InvalidInput(detail={f"variants.{i}.text": problem})
        cleaned.append({"text": text, "subject": subject})
    return cleaned


def _coupon(shop: Shop, ref: Any) -> Coupon | None:
    if ref in (None, ""):
        return None
    coupon = Coupon.objects.filter(shop=shop, public_id=str(ref)[:16]).first()
    if coupon is None:
        raise NotFound(_("This coupon does not exist."), detail={"coupon": str(ref)[:16]})
    if coupon.status == CouponStatus.ENDED:
        raise Conflict(_("This coupon is over."), code="coupon_over", detail={"coupon": coupon.public_id})
    return coupon


def _settings_conflict(detail: dict) -> Conflict:
    return Conflict(_("These settings do not go together."), code="settings_conflict", detail=detail)


def _target(shop: Shop, data: dict, coupon: Coupon | None) -> tuple[str, str]:
    target = str(data.get("target") or JourneyTarget.HOME)
    if target not in JourneyTarget.values:
        raise InvalidInput(detail={"target": "home, product or coupon"})
    if target == JourneyTarget.COUPON and coupon is None:
        raise _settings_conflict({"coupon": "choose the coupon whose page the link opens"})
    if target != JourneyTarget.PRODUCT:
        return target, ""
    ref = str(data.get("target_ref") or "")[:20]
    if not ref:
        raise _settings_conflict({"target_ref": "a product page needs the product's id"})
    if not Product.objects.filter(shop=shop, public_id=ref).exists():
        raise NotFound(_("This product does not exist."), detail={"target_ref": ref})
    return target, ref


def journey_data_clean(*, shop: Shop, data: dict, kind: str | None = None) -> dict:
    """Check a journey form (console or API) and resolve its references within the shop. `kind`
    is the journey's own when changing one (a journey's trigger never changes)."""
    name = str(data.get("name") or "").strip()
    if not 1 <= len(name) <= 60:
        raise InvalidInput(detail={"name": "required, at most 60 characters"})
    kind = kind or str(data.get("kind") or "")
    if kind not in JourneyKind.values:
        raise InvalidInput(detail={"kind": f"one of {', '.join(JourneyKind.values)}"})
    channel = str(data.get("channel") or "")
    if channel not in CHANNELS:
        raise InvalidInput(detail={"channel": f"one of {', '.join(CHANNELS)}"})
    coupon = _coupon(shop, data.get("coupon"))
    target, target_ref = _target(shop, data, coupon)
    return {
        "name": name,
        "kind": kind,
        "channel": channel,
        "delay_hours": int_field(data, "delay_hours", low=0, high=MAX_DELAY_HOURS, default=0),
        "holdout_bp": int_field(data, "holdout_bp", low=0, high=MAX_HOLDOUT_BP, default=1000),
        "target": target,
        "target_ref": target_ref,
        "coupon": coupon,
        "attribution_days": int_field(data, "attribution_days", low=1, high=60, default=7),
        "margin_bp": int_field(data, "margin_bp", low=0, high=10000, default=3000),
        "variants": _variants(data),
    }


def _write_variants(journey: Journey, variants: list[dict]) -> None:
    """Variants change in place by letter, so enrolments keep theirs; a letter that is dropped
    is deleted only if nobody was dealt it (409 variant_in_use otherwise)."""
    existing = {v.index: v for v in JourneyVariant.objects.filter(journey=journey)}
    dropped = [v.pk for i, v in existing.items() if i >= len(variants)]
    if dropped and JourneyEnrolment.objects.filter(variant_id__in=dropped).exists():
        raise Conflict(
            _("Customers were already dealt a variant you removed; change its text instead."),
            code="variant_in_use",
        )
    JourneyVariant.objects.filter(pk__in=dropped).delete()
    for i, v in enumerate(variants):
        if i in existing:
            JourneyVariant.objects.filter(pk=existing[i].pk).update(text=v["text"], subject=v["subject"])
        else:
            JourneyVariant.objects.create(journey=journey, index=i, text=v["text"], subject=v["subject"])


def _audit(journey: Journey, actor, what: str, data: dict | None = None) -> None:
    audit_record(shop_id=journey.shop_id, actor=actor, action=f"journey.{what}", target=journey, data=data)


def journey_create(*, actor, shop: Shop, data: dict) -> Journey:
    """A journey, switched off until `journey_activate` (promotions.manage)."""
    require(actor, MANAGE, shop_id=shop.pk)
    cleaned = journey_data_clean(shop=shop, data=data)
    variants = cleaned.pop("variants")
    with transaction.atomic():
        journey = Journey.objects.create(
            shop=shop, public_id=public_id(12), created_by=actor_describe(actor)[1][:120], **cleaned
        )
        _write_variants(journey, variants)
        _audit(journey, actor, "create")
    return journey


def journey_of_shop(*, shop: Shop, public_id: str, lock: bool = False) -> Journey:
    rows = Journey.objects.filter(shop=shop, public_id=str(public_id)[:16])
    journey = (rows.select_for_update() if lock else rows).first()
    if journey is None:
        raise NotFound(_("This journey does not exist."), detail={"journey": str(public_id)[:16]})
    return journey


def journey_update(*, actor, shop: Shop, public_id: str, data: dict) -> Journey:
    """Change a journey's settings and texts, on or off (its kind stays). Who was already enrolled
    keeps their group and attribution window. Locks: the journey row."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        journey = journey_of_shop(shop=shop, public_id=public_id, lock=True)
        cleaned = journey_data_clean(shop=shop, data=data, kind=journey.kind)
        variants = cleaned.pop("variants")
        for key, value in cleaned.items():
            setattr(journey, key, value)
        journey.save()
        _write_variants(journey, variants)
        _audit(journey, actor, "update")
    return journey


def journey_activate(*, actor, shop: Shop, public_id: str, now: datetime | None = None) -> Journey:
    """Switch a journey on. Moments from before now (less a day's grace) are not caught up, except
    lapsing customers for win-back. Locks: the journey row."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        journey = journey_of_shop(shop=shop, public_id=public_id, lock=True)
        if journey.active:
            return journey
        if journey.coupon_id and not Coupon.objects.filter(pk=journey.coupon_id, status=CouponStatus.ACTIVE).exists():
            raise Conflict(_("Start the coupon before the journey that gives it."), code="coupon_not_active")
        journey.active, journey.active_since = True, now or timezone.now()
        journey.save(update_fields=["active", "active_since", "updated_at"])
        _audit(journey, actor, "activate")
    return journey


def journey_pause(*, actor, shop: Shop, public_id: str) -> Journey:
    """Switch a journey off: nobody new is enrolled and nothing more is sent (its results stay)."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        journey = journey_of_shop(shop=shop, public_id=public_id, lock=True)
        if journey.active:
            journey.active = False
            journey.save(update_fields=["active", "updated_at"])
            _audit(journey, actor, "pause")
    return journey


def journey_link_follow(*, shop: Shop, code: str) -> str:
    """Record one click of a journey's tracked link and say where it leads (404 for an unknown code)."""
    code = str(code or "")[:16]
    row = JourneyEnrolment.objects.filter(code=code, journey__shop=shop).select_related("journey__coupon").first()
    if row is None:
        raise NotFound(_("This link does not exist."), detail={"code": code})
    JourneyEnrolment.objects.filter(pk=row.pk).update(
        clicks=F("clicks") + 1, first_clicked_at=Coalesce(F("first_clicked_at"), timezone.now())
    )
    journey = row.journey
    return target_path(
        target=journey.target,
        target_ref=journey.target_ref,
        coupon_public_id=journey.coupon.public_id if journey.coupon else None,
    )


def _defaults() -> list[dict]:
    """The journeys a seller finds ready to switch on (texts in the shop's language when seeded)."""
    return [
        {
            "kind": JourneyKind.WELCOME,
            "name": gettext("Welcome"),
            "delay_hours": 1,
            "text": gettext("{name}, welcome to {shop}! Have a look at what is new: {link}"),
        },
        {
            "kind": JourneyKind.SECOND_ORDER,
            "name": gettext("Second-order nudge"),
            "delay_hours": 14 * 24,
            "text": gettext("{name}, thank you for your first order at {shop}. Ready for the next one? {link}"),
        },
        {
            "kind": JourneyKind.WINBACK,
            "name": gettext("Win back"),
            "delay_hours": 0,
            "text": gettext("{name}, we miss you at {shop}. Come and see what is new: {link}"),
        },
        {
            "kind": JourneyKind.BIRTHDAY,
            "name": gettext("Birthday"),
            "delay_hours": 9,
            "text": gettext("Happy birthday, {name}! A little treat from {shop}: {link}"),
        },
        {
            "kind": JourneyKind.ABANDONED_CART,
            "name": gettext("Abandoned cart"),
            "delay_hours": 4,
            "text": gettext("{name}, {product} is still in your cart at {shop}: {link}"),
        },
        {
            "kind": JourneyKind.REPURCHASE,
            "name": gettext("Repurchase reminder"),
            "delay_hours": 0,
            "text": gettext("{name}, your {product} may be running low. Order again at {shop}: {link}"),
        },
    ]


def journeys_seed(*, shop: Shop) -> int:
    """Give a shop that has no journey yet the default set, switched off. Returns how many were
    made (0 when the shop has any journey). One query when there is nothing to do. Locks: the
    shop row (rank SHOP), so two first visits at once seed one set."""
    if Journey.objects.filter(shop=shop).exists():
        return 0
    with transaction.atomic():
        locks.lock_rows(Shop.objects.filter(pk=shop.pk), rank=locks.SHOP)
        if Journey.objects.filter(shop=shop).exists():
            return 0
        for item in _defaults():
            journey = Journey.objects.create(
                shop=shop,
                public_id=public_id(12),
                name=item["name"][:60],
                kind=item["kind"],
                delay_hours=item["delay_hours"],
                channel="sms",
                created_by="system",
            )
            JourneyVariant.objects.create(journey=journey, index=0, text=item["text"])
    return len(_defaults())
