"""The API's order export follows the rule every export follows: full phones and street addresses
only for staff who ship (orders.manage), each such export in the audit log; everyone else masked."""

import csv
import io

import pytest
from django.test import Client

from siyu.accounts.roles import FINANCE, SERVICE
from siyu.accounts.services import address_create
from siyu.core.models import AuditEntry

from ..factories import make_product, make_staff
from ..orders.helpers import pay, place
from .conftest import API

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
ADDRESS = {"recipient": "王小明", "phone": PHONE, "province": "浙江省", "city": "杭州市", "district": "西湖区"}


@pytest.fixture
def order(shop, shopper):
    address = address_create(shop=shop, shopper=shopper, data={**ADDRESS, "detail": "文三路 90 号 3 单元"})
    order = place(shop, shopper, address, make_product(shop, name="限量茶", price=5000, stock=5))
    pay(order)
    return order


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    return [dict(zip(header, row, strict=True)) for row in rows]


def _exports():
    return AuditEntry.objects.filter(action="orders.export_contacts")


def test_staff_who_ship_get_full_contacts_and_the_export_is_logged(api, shop, owner, order):
    [row] = _rows(api.get(f"{API}/console/orders/export", {"status": "paid"}))
    assert row["电话"] == PHONE and row["地址"] == "文三路 90 号 3 单元"
    [entry] = _exports()
    assert entry.shop_id == shop.pk and entry.actor == owner.user
    assert entry.data == {"rows": 1, "fields": ["phone", "address"], "filters": {"status": "paid"}}


@pytest.mark.parametrize("role", [FINANCE])
def test_staff_who_do_not_ship_get_masked_contacts_and_nothing_is_logged(shop, owner, order, role):
    client = Client()
    client.force_login(make_staff(shop, role=role, username="viewer").user)
    [row] = _rows(client.get(f"{API}/console/orders/export"))
    assert row["电话"] == "139****5678" and row["地址"] == "" and PHONE not in str(row)
    assert row["城市"] == "杭州市" and row["收件人"] == "王小明"  # enough to answer a customer's question
    assert not _exports().exists()


def test_customer_service_who_ships_is_logged_too(shop, owner, order):
    client = Client()
    service = make_staff(shop, role=SERVICE, username="kefu")
    client.force_login(service.user)
    [row] = _rows(client.get(f"{API}/console/orders/export"))
    assert row["电话"] == PHONE
    assert _exports().get().actor == service.user
