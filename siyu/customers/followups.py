"""Notes on customers and follow-up tasks for staff, with each staff member's "today" list."""

from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from siyu.accounts.models import StaffMember
from siyu.accounts.roles import OWNER
from siyu.core.errors import InvalidInput, PermissionDenied
from siyu.core.permissions import require
from siyu.shops.models import Shop

from .models import Customer, CustomerEvent, FollowUp, Note
from .tags import actor_label

PERM = "customers.manage"


def _event(actor, customer: Customer, kind: str, data: dict) -> None:
    CustomerEvent.objects.create(
        shop_id=customer.shop_id, customer=customer, kind=kind, actor_label=actor_label(actor), data=data
    )


def note_add(*, actor, customer: Customer, text: str) -> Note:
    require(actor, PERM, shop_id=customer.shop_id)
    text = str(text or "").strip()
    if not 1 <= len(text) <= 2000:
        raise InvalidInput(detail={"text": "required, at most 2000 characters"})
    with transaction.atomic():
        note = Note.objects.create(customer=customer, author=actor, text=text)
        _event(actor, customer, "note.added", {"note": note.pk, "excerpt": text[:60]})
    return note


def _due(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(detail={"due_on": "expected a date YYYY-MM-DD"}) from None


def _assignee(shop_id: int, assignee: StaffMember | int | None) -> StaffMember | None:
    if assignee in (None, ""):
        return None
    pk = assignee.pk if isinstance(assignee, StaffMember) else assignee
    found = StaffMember.objects.filter(shop_id=shop_id, pk=pk, is_active=True).first()
    if found is None:
        raise InvalidInput(detail={"assignee": "not an active staff member of this shop"})
    return found


def followup_create(
    *, actor, customer: Customer, title: str, due_on: date | str, assignee: StaffMember | int | None = None
) -> FollowUp:
    """A task about a customer for one staff member (or for the owners, when unassigned)."""
    require(actor, PERM, shop_id=customer.shop_id)
    title = str(title or "").strip()
    if not 1 <= len(title) <= 120:
        raise InvalidInput(detail={"title": "required, at most 120 characters"})
    due = _due(due_on)
    staff = _assignee(customer.shop_id, assignee)
    with transaction.atomic():
        followup = FollowUp.objects.create(
            shop_id=customer.shop_id, customer=customer, assignee=staff, title=title, due_on=due
        )
        _event(actor, customer, "followup.created", {"followup": followup.pk, "title": title, "due_on": str(due)})
    return followup


def followup_done(*, actor, followup: FollowUp) -> FollowUp:
    """Mark a follow-up done. One conditional UPDATE, so doing it twice (or two staff at once)
    records it once."""
    require(actor, PERM, shop_id=followup.shop_id)
    now = timezone.now()
    with transaction.atomic():
        changed = FollowUp.objects.filter(pk=followup.pk, done_at__isnull=True).update(done_at=now)
        if changed:
            followup.done_at = now
            _event(actor, followup.customer, "followup.done", {"followup": followup.pk, "title": followup.title})
        else:
            followup.refresh_from_db(fields=["done_at"])
    return followup


def followups_today(*, shop: Shop, staff: StaffMember, today: date | None = None) -> QuerySet[FollowUp]:
    """Open follow-ups due today or earlier that are `staff`'s to do: assigned to them, and for
    owners also the unassigned ones and those of deactivated staff. Customer and product come
    with them: one query for the list."""
    if staff.shop_id != shop.pk or not staff.can("customers.view"):
        raise PermissionDenied(detail={"permission": "customers.view"})
    today = today or timezone.localdate()
    mine = Q(assignee=staff)
    if staff.role == OWNER:
        # nobody else would see these: unassigned, or left with someone who no longer works here
        mine |= Q(assignee__isnull=True) | Q(assignee__is_active=False)
    return (
        FollowUp.objects.filter(mine, shop=shop, done_at__isnull=True, due_on__lte=today)
        .select_related("customer", "product", "assignee")
        .order_by("due_on", "id")
    )
