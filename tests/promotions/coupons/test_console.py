"""Console coupon pages: list with results, form per kind with its errors, start/end, push to a
segment with progress, the coupon's results and grants; roles; query counts at two sizes."""

import pytest

from siyu.accounts.roles import FINANCE, SERVICE
from siyu.customers.models import Segment, SegmentMember
from siyu.customers.stats import customer_for_shopper
from siyu.promotions.coupons.grants import coupon_push_run
from siyu.promotions.coupons.models import Coupon, CouponPush, CouponStatus, GrantStatus, PushStatus
from siyu.promotions.coupons.services import coupon_claim

from ...factories import make_product, make_shopper, make_staff
from ...orders.helpers import pay, place
from .steps import make_coupon

SIZES = [2, 8]


@pytest.fixture
def staff_client(client, owner):
    """The owner signed in, reading the console in English (the words asserted below)."""
    client.force_login(owner.user)
    client.cookies["django_language"] = "en"
    return client


def _form(**data):
    base = {"name": "满100减20", "kind": "amount_off", "amount_off": "20", "min_spend": "100", "scope": "all"}
    base.update({"valid_days": "30", "per_customer": "1", "public": "on"})
    base.update(data)
    return base


@pytest.mark.parametrize("n", SIZES)
def test_list_with_results_query_count(staff_client, shop, owner, n, django_assert_num_queries):
    for i in range(n):
        make_coupon(shop, owner, name=f"券{i}", active=i % 2 == 0)
    staff_client.get("/console/coupons/")
    # session, user, staff, count, coupons (with used counts), results of the page
    with django_assert_num_queries(6):
        resp = staff_client.get("/console/coupons/")
    html = resp.content.decode()
    assert resp.status_code == 200 and html.count('href="/console/coupons/') >= n
    assert "<td>Spend ¥100.00: ¥20.00 off</td>" in html
    drafts = staff_client.get("/console/coupons/?status=draft").content.decode()
    assert drafts.count("badge-draft") == n // 2


@pytest.mark.parametrize("n", SIZES)
def test_detail_with_grants_and_results_query_count(
    staff_client, shop, owner, n, django_assert_num_queries, address, shopper
):
    coupon = make_coupon(shop, owner, per_customer=1)
    for _ in range(n):
        coupon_claim(shop=shop, shopper=make_shopper(), public_id=coupon.public_id)
    coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    order = place(shop, shopper, address, make_product(shop, price=6000, stock=5), quantity=2)
    pay(order)
    Segment.objects.create(shop=shop, name="老客", rules={})
    staff_client.get(f"/console/coupons/{coupon.public_id}/")
    # session, user, staff, coupon, pushes, grants count, grants page, results, segments
    with django_assert_num_queries(9):
        resp = staff_client.get(f"/console/coupons/{coupon.public_id}/")
    html = resp.content.decode()
    assert resp.status_code == 200 and html.count("<code>") == n + 1
    assert order.number in html and "¥20.00" in html  # the discount given
    assert "老客" in html


def test_create_per_kind_with_clear_errors(staff_client, shop, owner):
    resp = staff_client.post("/console/coupons/new/", _form(min_spend=""))
    html = resp.content.decode()
    assert resp.status_code == 400 and "Give the spend the coupon needs." in html
    assert '<small class="error">Enter more than 0.</small>' in html  # next to the minimum spend
    assert not Coupon.objects.exists()
    resp = staff_client.post("/console/coupons/new/", _form(kind="percent_off", percent_off="", amount_off=""))
    html = resp.content.decode()
    assert resp.status_code == 400 and '<small class="error">Enter 0.01 to 99.99.</small>' in html
    assert "percent_off_bp" not in html
    resp = staff_client.post("/console/coupons/new/", _form(amount_off="1.234"))
    assert resp.status_code == 400
    resp = staff_client.post("/console/coupons/new/", _form(valid_days=""))  # neither dates nor days
    assert resp.status_code == 400
    resp = staff_client.post(
        "/console/coupons/new/", _form(name="85折", kind="percent_off", percent_off="15", max_off="30", min_spend="")
    )
    assert resp.status_code == 302
    coupon = Coupon.objects.get()
    assert (coupon.kind, coupon.percent_off_bp, coupon.max_off, coupon.amount_off, coupon.status) == (
        "percent_off",
        1500,
        3000,
        0,
        CouponStatus.DRAFT,
    )
    product = make_product(shop)
    resp = staff_client.post(
        "/console/coupons/new/", _form(name="单品券", scope="products", product_ids=[str(product.pk)])
    )
    assert resp.status_code == 302 and Coupon.objects.get(name="单品券").product_ids == [product.pk]
    resp = staff_client.post("/console/coupons/new/", _form(name="空范围", scope="products"))
    assert resp.status_code == 400 and "Choose the categories or products" in resp.content.decode()
    form = staff_client.get("/console/coupons/new/").content.decode()
    assert 'data-kinds="percent_off"' in form and "coupons.js" in form


def test_edit_start_end_and_a_running_coupon_keeps_its_terms(staff_client, shop, owner):
    coupon = make_coupon(shop, owner, active=False)
    resp = staff_client.post(f"/console/coupons/{coupon.public_id}/edit/", _form(name="满100减25", amount_off="25"))
    assert resp.status_code == 302
    coupon.refresh_from_db()
    assert (coupon.name, coupon.amount_off) == ("满100减25", 2500)
    assert staff_client.post(f"/console/coupons/{coupon.public_id}/action/", {"action": "start"}).status_code == 302
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.ACTIVE
    page = staff_client.get(f"/console/coupons/{coupon.public_id}/edit/").content.decode()
    assert "disabled" in page
    resp = staff_client.post(
        f"/console/coupons/{coupon.public_id}/edit/", _form(name="新名字", amount_off="99", total="50")
    )
    assert resp.status_code == 302
    coupon.refresh_from_db()
    assert (coupon.name, coupon.amount_off, coupon.total) == ("新名字", 2500, 50)  # the amount is kept
    staff_client.post(f"/console/coupons/{coupon.public_id}/action/", {"action": "end_void"})
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.ENDED
    assert staff_client.get(f"/console/coupons/{coupon.public_id}/edit/").status_code == 302


def test_push_to_a_segment_shows_progress(staff_client, shop, owner, django_capture_on_commit_callbacks):
    coupon = make_coupon(shop, owner, public=False)
    segment = Segment.objects.create(shop=shop, name="老客", rules={})
    for _ in range(3):
        SegmentMember.objects.create(segment=segment, customer=customer_for_shopper(shop=shop, shopper=make_shopper()))
    url = f"/console/coupons/{coupon.public_id}/action/"
    with django_capture_on_commit_callbacks(execute=False):
        assert staff_client.post(url, {"action": "push", "segment": str(segment.pk)}).status_code == 302
    push = CouponPush.objects.get()
    page = staff_client.get(f"/console/coupons/{coupon.public_id}/").content.decode()
    assert push.status == PushStatus.QUEUED and 'http-equiv="refresh"' in page and 'aria-valuenow="0"' in page
    coupon_push_run(push_id=push.pk)
    page = staff_client.get(f"/console/coupons/{coupon.public_id}/").content.decode()
    assert 'aria-valuenow="100"' in page and 'http-equiv="refresh"' not in page
    assert coupon.grants.filter(status=GrantStatus.AVAILABLE).count() == 3
    resp = staff_client.post(url, {"action": "push", "segment": "nope"}, follow=True)
    assert "Choose a segment." in resp.content.decode()


@pytest.mark.parametrize("role", [SERVICE, FINANCE])
def test_service_and_finance_see_but_cannot_manage(client, shop, owner, role):
    coupon = make_coupon(shop, owner, active=False)
    staff = make_staff(shop, role=role, username=f"u{role}")
    client.force_login(staff.user)
    client.cookies["django_language"] = "en"
    listing = client.get("/console/coupons/")
    assert listing.status_code == 200 and "/console/coupons/new/" not in listing.content.decode()
    detail = client.get(f"/console/coupons/{coupon.public_id}/").content.decode()
    assert 'value="start"' not in detail
    assert client.post("/console/coupons/new/", _form()).status_code == 403
    assert client.post(f"/console/coupons/{coupon.public_id}/action/", {"action": "start"}).status_code == 403
    assert client.post(f"/console/coupons/{coupon.public_id}/edit/", _form(name="x")).status_code == 403
    coupon.refresh_from_db()
    assert (coupon.status, coupon.name) == (CouponStatus.DRAFT, "满100减20")
    assert Coupon.objects.count() == 1


def test_other_shops_coupons_are_not_found(staff_client, shop, other_shop):
    theirs = make_coupon(other_shop, make_staff(other_shop, username="otherboss"))
    assert staff_client.get(f"/console/coupons/{theirs.public_id}/").status_code == 404
    assert staff_client.post(f"/console/coupons/{theirs.public_id}/action/", {"action": "end"}).status_code == 404
