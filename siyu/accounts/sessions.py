"""Sessions that can be ended: who is signed in under which session key, and ending them.

Sessions are kept on the server (see SESSION_ENGINE in the settings), so a cookie is only a key:
once its session is deleted, a copy of the cookie signs nobody in. Each sign-in is written to the
`SignedInSession` index so that every session of one person can be ended at once, whatever the
session store (database or cache).

Ending sessions is the first line; the second is checked on every request: Django refuses a
staff session whose password hash no longer matches or whose user is inactive, and
`shopper_from_session` refuses a shopper session bound to a sign-in identity that has since been
deleted. So even a session the index missed cannot outlive the account it belonged to.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY as USER_SESSION_KEY
from django.contrib.auth import update_session_auth_hash
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import Shopper, SignedInSession

SHOPPER_SESSION_KEY = "shopper_id"
SHOPPER_HASH_SESSION_KEY = "shopper_hash"


def _store(session_key: str | None = None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def shopper_session_hash(shopper: Shopper) -> str:
    # Bound to the identity's phone hash, which account deletion replaces: every session made
    # before the deletion stops matching, as Django's auth hash does after a password change.
    return salted_hmac("siyu.accounts.shopper-session", shopper.phone_hash, algorithm="sha256").hexdigest()


def shopper_session_data(shopper: Shopper) -> dict:
    return {SHOPPER_SESSION_KEY: shopper.pk, SHOPPER_HASH_SESSION_KEY: shopper_session_hash(shopper)}


def shopper_session_valid(session, shopper: Shopper) -> bool:
    return constant_time_compare(session.get(SHOPPER_HASH_SESSION_KEY) or "", shopper_session_hash(shopper))


def session_register(*, session) -> None:
    """Index the session under everyone signed in on it. Called after every sign-in, because a
    sign-in gives the session a new key and so orphans the index rows of the old one."""
    if not session.session_key:
        session.save()
    key = session.session_key
    rows = []
    if session.get(USER_SESSION_KEY):
        rows.append(SignedInSession(session_key=key, user_id=session[USER_SESSION_KEY]))
    if session.get(SHOPPER_SESSION_KEY):
        rows.append(SignedInSession(session_key=key, shopper_id=session[SHOPPER_SESSION_KEY]))
    SignedInSession.objects.bulk_create(rows)


def shopper_session_start(*, session, shopper: Shopper) -> None:
    """Sign a shopper in on this session. A new session key first, so a session planted in the
    browser before sign-in cannot be taken over (fixation)."""
    session.cycle_key()
    session.update(shopper_session_data(shopper))
    session_register(session=session)


def session_keep_after_password_change(*, request, user) -> None:
    """Keep this browser signed in after its user changed their password: the session gets the
    new password's hash (and, from Django, a new key, which the index follows)."""
    old_key = request.session.session_key
    update_session_auth_hash(request, user)
    session_forget(session_key=old_key)
    session_register(session=request.session)


def session_forget(*, session_key: str | None) -> None:
    """Drop the index rows of a session that is being signed out."""
    if session_key:
        SignedInSession.objects.filter(session_key=session_key).delete()


def sessions_end(*, user=None, shopper: Shopper | None = None, keep: str | None = None) -> int:
    """End every session of a staff user or of a shopper, except the one keyed `keep` (the
    browser that changed its own password stays signed in). Returns how many were ended.

    A session that also holds the other kind of sign-in (a staff member shopping in the same
    browser) is ended whole: signing out too much is the safe side.
    """
    if (user is None) == (shopper is None):
        raise ValueError("sessions_end needs exactly one of user or shopper")
    rows = (
        SignedInSession.objects.filter(user=user)
        if user is not None
        else SignedInSession.objects.filter(shopper=shopper)
    )
    if keep:
        rows = rows.exclude(session_key=keep)
    keys = set(rows.values_list("session_key", flat=True))
    store = _store()
    for key in sorted(keys):
        store.delete(key)
    SignedInSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def shopper_sessions_end(*, shopper: Shopper) -> int:
    """End every session a shopper is signed in under (account deletion calls this)."""
    return sessions_end(shopper=shopper)


def sessions_purge(*, older_than, limit: int = 5000) -> int:
    """Remove expired sessions from a database store and index rows whose session is gone.
    Only rows older than `older_than` are looked at, so a fresh sign-in is never touched."""
    store_class = type(_store())
    store_class.clear_expired()
    store = _store()
    stale = [
        pk
        for pk, key in SignedInSession.objects.filter(created_at__lt=older_than)
        .order_by("pk")
        .values_list("pk", "session_key")[:limit]
        if not store.exists(key)
    ]
    SignedInSession.objects.filter(pk__in=stale).delete()
    return len(stale)


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    session_register(session=request.session)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    session_forget(session_key=request.session.session_key)
