"""The shopper's "invite friends" page and poster, and the staff-side settings service."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from siyu.accounts.roles import FINANCE
from siyu.core.audit import AuditEntry
from siyu.core.errors import InvalidInput, PermissionDenied
from siyu.referrals.models import ReferralSettings
from siyu.referrals.services import referral_bind, referral_rewards_grant_due, referral_settings_update

from ..factories import make_product, make_shopper, make_staff
from .steps import completed, shopper_with_address

pytestmark = pytest.mark.django_db


def test_my_page_links_to_the_invite_page(shopper_client, shop):
    assert "/my/invite/" in shopper_client.get("/my/").content.decode()


def test_invite_page_needs_sign_in(client, shop):
    resp = client.get("/my/invite/")
    assert resp.status_code == 302 and resp["Location"].startswith("/login/")


def test_invite_page_shows_link_rules_and_referrals_in_constant_queries(
    shopper_client, shop, shopper, owner, django_assert_num_queries
):
    ReferralSettings.objects.create(shop=shop, referrer_reward=800, referee_reward=200, window_days=14)
    tea = make_product(shop, price=5000, stock=20)
    friend, address = shopper_with_address(shop, "13700000009")
    referral_bind(shop=shop, referee=friend, code=shopper.share_code)
    completed(shop, friend, address, tea, owner)
    # shop, shopper, rules, referrals, rewards
    with django_assert_num_queries(5):
        resp = shopper_client.get("/my/invite/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert f"/?ref={shopper.share_code}" in html and f"poster.png?ref={shopper.share_code}" in html
    assert friend.masked_phone in html and "800" in html and "14" in html
    assert (resp.context["o"].pending_total, resp.context["o"].granted_total) == (800, 0)
    for _i in range(5):
        referral_bind(shop=shop, referee=make_shopper(), code=shopper.share_code)
    referral_rewards_grant_due(now=timezone.now() + timedelta(days=40))
    with django_assert_num_queries(5):
        resp = shopper_client.get("/my/invite/")
    assert len(resp.context["o"].referrals) == 6
    assert (resp.context["o"].pending_total, resp.context["o"].granted_total) == (0, 800)


def test_invite_poster_is_a_png_and_refuses_bad_codes(client, shop, shopper):
    resp = client.get(f"/invite/poster.png?ref={shopper.share_code}")
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(resp.content)).size == (750, 1100)
    assert client.get("/invite/poster.png?ref=<script>").status_code == 404


def test_settings_update_checks_permission_validates_and_audits(shop, other_shop, owner):
    finance = make_staff(shop, role=FINANCE)
    with pytest.raises(PermissionDenied):
        referral_settings_update(actor=finance, shop=shop, data={"window_days": 10})
    with pytest.raises(PermissionDenied):
        referral_settings_update(actor=make_staff(other_shop), shop=shop, data={"window_days": 10})
    with pytest.raises(InvalidInput) as err:
        referral_settings_update(actor=owner, shop=shop, data={"window_days": 0, "reward_kind": "cash"})
    assert set(err.value.detail) == {"window_days", "reward_kind"}
    settings = referral_settings_update(
        actor=owner, shop=shop, data={"window_days": "10", "reward_kind": "credit", "enabled": "off"}
    )
    assert (settings.window_days, settings.reward_kind, settings.enabled) == (10, "credit", False)
    entry = AuditEntry.objects.get(action="referral_settings.update")
    assert entry.data["window_days"] == {"from": 30, "to": 10}
