"""Staff sign-in with a password, throttled per account and per address.

Every attempt is written as a `SignInFailure` row *before* the password is checked and then the
recent rows are counted, own row included. Parallel guesses therefore see each other: however
many arrive at once, no more than the limit reach the password check in one window (a check
first and a write after would let a burst through). A refused attempt removes its own row, so
hammering a locked account does not keep it locked for ever; a success removes the account's
rows.

Wrong password, unknown user, inactive user and "not staff of this shop" all get the same
answer, so the sign-in page of one shop cannot be used to confirm a password of another.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import InvalidInput, RateLimited
from siyu.shops.models import Shop

from .models import SignInFailure, StaffMember
from .selectors import staff_for_user


def _username_key(username: str) -> str:
    # Usernames are compared case-insensitively here so "Boss" and "boss" share one budget.
    return str(username or "").strip().lower()[:150]


def _retry_after(rows, *, window: timedelta, now) -> int:
    oldest = rows.aggregate(first=Min("created_at"))["first"] or now
    return max(int((oldest + window - now).total_seconds()) + 1, 1)


def staff_sign_in(*, shop: Shop, username: str, password: str, ip: str | None) -> StaffMember:
    """The active staff member of `shop` with these credentials, or a refusal.

    Raises RateLimited (code `sign_in_locked`, detail `retry_after` seconds) once the account or
    the address has used up its attempts for the window, before the password is looked at;
    InvalidInput (code `sign_in_failed`) with one message for every other refusal.
    """
    now = timezone.now()
    window = timedelta(seconds=settings.SIYU_SIGNIN_WINDOW_SECONDS)
    key = _username_key(username)
    attempt = SignInFailure.objects.create(username=key, ip=ip)
    recent = SignInFailure.objects.filter(created_at__gte=now - window)
    budgets = [(recent.filter(username=key), settings.SIYU_SIGNIN_MAX_PER_ACCOUNT)]
    if ip:
        budgets.append((recent.filter(ip=ip), settings.SIYU_SIGNIN_MAX_PER_ADDRESS))
    for rows, limit in budgets:
        if rows.count() > limit:
            attempt.delete()
            raise RateLimited(
                _("Too many failed sign-ins. Please wait a while and try again."),
                code="sign_in_locked",
                detail={"retry_after": _retry_after(rows, window=window, now=now)},
            )
    user = authenticate(None, username=str(username or "").strip(), password=str(password or ""))
    member = staff_for_user(user=user, shop=shop) if user is not None else None
    if member is None:
        raise InvalidInput(_("The username or password is wrong."), code="sign_in_failed")
    SignInFailure.objects.filter(username=key).delete()
    return member


def sign_in_failures_purge(*, older_than) -> int:
    deleted, _ = SignInFailure.objects.filter(created_at__lt=older_than).delete()
    return deleted
