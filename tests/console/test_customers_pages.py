"""Console pages around the customer pool: segments, tags, RFM chart, import, social accounts and
membership settings. Each renders with a fixed number of queries and refuses what a role may not do."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from siyu.accounts.roles import FINANCE
from siyu.customers.models import (
    CrmSettings,
    Customer,
    CustomerTag,
    ImportJob,
    Lifecycle,
    MemberLevel,
    Segment,
    SocialAccount,
    SocialLink,
    Tag,
)

from ..factories import make_staff
from .customer_helpers import make_customer, make_customers
from .helpers import login_client

RULES = '{"all": [{"field": "total_spent", "op": ">=", "value": "100.00"}]}'


@pytest.fixture
def finance_client(shop, owner):
    return login_client(make_staff(shop, role=FINANCE, username="caiwu"))


@pytest.fixture
def spenders(shop):
    return [make_customer(shop, name=f"客{i}", total_spent=i * 5000, order_count=i) for i in range(6)]


# --- segments --------------------------------------------------------------------------------


def test_segment_preview_save_evaluate_export(en_client, shop, spenders):
    url = reverse("console:segment_new")
    assert en_client.get(url).status_code == 200
    preview = en_client.post(url, {"action": "preview", "rules": RULES})
    assert preview.status_code == 200 and preview.context["preview"] == 4  # 100, 150, 200, 250 yuan
    assert not Segment.objects.exists()
    saved = en_client.post(url, {"action": "save", "name": "高消费", "rules": RULES})
    assert saved.status_code == 302
    segment = Segment.objects.get(shop=shop)
    assert segment.member_count == 4
    make_customer(shop, name="新大户", total_spent=99999)
    assert en_client.post(reverse("console:segment_evaluate", args=[segment.pk])).status_code == 302
    segment.refresh_from_db()
    assert segment.member_count == 5
    listed = en_client.get(reverse("console:customers"), {"segment": segment.pk})
    assert len(listed.context["rows"]) == 5
    export = en_client.get(reverse("console:segment_export", args=[segment.pk]))
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 6 and rows[0][0] == "public_id"


def test_segment_builder_shows_bad_rules_on_the_form(en_client, shop):
    url = reverse("console:segment_new")
    for rules in ("{not json", '{"all": [{"field": "shoe_size", "op": "=", "value": 42}]}', "[]"):
        response = en_client.post(url, {"action": "preview", "rules": rules})
        assert response.status_code == 400, rules
        assert response.context["form"].errors
    assert not Segment.objects.exists()


def test_renaming_a_segment_to_a_taken_name_is_a_409_on_the_form(en_client, shop):
    Segment.objects.create(shop=shop, name="老客", rules={"all": []})
    mine = Segment.objects.create(shop=shop, name="新客", rules={"all": []})
    url = reverse("console:segment_edit", args=[mine.pk])
    response = en_client.post(url, {"action": "save", "name": "老客", "rules": RULES})
    assert response.status_code == 409 and response.context["form"].errors["name"]
    assert Segment.objects.get(pk=mine.pk).name == "新客"


def test_segment_edit_keeps_rules_and_pages_have_fixed_queries(staff_client, shop, django_assert_num_queries):
    for i in range(4):
        Segment.objects.create(shop=shop, name=f"分群{i}", rules={"all": []})
    with django_assert_num_queries(4):  # shop, user, staff, segments
        assert staff_client.get(reverse("console:segments")).status_code == 200
    segment = Segment.objects.first()
    # shop, user, staff, the segment; the rule builder's categories, products and tags
    with django_assert_num_queries(7):
        response = staff_client.get(reverse("console:segment_edit", args=[segment.pk]))
    assert response.context["form"].initial["rules"] == '{\n  "all": []\n}'
    assert "&quot;all&quot;: []" in response.content.decode()


def test_segments_refused_for_finance_and_other_shops(finance_client, en_client, other_shop, shop):
    theirs = Segment.objects.create(shop=other_shop, name="别人的", rules={"all": []})
    assert en_client.get(reverse("console:segment_edit", args=[theirs.pk])).status_code == 404
    assert en_client.post(reverse("console:segment_evaluate", args=[theirs.pk])).status_code == 404
    assert en_client.get(reverse("console:segment_export", args=[theirs.pk])).status_code == 404
    url = reverse("console:segment_new")
    assert finance_client.post(url, {"action": "save", "name": "x", "rules": RULES}).status_code == 403
    # previewing only reads, so finance may look
    assert finance_client.post(url, {"action": "preview", "rules": RULES}).status_code == 200
    mine = Segment.objects.create(shop=shop, name="我的", rules={"all": []})
    assert finance_client.post(reverse("console:segment_evaluate", args=[mine.pk])).status_code == 403
    assert not Segment.objects.filter(name="x").exists()


# --- tags ------------------------------------------------------------------------------------


def test_tags_page_creates_manual_and_automatic_tags(en_client, shop, spenders):
    url = reverse("console:customer_tags")
    assert en_client.post(url, {"name": "团长"}).status_code == 302
    assert en_client.post(url, {"name": "大户", "rules": RULES}).status_code == 302
    auto = Tag.objects.get(shop=shop, name="大户")
    assert auto.rules is not None
    assert CustomerTag.objects.filter(tag=auto, automatic=True).count() == 4
    response = en_client.get(url)
    assert [t.name for t in response.context["manual"]] == ["团长"]
    assert [(a["tag"].name, a["tag"].customer_count) for a in response.context["automatic"]] == [("大户", 4)]
    assert en_client.post(url, {"name": "团长"}).status_code == 409  # the name is taken
    assert en_client.post(url, {"name": "坏规则", "rules": "{"}).status_code == 400
    make_customer(shop, total_spent=1_000_000)
    assert en_client.post(reverse("console:customer_tags_apply")).status_code == 302
    assert CustomerTag.objects.filter(tag=auto).count() == 5


def test_tags_page_query_count_and_refusals(staff_client, finance_client, shop, django_assert_num_queries):
    for i in range(5):
        tag = Tag.objects.create(shop=shop, name=f"标签{i}")
        for c in make_customers(shop, 2):
            CustomerTag.objects.create(customer=c, tag=tag)
    with django_assert_num_queries(4):  # shop, user, staff, tags with their counts
        assert staff_client.get(reverse("console:customer_tags")).status_code == 200
    assert finance_client.post(reverse("console:customer_tags"), {"name": "x"}).status_code == 403
    assert finance_client.post(reverse("console:customer_tag_delete", args=[tag.pk])).status_code == 403
    assert Tag.objects.filter(pk=tag.pk).exists() and not Tag.objects.filter(name="x").exists()


# --- RFM and lifecycle -----------------------------------------------------------------------


def test_rfm_page_draws_bars_from_the_distribution(en_client, shop, django_assert_num_queries):
    for stage, n in ((Lifecycle.ACTIVE, 4), (Lifecycle.AT_RISK, 2), (Lifecycle.LOST, 1)):
        make_customers(shop, n, lifecycle=stage)
    with django_assert_num_queries(4):  # shop, user, staff, one aggregate
        response = en_client.get(reverse("console:customer_rfm"))
    stages = {b["key"]: (b["n"], b["width"]) for b in response.context["stages"]}
    assert stages["active"] == (4, 100) and stages["at_risk"] == (2, 50) and stages["lost"] == (1, 25)
    assert re.search(r'class="bar[^"]* w-50"', response.content.decode())  # a class: the CSP refuses style=
    assert en_client.post(reverse("console:customer_rfm_recompute")).status_code == 302


# --- import ----------------------------------------------------------------------------------

TAOBAO = (
    "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,订单付款时间,收货人姓名,收货地址,联系手机,宝贝标题\n"
    "T1,tb1,99.50,交易成功,2024-03-01 10:00:00,2024-03-01 10:00:00,张三,浙江省 杭州市 西湖区,13800138000,面霜\n"
    "T2,tb2,10.00,交易成功,2024-03-02 10:00:00,2024-03-02 10:00:00,李四,浙江省 杭州市,138****0000,面膜\n"
    "T3,tb3,=1+1,交易成功,2024-03-03 10:00:00,2024-03-03 10:00:00,王五,浙江省 杭州市,13900139000,=HYPERLINK(1)\n"
)


def upload(text: str, name="orders.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def test_import_taobao_report_and_rejected_rows(en_client, shop):
    url = reverse("console:customer_import")
    assert en_client.get(url).status_code == 200
    response = en_client.post(url, {"file": upload(TAOBAO), "layout": "taobao"})
    assert response.status_code == 302
    job = ImportJob.objects.get(shop=shop)
    assert response["Location"] == reverse("console:import_job", args=[job.pk])
    assert (job.imported, job.rejected) == (1, 2)
    page = en_client.get(response["Location"])
    assert page.status_code == 200 and len(page.context["rejects"]) == 2
    assert Customer.objects.get(shop=shop).name == "张三"
    rejected = en_client.get(reverse("console:import_rejected", args=[job.pk]))
    text = rejected.content.decode("utf-8-sig")
    assert "138****0000" in text and "'=HYPERLINK(1)" in text
    # the same file again changes nothing
    en_client.post(url, {"file": upload(TAOBAO, encoding="gbk"), "layout": "auto"})
    again = ImportJob.objects.filter(shop=shop).first()
    assert (again.imported, again.merged, again.unchanged) == (0, 0, 1)


def test_import_generic_with_a_mapping(en_client, shop):
    text = "手机,姓名,城市\n13800138001,小明,杭州\n13800138002,小红,宁波\n"
    url = reverse("console:customer_import")
    missing = en_client.post(url, {"file": upload(text), "layout": "generic"})
    assert missing.status_code == 400 and "col_phone" in missing.context["form"].errors
    response = en_client.post(
        url, {"file": upload(text), "layout": "generic", "col_phone": "手机", "col_name": "姓名", "col_city": "城市"}
    )
    assert response.status_code == 302
    assert set(Customer.objects.filter(shop=shop).values_list("name", "city")) == {("小明", "杭州"), ("小红", "宁波")}
    wrong = en_client.post(url, {"file": upload(text), "layout": "generic", "col_phone": "电话"})
    assert wrong.status_code == 400 and wrong.context["form"].non_field_errors()


def test_import_of_an_unreadable_file_is_a_form_error(en_client, shop):
    url = reverse("console:customer_import")
    response = en_client.post(url, {"file": upload("just,some\nwords,here\n"), "layout": "auto"})
    assert response.status_code == 400 and response.context["form"].non_field_errors()
    assert not ImportJob.objects.exists()


def test_import_page_queries_refusals_and_tenancy(
    staff_client, finance_client, shop, other_shop, owner, django_assert_num_queries
):
    for i in range(3):
        ImportJob.objects.create(shop=shop, created_by=owner, filename=f"f{i}.csv", layout="taobao", status="done")
    with django_assert_num_queries(4):  # shop, user, staff, recent jobs
        assert staff_client.get(reverse("console:customer_import")).status_code == 200
    job = ImportJob.objects.filter(shop=shop).first()
    with django_assert_num_queries(4):  # shop, user, staff, the job
        assert staff_client.get(reverse("console:import_job", args=[job.pk])).status_code == 200
    response = finance_client.post(reverse("console:customer_import"), {"file": upload(TAOBAO), "layout": "taobao"})
    assert response.status_code == 403 and ImportJob.objects.count() == 3
    theirs = ImportJob.objects.create(shop=other_shop, filename="x.csv", layout="jd", rejected=1)
    assert staff_client.get(reverse("console:import_job", args=[theirs.pk])).status_code == 404
    assert staff_client.get(reverse("console:import_rejected", args=[theirs.pk])).status_code == 404


def test_running_job_shows_progress_and_refreshes(en_client, shop):
    job = ImportJob.objects.create(
        shop=shop, filename="big.csv", layout="jd", status="running", total_rows=400, processed_rows=100
    )
    response = en_client.get(reverse("console:import_job", args=[job.pk]))
    assert response.context["percent"] == 25
    assert b'http-equiv="refresh"' in response.content


# --- social accounts -------------------------------------------------------------------------


def test_social_accounts_warn_and_suggest(en_client, shop):
    url = reverse("console:social_accounts")
    assert en_client.post(url, {"name": "客服1号", "kind": "wechat", "capacity": 10}).status_code == 302
    assert en_client.post(url, {"name": "客服2号", "kind": "wecom", "capacity": 20}).status_code == 302
    first, second = SocialAccount.objects.order_by("id")
    customers = make_customers(shop, 18)
    for c in customers[:9]:
        SocialLink.objects.create(account=first, customer=c, status=SocialLink.Status.ADDED)
    for c in customers[9:]:
        SocialLink.objects.create(account=second, customer=c, status=SocialLink.Status.ADDED)
    response = en_client.get(url)
    assert [w["account"].pk for w in response.context["warnings"]] == [first.pk]  # 9 of 10 is 90%
    assert response.context["suggested"] == second
    assert "nearly full" in response.content.decode()
    bad = en_client.post(url, {"name": "", "kind": "qq", "capacity": 0})
    assert bad.status_code == 400 and SocialAccount.objects.count() == 2


def test_social_link_from_the_customer_page_and_account_page(en_client, shop, django_assert_num_queries):
    account = SocialAccount.objects.create(shop=shop, name="店长微信", capacity=1)
    a, b = make_customer(shop, name="甲"), make_customer(shop, name="乙")
    url = reverse("console:customer_social_link", args=[a.public_id])
    assert en_client.post(url, {"account": account.pk, "status": "added"}).status_code == 302
    assert SocialLink.objects.get(customer=a).status == "added"
    # the account is full now: the second friend is refused with a message
    response = en_client.post(
        reverse("console:customer_social_link", args=[b.public_id]),
        {"account": account.pk, "status": "added"},
        follow=True,
    )
    assert not SocialLink.objects.filter(customer=b).exists()
    assert "no room" in response.content.decode()
    status_url = reverse("console:social_link_status", args=[account.pk])
    assert en_client.post(status_url, {"customer": a.public_id, "status": "deleted"}).status_code == 302
    assert SocialLink.objects.get(customer=a).status == "deleted"
    for c in make_customers(shop, 5):
        SocialLink.objects.create(account=account, customer=c, status="invited")
    with django_assert_num_queries(7):  # shop, user, staff, account (+counts), staff list, link count, links
        page = en_client.get(reverse("console:social_account", args=[account.pk]))
    assert len(page.context["links"]) == 6


def test_social_refusals_and_tenancy(finance_client, en_client, shop, other_shop):
    theirs = SocialAccount.objects.create(shop=other_shop, name="别人的微信")
    mine = make_customer(shop)
    assert en_client.get(reverse("console:social_account", args=[theirs.pk])).status_code == 404
    response = en_client.post(
        reverse("console:customer_social_link", args=[mine.public_id]), {"account": theirs.pk, "status": "added"}
    )
    assert response.status_code == 302 and not SocialLink.objects.exists()  # not a choice here
    assert (
        finance_client.post(
            reverse("console:social_accounts"), {"name": "x", "kind": "wechat", "capacity": 5}
        ).status_code
        == 403
    )
    assert not SocialAccount.objects.filter(shop=shop).exists()


# --- membership ------------------------------------------------------------------------------


def test_membership_levels_and_settings(en_client, shop, django_assert_num_queries):
    url = reverse("console:membership")
    data = {"name": "银卡", "min_spend": "500", "discount_percent": "5", "free_shipping": "on"}
    assert en_client.post(url, data).status_code == 302
    level = MemberLevel.objects.get(shop=shop)
    assert (level.min_spend, level.discount_bp, level.free_shipping) == (50000, 500, True)
    assert en_client.post(url, {**data, "name": "重复"}).status_code == 409  # same threshold
    assert en_client.post(url, {**data, "discount_percent": "60"}).status_code == 400
    settings = {
        "action": "settings",
        "new_days": 14,
        "active_days": 60,
        "at_risk_days": 120,
        "dormant_days": 300,
        "points_per_yuan": 2,
        "points_per_yuan_redeemed": 100,
        "max_redeem_bp": 3000,
        "points_valid_days": 180,
    }
    assert en_client.post(url, settings).status_code == 302
    saved = CrmSettings.objects.get(shop=shop)
    assert (saved.new_days, saved.at_risk_days, saved.points_per_yuan, saved.max_redeem_bp) == (14, 120, 2, 3000)
    bad = en_client.post(url, {**settings, "at_risk_days": 30})
    assert bad.status_code == 400 and "at_risk_days" in bad.context["settings_form"].errors
    with django_assert_num_queries(5):  # shop, user, staff, settings, levels
        page = en_client.get(url)
    assert page.context["levels"][0]["discount"] == "5"
    assert en_client.post(reverse("console:level_delete", args=[level.pk])).status_code == 302
    assert not MemberLevel.objects.exists()


def test_membership_refused_for_finance_and_other_shops(finance_client, en_client, shop, other_shop):
    theirs = MemberLevel.objects.create(shop=other_shop, name="别人的", min_spend=100)
    assert en_client.post(reverse("console:level_delete", args=[theirs.pk])).status_code == 404
    url = reverse("console:membership")
    assert finance_client.get(url).status_code == 200
    assert finance_client.post(url, {"name": "x", "min_spend": "1", "discount_percent": "0"}).status_code == 403
    assert finance_client.post(url, {"action": "settings", "new_days": 1}).status_code == 403
    assert not MemberLevel.objects.filter(shop=shop).exists() and not CrmSettings.objects.filter(shop=shop).exists()


def test_a_big_upload_goes_to_the_worker_and_shows_progress(
    en_client, shop, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from siyu.console.views import customers_import

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(customers_import, "BACKGROUND_BYTES", 100)
    url = reverse("console:customer_import")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = en_client.post(url, {"file": upload(TAOBAO), "layout": "taobao"})
    job = ImportJob.objects.get(shop=shop)
    assert response.status_code == 302 and job.status == "pending" and len(queued) == 1
    waiting = en_client.get(reverse("console:import_job", args=[job.pk]))
    assert waiting.context["running"] and b'http-equiv="refresh"' in waiting.content
    queued[0]()  # the worker runs the job (the test queue runs tasks at once)
    job.refresh_from_db()
    assert (job.status, job.imported, job.rejected) == ("done", 1, 2)
    done = en_client.get(reverse("console:import_job", args=[job.pk]))
    assert not done.context["running"] and done.context["percent"] == 100
