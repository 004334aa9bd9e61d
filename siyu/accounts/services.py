import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.audit import audit_record
from siyu.core.crypto import lookup_hash
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited
from siyu.core.ids import public_id
from siyu.core.permissions import require
from siyu.core.prepared import PreparedRead
from siyu.shops.models import Shop

from .models import Address, AgreementAcceptance, ApiToken, OtpChallenge, Shopper, StaffMember
from .regions import region_problem
from .roles import OWNER, ROLE_PERMISSIONS
from .sessions import sessions_end

# ASCII digits only: `\d` would also take other scripts' digits (Arabic-Indic, full-width…).
PHONE_RE = re.compile(r"1[3-9][0-9]{9}")


def phone_normalize(raw: str | None, *, field: str = "phone") -> str:
    phone = re.sub(r"[\s-]", "", str(raw or ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_RE.fullmatch(phone):
        raise InvalidInput(_("Enter an 11-digit mainland China mobile number."), detail={field: "invalid phone"})
    return phone


def _code_hash(phone_hash: str, code: str) -> str:
    return lookup_hash(f"otp:{phone_hash}:{code}")


# --- one-time codes ------------------------------------------------------------------------


def otp_message(*, shop: Shop | None, code: str) -> tuple[str, str, dict]:
    """The sign-in code SMS as (text, signature, template parameters). Signed with the shop's
    name, so the shopper knows which shop is asking; providers fill their approved template
    from the parameters, the log backend writes the text."""
    sign = (shop.name if shop is not None else "") or settings.SIYU_SMS["sign_name"] or "私域"
    minutes = settings.SIYU_OTP_TTL_SECONDS // 60
    text = f"【{sign}】验证码 {code}，{minutes} 分钟内有效。请勿告诉他人。"
    return text, sign, {"code": code, "minutes": str(minutes)}


def otp_request(*, phone: str, ip: str | None, shop: Shop | None = None) -> OtpChallenge:
    """Send a sign-in code for `shop`. Limited per number (and one a minute) and per IP address."""
    from .tasks import sms_deliver

    phone = phone_normalize(phone)
    phone_hash = lookup_hash(phone)
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    recent = OtpChallenge.objects.filter(phone_hash=phone_hash, created_at__gte=hour_ago)
    if recent.filter(created_at__gte=now - timedelta(seconds=60)).exists():
        raise RateLimited(_("A code was sent less than a minute ago."), detail={"retry_after": 60})
    if recent.count() >= settings.SIYU_OTP_MAX_PER_PHONE_HOUR:
        raise RateLimited(detail={"limit": "phone"})
    if ip and OtpChallenge.objects.filter(ip=ip, created_at__gte=hour_ago).count() >= settings.SIYU_OTP_MAX_PER_IP_HOUR:
        raise RateLimited(detail={"limit": "ip"})
    code = f"{secrets.randbelow(1_000_000):06d}"
    challenge = OtpChallenge.objects.create(
        phone_hash=phone_hash,
        code_hash=_code_hash(phone_hash, code),
        ip=ip,
        expires_at=now + timedelta(seconds=settings.SIYU_OTP_TTL_SECONDS),
    )
    text, sign, params = otp_message(shop=shop, code=code)
    transaction.on_commit(lambda: sms_deliver(phone, text, sign, params))
    return challenge


def shopper_sign_in(*, phone: str, code: str, shop: Shop | None = None, agreement: str = "") -> Shopper:
    """Check a code and return the shopper, creating the identity on first sign-in.

    Each attempt is counted with one conditional UPDATE, so parallel guesses cannot exceed the limit.
    With a shop and an agreement version (the sign-in page says that signing in accepts that shop's
    user agreement and privacy policy), the acceptance is recorded in the same transaction.
    """
    phone = phone_normalize(phone)
    code = str(code or "").strip()
    phone_hash = lookup_hash(phone)
    now = timezone.now()
    wrong = InvalidInput(_("The code is wrong or has expired."), code="otp_invalid")
    if not re.fullmatch(r"[0-9]{6}", code):
        raise wrong
    challenge = (
        OtpChallenge.objects.filter(phone_hash=phone_hash, used_at__isnull=True, expires_at__gt=now)
        .order_by("-id")
        .first()
    )
    if challenge is None:
        raise wrong
    counted = OtpChallenge.objects.filter(
        pk=challenge.pk, used_at__isnull=True, attempts__lt=settings.SIYU_OTP_MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not counted:
        raise RateLimited(_("Too many wrong codes. Request a new one."), code="otp_locked")
    if not hmac.compare_digest(challenge.code_hash, _code_hash(phone_hash, code)):
        raise wrong
    with transaction.atomic():
        if not OtpChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(used_at=now):
            raise wrong
        shopper = Shopper.objects.filter(phone_hash=phone_hash).first()
        if shopper is None:
            try:
                with transaction.atomic():
                    shopper = Shopper.objects.create(phone_hash=phone_hash, phone=phone)
            except IntegrityError:
                shopper = Shopper.objects.get(phone_hash=phone_hash)
        Shopper.objects.filter(pk=shopper.pk).update(last_login_at=now)
        if shop is not None and agreement:
            # ignore_conflicts: a repeat sign-in keeps the time this version was first accepted.
            AgreementAcceptance.objects.bulk_create(
                [AgreementAcceptance(shop=shop, shopper=shopper, version=agreement, accepted_at=now)],
                ignore_conflicts=True,
            )
    return shopper


def shopper_update_profile(*, shopper: Shopper, nickname: str) -> Shopper:
    nickname = str(nickname or "").strip()
    if len(nickname) > 40:
        raise InvalidInput(detail={"nickname": "at most 40 characters"})
    shopper.nickname = nickname
    shopper.save(update_fields=["nickname"])
    return shopper


# --- addresses ---------------------------------------------------------------------------

ADDRESS_LIMITS = {"recipient": 40, "province": 20, "city": 30, "district": 30, "detail": 200}
MAX_ADDRESSES = 20


def _address_clean(data: dict) -> dict:
    clean, errors = {}, {}
    for field, limit in ADDRESS_LIMITS.items():
        value = str(data.get(field) or "").strip()
        if not value:
            errors[field] = "required"
        elif len(value) > limit:
            errors[field] = f"at most {limit} characters"
        clean[field] = value
    try:
        clean["phone"] = phone_normalize(data.get("phone"))
    except InvalidInput:
        errors["phone"] = "invalid phone"
    if not errors.keys() & {"province", "city", "district"}:
        # Couriers and remote-area postage read these names, so only the packaged list is accepted.
        wrong = region_problem(province=clean["province"], city=clean["city"], district=clean["district"])
        if wrong:
            errors[wrong] = "not in the region list"
    if errors:
        raise InvalidInput(_("Please check the address."), detail=errors)
    return clean


def address_create(*, shop: Shop, shopper: Shopper, data: dict) -> Address:
    clean = _address_clean(data)
    with transaction.atomic():
        # Lock the shopper row so two parallel saves cannot both pass the limit or both be default.
        Shopper.objects.select_for_update().get(pk=shopper.pk)
        existing = Address.objects.filter(shop=shop, shopper=shopper)
        if existing.count() >= MAX_ADDRESSES:
            raise Conflict(_("You can keep at most 20 addresses."), detail={"limit": MAX_ADDRESSES})
        make_default = bool(data.get("is_default")) or not existing.exists()
        if make_default:
            existing.update(is_default=False)
        return Address.objects.create(
            shop=shop, shopper=shopper, public_id=public_id(), is_default=make_default, **clean
        )


def _address_own(*, shop: Shop, shopper: Shopper, public_id: str) -> Address:
    address = Address.objects.filter(shop=shop, shopper=shopper, public_id=public_id).first()
    if address is None:
        raise NotFound(detail={"address": public_id})
    return address


def address_update(*, shop: Shop, shopper: Shopper, public_id: str, data: dict) -> Address:
    clean = _address_clean(data)
    with transaction.atomic():
        address = _address_own(shop=shop, shopper=shopper, public_id=public_id)
        for key, value in clean.items():
            setattr(address, key, value)
        if data.get("is_default"):
            Address.objects.filter(shop=shop, shopper=shopper).update(is_default=False)
            address.is_default = True
        address.save()
    return address


def address_delete(*, shop: Shop, shopper: Shopper, public_id: str) -> None:
    with transaction.atomic():
        address = _address_own(shop=shop, shopper=shopper, public_id=public_id)
        was_default = address.is_default
        address.delete()
        if was_default:
            nxt = Address.objects.filter(shop=shop, shopper=shopper).order_by("-id").first()
            if nxt:
                Address.objects.filter(pk=nxt.pk).update(is_default=True)


# --- staff -------------------------------------------------------------------------------


def staff_create(
    *, actor: StaffMember | None, shop: Shop, username: str, password: str, role: str, display_name: str = ""
) -> StaffMember:
    """Add a staff member. `actor=None` is the system (set-up commands) and may create the first owner."""
    if actor is not None:
        require(actor, "staff.manage", shop_id=shop.pk)
    elif StaffMember.objects.filter(shop=shop).exists() and role != OWNER:
        raise PermissionDenied()
    username = str(username or "").strip()
    errors = {}
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{3,40}", username):
        errors["username"] = "3-40 letters, digits or _.@-"
    if role not in ROLE_PERMISSIONS:
        errors["role"] = "unknown role"
    if len(str(password or "")) < 8:
        errors["password"] = "at least 8 characters"
    if errors:
        raise InvalidInput(detail=errors)
    User = get_user_model()
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password)
            member = StaffMember.objects.create(
                shop=shop, user=user, role=role, display_name=(display_name or username).strip()[:60]
            )
    except IntegrityError:
        raise Conflict(_("This username is taken."), detail={"username": username}) from None
    audit_record(
        shop_id=shop.pk, actor=getattr(actor, "user", None), action="staff.create", target=member, data={"role": role}
    )
    return member


def staff_update(
    *, actor: StaffMember, member: StaffMember, role: str, is_active: bool, display_name: str | None = None
) -> StaffMember:
    """Change a member's role, active flag and (when given) display name.

    Deactivating ends every session they are signed in under and revokes their API tokens, so
    reactivating someone later never brings an old token back to life.
    Locks: the shop's active owners (pk order), so two demotions cannot leave the shop without one.
    """
    require(actor, "staff.manage", shop_id=member.shop_id)
    errors = {}
    if role not in ROLE_PERMISSIONS:
        errors["role"] = "unknown role"
    name = member.display_name if display_name is None else str(display_name).strip()
    if not name or len(name) > 60:
        errors["display_name"] = "1 to 60 characters"
    if errors:
        raise InvalidInput(detail=errors)
    with transaction.atomic():
        owners = list(
            StaffMember.objects.select_for_update()
            .filter(shop_id=member.shop_id, role=OWNER, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        losing_owner = member.pk in owners and (role != OWNER or not is_active)
        if losing_owner and len(owners) == 1:
            raise Conflict(_("A shop needs at least one active owner."), code="last_owner")
        before = {"role": member.role, "is_active": member.is_active, "display_name": member.display_name}
        member.role, member.is_active, member.display_name = role, is_active, name
        member.save(update_fields=["role", "is_active", "display_name"])
        # The user account mirrors the staff record (one shop per user), so Django's own
        # authentication refuses a deactivated member on every request, not only the console.
        get_user_model().objects.filter(pk=member.user_id).update(is_active=is_active)
        if before["is_active"] and not is_active:
            sessions_end(user=member.user)
            ApiToken.objects.filter(staff=member, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit_record(
            shop_id=member.shop_id,
            actor=actor.user,
            action="staff.update",
            target=member,
            data={"from": before, "to": {"role": role, "is_active": is_active, "display_name": name}},
        )
    return member


def staff_set_password(
    *, actor: StaffMember, member: StaffMember, password: str, keep_session_key: str | None = None
) -> StaffMember:
    """Set a staff member's password and end every session they are signed in under, except
    `keep_session_key` (the browser of a member changing their own password; the caller then
    refreshes that session's hash with `update_session_auth_hash`)."""
    if actor.pk != member.pk:
        require(actor, "staff.manage", shop_id=member.shop_id)
    elif not actor.is_active:
        raise PermissionDenied()
    if len(str(password or "")) < 8:
        raise InvalidInput(detail={"password": "at least 8 characters"})
    user = member.user
    user.set_password(password)
    user.save(update_fields=["password"])
    keep = keep_session_key if actor.pk == member.pk else None
    sessions_end(user=user, keep=keep)
    audit_record(shop_id=member.shop_id, actor=actor.user, action="staff.password", target=member, data={})
    return member


# --- API tokens --------------------------------------------------------------------------


def _token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(
    *, shop: Shop, staff: StaffMember | None = None, shopper: Shopper | None = None, name: str = ""
) -> tuple[ApiToken, str]:
    """Create a token and return it with its key. The key is shown once and never stored."""
    if staff is not None:
        require(staff, "tokens.manage", shop_id=shop.pk)
    key = "sy_" + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        shop=shop, staff=staff, shopper=shopper, name=str(name or "")[:60], key_hash=_token_hash(key), prefix=key[:9]
    )
    return token, key


def token_revoke(*, actor: StaffMember, token_id: int) -> None:
    token = ApiToken.objects.filter(pk=token_id, shop_id=actor.shop_id).first()
    if token is None:
        raise NotFound()
    if token.staff_id != actor.pk:
        require(actor, "staff.manage", shop_id=actor.shop_id)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())


def token_revoke_shopper(*, shopper: Shopper, token_id: int) -> None:
    """A shopper signs a token of their own out (logout)."""
    ApiToken.objects.filter(pk=token_id, shopper=shopper, revoked_at__isnull=True).update(revoked_at=timezone.now())


def _token_query(*, key_hash: str):
    return (
        ApiToken.objects.select_related("staff__user", "shopper", "staff")
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .order_by("pk")[:1]
    )


# Every API request signs in with its token: the query is compiled once (siyu/core/prepared.py).
_TOKEN_READ = PreparedRead(ApiToken, _token_query, lambda _: ({"key_hash": "stand-in-key"}, {"key": "stand-in-key"}))


def token_authenticate(*, key: str) -> ApiToken | None:
    if not key or not key.startswith("sy_") or len(key) > 80:
        return None
    found = _TOKEN_READ.fetch(key=_token_hash(key))
    return found[0] if found else None
