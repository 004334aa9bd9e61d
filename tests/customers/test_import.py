"""Imports of past buyers: layouts, encodings, bad rows, idempotence and the customers' figures."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from siyu.core.crypto import lookup_hash
from siyu.core.errors import InvalidInput, PermissionDenied
from siyu.customers.import_values import reject_reason_label
from siyu.customers.importer import import_detect_layout, import_rejected_csv, import_run
from siyu.customers.models import Customer, CustomerEvent, ExternalOrder, ImportJob
from tests.factories import make_staff

CN = ZoneInfo("Asia/Shanghai")

TAOBAO_HEADER = [
    "订单编号",
    "买家会员名",
    "买家实际支付金额",
    "订单状态",
    "订单创建时间",
    "订单付款时间",
    "收货人姓名",
    "收货地址",
    "联系手机",
    "宝贝标题",
]


def taobao_row(order, phone, amount="99.00", at="2024-03-01 10:00:00", name="张三", address=None, title="面霜"):
    address = address or "浙江省 杭州市 西湖区 文三路 1号"
    return [order, "tb_buyer", amount, "交易成功", at, at, name, address, phone, title]


def as_csv(header, rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def run(shop, content, filename="orders.csv", **kwargs):
    return import_run(shop=shop, actor=None, filename=filename, content=content, **kwargs)


def counts(job):
    return (job.total_rows, job.imported, job.merged, job.unchanged, job.rejected)


@pytest.mark.django_db
def test_taobao_export_makes_customers_and_orders(shop):
    content = as_csv(
        TAOBAO_HEADER,
        [
            taobao_row("T1", "13800138000", "99.50", "2024-03-01 10:00:00"),
            taobao_row(
                "T2",
                "+86 139-0013-9000",
                "1,200.00",
                "2024/3/5 08:30",
                name="李四",
                address="上海 上海市 浦东新区 世纪大道 2号",
            ),
            taobao_row("T3", "13800138000", "¥0.5", "2024年4月2日 09:15:00"),
        ],
    )
    job = run(shop, content)
    assert job.layout == "taobao" and job.status == "done"
    assert counts(job) == (3, 2, 0, 0, 0) and job.orders_added == 3  # merged: customers from before the file
    zhang = Customer.objects.get(shop=shop, phone_hash=lookup_hash("13800138000"))
    assert (zhang.name, zhang.phone, zhang.source) == ("张三", "13800138000", "taobao")
    assert (zhang.province, zhang.city) == ("浙江省", "杭州市")
    assert zhang.order_count == 2 and zhang.total_spent == 9950 + 50
    assert zhang.first_order_at == datetime(2024, 3, 1, 10, 0, tzinfo=CN)
    assert zhang.last_order_at == datetime(2024, 4, 2, 9, 15, tzinfo=CN)
    li = Customer.objects.get(shop=shop, phone_hash=lookup_hash("13900139000"))
    assert (li.province, li.city, li.total_spent, li.order_count) == ("上海市", "上海市", 120000, 1)
    order = ExternalOrder.objects.get(shop=shop, external_id="T2")
    assert (order.source, order.amount, order.items, order.customer_id) == ("taobao", 120000, "面霜", li.pk)
    assert CustomerEvent.objects.filter(kind="imported").count() == 2
    assert job.processed_rows == 3


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(shop):
    content = as_csv(TAOBAO_HEADER, [taobao_row(f"T{i}", f"1380013{i:04d}") for i in range(5)])
    run(shop, content)
    before = list(Customer.objects.order_by("id").values_list("id", "order_count", "total_spent", "last_order_at"))
    again = run(shop, content)
    assert counts(again) == (5, 0, 0, 5, 0)
    after = list(Customer.objects.order_by("id").values_list("id", "order_count", "total_spent", "last_order_at"))
    assert after == before
    assert ExternalOrder.objects.count() == 5 and CustomerEvent.objects.count() == 5


@pytest.mark.django_db
def test_a_later_export_merges_into_existing_customers_and_fills_blanks(shop):
    first = as_csv(TAOBAO_HEADER, [taobao_row("T1", "13800138000", "10", address="地址不详")])
    run(shop, first)
    assert Customer.objects.get(shop=shop).city == ""
    later = as_csv(
        TAOBAO_HEADER,
        [taobao_row("T1", "13800138000", "10"), taobao_row("T9", "13800138000", "20", name="张小三")],
    )
    job = run(shop, later)
    assert counts(job) == (2, 0, 1, 1, 0)
    customer = Customer.objects.get(shop=shop)
    assert (customer.name, customer.city, customer.order_count, customer.total_spent) == ("张三", "杭州市", 2, 3000)
    assert customer.source == "taobao"


def test_jd_export_detected(shop, db):
    header = [
        "订单号",
        "下单帐号",
        "客户姓名",
        "订单金额",
        "应付金额",
        "下单时间",
        "联系电话",
        "客户地址",
        "商品名称",
        "订单状态",
    ]
    rows = [
        [
            "J1",
            "jd_user",
            "王五",
            "120.00",
            "100.00",
            "2024-01-02 03:04:05",
            "13700137000",
            "江苏南京市鼓楼区中山路",
            "牛奶",
            "完成",
        ],
        [
            "J2",
            "jd_user",
            "王五",
            "50",
            "50",
            "2024-02-02 03:04:05",
            "137 0013 7000",
            "江苏南京市鼓楼区中山路",
            "面包",
            "已完成",
        ],
    ]
    job = run(shop, as_csv(header, rows))
    assert job.layout == "jd" and counts(job) == (2, 1, 0, 0, 0) and job.orders_added == 2
    customer = Customer.objects.get(shop=shop)
    assert (customer.source, customer.province, customer.city) == ("jd", "江苏省", "南京市")
    assert customer.total_spent == 15000  # 应付金额 (what was paid) is preferred to 订单金额


def test_pdd_export_detected_with_separate_region_columns(shop, db):
    header = [
        "订单号",
        "商品",
        "用户实付金额",
        "商家实收金额",
        "订单成交时间",
        "收货人",
        "手机",
        "省",
        "市",
        "区",
        "详细地址",
        "订单状态",
    ]
    rows = [
        [
            "P1",
            "纸巾",
            "9.9",
            "9.5",
            "2024-05-06 07:08:09",
            "赵六",
            "13600136000",
            "广东省",
            "深圳市",
            "南山区",
            "科技园",
            "已签收",
        ]
    ]
    job = run(shop, as_csv(header, rows))
    assert job.layout == "pdd" and counts(job) == (1, 1, 0, 0, 0)
    customer = Customer.objects.get(shop=shop)
    assert (customer.source, customer.province, customer.city, customer.total_spent) == ("pdd", "广东省", "深圳市", 990)


def test_generic_layout_uses_the_mapping(shop, db):
    header = ["手机号码", "姓名", "消费金额", "日期", "城市"]
    rows = [
        ["13500135000", "孙七", "88", "2024-06-01", "苏州市"],
        ["13500135000", "孙七", "12", "2024-06-02", "苏州市"],
    ]
    content = as_csv(header, rows)
    with pytest.raises(InvalidInput) as exc:
        run(shop, content)
    assert exc.value.code == "import_layout"
    mapping = {"手机号码": "phone", "姓名": "name", "消费金额": "amount", "日期": "placed_at", "城市": "city"}
    job = run(shop, content, mapping=mapping)
    assert job.layout == "generic" and counts(job) == (2, 1, 0, 0, 0) and job.orders_added == 2
    customer = Customer.objects.get(shop=shop)
    assert (customer.source, customer.city, customer.order_count, customer.total_spent) == (
        "import",
        "苏州市",
        2,
        10000,
    )
    assert counts(run(shop, content, mapping=mapping)) == (2, 0, 0, 2, 0)  # rows without order numbers too


def test_generic_customer_list_without_orders(shop, db):
    job = run(
        shop,
        as_csv(["phone", "name"], [["13500135001", "周八"]]),
        layout="generic",
        mapping={"phone": "phone", "name": "name"},
    )
    assert counts(job) == (1, 1, 0, 0, 0)
    assert Customer.objects.get(shop=shop).order_count == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(shop, db, encoding):
    content = as_csv(TAOBAO_HEADER, [taobao_row("T1", "13800138000", name="欧阳娜娜")], encoding=encoding)
    job = run(shop, content)
    assert job.layout == "taobao" and counts(job) == (1, 1, 0, 0, 0)
    assert Customer.objects.get(shop=shop).name == "欧阳娜娜"


def test_excel_workbook(shop, db):
    book = Workbook()
    sheet = book.active
    sheet.append(TAOBAO_HEADER)
    sheet.append(
        [
            "T1",
            "tb",
            19.9,
            "交易成功",
            datetime(2024, 3, 1, 12, 0),
            None,
            "钱九",
            "北京 北京市 朝阳区 1号",
            13800138000,
            "茶",
        ]
    )
    sheet.append([None] * 10)
    sheet.append(["T2", "tb", "abc", "交易成功", "2024-03-01", None, "钱九", "", "13800138001", "茶"])
    out = io.BytesIO()
    book.save(out)
    job = run(shop, out.getvalue(), filename="orders.xlsx")
    assert counts(job) == (2, 1, 0, 0, 1)
    customer = Customer.objects.get(shop=shop)
    assert (customer.total_spent, customer.city) == (1990, "北京市")
    assert customer.first_order_at == datetime(2024, 3, 1, 12, 0, tzinfo=CN)
    assert job.rejected_rows == [
        {
            "row": 4,
            "reason": "amount_invalid",
            "values": ["T2", "tb", "abc", "交易成功", "2024-03-01", "", "钱九", "", "13800138001", "茶"],
        }
    ]


def test_bad_rows_are_rejected_with_reasons_and_never_lost(shop, db):
    rows = [
        taobao_row("T1", "138****8000"),
        taobao_row("T2", "12345"),
        taobao_row("T3", ""),
        taobao_row("T4", "13800138004", amount="-5"),
        taobao_row("T5", "13800138005", at="yesterday"),
        taobao_row("", "13800138006"),
        taobao_row("T7", "13800138007"),
    ]
    job = run(shop, as_csv(TAOBAO_HEADER, rows))
    assert counts(job) == (7, 1, 0, 0, 6)
    reasons = [(r["row"], r["reason"]) for r in job.rejected_rows]
    assert reasons == [
        (2, "phone_masked"),
        (3, "phone_invalid"),
        (4, "phone_missing"),
        (5, "amount_invalid"),
        (6, "date_invalid"),
        (7, "order_missing"),
    ]
    assert job.imported + job.merged + job.unchanged + job.rejected == job.total_rows


def test_rejected_rows_csv_neutralises_formulas(shop, db):
    rows = [
        taobao_row('=HYPERLINK("http://evil")', "138****8000", name="@SUM(A1)"),
        taobao_row("T2", "13800138002", name="=cmd|' /C calc'!A0", title="+1+1"),
    ]
    job = run(shop, as_csv(TAOBAO_HEADER, rows))
    assert counts(job) == (2, 1, 0, 0, 1)
    customer = Customer.objects.get(shop=shop)
    assert customer.name == "cmd|' /C calc'!A0"
    assert ExternalOrder.objects.get().items == "1+1"
    body = import_rejected_csv(job=job)
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0][2:] == TAOBAO_HEADER
    assert table[1][:2] == ["2", reject_reason_label("phone_masked")]
    assert table[1][2] == '\'=HYPERLINK("http://evil")'
    assert table[1][8] == "'@SUM(A1)"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)


def test_rejected_rows_beyond_the_cap_are_counted(shop, db, monkeypatch):
    monkeypatch.setattr("siyu.customers.importer.REJECTED_KEPT", 2)
    job = run(shop, as_csv(TAOBAO_HEADER, [taobao_row(f"T{i}", "bad") for i in range(5)]))
    assert job.rejected == 5 and len(job.rejected_rows) == 2
    assert b"3" in import_rejected_csv(job=job).splitlines()[-1]


def test_batches_report_progress(shop, db, monkeypatch):
    monkeypatch.setattr("siyu.customers.importer.BATCH_ROWS", 2)
    seen = []
    rows = [taobao_row(f"T{i}", f"1380013{i % 3:04d}") for i in range(5)]
    job = run(shop, as_csv(TAOBAO_HEADER, rows), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert counts(job) == (5, 3, 0, 0, 0) and job.orders_added == 5
    assert sorted(Customer.objects.values_list("order_count", flat=True)) == [1, 2, 2]


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        (b"", "a.csv", "import_empty"),
        ("订单编号,联系手机".encode("utf-16-le"), "a.csv", "import_encoding"),
        (b"\xff\x80\x81abc\n\x80", "a.csv", "import_encoding"),
        (b"PK\x03\x04not really a zip", "a.xlsx", "import_format"),
        (b"\xd0\xcf\x11\xe0old excel", "a.xls", "import_format"),
        ("订单编号,买家会员名,收货人姓名,联系手机\nT1,x,y,13800138000\n".encode(), "a.csv", "import_layout"),
    ],
)
def test_whole_file_problems(shop, db, content, filename, code):
    with pytest.raises(InvalidInput) as exc:
        run(shop, content, filename=filename)
    assert exc.value.code == code
    assert ImportJob.objects.count() == 0


def test_missing_columns_are_named(shop, db):
    header = [h for h in TAOBAO_HEADER if h not in ("联系手机", "订单创建时间", "订单付款时间")]
    with pytest.raises(InvalidInput) as exc:
        run(shop, as_csv(header, [["T1"] * len(header)]), layout="taobao")
    assert exc.value.code == "import_columns"
    assert exc.value.detail["missing"] == ["联系手机 / 联系电话", "订单创建时间 / 订单付款时间 / 付款时间"]


def test_mapping_errors(shop, db):
    content = as_csv(["phone"], [["13800138000"]])
    with pytest.raises(InvalidInput) as exc:
        run(shop, content, mapping={"phone": "telephone"})
    assert exc.value.detail["unknown_fields"] == ["telephone"]
    with pytest.raises(InvalidInput) as exc:
        run(shop, content, mapping={"mobile": "phone"})
    assert exc.value.detail["missing"] == ["mobile"]


def test_detect_layout_reads_the_header(shop, db):
    info = import_detect_layout(filename="x.csv", content=as_csv(TAOBAO_HEADER, [taobao_row("T1", "13800138000")]))
    assert info == {"header": TAOBAO_HEADER, "layout": "taobao", "rows": 1}


def test_staff_need_customers_manage_and_shops_stay_apart(shop, other_shop, db):
    from siyu.accounts.roles import FINANCE

    content = as_csv(TAOBAO_HEADER, [taobao_row("T1", "13800138000")])
    with pytest.raises(PermissionDenied):
        import_run(shop=shop, actor=make_staff(shop, role=FINANCE), filename="a.csv", content=content)
    with pytest.raises(PermissionDenied):
        import_run(shop=shop, actor=make_staff(other_shop), filename="a.csv", content=content)
    boss = make_staff(shop)
    job = import_run(shop=shop, actor=boss, filename="a.csv", content=content)
    assert job.created_by == boss and counts(job) == (1, 1, 0, 0, 0)
    other = import_run(shop=other_shop, actor=None, filename="a.csv", content=content)
    assert counts(other) == (1, 1, 0, 0, 0)  # the same buyer is a separate customer of each shop
    assert Customer.objects.filter(phone_hash=lookup_hash("13800138000")).count() == 2
