"""Sessions can be ended: signing out, deactivation, a password change, account deletion.

Each test signs in through the real pages with the test client, copies the session cookie the
way a thief would, and replays it after the event that must end it.
"""

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from siyu.accounts import sms
from siyu.accounts.models import OtpChallenge, SignedInSession
from siyu.accounts.roles import OPERATOR
from siyu.accounts.selectors import SHOPPER_SESSION_KEY
from siyu.accounts.services import staff_set_password, staff_update
from siyu.accounts.sessions import shopper_session_data

from ..factories import make_staff

API = "/api/v1"
COOKIE = settings.SESSION_COOKIE_NAME
PHONE = "13912345678"


def _replay(cookie: str) -> Client:
    """A fresh browser holding nothing but a copied session cookie."""
    thief = Client()
    thief.cookies[COOKIE] = cookie
    return thief


def _staff_sign_in(username: str, password: str = "password123") -> Client:
    client = Client()
    response = client.post(reverse("console:login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content
    return client


def _shopper_sign_in(capture) -> Client:
    # one code a minute per number: let the previous one be older, as if a second device waited
    OtpChallenge.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    client = Client()
    sms.outbox.clear()
    with capture(execute=True):
        client.post(reverse("storefront:login"), {"phone": PHONE, "action": "send"})
    code = re.search(r"\d{6}", sms.outbox[-1][1])[0]
    response = client.post(reverse("storefront:login"), {"phone": PHONE, "code": code})
    assert response.status_code == 302, response.content
    return client


def _store_has(session_key: str) -> bool:
    return import_module(settings.SESSION_ENGINE).SessionStore().exists(session_key)


def test_sessions_are_kept_on_the_server():
    assert settings.SESSION_ENGINE != "django.contrib.sessions.backends.signed_cookies"


def test_staff_cookie_copied_before_logout_is_refused_after(shop, owner):
    client = _staff_sign_in("boss")
    cookie = client.cookies[COOKIE].value
    assert _replay(cookie).get(reverse("console:home")).status_code == 200
    client.post(reverse("console:logout"))
    response = _replay(cookie).get(reverse("console:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("console:login"))
    assert not _store_has(cookie)


def test_shopper_cookie_copied_before_logout_is_refused_after(shop, django_capture_on_commit_callbacks):
    client = _shopper_sign_in(django_capture_on_commit_callbacks)
    cookie = client.cookies[COOKIE].value
    assert _replay(cookie).get(reverse("storefront:my")).status_code == 200
    client.post(reverse("storefront:logout"))
    assert _replay(cookie).get(reverse("storefront:my")).status_code == 302
    assert _replay(cookie).get(f"{API}/storefront/me").status_code == 401


def test_deactivated_staff_open_sessions_end(shop, owner):
    member = make_staff(shop, role=OPERATOR, username="helper")
    laptop, phone = _staff_sign_in("helper"), _staff_sign_in("helper")
    keys = {laptop.cookies[COOKIE].value, phone.cookies[COOKIE].value}
    assert SignedInSession.objects.filter(user=member.user).count() == 2

    staff_update(actor=owner, member=member, role=OPERATOR, is_active=False)

    assert not any(_store_has(key) for key in keys)
    assert not SignedInSession.objects.filter(user=member.user).exists()
    for client in (laptop, phone):
        response = client.get(reverse("console:home"))
        assert response.status_code == 302 and response.url.startswith(reverse("console:login"))
    # and signing in again is refused with the ordinary answer
    again = Client().post(reverse("console:login"), {"username": "helper", "password": "password123"})
    assert again.status_code == 400 and "_auth_user_id" not in again.wsgi_request.session


def test_deactivated_staff_is_refused_even_by_a_session_the_index_missed(shop, owner):
    member = make_staff(shop, role=OPERATOR, username="helper")
    client = _staff_sign_in("helper")
    SignedInSession.objects.all().delete()  # as if the index row had been lost
    staff_update(actor=owner, member=member, role=OPERATOR, is_active=False)
    assert client.get(reverse("console:home")).status_code == 302
    assert client.get(f"{API}/console/products").status_code == 401


def test_password_change_ends_the_other_sessions(shop, owner):
    here, elsewhere = _staff_sign_in("boss"), _staff_sign_in("boss")
    assert f'href="{reverse("console:password")}"' in here.get(reverse("console:home")).content.decode()
    response = here.post(reverse("console:password"), {"password": "password123", "new_password": "n3w-secret-pw"})
    assert response.status_code == 302
    assert here.get(reverse("console:home")).status_code == 200
    assert elsewhere.get(reverse("console:home")).status_code == 302
    assert not _store_has(elsewhere.cookies[COOKIE].value)
    _staff_sign_in("boss", "n3w-secret-pw")


def test_password_change_needs_the_current_password(shop, owner):
    client = _staff_sign_in("boss")
    response = client.post(reverse("console:password"), {"password": "guess-guess", "new_password": "n3w-secret-pw"})
    assert response.status_code == 400
    owner.user.refresh_from_db()
    assert owner.user.check_password("password123")


def test_password_set_by_a_manager_ends_every_session_of_the_member(shop, owner):
    member = make_staff(shop, role=OPERATOR, username="helper")
    client = _staff_sign_in("helper")
    staff_set_password(actor=owner, member=member, password="reset-by-boss", keep_session_key="anything")
    assert client.get(reverse("console:home")).status_code == 302


def test_password_change_refuses_sessions_even_without_the_index(shop, owner):
    # Django's session auth hash: a session signed in under the old password is refused.
    client = _staff_sign_in("boss")
    SignedInSession.objects.all().delete()
    owner.user.set_password("changed-elsewhere")
    owner.user.save()
    assert client.get(reverse("console:home")).status_code == 302


@pytest.mark.parametrize("door", ["storefront", "api"])
def test_deleted_shopper_is_signed_out_everywhere(shop, django_capture_on_commit_callbacks, door):
    here = _shopper_sign_in(django_capture_on_commit_callbacks)
    elsewhere = _shopper_sign_in(django_capture_on_commit_callbacks)
    cookie = here.cookies[COOKIE].value
    if door == "storefront":
        here.cookies["django_language"] = "en"
        response = here.post(reverse("storefront:privacy_delete"), {"confirm": "delete"})
        assert response.status_code == 302, response.content
    else:
        response = here.post(f"{API}/storefront/me/delete", {"confirm": "delete"}, content_type="application/json")
        assert response.status_code == 204, response.content
    for client in (here, elsewhere, _replay(cookie)):
        assert client.get(reverse("storefront:my")).status_code == 302
        assert client.get(f"{API}/storefront/me").status_code == 401
        added = client.post(
            f"{API}/storefront/me/addresses",
            {
                "recipient": "王五",
                "phone": PHONE,
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "detail": "文三路 1 号",
            },
            content_type="application/json",
        )
        assert added.status_code == 401


def test_deleted_shopper_is_refused_even_by_a_session_the_index_missed(shop, shopper):
    from siyu.customers.privacy import shopper_delete

    client = Client()
    session = client.session
    session.update(shopper_session_data(shopper))  # a session the index never saw
    session.save()
    client.cookies[COOKIE] = session.session_key
    assert client.get(f"{API}/storefront/me").status_code == 200
    shopper_delete(shopper=shopper)
    assert client.get(f"{API}/storefront/me").status_code == 401
    assert client.get(reverse("storefront:my")).status_code == 302


def test_a_session_naming_a_shopper_without_the_binding_is_refused(shop, shopper):
    client = Client()
    session = client.session
    session[SHOPPER_SESSION_KEY] = shopper.pk
    session.save()
    client.cookies[COOKIE] = session.session_key
    assert client.get(f"{API}/storefront/me").status_code == 401
