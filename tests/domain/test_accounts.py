import re
import threading

import pytest
from django.db import connection

from siyu.accounts import services, sms
from siyu.accounts.models import OtpChallenge, Shopper
from siyu.accounts.roles import FINANCE, OWNER
from siyu.core.errors import Conflict, InvalidInput, PermissionDenied, RateLimited

from ..factories import make_staff

pytestmark = pytest.mark.django_db


def _send(phone, ip="10.0.0.1", capture=None):
    sms.outbox.clear()
    with capture(execute=True):
        services.otp_request(phone=phone, ip=ip)
    return re.search(r"\d{6}", sms.outbox[-1][1])[0]


@pytest.mark.parametrize("phone", ["", "1234", "23800138000", "1380013800a", "138001380001"])
def test_bad_phone_numbers(phone):
    with pytest.raises(InvalidInput):
        services.otp_request(phone=phone, ip=None)


def test_code_is_hashed_single_use_and_expires(django_capture_on_commit_callbacks, settings):
    code = _send("+86 139-1234-5678", capture=django_capture_on_commit_callbacks)
    challenge = OtpChallenge.objects.get()
    assert code not in challenge.code_hash and len(challenge.code_hash) == 64
    shopper = services.shopper_sign_in(phone="13912345678", code=code)
    assert shopper.phone == "13912345678"
    with pytest.raises(InvalidInput):
        services.shopper_sign_in(phone="13912345678", code=code)


def test_expired_code_refused(django_capture_on_commit_callbacks):
    code = _send("13912345678", capture=django_capture_on_commit_callbacks)
    from datetime import timedelta

    from django.utils import timezone

    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidInput):
        services.shopper_sign_in(phone="13912345678", code=code)


def test_wrong_codes_lock_the_challenge(django_capture_on_commit_callbacks, settings):
    code = _send("13912345678", capture=django_capture_on_commit_callbacks)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.SIYU_OTP_MAX_ATTEMPTS):
        with pytest.raises(InvalidInput):
            services.shopper_sign_in(phone="13912345678", code=wrong)
    with pytest.raises(RateLimited):
        services.shopper_sign_in(phone="13912345678", code=code)
    assert not Shopper.objects.exists()


def test_rate_limits_per_phone_and_ip(settings):
    services.otp_request(phone="13912345678", ip="10.0.0.1")
    with pytest.raises(RateLimited):
        services.otp_request(phone="13912345678", ip="10.0.0.2")  # within a minute
    settings.SIYU_OTP_MAX_PER_IP_HOUR = 3
    services.otp_request(phone="13900000001", ip="10.0.0.1")
    services.otp_request(phone="13900000002", ip="10.0.0.1")
    with pytest.raises(RateLimited) as exc:
        services.otp_request(phone="13900000003", ip="10.0.0.1")
    assert exc.value.detail == {"limit": "ip"}


def test_phone_is_encrypted_at_rest(django_capture_on_commit_callbacks):
    code = _send("13912345678", capture=django_capture_on_commit_callbacks)
    services.shopper_sign_in(phone="13912345678", code=code)
    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM accounts_shopper")
        assert "13912345678" not in cur.fetchone()[0]


def test_roles_and_last_owner(shop, owner):
    finance = make_staff(shop, role=FINANCE)
    with pytest.raises(PermissionDenied):
        services.staff_create(actor=finance, shop=shop, username="sneaky", password="password123", role=OWNER)
    with pytest.raises(Conflict):
        services.staff_update(actor=owner, member=owner, role=FINANCE, is_active=True)
    services.staff_update(actor=owner, member=finance, role=OWNER, is_active=True)
    services.staff_update(actor=owner, member=owner, role=FINANCE, is_active=True)
    owner.refresh_from_db()
    assert owner.role == FINANCE


def test_staff_input_validated(shop, owner):
    with pytest.raises(InvalidInput) as exc:
        services.staff_create(actor=owner, shop=shop, username="a b", password="short", role="king")
    assert set(exc.value.detail) == {"username", "password", "role"}
    with pytest.raises(Conflict):
        services.staff_create(actor=owner, shop=shop, username="boss", password="password123", role=FINANCE)


def test_tokens_hash_only_and_revoke(shop, owner):
    token, key = services.token_issue(shop=shop, staff=owner, name="erp")
    assert key not in token.key_hash and services.token_authenticate(key=key) == token
    services.token_revoke(actor=owner, token_id=token.pk)
    assert services.token_authenticate(key=key) is None
    assert services.token_authenticate(key="sy_" + "x" * 200) is None


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_guesses_cannot_exceed_the_limit(settings, postgres_only):
    services.otp_request(phone="13912345678", ip=None)
    errors = []

    def guess():
        try:
            services.shopper_sign_in(phone="13912345678", code="999999")
        except (InvalidInput, RateLimited) as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(20)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert OtpChallenge.objects.get().attempts == settings.SIYU_OTP_MAX_ATTEMPTS
