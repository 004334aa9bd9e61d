"""Console order pages: the filtered list, the detail with its timeline, shipping, manual payments,
export, isolation between shops and fixed query counts."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from siyu.accounts.roles import FINANCE
from siyu.accounts.services import address_create
from siyu.core.models import AuditEntry
from siyu.orders.fulfilment import order_ship
from siyu.orders.models import Order, OrderStatus
from siyu.payments.models import Payment

from ..factories import make_product, make_shopper, make_staff
from ..orders.helpers import pay, place
from .helpers import login_client


def make_address(shop, shopper, *, recipient="王五", phone="13800138000"):
    data = {
        "recipient": recipient,
        "phone": phone,
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "detail": "文三路 1 号",
    }
    return address_create(shop=shop, shopper=shopper, data=data)


def detail_url(order, name="order_detail"):
    return reverse(f"console:{name}", args=[order.public_id])


@pytest.fixture
def address(shop, shopper):
    return make_address(shop, shopper)


@pytest.fixture
def tea(shop):
    return make_product(shop, name="龙井茶", price=5000, stock=50)


@pytest.fixture
def cup(shop):
    return make_product(shop, name="茶杯", price=3000, stock=50)


@pytest.fixture
def two_lines(shop, shopper, address, tea, cup):
    """A paid order of one tea and two cups."""
    from siyu.orders.checkout import order_place

    order = order_place(
        shop=shop,
        shopper=shopper,
        address_id=address.public_id,
        idempotency_key="console-two-lines",
        items=[{"sku": tea.skus.get().pk, "quantity": 1}, {"sku": cup.skus.get().pk, "quantity": 2}],
    )
    pay(order)
    order.refresh_from_db()
    return order


def numbers(response) -> set[str]:
    return {r["order"].number for r in response.context["rows"]}


# --- list ------------------------------------------------------------------------------------


def test_list_shows_masked_phone_items_total_and_status(en_client, shop, shopper, address, tea):
    order = place(shop, shopper, address, tea, quantity=2)
    page = en_client.get(reverse("console:orders")).content.decode()
    assert order.number in page and "138****8000" in page and "13800138000" not in page
    assert "龙井茶 ×2" in page and "¥100.00" in page and "Pending payment" in page


def test_list_filters(en_client, shop, shopper, address, tea, cup):
    paid = place(shop, shopper, address, tea)
    pay(paid)
    pending = place(shop, shopper, address, cup)
    other_shopper = make_shopper("13900001111")
    theirs = place(shop, other_shopper, make_address(shop, other_shopper, recipient="赵六", phone="13900001111"), cup)
    Order.objects.filter(pk=theirs.pk).update(created_at=timezone.now() - timedelta(days=10))
    url = reverse("console:orders")

    assert numbers(en_client.get(url)) == {paid.number, pending.number, theirs.number}
    assert numbers(en_client.get(url, {"status": "paid"})) == {paid.number}
    assert numbers(en_client.get(url, {"q": pending.number})) == {pending.number}
    assert numbers(en_client.get(url, {"q": "13900001111"})) == {theirs.number}
    assert numbers(en_client.get(url, {"q": "赵六"})) == {theirs.number}
    assert numbers(en_client.get(url, {"product": cup.public_id})) == {pending.number, theirs.number}
    today = timezone.localdate()
    assert numbers(en_client.get(url, {"placed_from": today.isoformat()})) == {paid.number, pending.number}
    ten_days_ago = (today - timedelta(days=10)).isoformat()
    assert numbers(en_client.get(url, {"placed_to": ten_days_ago})) == {theirs.number}
    # A bad filter is left out rather than failing the page.
    response = en_client.get(url, {"placed_from": "not-a-date", "status": "paid", "product": "nope"})
    assert response.status_code == 200 and numbers(response) == {paid.number}


def _list_queries(client, django_assert_num_queries, params=None):
    # shop, user, staff, product choices, count, page rows, their lines
    with django_assert_num_queries(7):
        response = client.get(reverse("console:orders"), params or {})
    assert response.status_code == 200
    return response


def test_list_query_count_is_fixed(staff_client, shop, shopper, address, tea, cup, django_assert_num_queries):
    place(shop, shopper, address, tea)
    _list_queries(staff_client, django_assert_num_queries)
    for i in range(25):
        place(shop, shopper, address, cup if i % 2 else tea, quantity=1 + i % 3)
    response = _list_queries(staff_client, django_assert_num_queries, {"page": 1, "status": "pending_payment"})
    assert len(response.context["rows"]) == 20


# --- detail ----------------------------------------------------------------------------------


def test_detail_shows_lines_amounts_address_payments_and_timeline(en_client, shop, two_lines):
    response = en_client.get(detail_url(two_lines))
    assert response.status_code == 200
    page = response.content.decode()
    # the owner may ship, so sees the whole recipient (the view is logged); see test_seller_day.py
    # for the masked view of a role without the fulfilment permission
    for text in ("龙井茶", "茶杯", "¥110.00", "13800138000", "文三路 1 号", "Sandbox", "Paid"):
        assert text in page, text
    assert AuditEntry.objects.filter(action="orders.view_contacts", target_id=str(two_lines.pk)).count() == 1
    steps = [(t["action"], t["from"], t["to"]) for t in response.context["timeline"]]
    assert steps == [("Placed", "", "Pending payment"), ("Paid", "Pending payment", "Paid, to ship")]
    assert "Pending payment → Paid, to ship" in page


def test_detail_query_count_is_fixed(staff_client, owner, two_lines, django_assert_num_queries):
    # shop, user, staff, order+shopper, lines, timeline, shipments, after-sales, payments, refunds,
    # and the access-log row for the full address
    with django_assert_num_queries(11):
        assert staff_client.get(detail_url(two_lines)).status_code == 200
    lines = list(two_lines.lines.all())
    order_ship(actor=owner, order_id=two_lines.pk, carrier="顺丰", tracking_number="SF1", lines={lines[1].pk: 1})
    order_ship(actor=owner, order_id=two_lines.pk, carrier="顺丰", tracking_number="SF2")
    with django_assert_num_queries(11):
        assert staff_client.get(detail_url(two_lines)).status_code == 200


# --- shipping --------------------------------------------------------------------------------


def test_ship_everything_through_the_form(en_client, two_lines):
    response = en_client.post(detail_url(two_lines, "order_ship"), {"carrier": "顺丰速运", "tracking_number": "SF100"})
    assert response.status_code == 302 and response.url == detail_url(two_lines)
    two_lines.refresh_from_db()
    assert two_lines.status == OrderStatus.SHIPPED
    assert [ln.shipped_quantity for ln in two_lines.lines.order_by("id")] == [1, 2]
    page = en_client.get(detail_url(two_lines)).content.decode()
    assert "The order is shipped." in page and "SF100" in page
    assert "Paid, to ship → Shipped" in page


def test_partial_shipment_through_the_form(en_client, two_lines):
    tea_line, cup_line = two_lines.lines.order_by("id")
    data = {"carrier": "中通快递", "tracking_number": "ZT1", f"qty_{tea_line.pk}": "0", f"qty_{cup_line.pk}": "1"}
    assert en_client.post(detail_url(two_lines, "order_ship"), data).status_code == 302
    two_lines.refresh_from_db()
    assert two_lines.status == OrderStatus.PARTIALLY_SHIPPED
    assert [ln.shipped_quantity for ln in two_lines.lines.order_by("id")] == [0, 1]
    page = en_client.get(detail_url(two_lines)).content.decode()
    assert "some items are still to ship" in page and "茶杯 ×1" in page

    too_many = {"carrier": "中通快递", "tracking_number": "ZT2", f"qty_{cup_line.pk}": "5"}
    response = en_client.post(detail_url(two_lines, "order_ship"), too_many)
    assert response.status_code == 400
    assert response.context["ship_form"].errors[f"qty_{cup_line.pk}"]

    again = {"carrier": "中通快递", "tracking_number": "ZT2"}
    assert en_client.post(detail_url(two_lines, "order_ship"), again).status_code == 302
    two_lines.refresh_from_db()
    assert two_lines.status == OrderStatus.SHIPPED


def test_ship_refusals_are_shown_not_500(en_client, shop, shopper, address, tea, two_lines):
    bad = en_client.post(detail_url(two_lines, "order_ship"), {"carrier": "顺丰速运", "tracking_number": "no spaces!"})
    assert bad.status_code == 400
    assert "Check the carrier and tracking number." in bad.content.decode()
    unpaid = place(shop, shopper, address, tea)
    response = en_client.post(detail_url(unpaid, "order_ship"), {"carrier": "顺丰速运", "tracking_number": "SF9"})
    assert response.status_code == 409 and "Only paid orders can be shipped." in response.content.decode()
    unpaid.refresh_from_db()
    assert unpaid.status == OrderStatus.PENDING_PAYMENT


def test_finance_cannot_ship(shop, owner, two_lines):
    client = login_client(make_staff(shop, role=FINANCE, username="caiwu"))
    response = client.post(detail_url(two_lines, "order_ship"), {"carrier": "顺丰速运", "tracking_number": "SF1"})
    assert response.status_code == 403
    two_lines.refresh_from_db()
    assert two_lines.status == OrderStatus.PAID


# --- manual payment --------------------------------------------------------------------------


def test_finance_records_a_manual_transfer(shop, owner, shopper, address, tea):
    order = place(shop, shopper, address, tea, quantity=2)
    client = login_client(make_staff(shop, role=FINANCE, username="caiwu"))
    url = detail_url(order, "order_payment")
    wrong = client.post(url, {"amount": "99.99", "reference": "BANK20261201"})
    assert wrong.status_code == 400 and "¥100.00" in wrong.content.decode()
    bad = client.post(url, {"amount": "abc", "reference": "BANK20261201"})
    assert bad.status_code == 400 and "Enter a number." in bad.content.decode()

    response = client.post(url, {"amount": "100", "reference": "BANK20261201"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_amount == 10000
    payment = Payment.objects.get(order=order, provider="manual")
    assert payment.status == "succeeded"
    page = client.get(detail_url(order)).content.decode()
    assert "the order is paid" in page and "Manual transfer" in page


def test_customer_service_cannot_record_payments(service_client, shop, shopper, address, tea):
    order = place(shop, shopper, address, tea)
    response = service_client.post(detail_url(order, "order_payment"), {"amount": "50", "reference": "BANK0001"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT and not Payment.objects.filter(order=order).exists()
    assert "Record a bank or personal transfer" not in service_client.get(detail_url(order)).content.decode()


# --- export ----------------------------------------------------------------------------------


@pytest.fixture
def risky_order(shop, tea):
    """An order whose recipient name and note would run as spreadsheet formulas."""
    shopper = make_shopper("13700001234")
    address = make_address(shop, shopper, recipient="=HYPERLINK(1)", phone="13700001234")
    order = place(shop, shopper, address, tea, note="+cmd|' /C calc'!A0")
    pay(order)
    return order


def test_export_csv_is_utf8_with_bom_and_formula_safe(en_client, shop, shopper, address, cup, risky_order):
    plain = place(shop, shopper, address, cup)
    response = en_client.get(reverse("console:order_export_csv"), {"status": "paid"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Order number", "Placed at", "Status"]
    assert [r[0] for r in rows[1:]] == [risky_order.number]  # the filter applies; `plain` is unpaid
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Recipient"] == "'=HYPERLINK(1)" and row["Shopper's note"].startswith("'+cmd")
    # the owner ships, so the export carries the whole phone and street (and is logged)
    assert row["Phone"] == "13700001234" and row["Total (yuan)"] == "50.00" and row["Items"] == "龙井茶 ×1"
    assert row["Address"] and row["Address"] != "****"
    assert AuditEntry.objects.filter(action="orders.export_contacts").count() == 1
    assert plain.number not in response.content.decode("utf-8-sig")


def test_export_xlsx(en_client, risky_order):
    response = en_client.get(reverse("console:order_export_xlsx"))
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Order number"] == risky_order.number
    assert row["Recipient"] == "'=HYPERLINK(1)" and row["Shopper's note"].startswith("'+")
    assert row["Total (yuan)"] == 50 and row["Status"] == "Paid, to ship"


# --- isolation -------------------------------------------------------------------------------


def test_other_shops_staff_get_404(other_client, shop, two_lines):
    """The rival signs in to their own shop's console (/s/other/…) and tries this shop's order."""
    theirs = "/s/other"
    assert other_client.get(theirs + detail_url(two_lines)).status_code == 404
    posts = {
        "order_ship": {"carrier": "顺丰速运", "tracking_number": "SF1"},
        "order_payment": {"amount": "110", "reference": "BANK0001"},
    }
    for name, data in posts.items():
        assert other_client.post(theirs + detail_url(two_lines, name), data).status_code == 404, name
    two_lines.refresh_from_db()
    assert two_lines.status == OrderStatus.PAID and not two_lines.shipments.exists()
    assert not Payment.objects.filter(order=two_lines, provider="manual").exists()
    listing = other_client.get(theirs + reverse("console:orders"))
    assert listing.status_code == 200 and two_lines.number not in listing.content.decode()
    exported = other_client.get(theirs + reverse("console:order_export_csv"))
    assert exported.status_code == 200 and two_lines.number not in exported.content.decode("utf-8-sig")


def test_order_pages_need_sign_in(client, shop, two_lines):
    response = client.get(detail_url(two_lines))
    assert response.status_code == 302 and "login" in response.url


# --- dashboard and navigation ----------------------------------------------------------------


def test_dashboard_counts_orders(en_client, shop, shopper, address, tea, two_lines, django_assert_num_queries):
    place(shop, shopper, address, tea)  # pending payment
    shipped = place(shop, shopper, address, tea)
    pay(shipped)
    order_ship(actor=make_staff(shop, username="ops"), order_id=shipped.pk, carrier="顺丰", tracking_number="SF7")
    # shop, user, staff, staff list, 3 catalogue counts, 2 order counts, paid today, customer counts,
    # and the charts: revenue this and last 30 days, paid orders by day, the funnel (4)
    with django_assert_num_queries(15):
        response = en_client.get(reverse("console:home"))
    orders = response.context["orders"]
    assert (orders["to_ship"], orders["pending_payment"], orders["after_sales_open"]) == (1, 1, 0)
    assert orders["paid_today"] == {"count": 2, "amount": 11000 + 5000}
    page = response.content.decode()
    assert "Orders to ship" in page and "¥160.00" in page


@pytest.mark.parametrize("name", ["orders", "batch_ship", "aftersales"])
def test_order_pages_render_and_are_in_the_navigation(staff_client, shop, name):
    response = staff_client.get(reverse(f"console:{name}"))
    assert response.status_code == 200
    assert f'href="{reverse(f"console:{name}")}" class="on"' in response.content.decode()
