"""Batch shipping through the API is the console's service: good rows ship, bad rows come back
with reasons; a role without orders.manage is refused; another shop's staff cannot ship this
shop's orders by number."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from siyu.accounts.roles import FINANCE
from siyu.accounts.services import address_create
from siyu.orders.models import Order, OrderStatus

from ..factories import make_product, make_staff
from ..orders.helpers import pay, place
from .conftest import API, OTHER_API, bearer

URL = "/console/orders/ship-batch"


@pytest.fixture
def paid(shop, shopper):
    address = address_create(
        shop=shop,
        shopper=shopper,
        data={
            "recipient": "王五",
            "phone": "13800138000",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 1 号",
        },
    )
    tea = make_product(shop, name="限量茶", price=5000, stock=50)
    orders = [place(shop, shopper, address, tea) for _ in range(2)]
    for order in orders:
        pay(order)
    return orders


def _xlsx(rows) -> SimpleUploadedFile:
    book = Workbook()
    for row in [("订单号", "快递公司", "快递单号"), *rows]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("ship.xlsx", out.getvalue())


def test_xlsx_good_rows_ship_bad_rows_come_back(api, paid):
    one, two = paid
    response = api.post(
        f"{API}{URL}",
        {"file": _xlsx([(one.number, "顺丰", "SF1001"), ("nope", "顺丰", "SF1002"), (two.number, "", "ZT1")])},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["shipped"] == 1
    assert [(r["row"], r["code"]) for r in body["rejected"]] == [(3, "not_found"), (4, "invalid_input")]
    assert Order.objects.get(pk=one.pk).status == OrderStatus.SHIPPED
    assert Order.objects.get(pk=two.pk).status == OrderStatus.PAID


def test_finance_may_not_ship(client, shop, paid):
    client.force_login(make_staff(shop, role=FINANCE).user)
    upload = SimpleUploadedFile("ship.csv", f"订单号,快递公司,快递单号\n{paid[0].number},顺丰,SF1001\n".encode())
    response = client.post(f"{API}{URL}", {"file": upload})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Order.objects.get(pk=paid[0].pk).status == OrderStatus.PAID


def test_another_shop_cannot_ship_this_shops_orders(client, paid, other_key):
    upload = SimpleUploadedFile("ship.csv", f"订单号,快递公司,快递单号\n{paid[0].number},顺丰,SF1001\n".encode())
    response = client.post(f"{OTHER_API}{URL}", {"file": upload}, headers=bearer(other_key))
    assert response.status_code == 200
    assert response.json()["shipped"] == 0 and response.json()["rejected"][0]["code"] == "not_found"
    assert Order.objects.get(pk=paid[0].pk).status == OrderStatus.PAID


def test_non_spreadsheets_are_400(api, paid):
    for upload in (
        SimpleUploadedFile("ship.png", b"\x89PNG\r\n\x1a\n"),
        SimpleUploadedFile("ship.xlsx", b"not a zip"),
        SimpleUploadedFile("ship.csv", b"a,b\n1,2\n"),
    ):
        response = api.post(f"{API}{URL}", {"file": upload})
        assert response.status_code == 400 and response.json()["code"] == "invalid_input", upload.name
