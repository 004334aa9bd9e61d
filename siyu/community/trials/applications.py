"""Shoppers apply for a trial: once per shopper and trial (the database's unique key holds it under
concurrency), while the trial is open and within its application dates, with a shipping address of
their own chosen (the order goes there if they are selected), and — when the seller limited the
trial to a customer segment — only if they match the segment's rules now (evaluated live, not from
last night's member list, so a customer who qualified today is not refused).
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Address, Shopper
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id as new_public_id
from siyu.customers.segments import customers_matching
from siyu.shops.models import Shop

from .models import Trial, TrialApplication, TrialStatus

MAX_REASON = 300


def trial_for_shopper(*, shop: Shop, public_id: str) -> Trial:
    """A trial shoppers may see (anything but a draft)."""
    trial = (
        Trial.objects.filter(shop=shop, public_id=str(public_id)[:16])
        .exclude(status=TrialStatus.DRAFT)
        .select_related("product", "sku")
        .first()
    )
    if trial is None:
        raise NotFound(detail={"trial": str(public_id)[:16]})
    return trial


def trial_accepting(trial: Trial, *, now=None) -> bool:
    now = now or timezone.now()
    return trial.status == TrialStatus.OPEN and trial.apply_starts_at <= now < trial.apply_ends_at


def shopper_eligible(*, trial: Trial, shopper: Shopper) -> bool:
    """Anyone may apply to a trial without a segment; otherwise the shopper's customer record in
    this shop must match the segment's rules now."""
    segment = trial.segment
    if segment is None:
        return True
    return customers_matching(shop_id=trial.shop_id, rules=segment.rules).filter(phone_hash=shopper.phone_hash).exists()


def trial_apply(
    *, shop: Shop, shopper: Shopper, public_id: str, address_id: str, reason: str = "", now=None
) -> TrialApplication:
    """Apply once. Refusals: 409 trial_closed, trial_not_eligible, trial_applied; 400 for a missing
    address or a reason that is too long."""
    trial = trial_for_shopper(shop=shop, public_id=public_id)
    if not trial_accepting(trial, now=now):
        raise Conflict(_("This trial is not taking applications."), code="trial_closed")
    reason = str(reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("The text is too long."), detail={"reason": f"at most {MAX_REASON} characters"})
    address = Address.objects.filter(shop=shop, shopper=shopper, public_id=str(address_id or "")[:16]).first()
    if address is None:
        raise InvalidInput(_("Choose a shipping address."), detail={"address": "not found"})
    if not shopper_eligible(trial=trial, shopper=shopper):
        raise Conflict(_("This trial is for selected customers only."), code="trial_not_eligible")
    try:
        with transaction.atomic():
            application = TrialApplication.objects.create(
                shop=shop, trial=trial, public_id=new_public_id(16), shopper=shopper, address=address, reason=reason
            )
            Trial.objects.filter(pk=trial.pk).update(application_count=F("application_count") + 1)
    except IntegrityError:
        raise Conflict(_("You have already applied for this trial."), code="trial_applied") from None
    return application
