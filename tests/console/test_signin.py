"""Staff password sign-in cannot be guessed: attempts are throttled per account and per address."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from siyu.accounts.models import SignInFailure
from siyu.accounts.signin import staff_sign_in
from siyu.core.errors import InvalidInput, RateLimited

from ..factories import make_staff


def _post(client: Client, username: str, password: str, ip: str = "10.1.1.1"):
    return client.post(reverse("console:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_thirty_wrong_passwords_then_the_right_one_is_still_refused(client, shop, owner, settings):
    client.cookies["django_language"] = "en"
    answers = [_post(client, "boss", f"guess-{n:04d}").status_code for n in range(30)]
    limit = settings.SIYU_SIGNIN_MAX_PER_ACCOUNT
    assert answers[:limit] == [400] * limit and set(answers[limit:]) == {429}
    right = _post(client, "boss", "password123")
    assert right.status_code == 429
    assert "Too many failed sign-ins" in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_account_lock_holds_from_any_address(client, shop, owner, settings):
    for n in range(settings.SIYU_SIGNIN_MAX_PER_ACCOUNT):
        _post(client, "boss", f"guess-{n}", ip=f"10.2.0.{n + 1}")
    assert _post(Client(), "BOSS", "password123", ip="10.9.9.9").status_code == 429


def test_one_address_guessing_many_accounts_is_locked_out(client, shop, owner, settings):
    settings.SIYU_SIGNIN_MAX_PER_ADDRESS = 5
    for n in range(5):
        assert _post(client, f"user{n}", "whatever-pw").status_code == 400
    assert _post(client, "boss", "password123").status_code == 429
    # another address is not affected
    assert _post(Client(), "boss", "password123", ip="10.7.7.7").status_code == 302


def test_the_lock_lifts_when_the_window_has_passed(client, shop, owner, settings):
    for n in range(settings.SIYU_SIGNIN_MAX_PER_ACCOUNT):
        _post(client, "boss", f"guess-{n}")
    assert _post(client, "boss", "password123").status_code == 429
    SignInFailure.objects.update(created_at="2000-01-01T00:00:00Z")
    assert _post(client, "boss", "password123").status_code == 302


def test_success_clears_the_account_failures(client, shop, owner, settings):
    limit = settings.SIYU_SIGNIN_MAX_PER_ACCOUNT
    for n in range(limit - 1):
        _post(client, "boss", f"guess-{n}")
    assert _post(client, "boss", "password123").status_code == 302
    assert not SignInFailure.objects.filter(username="boss").exists()
    for n in range(limit - 1):
        assert _post(Client(), "boss", f"guess-{n}").status_code == 400


def test_lock_answer_is_a_rate_limit_with_retry_after(shop, owner, settings):
    settings.SIYU_SIGNIN_MAX_PER_ACCOUNT = 2
    for _n in range(2):
        with pytest.raises(InvalidInput) as wrong:
            staff_sign_in(shop=shop, username="boss", password="nope-nope", ip=None)
        assert wrong.value.code == "sign_in_failed"
    with pytest.raises(RateLimited) as locked:
        staff_sign_in(shop=shop, username="boss", password="password123", ip=None)
    assert locked.value.code == "sign_in_locked"
    assert 0 < locked.value.detail["retry_after"] <= settings.SIYU_SIGNIN_WINDOW_SECONDS + 1


def test_unknown_user_inactive_user_and_other_shop_read_the_same(shop, other_shop, settings):
    make_staff(other_shop, username="rival")
    gone = make_staff(shop, username="gone")
    gone.user.is_active = False
    gone.user.save()
    messages = set()
    for username, password in [("nobody", "password123"), ("gone", "password123"), ("rival", "password123")]:
        with pytest.raises(InvalidInput) as refused:
            staff_sign_in(shop=shop, username=username, password=password, ip="10.3.3.3")
        messages.add((refused.value.code, str(refused.value.message)))
    assert len(messages) == 1


def test_password_change_page_is_throttled_too(shop, owner, settings):
    settings.SIYU_SIGNIN_MAX_PER_ACCOUNT = 3
    client = Client()
    client.force_login(owner.user)
    url = reverse("console:password")
    codes = [
        client.post(url, {"password": f"guess-{n}", "new_password": "n3w-secret-pw"}).status_code for n in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    assert client.post(url, {"password": "password123", "new_password": "n3w-secret-pw"}).status_code == 429
    owner.user.refresh_from_db()
    assert owner.user.check_password("password123")


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_pass_the_limit(shop, owner, settings, postgres_only):
    settings.SIYU_SIGNIN_MAX_PER_ACCOUNT = 5
    checked, lock = [], threading.Lock()
    barrier = threading.Barrier(20)

    def guess(n: int) -> None:
        try:
            barrier.wait()
            staff_sign_in(shop=shop, username="boss", password=f"guess-{n}", ip=None)
        except InvalidInput:
            with lock:
                checked.append(n)  # reached the password check
        except RateLimited:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= len(checked) <= 5
