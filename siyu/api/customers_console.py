"""Console endpoints for the customer pool: customers (list, detail, reveal, tags, notes,
follow-ups), tags, segments (preview, save, evaluate), imports, social accounts and the RFM
distribution. Staff of this shop only; the services check each permission (changes need
customers.manage)."""

import json
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from ninja import File, Form, Query, Router, UploadedFile
from ninja.responses import Status

from siyu.core.errors import InvalidInput
from siyu.core.permissions import require
from siyu.customers import followups, importer, privacy, rfm, segments, social, tags
from siyu.customers.selectors import (
    customer_for_staff,
    customer_history,
    customer_timeline,
    customers_for_staff,
    followup_for_staff,
    import_job_for_staff,
    import_jobs_for_staff,
    segment_for_staff,
    segments_for_staff,
    social_account_for_staff,
    social_accounts_for_staff,
    tags_for_staff,
)

from .auth import staff_auth
from .customers_console_schemas import (
    CountOut,
    CustomerDetailOut,
    CustomerFiltersIn,
    CustomerPage,
    FollowUpIn,
    FollowUpOut,
    ImportForm,
    ImportJobDetailOut,
    ImportJobOut,
    NoteIn,
    NoteOut,
    RevealOut,
    RfmDistributionOut,
    SegmentIn,
    SegmentOut,
    SegmentRulesIn,
    SocialAccountIn,
    SocialAccountOut,
    SocialAccountPatchIn,
    SocialAccountsOut,
    SocialLinkIn,
    SocialLinkOut,
    TagAddIn,
    TagIn,
    TagLinkOut,
    TagOut,
)
from .schemas import ERRORS, Id, page_of
from .uploads import refuse_oversized

router = Router(tags=["console customers"], auth=staff_auth)

EDIT = "customers.manage"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
RECENT_JOBS = 50


def _day_start(day: date | None, *, plus_days: int = 0) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day + timedelta(days=plus_days), time.min))


def _filters(f: CustomerFiltersIn) -> dict:
    return {
        "q": f.q,
        "tag": f.tag,
        "lifecycle": f.lifecycle,
        "source": f.source,
        "level": f.level,
        "segment": f.segment,
        "spend_min": f.spend_min_fen,
        "spend_max": f.spend_max_fen,
        "last_order_after": _day_start(f.last_order_after),
        "last_order_before": _day_start(f.last_order_before, plus_days=1),
    }


def _customer(request, public_id: str):
    return customer_for_staff(shop=request.shop, public_id=public_id)


# --- customers ---------------------------------------------------------------------------
# Literal paths come before /customers/{public_id}, which would otherwise take them.


@router.get("/customers", response={200: CustomerPage, **ERRORS})
def customers(request, filters: Query[CustomerFiltersIn]):
    """The pool, newest first. Phones are masked; search a full phone number to find one person."""
    return page_of(customers_for_staff(shop=request.shop, filters=_filters(filters)), filters)


@router.get("/customers/rfm", response={200: RfmDistributionOut, **ERRORS})
def customers_rfm(request):
    """How many customers are in each lifecycle stage and each R, F and M score (0: no orders)."""
    return rfm.rfm_distribution(shop=request.shop)


@router.get("/customers/imports", response={200: list[ImportJobOut], **ERRORS})
def imports(request):
    return list(import_jobs_for_staff(shop=request.shop)[:RECENT_JOBS])


@router.post("/customers/imports", response={201: ImportJobDetailOut, **ERRORS})
def import_upload(request, file: File[UploadedFile], form: Form[ImportForm]):
    """Import an order export (CSV or .xlsx) now and return its report. Bad rows never stop it;
    they come back in rejected_rows with their reasons. Importing the same file again changes nothing.
    A file over 20 MB is refused with 413 (code too_large)."""
    refuse_oversized(file, limit=MAX_UPLOAD_BYTES, field="file")
    mapping = None
    if form.mapping:
        try:
            mapping = json.loads(form.mapping)
        except ValueError:
            raise InvalidInput(detail={"mapping": "not valid JSON"}) from None
        if not isinstance(mapping, dict):
            raise InvalidInput(detail={"mapping": "expected an object"})
    job = importer.import_run(
        shop=request.shop,
        actor=request.auth,
        filename=file.name or "",
        content=file.read(),
        layout=form.layout or None,
        mapping=mapping,
    )
    return Status(201, job)


@router.get("/customers/imports/{job_id}", response={200: ImportJobDetailOut, **ERRORS})
def import_detail(request, job_id: Id):
    return import_job_for_staff(shop=request.shop, job_id=job_id)


@router.get("/customers/{public_id}", response={200: CustomerDetailOut, **ERRORS})
def customer_detail(request, public_id: str):
    """Profile, tags, points, own and imported orders, notes, follow-ups, social links, timeline."""
    customer = _customer(request, public_id)
    customer.history = customer_history(shop=request.shop, customer=customer)
    customer.timeline_rows = customer_timeline(shop=request.shop, customer=customer)
    return customer


@router.post("/customers/{public_id}/reveal", response={200: RevealOut, **ERRORS})
def customer_reveal(request, public_id: str):
    """The full phone number. Every call is recorded on the customer's timeline and in the audit log."""
    return {"phone": privacy.customer_reveal(actor=request.auth, customer=_customer(request, public_id))}


@router.post("/customers/{public_id}/tags", response={200: list[TagLinkOut], **ERRORS})
def customer_tag_add(request, public_id: str, data: TagAddIn):
    """Put a manual tag on (by id, or by name: a new name makes the tag). Returns the customer's tags."""
    customer = _customer(request, public_id)
    tag = data.tag.strip() if isinstance(data.tag, str) else data.tag
    tags.customer_tag_add(actor=request.auth, customer=customer, tag=tag)
    return list(_customer(request, public_id).tag_links.all())


@router.delete("/customers/{public_id}/tags/{tag_id}", response={204: None, **ERRORS})
def customer_tag_remove(request, public_id: str, tag_id: Id):
    tags.customer_tag_remove(actor=request.auth, customer=_customer(request, public_id), tag=tag_id)
    return Status(204, None)


@router.post("/customers/{public_id}/notes", response={201: NoteOut, **ERRORS})
def customer_note_add(request, public_id: str, data: NoteIn):
    note = followups.note_add(actor=request.auth, customer=_customer(request, public_id), text=data.text)
    return Status(201, note)


@router.post("/customers/{public_id}/follow-ups", response={201: FollowUpOut, **ERRORS})
def customer_followup_add(request, public_id: str, data: FollowUpIn):
    task = followups.followup_create(
        actor=request.auth,
        customer=_customer(request, public_id),
        title=data.title,
        due_on=data.due_on,
        assignee=data.assignee_id,
    )
    return Status(201, task)


@router.put("/customers/{public_id}/social/{account_id}", response={200: SocialLinkOut, **ERRORS})
def customer_social_link(request, public_id: str, account_id: Id, data: SocialLinkIn):
    """Record that the customer was invited by, became a friend of, or was deleted from an account."""
    return social.social_link_set(
        actor=request.auth, shop=request.shop, account_id=account_id, customer_public_id=public_id, status=data.status
    )


# --- follow-ups --------------------------------------------------------------------------


@router.get("/follow-ups/today", response={200: list[FollowUpOut], **ERRORS})
def followups_today(request):
    """The caller's open follow-ups due today or earlier (owners also get the unassigned ones)."""
    return list(followups.followups_today(shop=request.shop, staff=request.auth))


@router.post("/follow-ups/{followup_id}/done", response={200: FollowUpOut, **ERRORS})
def followup_done(request, followup_id: Id):
    task = followup_for_staff(shop=request.shop, followup_id=followup_id)
    return followups.followup_done(actor=request.auth, followup=task)


# --- tags and segments -------------------------------------------------------------------


@router.get("/tags", response={200: list[TagOut], **ERRORS})
def tag_list(request):
    return list(tags_for_staff(shop=request.shop))


@router.post("/tags", response={201: TagOut, **ERRORS})
def tag_add(request, data: TagIn):
    """A manual tag, or an automatic one with rules (applied at once, then nightly)."""
    tag = tags.tag_create(actor=request.auth, shop=request.shop, name=data.name, rules=data.rules)
    return Status(201, tags_for_staff(shop=request.shop).get(pk=tag.pk))


@router.get("/segments", response={200: list[SegmentOut], **ERRORS})
def segment_list(request):
    return list(segments_for_staff(shop=request.shop))


@router.post("/segments/preview", response={200: CountOut, **ERRORS})
def segment_preview(request, data: SegmentRulesIn):
    """How many customers the rules match now, without saving anything."""
    return {"count": segments.segment_preview_count(shop=request.shop, rules=data.rules)}


@router.post("/segments", response={201: SegmentOut, **ERRORS})
def segment_add(request, data: SegmentIn):
    """Save (a name already used replaces that segment's rules) and evaluate at once."""
    return Status(201, segments.segment_save(actor=request.auth, shop=request.shop, name=data.name, rules=data.rules))


@router.put("/segments/{segment_id}", response={200: SegmentOut, **ERRORS})
def segment_update(request, segment_id: Id, data: SegmentIn):
    segment = segment_for_staff(shop=request.shop, segment_id=segment_id)
    return segments.segment_save(
        actor=request.auth, shop=request.shop, name=data.name, rules=data.rules, segment=segment
    )


@router.post("/segments/{segment_id}/evaluate", response={200: SegmentOut, **ERRORS})
def segment_evaluate(request, segment_id: Id):
    """Re-compute the members now (they are also re-computed nightly)."""
    segment = segment_for_staff(shop=request.shop, segment_id=segment_id)
    # The evaluation is also the worker's job, so the service takes no actor; staff need the right here.
    require(request.auth, EDIT, shop_id=request.shop.pk)
    return segments.segment_evaluate(segment=segment)


# --- social accounts ---------------------------------------------------------------------


def _account_out(account) -> dict:
    cap = social.social_capacity(account)
    return {
        "id": account.pk,
        "name": account.name,
        "kind": account.kind,
        "handle": account.handle,
        "capacity": account.capacity,
        "owner_id": account.owner_id,
        "friends": cap.friends,
        "invited": getattr(account, "invited", 0),
        "free": cap.free,
        "percent_full": cap.percent,
        "warning": cap.warning,
        "full": cap.full,
    }


@router.get("/social-accounts", response={200: SocialAccountsOut, **ERRORS})
def social_accounts(request):
    """Each account's friends against its capacity (warning from 90%), and where new customers should go."""
    suggested = social.social_suggest_account(shop=request.shop)
    return {
        "accounts": [_account_out(a) for a in social_accounts_for_staff(shop=request.shop)],
        "suggested_account_id": suggested.pk if suggested else None,
    }


@router.post("/social-accounts", response={201: SocialAccountOut, **ERRORS})
def social_account_add(request, data: SocialAccountIn):
    account = social.social_account_save(actor=request.auth, shop=request.shop, data=data.dict())
    return Status(201, _account_out(social_account_for_staff(shop=request.shop, account_id=account.pk)))


@router.patch("/social-accounts/{account_id}", response={200: SocialAccountOut, **ERRORS})
def social_account_update(request, account_id: Id, data: SocialAccountPatchIn):
    account = social_account_for_staff(shop=request.shop, account_id=account_id)
    current = {k: getattr(account, k) for k in ("name", "kind", "handle", "capacity", "owner_id")}
    changes = data.dict(exclude_unset=True)
    social.social_account_save(
        actor=request.auth, shop=request.shop, account_id=account.pk, data={**current, **changes}
    )
    return _account_out(social_account_for_staff(shop=request.shop, account_id=account.pk))
