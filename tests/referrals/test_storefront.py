"""Share codes on storefront requests: visits, first touch in the session, binding after sign-in,
and no cost to requests without a code."""

import re
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from siyu.accounts import sms
from siyu.accounts.models import Shopper
from siyu.core.crypto import lookup_hash
from siyu.referrals.models import ReferralBinding, ReferralSettings, ShareVisit
from tests.promotion_flags import promotion_flags_warm

from ..factories import make_product, make_shopper, sign_in_shopper

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(shop):
    return ReferralSettings.objects.create(shop=shop)


@pytest.fixture
def alice(db):
    return make_shopper("13700000001")


def _session(client) -> SessionBase:
    return import_module(settings.SESSION_ENGINE).SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)


def _sign_in_by_otp(client, phone: str, django_capture_on_commit_callbacks) -> None:
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/login/", {"phone": phone, "action": "send"})
    code = re.search(r"\d{6}", sms.outbox[-1][1])[0]
    resp = client.post("/login/", {"phone": phone, "code": code, "action": "login", "next": "/"})
    assert resp.status_code == 302


def test_requests_without_a_code_cost_no_query(client, shop, product, django_assert_num_queries):
    client.get(f"/p/{product.public_id}/")  # warm-up
    with django_assert_num_queries(4) as plain:
        assert client.get(f"/p/{product.public_id}/").status_code == 200
    assert len(plain) == 4 and not ShareVisit.objects.exists()


def test_a_visit_with_a_code_is_recorded_and_the_first_code_kept(
    client, shop, product, rules, alice, django_assert_num_queries
):
    bob = make_shopper()
    promotion_flags_warm(shop.pk)
    # the page's own 4, plus: whose code (1), the shop's rules (1), the visit (1), and the new
    # server-side session that keeps the code: key check and insert (2; 4 here, where the
    # insert's atomic block is a savepoint inside the test's transaction)
    with django_assert_num_queries(11):
        assert client.get(f"/p/{product.public_id}/?ref={alice.share_code}").status_code == 200
    session = _session(client)
    assert session["ref"] == alice.share_code and session["ref_shop"] == shop.pk
    client.get(f"/?ref={bob.share_code}")
    assert _session(client)["ref"] == alice.share_code  # first touch holds within the window
    visits = list(ShareVisit.objects.order_by("id").values_list("code", "visitor_key"))
    assert [v[0] for v in visits] == [alice.share_code, bob.share_code]
    assert visits[0][1] == visits[1][1] == session["ref_visitor"]


def test_unknown_codes_and_posters_record_nothing(client, shop, product, rules, alice):
    client.get(f"/p/{product.public_id}/?ref=zzzzzzzz")
    client.get(f"/p/{product.public_id}/?ref=<b>")
    client.get(f"/p/{product.public_id}/poster.png?ref={alice.share_code}")
    assert not ShareVisit.objects.exists()
    assert settings.SESSION_COOKIE_NAME not in client.cookies  # nothing was kept either


def test_the_code_survives_sign_in_and_binds_on_the_next_request(
    client, shop, product, rules, alice, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client.get(f"/p/{product.public_id}/?ref={alice.share_code}")
    _sign_in_by_otp(client, "13912345678", django_capture_on_commit_callbacks)
    bob = Shopper.objects.get(phone_hash=lookup_hash("13912345678"))
    assert _session(client)["ref"] == alice.share_code  # kept through the session key change
    client.get(f"/p/{product.public_id}/")
    binding = ReferralBinding.objects.get(shop=shop, referee=bob)
    assert binding.referrer_shopper_id == alice.pk and binding.code == alice.share_code
    session = _session(client)
    assert "ref_pending" not in session and session["ref"] == alice.share_code  # checkout still sees it
    # once bound, pages are back to their own queries (a signed-in page's include the cart badge's count)
    with django_assert_max_num_queries(5):
        assert client.get(f"/p/{product.public_id}/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200


def test_a_signed_in_shopper_is_bound_at_once(client, shop, product, rules, alice):
    bob = make_shopper()
    sign_in_shopper(client, bob)
    client.get(f"/?ref={alice.share_code}")
    assert ReferralBinding.objects.get(referee=bob).referrer_shopper_id == alice.pk


def test_a_refused_binding_is_tried_once_and_the_page_still_works(client, shop, product, rules, alice):
    sign_in_shopper(client, alice)
    assert client.get(f"/?ref={alice.share_code}").status_code == 200  # own link: nothing recorded
    assert not ShareVisit.objects.exists() and not ReferralBinding.objects.exists()
    carol = make_shopper()
    ReferralBinding.objects.create(
        shop=shop, referee=alice, referrer_shopper=carol, code=carol.share_code, expires_at="2999-01-01T00:00:00Z"
    )
    dave = make_shopper()
    assert client.get(f"/p/{product.public_id}/?ref={dave.share_code}").status_code == 200
    assert ReferralBinding.objects.get(referee=alice).referrer_shopper_id == carol.pk
    assert "ref_pending" not in _session(client)


def test_product_and_home_stay_within_their_budgets_for_signed_in_shoppers(
    client, shop, rules, alice, django_assert_max_num_queries
):
    product = make_product(shop)
    sign_in_shopper(client, alice)
    promotion_flags_warm(shop.pk)
    with django_assert_max_num_queries(5):  # 4, and the cart badge's count for a signed-in shopper
        assert client.get(f"/p/{product.public_id}/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200
