"""Bulk actions on the console customer list: ticked rows, all matching a filter, permissions,
other shops' ids, the CSV export, the select-all script under the CSP."""

import csv
import io

import pytest
from django.urls import reverse

from siyu.accounts.roles import FINANCE
from siyu.core.models import AuditEntry
from siyu.customers.models import Customer, CustomerTag, FollowUp, Tag

from ..factories import make_staff
from .customer_helpers import make_customer, make_customers
from .helpers import login_client

pytestmark = pytest.mark.django_db

LIST = reverse("console:customers")
BULK = reverse("console:customer_bulk")


@pytest.fixture
def finance_client(shop, owner):
    return login_client(make_staff(shop, role=FINANCE, username="caiwu"))


def _post(client, action, *, ids=(), **fields):
    data = {"bulk-action": action, "ids": [c.public_id for c in ids]}
    data.update({f"bulk-{k}": v for k, v in fields.items()})
    return client.post(BULK, data)


def _tagged(name) -> set[int]:
    return set(CustomerTag.objects.filter(tag__name=name).values_list("customer_id", flat=True))


def test_list_has_checkboxes_and_a_static_select_all_script(en_client, shop):
    make_customers(shop, 3)
    response = en_client.get(LIST)
    body = response.content.decode()
    assert body.count('name="ids"') == 3 and "data-bulk-page" in body
    assert "console/customers-bulk.js" in body and "<script>" not in body and " onclick=" not in body
    assert 'value="tag"' in body and 'value="assign"' in body and 'value="export"' in body
    assert "all 3 customers matching this filter" in body


def test_finance_sees_only_the_export(finance_client, shop):
    make_customers(shop, 2)
    body = finance_client.get(LIST).content.decode()
    assert 'value="export"' in body and 'value="tag"' not in body and 'value="assign"' not in body


def test_tag_ticked_rows_and_come_back_to_the_filtered_list(en_client, shop):
    customers = make_customers(shop, 4)
    response = _post(en_client, "tag", ids=customers[:2], tag_name="回头客", query="q=客户&page=2")
    assert response.status_code == 302
    assert response["Location"].startswith(LIST + "?") and "page=2" in response["Location"]
    assert _tagged("回头客") == {c.pk for c in customers[:2]}
    page = en_client.get(response["Location"])
    assert "Tagged 2 of 2 customers." in page.content.decode()

    tag = Tag.objects.get(name="回头客")
    _post(en_client, "untag", ids=customers, tag=tag.pk)
    assert _tagged("回头客") == set()
    assert AuditEntry.objects.filter(action__startswith="customers.bulk_").count() == 2


def test_all_matching_the_filter_reaches_beyond_this_page(en_client, shop):
    vip = Tag.objects.create(shop=shop, name="VIP")
    members = make_customers(shop, 25)
    for c in members:
        CustomerTag.objects.create(customer=c, tag=vip)
    outsider = make_customer(shop, name="外人")
    response = _post(en_client, "tag", tag_name="年终", all_matching="on", query=f"tag={vip.pk}")
    assert response.status_code == 302
    assert _tagged("年终") == {c.pk for c in members} and outsider.pk not in _tagged("年终")
    audit = AuditEntry.objects.get(action="customers.bulk_tag")
    assert audit.data["selected"] == 25 and audit.data["filter"] == {"tag": str(vip.pk)}


def test_an_invalid_filter_is_refused_rather_than_widened(en_client, shop):
    make_customers(shop, 3)
    response = _post(en_client, "tag", tag_name="全部", all_matching="on", query="spend_min=abc")
    assert response.status_code == 302
    assert not Tag.objects.filter(name="全部").exists() and not CustomerTag.objects.exists()
    assert "not valid" in en_client.get(response["Location"]).content.decode()


def test_nothing_ticked_or_a_missing_choice_is_a_message_not_a_500(en_client, shop):
    make_customers(shop, 2)
    for response in (
        _post(en_client, "tag", tag_name="x"),
        _post(en_client, "tag", ids=Customer.objects.all()),
        _post(en_client, "assign", ids=Customer.objects.all(), title="回访"),
        _post(en_client, "explode", ids=Customer.objects.all()),
    ):
        assert response.status_code == 302
    assert not CustomerTag.objects.exists() and not FollowUp.objects.exists()


def test_assign_for_follow_up(en_client, shop, owner):
    helper = make_staff(shop, username="xiaowang")
    customers = make_customers(shop, 3)
    response = _post(en_client, "assign", ids=customers, assignee=helper.pk, title="新品通知", due_on="2031-01-02")
    assert response.status_code == 302
    assert FollowUp.objects.filter(assignee=helper, title="新品通知").count() == 3
    assert Customer.objects.filter(assigned_to=helper).count() == 3


def test_finance_cannot_change_but_can_export_masked(finance_client, shop):
    customers = make_customers(shop, 3)
    make_customer(shop, name='=cmd|" /C calc"!A0', phone="13900000009")
    assert _post(finance_client, "tag", ids=customers, tag_name="x").status_code == 403
    assert not CustomerTag.objects.exists()

    picked = [*customers[:2], Customer.objects.get(phone_hash__isnull=False, name__startswith="=")]
    response = _post(finance_client, "export", ids=picked)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 4  # header and the three ticked
    assert "13900000009" not in text and "139****0009" in text
    assert {r[1] for r in rows[1:]} == {"客户0", "客户1", '\'=cmd|" /C calc"!A0'}
    assert AuditEntry.objects.get(action="customers.bulk_export").data["selected"] == 3


def test_another_shops_ids_are_ignored_and_its_staff_refused(en_client, other_client, shop, other_shop):
    mine = make_customers(shop, 1)
    theirs = make_customer(other_shop, name="他店客户")
    _post(en_client, "tag", ids=[*mine, theirs], tag_name="本店")
    assert _tagged("本店") == {mine[0].pk}
    assert _post(other_client, "tag", ids=mine, tag_name="偷").status_code == 403
    response = _post(en_client, "export", ids=[theirs])
    assert response.status_code == 200 and "他店客户" not in response.content.decode("utf-8-sig")


def test_bulk_needs_post(en_client):
    assert en_client.get(BULK).status_code == 405
