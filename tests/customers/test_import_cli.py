"""The `siyu import-customers` command and the worker path of console uploads."""

import io

import pytest
from django.core.management import CommandError, call_command

from siyu.customers.importer import import_start
from siyu.customers.models import Customer, ImportJob

from .test_import import TAOBAO_HEADER, as_csv, counts, taobao_row


@pytest.fixture
def export_file(tmp_path):
    path = tmp_path / "淘宝订单.csv"
    rows = [taobao_row(f"T{i}", f"1380013{i % 4:04d}") for i in range(6)] + [taobao_row("T99", "138****0000")]
    path.write_bytes(as_csv(TAOBAO_HEADER, rows, encoding="gbk"))
    return path


def test_command_imports_with_a_progress_bar_and_reports(shop, export_file, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    rejected = tmp_path / "rejected.csv"
    call_command("import_customers", str(export_file), "--rejected", str(rejected), stdout=out, stderr=err)
    report = out.getvalue()
    assert "imported:  4" in report and "merged:    0" in report and "rejected:  1" in report
    assert "orders:    6" in report
    assert "\n         1  " in report  # the rejected rows tallied by reason
    assert "7/7" in err.getvalue() and "100%" in err.getvalue()  # the tqdm bar reached the end
    assert "138****0000" in rejected.read_bytes().decode("utf-8-sig")
    assert Customer.objects.filter(shop=shop).count() == 4

    out = io.StringIO()
    call_command("import_customers", str(export_file), "--shop", shop.slug, "--no-progress", stdout=out)
    assert "unchanged: 6" in out.getvalue() and "imported:  0" in out.getvalue()


def test_command_generic_mapping_and_errors(shop, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(as_csv(["手机", "名字"], [["13800138000", "甲"], ["13800138001", "乙"]]))
    out = io.StringIO()
    call_command(
        "import_customers",
        str(path),
        "--layout",
        "generic",
        "--map",
        "手机=phone",
        "--map",
        "名字=name",
        "--no-progress",
        stdout=out,
    )
    assert "imported:  2" in out.getvalue()
    with pytest.raises(CommandError, match="import_layout"):
        call_command("import_customers", str(path), "--no-progress", stdout=io.StringIO())
    with pytest.raises(CommandError, match="COLUMN=FIELD"):
        call_command("import_customers", str(path), "--map", "phone", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no shop"):
        call_command("import_customers", str(path), "--shop", "nope", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_customers", str(tmp_path / "missing.csv"), stdout=io.StringIO())


def test_console_upload_runs_in_the_worker(shop, owner, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.DATA_DIR = tmp_path
    content = as_csv(TAOBAO_HEADER, [taobao_row("T1", "13800138000"), taobao_row("T2", "bad")])
    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(shop=shop, actor=owner, filename="a.csv", content=content)
    job.refresh_from_db()  # the test queue runs tasks at once
    assert job.status == "done" and counts(job) == (2, 1, 0, 0, 1)
    assert job.processed_rows == 2 and job.created_by == owner
    assert not list((tmp_path / "imports").iterdir())  # the upload is not kept after the run


def test_console_upload_refuses_a_bad_file_at_once(shop, owner, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    from siyu.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        import_start(shop=shop, actor=owner, filename="a.csv", content=b"just,a,header\n1,2,3\n")
    assert not ImportJob.objects.exists()
