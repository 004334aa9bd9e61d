"""Trial reports: the selected shopper's report (overall rating, text, up to 9 photos, an answer per
seller question), judged late or not against the deadline; the seller hides, shows and publishes
them; reminders for late reports.

Deadline: a fixed date (end of that day, shop time) or N days after the shopper received the goods
(none before receipt). A report is accepted after the deadline too, marked late.

Publishing: as a review of the trial order's line (siyu.community.reviews.services.review_from_trial,
same rules as any review: once per line, after receipt), the report keeping the link; as a content
library post through `report_as_post`, a plain dict the content library can take (it lives above
nothing here, and is not imported: the hook is for whoever wires the two together).

Reminders: a daily task finds selected shoppers whose report is overdue and gives the shop's staff a
follow-up on the customer (siyu.customers FollowUp, kind "trial_report"), once per application. No
message is sent from here: channels live in a higher layer.
"""

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.community.reviews.photos import MAX_PHOTOS, photos_discard, photos_process, photos_store
from siyu.community.reviews.services import review_from_trial
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id as new_public_id
from siyu.core.permissions import require
from siyu.core.settings_rows import whole_number
from siyu.customers.models import FollowUp
from siyu.customers.stats import customer_for_shopper
from siyu.shops.models import Shop

from .models import ApplicationStatus, Trial, TrialApplication, TrialReport, TrialStatus
from .services import MANAGE, VIEW

MAX_TEXT = 500
MAX_ANSWER = 300
MAX_REASON = 200
FOLLOW_UP_KIND = "trial_report"

__all__ = ["MAX_PHOTOS", "report_due_at"]


def report_due_at(trial: Trial, *, received_at: datetime | None) -> datetime | None:
    """When the report is due: the end of the fixed date, or `report_days` after receipt."""
    if trial.report_due_on is not None:
        return timezone.make_aware(datetime.combine(trial.report_due_on + timedelta(days=1), time.min))
    if trial.report_days and received_at is not None:
        return received_at + timedelta(days=trial.report_days)
    return None


def _rating(value, *, field: str) -> int:
    rating = whole_number(value)
    if rating is None or not 1 <= rating <= 5:
        raise InvalidInput(_("Give 1 to 5 stars."), detail={field: "1 to 5"})
    return rating


def answers_clean(trial: Trial, answers) -> list[dict]:
    """One answer per question: a rating (1-5) where the question asks one, text where it asks
    text (optional, up to 300 characters). `answers` maps question id to {"rating", "text"}."""
    answers = answers if isinstance(answers, dict) else {}
    cleaned = []
    for question in trial.questions:
        given = answers.get(question["id"]) or {}
        given = given if isinstance(given, dict) else {}
        rating = None
        if question["kind"] in ("rating", "both"):
            rating = _rating(given.get("rating"), field=question["id"])
        text = ""
        if question["kind"] in ("text", "both"):
            text = str(given.get("text") or "").strip()
            if len(text) > MAX_ANSWER:
                raise InvalidInput(_("The text is too long."), detail={question["id"]: f"at most {MAX_ANSWER}"})
        cleaned.append({"id": question["id"], "question": question["text"], "rating": rating, "text": text})
    return cleaned


def application_of_shopper(*, shop: Shop, shopper: Shopper, public_id: str) -> TrialApplication:
    application = (
        TrialApplication.objects.filter(shop=shop, shopper=shopper, public_id=str(public_id)[:16])
        .select_related("trial", "trial__product", "order")
        .first()
    )
    if application is None:
        raise NotFound(detail={"application": str(public_id)[:16]})
    return application


def report_submit(
    *,
    shop: Shop,
    shopper: Shopper,
    application_id: str,
    rating,
    text: str,
    answers=None,
    photos: list | None = None,
    now: datetime | None = None,
) -> TrialReport:
    """The selected shopper's one report, once the trial item has arrived. 409 trial_not_received
    before receipt, report_exists for a second one; a late report is kept and marked late."""
    application = application_of_shopper(shop=shop, shopper=shopper, public_id=application_id)
    trial = application.trial
    if application.status != ApplicationStatus.SELECTED or application.order is None:
        raise Conflict(_("Only selected shoppers report on a trial."), code="trial_not_selected")
    if application.order.received_at is None:
        raise Conflict(_("Confirm receipt of the trial item first."), code="trial_not_received")
    rating = _rating(rating, field="rating")
    text = str(text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(_("Write your report (up to 500 characters)."), detail={"text": f"1 to {MAX_TEXT}"})
    cleaned = answers_clean(trial, answers)
    stored = photos_store(photos_process(photos))
    now = now or timezone.now()
    due = report_due_at(trial, received_at=application.order.received_at)
    try:
        with transaction.atomic():
            return TrialReport.objects.create(
                shop=shop,
                public_id=new_public_id(16),
                trial=trial,
                application=application,
                rating=rating,
                text=text,
                photos=stored,
                answers=cleaned,
                submitted_at=now,
                due_at=due,
                is_late=due is not None and now > due,
            )
    except IntegrityError:
        photos_discard(stored)
        raise Conflict(_("You have already sent your report."), code="report_exists") from None


# --- the seller --------------------------------------------------------------------------------


def _locked(*, actor, shop: Shop, public_id: str) -> TrialReport:
    require(actor, MANAGE, shop_id=shop.pk)
    report = (
        TrialReport.objects.select_for_update(of=("self",))
        .filter(shop=shop, public_id=str(public_id)[:16])
        .select_related("application", "application__order", "application__shopper", "trial")
        .first()
    )
    if report is None:
        raise NotFound(detail={"report": str(public_id)[:16]})
    return report


def report_hide(*, actor, shop: Shop, public_id: str, reason: str) -> TrialReport:
    reason = str(reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(detail={"reason": f"1 to {MAX_REASON} characters"})
    with transaction.atomic():
        report = _locked(actor=actor, shop=shop, public_id=public_id)
        report.is_hidden, report.hidden_reason = True, reason
        report.save(update_fields=["is_hidden", "hidden_reason"])
        audit_record(shop_id=shop.pk, actor=actor, action="trial_report.hide", target=report, data={"reason": reason})
    return report


def report_unhide(*, actor, shop: Shop, public_id: str) -> TrialReport:
    with transaction.atomic():
        report = _locked(actor=actor, shop=shop, public_id=public_id)
        report.is_hidden = False
        report.save(update_fields=["is_hidden"])
        audit_record(shop_id=shop.pk, actor=actor, action="trial_report.unhide", target=report)
    return report


def report_publish_review(*, actor, shop: Shop, public_id: str, now=None) -> TrialReport:
    """Publish the report as a review of the trial order's line (its rating, text and photos)."""
    with transaction.atomic():
        report = _locked(actor=actor, shop=shop, public_id=public_id)
        if report.is_hidden:
            raise Conflict(_("Show the report again before publishing it."), code="report_hidden")
        if report.review_id is not None:
            raise Conflict(_("This report is already published as a review."), code="report_published")
        order = report.application.order
        line = order.lines.order_by("pk").first() if order else None
        if line is None:
            raise Conflict(_("This report has no trial order to review."), code="report_no_order")
        review = review_from_trial(
            shop=shop,
            shopper=report.application.shopper,
            line_id=line.pk,
            rating=report.rating,
            text=report.text,
            photos=report.photos,
        )
        report.review, report.published_at = review, now or timezone.now()
        report.save(update_fields=["review", "published_at"])
        audit_record(
            shop_id=shop.pk,
            actor=actor,
            action="trial_report.publish",
            target=report,
            data={"review": review.public_id},
        )
    return report


def report_as_post(report: TrialReport) -> dict:
    """The hook for the content library (素材库): what a post made from this report would hold.
    Not wired here (the content library is built separately and must not be a dependency)."""
    return {
        "text": report.text,
        "photos": list(report.photos),
        "product": report.trial.product_id,
        "source": f"trial_report:{report.public_id}",
    }


# --- reminders ---------------------------------------------------------------------------------


def _overdue(trial: Trial, now: datetime):
    waiting = TrialApplication.objects.filter(
        trial=trial,
        status=ApplicationStatus.SELECTED,
        order__isnull=False,
        order__received_at__isnull=False,
        report__isnull=True,
        reminded_at__isnull=True,
    )
    if trial.report_due_on is not None:
        due = report_due_at(trial, received_at=None)
        return waiting if due is not None and due < now else waiting.none()
    return waiting.filter(order__received_at__lt=now - timedelta(days=trial.report_days or 0))


def report_reminders_run(*, shop: Shop, now: datetime | None = None, limit: int = 500) -> int:
    """A staff follow-up for each overdue report, once per application (claimed by a conditional
    UPDATE on `reminded_at`). Returns how many were made."""
    now = now or timezone.now()
    made = 0
    for trial in Trial.objects.filter(shop=shop, status=TrialStatus.RUNNING).order_by("pk"):
        due = list(_overdue(trial, now).select_related("shopper").order_by("pk")[:limit])
        for application in due:
            with transaction.atomic():
                if not TrialApplication.objects.filter(pk=application.pk, reminded_at__isnull=True).update(
                    reminded_at=now
                ):
                    continue
                customer = customer_for_shopper(shop=shop, shopper=application.shopper)
                FollowUp.objects.create(
                    shop=shop,
                    customer=customer,
                    assignee_id=customer.assigned_to_id,
                    title=gettext_now("Trial report overdue: %(title)s") % {"title": trial.title},
                    due_on=timezone.localdate(now),
                    kind=FOLLOW_UP_KIND,
                    product_id=trial.product_id,
                )
                made += 1
    return made


def reports_for_staff(*, actor, shop: Shop, trial: Trial | None = None):
    require(actor, VIEW, shop_id=shop.pk)
    qs = TrialReport.objects.filter(shop=shop).select_related("trial", "application__shopper")
    return qs.filter(trial=trial) if trial is not None else qs
