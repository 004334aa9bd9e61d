"""Imports tell the truth: only sales count, real headers are recognised, every phone column is
read, bad cells are refused with their reason, a multi-row order is one order, and the imported
buyers get their RFM scores and lifecycle stage at once. Samples follow the real exports (GBK CSV
from Taobao, an .xlsx with a row per SKU from JD, Pinduoduo's headers with units)."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import Workbook

from siyu.core.crypto import lookup_hash
from siyu.customers.import_values import RowError, parse_amount, reject_reason_label
from siyu.customers.importer import import_rejected_csv, import_run
from siyu.customers.layouts import detect_layout, make_plan
from siyu.customers.models import Customer, ExternalOrder, Lifecycle

pytestmark = pytest.mark.django_db

# The columns of Taobao's 订单报表 that matter here, in their real order (abridged).
TAOBAO = ["订单编号", "买家会员名", "买家应付货款", "买家实际支付金额", "订单状态", "收货人姓名", "收货地址"]
TAOBAO += ["联系电话", "联系手机", "订单创建时间", "订单付款时间", "宝贝标题", "退款状态"]


def tb(order, status, phone="13800138001", amount="100.00", *, landline="", at="2024-05-01 10:00:00", refund=""):
    return [f'="{order}"', "tb_buyer", amount, amount, status, "张三", "浙江省 杭州市 西湖区 文三路1号",
            landline, phone, at, at, "玻尿酸面霜 50ml", refund]  # fmt: skip


def as_csv(header, rows, encoding="gbk") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(header, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(shop, content, filename="orders.csv", **kwargs):
    return import_run(shop=shop, actor=None, filename=filename, content=content, **kwargs)


def customer(shop, phone):
    return Customer.objects.filter(shop=shop, phone_hash=lookup_hash(phone)).first()


def reasons(job):
    return [(r["row"], r["reason"], r.get("detail", "")) for r in job.rejected_rows]


# --- 1. only sales count ----------------------------------------------------------------------


def test_taobao_closed_unpaid_refunded_and_unknown_orders_are_not_spend(shop):
    rows = [
        tb("1001", "交易成功", amount="100.00"),
        tb("1002", "交易关闭", amount="50.00"),  # closed (also how Taobao shows a full refund)
        tb("1003", "等待买家付款", phone="13800138002"),  # unpaid: not a buyer at all
        tb("1004", "卖家已发货，等待买家确认", amount="30.00"),
        tb("1005", "买家已付款,等待卖家发货", phone="13800138003", amount="20.00"),
        tb("1006", "交易成功", amount="999.00", refund="退款成功"),
        tb("1007", "火星状态", amount="70.00"),
        tb("1008", "", amount="70.00"),
    ]
    job = run(shop, as_csv(TAOBAO, rows))
    assert job.layout == "taobao"
    assert (job.imported, job.orders_added, job.rejected) == (2, 3, 5)
    assert reasons(job) == [
        (3, "order_not_completed", "交易关闭"),
        (4, "order_not_completed", "等待买家付款"),
        (7, "order_refunded", "退款成功"),
        (8, "order_status_unknown", "火星状态"),
        (9, "order_status_missing", ""),
    ]
    assert job.rejected_reasons == {
        "order_not_completed": 2,
        "order_refunded": 1,
        "order_status_unknown": 1,
        "order_status_missing": 1,
    }
    zhang = customer(shop, "13800138001")
    assert (zhang.order_count, zhang.total_spent) == (2, 13000)  # 1001 + 1004 only
    assert customer(shop, "13800138002") is None
    assert set(ExternalOrder.objects.values_list("external_id", flat=True)) == {"1001", "1004", "1005"}
    report = import_rejected_csv(job=job).decode("utf-8-sig")
    assert reject_reason_label("order_not_completed", "交易关闭") in report and "交易关闭" in report


@pytest.mark.parametrize(
    ("layout", "counted", "refused"),
    [
        ("jd", ["完成", "已完成", "等待收货", "等待出库"], ["已取消", "锁定", "等待付款"]),
        ("pdd", ["已发货，待收货", "已签收", "待发货"], ["已取消", "未付款", "退款成功"]),
    ],
)
def test_each_platform_has_its_status_table(shop, layout, counted, refused):
    header = {
        "jd": [
            "订单号",
            "下单帐号",
            "应付金额",
            "下单时间",
            "客户姓名",
            "联系电话",
            "客户地址",
            "商品名称",
            "订单状态",
        ],
        "pdd": ["订单号", "商品", "用户实付金额", "订单成交时间", "收货人", "手机", "详细地址", "订单状态"],
    }[layout]
    rows = []
    for i, status in enumerate(counted + refused):
        row = dict.fromkeys(header, "")
        row.update({"订单号": f"{layout}{i}", "订单状态": status, "下单时间": "2024-01-02 03:04:05"})
        row.update({"订单成交时间": "2024-01-02 03:04:05", "应付金额": "10", "用户实付金额": "10"})
        row.update({"联系电话": "13700137000", "手机": "13700137000", "商品名称": "牛奶", "商品": "牛奶"})
        rows.append([row[h] for h in header])
    job = run(shop, as_csv(header, rows, encoding="utf-8"))
    assert job.layout == layout and job.orders_added == len(counted)
    assert job.rejected_reasons == {"order_not_completed": len(refused)}
    assert customer(shop, "13700137000").total_spent == 1000 * len(counted)


def test_pdd_after_sale_refund_and_unit_headers(shop):
    header = ["订单号", "商品", "订单状态", "售后状态", " 用户实付金额（元） ", "商家实收金额(元)", "订单成交时间"]
    header += ["收货人", "手机", "省", "市", "详细地址"]
    common = ["2024-06-18 20:00:00", "赵六", "13600136000", "广东省", "深圳市", "科技园"]
    rows = [
        ["P1", "抽纸 24包", "已签收", "无售后或售后取消", "39.90", "38.00", *common],
        ["P2", "抽纸 24包", "已签收", "退款成功", "39.90", "38.00", *common],
        ["P3", "湿巾", "待发货", "", "￥1,200.50", "1,190.00", *common],
    ]
    content = as_csv(header, rows, encoding="gbk")
    assert detect_layout(header) == "pdd"
    job = run(shop, content)
    assert job.layout == "pdd" and job.orders_added == 2 and reasons(job) == [(3, "order_refunded", "退款成功")]
    zhao = customer(shop, "13600136000")
    assert (zhao.total_spent, zhao.city) == (3990 + 120050, "深圳市")


def test_generic_files_count_every_row_unless_a_status_column_is_mapped(shop):
    header = ["手机", "金额（分）", "日期", "状态"]
    rows = [["13500135000", "1,500", "2024-06-01", "交易成功"], ["13500135000", "900", "2024-06-02", "已取消"]]
    mapping = {"手机": "phone", "金额(分)": "amount", "日期": "placed_at"}
    content = as_csv(header, rows, encoding="utf-8")
    assert make_plan(header=header, layout="generic", mapping=mapping).amount_unit == "fen"
    job = run(shop, content, mapping={**mapping, "状态": "status"})
    assert job.orders_added == 1 and reasons(job) == [(3, "order_not_completed", "已取消")]
    assert customer(shop, "13500135000").total_spent == 1500  # the header said fen


# --- 3. the phone of a row --------------------------------------------------------------------


def test_the_first_valid_mobile_of_the_row_is_its_phone(shop):
    rows = [
        tb("2001", "交易成功", phone="", landline="13900139001"),  # 联系手机 empty, the mobile in 联系电话
        tb("2002", "交易成功", phone="13900139002", landline="0571-88886666"),
        tb("2003", "交易成功", phone="139****9003", landline="13900139003"),  # masked, the other is whole
        tb("2004", "交易成功", phone="", landline="0571-88886666"),
        tb("2005", "交易成功", phone="139****9005", landline=""),
    ]
    job = run(shop, as_csv(TAOBAO, rows))
    assert job.imported == 3
    assert all(customer(shop, f"1390013900{i}") for i in (1, 2, 3))
    assert reasons(job) == [(5, "phone_invalid", ""), (6, "phone_masked", "")]


# --- 4. truncated rows and amounts ------------------------------------------------------------


def test_a_truncated_row_is_reported_as_truncated(shop):
    good = tb("3001", "交易成功")
    content = as_csv(TAOBAO, [good]) + "\r\n".join([",".join(good[:9]), ",".join(good)]).encode("gbk")
    job = run(shop, content)
    assert [r[1] for r in reasons(job)] == ["row_truncated"]
    assert job.orders_added == 1 and job.total_rows == 3


@pytest.mark.parametrize(
    ("cell", "fen"),
    [
        ("99.5", 9950),
        ("1,200.00", 120000),
        ("¥0.5", 50),
        ("￥ 12,345.67 ", 1234567),
        ("８８．８", 8880),
        ("12元", 1200),
        (19.9, 1990),
        (29.900000000000002, 2990),
        (3, 300),
    ],
)
def test_amounts_that_are_plain_sums(cell, fen):
    assert parse_amount(cell) == fen


@pytest.mark.parametrize(
    "cell", ["1e3", "1E3", "10.005", "-5", "NaN", "inf", "1,2", "12,34.5", "+3", "0x10", float("nan"), 10.005, -1.0]
)
def test_amounts_that_are_refused(cell):
    with pytest.raises(RowError) as exc:
        parse_amount(cell)
    assert exc.value.code == "amount_invalid"


def test_fen_columns_take_whole_numbers_only():
    assert parse_amount("1,990", unit="fen") == 1990
    with pytest.raises(RowError):
        parse_amount("19.90", unit="fen")


def test_an_exponent_in_an_export_is_refused_not_read_as_a_thousand(shop):
    job = run(shop, as_csv(TAOBAO, [tb("4001", "交易成功", amount="1e3")]))
    assert reasons(job) == [(2, "amount_invalid", "")] and not Customer.objects.exists()


# --- 5. multi-row orders and the merged count -------------------------------------------------

JD = ["订单号", "商品ID", "商品名称", "订购数量", "京东价", "订单金额", "应付金额", "订单状态", "下单时间"]
JD += ["下单帐号", "客户姓名", "客户地址", "联系电话"]


def jd(order, title, status="完成", phone="13700137000", amount="300.00", at="2024-03-08 09:00:00"):
    return [order, "100012", title, 1, "100.00", amount, amount, status, at, "jd_wang", "王五",
            "江苏南京市鼓楼区中山路1号", phone]  # fmt: skip


def test_a_jd_order_of_several_skus_is_one_order_with_every_title(shop):
    rows = [
        jd("J100", "纯牛奶 250ml*12"),
        jd("J100", "全麦面包"),
        jd("J100", "鸡蛋 30枚"),
        jd("J101", "酸奶", status="已取消"),
        jd("J102", "酸奶", status="锁定"),
        jd("J103", "橙汁", status="等待出库", amount="45.50", at="2024-04-01 08:00:00"),
        jd("J103", "苹果汁", status="等待出库", amount="45.50", at="2024-04-01 08:00:00"),
    ]
    job = run(shop, as_xlsx(JD, rows), filename="jd.xlsx")
    assert job.layout == "jd" and (job.imported, job.merged, job.orders_added, job.rejected) == (1, 0, 2, 2)
    order = ExternalOrder.objects.get(external_id="J100")
    assert order.amount == 30000  # the order's 应付金额 on each line, taken once
    assert all(title in order.items for title in ("纯牛奶 250ml*12", "全麦面包", "鸡蛋 30枚"))
    wang = customer(shop, "13700137000")
    assert (wang.order_count, wang.total_spent) == (2, 30000 + 4550)

    later = [jd("J200", "牛奶"), jd("J200", "面包"), jd("J200", "鸡蛋"), jd("J100", "纯牛奶 250ml*12")]
    again = run(shop, as_xlsx(JD, later), filename="jd.xlsx")
    # one customer gained one order, whatever the rows: merged counts customers, unchanged rows
    assert (again.imported, again.merged, again.orders_added, again.unchanged) == (0, 1, 1, 1)
    wang.refresh_from_db()
    assert wang.order_count == 3


def test_continuation_rows_may_leave_the_order_columns_empty_but_not_disagree(shop):
    rows = [
        jd("J300", "牛奶"),
        jd("J300", "面包", phone="", amount="", at=""),
        jd("J300", "鸡蛋", phone="13700137999"),
    ]
    job = run(shop, as_csv(JD, rows, encoding="gbk"))
    assert job.orders_added == 1 and reasons(job) == [(4, "order_conflict", "J300")]
    order = ExternalOrder.objects.get(external_id="J300")
    assert (order.amount, order.items) == (30000, "牛奶；面包")


def test_generic_lines_of_one_order_are_added_up(shop):
    header = ["单号", "手机", "商品", "金额", "日期"]
    rows = [["G1", "13500135001", "茶叶", "88.00", "2024-06-01"], ["G1", "13500135001", "茶杯", "12.00", "2024-06-01"]]
    mapping = {"单号": "external_id", "手机": "phone", "商品": "items", "金额": "amount", "日期": "placed_at"}
    job = run(shop, as_csv(header, rows, encoding="utf-8"), mapping=mapping)
    assert job.orders_added == 1
    assert ExternalOrder.objects.get().amount == 10000
    assert customer(shop, "13500135001").order_count == 1


# --- 6. RFM and lifecycle at the end of the import --------------------------------------------


def test_imported_buyers_get_their_stage_and_scores_at_once(shop):
    now = timezone.localtime()

    def at(days):
        return (now - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")

    rows = [
        tb("5001", "交易成功", phone="13800000001", at=at(400)),  # long gone
        tb("5002", "交易成功", phone="13800000002", at=at(5)),  # first order days ago
        tb("5003", "交易成功", phone="13800000003", at=at(200), amount="500.00"),
        tb("5004", "交易成功", phone="13800000003", at=at(20), amount="500.00"),
    ]
    run(shop, as_csv(TAOBAO, rows))
    stages = {c.phone: c.lifecycle for c in Customer.objects.filter(shop=shop)}
    assert stages == {"13800000001": Lifecycle.LOST, "13800000002": Lifecycle.NEW, "13800000003": Lifecycle.ACTIVE}
    scored = {c.phone: (c.rfm_r, c.rfm_f, c.rfm_m) for c in Customer.objects.filter(shop=shop)}
    assert all(all(s > 0 for s in scores) for scores in scored.values())
    assert scored["13800000003"][1] > scored["13800000001"][1]  # two orders score higher on F


# --- the statements an import costs -----------------------------------------------------------


def test_an_import_costs_the_same_statements_for_5_or_30_orders(shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(first, n):
        rows = [jd(f"Q{first + i}", "牛奶", phone=f"1370000{first + i:04d}") for i in range(n)]
        rows += [jd(f"Q{first + i}", "面包", phone=f"1370000{first + i:04d}") for i in range(n)]  # a 2nd SKU each
        with CaptureQueriesContext(connection) as queries:
            job = run(shop, as_csv(JD, rows))
        assert job.orders_added == n
        return len(queries)

    assert cost(0, 5) == cost(100, 30)
