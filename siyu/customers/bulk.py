"""Bulk work on the customer pool: tag, untag, assign for follow-up, or export many customers at once.

A bulk action works on a `Selection`: the rows a staff member ticked (public ids), or every
customer matching the list's filters (a saved segment is one of those filters: its members as last
evaluated). Ids that are not this shop's simply match nothing, so a forged id cannot reach another
shop's customer. Anonymised customers (deleted accounts) are never selected.

Every write is set-based: a handful of statements (INSERT … SELECT, UPDATE … WHERE id IN (SELECT …),
DELETE … WHERE) whatever the number of customers, so tagging 50,000 customers costs the same
queries as tagging five. Each customer still gets a timeline event (written by the same kind of
INSERT … SELECT), and each bulk action writes one audit row with the counts and the selection.

Locks: tag and untag lock the tag row (shop-level rank, siyu/core/locks.py), so two bulk actions
on one tag run one after the other; nothing else is locked (no read-compare-write happens).
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, JSONField, OuterRef, QuerySet, Value
from django.db.models.functions import Now

from siyu.accounts.models import StaffMember
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.locks import SHOP, lock_rows
from siyu.core.permissions import actor_user, require
from siyu.shops.models import Shop

from .models import Customer, CustomerEvent, CustomerTag, FollowUp, Tag
from .segments import insert_from_select
from .selectors import TAGS, customers_for_staff
from .tags import _refuse_automatic, _tag_name, actor_label

MANAGE = "customers.manage"
VIEW = "customers.view"
MAX_IDS = 500  # ticked rows in one request; "all matching" has no such limit
AUDIT_IDS = 100  # ids kept in the audit row; the count is always exact


@dataclass(frozen=True)
class Selection:
    """Ticked rows (`ids`, public ids), or — when `filters` is not None — every customer matching
    those filters (customers_for_staff's keys; an empty dict is the whole pool)."""

    ids: tuple[str, ...] = ()
    filters: dict[str, Any] | None = None

    def describe(self) -> dict:
        """JSON-safe words for the audit row."""
        if self.filters is not None:
            return {"scope": "filter", "filter": {k: str(v) for k, v in self.filters.items() if v not in (None, "")}}
        return {"scope": "ids", "ids": list(self.ids[:AUDIT_IDS])}


@dataclass
class BulkResult:
    selected: int  # customers the selection matched
    changed: int  # of those, how many the action changed (already tagged ones are not counted twice)
    detail: dict = field(default_factory=dict)


def selection_make(*, ids: Any = (), filters: dict | None = None, all_matching: bool = False) -> Selection:
    """Check what the interface sent: at least one id (at most MAX_IDS) unless all_matching."""
    if all_matching:
        return Selection(filters=dict(filters or {}))
    clean = tuple(dict.fromkeys(str(i).strip()[:16] for i in (ids or ()) if str(i).strip()))
    if not clean:
        raise InvalidInput(detail={"ids": "choose at least one customer"})
    if len(clean) > MAX_IDS:
        raise InvalidInput(detail={"ids": f"at most {MAX_IDS} at once; use all matching the filter"})
    return Selection(ids=clean)


def customers_selected(*, shop: Shop, selection: Selection) -> QuerySet[Customer]:
    """The shop's customers in the selection (newest first, with level and tags for reading)."""
    if selection.filters is not None:
        qs = customers_for_staff(shop=shop, filters=selection.filters)
    else:
        qs = (
            Customer.objects.filter(shop=shop, public_id__in=selection.ids)
            .select_related("level")
            .prefetch_related(TAGS)
            .order_by("-id")
        )
    return qs.filter(anonymized_at__isnull=True)


def _events(customers: QuerySet[Customer], *, shop: Shop, actor, kind: str, data: dict) -> int:
    """One timeline event for each customer in `customers`, in one INSERT … SELECT."""
    rows = customers.annotate(
        e_shop=Value(shop.pk),
        e_customer=F("pk"),
        e_at=Now(),
        e_kind=Value(kind),
        e_actor=Value(actor_label(actor)),
        e_data=Value(data, output_field=JSONField()),
    ).values_list("e_shop", "e_customer", "e_at", "e_kind", "e_actor", "e_data")
    return insert_from_select(CustomerEvent, ["shop", "customer", "at", "kind", "actor_label", "data"], rows)


def _audit(*, actor, shop: Shop, action: str, target, selection: Selection, result: BulkResult) -> None:
    data = {"selected": result.selected, "changed": result.changed, **selection.describe(), **result.detail}
    audit_record(shop_id=shop.pk, actor=actor_user(actor), action=action, target=target, data=data)


def _tag_of(shop: Shop, tag: Tag | int | str, *, create: bool) -> Tag:
    """A tag of this shop by instance, id or name (a new name makes it when `create`); 404 otherwise."""
    if isinstance(tag, Tag):
        found: Tag | None = tag if tag.shop_id == shop.pk else None
    elif isinstance(tag, int):
        found = Tag.objects.filter(shop=shop, pk=tag).first()
    elif create:
        found = Tag.objects.get_or_create(shop=shop, name=_tag_name(tag))[0]
    else:
        found = Tag.objects.filter(shop=shop, name=_tag_name(tag)).first()
    if found is None:
        raise NotFound(detail={"tag": "not in this shop"})
    _refuse_automatic(found)
    return found


def customers_bulk_tag(*, actor, shop: Shop, selection: Selection, tag: Tag | int | str) -> BulkResult:
    """Put a manual tag on every selected customer (a new name makes the tag). Customers who
    already carry it are left alone. Locks: the tag row."""
    require(actor, MANAGE, shop_id=shop.pk)
    selected = customers_selected(shop=shop, selection=selection)
    try:
        with transaction.atomic():
            tag = _tag_of(shop, tag, create=True)
            lock_rows(Tag.objects.filter(pk=tag.pk), rank=SHOP)
            untagged = selected.exclude(Exists(CustomerTag.objects.filter(tag_id=tag.pk, customer=OuterRef("pk"))))
            _events(untagged, shop=shop, actor=actor, kind="tag.added", data={"tag": tag.pk, "name": tag.name})
            links = untagged.annotate(
                l_customer=F("pk"), l_tag=Value(tag.pk), l_auto=Value(False), l_at=Now()
            ).values_list("l_customer", "l_tag", "l_auto", "l_at")
            added = insert_from_select(CustomerTag, ["customer", "tag", "automatic", "created_at"], links)
            result = BulkResult(selected=selected.count(), changed=added, detail={"tag": tag.name})
            _audit(actor=actor, shop=shop, action="customers.bulk_tag", target=tag, selection=selection, result=result)
    except IntegrityError:
        # A single-customer tagging raced this one onto the same row; nothing was written.
        raise Conflict(detail={"tag": "changed by someone else meanwhile; try again"}) from None
    return result


def customers_bulk_untag(*, actor, shop: Shop, selection: Selection, tag: Tag | int | str) -> BulkResult:
    """Take a manual tag off every selected customer that has it. Locks: the tag row."""
    require(actor, MANAGE, shop_id=shop.pk)
    selected = customers_selected(shop=shop, selection=selection)
    with transaction.atomic():
        tag = _tag_of(shop, tag, create=False)
        lock_rows(Tag.objects.filter(pk=tag.pk), rank=SHOP)
        links = CustomerTag.objects.filter(tag_id=tag.pk, automatic=False, customer__in=selected.values("pk"))
        tagged = selected.filter(Exists(links.filter(customer=OuterRef("pk"))))
        _events(tagged, shop=shop, actor=actor, kind="tag.removed", data={"tag": tag.pk, "name": tag.name})
        removed, _by_model = links.delete()
        result = BulkResult(selected=selected.count(), changed=removed, detail={"tag": tag.name})
        _audit(actor=actor, shop=shop, action="customers.bulk_untag", target=tag, selection=selection, result=result)
    return result


def _active_staff(shop: Shop, assignee: StaffMember | int) -> StaffMember:
    pk = assignee.pk if isinstance(assignee, StaffMember) else assignee
    found = StaffMember.objects.filter(shop=shop, pk=pk, is_active=True).first()
    if found is None:
        raise InvalidInput(detail={"assignee": "not an active staff member of this shop"})
    return found


def customers_bulk_assign(
    *, actor, shop: Shop, selection: Selection, assignee: StaffMember | int, title: str, due_on: date
) -> BulkResult:
    """Make `assignee` the owner of every selected customer and put one follow-up task per
    customer on their "today" list, due on `due_on`. No row locks: one UPDATE and INSERTs."""
    require(actor, MANAGE, shop_id=shop.pk)
    staff = _active_staff(shop, assignee)
    title = str(title or "").strip()
    if not 1 <= len(title) <= 120:
        raise InvalidInput(detail={"title": "required, at most 120 characters"})
    if not isinstance(due_on, date):
        raise InvalidInput(detail={"due_on": "expected a date"})
    selected = customers_selected(shop=shop, selection=selection)
    with transaction.atomic():
        data = {"title": title, "due_on": due_on.isoformat(), "assignee": staff.display_name}
        _events(selected, shop=shop, actor=actor, kind="followup.created", data=data)
        tasks = selected.annotate(
            f_shop=Value(shop.pk),
            f_customer=F("pk"),
            f_assignee=Value(staff.pk),
            f_title=Value(title),
            f_due=Value(due_on),
            f_kind=Value("manual"),
            f_at=Now(),
        ).values_list("f_shop", "f_customer", "f_assignee", "f_title", "f_due", "f_kind", "f_at")
        columns = ["shop", "customer", "assignee", "title", "due_on", "kind", "created_at"]
        created = insert_from_select(FollowUp, columns, tasks)
        Customer.objects.filter(pk__in=selected.values("pk")).update(assigned_to=staff)
        result = BulkResult(selected=created, changed=created, detail={"assignee": staff.display_name})
        _audit(actor=actor, shop=shop, action="customers.bulk_assign", target=staff, selection=selection, result=result)
    return result


def customers_bulk_export(*, actor, shop: Shop, selection: Selection, limit: int) -> QuerySet[Customer]:
    """The selected customers for a spreadsheet (at most `limit`), after writing the audit row
    that says who exported how many and which. The caller masks phones as every list does."""
    require(actor, VIEW, shop_id=shop.pk)
    selected = customers_selected(shop=shop, selection=selection)
    count = min(selected.count(), limit)
    result = BulkResult(selected=count, changed=0)
    _audit(actor=actor, shop=shop, action="customers.bulk_export", target=shop, selection=selection, result=result)
    return selected[:limit]
