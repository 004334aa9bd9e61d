"""Console pages (list with results, create/edit with errors shown, end, member-price matrix) and
the storefront panels (product page price, countdown, member price; checkout "spend ¥N more")."""

import pytest
from django.urls import reverse

from siyu.promotions.discounts.models import LimitedTimeDiscount, MemberPrice, Status, ThresholdActivity

from ...factories import make_staff, sign_in_shopper
from .conftest import make_level, make_limited, make_threshold, set_member_price, sku_of, window

pytestmark = pytest.mark.django_db


def _when(value: str) -> str:
    return value[:16]


def test_console_list_create_edit_end_threshold(staff_client, shop, tea):
    assert staff_client.get(reverse("console:discounts")).status_code == 200
    w = window()
    body = {
        "name": "满100减10",
        "starts_at": _when(w["starts_at"]),
        "ends_at": _when(w["ends_at"]),
        "mode": "amount",
        "tiers": "100 10\n200 25",
        "scope": "all",
        "stacks_with_coupons": "on",
    }
    made = staff_client.post(reverse("console:discount_threshold_new"), body)
    assert made.status_code == 302, made.content.decode()[:2000]
    activity = ThresholdActivity.objects.get()
    assert activity.tiers == [{"threshold": 10000, "value": 1000}, {"threshold": 20000, "value": 2500}]
    page = staff_client.get(reverse("console:discounts")).content.decode()
    assert "满100减10" in page
    edit = reverse("console:discount_threshold_edit", args=[activity.public_id])
    assert "100.00 10.00" in staff_client.get(edit).content.decode()
    bad = staff_client.post(edit, {**body, "tiers": "100 10\n200 5"})
    assert bad.status_code == 409 and "bigger discount" in bad.content.decode()
    rate = staff_client.post(edit, {**body, "mode": "rate", "tiers": "200 85"})
    assert rate.status_code == 302
    activity.refresh_from_db()
    assert activity.tiers == [{"threshold": 20000, "value": 8500}]
    malformed = staff_client.post(edit, {**body, "tiers": "100"})
    assert malformed.status_code == 400
    staff_client.post(reverse("console:discount_threshold_end", args=[activity.public_id]))
    activity.refresh_from_db()
    assert activity.status == Status.ENDED


def test_console_limited_and_errors(staff_client, shop, owner, tea):
    from siyu.distribution.prices import price_floor_set

    sku = sku_of(tea)
    w = window()
    body = {
        "name": "限时",
        "starts_at": _when(w["starts_at"]),
        "ends_at": _when(w["ends_at"]),
        "per_customer_limit": "1",
        "items": f"{sku.pk} 48.00",
    }
    new = reverse("console:discount_limited_new")
    assert str(sku.pk) in staff_client.get(new).content.decode()
    assert staff_client.post(new, body).status_code == 302
    discount = LimitedTimeDiscount.objects.get()
    assert discount.items.get().price == 4800
    edit = reverse("console:discount_limited_edit", args=[discount.public_id])
    assert staff_client.post(edit, {**body, "items": f"{sku.pk} 20%"}).status_code == 302
    assert discount.items.get().off_bp == 2000
    price_floor_set(actor=owner, sku=sku, min_price=5000)
    refused = staff_client.post(edit, body)
    assert refused.status_code == 400 and "50.00" in refused.content.decode()
    staff_client.post(reverse("console:discount_limited_end", args=[discount.public_id]))
    discount.refresh_from_db()
    assert discount.status == Status.ENDED


def test_console_member_price_matrix(staff_client, shop, tea):
    level = make_level(shop, name="金卡")
    sku = sku_of(tea)
    url = reverse("console:discount_member_prices", args=[tea.public_id])
    assert "金卡" in staff_client.get(url).content.decode()
    assert staff_client.post(url, {f"p_{sku.pk}_{level.pk}": "50"}).status_code == 302
    assert MemberPrice.objects.get().price == 5000
    refused = staff_client.post(url, {f"p_{sku.pk}_{level.pk}": "70"})
    assert refused.status_code == 409 and 'value="70"' in refused.content.decode()
    assert staff_client.get(reverse("console:discount_member_prices", args=["nope"])).status_code == 404


def test_service_role_sees_but_cannot_save(client, shop, tea):
    from siyu.accounts.roles import SERVICE

    client.force_login(make_staff(shop, role=SERVICE, username="service1").user)
    assert client.get(reverse("console:discounts")).status_code == 200
    assert client.post(reverse("console:discount_threshold_new"), {"name": "x"}).status_code == 403
    assert not ThresholdActivity.objects.exists()


def test_product_page_panel(client, shop, owner, shopper, tea):
    level = make_level(shop, name="金卡")
    make_limited(owner, shop, tea, price=4800, limit=2)
    make_threshold(owner, shop, tiers=((10000, 1000),))
    url = reverse("storefront:product", args=[tea.public_id])
    page = client.get(url).content.decode()
    assert "¥48.00" in page and "<s>¥60.00</s>" in page and "data-countdown-end" in page
    assert "storefront/discounts.js" in page
    set_member_price(owner, shop, tea, level, 4500)
    assert "¥45.00" not in client.get(url).content.decode()  # signed out: no member price
    sign_in_shopper(client, shopper)
    assert "¥45.00" in client.get(url).content.decode()


def test_checkout_panel_says_how_much_more(client, shop, owner, shopper, address, tea):
    make_threshold(owner, shop, tiers=((10000, 1000), (20000, 3000)))
    sign_in_shopper(client, shopper)
    url = reverse("storefront:checkout") + f"?sku={sku_of(tea).pk}&quantity=1"
    page = client.get(url).content.decode()
    assert 'id="threshold-hint"' in page and "40.00" in page and "10.00" in page
    page = client.get(reverse("storefront:checkout") + f"?sku={sku_of(tea).pk}&quantity=2").content.decode()
    assert "80.00" in page and "30.00" in page  # 120 reached: 80 more for 30 in all
