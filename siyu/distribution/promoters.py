"""Becoming a promoter, and the shop's distribution settings and commission rules.

Joining is free and needs no purchase; a promoter earns only on real retail sales (see
commissions.py). The settings have deliberately no field for an entry fee, a purchase required to
join or a reward per recruit, and `distribution_settings_update` refuses any key it does not know.
"""

import re
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Category, Product
from siyu.core.audit import audit_record
from siyu.core.crypto import lookup_hash
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.money import parse_yuan
from siyu.core.permissions import Actor, actor_user, require
from siyu.shops.models import Shop

from .models import CommissionRule, DistributionSettings, Promoter
from .states import PROMOTER

PAYOUT_KINDS = ("wechat", "alipay", "bank")
MAX_TIERS = 2
MAX_RATE_BP = 5000
MAX_SECOND_TIER_RATE_BP = 2000
MAX_FREEZE_DAYS = 90
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
P = Promoter.Status


def id_number_clean(text: str) -> str:
    """A mainland resident ID number (18 characters, GB 11643 check digit, a real birth date)."""
    value = str(text or "").strip().upper()
    if not _ID_RE.match(value):
        raise InvalidInput(_("Enter an 18-character ID number."), detail={"id_number": "18 characters"})
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise InvalidInput(_("This ID number is not valid."), detail={"id_number": "bad check digit"})
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidInput(_("This ID number is not valid."), detail={"id_number": "bad birth date"}) from None
    if not date(1900, 1, 1) <= born <= timezone.localdate():
        raise InvalidInput(_("This ID number is not valid."), detail={"id_number": "bad birth date"})
    return value


def settings_for(shop: Shop | int) -> DistributionSettings:
    """The shop's settings (defaults, unsaved, when it never changed them)."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    return DistributionSettings.objects.filter(shop_id=shop_id).first() or DistributionSettings(shop_id=shop_id)


def _clean_application(real_name: str, payout_kind: str, payout_account: str) -> tuple[str, str, str]:
    real_name = str(real_name or "").strip()
    if not 2 <= len(real_name) <= 40:
        raise InvalidInput(_("Enter your real name."), detail={"real_name": "2 to 40 characters"})
    if payout_kind not in PAYOUT_KINDS:
        raise InvalidInput(detail={"payout_kind": "wechat, alipay or bank"})
    payout_account = str(payout_account or "").strip()
    if not 3 <= len(payout_account) <= 60:
        raise InvalidInput(_("Enter the account to pay you into."), detail={"payout_account": "3 to 60 characters"})
    return real_name, payout_kind, payout_account


def _parent_for(shop: Shop, shopper: Shopper, parent_code: str) -> Promoter | None:
    code = str(parent_code or "").strip()
    if not code or code == shopper.share_code:
        return None  # nobody introduced them, or their own code: no parent
    return Promoter.objects.filter(shop=shop, shopper__share_code=code, status=P.APPROVED).first()


def promoter_apply(
    *,
    shop: Shop,
    shopper: Shopper,
    real_name: str,
    id_number: str,
    payout_kind: str,
    payout_account: str,
    parent_code: str = "",
) -> Promoter:
    """A shopper asks to become a promoter: free, no purchase needed; staff decide.
    A rejected application may be sent again; one ID number is one promoter per shop."""
    if not settings_for(shop).enabled:
        raise Conflict(_("This shop is not taking promoters."), code="distribution_off")
    real_name, payout_kind, payout_account = _clean_application(real_name, payout_kind, payout_account)
    id_number = id_number_clean(id_number)
    id_hash = lookup_hash(id_number)
    parent = _parent_for(shop, shopper, parent_code)
    fields = {
        "real_name": real_name,
        "id_number": id_number,
        "id_number_hash": id_hash,
        "payout_kind": payout_kind,
        "payout_account": payout_account,
        "parent": parent,
        "decided_at": None,
        "decided_by": None,
        "note": "",
    }
    try:
        with transaction.atomic():
            current = Promoter.objects.select_for_update().filter(shop=shop, shopper=shopper).first()
            if current is not None and current.status != P.REJECTED:
                raise Conflict(
                    _("You have already applied."), code="already_applied", detail={"status": current.status}
                )
            if Promoter.objects.filter(shop=shop, id_number_hash=id_hash).exclude(shopper=shopper).exists():
                raise Conflict(_("This ID number is already registered."), code="id_number_taken")
            if current is None:
                return Promoter.objects.create(shop=shop, shopper=shopper, status=P.APPLIED, **fields)
            PROMOTER.move(current, to=P.APPLIED, actor=shopper, why="applied again", fields=fields)
            return current
    except IntegrityError:
        raise Conflict(_("You have already applied."), code="already_applied") from None


def promoter_get(*, shop: Shop, promoter_id: int) -> Promoter:
    promoter = Promoter.objects.filter(shop=shop, pk=promoter_id).select_related("shopper").first()
    if promoter is None:
        raise NotFound(detail={"promoter": promoter_id})
    return promoter


def _set_status(*, actor: Actor, promoter: Promoter, to: str, note: str) -> Promoter:
    """Move a promoter along the status table (states.PROMOTER refuses the rest), under its row lock."""
    require(actor, "customers.manage", shop_id=promoter.shop_id)
    with transaction.atomic():
        locked = Promoter.objects.select_for_update().get(pk=promoter.pk, shop_id=promoter.shop_id)
        note = str(note or "").strip()[:200]
        PROMOTER.move(
            locked,
            to=to,
            actor=actor_user(actor),
            why=note,
            fields={"note": note, "decided_at": timezone.now(), "decided_by": actor},
        )
    return locked


def promoter_decide(*, actor: Actor, promoter: Promoter, approve: bool, note: str = "") -> Promoter:
    """Staff approve or reject an application (permission customers.manage). The status table
    decides what may be decided: a rejected or approved one cannot be decided again."""
    return _set_status(actor=actor, promoter=promoter, to=P.APPROVED if approve else P.REJECTED, note=note)


def promoter_suspend(*, actor: Actor, promoter: Promoter, note: str = "", resume: bool = False) -> Promoter:
    """Stop (or resume) a promoter earning on new orders; what was earned stays theirs."""
    return _set_status(actor=actor, promoter=promoter, to=P.APPROVED if resume else P.SUSPENDED, note=note)


# --- settings and rules ---------------------------------------------------------------------------

_INT_FIELDS = {
    "tiers": (1, MAX_TIERS),
    "default_rate_bp": (0, MAX_RATE_BP),
    "second_tier_rate_bp": (0, MAX_SECOND_TIER_RATE_BP),
    "freeze_days": (0, MAX_FREEZE_DAYS),
}
_MONEY_FIELDS = ("min_withdrawal", "second_approval_over")


def _int_in(value, field: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(detail={field: "not a whole number"}) from None
    if not low <= number <= high:
        message = _("At most two tiers of commission are allowed.") if field == "tiers" else None
        raise InvalidInput(message, detail={field: f"{low} to {high}"})
    return number


def distribution_settings_update(*, actor: Actor, shop: Shop, data: dict) -> DistributionSettings:
    """Change the settings (permission shop.manage). Tiers are 1 or 2; rates in basis points;
    amounts in fen or yuan strings. Unknown keys are refused, so no fee or recruiting reward can
    ever be configured."""
    require(actor, "shop.manage", shop_id=shop.pk)
    known = {"enabled", *_INT_FIELDS, *_MONEY_FIELDS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(_("These settings do not exist."), detail={"unknown": unknown})
    changes: dict = {}
    for field, (low, high) in _INT_FIELDS.items():
        if field in data:
            changes[field] = _int_in(data[field], field, low, high)
    for field in _MONEY_FIELDS:
        if field in data:
            value = data[field]
            changes[field] = value if isinstance(value, int) and value >= 0 else parse_yuan(value, field=field)
    if "enabled" in data:
        changes["enabled"] = data["enabled"] in (True, "on", "true", "1", 1)
    with transaction.atomic():
        current, _created = DistributionSettings.objects.select_for_update().get_or_create(shop=shop)
        for key, value in changes.items():
            setattr(current, key, value)
        current.save()
        audit_record(
            shop_id=shop.pk,
            actor=actor_user(actor),
            action="distribution.settings",
            target=current,
            data={k: v for k, v in changes.items()},
        )
    return current


def commission_rule_set(
    *, actor: Actor, shop: Shop, rate_bp, tier: int = 1, product_id: int | None = None, category_id: int | None = None
) -> CommissionRule:
    """A rate for one product or one category and tier (permission shop.manage); replaces the old one."""
    require(actor, "shop.manage", shop_id=shop.pk)
    if (product_id is None) == (category_id is None):
        raise InvalidInput(detail={"target": "a product or a category"})
    tier = _int_in(tier, "tier", 1, MAX_TIERS)
    rate_bp = _int_in(rate_bp, "rate_bp", 0, MAX_RATE_BP if tier == 1 else MAX_SECOND_TIER_RATE_BP)
    if product_id is not None and not Product.objects.filter(shop=shop, pk=product_id).exists():
        raise NotFound(detail={"product": product_id})
    if category_id is not None and not Category.objects.filter(shop=shop, pk=category_id).exists():
        raise NotFound(detail={"category": category_id})
    target = {"product_id": product_id, "category_id": category_id}  # exactly one is None (checked above)
    with transaction.atomic():
        CommissionRule.objects.filter(shop=shop, tier=tier, **target).delete()
        rule = CommissionRule.objects.create(shop=shop, tier=tier, rate_bp=rate_bp, **target)
        audit_record(
            shop_id=shop.pk,
            actor=actor_user(actor),
            action="distribution.rule",
            target=rule,
            data={"product": product_id, "category": category_id, "tier": tier, "rate_bp": rate_bp},
        )
    return rule


def commission_rule_delete(*, actor: Actor, shop: Shop, rule_id: int) -> None:
    require(actor, "shop.manage", shop_id=shop.pk)
    if not CommissionRule.objects.filter(shop=shop, pk=rule_id).delete()[0]:
        raise NotFound(detail={"rule": rule_id})
