"""Pickup points: a store or a group leader's address, with hours and an optional keeper (the
leader, a shopper of the shop) who may verify the point's pickup codes from the storefront.

Reading needs orders.view, changing orders.manage. Points are never deleted (orders keep pointing
at them): a point that closes is made inactive, and checkout stops offering it.
"""

import datetime
import re

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.accounts.regions import region_problem
from siyu.core.audit import audit_record
from siyu.core.crypto import lookup_hash
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.ids import public_id
from siyu.core.permissions import Actor, require
from siyu.shops.models import Shop

from .flags import pickup_flags_forget
from .models import PickupPoint

VIEW, MANAGE = "orders.view", "orders.manage"
LIMITS = {"name": 40, "province": 20, "city": 30, "district": 30, "detail": 200}
MAX_POINTS = 500
PHONE_RE = re.compile(r"[0-9+][0-9-]{4,19}")  # a mobile, or a store's landline with its area code
MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _time(value, field: str, errors: dict) -> datetime.time | None:
    if isinstance(value, datetime.time):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    match = TIME_RE.fullmatch(text[:5]) if len(text) in (5, 8) else None
    if match is None:
        errors[field] = "HH:MM"
        return None
    return datetime.time(int(match.group(1)), int(match.group(2)))


def _days(value, errors: dict) -> list[int]:
    try:
        days = sorted({int(d) for d in (value or [])})
    except (TypeError, ValueError):
        errors["open_days"] = "weekdays 0 (Monday) to 6 (Sunday)"
        return []
    if any(not 0 <= d <= 6 for d in days):
        errors["open_days"] = "weekdays 0 (Monday) to 6 (Sunday)"
    return days


def _keeper(*, raw, errors: dict) -> Shopper | None:
    phone = re.sub(r"[\s-]", "", str(raw or ""))
    if not phone:
        return None
    if not MOBILE_RE.fullmatch(phone):
        errors["keeper_phone"] = "invalid phone"
        return None
    keeper = Shopper.objects.filter(phone_hash=lookup_hash(phone)).first()
    if keeper is None:
        errors["keeper_phone"] = "no shopper has signed in with this number"
    return keeper


def _point_clean(data: dict) -> dict:
    """The fields of a point from a form or a request body, or InvalidInput with every problem."""
    clean: dict = {}
    errors: dict = {}
    for field, limit in LIMITS.items():
        value = str(data.get(field) or "").strip()
        if not value:
            errors[field] = "required"
        elif len(value) > limit:
            errors[field] = f"at most {limit} characters"
        clean[field] = value
    if not errors.keys() & {"province", "city", "district"}:
        wrong = region_problem(province=clean["province"], city=clean["city"], district=clean["district"])
        if wrong:
            errors[wrong] = "not in the region list"
    phone = str(data.get("phone") or "").strip()
    if phone and not PHONE_RE.fullmatch(phone):
        errors["phone"] = "invalid phone"
    clean["phone"] = phone
    clean["hours"] = str(data.get("hours") or "").strip()
    if len(clean["hours"]) > 100:
        errors["hours"] = "at most 100 characters"
    clean["open_days"] = _days(data.get("open_days"), errors)
    clean["opens_at"] = _time(data.get("opens_at"), "opens_at", errors)
    clean["closes_at"] = _time(data.get("closes_at"), "closes_at", errors)
    if clean["opens_at"] and clean["closes_at"] and clean["opens_at"] >= clean["closes_at"]:
        errors["closes_at"] = "after the opening time"
    clean["keeper"] = _keeper(raw=data.get("keeper_phone"), errors=errors)
    clean["is_active"] = bool(data.get("is_active", True))
    if errors:
        raise InvalidInput(_("Please check the pickup point."), detail=errors)
    return clean


def pickup_point_create(*, actor: Actor, shop: Shop, data: dict) -> PickupPoint:
    require(actor, MANAGE, shop_id=shop.pk)
    clean = _point_clean(data)
    if PickupPoint.objects.filter(shop=shop).count() >= MAX_POINTS:
        raise InvalidInput(_("A shop can have at most 500 pickup points."), detail={"max": MAX_POINTS})
    with transaction.atomic():
        point = PickupPoint.objects.create(shop=shop, public_id=public_id(12), **clean)
        audit_record(
            shop_id=shop.pk, actor=actor, action="pickup_point.create", target=point, data={"name": point.name}
        )
        pickup_flags_forget(shop_id=shop.pk)
    return point


def pickup_point_update(*, actor: Actor, shop: Shop, public_id: str, data: dict) -> PickupPoint:
    """Replace a point's fields (name, address, hours, keeper, active)."""
    require(actor, MANAGE, shop_id=shop.pk)
    clean = _point_clean(data)
    with transaction.atomic():
        point = PickupPoint.objects.select_for_update().filter(shop=shop, public_id=str(public_id)).first()
        if point is None:
            raise NotFound(detail={"pickup_point": public_id})
        before = {"name": point.name, "active": point.is_active, "keeper": point.keeper_id}
        for key, value in clean.items():
            setattr(point, key, value)
        point.save()
        after = {"name": point.name, "active": point.is_active, "keeper": point.keeper_id}
        audit_record(
            shop_id=shop.pk, actor=actor, action="pickup_point.update", target=point, data={"from": before, "to": after}
        )
        pickup_flags_forget(shop_id=shop.pk)
    return point
