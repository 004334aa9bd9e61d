"""Bindings: first touch within the window, self-referral and cycles refused, only new customers,
consent withdrawals respected."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.core.errors import Conflict, InvalidInput
from siyu.customers.privacy import consent_set
from siyu.customers.stats import customer_for_shopper
from siyu.referrals.models import ReferralBinding, ReferralSettings, ShareVisit
from siyu.referrals.services import (
    ref_should_replace,
    referral_bind,
    referral_settings_get,
    share_visit_record,
)

from ..factories import make_shopper
from .steps import paid_order, shopper_with_address

pytestmark = pytest.mark.django_db


def _code_of(err) -> str:
    return err.value.code


def test_first_touch_binds_for_the_window_and_is_not_overwritten(shop):
    alice, bob, carol = make_shopper(), make_shopper(), make_shopper()
    now = timezone.now()
    binding = referral_bind(shop=shop, referee=bob, code=alice.share_code, now=now)
    assert binding.referrer_shopper_id == alice.pk and binding.code == alice.share_code
    assert binding.bound_at == now and binding.expires_at == now + timedelta(days=30)
    with pytest.raises(Conflict) as err:
        referral_bind(shop=shop, referee=bob, code=carol.share_code, now=now + timedelta(days=29))
    assert _code_of(err) == "already_bound"
    assert ReferralBinding.objects.get(referee=bob).referrer_shopper_id == alice.pk


def test_an_expired_binding_of_someone_who_never_bought_can_be_taken_over(shop):
    alice, bob, carol = make_shopper(), make_shopper(), make_shopper()
    ReferralSettings.objects.create(shop=shop, window_days=7)
    start = timezone.now() - timedelta(days=8)
    referral_bind(shop=shop, referee=bob, code=alice.share_code, now=start)
    later = referral_bind(shop=shop, referee=bob, code=carol.share_code)
    assert later.referrer_shopper_id == carol.pk and later.expires_at > timezone.now() + timedelta(days=6)
    assert ReferralBinding.objects.filter(referee=bob).count() == 1


def test_own_code_is_refused(shop):
    alice = make_shopper()
    with pytest.raises(Conflict) as err:
        referral_bind(shop=shop, referee=alice, code=alice.share_code)
    assert _code_of(err) == "self_referral" and not ReferralBinding.objects.exists()


def test_cycles_are_refused_along_the_whole_chain(shop):
    a, b, c, d = (make_shopper() for _ in range(4))
    referral_bind(shop=shop, referee=b, code=a.share_code)  # a brought b
    referral_bind(shop=shop, referee=c, code=b.share_code)  # b brought c
    with pytest.raises(Conflict) as err:
        referral_bind(shop=shop, referee=a, code=b.share_code)
    assert _code_of(err) == "referral_cycle"
    with pytest.raises(Conflict) as err:
        referral_bind(shop=shop, referee=a, code=c.share_code)  # a → b → c → a
    assert _code_of(err) == "referral_cycle"
    # not a loop: d is outside the chain
    assert referral_bind(shop=shop, referee=d, code=c.share_code).referrer_shopper_id == c.pk
    assert not ReferralBinding.objects.filter(referee=a).exists()


def test_a_chain_in_another_shop_is_not_a_cycle_here(shop, other_shop):
    a, b = make_shopper(), make_shopper()
    referral_bind(shop=other_shop, referee=b, code=a.share_code)
    assert referral_bind(shop=shop, referee=a, code=b.share_code).referrer_shopper_id == b.pk


def test_only_new_customers_are_bound(shop, product):
    alice = make_shopper()
    buyer, address = shopper_with_address(shop)
    paid_order(shop, buyer, address, product)
    with pytest.raises(Conflict) as err:
        referral_bind(shop=shop, referee=buyer, code=alice.share_code)
    assert _code_of(err) == "not_new_customer"


def test_imported_past_buyers_are_not_new(shop):
    alice, imported = make_shopper(), make_shopper()
    customer = customer_for_shopper(shop=shop, shopper=imported)
    type(customer).objects.filter(pk=customer.pk).update(order_count=3)
    with pytest.raises(Conflict) as err:
        referral_bind(shop=shop, referee=imported, code=alice.share_code)
    assert _code_of(err) == "not_new_customer"


def test_staff_codes_bind_and_other_shops_staff_codes_do_not(shop, other_shop, owner):
    from ..factories import make_staff

    stranger = make_staff(other_shop)
    bob = make_shopper()
    with pytest.raises(InvalidInput):
        referral_bind(shop=shop, referee=bob, code=stranger.share_code)
    binding = referral_bind(shop=shop, referee=bob, code=owner.share_code)
    assert binding.referrer_staff_id == owner.pk and binding.referrer_shopper_id is None


def test_withdrawn_profiling_consent_is_respected(shop):
    alice, bob = make_shopper(), make_shopper()
    consent_set(shop=shop, shopper=bob, marketing=False, profiling=True)
    consent_set(shop=shop, shopper=bob, marketing=False, profiling=False)  # withdrawn
    with pytest.raises(Conflict) as err:
        referral_bind(shop=shop, referee=bob, code=alice.share_code)
    assert _code_of(err) == "consent_refused"


def test_not_asked_binds_but_keeps_visits_anonymous_and_consent_links_them(shop):
    alice, bob, carol = make_shopper(), make_shopper(), make_shopper()
    share_visit_record(shop=shop, code=alice.share_code, visitor_key="v-bob")
    referral_bind(shop=shop, referee=bob, code=alice.share_code, visitor_key="v-bob")
    assert ShareVisit.objects.get(visitor_key="v-bob").shopper_id is None
    consent_set(shop=shop, shopper=carol, marketing=False, profiling=True)
    share_visit_record(shop=shop, code=alice.share_code, visitor_key="v-carol")
    referral_bind(shop=shop, referee=carol, code=alice.share_code, visitor_key="v-carol")
    assert ShareVisit.objects.get(visitor_key="v-carol").shopper_id == carol.pk


def test_switched_off_shops_record_and_bind_nothing(shop):
    alice, bob = make_shopper(), make_shopper()
    settings = referral_settings_get(shop=shop)
    settings.enabled = False
    settings.save()
    assert share_visit_record(shop=shop, code=alice.share_code, visitor_key="x") is None
    with pytest.raises(Conflict):
        referral_bind(shop=shop, referee=bob, code=alice.share_code)
    assert not ShareVisit.objects.exists() and not ReferralBinding.objects.exists()


def test_visits_need_a_real_code_and_never_count_the_sharer_themselves(shop):
    alice = make_shopper()
    assert share_visit_record(shop=shop, code="nobody00", visitor_key="x") is None
    assert share_visit_record(shop=shop, code=alice.share_code, visitor_key="x", shopper=alice) is None
    touch = share_visit_record(shop=shop, code=alice.share_code, visitor_key="y", path="/p/abc/")
    assert touch.referrer.shopper_id == alice.pk and touch.window_days == 30
    assert list(ShareVisit.objects.values_list("visitor_key", "path")) == [("y", "/p/abc/")]


def test_session_first_touch_holds_for_the_window_and_per_shop():
    now = timezone.now()
    kept = {"current_code": "aaaa", "current_at": now.timestamp() - 86400 * 5, "current_shop": 1}
    assert not ref_should_replace(**kept, shop_id=1, window_days=30, now=now)
    assert ref_should_replace(**kept, shop_id=1, window_days=4, now=now)
    assert ref_should_replace(**kept, shop_id=2, window_days=30, now=now)
    assert ref_should_replace(current_code=None, current_at=None, current_shop=None, shop_id=1, window_days=30)
