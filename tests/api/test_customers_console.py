"""Console API for the customer pool: lists with filters and paging, detail, reveal, tags, notes,
follow-ups, segments, imports, social accounts; query counts, permissions and tenancy."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from siyu.accounts.roles import FINANCE
from siyu.customers.models import (
    CustomerEvent,
    CustomerTag,
    FollowUp,
    ImportJob,
    Lifecycle,
    Note,
    Segment,
    SocialAccount,
    SocialLink,
    Tag,
)

from ..console.customer_helpers import make_customer, make_customers, make_external_order
from ..factories import make_staff
from .conftest import API, OTHER_API, bearer

SHOP, TOKEN, PAGE = 1, 1, 2
C = f"{API}/console"
RULES = {"all": [{"field": "total_spent", "op": ">=", "value": 10000}]}


def post(client, url, payload=None, **kw):
    return client.post(url, payload or {}, content_type="application/json", **kw)


@pytest.fixture
def finance(shop, owner):
    """A client signed in by session as finance staff (who may not hold API tokens)."""
    client = Client()
    client.force_login(make_staff(shop, role=FINANCE, username="caiwu").user)
    return client


@pytest.fixture
def pool(shop):
    vip = Tag.objects.create(shop=shop, name="VIP")
    rich = make_customer(shop, name="大户", phone="13900000001", total_spent=50000, lifecycle=Lifecycle.ACTIVE)
    poor = make_customer(shop, name="小户", phone="13900000002", total_spent=500, lifecycle=Lifecycle.LOST)
    CustomerTag.objects.create(customer=rich, tag=vip)
    return {"rich": rich, "poor": poor, "vip": vip}


def test_list_filters_pages_and_masks(api, pool):
    body = api.get(f"{C}/customers").json()
    assert body["count"] == 2 and body["limit"] == 20
    rich = next(i for i in body["items"] if i["name"] == "大户")
    assert rich["masked_phone"] == "139****0001" and rich["tags"] == ["VIP"] and rich["total_spent_fen"] == 50000
    assert "13900000001" not in str(body)
    cases = [
        ({"q": "13900000002"}, ["小户"]),
        ({"tag": pool["vip"].pk}, ["大户"]),
        ({"lifecycle": "lost"}, ["小户"]),
        ({"spend_min_fen": 1000}, ["大户"]),
        ({"spend_max_fen": 1000}, ["小户"]),
        ({"limit": 1, "offset": 1}, ["大户"]),  # newest first
    ]
    for params, expected in cases:
        assert [i["name"] for i in api.get(f"{C}/customers", params).json()["items"]] == expected, params


def test_bad_filters_are_400_with_the_error_body(api, pool):
    response = api.get(f"{C}/customers", {"lifecycle": "asleep", "limit": 1000})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert api.get(f"{C}/customers", {"spend_max_fen": 1000, "tag": ""}).status_code == 400  # blank, not "any"


@pytest.mark.parametrize("n", [3, 25])
def test_list_query_count(api, shop, pool, n, django_assert_num_queries):
    for c in make_customers(shop, n):
        CustomerTag.objects.create(customer=c, tag=pool["vip"])
    with django_assert_num_queries(SHOP + TOKEN + PAGE + 1):  # + the page's tags
        response = api.get(f"{C}/customers?limit=100")
    assert response.json()["count"] == n + 2


@pytest.mark.parametrize("n", [1, 8])
def test_detail_query_count(api, shop, owner, pool, n, django_assert_num_queries):
    customer = pool["rich"]
    from siyu.customers import followups

    for i in range(n):
        make_external_order(customer, amount=100 + i)
        followups.note_add(actor=owner, customer=customer, text=f"备注{i}")
        followups.followup_create(actor=owner, customer=customer, title="回访", due_on=timezone.localdate())
    SocialLink.objects.create(account=SocialAccount.objects.create(shop=shop, name="微信"), customer=customer)
    # customer (+level, assignee, shopper), tags, imported orders, notes, follow-ups, points,
    # points balance, social links, timeline (no shopper: no own orders or after-sales)
    with django_assert_num_queries(SHOP + TOKEN + 9):
        response = api.get(f"{C}/customers/{customer.public_id}")
    body = response.json()
    assert len(body["external_orders"]) == n and len(body["notes"]) == n and len(body["follow_ups"]) == n
    assert body["social_links"][0]["account_name"] == "微信"
    assert body["points_balance"] == 0 and body["tag_links"] == [
        {"id": pool["vip"].pk, "name": "VIP", "automatic": False}
    ]


def test_reveal_is_logged(api, owner, pool):
    customer = pool["rich"]
    response = post(api, f"{C}/customers/{customer.public_id}/reveal")
    assert response.status_code == 200 and response.json() == {"phone": "13900000001"}
    assert CustomerEvent.objects.filter(customer=customer, kind="pii_view", actor_label=owner.display_name).count() == 1


def test_tags_notes_and_follow_ups(api, shop, owner, pool):
    customer = pool["poor"]
    url = f"{C}/customers/{customer.public_id}"
    response = post(api, f"{url}/tags", {"tag": "回头客"})
    assert response.status_code == 200 and [t["name"] for t in response.json()] == ["回头客"]
    response = post(api, f"{url}/tags", {"tag": pool["vip"].pk})
    assert sorted(t["name"] for t in response.json()) == ["VIP", "回头客"]
    assert api.delete(f"{url}/tags/{pool['vip'].pk}").status_code == 204
    assert list(customer.tag_links.values_list("tag__name", flat=True)) == ["回头客"]
    note = post(api, f"{url}/notes", {"text": "喜欢红茶"})
    assert note.status_code == 201 and note.json()["author"] == owner.display_name
    task = post(
        api, f"{url}/follow-ups", {"title": "回访", "due_on": str(timezone.localdate()), "assignee_id": owner.pk}
    )
    assert task.status_code == 201
    today = api.get(f"{C}/follow-ups/today").json()
    assert [t["id"] for t in today] == [task.json()["id"]] and today[0]["customer_public_id"] == customer.public_id
    done = post(api, f"{C}/follow-ups/{task.json()['id']}/done")
    assert done.status_code == 200 and done.json()["done_at"]
    assert api.get(f"{C}/follow-ups/today").json() == []
    assert post(api, f"{url}/tags", {"tag": ""}).status_code == 400
    assert post(api, f"{url}/follow-ups", {"title": "x", "due_on": "tomorrow"}).status_code == 400


def test_segments_preview_save_evaluate(api, shop, pool):
    assert post(api, f"{C}/segments/preview", {"rules": RULES}).json() == {"count": 1}
    bad = post(api, f"{C}/segments/preview", {"rules": {"all": [{"field": "x", "op": "=", "value": 1}]}})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_input" and "rules" in bad.json()["detail"]
    created = post(api, f"{C}/segments", {"name": "大户", "rules": RULES})
    assert created.status_code == 201 and created.json()["member_count"] == 1
    make_customer(shop, total_spent=20000)
    segment_id = created.json()["id"]
    assert post(api, f"{C}/segments/{segment_id}/evaluate").json()["member_count"] == 2
    assert [s["name"] for s in api.get(f"{C}/segments").json()] == ["大户"]
    assert api.get(f"{C}/customers", {"segment": segment_id}).json()["count"] == 2
    changed = api.put(
        f"{C}/segments/{segment_id}", {"name": "大户", "rules": {"all": []}}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["member_count"] == 3


def test_tags_endpoint_makes_automatic_tags(api, shop, pool):
    response = post(api, f"{C}/tags", {"name": "高消费", "rules": RULES})
    assert response.status_code == 201 and response.json()["customer_count"] == 1
    assert post(api, f"{C}/tags", {"name": "高消费"}).status_code == 409
    assert {t["name"]: t["customer_count"] for t in api.get(f"{C}/tags").json()} == {"VIP": 1, "高消费": 1}


TAOBAO = (
    "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,订单付款时间,收货人姓名,收货地址,联系手机,宝贝标题\n"
    "T1,tb1,99.50,交易成功,2024-03-01 10:00:00,2024-03-01 10:00:00,张三,浙江省 杭州市,13800138000,面霜\n"
    "T2,tb2,10.00,交易成功,2024-03-02 10:00:00,2024-03-02 10:00:00,李四,浙江省 杭州市,12345,面膜\n"
)


def test_import_upload_report_and_detail(api, shop):
    upload = SimpleUploadedFile("tb.csv", TAOBAO.encode(), content_type="text/csv")
    response = api.post(f"{C}/customers/imports", {"file": upload, "layout": "taobao"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["imported"], body["rejected"]) == (1, 1) and body["rejected_rows"][0]["row"] == 3
    assert api.get(f"{C}/customers/imports/{body['id']}").json()["status"] == "done"
    assert [j["id"] for j in api.get(f"{C}/customers/imports").json()] == [body["id"]]
    generic = SimpleUploadedFile("g.csv", "电话,名字\n13800138009,阿明\n".encode(), content_type="text/csv")
    response = api.post(
        f"{C}/customers/imports", {"file": generic, "layout": "generic", "mapping": '{"电话": "phone", "名字": "name"}'}
    )
    assert response.status_code == 201 and response.json()["imported"] == 1
    junk = SimpleUploadedFile("j.csv", b"a,b\n1,2\n", content_type="text/csv")
    refused = api.post(f"{C}/customers/imports", {"file": junk})
    assert refused.status_code == 400 and refused.json()["code"].startswith("import_")
    bad_map = SimpleUploadedFile("g.csv", b"x\n1\n", content_type="text/csv")
    assert api.post(f"{C}/customers/imports", {"file": bad_map, "mapping": "{"}).status_code == 400


def test_social_accounts_capacity_and_suggestion(api, shop):
    a = post(api, f"{C}/social-accounts", {"name": "一号", "capacity": 10})
    b = post(api, f"{C}/social-accounts", {"name": "二号"})
    assert a.status_code == 201 and b.json()["capacity"] == 5000
    account = SocialAccount.objects.get(pk=a.json()["id"])
    for c in make_customers(shop, 9):
        assert (
            api.put(
                f"{C}/customers/{c.public_id}/social/{account.pk}", {"status": "added"}, content_type="application/json"
            ).json()["status"]
            == "added"
        )
    listing = api.get(f"{C}/social-accounts").json()
    first = listing["accounts"][0]
    assert (first["friends"], first["free"], first["percent_full"], first["warning"], first["full"]) == (
        9,
        1,
        90,
        True,
        False,
    )
    assert listing["suggested_account_id"] == b.json()["id"]
    patched = api.patch(f"{C}/social-accounts/{account.pk}", {"capacity": 9}, content_type="application/json")
    assert patched.json()["full"] is True and patched.json()["name"] == "一号"
    extra = make_customer(shop)
    full = api.put(
        f"{C}/customers/{extra.public_id}/social/{account.pk}", {"status": "added"}, content_type="application/json"
    )
    assert full.status_code == 409 and full.json()["code"] == "account_full"


def test_finance_cannot_change_the_pool(finance, shop, pool):
    client, headers = finance, {}
    customer = pool["poor"]
    assert client.get(f"{C}/customers", headers=headers).status_code == 200
    url = f"{C}/customers/{customer.public_id}"
    for response in [
        post(client, f"{url}/tags", {"tag": "x"}, headers=headers),
        client.delete(f"{url}/tags/{pool['vip'].pk}", headers=headers),
        post(client, f"{url}/notes", {"text": "x"}, headers=headers),
        post(client, f"{C}/segments", {"name": "x", "rules": RULES}, headers=headers),
        post(client, f"{C}/tags", {"name": "x"}, headers=headers),
        post(client, f"{C}/social-accounts", {"name": "x"}, headers=headers),
    ]:
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    segment = Segment.objects.create(shop=shop, name="s", rules={"all": []})
    assert post(client, f"{C}/segments/{segment.pk}/evaluate", headers=headers).status_code == 403
    assert not Note.objects.exists() and CustomerTag.objects.count() == 1 and not SocialAccount.objects.exists()


def test_another_shops_token_never_sees_the_pool(client, shop, pool, other_shop, other_key):
    headers = bearer(other_key)
    customer = pool["rich"]
    for response in [
        client.get(f"{C}/customers", headers=headers),
        client.get(f"{C}/customers/{customer.public_id}", headers=headers),
        post(client, f"{C}/customers/{customer.public_id}/reveal", headers=headers),
        post(client, f"{C}/customers/{customer.public_id}/tags", {"tag": "x"}, headers=headers),
        client.get(f"{C}/segments", headers=headers),
        client.get(f"{C}/social-accounts", headers=headers),
    ]:
        assert response.status_code == 403 and response.json()["code"] == "wrong_shop"
        assert "大户" not in response.content.decode()
    # on its own shop the token sees only its own customers, and ours are 404 there
    mine = make_customer(other_shop, name="隔壁的")
    listing = client.get(f"{OTHER_API}/console/customers", headers=headers).json()
    assert [i["name"] for i in listing["items"]] == [mine.name]
    assert client.get(f"{OTHER_API}/console/customers/{customer.public_id}", headers=headers).status_code == 404
    task_shop_job = ImportJob.objects.create(shop=shop, filename="x.csv", layout="jd")
    assert client.get(f"{OTHER_API}/console/customers/imports/{task_shop_job.pk}", headers=headers).status_code == 404
    assert not CustomerEvent.objects.filter(customer=customer).exists()
    assert not FollowUp.objects.exists()


def test_openapi_lists_the_customer_endpoints(client, shop):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    for path in ("/api/v1/console/customers", "/api/v1/console/segments/preview", "/api/v1/console/social-accounts"):
        assert path in paths


def test_dates_filter_on_last_order(api, shop):
    now = timezone.now()
    make_customer(shop, name="近", last_order_at=now - timedelta(days=2))
    make_customer(shop, name="远", last_order_at=now - timedelta(days=200))
    day = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert [i["name"] for i in api.get(f"{C}/customers", {"last_order_after": day}).json()["items"]] == ["近"]
    assert [i["name"] for i in api.get(f"{C}/customers", {"last_order_before": day}).json()["items"]] == ["远"]
