"""Setting up a trial and moving it along its status table.

draft → open (applications taken between the application dates) → selecting (applications closed;
the seller selects by hand or draws) → running (selection over: the rest are told "not selected";
reports are due) → closed. Any state but closed may also be closed early. Every move is audited
(siyu.core.states). A trial is edited only as a draft: what shoppers applied to does not change.

Locks: none beyond the conditional UPDATEs each function says.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import ProductStatus, Sku
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id as new_public_id
from siyu.core.permissions import require
from siyu.core.settings_rows import whole_number
from siyu.core.states import StateMachine
from siyu.customers.models import Segment
from siyu.shops.models import Shop

from .flags import trial_flags_forget
from .models import ApplicationStatus, Trial, TrialApplication, TrialStatus

S = TrialStatus
VIEW, MANAGE = "promotions.view", "promotions.manage"
MAX_QUANTITY = 10_000
MAX_REPORT_DAYS = 365
MAX_QUESTIONS = 10
QUESTION_KINDS = ("rating", "text", "both")

TRIAL_STATES = StateMachine(
    name="trial",
    table={
        S.DRAFT: {S.OPEN, S.CLOSED},
        S.OPEN: {S.SELECTING, S.CLOSED},
        S.SELECTING: {S.RUNNING, S.CLOSED},
        S.RUNNING: {S.CLOSED},
        S.CLOSED: set(),
    },
    labels=dict(TrialStatus.choices),
)


def trial_for_staff(*, actor, shop: Shop, public_id: str) -> Trial:
    require(actor, VIEW, shop_id=shop.pk)
    trial = (
        Trial.objects.filter(shop=shop, public_id=str(public_id)[:16])
        .select_related("product", "sku", "segment")
        .first()
    )
    if trial is None:
        raise NotFound(detail={"trial": str(public_id)[:16]})
    return trial


def _text(value, *, field: str, limit: int, required: bool = False) -> str:
    text = str(value if value is not None else "").strip()
    if len(text) > limit:
        raise InvalidInput(_("The text is too long."), detail={field: f"at most {limit} characters"})
    if required and not text:
        raise InvalidInput(detail={field: "required"})
    return text


def questions_clean(value) -> list[dict]:
    """Seller-defined report questions: a list of {"text", "kind"} (kind: rating, text or both;
    both by default), or text with one question per line. Each gets a stable id (q1, q2, …)."""
    if isinstance(value, str):
        value = [{"text": line} for line in value.splitlines() if line.strip()]
    if not isinstance(value, list | tuple):
        raise InvalidInput(detail={"questions": "a list of questions is expected"})
    if len(value) > MAX_QUESTIONS:
        raise InvalidInput(detail={"questions": f"at most {MAX_QUESTIONS}"})
    found = []
    for n, item in enumerate(value, start=1):
        item = item if isinstance(item, dict) else {"text": item}
        kind = str(item.get("kind") or "both")
        if kind not in QUESTION_KINDS:
            raise InvalidInput(detail={"questions": "kind is rating, text or both"})
        found.append(
            {"id": f"q{n}", "text": _text(item.get("text"), field="questions", limit=100, required=True), "kind": kind}
        )
    return found


def _when(value, *, field: str) -> datetime:
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value.strip()) if value.strip() else None
    if not isinstance(value, datetime):
        raise InvalidInput(detail={field: "a date and time is expected"})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _clean(*, shop: Shop, data: dict) -> dict:
    """Every field of a trial checked: malformed fields are 400 (InvalidInput, listing them all); a
    variant or segment that is not the shop's is 404; settings that clash with each other (both or
    neither deadline, applications closing before they open) are 409 `trial_settings`."""
    errors: dict = {}
    cleaned: dict = {}
    try:
        cleaned["title"] = _text(data.get("title"), field="title", limit=60, required=True)
        cleaned["description"] = _text(data.get("description"), field="description", limit=1000)
        cleaned["questions"] = questions_clean(data.get("questions") or [])
        cleaned["apply_starts_at"] = _when(data.get("apply_starts_at"), field="apply_starts_at")
        cleaned["apply_ends_at"] = _when(data.get("apply_ends_at"), field="apply_ends_at")
    except InvalidInput as exc:
        errors.update(exc.detail)
    quantity = whole_number(data.get("quantity"))
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = f"1 to {MAX_QUANTITY}"
    cleaned["quantity"] = quantity
    _deadline(data, cleaned, errors)
    if errors:
        raise InvalidInput(detail=errors)
    cleaned["sku"] = (
        Sku.objects.filter(shop=shop, pk=whole_number(data.get("sku")) or 0).select_related("product").first()
    )
    if cleaned["sku"] is None:
        raise NotFound(_("Choose a variant of this shop."), detail={"sku": "not found"})
    cleaned["segment"] = None
    if data.get("segment"):
        cleaned["segment"] = Segment.objects.filter(shop=shop, pk=whole_number(data.get("segment")) or 0).first()
        if cleaned["segment"] is None:
            raise NotFound(detail={"segment": "not found"})
    clashes = {}
    if (cleaned["report_days"] is None) == (cleaned["report_due_on"] is None):
        clashes["report_days"] = "give either days after receipt or a date"
    if cleaned["apply_ends_at"] <= cleaned["apply_starts_at"]:
        clashes["apply_ends_at"] = "after the start"
    if clashes:
        raise Conflict(_("Some settings do not fit together."), code="trial_settings", detail=clashes)
    return cleaned


def _deadline(data: dict, cleaned: dict, errors: dict) -> None:
    """Reports are due a number of days after receipt, or by a fixed date (one of the two: checked
    by the caller)."""
    days = data.get("report_days")
    due_on = data.get("report_due_on")
    cleaned["report_days"] = cleaned["report_due_on"] = None
    if days not in (None, ""):
        number = whole_number(days)
        if number is None or not 1 <= number <= MAX_REPORT_DAYS:
            errors["report_days"] = f"1 to {MAX_REPORT_DAYS}"
        cleaned["report_days"] = number
    if due_on not in (None, ""):
        from django.utils.dateparse import parse_date

        parsed = due_on if hasattr(due_on, "isoformat") and not isinstance(due_on, str) else parse_date(str(due_on))
        if parsed is None:
            errors["report_due_on"] = "a date is expected"
        cleaned["report_due_on"] = parsed


def trial_create(*, actor, shop: Shop, data: dict) -> Trial:
    """A draft trial."""
    require(actor, MANAGE, shop_id=shop.pk)
    cleaned = _clean(shop=shop, data=data)
    with transaction.atomic():
        trial = Trial.objects.create(shop=shop, public_id=new_public_id(12), product=cleaned["sku"].product, **cleaned)
        audit_record(shop_id=shop.pk, actor=actor, action="trial.create", target=trial, data={"title": trial.title})
    return trial


def trial_update(*, actor, shop: Shop, public_id: str, data: dict) -> Trial:
    """Change a draft (every field; the others are refused: shoppers applied to what they saw)."""
    require(actor, MANAGE, shop_id=shop.pk)
    cleaned = _clean(shop=shop, data=data)
    with transaction.atomic():
        trial = Trial.objects.select_for_update().filter(shop=shop, public_id=str(public_id)[:16]).first()
        if trial is None:
            raise NotFound(detail={"trial": str(public_id)[:16]})
        if trial.status != S.DRAFT:
            raise Conflict(_("Only a draft trial can be changed."), code="trial_not_draft")
        for key, value in cleaned.items():
            setattr(trial, key, value)
        trial.product = cleaned["sku"].product
        trial.save()
        audit_record(shop_id=shop.pk, actor=actor, action="trial.update", target=trial, data={"title": trial.title})
    return trial


def _ready_to_open(trial: Trial) -> None:
    if not trial.sku.is_active or trial.product.status != ProductStatus.ON_SALE:
        raise Conflict(_("The trial's item is not for sale."), code="trial_item_unavailable")


def trial_move(*, actor, shop: Shop, public_id: str, to: str, why: str = "") -> Trial:
    """Open, close applications (selecting), start (running) or close a trial. Moving to running
    or closed tells every application still waiting that it was not selected (one UPDATE).
    Locks: the trial row."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        trial = (
            Trial.objects.select_for_update()
            .filter(shop=shop, public_id=str(public_id)[:16])
            .select_related("sku", "product")
            .first()
        )
        if trial is None:
            raise NotFound(detail={"trial": str(public_id)[:16]})
        TRIAL_STATES.check(trial.status, to)
        if to == S.OPEN:
            _ready_to_open(trial)
        TRIAL_STATES.move(trial, to=to, actor=actor, why=why)
        if to in (S.RUNNING, S.CLOSED):
            TrialApplication.objects.filter(trial=trial, status=ApplicationStatus.APPLIED).update(
                status=ApplicationStatus.NOT_SELECTED
            )
        trial_flags_forget(shop_id=shop.pk)
    return trial
