"""Who brought whom: share visits and first-touch bindings.

A share code (a shopper's or a staff member's) arrives on a link or a poster QR as `?ref=CODE`.
Each such visit is recorded (the top of the fission funnel); the visitor's session keeps the first
code it saw for the shop's protection window. When the visitor is, or becomes, a signed-in shopper,
they are bound to the code's owner — once: an unexpired binding is never replaced, and only people
who have not bought here yet can be bound. Self-referral and cycles (A brought B, so B cannot bring
A, nor anyone A brought further up) are refused.

Consent (PIPL): a customer who withdrew referral/profiling consent is not bound. Someone never asked
is bound (that records who brought them, which the sharer's reward needs) but their browsing is not
linked to them: their share visits stay anonymous until they consent.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper, StaffMember
from siyu.core.errors import Conflict, InvalidInput
from siyu.customers.models import Customer, CustomerEvent
from siyu.orders.models import Order, OrderStatus
from siyu.shops.models import Shop

from .models import ReferralBinding, ShareVisit
from .rules import referral_settings_get

REF_RE = re.compile(r"^[a-z0-9]{4,12}$")
MAX_CHAIN = 200  # hops walked looking for a cycle; a longer chain is refused rather than trusted

GIVEN, REFUSED, UNASKED = "given", "refused", "unasked"


@dataclass(frozen=True)
class Referrer:
    code: str
    shopper_id: int | None = None
    staff_id: int | None = None


@dataclass(frozen=True)
class Touch:
    """A recorded share visit: who the code belongs to and how long a first touch holds."""

    referrer: Referrer
    window_days: int
    visit_id: int


def share_code_resolve(*, shop: Shop, code: str) -> Referrer | None:
    """The owner of a share code in this shop: any shopper (identities are global) or an active
    staff member of this shop. One or two queries."""
    code = str(code or "").strip().lower()
    if not REF_RE.match(code):
        return None
    shopper_id = Shopper.objects.filter(share_code=code).values_list("pk", flat=True).first()
    if shopper_id is not None:
        return Referrer(code=code, shopper_id=shopper_id)
    staff_id = (
        StaffMember.objects.filter(shop=shop, share_code=code, is_active=True).values_list("pk", flat=True).first()
    )
    return Referrer(code=code, staff_id=staff_id) if staff_id is not None else None


def _customer_of(shop: Shop, shopper: Shopper) -> Customer | None:
    return Customer.objects.filter(shop=shop, phone_hash=shopper.phone_hash).first()


def profiling_state(*, customer: Customer | None) -> str:
    """given / refused / unasked. A refusal is a recorded withdrawal (consent events keep it)."""
    if customer is None:
        return UNASKED
    if customer.anonymized_at is not None:
        return REFUSED
    if customer.profiling_consent_at is not None:
        return GIVEN
    last = (
        CustomerEvent.objects.filter(customer=customer, kind="consent").order_by("-id").values_list("data", flat=True)
    ).first()
    if last is not None and not last.get("profiling", False):
        return REFUSED
    return UNASKED


def share_visit_record(
    *, shop: Shop, code: str, visitor_key: str, shopper: Shopper | None = None, path: str = ""
) -> Touch | None:
    """Record a visit through a share code. None (and nothing written) for an unknown code, a
    sharer opening their own link, or a shop with referrals switched off."""
    referrer = share_code_resolve(shop=shop, code=code)
    if referrer is None or (shopper is not None and referrer.shopper_id == shopper.pk):
        return None
    settings = referral_settings_get(shop=shop)
    if not settings.enabled:
        return None
    linked = None
    if shopper is not None and profiling_state(customer=_customer_of(shop, shopper)) == GIVEN:
        linked = shopper
    visit = ShareVisit.objects.create(
        shop=shop, code=referrer.code, visitor_key=str(visitor_key)[:64], shopper=linked, path=str(path)[:200]
    )
    return Touch(referrer=referrer, window_days=settings.window_days, visit_id=visit.pk)


def ref_should_replace(
    *,
    current_code: str | None,
    current_at: float | None,
    current_shop: int | None,
    shop_id: int,
    window_days: int,
    now: datetime | None = None,
) -> bool:
    """First touch in the session: a code already kept for this shop holds for the window."""
    if not current_code or current_shop != shop_id or current_at is None:
        return True
    now = now or timezone.now()
    return now.timestamp() - float(current_at) > window_days * 86400


def _refuse(message, code: str, **detail):
    raise Conflict(message, code=code, detail=detail)


def _check_new_customer(shop: Shop, referee: Shopper, customer: Customer | None) -> None:
    bought = Order.objects.filter(shop=shop, shopper=referee).exclude(status=OrderStatus.CANCELLED).exists()
    if bought or (customer is not None and customer.order_count > 0):
        _refuse(_("Only new customers can be brought in by a friend."), "not_new_customer")


def _check_no_cycle(shop: Shop, referee: Shopper, referrer: Referrer) -> None:
    """Walk up from the referrer through who brought them; meeting the referee would close a loop."""
    current = referrer.shopper_id
    for _hop in range(MAX_CHAIN):
        if current is None:
            return
        if current == referee.pk:
            _refuse(_("Two people cannot bring each other in."), "referral_cycle")
        current = (
            ReferralBinding.objects.filter(shop=shop, referee_id=current)
            .values_list("referrer_shopper_id", flat=True)
            .first()
        )
    _refuse(_("Two people cannot bring each other in."), "referral_cycle")


def _link_visits(shop: Shop, referee: Shopper, visitor_key: str) -> None:
    if visitor_key:
        ShareVisit.objects.filter(shop=shop, visitor_key=visitor_key, shopper__isnull=True).update(shopper=referee)


def referral_bind(
    *, shop: Shop, referee: Shopper, code: str, visitor_key: str = "", now: datetime | None = None
) -> ReferralBinding:
    """Bind a shopper to the owner of `code` for the shop's window (see the module note).

    Refusals are Conflicts with codes: referrals_off, self_referral, not_new_customer,
    consent_refused, referral_cycle, already_bound; an unknown code is InvalidInput.
    Locks: the referee's existing binding row, if any (an expired one is taken over in place)."""
    given_time, now = now is not None, now or timezone.now()
    settings = referral_settings_get(shop=shop)
    if not settings.enabled:
        _refuse(_("Referrals are switched off in this shop."), "referrals_off")
    referrer = share_code_resolve(shop=shop, code=code)
    if referrer is None:
        raise InvalidInput(_("This share code is not valid."), code="unknown_code", detail={"code": str(code)[:12]})
    if referrer.shopper_id == referee.pk:
        _refuse(_("You cannot use your own share code."), "self_referral")
    customer = _customer_of(shop, referee)
    _check_new_customer(shop, referee, customer)
    consent = profiling_state(customer=customer)
    if consent == REFUSED:
        _refuse(_("This customer has not agreed to referral tracking."), "consent_refused")
    _check_no_cycle(shop, referee, referrer)
    fields = {
        "referrer_shopper_id": referrer.shopper_id,
        "referrer_staff_id": referrer.staff_id,
        "code": referrer.code,
        "bound_at": now,
        "expires_at": now + timedelta(days=settings.window_days),
    }
    try:
        with transaction.atomic():
            existing = ReferralBinding.objects.select_for_update().filter(shop=shop, referee=referee).first()
            if existing is not None and existing.expires_at > now:
                _refuse(_("This customer was already brought in by someone."), "already_bound")
            if existing is not None:
                ReferralBinding.objects.filter(pk=existing.pk).update(**fields)
                binding = ReferralBinding.objects.get(pk=existing.pk)
            else:
                binding = ReferralBinding.objects.create(shop=shop, referee=referee, **fields)
                if given_time:  # auto_now_add overrides the given time
                    ReferralBinding.objects.filter(pk=binding.pk).update(bound_at=now)
                    binding.bound_at = now
            if consent == GIVEN:
                _link_visits(shop, referee, visitor_key)
    except IntegrityError:
        _refuse(_("This customer was already brought in by someone."), "already_bound")
    return binding


def binding_of(*, shop: Shop | int, referee_id: int) -> ReferralBinding | None:
    shop_id = shop if isinstance(shop, int) else shop.pk
    return ReferralBinding.objects.filter(shop_id=shop_id, referee_id=referee_id).first()
