"""Changing the customer-pool settings: partial updates, ordered lifecycle limits, permissions."""

import pytest

from siyu.accounts.roles import FINANCE
from siyu.core.errors import InvalidInput, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.customers.models import CrmSettings
from siyu.customers.settings_service import crm_settings_update
from tests.factories import make_staff


def test_update_changes_only_what_is_given_and_is_audited(shop, owner):
    settings = crm_settings_update(actor=owner, shop=shop, data={"points_per_yuan": "3", "new_days": 7})
    assert (settings.points_per_yuan, settings.new_days, settings.active_days) == (3, 7, 90)
    assert CrmSettings.objects.filter(shop=shop).count() == 1
    entry = AuditEntry.objects.get(action="crm_settings.update")
    assert entry.data == {"points_per_yuan": {"from": 1, "to": 3}, "new_days": {"from": 30, "to": 7}}
    crm_settings_update(actor=owner, shop=shop, data={"dormant_days": 400})
    assert CrmSettings.objects.get(shop=shop).points_per_yuan == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"active_days": 200}, "at_risk_days"),  # active must stay below at risk (180)
        ({"at_risk_days": 365}, "dormant_days"),  # at risk must stay below dormant (365)
        ({"new_days": 0}, "new_days"),
        ({"max_redeem_bp": 10001}, "max_redeem_bp"),
        ({"points_per_yuan_redeemed": "x"}, "points_per_yuan_redeemed"),
        ({"points_valid_days": True}, "points_valid_days"),
        ({"points_per_yuan": -1}, "points_per_yuan"),
    ],
)
def test_bad_values_are_refused_and_nothing_changes(shop, owner, data, field):
    CrmSettings.objects.create(shop=shop)
    with pytest.raises(InvalidInput) as refused:
        crm_settings_update(actor=owner, shop=shop, data=data)
    assert field in refused.value.detail
    settings = CrmSettings.objects.get(shop=shop)
    assert (settings.active_days, settings.at_risk_days, settings.max_redeem_bp) == (90, 180, 5000)


def test_only_customer_managers_of_this_shop(shop, other_shop, owner):
    with pytest.raises(PermissionDenied):
        crm_settings_update(actor=make_staff(shop, role=FINANCE, username="caiwu"), shop=shop, data={"new_days": 5})
    with pytest.raises(PermissionDenied):
        crm_settings_update(actor=make_staff(other_shop, username="rival"), shop=shop, data={"new_days": 5})
    assert not CrmSettings.objects.filter(shop=shop, new_days=5).exists()
