"""ImportJob's status table: every allowed move, a sample of refused ones, and the importer's
paths (at once, in the worker, a missing upload, a crash) moving only along it."""

import pytest

from siyu.core.errors import Conflict
from siyu.core.models import AuditEntry
from siyu.customers.importer import import_job_execute, import_run, import_start
from siyu.customers.models import IMPORT_JOB, ImportJob

from .test_import import TAOBAO_HEADER, as_csv, taobao_row

pytestmark = pytest.mark.django_db

S = ImportJob.Status
ALLOWED = [(S.PENDING, S.RUNNING), (S.RUNNING, S.DONE), (S.RUNNING, S.FAILED)]
REFUSED = [
    (S.PENDING, S.DONE),
    (S.PENDING, S.FAILED),
    (S.RUNNING, S.PENDING),
    (S.DONE, S.RUNNING),
    (S.DONE, S.FAILED),
    (S.FAILED, S.RUNNING),
    (S.FAILED, S.DONE),
]


def job_in(shop, status):
    return ImportJob.objects.create(shop=shop, filename="a.csv", layout="taobao", status=status)


def test_the_table_is_exactly_the_allowed_moves():
    table = {(a, b) for a in S.values for b in S.values if IMPORT_JOB.can(a, b)}
    assert table == set(ALLOWED)


@pytest.mark.parametrize(("before", "after"), ALLOWED)
def test_every_allowed_move_is_made_and_audited(shop, owner, before, after):
    job = job_in(shop, before)
    IMPORT_JOB.move(job, to=after, actor=owner, why="test")
    job.refresh_from_db()
    assert job.status == after
    entry = AuditEntry.objects.get(action=f"import_job.{after}")
    assert entry.data == {"from": before, "to": after, "why": "test"}


@pytest.mark.parametrize(("before", "after"), REFUSED)
def test_refused_moves_leave_the_job_alone(shop, owner, before, after):
    job = job_in(shop, before)
    with pytest.raises(Conflict) as exc:
        IMPORT_JOB.move(job, to=after, actor=owner)
    assert exc.value.code == "bad_transition"
    assert ImportJob.objects.get(pk=job.pk).status == before
    with pytest.raises(Conflict):
        IMPORT_JOB.claim(ImportJob.objects.filter(pk=job.pk), current=before, to=after)
    assert ImportJob.objects.get(pk=job.pk).status == before


def test_import_at_once_runs_then_finishes(shop, owner):
    job = import_run(
        shop=shop, actor=owner, filename="a.csv", content=as_csv(TAOBAO_HEADER, [taobao_row("T1", "13800138000")])
    )
    assert job.status == S.DONE and job.finished_at is not None
    moves = list(
        AuditEntry.objects.filter(action__startswith="import_job.").order_by("id").values_list("data", flat=True)
    )
    assert [(m["from"], m["to"]) for m in moves] == [(S.PENDING, S.RUNNING), (S.RUNNING, S.DONE)]


def test_a_crash_fails_the_running_job(shop, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("siyu.customers.importer.customers_refresh_figures", boom)
    with pytest.raises(RuntimeError):
        import_run(
            shop=shop, actor=None, filename="a.csv", content=as_csv(TAOBAO_HEADER, [taobao_row("T1", "13800138000")])
        )
    job = ImportJob.objects.get(shop=shop)
    assert job.status == S.FAILED and job.finished_at is not None


def test_the_worker_claims_a_job_once_and_a_missing_upload_fails_it(shop, owner, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    content = as_csv(TAOBAO_HEADER, [taobao_row("T1", "13800138000")])
    job = import_start(shop=shop, actor=owner, filename="a.csv", content=content)  # not run: no commit here
    assert job.status == S.PENDING
    done = import_job_execute(job_id=job.pk)
    assert done.status == S.DONE and done.imported == 1
    again = import_job_execute(job_id=job.pk)  # a task delivered twice: the claim finds nothing pending
    assert again.status == S.DONE and again.imported == 1

    lost = import_start(shop=shop, actor=owner, filename="b.csv", content=content)
    (tmp_path / "imports" / f"{shop.pk}-{lost.pk}.upload").unlink()
    failed = import_job_execute(job_id=lost.pk)
    assert failed.status == S.FAILED and failed.rejected_rows[0]["reason"] == "file_missing"
    assert ImportJob.objects.get(pk=lost.pk).status == S.FAILED
