"""Console customer pool: the filtered list and export, the customer page and its actions,
fixed query counts, permissions and isolation between shops."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from siyu.accounts.roles import FINANCE
from siyu.accounts.services import address_create
from siyu.core.models import AuditEntry
from siyu.customers.models import (
    CustomerEvent,
    CustomerTag,
    FollowUp,
    Lifecycle,
    MemberLevel,
    Note,
    PointsEntry,
    Segment,
    SegmentMember,
    SocialAccount,
    Source,
    Tag,
)
from siyu.customers.stats import customer_for_shopper, customer_refresh_stats

from ..factories import make_staff
from ..orders.helpers import pay, place
from .customer_helpers import make_customer, make_customers, make_external_order
from .helpers import login_client

LIST = reverse("console:customers")


def detail_url(customer, name="customer_detail", *args):
    return reverse(f"console:{name}", args=[customer.public_id, *args])


def names(response) -> set[str]:
    return {r["customer"].name for r in response.context["rows"]}


@pytest.fixture
def finance_client(shop, owner):
    return login_client(make_staff(shop, role=FINANCE, username="caiwu"))


@pytest.fixture
def pool(shop):
    """Five customers that differ in every filtered attribute."""
    now = timezone.now()
    gold = MemberLevel.objects.create(shop=shop, name="金卡", min_spend=100000)
    vip = Tag.objects.create(shop=shop, name="VIP")
    rows = {
        "张三": make_customer(
            shop,
            name="张三",
            phone="13900000001",
            source=Source.TAOBAO,
            lifecycle=Lifecycle.ACTIVE,
            total_spent=150000,
            level=gold,
            last_order_at=now - timedelta(days=5),
        ),
        "李四": make_customer(
            shop,
            name="李四",
            phone="13900000002",
            source=Source.JD,
            lifecycle=Lifecycle.AT_RISK,
            total_spent=30000,
            last_order_at=now - timedelta(days=120),
        ),
        "王五": make_customer(shop, name="王五", phone="13900000003", source=Source.STORE),
        "赵六": make_customer(
            shop,
            name="赵六",
            phone="13900000004",
            source=Source.PDD,
            lifecycle=Lifecycle.LOST,
            total_spent=9900,
            last_order_at=now - timedelta(days=400),
        ),
        "张小红": make_customer(shop, name="张小红", phone="13900000005", source=Source.STORE),
    }
    CustomerTag.objects.create(customer=rows["张三"], tag=vip)
    CustomerTag.objects.create(customer=rows["赵六"], tag=vip)
    segment = Segment.objects.create(shop=shop, name="老客", rules={"all": []})
    SegmentMember.objects.create(segment=segment, customer=rows["李四"])
    return {"customers": rows, "gold": gold, "vip": vip, "segment": segment}


# --- list ------------------------------------------------------------------------------------


def test_list_shows_masked_phones_and_no_full_number(en_client, pool):
    response = en_client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "139****0001" in body and "13900000001" not in body
    assert names(response) == set(pool["customers"])
    assert "VIP" in body and "金卡" in body


def test_list_filters(en_client, pool):
    today = timezone.localdate()
    cases = [
        ({"q": "张"}, {"张三", "张小红"}),
        ({"q": "139 0000 0002"}, {"李四"}),  # a full phone is looked up by its hash
        ({"q": "1390000"}, set()),  # a partial phone is not a name and finds nobody
        ({"tag": pool["vip"].pk}, {"张三", "赵六"}),
        ({"lifecycle": "at_risk"}, {"李四"}),
        ({"source": "store"}, {"王五", "张小红"}),
        ({"level": pool["gold"].pk}, {"张三"}),
        ({"level": 0}, {"李四", "王五", "赵六", "张小红"}),
        ({"spend_min": "99", "spend_max": "300.00"}, {"李四", "赵六"}),
        ({"last_after": (today - timedelta(days=30)).isoformat()}, {"张三"}),
        ({"last_before": (today - timedelta(days=100)).isoformat()}, {"李四", "赵六"}),
        ({"segment": pool["segment"].pk}, {"李四"}),
        ({"tag": pool["vip"].pk, "lifecycle": "lost"}, {"赵六"}),
    ]
    for params, expected in cases:
        response = en_client.get(LIST, params)
        assert response.status_code == 200
        assert names(response) == expected, params


def test_bad_filters_are_left_out_not_a_500(en_client, pool):
    response = en_client.get(LIST, {"spend_min": "abc", "last_after": "nope", "tag": "x", "lifecycle": "at_risk"})
    assert response.status_code == 200
    assert names(response) == {"李四"}
    assert b"not valid" in response.content


def test_list_query_count_is_fixed(staff_client, shop, pool, django_assert_num_queries):
    # shop, user, staff, tag choices, levels, segments, count, page rows (+level), their tags,
    # staff for the bulk "assign" choice
    with django_assert_num_queries(10):
        assert staff_client.get(LIST).status_code == 200
    vip = pool["vip"]
    for c in make_customers(shop, 30):
        CustomerTag.objects.create(customer=c, tag=vip)
    with django_assert_num_queries(10):
        response = staff_client.get(LIST, {"tag": vip.pk, "page": 2})
    assert len(response.context["rows"]) == 12  # 32 tagged, 20 a page


def test_export_is_filtered_masked_and_guarded_against_formulas(en_client, shop, pool):
    make_customer(shop, name='=HYPERLINK("http://x")', phone="13900000009", source=Source.STORE)
    response = en_client.get(reverse("console:customer_export"), {"source": "store"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Customer ID", "Name", "Phone"]
    by_name = {r[1]: r for r in rows[1:]}
    assert set(by_name) == {"王五", "张小红", '\'=HYPERLINK("http://x")'}
    assert by_name["王五"][2] == "139****0003"
    assert "13900000003" not in response.content.decode("utf-8-sig")
    audit = AuditEntry.objects.get(action="customers.bulk_export")
    assert audit.data["selected"] == 3 and audit.data["filter"] == {"source": "store"}


# --- the customer page -----------------------------------------------------------------------


@pytest.fixture
def buyer(shop, shopper, product):
    """A customer who ordered twice in the shop, has an imported order, points, a note and a task."""
    address = address_create(
        shop=shop,
        shopper=shopper,
        data={
            "recipient": "王五",
            "phone": "13800138000",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 1 号",
        },
    )
    for _ in range(2):
        pay(place(shop, shopper, address, product))
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    make_external_order(customer, amount=8800)
    customer = customer_refresh_stats(customer=customer)
    PointsEntry.objects.create(shop=shop, customer=customer, delta=120, reason="earn")
    PointsEntry.objects.create(shop=shop, customer=customer, delta=-20, reason="redeem")
    return customer


def test_customer_page_shows_everything(en_client, shop, buyer):
    response = en_client.get(detail_url(buyer))
    assert response.status_code == 200
    body = response.content.decode()
    assert "138****8000" in body and "13800138000" not in body
    ctx = response.context
    assert len(ctx["orders"]) == 2 and len(ctx["external_orders"]) == 1
    assert ctx["points_balance"] == 100
    assert buyer.order_count == 3
    assert "¥88.00" in body  # the imported order


def _detail_queries(client, customer, django_assert_num_queries):
    # shop, user, staff, customer (+level, assignee, shopper), its tags, social accounts, social
    # links, points balance; a count and a page for each of orders (+ their lines), imported
    # orders, after-sales (empty: the count alone), notes, follow-ups, points and the timeline;
    # tag choices, staff list; the CLV figures (analytics.view); the channel addresses
    with django_assert_num_queries(26):
        response = client.get(detail_url(customer))
    assert response.status_code == 200
    return response


def test_customer_page_query_count_is_fixed(staff_client, shop, owner, shopper, buyer, django_assert_num_queries):
    from siyu.customers import followups, tags

    followups.note_add(actor=owner, customer=buyer, text="首条备注")
    followups.followup_create(actor=owner, customer=buyer, title="首次回访", due_on=timezone.localdate())
    _detail_queries(staff_client, buyer, django_assert_num_queries)

    for i in range(6):
        make_external_order(buyer, amount=100 + i)
        tags.customer_tag_add(actor=owner, customer=buyer, tag=f"标签{i}")
        followups.note_add(actor=owner, customer=buyer, text=f"备注{i}")
        followups.followup_create(actor=owner, customer=buyer, title=f"回访{i}", due_on=timezone.localdate())
        PointsEntry.objects.create(shop=shop, customer=buyer, delta=5, reason="earn")
    SocialAccount.objects.create(shop=shop, name="微信1")
    response = _detail_queries(staff_client, buyer, django_assert_num_queries)
    assert len(response.context["timeline"]) == 20


def test_reveal_shows_the_phone_and_is_logged(en_client, shop, owner, buyer):
    response = en_client.post(detail_url(buyer, "customer_reveal"))
    # post/redirect/get: the POST lands back on the customer page, so a reload never re-submits it
    assert response.status_code == 302 and response["Location"] == detail_url(buyer)
    event = CustomerEvent.objects.get(customer=buyer, kind="pii_view")
    assert event.actor_label == owner.display_name
    assert AuditEntry.objects.filter(action="customer.reveal", target_id=str(buyer.pk)).exists()
    assert "13800138000" in en_client.get(detail_url(buyer)).content.decode()
    # shown once: a reload shows the masked number, and no second view was logged
    again = en_client.get(detail_url(buyer)).content.decode()
    assert "13800138000" not in again and buyer.masked_phone in again
    assert CustomerEvent.objects.filter(customer=buyer, kind="pii_view").count() == 1
    # a GET does not reveal anything
    assert en_client.get(detail_url(buyer, "customer_reveal")).status_code == 405


def test_tags_add_and_remove(en_client, shop, buyer):
    response = en_client.post(detail_url(buyer, "customer_tag_add"), {"name": "爱喝茶"})
    assert response.status_code == 302
    tag = Tag.objects.get(shop=shop, name="爱喝茶")
    assert CustomerTag.objects.filter(customer=buyer, tag=tag).exists()
    # an existing tag by choice
    other = Tag.objects.create(shop=shop, name="团长")
    en_client.post(detail_url(buyer, "customer_tag_add"), {"tag": other.pk})
    assert set(buyer.tag_links.values_list("tag__name", flat=True)) == {"爱喝茶", "团长"}
    response = en_client.post(detail_url(buyer, "customer_tag_remove", tag.pk))
    assert response.status_code == 302
    assert set(buyer.tag_links.values_list("tag__name", flat=True)) == {"团长"}
    assert CustomerEvent.objects.filter(customer=buyer, kind="tag.removed").count() == 1
    # nothing chosen: a message, no tag, no 500
    response = en_client.post(detail_url(buyer, "customer_tag_add"), {}, follow=True)
    assert b"Choose a tag or type a new one." in response.content


def test_an_automatic_tag_cannot_be_put_on_by_hand(en_client, shop, buyer):
    Tag.objects.create(shop=shop, name="高消费", rules={"all": [{"field": "order_count", "op": ">=", "value": 9}]})
    response = en_client.post(detail_url(buyer, "customer_tag_add"), {"name": "高消费"}, follow=True)
    assert response.status_code == 200
    assert not CustomerTag.objects.filter(customer=buyer).exists()
    assert list(response.context["messages"])[0].level_tag == "error"


def test_notes_and_follow_ups(en_client, shop, owner, buyer):
    assert en_client.post(detail_url(buyer, "customer_note_add"), {"text": "喜欢绿茶"}).status_code == 302
    assert Note.objects.get(customer=buyer).text == "喜欢绿茶"
    assert en_client.post(detail_url(buyer, "customer_note_add"), {"text": ""}).status_code == 400
    due = timezone.localdate()
    response = en_client.post(
        detail_url(buyer, "customer_followup_add"),
        {"title": "回访新茶", "due_on": due.isoformat(), "assignee": owner.pk},
    )
    assert response.status_code == 302
    task = FollowUp.objects.get(customer=buyer)
    assert (task.title, task.assignee_id, task.due_on) == ("回访新茶", owner.pk, due)
    # it is on the owner's "today" list, and ticking it off takes it away
    today = en_client.get(reverse("console:followups_today"))
    assert [r["task"].pk for r in today.context["rows"]] == [task.pk]
    done = en_client.post(reverse("console:followup_done", args=[task.pk]), {"next": "customer"})
    assert done.status_code == 302 and done["Location"] == detail_url(buyer)
    task.refresh_from_db()
    assert task.done_at is not None
    assert en_client.get(reverse("console:followups_today")).context["rows"] == []
    bad = en_client.post(detail_url(buyer, "customer_followup_add"), {"title": "x", "due_on": "soon"})
    assert bad.status_code == 400


def test_today_list_query_count_is_fixed(staff_client, shop, owner, django_assert_num_queries):
    from siyu.customers import followups

    def count():
        # shop, user, staff, the tasks with their customer and product
        with django_assert_num_queries(4):
            assert staff_client.get(reverse("console:followups_today")).status_code == 200

    count()
    for c in make_customers(shop, 8):
        followups.followup_create(actor=owner, customer=c, title="回访", due_on=timezone.localdate(), assignee=owner)
    count()


def test_finance_can_read_but_not_edit(finance_client, shop, buyer):
    assert finance_client.get(LIST).status_code == 200
    assert finance_client.get(detail_url(buyer)).status_code == 200
    tag = Tag.objects.create(shop=shop, name="VIP")
    for name, args, data in [
        ("customer_tag_add", (), {"name": "VIP"}),
        ("customer_tag_remove", (tag.pk,), {}),
        ("customer_note_add", (), {"text": "hi"}),
        ("customer_followup_add", (), {"title": "x", "due_on": "2030-01-01"}),
    ]:
        assert finance_client.post(detail_url(buyer, name, *args), data).status_code == 403, name
    assert not CustomerTag.objects.exists() and not Note.objects.exists() and not FollowUp.objects.exists()
    # the page hides what the role cannot do
    assert b"Add tag" not in finance_client.get(detail_url(buyer)).content


def test_another_shops_customer_is_404(staff_client, other_shop):
    theirs = make_customer(other_shop, name="隔壁客户")
    task_owner = make_staff(other_shop, username="rival2")
    from siyu.customers import followups

    task = followups.followup_create(actor=task_owner, customer=theirs, title="x", due_on=timezone.localdate())
    assert staff_client.get(detail_url(theirs)).status_code == 404
    for name in ("customer_reveal", "customer_tag_add", "customer_note_add", "customer_followup_add"):
        assert staff_client.post(detail_url(theirs, name), {"name": "x", "text": "x"}).status_code == 404, name
    assert staff_client.post(reverse("console:followup_done", args=[task.pk])).status_code == 404
    assert "隔壁客户" not in staff_client.get(LIST).content.decode()
    assert not CustomerEvent.objects.filter(customer=theirs).exclude(kind="followup.created").exists()


def test_another_shops_staff_get_403(other_client, pool):
    customer = pool["customers"]["张三"]
    assert other_client.get(LIST).status_code == 403
    assert other_client.get(detail_url(customer)).status_code == 403
    assert other_client.post(detail_url(customer, "customer_tag_add"), {"name": "x"}).status_code == 403


def test_dashboard_counts_first_orders_as_new_customers_and_imports_apart(en_client, shop):
    """本月新客户 counts customers whose first order is this month, not records an import created."""
    now = timezone.now()
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    make_customer(shop, name="新买家", first_order_at=now)  # bought for the first time this month
    make_customer(shop, name="老买家", first_order_at=month_start - timedelta(days=40))
    make_customer(shop, name="只注册", first_order_at=None)  # signed up, never bought
    for i in range(4):  # past Taobao buyers imported today: old customers, new records
        make_customer(shop, name=f"导入{i}", source=Source.TAOBAO, first_order_at=month_start - timedelta(days=90))
    old_import = make_customer(shop, name="去年导入", source=Source.JD)
    type(old_import).objects.filter(pk=old_import.pk).update(created_at=month_start - timedelta(days=70))
    response = en_client.get(reverse("console:home"))
    assert response.context["customers"] == {"total": 8, "new_this_month": 1, "imported_this_month": 4}


def test_nav_links_to_customers(en_client, shop):
    body = en_client.get(reverse("console:home")).content.decode()
    assert reverse("console:customers") in body and reverse("console:followups_today") in body
