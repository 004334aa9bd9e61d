"""API operations for trials (试用): a console router and a storefront router, joined in siyu/api/v1.py.

Console (/api/v1/console/, staff; reading needs promotions.view, changing promotions.manage): list,
create and change a draft, move along draft → open → selecting → running → closed, list the
applicants, select by hand or draw at random (each selected shopper gets a zero-price order at
once; 409 `trial_stock_short` when the stock cannot cover them), the recorded draws (seed, pool,
winners), reports with hide / unhide / publish as a review.

Storefront (/api/v1/storefront/): a trial (no sign-in), apply (once: 409 `trial_applied`; a segment
trial refuses others with 409 `trial_not_eligible`), "my trials", and the report (multipart: text,
overall rating, answers as a JSON object, up to 9 photos).
"""

import json
from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.responses import Status

from siyu.community.trials import applications as apply_services
from siyu.community.trials import reports, selection, selectors, services
from siyu.community.trials.models import Trial, TrialApplication, TrialDraw, TrialReport
from siyu.core.errors import InvalidInput

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, NAME_PATTERN, Id, In, PageIn, page_of
from .uploads import MB, refuse_oversized, upload_description

console_router = Router(tags=["console trials"], auth=staff_auth)
storefront_router = Router(tags=["storefront trials"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=16, pattern="^[A-Za-z0-9_-]+$")]
PHOTO_LIMIT = 8 * MB


# --- schemas -------------------------------------------------------------------------------


class TrialQuestionOut(Schema):
    id: str
    text: str
    kind: str = Field(description="rating (1-5), text, or both.")


class TrialQuestionIn(In):
    text: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    kind: Literal["rating", "text", "both"] = "both"


class TrialOut(Schema):
    id: str
    title: str
    description: str
    product_id: str
    product_name: str
    sku_id: int
    quantity: int = Field(description="Units given, one per selected shopper.")
    apply_starts_at: datetime
    apply_ends_at: datetime
    report_days: int | None = Field(description="Reports due this many days after receipt, or:")
    report_due_on: date | None = Field(description="reports due by the end of this date.")
    questions: list[TrialQuestionOut]
    status: str = Field(description="draft, open, selecting, running or closed.")
    accepting: bool = Field(description="Applications are taken now.")


class TrialConsoleOut(TrialOut):
    segment_id: int | None = Field(description="Only this customer segment may apply; null: anyone.")
    selected_count: int
    application_count: int
    created_at: datetime


class TrialPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[TrialConsoleOut]


class TrialListIn(PageIn):
    status: Literal["", "draft", "open", "selecting", "running", "closed"] = ""


class TrialIn(In):
    title: str = Field(min_length=1, max_length=60, pattern=NAME_PATTERN)
    description: str = Field("", max_length=1000)
    sku: Id
    quantity: int = Field(ge=1, le=services.MAX_QUANTITY)
    apply_starts_at: datetime
    apply_ends_at: datetime
    report_days: int | None = Field(None, ge=1, le=services.MAX_REPORT_DAYS)
    report_due_on: date | None = None
    segment: Id | None = None
    questions: list[TrialQuestionIn] = Field(default_factory=list, max_length=services.MAX_QUESTIONS)


class TrialMoveIn(In):
    to: Literal["open", "selecting", "running", "closed"]
    why: str = Field("", max_length=200)


class TrialApplicationOut(Schema):
    id: str
    shopper: str = Field(description="Masked phone or nickname.")
    reason: str
    status: str = Field(description="applied, selected or not_selected.")
    selected_at: datetime | None
    selected_by: str
    order_id: str | None = Field(description="The zero-price order's public id, once placed.")
    reported: bool
    created_at: datetime


class TrialApplicationPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TrialApplicationOut]


class TrialApplicationListIn(PageIn):
    status: Literal["", "applied", "selected", "not_selected"] = ""


class TrialSelectIn(In):
    applications: list[PublicId] = Field(min_length=1, max_length=selection.MAX_PICK)


class TrialSelectedOut(Schema):
    orders: list[str] = Field(description="Public ids of the zero-price orders placed.")


class TrialDrawIn(In):
    count: int = Field(ge=1, le=selection.MAX_PICK, description="Winners wanted (at most the units left).")


class TrialDrawOut(Schema):
    id: int
    seed: str = Field(description="random.Random(seed).sample(pool, count) gives the winners again.")
    count: int
    pool: list[str]
    winners: list[str]
    drawn_by: str
    drawn_at: datetime


class TrialAnswerOut(Schema):
    id: str
    question: str
    rating: int | None
    text: str


class TrialReportPhotoOut(Schema):
    full: str
    thumb: str


class TrialReportOut(Schema):
    id: str
    trial_id: str
    rating: int
    text: str
    photos: list[TrialReportPhotoOut]
    answers: list[TrialAnswerOut]
    submitted_at: datetime
    due_at: datetime | None
    late: bool
    hidden: bool
    hidden_reason: str
    review_id: str | None = Field(description="The review it was published as, if any.")


class TrialReportPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TrialReportOut]


class TrialReportListIn(PageIn):
    trial: str = Field("", max_length=16, pattern="^[A-Za-z0-9_-]*$", description="A trial's public id.")


class TrialHideIn(In):
    reason: str = Field(min_length=1, max_length=reports.MAX_REASON, pattern=NAME_PATTERN)


class TrialApplyIn(In):
    address_id: PublicId
    reason: str = Field("", max_length=apply_services.MAX_REASON)


class MyTrialOut(Schema):
    application_id: str
    trial: TrialOut
    status: str
    order_id: str | None
    report_due_at: datetime | None
    reported: bool


class TrialReportForm(In):
    rating: int = Field(ge=1, le=5)
    text: str = Field(min_length=1, max_length=reports.MAX_TEXT)
    answers: str = Field("{}", max_length=5000, description='JSON: {"q1": {"rating": 4, "text": "…"}, …}')


# --- shaping -------------------------------------------------------------------------------


def _trial(trial: Trial) -> dict:
    return {
        "id": trial.public_id,
        "title": trial.title,
        "description": trial.description,
        "product_id": trial.product.public_id,
        "product_name": trial.product.name,
        "sku_id": trial.sku_id,
        "quantity": trial.quantity,
        "apply_starts_at": trial.apply_starts_at,
        "apply_ends_at": trial.apply_ends_at,
        "report_days": trial.report_days,
        "report_due_on": trial.report_due_on,
        "questions": trial.questions,
        "status": trial.status,
        "accepting": apply_services.trial_accepting(trial),
    }


def _trial_console(trial: Trial) -> dict:
    return {
        **_trial(trial),
        "segment_id": trial.segment_id,
        "selected_count": trial.selected_count,
        "application_count": trial.application_count,
        "created_at": trial.created_at,
    }


def _application(app: TrialApplication) -> dict:
    return {
        "id": app.public_id,
        "shopper": str(app.shopper),
        "reason": app.reason,
        "status": app.status,
        "selected_at": app.selected_at,
        "selected_by": app.selected_by,
        "order_id": app.order.public_id if app.order else None,
        "reported": hasattr(app, "report"),
        "created_at": app.created_at,
    }


def _draw(draw: TrialDraw) -> dict:
    return {
        "id": draw.pk,
        "seed": draw.seed,
        "count": draw.count,
        "pool": draw.pool,
        "winners": draw.winners,
        "drawn_by": draw.drawn_by,
        "drawn_at": draw.drawn_at,
    }


def _report(report: TrialReport) -> dict:
    return {
        "id": report.public_id,
        "trial_id": report.trial.public_id,
        "rating": report.rating,
        "text": report.text,
        "photos": report.photo_urls,
        "answers": report.answers,
        "submitted_at": report.submitted_at,
        "due_at": report.due_at,
        "late": report.is_late,
        "hidden": report.is_hidden,
        "hidden_reason": report.hidden_reason,
        "review_id": report.review.public_id if report.review else None,
    }


def _trial_data(data: TrialIn) -> dict:
    values = data.dict()
    values["questions"] = [q.dict() for q in data.questions]
    return values


# --- console -------------------------------------------------------------------------------


@console_router.get("/trials", response={200: TrialPageOut, **ERRORS})
def console_trials(request, q: Query[TrialListIn]):
    """Trials, newest first."""
    page = page_of(selectors.trials_for_staff(actor=request.auth, shop=request.shop, status=q.status), q)
    return {**page, "items": [_trial_console(t) for t in page["items"]]}


@console_router.post("/trials", response={201: TrialConsoleOut, **ERRORS})
def console_trial_create(request, data: TrialIn):
    """A draft trial. Give report_days or report_due_on, not both."""
    trial = services.trial_create(actor=request.auth, shop=request.shop, data=_trial_data(data))
    return Status(201, _trial_console(trial))


@console_router.get("/trials/{trial_id}", response={200: TrialConsoleOut, **ERRORS})
def console_trial(request, trial_id: PublicId):
    return _trial_console(services.trial_for_staff(actor=request.auth, shop=request.shop, public_id=trial_id))


@console_router.put("/trials/{trial_id}", response={200: TrialConsoleOut, **ERRORS})
def console_trial_update(request, trial_id: PublicId, data: TrialIn):
    """Change a draft (409 trial_not_draft once it is open)."""
    trial = services.trial_update(actor=request.auth, shop=request.shop, public_id=trial_id, data=_trial_data(data))
    return _trial_console(services.trial_for_staff(actor=request.auth, shop=request.shop, public_id=trial.public_id))


@console_router.post("/trials/{trial_id}/status", response={200: TrialConsoleOut, **ERRORS})
def console_trial_move(request, trial_id: PublicId, data: TrialMoveIn):
    """Move the trial along its table (409 bad_transition otherwise)."""
    services.trial_move(actor=request.auth, shop=request.shop, public_id=trial_id, to=data.to, why=data.why)
    return _trial_console(services.trial_for_staff(actor=request.auth, shop=request.shop, public_id=trial_id))


@console_router.get("/trials/{trial_id}/applications", response={200: TrialApplicationPage, **ERRORS})
def console_trial_applications(request, trial_id: PublicId, q: Query[TrialApplicationListIn]):
    trial = services.trial_for_staff(actor=request.auth, shop=request.shop, public_id=trial_id)
    qs = selectors.applications_for_staff(actor=request.auth, shop=request.shop, trial=trial, status=q.status)
    page = page_of(qs, q)
    return {**page, "items": [_application(a) for a in page["items"]]}


@console_router.post("/trials/{trial_id}/select", response={200: TrialSelectedOut, **ERRORS})
def console_trial_select(request, trial_id: PublicId, data: TrialSelectIn):
    """Select applicants by hand: each gets a zero-price order now (all or none)."""
    orders = selection.applications_select(
        actor=request.auth, shop=request.shop, public_id=trial_id, application_ids=data.applications
    )
    return {"orders": [o.public_id for o in orders]}


@console_router.post("/trials/{trial_id}/draw", response={201: TrialDrawOut, **ERRORS})
def console_trial_draw(request, trial_id: PublicId, data: TrialDrawIn):
    """Draw winners at random among the waiting applicants; the seed and result are recorded."""
    draw = selection.trial_draw(actor=request.auth, shop=request.shop, public_id=trial_id, count=data.count)
    return Status(201, _draw(draw))


@console_router.get("/trials/{trial_id}/draws", response={200: list[TrialDrawOut], **ERRORS})
def console_trial_draws(request, trial_id: PublicId):
    trial = services.trial_for_staff(actor=request.auth, shop=request.shop, public_id=trial_id)
    return [_draw(d) for d in selectors.draws_for_staff(actor=request.auth, shop=request.shop, trial=trial)[:100]]


@console_router.get("/trial-reports", response={200: TrialReportPage, **ERRORS})
def console_trial_reports(request, q: Query[TrialReportListIn]):
    trial = services.trial_for_staff(actor=request.auth, shop=request.shop, public_id=q.trial) if q.trial else None
    qs = reports.reports_for_staff(actor=request.auth, shop=request.shop, trial=trial).select_related("review")
    page = page_of(qs, q)
    return {**page, "items": [_report(r) for r in page["items"]]}


def _report_answer(request, report: TrialReport) -> dict:
    qs = reports.reports_for_staff(actor=request.auth, shop=request.shop).select_related("review")
    return _report(qs.get(pk=report.pk))


@console_router.post("/trial-reports/{report_id}/hide", response={200: TrialReportOut, **ERRORS})
def console_trial_report_hide(request, report_id: PublicId, data: TrialHideIn):
    report = reports.report_hide(actor=request.auth, shop=request.shop, public_id=report_id, reason=data.reason)
    return _report_answer(request, report)


@console_router.post("/trial-reports/{report_id}/unhide", response={200: TrialReportOut, **ERRORS})
def console_trial_report_unhide(request, report_id: PublicId):
    report = reports.report_unhide(actor=request.auth, shop=request.shop, public_id=report_id)
    return _report_answer(request, report)


@console_router.post("/trial-reports/{report_id}/publish", response={200: TrialReportOut, **ERRORS})
def console_trial_report_publish(request, report_id: PublicId):
    """Publish as a review of the trial order's line (409 report_published, report_hidden, review_exists)."""
    report = reports.report_publish_review(actor=request.auth, shop=request.shop, public_id=report_id)
    return _report_answer(request, report)


# --- storefront ----------------------------------------------------------------------------


@storefront_router.get("/trials/{trial_id}", auth=None, response={200: TrialOut, **ERRORS})
def trial(request, trial_id: PublicId):
    """A trial shoppers may see (no sign-in needed)."""
    return _trial(apply_services.trial_for_shopper(shop=request.shop, public_id=trial_id))


@storefront_router.post("/trials/{trial_id}/apply", response={201: MyTrialOut, **ERRORS})
def trial_apply(request, trial_id: PublicId, data: TrialApplyIn):
    """Apply once, with one of your shipping addresses (the trial item goes there if you are selected)."""
    app = apply_services.trial_apply(
        shop=request.shop, shopper=request.auth, public_id=trial_id, address_id=data.address_id, reason=data.reason
    )
    found = selectors.my_applications(shop=request.shop, shopper=request.auth).get(pk=app.pk)
    return Status(201, _mine(found))


def _mine(app: TrialApplication) -> dict:
    received = app.order.received_at if app.order else None
    return {
        "application_id": app.public_id,
        "trial": _trial(app.trial),
        "status": app.status,
        "order_id": app.order.public_id if app.order else None,
        "report_due_at": reports.report_due_at(app.trial, received_at=received) if app.order else None,
        "reported": hasattr(app, "report"),
    }


@storefront_router.get("/my/trials", response={200: list[MyTrialOut], **ERRORS})
def my_trials(request):
    """Your trial applications, newest first (at most 100)."""
    return [_mine(a) for a in selectors.my_applications(shop=request.shop, shopper=request.auth)[:100]]


@storefront_router.post(
    "/my/trials/{application_id}/report",
    response={201: TrialReportOut, **ERRORS},
    description=upload_description(
        f"Your trial report: overall rating, text, answers, up to {reports.MAX_PHOTOS} photos (stored without EXIF).",
        limit=PHOTO_LIMIT,
    ),
)
def trial_report(
    request, application_id: PublicId, form: Form[TrialReportForm], photos: File[list[UploadedFile] | None] = None
):
    reports.application_of_shopper(shop=request.shop, shopper=request.auth, public_id=application_id)  # 404 first
    try:
        answers = json.loads(form.answers or "{}")
    except ValueError:
        raise InvalidInput(detail={"answers": "a JSON object is expected"}) from None
    report = reports.report_submit(
        shop=request.shop,
        shopper=request.auth,
        application_id=application_id,
        rating=form.rating,
        text=form.text,
        answers=answers if isinstance(answers, dict) else {},
        photos=[refuse_oversized(p, limit=PHOTO_LIMIT, field="photos") for p in photos or []],
    )
    return Status(201, _report(TrialReport.objects.select_related("trial", "review").get(pk=report.pk)))
