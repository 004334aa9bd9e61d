"""Console traceability pages: create a batch, print the QR sheet, export CSV, watch scans."""

import csv
import io

import pytest
from django.urls import reverse

from siyu.catalog.models import Sku
from siyu.distribution import trace
from siyu.distribution.models import TraceBatch, TraceCode

from ..factories import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(shop, owner, product):
    return trace.trace_batch_create(actor=owner, shop=shop, product=product, name="春茶一批", quantity=45)


def test_create_batch_from_the_form(en_client, shop, product):
    sku = Sku.objects.get(product=product)
    sku.spec_values = ["250g"]
    sku.save()
    response = en_client.post(
        reverse("console:trace_batches"),
        {"product": product.public_id, "sku": str(sku.pk), "name": "批次 A", "quantity": "12"},
    )
    batch = TraceBatch.objects.get(shop=shop)
    assert response.status_code == 302 and response["Location"] == reverse("console:trace_batch", args=[batch.pk])
    assert batch.sku == sku and batch.codes.count() == 12


def test_create_refuses_bad_quantity_and_other_shops_product(en_client, other_shop):
    theirs = make_product(other_shop)
    response = en_client.post(
        reverse("console:trace_batches"), {"product": theirs.public_id, "name": "x", "quantity": "5"}
    )
    assert response.status_code == 400  # not among this shop's products
    response = en_client.post(reverse("console:trace_batches"), {"name": "x", "quantity": "10001"})
    assert response.status_code == 400
    assert not TraceBatch.objects.exists()


def test_service_staff_can_look_but_not_create(service_client, shop, product, batch):
    assert service_client.get(reverse("console:trace_batches")).status_code == 200
    response = service_client.post(
        reverse("console:trace_batches"), {"product": product.public_id, "name": "x", "quantity": "3"}
    )
    assert response.status_code == 403
    assert TraceBatch.objects.count() == 1


def test_list_and_batch_pages_have_fixed_queries(en_client, shop, owner, product, batch, django_assert_num_queries):
    for i in range(3):
        trace.trace_batch_create(actor=owner, shop=shop, product=product, name=f"批{i}", quantity=2)
    codes = list(trace.trace_codes_of_batch(batch=batch)[:3])
    for ip in ("10.0.0.1", "10.1.0.1", "10.2.0.1"):
        trace.trace_scan(code=codes[0].code, ip=ip)
    trace.trace_scan(code=codes[1].code, ip="10.0.0.1")
    # shop, user, staff; count + page of batches; products + their SKUs for the form
    with django_assert_num_queries(7):
        response = en_client.get(reverse("console:trace_batches"))
    assert response.status_code == 200
    rows = {b.name: b for b in response.context["page_obj"].object_list}
    assert rows["春茶一批"].scanned == 2 and rows["春茶一批"].flagged == 1
    # shop, user, staff; batch (with counts), code count + page, recent scans
    with django_assert_num_queries(7):
        response = en_client.get(reverse("console:trace_batch", args=[batch.pk]))
    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == 45 and len(response.context["scans"]) == 4
    flagged = en_client.get(reverse("console:trace_batch", args=[batch.pk]), {"flagged": "1"})
    assert [c.code for c in flagged.context["page_obj"].object_list] == [codes[0].code]


def test_print_sheet_has_one_qr_per_code_in_a4_pages(en_client, batch, django_assert_num_queries):
    with django_assert_num_queries(6):  # shop, user, staff, batch, code count, codes
        response = en_client.get(reverse("console:trace_sheet", args=[batch.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert text.count('src="data:image/png;base64,') == 45
    assert text.count('class="trace-labels"') == 2  # 30 on the first A4 page, 15 on the second
    assert "@page" not in text and "fission.css" in text
    first = TraceCode.objects.get(batch=batch, serial=1)
    assert first.code in text


def test_csv_export_lists_code_serial_and_scan_url(en_client, batch):
    response = en_client.get(reverse("console:trace_csv", args=[batch.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Code", "Serial", "Scan URL"]
    assert len(rows) == 46
    code, serial, url = rows[1]
    assert serial == "1" and url == f"http://testserver/t/{code}/"
    assert TraceCode.objects.filter(batch=batch, code=code, serial=1).exists()


def test_code_page_and_png(en_client, batch):
    code = TraceCode.objects.get(batch=batch, serial=3)
    trace.trace_scan(code=code.code, ip="203.0.113.5")
    response = en_client.get(reverse("console:trace_code", args=[code.code]))
    assert response.status_code == 200 and "203.0.*.*" in response.content.decode()
    png = en_client.get(reverse("console:trace_code_png", args=[code.code]))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_other_shops_staff_cannot_see_batches(other_client, batch):
    code = TraceCode.objects.filter(batch=batch).first()
    assert list(other_client.get("/s/other/console/trace/").context["page_obj"].object_list) == []
    for url in (
        f"/s/other/console/trace/{batch.pk}/",
        f"/s/other/console/trace/{batch.pk}/sheet/",
        f"/s/other/console/trace/{batch.pk}/codes.csv",
        f"/s/other/console/trace/codes/{code.code}/",
        f"/s/other/console/trace/codes/{code.code}/qr.png",
    ):
        assert other_client.get(url).status_code == 404, url
    # and on this shop's address they are not staff at all
    assert other_client.get(reverse("console:trace_batch", args=[batch.pk])).status_code == 403
