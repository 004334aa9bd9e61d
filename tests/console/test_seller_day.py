"""A seller's day in the console (issue 10, items 9-14): full addresses for whoever ships (logged)
and masked for the rest, the pick list and packing slip, carriers from a list, the segment rule
builder's vocabulary and live count, ISO dates, rounded rates, the terminal's sign-in code line."""

import csv
import io
import json
import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from siyu.accounts.roles import FINANCE
from siyu.core.logs import TerminalHandler
from siyu.core.models import AuditEntry
from siyu.core.money import ratio_bp
from siyu.customers.segment_fields import registered_fields
from siyu.customers.segments import FIELDS
from siyu.orders.models import Shipment

from ..factories import make_product, make_shopper, make_staff
from ..orders.helpers import pay, place
from .customer_helpers import make_customer
from .helpers import login_client
from .test_orders import make_address

PICK = reverse("console:pick_list")
PREVIEW = reverse("console:segment_preview")


@pytest.fixture
def finance_client(shop, owner):
    return login_client(make_staff(shop, role=FINANCE, username="caiwu"))


@pytest.fixture
def tea(shop):
    return make_product(shop, name="龙井茶", price=5000, stock=500)


def paid_orders(shop, tea, n: int) -> list:
    orders = []
    for i in range(n):
        shopper = make_shopper()
        address = make_address(shop, shopper, recipient=f"收件人{i}", phone=f"1370000{i:04d}")
        order = place(shop, shopper, address, tea, quantity=1 + i % 2)
        pay(order)
        orders.append(order)
    return orders


def contact_logs():
    return AuditEntry.objects.filter(action="orders.view_contacts")


# --- item 9: the full address for whoever ships, masked for the rest ----------------------------


def test_order_page_masks_the_recipient_for_a_role_that_does_not_ship(finance_client, shop, tea):
    [order] = paid_orders(shop, tea, 1)
    page = finance_client.get(reverse("console:order_detail", args=[order.public_id])).content.decode()
    assert "13700000000" not in page and "137****0000" in page
    assert "收件人0" not in page and "收***" in page
    assert "文三路 1 号" not in page and "浙江省 杭州市 西湖区" in page
    assert not contact_logs().exists()


def test_pick_list_shows_full_addresses_to_the_shipper_and_logs_one_view(staff_client, shop, tea):
    orders = paid_orders(shop, tea, 3)
    response = staff_client.get(PICK)
    assert response.status_code == 200
    page = response.content.decode()
    for order in orders:
        assert order.number in page and order.phone in page
    assert page.count("文三路 1 号") == 3
    [log] = contact_logs()
    assert log.data["view"] == "pick_list" and sorted(log.data["numbers"]) == sorted(o.number for o in orders)
    # the shelf summary adds up what is left to pack: 1 + 2 + 1
    spec = orders[0].lines.get().sku_label
    assert response.context["summary"] == [{"product": "龙井茶", "spec": spec, "quantity": 4}]


def test_pick_list_is_masked_for_finance_and_leaves_out_orders_not_to_ship(finance_client, shop, tea, owner):
    first, second = paid_orders(shop, tea, 2)
    buyer = make_shopper()
    unpaid = place(shop, buyer, make_address(shop, buyer), tea)
    from siyu.orders.fulfilment import order_ship

    order_ship(actor=owner, order_id=second.pk, carrier="顺丰速运", tracking_number="SF1")
    page = finance_client.get(PICK).content.decode()
    assert first.number in page and second.number not in page and unpaid.number not in page
    assert first.phone not in page and "文三路 1 号" not in page
    assert not contact_logs().exists()


@pytest.mark.parametrize("n", [5, 30])
def test_pick_list_query_count_is_fixed(staff_client, shop, tea, n, django_assert_num_queries):
    paid_orders(shop, tea, n)
    # shop, session user, staff; products for the filter; orders; lines; the access-log row
    with django_assert_num_queries(7):
        assert staff_client.get(PICK).status_code == 200


def test_packing_slip_prints_the_full_address_for_the_shipper(staff_client, finance_client, shop, tea):
    [order] = paid_orders(shop, tea, 1)
    url = reverse("console:packing_slip", args=[order.public_id])
    page = staff_client.get(url).content.decode()
    assert "13700000000" in page and "文三路 1 号" in page and "data-print" in page and "print.css" in page
    assert "<script>" not in page and "onclick" not in page
    assert contact_logs().get().data["view"] == "packing_slip"
    masked = finance_client.get(url).content.decode()
    assert "13700000000" not in masked and "137****0000" in masked
    assert contact_logs().count() == 1


def test_export_is_masked_for_finance(finance_client, shop, tea):
    paid_orders(shop, tea, 1)
    response = finance_client.get(reverse("console:order_export_csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Phone"] == "137****0000" and row["Recipient"] == "收***" and row["Address"] == "****"
    assert not AuditEntry.objects.filter(action="orders.export_contacts").exists()


def test_ship_with_a_listed_carrier_or_another_typed_in(staff_client, shop, tea):
    first, second = paid_orders(shop, tea, 2)
    page = staff_client.get(reverse("console:order_detail", args=[first.public_id])).content.decode()
    assert '<option value="顺丰速运">' in page and '<option value="other">' in page
    url = reverse("console:order_ship", args=[first.public_id])
    assert staff_client.post(url, {"carrier": "极兔速递", "tracking_number": "JT1"}).status_code == 302
    # "other" needs a name
    url2 = reverse("console:order_ship", args=[second.public_id])
    assert staff_client.post(url2, {"carrier": "other", "tracking_number": "X1"}).status_code == 400
    other = {"carrier": "other", "carrier_other": "安能物流", "tracking_number": "AN1"}
    assert staff_client.post(url2, other).status_code == 302
    assert staff_client.post(url2, {"carrier": "made-up", "tracking_number": "X2"}).status_code in (302, 400)
    assert sorted(Shipment.objects.values_list("carrier", flat=True)) == ["安能物流", "极兔速递"]


# --- item 10: the rule builder ------------------------------------------------------------------


def test_builder_offers_exactly_the_services_fields_and_operators(staff_client, shop):
    response = staff_client.get(reverse("console:segment_new"))
    config = response.context["builder"]
    offered = {**{name: list(ops) for name, ops in FIELDS.items()}}
    offered.update({name: list(field.ops) for name, field in registered_fields().items()})
    assert {f["name"]: [o["op"] for o in f["ops"]] for f in config["fields"]} == offered
    # Fields other domains register (the CLV figures) carry their own words, not their names.
    extra = [f for f in config["fields"] if f["name"] in registered_fields()]
    assert extra and all(f["label"] != f["name"] for f in extra)
    kinds = {(f["name"], o["op"]): o["kind"] for f in config["fields"] for o in f["ops"]}
    assert kinds[("total_spent", "between")] == "pair" and kinds[("lifecycle", "in")] == "choices"
    page = response.content.decode()
    assert 'id="segment-builder-config" type="application/json"' in page and "segment-builder.js" in page


def test_preview_counts_the_rules_and_refuses_bad_ones_with_an_error_body(staff_client, shop):
    for spent in (100, 600_00, 900_00):
        make_customer(shop, total_spent=spent)
    rules = {"all": [{"field": "total_spent", "op": ">=", "value": "500.00"}]}
    response = staff_client.post(PREVIEW, json.dumps({"rules": rules}), content_type="application/json")
    assert response.status_code == 200 and response.json() == {"count": 2}
    bad = {"all": [{"field": "total_spent", "op": "~", "value": 1}]}
    refused = staff_client.post(PREVIEW, json.dumps({"rules": bad}), content_type="application/json")
    body = refused.json()
    assert refused.status_code == 400 and body["code"] == "invalid_input" and body["detail"]["path"] == "all.0.op"
    assert set(body) == {"code", "message", "detail", "request_id"}
    garbage = staff_client.post(PREVIEW, "{not json", content_type="application/json")
    assert garbage.status_code == 400 and garbage.json()["detail"]["rules"] == "not valid JSON"
    assert staff_client.get(PREVIEW).status_code == 405


def test_preview_counts_only_this_shops_customers(staff_client, shop, other_shop):
    make_customer(other_shop, total_spent=900_00)
    rules = {"all": [{"field": "total_spent", "op": ">=", "value": 0}]}
    response = staff_client.post(PREVIEW, json.dumps({"rules": rules}), content_type="application/json")
    assert response.json() == {"count": 0}


# --- item 11, 12: rounded rates, ISO dates ----------------------------------------------------------


def test_rates_are_rounded_half_up_not_truncated():
    assert ratio_bp(2, 3) == 6667 and ratio_bp(1, 3) == 3333 and ratio_bp(1, 8) == 1250
    assert ratio_bp(0, 0) == 0 and ratio_bp(5, 5) == 10_000


def test_date_inputs_are_iso_in_chinese(staff_client, shop, buyer_customer):
    staff_client.cookies["django_language"] = "zh-hans"
    page = staff_client.get(reverse("console:customer_detail", args=[buyer_customer.public_id])).content.decode()
    tomorrow = (timezone.localdate() + timezone.timedelta(days=1)).isoformat()
    assert f'type="date" name="due_on" value="{tomorrow}"' in page
    assert tomorrow.replace("-", "/") not in page


@pytest.fixture
def buyer_customer(shop):
    return make_customer(shop, name="回访客户")


# --- item 14: the terminal ------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_sign_in_code_stands_out_on_its_own_line(caplog):
    from siyu.accounts.sms import LogSmsBackend

    with caplog.at_level(logging.INFO, logger="siyu.sms"):
        LogSmsBackend().send(phone="13800138000", text="【店】验证码 246810，5 分钟内有效。", params={"code": "246810"})
    [record] = [r for r in caplog.records if r.name == "siyu.sms"]
    assert record.getMessage().startswith("验证码 246810 · SMS to 138****8000: ")
    tty, pipe = _Tty(), io.StringIO()
    for stream in (tty, pipe):
        handler = TerminalHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.emit(record)
    assert "\x1b[1;7m" in tty.getvalue() and tty.getvalue().startswith("\n")
    assert pipe.getvalue() == "\n" + record.getMessage() + "\n\n"


def test_worker_routine_lines_are_quiet_at_the_default_level():
    assert logging.getLogger("huey").getEffectiveLevel() > logging.INFO
    assert logging.getLogger("huey.consumer.Scheduler").getEffectiveLevel() > logging.INFO
    assert logging.getLogger("huey.consumer").getEffectiveLevel() == logging.INFO
