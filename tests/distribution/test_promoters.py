"""Applying to be a promoter, staff decisions, and the settings: at most two tiers, no fees."""

import pytest
from django.db import IntegrityError, connection, transaction

from siyu.accounts.roles import FINANCE, SERVICE
from siyu.core.crypto import lookup_hash
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.distribution.models import CommissionRule, DistributionSettings, Promoter
from siyu.distribution.promoters import (
    commission_rule_set,
    distribution_settings_update,
    id_number_clean,
    promoter_apply,
    promoter_decide,
    promoter_suspend,
    settings_for,
)

from ..factories import make_product, make_shopper, make_staff
from .promoter_steps import approved_promoter, id_number

pytestmark = pytest.mark.django_db


def apply(shop, shopper, **changes):
    args = {
        "real_name": "李四",
        "id_number": id_number(7),
        "payout_kind": "wechat",
        "payout_account": "wx_lisi",
        **changes,
    }
    return promoter_apply(shop=shop, shopper=shopper, **args)


def test_id_number_checksum_and_birth_date():
    good = id_number(5)
    assert id_number_clean(good.lower()) == good
    assert id_number_clean("11010519491231002X") == "11010519491231002X"
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    for bad in (wrong_check, good[:17], "1" * 18, id_number(5, born="19901301"), "abc"):
        with pytest.raises(InvalidInput):
            id_number_clean(bad)


def test_apply_is_free_encrypted_and_needs_no_purchase(shop, shopper):
    promoter = apply(shop, shopper)
    assert promoter.status == Promoter.Status.APPLIED and not shopper.orders.exists()
    assert promoter.id_number_hash == lookup_hash(id_number(7))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT real_name, id_number, payout_account FROM distribution_promoter WHERE id = %s", [promoter.pk]
        )
        stored = cursor.fetchone()
    assert "李四" not in stored[0] and id_number(7) not in stored[1] and "wx_lisi" not in stored[2]
    again = Promoter.objects.get(pk=promoter.pk)
    assert (again.real_name, again.id_number, again.payout_account) == ("李四", id_number(7), "wx_lisi")


def test_apply_refuses_bad_input_duplicates_and_reused_ids(shop, shopper):
    for changes in ({"real_name": ""}, {"payout_kind": "cash"}, {"payout_account": "x"}, {"id_number": "123"}):
        with pytest.raises(InvalidInput):
            apply(shop, shopper, **changes)
    apply(shop, shopper)
    with pytest.raises(Conflict) as exc:
        apply(shop, shopper)
    assert exc.value.code == "already_applied"
    with pytest.raises(Conflict) as exc:
        apply(shop, make_shopper())  # the same ID number for another account
    assert exc.value.code == "id_number_taken"


def test_staff_decide_with_permission_and_audit(shop, owner, shopper):
    promoter = apply(shop, shopper)
    with pytest.raises(PermissionDenied):
        promoter_decide(actor=make_staff(shop, role=FINANCE), promoter=promoter, approve=True)
    decided = promoter_decide(actor=make_staff(shop, role=SERVICE), promoter=promoter, approve=False, note="资料不全")
    assert decided.status == Promoter.Status.REJECTED and decided.note == "资料不全"
    with pytest.raises(Conflict):
        promoter_decide(actor=owner, promoter=promoter, approve=True)
    again = apply(shop, shopper, payout_account="wx_lisi_2")  # a rejected application may be sent again
    assert again.pk == promoter.pk and again.status == Promoter.Status.APPLIED
    approved = promoter_decide(actor=owner, promoter=again, approve=True)
    assert approved.status == Promoter.Status.APPROVED and approved.decided_by == owner
    suspended = promoter_suspend(actor=owner, promoter=approved, note="刷单")
    assert suspended.status == Promoter.Status.SUSPENDED
    decisions = AuditEntry.objects.filter(
        action__in=["promoter.approved", "promoter.rejected"], target_id=str(promoter.pk)
    )
    assert sorted((e.action, e.data["from"], e.data["to"]) for e in decisions) == [
        ("promoter.approved", "applied", "approved"),
        ("promoter.rejected", "applied", "rejected"),
    ]


def test_parent_code_links_an_approved_promoter_only(shop, owner):
    parent = approved_promoter(shop, owner)
    child = apply(shop, make_shopper(), id_number=id_number(40), parent_code=parent.shopper.share_code)
    assert child.parent == parent
    pending = apply(shop, make_shopper(), id_number=id_number(41))
    orphan = apply(shop, make_shopper(), id_number=id_number(42), parent_code=pending.shopper.share_code)
    assert orphan.parent is None
    self_ref = make_shopper()
    assert apply(shop, self_ref, id_number=id_number(43), parent_code=self_ref.share_code).parent is None


def test_other_shops_staff_cannot_decide(shop, other_shop, shopper):
    promoter = apply(shop, shopper)
    with pytest.raises(PermissionDenied):
        promoter_decide(actor=make_staff(other_shop), promoter=promoter, approve=True)


def test_tiers_are_capped_at_two_in_the_service_and_the_database(shop, owner):
    assert settings_for(shop).tiers == 1  # one tier by default
    for tiers in (0, 3, 10, "two"):
        with pytest.raises(InvalidInput):
            distribution_settings_update(actor=owner, shop=shop, data={"tiers": tiers})
    assert distribution_settings_update(actor=owner, shop=shop, data={"tiers": 2}).tiers == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        DistributionSettings.objects.filter(shop=shop).update(tiers=3)
    assert DistributionSettings.objects.get(shop=shop).tiers == 2


def test_settings_have_no_fee_purchase_or_recruiting_reward(shop, owner):
    for key in ("entry_fee", "purchase_required", "recruit_reward", "join_price"):
        with pytest.raises(InvalidInput) as exc:
            distribution_settings_update(actor=owner, shop=shop, data={key: 1})
        assert exc.value.detail == {"unknown": [key]}
    field_names = {f.name for f in DistributionSettings._meta.get_fields()}
    assert not {n for n in field_names if "fee" in n or "recruit" in n or "purchase" in n}
    updated = distribution_settings_update(
        actor=owner,
        shop=shop,
        data={"default_rate_bp": "800", "min_withdrawal": "5.00", "second_approval_over": 50000, "freeze_days": 3},
    )
    assert (updated.default_rate_bp, updated.min_withdrawal, updated.second_approval_over) == (800, 500, 50000)
    with pytest.raises(InvalidInput):
        distribution_settings_update(actor=owner, shop=shop, data={"default_rate_bp": 5001})
    with pytest.raises(PermissionDenied):
        distribution_settings_update(actor=make_staff(shop, role=SERVICE), shop=shop, data={"tiers": 1})


def test_commission_rules_per_product_or_category(shop, owner, other_shop):
    product = make_product(shop)
    rule = commission_rule_set(actor=owner, shop=shop, product_id=product.pk, rate_bp=1200)
    replaced = commission_rule_set(actor=owner, shop=shop, product_id=product.pk, rate_bp=1500)
    assert list(CommissionRule.objects.values_list("pk", "rate_bp")) == [(replaced.pk, 1500)] and rule.pk != replaced.pk
    with pytest.raises(InvalidInput):
        commission_rule_set(actor=owner, shop=shop, rate_bp=100)  # no target
    with pytest.raises(InvalidInput):
        commission_rule_set(actor=owner, shop=shop, product_id=product.pk, rate_bp=100, tier=3)
    with pytest.raises(NotFound):
        commission_rule_set(actor=owner, shop=shop, product_id=make_product(other_shop).pk, rate_bp=100)
