"""The address book: validation per channel, set/replace/remove (audited, masked), the console block
on the customer page, the API operations, and the CSV import (good rows kept, bad rows reported)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from siyu.accounts.roles import FINANCE
from siyu.accounts.services import token_issue
from siyu.campaigns.channels import addresses
from siyu.campaigns.channels.addresses_import import KEPT_REJECTS, channel_addresses_import
from siyu.campaigns.channels.api import Message, message_send
from siyu.campaigns.channels.models import ChannelAddress
from siyu.core.audit import AuditEntry
from siyu.core.crypto import lookup_hash
from siyu.core.errors import InvalidInput, PermissionDenied
from siyu.core.ids import public_id
from siyu.customers.models import Customer

from ...factories import make_staff
from .conftest import NOON

pytestmark = pytest.mark.django_db

WECOM_ID = "wmAbCdEf0123456789abcdef01234567"
OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz1"


def person(shop, phone: str, **fields) -> Customer:
    """A customer findable by phone (its phone_hash is the real one)."""
    return Customer.objects.create(
        shop=shop,
        public_id=public_id(12),
        phone=phone,
        phone_hash=lookup_hash(phone),
        marketing_consent_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def owner_api(client, shop, owner):
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer " + token_issue(shop=shop, staff=owner, name="t")[1]
    return client


@pytest.mark.parametrize(
    ("channel", "value", "stored"),
    [
        ("email", " Zhang.San@Example.COM ", "Zhang.San@example.com"),
        ("wecom", WECOM_ID, WECOM_ID),
        ("wecom", "wo_-" + "a" * 12, "wo_-" + "a" * 12),
        ("wechat_oa", OPENID, OPENID),
    ],
)
def test_valid_addresses_are_kept_in_their_stored_form(channel, value, stored):
    assert addresses.address_clean(channel=channel, address=value) == stored


@pytest.mark.parametrize(
    ("channel", "value"),
    [
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("email", "x" * 250 + "@example.com"),
        ("email", ""),
        ("wecom", "short"),
        ("wecom", "wm" + "a" * 63),
        ("wecom", "wm中文0123456789abcdef"),
        ("wechat_oa", "o" * 19),
        ("wechat_oa", OPENID + " x"),
        ("wechat_oa", None),
        ("sms", "13800138000"),
        ("log", "x"),
    ],
)
def test_invalid_addresses_are_refused(channel, value):
    with pytest.raises(InvalidInput):
        addresses.address_clean(channel=channel, address=value)


def test_masks_show_enough_to_recognise_not_to_use():
    assert addresses.address_mask(channel="email", address="zhang@example.com") == "z***@example.com"
    assert addresses.address_mask(channel="wecom", address=WECOM_ID) == "wmAb…4567"


def test_set_replace_remove_is_audited_and_masked(shop, owner):
    customer = person(shop, "13800138000")
    addresses.channel_address_set(actor=owner, shop=shop, customer=customer, channel="email", address="a@example.com")
    addresses.channel_address_set(actor=owner, shop=shop, customer=customer, channel="email", address="b@example.com")
    addresses.channel_address_set(actor=owner, shop=shop, customer=customer, channel="email", address="b@example.com")
    row = ChannelAddress.objects.get(customer=customer, channel="email")
    assert row.address == "b@example.com"
    audits = list(AuditEntry.objects.filter(action="channel_address.set").order_by("pk").values_list("data", flat=True))
    assert audits == [  # the repeat changed nothing and wrote nothing; no address in clear
        {"channel": "email", "from": None, "to": "a***@example.com"},
        {"channel": "email", "from": "a***@example.com", "to": "b***@example.com"},
    ]
    shown = addresses.channel_addresses_of(actor=owner, shop=shop, customer=customer)
    assert [(a["channel"], a["masked"]) for a in shown] == [("email", "b***@example.com")]
    assert addresses.channel_address_remove(actor=owner, shop=shop, customer=customer, channel="email")
    assert not addresses.channel_address_remove(actor=owner, shop=shop, customer=customer, channel="email")
    assert not ChannelAddress.objects.exists()
    assert AuditEntry.objects.filter(action="channel_address.remove").count() == 1


def test_only_staff_who_manage_customers_change_addresses(shop, other_shop):
    customer = person(shop, "13800138000")
    finance = make_staff(shop, role=FINANCE)
    with pytest.raises(PermissionDenied):
        addresses.channel_address_set(
            actor=finance, shop=shop, customer=customer, channel="email", address="a@example.com"
        )
    stranger = make_staff(other_shop)
    with pytest.raises(PermissionDenied):
        addresses.channel_addresses_of(actor=stranger, shop=shop, customer=customer)


def test_a_known_address_opens_the_channel(shop, owner, enable, log_outbox):
    enable("email", credentials={"from_email": "shop@example.com"})
    customer = person(shop, "13800138000")
    message = Message(channel="email", text="上新了", subject="上新", key="t:1")
    assert message_send(shop=shop, customer=customer, message=message, now=NOON).reason == "no_address"
    addresses.channel_address_set(actor=owner, shop=shop, customer=customer, channel="email", address="a@example.com")
    assert message_send(shop=shop, customer=customer, message=message, now=NOON).status == "sent"


# --- console ------------------------------------------------------------------------------


def test_customer_page_shows_masked_addresses_and_edits_them(staff_client, shop, owner):
    customer = person(shop, "13800138000")
    addresses.channel_address_set(actor=owner, shop=shop, customer=customer, channel="wecom", address=WECOM_ID)
    page_url = reverse("console:customer_detail", args=[customer.public_id])
    body = staff_client.get(page_url).content.decode()
    assert "wmAb…4567" in body and WECOM_ID not in body
    set_url = reverse("console:customer_address_set", args=[customer.public_id])
    response = staff_client.post(set_url, {"channel": "wechat_oa", "address": OPENID})
    assert response.status_code == 302 and response.url == page_url
    assert ChannelAddress.objects.get(customer=customer, channel="wechat_oa").address == OPENID
    # a bad address comes back as a message, nothing saved
    response = staff_client.post(set_url, {"channel": "email", "address": "nope"}, follow=True)
    assert response.status_code == 200 and not ChannelAddress.objects.filter(channel="email").exists()
    assert any("email" in str(m).lower() for m in response.context["messages"])
    remove = reverse("console:customer_address_remove", args=[customer.public_id, "wecom"])
    assert staff_client.post(remove).status_code == 302
    assert list(ChannelAddress.objects.values_list("channel", flat=True)) == ["wechat_oa"]
    assert staff_client.get(remove).status_code == 405


def test_console_import_page_reports_rows(staff_client, shop, django_assert_num_queries):
    person(shop, "13800138000")
    url = reverse("console:channel_address_import")
    with django_assert_num_queries(3):  # session, user, staff (shop cached): the form only
        assert staff_client.get(url).status_code == 200
    csv = "手机号,渠道,地址\n13800138000,邮箱,a@example.com\n13900000000,email,b@example.com\n"
    upload = SimpleUploadedFile("a.csv", csv.encode("utf-8-sig"), content_type="text/csv")
    response = staff_client.post(url, {"file": upload})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.added, report.rejected) == (1, 1)
    assert response.context["rejected"][0]["row"] == 3
    body = response.content.decode()
    assert "No such customer in this shop" in body or "店内没有这位客户" in body


# --- API ----------------------------------------------------------------------------------


def test_api_set_list_remove(owner_api, shop):
    customer = person(shop, "13800138000")
    base = f"/api/v1/console/channels/addresses/{customer.public_id}"
    response = owner_api.put(f"{base}/email", {"address": "zhang@example.com"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert [(a["channel"], a["masked"]) for a in response.json()] == [("email", "z***@example.com")]
    assert "zhang@" not in owner_api.get(base).content.decode()
    bad = owner_api.put(f"{base}/wecom", {"address": "x"}, content_type="application/json")
    assert bad.status_code == 400 and {"code", "message", "detail"} <= set(bad.json())
    assert owner_api.put(f"{base}/sms", {"address": "x"}, content_type="application/json").status_code in (400, 422)
    assert owner_api.delete(f"{base}/email").status_code == 204
    assert owner_api.get(base).json() == []
    assert owner_api.get("/api/v1/console/channels/addresses/nosuchcustomer").status_code == 404


def test_api_import(owner_api, shop):
    person(shop, "13800138000")
    csv = "customer,channel,address\n13800138000,wechat_oa," + OPENID + "\n,email,a@example.com\n"
    upload = SimpleUploadedFile("a.csv", csv.encode(), content_type="text/csv")
    response = owner_api.post("/api/v1/console/channels/addresses-import", {"file": upload})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["rows"], body["added"], body["rejected"]) == (2, 1, 1)
    assert body["rejected_rows"][0]["reason"] == "customer_missing"
    wrong = SimpleUploadedFile("b.csv", b"name,foo\n1,2\n", content_type="text/csv")
    response = owner_api.post("/api/v1/console/channels/addresses-import", {"file": wrong})
    assert response.status_code == 400 and response.json()["detail"]["missing"] == ["customer", "channel", "address"]


# --- import -------------------------------------------------------------------------------


def test_import_keeps_good_rows_and_reports_bad_ones(shop, other_shop, owner):
    a = person(shop, "13800138000")
    b = person(shop, "13800138001")
    c = person(shop, "13800138002")
    person(other_shop, "13800138003")  # another shop's customer is unknown here
    addresses.channel_address_set(actor=owner, shop=shop, customer=b, channel="email", address="old@example.com")
    addresses.channel_address_set(actor=owner, shop=shop, customer=c, channel="email", address="same@example.com")
    rows = [
        "客户,渠道,地址,备注",
        "138 0013 8000,email,new@example.com,x",  # added (phone with spaces)
        f"{a.public_id},企业微信,{WECOM_ID},",  # added, by public id
        "13800138001,email,newer@example.com,",  # replaced
        "13800138002,邮箱,same@example.com,",  # unchanged
        "13800138003,email,x@example.com,",  # customer_unknown (other shop)
        ",email,x@example.com,",  # customer_missing
        "13800138000,fax,123,",  # channel_unknown
        "13800138000,wechat_oa,short,",  # address_invalid
        "13800138000,公众号," + OPENID + "1,",  # superseded by the next row
        "13800138000,wechat_oa," + OPENID + ",",  # added
        "",  # blank lines are skipped
    ]
    report = channel_addresses_import(actor=owner, shop=shop, content="\n".join(rows).encode("gb18030"))
    assert (report.rows, report.added, report.updated, report.unchanged, report.superseded, report.rejected) == (
        10,
        3,
        1,
        1,
        1,
        4,
    )
    assert [(r["row"], r["reason"]) for r in report.rejected_rows] == [
        (6, "customer_unknown"),
        (7, "customer_missing"),
        (8, "channel_unknown"),
        (9, "address_invalid"),
    ]
    book = {(x.customer_id, x.channel): x.address for x in ChannelAddress.objects.all()}
    assert book == {
        (a.pk, "email"): "new@example.com",
        (a.pk, "wecom"): WECOM_ID,
        (a.pk, "wechat_oa"): OPENID,
        (b.pk, "email"): "newer@example.com",
        (c.pk, "email"): "same@example.com",
    }
    # the same file again changes nothing
    again = channel_addresses_import(actor=owner, shop=shop, content="\n".join(rows).encode("gb18030"))
    assert (again.added, again.updated, again.unchanged, again.superseded, again.rejected) == (0, 0, 5, 1, 4)


def test_import_spans_batches_and_caps_the_kept_rejects(shop, owner, monkeypatch):
    from siyu.campaigns.channels import addresses_import

    monkeypatch.setattr(addresses_import, "BATCH", 7)
    people = [person(shop, f"138{i:08d}") for i in range(20)]
    lines = ["phone,channel,address"] + [f"{p.phone},email,p{i}@example.com" for i, p in enumerate(people)]
    lines += [f"139{i:08d},email,x@example.com" for i in range(KEPT_REJECTS + 5)]
    report = channel_addresses_import(actor=owner, shop=shop, content="\n".join(lines).encode())
    assert report.added == 20 and ChannelAddress.objects.count() == 20
    assert report.rejected == KEPT_REJECTS + 5 and len(report.rejected_rows) == KEPT_REJECTS


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00garbage\x00", b"customer;channel\n1;2\n", b""],
)
def test_import_refuses_a_file_it_cannot_read(shop, owner, content):
    with pytest.raises(InvalidInput):
        channel_addresses_import(actor=owner, shop=shop, content=content)
