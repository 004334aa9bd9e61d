"""Importing past buyers from other platforms: upload, the report of a job, its rejected rows.

A small upload is imported in the request, so the report is there at once. A big one is checked
in the request (a wrong file is still answered on the form) and imported by the worker; its page
shows the progress from ImportJob's counters and refreshes itself until the job is finished.
"""

from django.http import HttpResponse
from django.shortcuts import redirect

from siyu.core.errors import DomainError, PermissionDenied
from siyu.customers import importer
from siyu.customers.import_values import reject_reason_label
from siyu.customers.layouts import LAYOUTS
from siyu.customers.models import ImportJob
from siyu.customers.selectors import import_job_for_staff, import_jobs_for_staff

from ..decorators import staff_required
from ..rendering import detail_text, error_status, page
from .customers_forms import ImportForm
from .customers_labels import IMPORT_STATUS_LABELS, LAYOUT_LABELS, label

EDIT = "customers.manage"
RECENT_JOBS = 20
BACKGROUND_BYTES = 1024 * 1024  # about 10,000 rows of an order export
SHOWN_REJECTS = 50


def _import_page(request, *, form=None, status: int = 200):
    jobs = [
        {"job": j, "status": label(IMPORT_STATUS_LABELS, j.status), "layout": label(LAYOUT_LABELS, j.layout)}
        for j in import_jobs_for_staff(shop=request.shop)[:RECENT_JOBS]
    ]
    context = {
        "form": form or ImportForm(),
        "jobs": jobs,
        "layouts": [
            (key, label(LAYOUT_LABELS, key), sorted(layout.known_headers())) for key, layout in LAYOUTS.items()
        ],
    }
    return page(request, "console/import.html", context, status=status)


def _file_error(form: ImportForm, exc: DomainError) -> None:
    """Whole-file problems (encoding, missing columns, unknown layout) go on top of the form."""
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    shown = {k: v for k, v in detail.items() if k in ("missing", "unknown_fields", "header")}
    message = str(exc.message)
    if shown:
        message = f"{message} ({detail_text(shown)})"
    form.add_error(None, message)


@staff_required(perm="customers.view")
def customer_import(request):
    if request.method != "POST":
        return _import_page(request)
    if not request.staff.can(EDIT):
        raise PermissionDenied(detail={"permission": EDIT})
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, form=form, status=400)
    upload = form.cleaned_data["file"]
    content = upload.read()
    run = importer.import_start if len(content) > BACKGROUND_BYTES else importer.import_run
    try:
        job = run(
            shop=request.shop,
            actor=request.staff,
            filename=upload.name,
            content=content,
            layout=form.chosen_layout(),
            mapping=form.mapping(),
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        _file_error(form, exc)
        return _import_page(request, form=form, status=error_status(exc))
    return redirect("console:import_job", job_id=job.pk)


@staff_required(perm="customers.view")
def import_job(request, job_id: int):
    job = import_job_for_staff(shop=request.shop, job_id=job_id)
    rejects = [
        {
            "row": r.get("row"),
            "reason": reject_reason_label(r.get("reason", ""), r.get("detail", "")),
            "values": r.get("values", []),
        }
        for r in (job.rejected_rows or [])[:SHOWN_REJECTS]
    ]
    finished = job.status == ImportJob.Status.DONE
    percent = job.processed_rows * 100 // job.total_rows if job.total_rows else (100 if finished else 0)
    context = {
        "job": job,
        "status": label(IMPORT_STATUS_LABELS, job.status),
        "layout": label(LAYOUT_LABELS, job.layout),
        "running": job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING),
        "percent": percent,
        "rejects": rejects,
        "more_rejects": max(len(job.rejected_rows or []) - SHOWN_REJECTS, 0),
        "header": (job.mapping or {}).get("header") or [],
    }
    return page(request, "console/import_job.html", context)


@staff_required(perm="customers.view")
def import_rejected(request, job_id: int):
    job = import_job_for_staff(shop=request.shop, job_id=job_id)
    if not job.rejected:
        return redirect("console:import_job", job_id=job.pk)
    response = HttpResponse(importer.import_rejected_csv(job=job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
