"""A marketplace export imported from disk is streamed: read batch by batch, never held whole, with
the same result as the same bytes imported from memory. (The peak memory of a million-row import is
measured by bench/customers.py, which prints import_peak_rss_mb.)"""

import pytest

from siyu.core.errors import InvalidInput
from siyu.customers import import_stream
from siyu.customers.importer import import_run
from siyu.customers.models import Customer, ExternalOrder
from tests.customers.test_import import TAOBAO_HEADER, as_csv, taobao_row
from tests.customers.test_import_truth import JD, jd

pytestmark = pytest.mark.django_db


def _write(tmp_path, content: bytes, name="orders.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _figures(shop):
    return sorted(Customer.objects.filter(shop=shop).values_list("phone_hash", "order_count", "total_spent"))


def test_a_file_on_disk_is_read_batch_by_batch(shop, tmp_path, monkeypatch):
    monkeypatch.setattr("siyu.customers.importer.BATCH_ROWS", 2)
    read = []
    real_rows = import_stream._rows

    def counted(*args):
        for row in real_rows(*args):
            read.append(row[0])
            yield row

    monkeypatch.setattr(import_stream, "_rows", counted)
    rows = [taobao_row(f"T{i}", f"1380013{i % 3:04d}") for i in range(7)]
    path = _write(tmp_path, as_csv(TAOBAO_HEADER, rows, encoding="gbk"))
    read_at_progress = []
    job = import_run(
        shop=shop,
        actor=None,
        filename="orders.csv",
        path=path,
        progress=lambda done, total: read_at_progress.append(len(read)),
    )
    # Each batch was written when the row after it had been read, not after the whole file.
    assert read_at_progress == [3, 5, 7, 7]
    assert (job.total_rows, job.processed_rows, job.imported, job.merged, job.orders_added) == (7, 7, 3, 0, 7)
    assert sorted(Customer.objects.values_list("order_count", flat=True)) == [2, 2, 3]


def test_from_disk_or_from_memory_the_same_customers_and_counts(shop, other_shop, tmp_path, monkeypatch):
    monkeypatch.setattr("siyu.customers.importer.BATCH_ROWS", 3)
    rows = [taobao_row(f"T{i}", f"1390013{i % 4:04d}", amount=f"{10 + i}.00") for i in range(10)]
    rows += [taobao_row("BAD", "not a phone"), taobao_row("T0", "13900130000")]  # a bad row, a repeat
    content = as_csv(TAOBAO_HEADER, rows, encoding="gbk")
    from_disk = import_run(shop=shop, actor=None, filename="a.csv", path=_write(tmp_path, content))
    in_memory = import_run(shop=other_shop, actor=None, filename="a.csv", content=content)
    fields = ("total_rows", "processed_rows", "imported", "merged", "orders_added", "unchanged", "rejected")
    assert [getattr(from_disk, f) for f in fields] == [getattr(in_memory, f) for f in fields]
    assert from_disk.rejected_reasons == in_memory.rejected_reasons and from_disk.rejected == 1
    assert _figures(shop) == _figures(other_shop)


def test_customers_of_an_earlier_batch_are_this_run_s_not_merged(shop, tmp_path, monkeypatch):
    """A buyer made in batch 1 who orders again in batch 3 is new to the pool, not a merge; one who
    was there before the run is."""
    monkeypatch.setattr("siyu.customers.importer.BATCH_ROWS", 1)
    import_run(
        shop=shop, actor=None, filename="a.csv", content=as_csv(TAOBAO_HEADER, [taobao_row("OLD", "13700000009")])
    )
    rows = [taobao_row("N1", "13700000001"), taobao_row("N2", "13700000002"), taobao_row("N3", "13700000001")]
    rows.append(taobao_row("O2", "13700000009"))
    job = import_run(shop=shop, actor=None, filename="b.csv", path=_write(tmp_path, as_csv(TAOBAO_HEADER, rows)))
    assert (job.imported, job.merged, job.orders_added, job.unchanged) == (2, 1, 4, 0)


def test_rows_of_one_order_are_not_split_at_a_batch_end(shop, tmp_path, monkeypatch):
    monkeypatch.setattr("siyu.customers.importer.BATCH_ROWS", 2)
    rows = [jd("J1", "牛奶"), jd("J2", "面包"), jd("J2", "鸡蛋"), jd("J2", "酸奶"), jd("J3", "橙汁")]
    path = _write(tmp_path, as_csv(JD, rows))
    job = import_run(shop=shop, actor=None, filename="jd.csv", path=path)
    assert (job.orders_added, job.unchanged, job.rejected) == (3, 0, 0)
    items = ExternalOrder.objects.get(external_id="J2").items
    assert all(title in items for title in ("面包", "鸡蛋", "酸奶"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
def test_encodings_from_disk(shop, tmp_path, encoding):
    content = as_csv(TAOBAO_HEADER, [taobao_row("T1", "13800138000", name="王小二")], encoding=encoding)
    job = import_run(shop=shop, actor=None, filename="a.csv", path=_write(tmp_path, content))
    assert (job.imported, job.orders_added) == (1, 1)
    assert Customer.objects.get(shop=shop).name == "王小二"


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        (b"", "a.csv", "import_empty"),
        ("订单编号,联系手机".encode("utf-16-le"), "a.csv", "import_encoding"),
        (b"\xff\x80\x81abc\n\x80", "a.csv", "import_encoding"),
        (b'a,b\n"' + b"x" * 140_000 + b'"\n', "a.csv", "import_format"),  # a field past csv's limit
        (b"PK\x03\x04not really a zip", "a.xlsx", "import_format"),
        (b"\xd0\xcf\x11\xe0old excel", "a.xls", "import_format"),
    ],
)
def test_whole_file_problems_from_disk(shop, tmp_path, content, filename, code):
    with pytest.raises(InvalidInput) as caught:
        import_run(shop=shop, actor=None, filename=filename, path=_write(tmp_path, content, filename))
    assert caught.value.code == code
