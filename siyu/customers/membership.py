"""Membership levels: reached by cumulative spend, with a discount and free shipping at checkout.

A customer's level is the highest one whose threshold their total spend (own orders net of
refunds plus imported orders) has reached. `Customer.level` is kept in step for lists and
segments; checkout and the shopper's own page read the level from the spend directly, so a
benefit is never a step behind.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.events import event_record
from siyu.core.money import apply_rate, parse_yuan
from siyu.core.permissions import actor_user, require
from siyu.core.settings_rows import settings_row_get
from siyu.orders.pricing import Adjustment
from siyu.shops.models import Shop

from .models import CrmSettings, Customer, CustomerEvent, MemberLevel, PointsEntry

PERM = "customers.manage"
MAX_DISCOUNT_BP = 5000
MAX_LEVELS = 20


# --- levels (staff) ----------------------------------------------------------------------


def _fen(value, *, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise InvalidInput(detail={field: "out of range"})
        return value
    return parse_yuan(value, field=field)


def _whole(value, *, field: str, low: int, high: int) -> int:
    text = str(value if value is not None else "0").strip() or "0"
    if isinstance(value, bool) or not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(detail={field: f"a whole number from {low} to {high}"})
    return int(text)


def _level_clean(data: dict) -> dict:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    name = str(data.get("name") or "").strip()
    if not 1 <= len(name) <= 20:
        errors["name"] = "1 to 20 characters"
    clean["name"] = name
    for key, parse in (
        ("min_spend", lambda v: _fen(v, field="min_spend")),
        ("discount_bp", lambda v: _whole(v, field="discount_bp", low=0, high=MAX_DISCOUNT_BP)),
    ):
        try:
            clean[key] = parse(data.get(key))
        except InvalidInput as exc:
            errors.update(exc.detail)
    if not errors and clean["min_spend"] > 2_000_000_000:
        errors["min_spend"] = "out of range"
    clean["free_shipping"] = str(data.get("free_shipping", "")).lower() in ("1", "true", "on", "yes")
    if errors:
        raise InvalidInput(_("Please check the level."), detail=errors)
    return clean


def level_save(*, actor, shop: Shop, data: dict, level_id: int | None = None) -> MemberLevel:
    """Create or change a level: name, min_spend (fen, or a yuan string), discount_bp (at most
    5000, i.e. half off), free_shipping. Customers' levels are recomputed in the same transaction."""
    require(actor, PERM, shop_id=shop.pk)
    clean = _level_clean(data)
    level: MemberLevel | None
    try:
        with transaction.atomic():
            if level_id is None:
                if MemberLevel.objects.filter(shop=shop).count() >= MAX_LEVELS:
                    raise Conflict(_("A shop can have at most 20 levels."), detail={"limit": MAX_LEVELS})
                level = MemberLevel.objects.create(shop=shop, **clean)
                before = {}
            else:
                level = MemberLevel.objects.select_for_update().filter(shop=shop, pk=level_id).first()
                if level is None:
                    raise NotFound(detail={"level": level_id})
                before = {key: getattr(level, key) for key in clean}
                for key, value in clean.items():
                    setattr(level, key, value)
                level.save()
            customers_level_refresh(shop=shop)
            audit_record(
                shop_id=shop.pk,
                actor=actor_user(actor),
                action="level.save",
                target=level,
                data={"from": before, "to": clean},
            )
    except IntegrityError:
        raise Conflict(
            _("Another level starts at the same spend."),
            code="level_threshold_taken",
            detail={"min_spend": clean["min_spend"]},
        ) from None
    return level


def level_delete(*, actor, shop: Shop, level_id: int) -> None:
    require(actor, PERM, shop_id=shop.pk)
    with transaction.atomic():
        level = MemberLevel.objects.filter(shop=shop, pk=level_id).first()
        if level is None:
            raise NotFound(detail={"level": level_id})
        audit_record(
            shop_id=shop.pk,
            actor=actor_user(actor),
            action="level.delete",
            target=level,
            data={"name": level.name, "min_spend": level.min_spend},
        )
        level.delete()
        customers_level_refresh(shop=shop)


def levels_of(*, shop: Shop) -> list[MemberLevel]:
    return list(MemberLevel.objects.filter(shop=shop).order_by("min_spend"))


# --- a customer's level ------------------------------------------------------------------


def level_for_spend(levels: list[MemberLevel], spent: int) -> MemberLevel | None:
    """The highest level reached, from a list ordered by min_spend."""
    reached = [lv for lv in levels if lv.min_spend <= spent]
    return reached[-1] if reached else None


def customers_level_refresh(*, shop: Shop, customer_ids: list[int] | None = None) -> int:
    """Put every customer (or the given ones) on the level their spend has reached: one UPDATE."""
    whens = [
        When(total_spent__gte=lv.min_spend, then=Value(lv.pk))
        for lv in MemberLevel.objects.filter(shop=shop).order_by("-min_spend")
    ]
    qs = Customer.objects.filter(shop=shop)
    if customer_ids is not None:
        qs = qs.filter(pk__in=customer_ids)
    target = Case(*whens, default=Value(None), output_field=IntegerField()) if whens else Value(None)
    return qs.update(level_id=target)


def customer_level_refresh(*, customer: Customer) -> MemberLevel | None:
    """Recompute one customer's level from their (already refreshed) spend; a change goes on the
    timeline. Called after the figures are refreshed by the order handlers."""
    spent = Customer.objects.filter(pk=customer.pk).values_list("total_spent", flat=True).first() or 0
    level = MemberLevel.objects.filter(shop_id=customer.shop_id, min_spend__lte=spent).order_by("-min_spend").first()
    new_id = level.pk if level else None
    if Customer.objects.filter(pk=customer.pk).exclude(level_id=new_id).update(level_id=new_id):
        CustomerEvent.objects.create(
            shop_id=customer.shop_id,
            customer_id=customer.pk,
            kind="level_changed",
            actor_label="system",
            data={"from": customer.level_id, "to": new_id, "name": level.name if level else ""},
        )
        before = (
            MemberLevel.objects.filter(pk=customer.level_id).values_list("min_spend", flat=True).first()
            if customer.level_id
            else None
        )
        event_record(
            topic="customer.level_changed",
            shop_id=customer.shop_id,
            payload={
                "customer": customer.pk,
                "shopper": customer.shopper_id,
                "from": customer.level_id,
                "to": new_id,
                "up": level is not None and (before is None or level.min_spend > before),
            },
        )
    customer.level_id, customer.total_spent = new_id, spent
    return level


def levels_reached(*, shop: Shop, shopper: Shopper) -> QuerySet[MemberLevel]:
    """The levels a shopper has reached in this shop, highest first (no customer record: no spend)."""
    spent = Customer.objects.filter(shop=shop, phone_hash=shopper.phone_hash).values("total_spent")[:1]
    return MemberLevel.objects.filter(shop=shop, min_spend__lte=Coalesce(Subquery(spent), Value(0))).order_by(
        "-min_spend"
    )


def member_level_of(*, shop: Shop, shopper: Shopper) -> MemberLevel | None:
    """The level a shopper has reached in this shop, in one query."""
    return levels_reached(shop=shop, shopper=shopper).first()


# --- checkout ------------------------------------------------------------------------------


def member_adjustments(
    *,
    shop: Shop,
    shopper: Shopper,
    level: MemberLevel | None,
    subtotal: int,
    options: dict,
    discountable: int | None = None,
):
    """The member benefits of `level` (the shopper's, see `member_level_of`) and the points payment
    of one basket. The checkout adjuster in pricing_hooks reads the level with the basket's SKUs.
    `discountable`: the part of `subtotal` the level's percentage applies to (default: all of it;
    lines sold at a member price are left out by the caller).

    Points: options {"points": N} pays whole yuan, N // points_per_yuan_redeemed of them, capped
    at max_redeem_bp of the subtotal after the member discount; only the points that buy those
    yuan are used. The balance is checked again, under a lock, when the order is placed.
    """
    found: list[Adjustment] = []
    discount = 0
    if level is not None and (level.discount_bp or level.free_shipping):
        discount = apply_rate(subtotal if discountable is None else min(discountable, subtotal), level.discount_bp)
        found.append(
            Adjustment(
                kind="member_discount",
                label=gettext("Member benefit (%(level)s)") % {"level": level.name},
                amount=discount,
                free_shipping=level.free_shipping,
            )
        )
    wanted = _points_wanted(options)
    if wanted:
        points = _points_payment(shop=shop, shopper=shopper, wanted=wanted, base=subtotal - discount)
        if points is not None:
            found.append(points)
    return found


def _points_wanted(options: dict) -> int:
    raw = (options or {}).get("points")
    if raw in (None, "", 0, "0"):
        return 0
    text = str(raw).strip()
    if isinstance(raw, bool) or not text.isdigit() or int(text) > 100_000_000:
        raise InvalidInput(_("Enter the points to use as a whole number."), detail={"points": "not a whole number"})
    return int(text)


def _points_held(*, shop: Shop, shopper: Shopper) -> int:
    return PointsEntry.objects.filter(customer__shop=shop, customer__phone_hash=shopper.phone_hash).aggregate(
        total=Coalesce(Sum("delta"), 0)
    )["total"]


@dataclass(frozen=True)
class PointsOffer:
    balance: int
    most: int  # the most points this basket can take: whole yuan, within max_redeem_bp of the base


def points_offer(*, shop: Shop, shopper: Shopper, base: int) -> PointsOffer:
    """What the checkout's points field tells the shopper, by the same cap as the points payment."""
    balance = _points_held(shop=shop, shopper=shopper)
    rules = settings_row_get(CrmSettings, shop_id=shop.pk)
    yuan = min(balance // rules.points_per_yuan_redeemed, apply_rate(max(base, 0), rules.max_redeem_bp) // 100)
    return PointsOffer(balance=balance, most=max(yuan, 0) * rules.points_per_yuan_redeemed)


def _points_payment(*, shop: Shop, shopper: Shopper, wanted: int, base: int) -> Adjustment | None:
    balance = _points_held(shop=shop, shopper=shopper)
    if wanted > balance:
        raise Conflict(
            _("You do not have that many points."),
            code="insufficient_points",
            detail={"balance": balance, "points": wanted},
        )
    rules = settings_row_get(CrmSettings, shop_id=shop.pk)
    yuan = min(wanted // rules.points_per_yuan_redeemed, apply_rate(base, rules.max_redeem_bp) // 100)
    if yuan <= 0:
        return None
    used = yuan * rules.points_per_yuan_redeemed
    return Adjustment(
        kind="points",
        label=gettext("Paid with %(points)s points") % {"points": used},
        amount=yuan * 100,
        points_used=used,
    )


# --- the shopper's own page ---------------------------------------------------------------


@dataclass
class MemberOverview:
    customer: Customer | None
    level: MemberLevel | None
    next_level: MemberLevel | None
    to_next: int  # fen still to spend for the next level
    levels: list[MemberLevel]
    balance: int
    rules: CrmSettings  # the shop's points rules (its defaults until it saves its own)
    history: list[PointsEntry] = field(default_factory=list)


def member_overview(*, shop: Shop, shopper: Shopper, history_rows: int = 50) -> MemberOverview:
    """Level, benefits, points and consents of a shopper in one shop: four queries, no writes."""
    balance = (
        PointsEntry.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    customer = (
        Customer.objects.filter(shop=shop, phone_hash=shopper.phone_hash)
        .annotate(points_balance=Coalesce(Subquery(balance), Value(0)))
        .first()
    )
    levels = levels_of(shop=shop)
    spent = customer.total_spent if customer else 0
    level = level_for_spend(levels, spent)
    later = [lv for lv in levels if lv.min_spend > spent]
    history = []
    if customer is not None:
        history = list(PointsEntry.objects.filter(customer=customer).order_by("-id")[:history_rows])
    return MemberOverview(
        customer=customer,
        level=level,
        next_level=later[0] if later else None,
        to_next=(later[0].min_spend - spent) if later else 0,
        levels=levels,
        balance=customer.points_balance if customer else 0,
        history=history,
        rules=settings_row_get(CrmSettings, shop_id=shop.pk),
    )
