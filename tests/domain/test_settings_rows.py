import pytest

from siyu.core.errors import InvalidInput
from siyu.core.models import AuditEntry
from siyu.core.settings_rows import settings_row_get, whole_number, yes_no
from siyu.customers.models import CrmSettings
from siyu.customers.settings_service import crm_settings_update


@pytest.mark.parametrize(
    "raw, expected",
    [
        (5, 5),
        ("12", 12),
        (" -3 ", -3),
        ("--5", None),
        ("5-", None),
        ("²", None),
        (True, None),
        ("1e3", None),
        ("", None),
        (None, None),
        ("9" * 40, None),
    ],
)
def test_whole_number_takes_only_plain_whole_numbers(raw, expected):
    assert whole_number(raw) == expected


def test_yes_no():
    assert [yes_no(v) for v in (True, "on", "0", "", "maybe")] == [True, True, False, False, None]


def test_reading_settings_writes_nothing(shop):
    row = settings_row_get(CrmSettings, shop_id=shop.pk)
    assert row.pk is None and row.shop_id == shop.pk
    assert not CrmSettings.objects.exists()


def test_update_checks_input_and_audits_changes(shop, owner):
    with pytest.raises(InvalidInput):
        crm_settings_update(actor=owner, shop=shop, data=["not", "a", "dict"])
    with pytest.raises(InvalidInput) as err:
        crm_settings_update(actor=owner, shop=shop, data={"new_days": "--5"})
    assert err.value.detail == {"new_days": "not a whole number"}
    row = crm_settings_update(actor=owner, shop=shop, data={"points_per_yuan": 3})
    assert CrmSettings.objects.get(pk=row.pk).points_per_yuan == 3
    entry = AuditEntry.objects.get(action="crm_settings.update")
    assert entry.data == {"points_per_yuan": {"from": 1, "to": 3}}
    assert entry.actor == owner.user
