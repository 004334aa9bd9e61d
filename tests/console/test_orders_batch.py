"""Batch shipping from the console: good rows ship, bad rows come back with reasons, bad files never 500."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from siyu.accounts.roles import FINANCE
from siyu.orders.models import OrderStatus

from ..factories import make_product, make_staff
from ..orders.helpers import pay, place
from .helpers import login_client
from .test_orders import make_address

URL = "/console/orders/ship-batch/"


@pytest.fixture
def paid_orders(shop, shopper):
    address = make_address(shop, shopper)
    tea = make_product(shop, name="龙井茶", price=5000, stock=50)
    orders = [place(shop, shopper, address, tea) for _ in range(3)]
    for order in orders[:2]:
        pay(order)
    return orders  # the third stays unpaid


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_url_is_stable():
    assert reverse("console:batch_ship") == URL


def test_gbk_csv_ships_good_rows_and_reports_bad_ones(en_client, paid_orders):
    first, second, unpaid = paid_orders
    text = (
        "订单号,快递公司,快递单号\n"
        f"{first.number},顺丰,SF1001\n"
        f"{second.number},中通,ZT2002\n"
        "20260000000000000000,顺丰,SF3003\n"
        f"{unpaid.number},圆通,YT4004\n"
        f"{first.number},顺丰,SF5005\n"
        "\n"
    )
    response = en_client.post(URL, {"file": upload("发货.csv", text.encode("gbk"))})
    assert response.status_code == 200
    assert response.context["result"]["shipped"] == 2
    rejected = response.context["rejected"]
    assert [(r["row"], r["order"]) for r in rejected] == [
        (4, "20260000000000000000"),
        (5, unpaid.number),
        (6, first.number),
    ]
    page = response.content.decode()
    assert "2 orders shipped." in page and "3 rows were not applied." in page
    assert "No order with this number." in page and "The order is not waiting to be shipped." in page
    for order, status in ((first, OrderStatus.SHIPPED), (second, OrderStatus.SHIPPED), (unpaid, "pending_payment")):
        order.refresh_from_db()
        assert order.status == status
    assert first.shipments.get().tracking_number == "SF1001"

    download = en_client.post(reverse("console:batch_ship_rejected"), {"rows": response.context["rejected_json"]})
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["订单号", "快递公司", "快递单号", "Row", "Reason"]
    assert [r[0] for r in rows[1:]] == ["20260000000000000000", unpaid.number, first.number]
    assert rows[1][4] == "No order with this number."


def test_xlsx_with_english_headers(en_client, paid_orders):
    first, second, _unpaid = paid_orders
    content = xlsx_bytes(
        [["Order", "Carrier", "Tracking", "Remark"], [first.number, "顺丰", "SF1", "x"], [second.number, "", "SF2"]]
    )
    response = en_client.post(URL, {"file": upload("ship.xlsx", content)})
    assert response.status_code == 200
    assert response.context["result"]["shipped"] == 1
    assert [r["row"] for r in response.context["rejected"]] == [3]
    first.refresh_from_db()
    assert first.status == OrderStatus.SHIPPED


def _broken_xlsx() -> bytes:
    import zipfile

    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["订单号", "快递公司", "快递单号"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as broken:
        for name in good.namelist():
            broken.writestr(name, b"<worksheet><oops" if name.endswith("sheet1.xml") else good.read(name))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("ship.csv", b"", "The submitted file is empty."),
        ("ship.csv", b"\n\n", "The file needs columns"),
        ("ship.csv", "订单号,快递公司\n1,顺丰\n".encode("gbk"), "The file needs columns"),
        ("ship.csv", b"order,carrier,tracking\n", "The file has no rows under the header."),
        ("ship.csv", bytes(range(128, 256)) * 8, "Save the file as UTF-8 or GBK."),
        ("ship.xlsx", b"PK not really a zip", "not a readable Excel workbook"),
        ("ship.xlsx", None, "The file is not a readable Excel workbook."),
        ("ship.csv", b'order,carrier,tracking\n"' + b"9" * 140000 + b'",a,b\n', "The file is not a readable CSV file."),
        ("ship.pdf", b"%PDF-1.4", "Upload a .csv or .xlsx file."),
    ],
)
def test_bad_files_are_refused_with_a_reason(en_client, paid_orders, name, content, message):
    content = _broken_xlsx() if content is None else content
    response = en_client.post(URL, {"file": upload(name, content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["result"] is None


def test_missing_file_and_bad_rejected_rows_post(en_client, shop):
    assert en_client.post(URL, {}).status_code == 400
    assert en_client.post(reverse("console:batch_ship_rejected"), {"rows": "{not json"}).status_code == 400
    assert en_client.post(reverse("console:batch_ship_rejected"), {"rows": json.dumps({"a": 1})}).status_code == 400


def test_rejected_download_is_formula_safe(en_client, shop):
    rows = json.dumps([{"row": 2, "order": "=1+1", "carrier": "@x", "tracking": "-3", "reason": "r"}])
    content = en_client.post(reverse("console:batch_ship_rejected"), {"rows": rows}).content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(content)))[1] == ["'=1+1", "'@x", "'-3", "2", "r"]


def test_sample_and_page(en_client, shop):
    page = en_client.get(URL)
    assert page.status_code == 200 and "快递单号" in page.content.decode()
    sample = en_client.get(reverse("console:batch_ship_sample"))
    assert sample.content.decode("utf-8-sig").splitlines()[0] == "订单号,快递公司,快递单号"


def test_finance_cannot_batch_ship(shop, owner, paid_orders):
    client = login_client(make_staff(shop, role=FINANCE, username="caiwu"))
    text = f"订单号,快递公司,快递单号\n{paid_orders[0].number},顺丰,SF1\n"
    response = client.post(URL, {"file": upload("s.csv", text.encode())})
    assert response.status_code == 403
    paid_orders[0].refresh_from_db()
    assert paid_orders[0].status == OrderStatus.PAID


def test_other_shops_orders_are_not_shipped(other_client, paid_orders):
    text = f"订单号,快递公司,快递单号\n{paid_orders[0].number},顺丰,SF1\n"
    response = other_client.post("/s/other" + URL, {"file": upload("s.csv", text.encode())})
    assert response.status_code == 200
    assert response.context["result"]["shipped"] == 0
    paid_orders[0].refresh_from_db()
    assert paid_orders[0].status == OrderStatus.PAID
