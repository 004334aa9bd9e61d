"""满减 / 满折 activities: saving, ending, and what one takes off a basket.

Which lines count: those in the activity's scope, not excluded, and not priced by a mode the shopper
chose (a flash sale, a group buy, a bargain: those prices are the promotion already). They count at
their final unit price (after a limited-time or member price). The best reached tier applies; of
several running activities the one saving the shopper most applies (one activity per basket, as
Youzan does), the older one on a tie.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Category, Product
from siyu.core.audit import audit_record
from siyu.core.errors import NotFound
from siyu.core.money import apply_rate, format_yuan
from siyu.core.permissions import Actor, require
from siyu.orders.pricing import Adjustment, PricingLine
from siyu.shops.models import Shop

from .flags import discount_flags_forget
from .models import Scope, Status, ThresholdActivity, TierMode
from .rules import (
    MANAGE,
    MAX_FEN,
    THRESHOLD_STATES,
    clean_fen,
    clean_name,
    clean_whole,
    clean_window,
    live,
    refuse,
)

# Kinds of line price the shopper chose explicitly; such lines never count toward a threshold.
EXCLUSIVE_KINDS = frozenset({"flash_sale", "group_buy", "bargain"})
MAX_TIERS = 5
MAX_SCOPE = 200


# --- saving ------------------------------------------------------------------------------


def _clean_tiers(raw, mode: str, errors: dict, clashes: dict) -> list[dict]:
    if not isinstance(raw, list | tuple) or not 1 <= len(raw) <= MAX_TIERS:
        errors["tiers"] = f"1 to {MAX_TIERS} tiers"
        return []
    tiers = []
    for n, tier in enumerate(raw):
        if not isinstance(tier, dict):
            errors["tiers"] = "each tier needs a threshold and a value"
            return []
        threshold = clean_fen(tier.get("threshold"), field=f"tiers.{n}.threshold", errors=errors, low=1)
        if mode == TierMode.AMOUNT:
            value = clean_fen(tier.get("value"), field=f"tiers.{n}.value", errors=errors, low=1)
            if value and threshold and value > threshold:
                clashes[f"tiers.{n}.value"] = "at most the threshold"
        else:
            value = clean_whole(tier.get("value"), field=f"tiers.{n}.value", errors=errors, low=1, high=MAX_FEN)
            if not 1000 <= value <= 9999 and f"tiers.{n}.value" not in errors:
                clashes[f"tiers.{n}.value"] = "pays 1000 to 9999 basis points (10% to 99.99%)"
        tiers.append({"threshold": threshold, "value": value})
    thresholds = [t["threshold"] for t in tiers]
    if len(set(thresholds)) != len(thresholds):
        clashes["tiers"] = "each threshold once"
    tiers.sort(key=lambda t: t["threshold"])
    # A higher tier must give more: otherwise the shopper who spends more saves less.
    gains = [t["value"] if mode == TierMode.AMOUNT else -t["value"] for t in tiers]
    if any(b <= a for a, b in zip(gains, gains[1:], strict=False)) and "tiers" not in clashes:
        clashes["tiers"] = "a higher threshold must give a bigger discount"
    return tiers


def _clean_scope(*, shop: Shop, data: dict, errors: dict, clashes: dict) -> tuple[str, list[int], list[int]]:
    scope = str(data.get("scope") or Scope.ALL)
    if scope not in Scope.values:
        errors["scope"] = "all, categories or products"
        return Scope.ALL, [], []
    wanted = data.get("scope_ids") or []
    excluded_raw = data.get("excluded_products") or []
    if not isinstance(wanted, list | tuple) or not isinstance(excluded_raw, list | tuple):
        errors["scope_ids"] = "a list"
        return scope, [], []
    if len(wanted) > MAX_SCOPE or len(excluded_raw) > MAX_SCOPE:
        errors["scope_ids"] = f"at most {MAX_SCOPE}"
        return scope, [], []
    ids: list[int] = []
    if scope == Scope.CATEGORIES:
        ids = _categories_with_children(shop=shop, wanted=wanted, errors=errors)
    elif scope == Scope.PRODUCTS:
        ids = _products(shop=shop, wanted=wanted, field="scope_ids", errors=errors)
    if scope != Scope.ALL and not ids and "scope_ids" not in errors:
        clashes["scope_ids"] = "choose at least one"
    excluded = _products(shop=shop, wanted=excluded_raw, field="excluded_products", errors=errors)
    return scope, ids, excluded


def _categories_with_children(*, shop: Shop, wanted, errors: dict) -> list[int]:
    try:
        chosen = {int(v) for v in wanted}
    except (TypeError, ValueError):
        errors["scope_ids"] = "category ids"
        return []
    parents = dict(Category.objects.filter(shop=shop).values_list("pk", "parent_id"))
    if chosen - set(parents):
        raise NotFound(detail={"scope_ids": "not found", "categories": sorted(chosen - set(parents))})
    found = set(chosen)
    grew = True
    while grew:
        more = {pk for pk, parent in parents.items() if parent in found and pk not in found}
        found |= more
        grew = bool(more)
    return sorted(found)


def _products(*, shop: Shop, wanted, field: str, errors: dict) -> list[int]:
    keys = {str(v) for v in wanted}
    if not keys:
        return []
    found = dict(Product.objects.filter(shop=shop, public_id__in=keys).values_list("public_id", "pk"))
    if len(found) != len(keys):
        raise NotFound(detail={field: "not found", "products": sorted(keys - set(found))})
    return sorted(found.values())


def threshold_save(*, actor: Actor, shop: Shop, data: dict, activity_id: str | None = None) -> ThresholdActivity:
    """Create (or, with `activity_id`, change) an activity. Permission promotions.manage. An ended
    activity cannot be changed. Data: name, starts_at, ends_at, scope, scope_ids (category ids or
    product public ids), excluded_products (product public ids), mode (amount|rate), tiers
    [{threshold: fen, value: fen or basis points paid}], repeat, repeat_cap (fen), stacks_with_coupons."""
    require(actor, MANAGE, shop_id=shop.pk)
    errors: dict[str, str] = {}
    clashes: dict[str, str] = {}
    name = clean_name(data.get("name"), errors)
    starts, ends = clean_window(data, errors, clashes)
    mode = str(data.get("mode") or TierMode.AMOUNT)
    if mode not in TierMode.values:
        errors["mode"] = "amount or rate"
        mode = TierMode.AMOUNT
    tiers = _clean_tiers(data.get("tiers"), mode, errors, clashes)
    repeat = bool(data.get("repeat"))
    cap = clean_fen(data.get("repeat_cap") or 0, field="repeat_cap", errors=errors)
    if repeat and (mode != TierMode.AMOUNT or len(tiers) != 1):
        clashes["repeat"] = "only with one spend-and-save tier"
    refuse(errors)
    scope, scope_ids, excluded = _clean_scope(shop=shop, data=data, errors=errors, clashes=clashes)
    refuse(errors, clashes)
    fields = {
        "name": name,
        "starts_at": starts,
        "ends_at": ends,
        "scope": scope,
        "scope_ids": scope_ids,
        "excluded_ids": excluded,
        "mode": mode,
        "tiers": tiers,
        "repeat": repeat,
        "repeat_cap": cap if repeat else 0,
        "stacks_with_coupons": bool(data.get("stacks_with_coupons")),
    }
    with transaction.atomic():
        if activity_id is None:
            activity = ThresholdActivity.objects.create(shop=shop, **fields)
        else:
            activity = _locked(shop=shop, activity_id=activity_id)
            if activity.status == Status.ENDED:
                THRESHOLD_STATES.check(activity.status, Status.ACTIVE)
            for key, value in fields.items():
                setattr(activity, key, value)
            activity.save()
        audit_record(
            shop_id=shop.pk,
            actor=actor,
            action="threshold_activity.save",
            target=activity,
            data={"name": name, "tiers": tiers, "mode": mode, "created": activity_id is None},
        )
        discount_flags_forget(shop_id=shop.pk)
    return activity


def _locked(*, shop: Shop, activity_id: str) -> ThresholdActivity:
    activity = ThresholdActivity.objects.select_for_update().filter(shop=shop, public_id=str(activity_id)).first()
    if activity is None:
        raise NotFound(detail={"activity": str(activity_id)})
    return activity


def threshold_end(*, actor: Actor, shop: Shop, activity_id: str) -> ThresholdActivity:
    """End an activity now (it stops applying to new quotes at once). Permission promotions.manage."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        activity = _locked(shop=shop, activity_id=activity_id)
        THRESHOLD_STATES.move(activity, to=Status.ENDED, actor=actor, why="ended by staff")
        discount_flags_forget(shop_id=shop.pk)
    return activity


def thresholds_of(*, shop: Shop):
    return ThresholdActivity.objects.filter(shop=shop).order_by("-id")


def threshold_of(*, shop: Shop, activity_id: str) -> ThresholdActivity:
    activity = ThresholdActivity.objects.filter(shop=shop, public_id=str(activity_id)).first()
    if activity is None:
        raise NotFound(detail={"activity": str(activity_id)})
    return activity


def thresholds_live(*, shop: Shop, now: datetime | None = None) -> list[ThresholdActivity]:
    return list(live(ThresholdActivity.objects.filter(shop=shop), now or timezone.now()).order_by("id"))


# --- what an activity takes off ----------------------------------------------------------


@dataclass(frozen=True)
class Reached:
    activity: ThresholdActivity
    eligible: int  # fen of the basket that counts
    saving: int  # fen off
    tier: dict | None  # the tier reached (None: none yet)
    next_tier: dict | None  # the next tier up, if any
    next_saving: int  # what the next tier would save on today's eligible amount plus the shortfall


def _counts(activity: ThresholdActivity, line: PricingLine) -> bool:
    if line.promotion in EXCLUSIVE_KINDS or line.product_id in activity.excluded_ids:
        return False
    if activity.scope == Scope.CATEGORIES:
        return line.category_id in activity.scope_ids
    if activity.scope == Scope.PRODUCTS:
        return line.product_id in activity.scope_ids
    return True


def _saving(activity: ThresholdActivity, tier: dict, eligible: int) -> int:
    if activity.mode == TierMode.RATE:
        return eligible - apply_rate(eligible, tier["value"])
    if activity.repeat:
        times = eligible // tier["threshold"]
        saved = times * tier["value"]
        return min(saved, activity.repeat_cap) if activity.repeat_cap else saved
    return min(tier["value"], eligible)


def threshold_reached(activity: ThresholdActivity, lines: list[PricingLine]) -> Reached:
    eligible = sum(ln.unit_price * ln.quantity for ln in lines if _counts(activity, ln))
    reached = [t for t in activity.tiers if t["threshold"] <= eligible]
    above = [t for t in activity.tiers if t["threshold"] > eligible]
    tier = reached[-1] if reached else None
    if activity.repeat and tier is not None:
        # The next step of a repeating activity is the next multiple, unless the cap is reached.
        step = activity.tiers[0]
        saving = _saving(activity, step, eligible)
        nxt = {"threshold": (eligible // step["threshold"] + 1) * step["threshold"], "value": step["value"]}
        capped = bool(activity.repeat_cap) and saving >= activity.repeat_cap
        return Reached(
            activity,
            eligible,
            saving,
            tier,
            None if capped else nxt,
            0 if capped else _saving(activity, step, nxt["threshold"]),
        )
    saving = _saving(activity, tier, eligible) if tier else 0
    following: dict | None = above[0] if above else None
    return Reached(
        activity,
        eligible,
        saving,
        tier,
        following,
        _saving(activity, following, following["threshold"]) if following else 0,
    )


def threshold_best(activities: list[ThresholdActivity], lines: list[PricingLine]) -> Reached | None:
    """The activity saving the shopper most on these lines (None: none reached)."""
    best: Reached | None = None
    for activity in activities:
        found = threshold_reached(activity, lines)
        if found.saving > 0 and (best is None or found.saving > best.saving):
            best = found
    return best


def tier_text(activity: ThresholdActivity, tier: dict) -> str:
    if activity.mode == TierMode.RATE:
        return gettext("Spend ¥%(x)s, pay %(rate)s%%") % {
            "x": format_yuan(tier["threshold"]),
            "rate": format_yuan(tier["value"]).rstrip("0").rstrip("."),
        }
    if activity.repeat:
        return gettext("Save ¥%(y)s for every ¥%(x)s") % {
            "x": format_yuan(tier["threshold"]),
            "y": format_yuan(tier["value"]),
        }
    return gettext("Spend ¥%(x)s, save ¥%(y)s") % {"x": format_yuan(tier["threshold"]), "y": format_yuan(tier["value"])}


def threshold_adjustment(found: Reached) -> Adjustment:
    activity = found.activity
    return Adjustment(
        kind="threshold_discount",
        label=f"{activity.name} · {tier_text(activity, found.tier or activity.tiers[0])}",
        amount=found.saving,
        ref=activity.public_id,
        exclusive=not activity.stacks_with_coupons,
    )


PHASE_LABELS = {"scheduled": _("Scheduled"), "running": _("Running"), "ended": _("Ended")}
