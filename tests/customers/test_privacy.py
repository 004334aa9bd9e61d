"""Personal data: export, account deletion, consents, logged staff views, and isolation."""

import json

import pytest
from django.urls import reverse

from siyu.accounts.models import Address, ApiToken, Shopper
from siyu.accounts.services import address_create, token_authenticate, token_issue
from siyu.core.errors import Conflict, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.customers.models import Customer, CustomerEvent, ExternalOrder, PointsEntry, Source
from siyu.customers.privacy import consent_set, customer_reveal, shopper_data_export, shopper_delete
from siyu.customers.stats import customer_for_shopper
from siyu.orders import lifecycle
from siyu.orders.models import Order

from ..factories import ShopFactory, make_shopper, make_staff, sign_in_shopper
from ..orders.helpers import place
from .member_steps import completed_order


def _address(shop, shopper, phone, detail):
    return address_create(
        shop=shop,
        shopper=shopper,
        data={
            "recipient": "收件人",
            "phone": phone,
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": detail,
        },
    )


@pytest.fixture
def two_people(shop, owner, shopper, address, product):
    """The shopper with an order, points and an imported order in `shop` and an address in a second
    shop; a neighbour with their own order, address and points in `shop`."""
    product.skus.update(stock=100)
    completed_order(shop, shopper, owner, address, product)
    other_shop = ShopFactory()
    _address(other_shop, shopper, "13800138000", "第二家店的地址")
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    ExternalOrder.objects.create(
        shop=shop,
        customer=customer,
        source=Source.TAOBAO,
        external_id="TB1",
        placed_at=customer.created_at,
        amount=1234,
        items="旧订单",
    )
    neighbour = make_shopper("13900001111")
    addr = _address(shop, neighbour, "13900001111", "邻居的秘密地址")
    place(shop, neighbour, addr, product, note="邻居的备注")
    PointsEntry.objects.create(
        shop=shop, customer=customer_for_shopper(shop=shop, shopper=neighbour), delta=4242, reason="adjust"
    )
    return neighbour


def test_export_holds_the_shoppers_data_and_nobody_elses(shopper, two_people, shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        data = shopper_data_export(shopper=shopper)
    text = json.dumps(data, ensure_ascii=False)
    assert data["shopper"]["phone"] == "13800138000"
    assert {a["detail"] for a in data["addresses"]} == {"文三路 1 号", "第二家店的地址"}
    main = next(s for s in data["shops"] if s["shop"]["slug"] == shop.slug)
    assert main["customer"]["phone"] == "13800138000"
    assert len(main["orders"]) == 1 and main["orders"][0]["lines"][0]["quantity"] == 1
    assert main["imported_orders"][0]["id"] == "TB1"
    assert main["points_balance"] == sum(p["points"] for p in main["points"]) > 0
    assert "marketing" in main["customer"]["consents"]
    for secret in ("13900001111", "邻居的秘密地址", "邻居的备注", "4242"):
        assert secret not in text


def test_export_download_is_a_json_attachment(client, shopper, two_people):
    sign_in_shopper(client, shopper)
    response = client.get(reverse("storefront:privacy_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["shopper"]["phone"] == "13800138000" and "13900001111" not in response.content.decode()


def test_deletion_anonymises_and_keeps_orders(shop, shopper, two_people):
    _token, key = token_issue(shop=shop, shopper=shopper)
    old_hash = shopper.phone_hash
    order = Order.objects.get(shopper=shopper)
    shopper_delete(shopper=shopper)
    shopper.refresh_from_db()
    assert (shopper.phone, shopper.nickname) == ("", "") and shopper.phone_hash.startswith("deleted:")
    assert not Address.objects.filter(shopper=shopper).exists()
    assert token_authenticate(key=key) is None and ApiToken.objects.get(shopper=shopper).revoked_at
    customer = Customer.objects.get(shop=shop, shopper=shopper)
    assert (customer.name, customer.phone, customer.city, customer.province) == ("", "", "", "")
    assert customer.phone_hash == shopper.phone_hash and customer.anonymized_at is not None
    assert customer.marketing_consent_at is None
    order.refresh_from_db()
    assert order.total > 0 and order.lines.count() == 1  # kept for the books
    assert (order.recipient, order.phone, order.address_detail) == ("已注销", "", "***")
    assert CustomerEvent.objects.filter(customer=customer, kind="account_deleted").exists()
    assert AuditEntry.objects.filter(action="shopper.delete", target_id=str(shopper.pk)).exists()
    assert not Customer.objects.filter(phone_hash=old_hash).exists()
    # the neighbour is untouched
    neighbour = Shopper.objects.get(pk=two_people.pk)
    assert neighbour.phone == "13900001111" and Address.objects.filter(shopper=neighbour).count() == 1
    assert Order.objects.get(shopper=neighbour).recipient == "收件人"
    # late events still find the same (anonymous) record instead of making a new one
    assert customer_for_shopper(shop=shop, shopper=shopper).pk == customer.pk


def test_deletion_waits_for_open_orders(shop, shopper, address, product):
    order = place(shop, shopper, address, product)
    with pytest.raises(Conflict) as exc:
        shopper_delete(shopper=shopper)
    assert exc.value.code == "open_orders"
    lifecycle.order_cancel(order_id=order.pk, actor=shopper)
    shopper_delete(shopper=shopper)
    assert Shopper.objects.get(pk=shopper.pk).phone == ""


def test_delete_page_confirms_then_signs_out(client, shop, shopper, address):
    sign_in_shopper(client, shopper)
    url = reverse("storefront:privacy_delete")
    assert client.get(url).status_code == 200
    response = client.post(url, {"confirm": "nope"})
    assert response.status_code == 400 and Shopper.objects.get(pk=shopper.pk).phone
    response = client.post(url, {"confirm": "注销"})
    assert response.status_code == 302
    assert Shopper.objects.get(pk=shopper.pk).phone == ""
    response = client.get(reverse("storefront:my"))
    assert response.status_code == 302 and reverse("storefront:login") in response["Location"]


def test_delete_page_shows_why_it_is_refused(client, shop, shopper, address, product):
    place(shop, shopper, address, product)
    sign_in_shopper(client, shopper)
    response = client.post(reverse("storefront:privacy_delete"), {"confirm": "delete"})
    assert response.status_code == 409 and Shopper.objects.get(pk=shopper.pk).phone


def test_consents_are_kept_per_shop_with_a_timeline_entry(client, shop, shopper):
    other = ShopFactory()
    customer = consent_set(shop=shop, shopper=shopper, marketing=True, profiling=False)
    first = customer.marketing_consent_at
    assert first and customer.profiling_consent_at is None
    assert customer_for_shopper(shop=other, shopper=shopper).marketing_consent_at is None
    customer = consent_set(shop=shop, shopper=shopper, marketing=True, profiling=False)
    assert customer.marketing_consent_at == first  # unchanged: no new event
    assert CustomerEvent.objects.filter(kind="consent").count() == 1
    sign_in_shopper(client, shopper)
    response = client.post(reverse("storefront:member_consents"), {"profiling": "on"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.marketing_consent_at is None and customer.profiling_consent_at is not None
    assert CustomerEvent.objects.filter(kind="consent").count() == 2
    page = client.get(reverse("storefront:member")).content.decode()
    assert 'name="profiling" checked' in page and 'name="marketing" checked' not in page


def test_staff_views_of_the_phone_are_logged(shop, owner, shopper):
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    assert customer_reveal(actor=owner, customer=customer) == "13800138000"
    event = CustomerEvent.objects.get(customer=customer, kind="pii_view")
    assert event.actor_label == owner.display_name
    assert AuditEntry.objects.filter(action="customer.reveal", target_id=str(customer.pk), actor=owner.user).exists()
    stranger = make_staff(ShopFactory())
    with pytest.raises(PermissionDenied):
        customer_reveal(actor=stranger, customer=customer)
    assert CustomerEvent.objects.filter(kind="pii_view").count() == 1


def test_privacy_pages_query_counts(client, shopper, two_people, django_assert_num_queries):
    sign_in_shopper(client, shopper)
    with django_assert_num_queries(2):  # shop, shopper
        assert client.get(reverse("storefront:privacy")).status_code == 200
    with django_assert_num_queries(2):
        assert client.get(reverse("storefront:privacy_delete")).status_code == 200
    # shop, shopper, customers, orders, their lines, imported orders, points, addresses
    with django_assert_num_queries(8):
        assert client.get(reverse("storefront:privacy_export")).status_code == 200


def test_privacy_pages_only_for_the_signed_in_shopper(client, shop, shopper):
    for name in ("privacy", "privacy_export", "privacy_delete", "member"):
        response = client.get(reverse(f"storefront:{name}"))
        assert response.status_code == 302 and reverse("storefront:login") in response["Location"]
    response = client.post(reverse("storefront:member_consents"), {"marketing": "on"})
    assert response.status_code == 302 and not Customer.objects.exists()
    sign_in_shopper(client, shopper)
    page = client.get(reverse("storefront:my")).content.decode()
    assert reverse("storefront:member") in page and reverse("storefront:privacy") in page
    assert client.get(reverse("storefront:privacy")).status_code == 200


def test_a_shopper_never_sees_another_customers_data(client, shop, shopper, two_people, product):
    sign_in_shopper(client, two_people)
    member = client.get(reverse("storefront:member")).content.decode()
    exported = client.get(reverse("storefront:privacy_export")).content.decode()
    assert "4242" in member and "13900001111" in exported
    for page in (member, exported):
        assert "13800138000" not in page and "文三路" not in page and "TB1" not in page
