"""Console order endpoints: filtered lists, detail, shipping, batch shipping, after-sales, manual
payments, export; all scoped to the caller's shop."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from siyu.accounts.roles import FINANCE, SERVICE
from siyu.accounts.services import address_create
from siyu.orders.fulfilment import order_ship
from siyu.orders.lifecycle import order_confirm_receipt
from siyu.orders.models import AfterSale, Order, OrderStatus
from siyu.payments.aftersales import aftersale_request
from siyu.payments.models import Payment, Refund

from ..factories import make_product, make_shopper, make_staff
from ..orders.helpers import pay, place
from .conftest import API, OTHER_API, bearer

SHOP, TOKEN, PAGE = 1, 1, 2
ADDRESS = {
    "recipient": "王五",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 1 号",
}


@pytest.fixture
def address(shop, shopper):
    return address_create(shop=shop, shopper=shopper, data=ADDRESS)


@pytest.fixture
def tea(shop):
    return make_product(shop, name="限量茶", price=5000, stock=50)


def _post(client, url, payload=None, **headers):
    return client.post(url, payload or {}, content_type="application/json", headers=headers)


def _paid(shop, shopper, address, product, **extra):
    order = place(shop, shopper, address, product, **extra)
    pay(order)
    order.refresh_from_db()
    return order


def _as(client, shop, role):
    """The client signed in (by session) as a new staff member with this role."""
    client.force_login(make_staff(shop, role=role).user)
    return client


# --- lists and detail --------------------------------------------------------------------


def test_order_list_filters(api, shop, shopper, address, tea):
    cup = make_product(shop, name="杯子", price=3000)
    first = _paid(shop, shopper, address, tea)
    second = place(shop, shopper, address, cup)
    someone = make_shopper("13700137000")
    theirs = address_create(shop=shop, shopper=someone, data={**ADDRESS, "recipient": "赵六", "phone": "13700137000"})
    third = place(shop, someone, theirs, tea)
    Order.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=10))

    def numbers(query=""):
        response = api.get(f"{API}/console/orders?{query}")
        assert response.status_code == 200, response.content
        return [o["number"] for o in response.json()["items"]]

    assert numbers() == [third.number, second.number, first.number]
    assert numbers("status=paid") == [first.number]
    assert numbers(f"q={first.number}") == [first.number]
    assert numbers("q=13700137000") == [third.number]
    assert numbers("q=赵六") == [third.number]
    assert numbers(f"product={cup.public_id}") == [second.number]
    today = timezone.localdate()
    assert numbers(f"date_from={today}") == [third.number, second.number]
    assert numbers(f"date_to={today - timedelta(days=1)}") == [first.number]
    assert numbers(f"date_from={today}&date_to={today}") == [third.number, second.number]
    assert api.get(f"{API}/console/orders?status=&q=").status_code == 400  # blank filters are refused
    page = api.get(f"{API}/console/orders?limit=1&offset=1").json()
    assert (page["count"], len(page["items"]), page["items"][0]["number"]) == (3, 1, second.number)
    row = page["items"][0]
    assert row["masked_phone"] == "138****8000" and "13800138000" not in str(page)
    assert row["lines"][0]["product_name"] == "杯子" and row["item_count"] == 1
    assert api.get(f"{API}/console/orders?date_from=yesterday").status_code == 400
    assert api.get(f"{API}/console/orders?status=lost").status_code == 400


def test_order_detail_shows_contact_payments_and_timeline(api, shop, shopper, address, tea):
    order = _paid(shop, shopper, address, tea)
    detail = api.get(f"{API}/console/orders/{order.public_id}").json()
    assert detail["ship_to"]["phone"] == "13800138000" and detail["ship_to"]["detail"] == "文三路 1 号"
    assert detail["shopper_masked_phone"] == "138****8000"
    assert [(p["provider"], p["status"], p["amount_fen"]) for p in detail["payments"]] == [
        ("sandbox", "succeeded", 5000)
    ]
    assert [t["action"] for t in detail["timeline"]] == ["place", "pay"]
    assert detail["timeline"][0]["actor_label"] == "138****8000"
    assert api.get(f"{API}/console/orders/nope").status_code == 404


def test_another_shops_staff_cannot_see_orders(client, shop, shopper, address, tea, other_key):
    order = _paid(shop, shopper, address, tea)
    headers = bearer(other_key)
    for response in [
        client.get(f"{API}/console/orders", headers=headers),
        client.get(f"{API}/console/orders/{order.public_id}", headers=headers),
        client.get(f"{API}/console/orders/export", headers=headers),
        _post(
            client,
            f"{API}/console/orders/{order.public_id}/ship",
            {"carrier": "顺丰", "tracking_number": "SF1"},
            **headers,
        ),
    ]:
        assert response.status_code == 403 and response.json()["code"] == "wrong_shop"
    # On its own shop's address the token works, and this shop's orders do not exist there.
    assert client.get(f"{OTHER_API}/console/orders", headers=headers).json()["count"] == 0
    assert client.get(f"{OTHER_API}/console/after-sales", headers=headers).json()["count"] == 0
    for response in [
        client.get(f"{OTHER_API}/console/orders/{order.public_id}", headers=headers),
        _post(
            client,
            f"{OTHER_API}/console/orders/{order.public_id}/ship",
            {"carrier": "顺丰", "tracking_number": "SF1"},
            **headers,
        ),
        _post(
            client,
            f"{OTHER_API}/console/orders/{order.public_id}/manual-payment",
            {"amount_fen": 5000, "reference": "BANK0001"},
            **headers,
        ),
    ]:
        assert response.status_code == 404, response.content
    export = client.get(f"{OTHER_API}/console/orders/export", headers=headers)
    assert order.number not in b"".join(export.streaming_content).decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_orders_need_staff(client, shop, shopper_key):
    assert client.get(f"{API}/console/orders").status_code == 401
    assert client.get(f"{API}/console/orders", headers=bearer(shopper_key)).status_code == 401


# --- shipping ----------------------------------------------------------------------------


def test_ship_one_order_in_parts(api, shop, shopper, address, tea):
    cup = make_product(shop, name="杯子", price=3000)
    from siyu.orders.checkout import order_place

    order = order_place(
        shop=shop,
        shopper=shopper,
        address_id=address.public_id,
        idempotency_key="console-ship-1",
        items=[{"sku": tea.skus.get().pk, "quantity": 1}, {"sku": cup.skus.get().pk, "quantity": 2}],
    )
    url = f"{API}/console/orders/{order.public_id}/ship"
    unpaid = _post(api, url, {"carrier": "顺丰", "tracking_number": "SF1"})
    assert unpaid.status_code == 409 and unpaid.json()["code"] == "bad_transition"
    pay(order)
    first = order.lines.order_by("id").first()
    part = _post(api, url, {"carrier": "顺丰", "tracking_number": "SF1", "lines": {str(first.pk): 1}})
    assert part.status_code == 200, part.content
    assert part.json()["status"] == "partially_shipped" and len(part.json()["shipments"]) == 1
    too_many = _post(api, url, {"carrier": "顺丰", "tracking_number": "SF2", "lines": {str(first.pk): 1}})
    assert too_many.status_code == 409 and too_many.json()["code"] == "more_than_left"
    assert too_many.json()["detail"] == {"line": first.pk, "left": 0}
    elsewhere = _post(api, url, {"carrier": "顺丰", "tracking_number": "SF2", "lines": {"999999": 1}})
    assert elsewhere.status_code == 404 and elsewhere.json()["detail"] == {"line": 999999}
    for tracking in ("SF 2!", "SF２", "---", ""):  # a space, a full-width digit, no letter or digit, blank
        bad = _post(api, url, {"carrier": "顺丰", "tracking_number": tracking})
        assert bad.status_code == 400, tracking
        assert [e["loc"][-1] for e in bad.json()["detail"]["errors"]] == ["tracking_number"], tracking
    blank_carrier = _post(api, url, {"carrier": "  ", "tracking_number": "SF2"})
    assert [e["loc"][-1] for e in blank_carrier.json()["detail"]["errors"]] == ["carrier"]
    rest = _post(api, url, {"carrier": "圆通", "tracking_number": "YT2"})
    assert rest.json()["status"] == "shipped" and rest.json()["shipped_at"]


def test_finance_staff_cannot_ship(client, shop, shopper, address, tea):
    order = _paid(shop, shopper, address, tea)
    response = _post(
        _as(client, shop, FINANCE),
        f"{API}/console/orders/{order.public_id}/ship",
        {"carrier": "顺丰", "tracking_number": "SF1"},
    )
    assert response.status_code == 403 and response.json()["detail"] == {"permission": "orders.manage"}
    assert not order.shipments.exists()


@pytest.mark.parametrize(
    "tracking", ["SF1", "sf-1", "-1-", "a" * 40, "SF 1", "SF１", "١٢٣", "ＳＦ1", "--", "a" * 41, "Ж1"]
)
def test_the_service_tracking_rule_is_the_documented_one(tracking):
    """The console, the batch file and the API all ship through tracking_clean; what it takes is
    exactly what the OpenAPI document's pattern and length admit (after trimming)."""
    import re

    from siyu.api.orders_console_schemas import ShipIn
    from siyu.core.errors import InvalidInput
    from siyu.orders.fulfilment import tracking_clean

    rule = ShipIn.model_json_schema()["properties"]["tracking_number"]
    documented = bool(re.fullmatch(rule["pattern"].rstrip("$"), tracking)) and len(tracking) <= rule["maxLength"]
    try:
        accepted = tracking_clean("顺丰", tracking) == ("顺丰", tracking)
    except InvalidInput:
        accepted = False
    assert accepted == documented


def _upload(api, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.post(f"{API}/console/orders/ship-batch", {"file": SimpleUploadedFile(name, content)})


def test_batch_ship_from_csv_with_a_bad_row(api, shop, shopper, address, tea):
    one, two = _paid(shop, shopper, address, tea), _paid(shop, shopper, address, tea)
    unpaid = place(shop, shopper, address, tea)
    text = (
        "订单号,快递公司,快递单号\n"
        f"{one.number},顺丰,SF1001\n"
        "20990101000000000000,顺丰,SF1002\n"
        f"{unpaid.number},顺丰,SF1003\n"
        f"{two.number},中通,bad tracking!\n"
        "\n"
        f"{two.number},中通,ZT2002\n"
    )
    response = _upload(api, "ship.csv", text.encode("gbk"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["shipped"] == 2
    assert [(r["row"], r["code"]) for r in body["rejected"]] == [
        (3, "not_found"),
        (4, "bad_transition"),
        (5, "invalid_input"),
    ]
    assert body["rejected"][0]["order"] == "20990101000000000000" and body["rejected"][0]["error"]
    assert Order.objects.get(pk=one.pk).status == "shipped" and Order.objects.get(pk=two.pk).status == "shipped"
    assert Order.objects.get(pk=unpaid.pk).status == "pending_payment"


def test_batch_ship_from_xlsx_and_bad_files(api, shop, shopper, address, tea):
    order = _paid(shop, shopper, address, tea)
    book = Workbook()
    book.active.append(["order_number", "carrier", "tracking_number"])
    book.active.append([order.number, "顺丰", "SF9"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert _upload(api, "ship.xlsx", buffer.getvalue()).json() == {"shipped": 1, "rejected": []}
    for name, content, detail in [
        ("ship.pdf", b"%PDF", {"file": "unsupported type"}),
        ("ship.xlsx", b"not a zip", {"file": "bad xlsx"}),
        ("ship.csv", b"a,b\n1,2\n", {"missing_columns": ["order", "carrier", "tracking"]}),
        ("ship.csv", b"", {"file": "empty"}),
    ]:
        response = _upload(api, name, content)
        assert response.status_code == 400, (name, response.content)
        assert response.json()["detail"] == detail
    assert api.post(f"{API}/console/orders/ship-batch", {}).status_code == 400


# --- after-sales and payments ------------------------------------------------------------


def _request(shop, shopper, order, kind="refund_only", reason_code="other", quantity=1):
    return aftersale_request(
        shop=shop,
        shopper=shopper,
        order_public_id=order.public_id,
        line_id=order.lines.get().pk,
        kind=kind,
        quantity=quantity,
        reason_code=reason_code,
    )


def test_aftersale_list_and_refund_decision(api, shop, shopper, address, tea, django_capture_on_commit_callbacks):
    order = _paid(shop, shopper, address, tea, quantity=2)
    sale = _request(shop, shopper, order, quantity=2)
    listing = api.get(f"{API}/console/after-sales?status=requested").json()
    assert listing["count"] == 1 and listing["items"][0]["order_number"] == order.number
    assert listing["items"][0]["product_name"] == "限量茶"
    assert api.get(f"{API}/console/after-sales?status=refunded").json()["count"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        decided = _post(api, f"{API}/console/after-sales/{sale.public_id}/decision", {"approve": True, "note": "同意"})
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "refunding"  # the refund settles after commit
    sale.refresh_from_db()
    order.refresh_from_db()
    assert sale.status == "refunded" and order.status == OrderStatus.CLOSED
    assert Refund.objects.get().amount == 10000
    again = _post(api, f"{API}/console/after-sales/{sale.public_id}/decision", {"approve": True})
    assert again.status_code == 409
    assert _post(api, f"{API}/console/after-sales/nope/decision", {"approve": False}).status_code == 404


def test_return_is_received_and_refunded(api, shop, owner, shopper, address, tea, django_capture_on_commit_callbacks):
    order = _paid(shop, shopper, address, tea)
    order_ship(actor=owner, order_id=order.pk, carrier="顺丰", tracking_number="SF1")
    order_confirm_receipt(order_id=order.pk, actor=shopper)
    sale = _request(shop, shopper, order, kind="return_refund", reason_code="no_reason")
    early = _post(api, f"{API}/console/after-sales/{sale.public_id}/receive-return")
    assert early.status_code == 409
    decided = _post(api, f"{API}/console/after-sales/{sale.public_id}/decision", {"approve": True})
    assert decided.json()["status"] == "awaiting_return"
    with django_capture_on_commit_callbacks(execute=True):
        received = _post(api, f"{API}/console/after-sales/{sale.public_id}/receive-return")
    assert received.status_code == 200, received.content
    assert AfterSale.objects.get(pk=sale.pk).status == "refunded"
    assert tea.skus.get().stock == 50


def test_rejection_and_service_role_may_decide(client, shop, shopper, address, tea):
    order = _paid(shop, shopper, address, tea)
    sale = _request(shop, shopper, order)
    response = _post(
        _as(client, shop, SERVICE),
        f"{API}/console/after-sales/{sale.public_id}/decision",
        {"approve": False, "note": "已发货"},
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert response.json()["staff_note"] == "已发货" and not Refund.objects.exists()


def test_manual_payment(api, shop, shopper, address, tea):
    order = place(shop, shopper, address, tea)
    url = f"{API}/console/orders/{order.public_id}/manual-payment"
    wrong = _post(api, url, {"amount_fen": 1, "reference": "BANK0001"})
    assert wrong.status_code == 400 and wrong.json()["detail"] == {"total": 5000}
    refused = _post(_as(Client(), shop, SERVICE), url, {"amount_fen": 5000, "reference": "BANK0001"})
    assert refused.status_code == 403
    paid = _post(api, url, {"amount_fen": 5000, "reference": "BANK0001"})
    assert paid.status_code == 200, paid.content
    assert paid.json()["outcome"] == "paid" and paid.json()["order"]["status"] == "paid"
    assert [p["provider"] for p in paid.json()["order"]["payments"]] == ["manual"]
    short = _post(api, url, {"amount_fen": 5000, "reference": "B1"})
    assert short.status_code == 400
    assert Payment.objects.filter(status="succeeded").count() == 1


# --- export ------------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_export_csv_content_and_formula_guard(api, shop, shopper, tea):
    risky = address_create(
        shop=shop, shopper=shopper, data={**ADDRESS, "recipient": '=HYPERLINK("http://x")', "detail": "@SUM(A1)"}
    )
    order = _paid(shop, shopper, risky, tea, note="+1 快点发货")
    place(shop, shopper, risky, tea, note="-2")
    response = api.get(f"{API}/console/orders/export?status=paid")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0][:3] == ["订单号", "状态", "下单时间"] and "快递单号" in rows[0]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["订单号"] == order.number and row["合计"] == "50.00" and row["电话"] == "13800138000"
    assert row["收件人"] == '\'=HYPERLINK("http://x")' and row["地址"] == "'@SUM(A1)"
    assert row["备注"] == "'+1 快点发货"
    assert row["商品"] == "限量茶 ×1"
    everything = _csv_rows(api.get(f"{API}/console/orders/export"))
    assert "'-2" in [r[rows[0].index("备注")] for r in everything[1:]]


def test_export_round_trips_into_batch_shipping(api, shop, shopper, address, tea):
    order = _paid(shop, shopper, address, tea)
    response = api.get(f"{API}/console/orders/export?format=xlsx&status=paid")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[0]
    rows[1][header.index("快递公司")] = "顺丰"
    rows[1][header.index("快递单号")] = "SF777"
    assert rows[1][header.index("合计")] == 50
    book = Workbook()
    for r in rows:
        book.active.append(r)
    buffer = io.BytesIO()
    book.save(buffer)
    assert _upload(api, "back.xlsx", buffer.getvalue()).json()["shipped"] == 1
    assert Order.objects.get(pk=order.pk).shipments.get().tracking_number == "SF777"
    assert api.get(f"{API}/console/orders/export?format=pdf").status_code == 400


# --- query counts ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 12])
def test_console_query_counts(api, shop, owner, shopper, address, n, django_assert_num_queries):
    products = [make_product(shop, name=f"商品{i}", price=100 + i) for i in range(n)]
    orders = [_paid(shop, shopper, address, p) for p in products]
    for order in orders:
        order_ship(actor=owner, order_id=order.pk, carrier="顺丰", tracking_number="SF1")
        _request(shop, shopper, order, reason_code="not_received")
    with django_assert_num_queries(SHOP + TOKEN + PAGE + 1):  # + the lines of the page
        listing = api.get(f"{API}/console/orders?limit=100").json()
    assert listing["count"] == n
    with django_assert_num_queries(SHOP + TOKEN + PAGE + 1):
        assert api.get(f"{API}/console/orders?q={orders[0].number}&status=shipped").json()["count"] == 1
    # order (+shopper), lines, timeline, shipments, after-sales; payments, refunds
    with django_assert_num_queries(SHOP + TOKEN + 5 + 2):
        detail = api.get(f"{API}/console/orders/{orders[0].public_id}").json()
    assert len(detail["after_sales"]) == 1 and len(detail["payments"]) == 1
    with django_assert_num_queries(SHOP + TOKEN + PAGE):
        sales = api.get(f"{API}/console/after-sales?limit=100").json()
    assert sales["count"] == n
    response = api.get(f"{API}/console/orders/export")
    with django_assert_num_queries(3):  # orders, lines, shipments (streamed after the view returned)
        assert len(_csv_rows(response)) == n + 1


def test_exchange_through_the_api(api, shop, owner, shopper, address, tea):
    """Decision naming another size → goods received → out of stock (waits) → retry 409 → stock
    back → retry reserves → replacement shipped with its own tracking number."""
    from siyu.catalog.models import Sku

    order = _paid(shop, shopper, address, tea)
    price = tea.skus.get().price
    large = Sku.objects.create(shop=shop, product=tea, spec_key="L", spec_values=["L"], price=price, stock=0)
    order_ship(actor=owner, order_id=order.pk, carrier="顺丰", tracking_number="SF1")
    order_confirm_receipt(order_id=order.pk, actor=shopper)
    sale = _request(shop, shopper, order, kind="exchange", reason_code="no_reason")
    base = f"{API}/console/after-sales/{sale.public_id}"
    decided = _post(api, f"{base}/decision", {"approve": True, "replacement_sku_id": large.pk})
    assert decided.status_code == 200, decided.content
    assert decided.json()["replacement_sku_id"] == large.pk
    assert _post(api, f"{base}/receive-return").json()["status"] == "awaiting_stock"
    listing = api.get(f"{API}/console/after-sales?status=awaiting_stock").json()
    assert [s["public_id"] for s in listing["items"]] == [sale.public_id]
    still = _post(api, f"{base}/replacement", {})
    assert still.status_code == 409 and still.json()["code"] == "replacement_out_of_stock"
    assert _post(api, f"{base}/replacement-shipment", {"carrier": "顺丰", "tracking_number": "SF2"}).status_code == 409
    Sku.objects.filter(pk=large.pk).update(stock=1)
    assert _post(api, f"{base}/replacement", {}).json()["status"] == "replacement_ready"
    for carrier, tracking, field in (("顺丰", "SF 2", "tracking_number"), (" ", "SF2", "carrier")):
        refused = _post(api, f"{base}/replacement-shipment", {"carrier": carrier, "tracking_number": tracking})
        assert refused.status_code == 400 and refused.json()["detail"]["errors"][0]["loc"][-1] == field
    shipped = _post(api, f"{base}/replacement-shipment", {"carrier": "顺丰", "tracking_number": "SF2"})
    assert shipped.status_code == 200, shipped.content
    assert (shipped.json()["status"], shipped.json()["replacement_tracking"]) == ("replacement_sent", "SF2")
    bad = _post(api, f"{base}/decision", {"approve": True, "replacement_sku_id": 0})
    assert bad.status_code == 400
