"""Reads of the customer pool for staff, always scoped to one shop.

Lists return querysets so the interfaces can page them (one count, one slice); a customer's own
lists (orders, points, timeline, …) come back as querysets too, so a customer with years of
history still costs the same handful of queries per page.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from siyu.core.crypto import lookup_hash
from siyu.core.errors import NotFound
from siyu.core.settings_rows import settings_row_get
from siyu.orders.models import AfterSale, Order, OrderLine
from siyu.shops.models import Shop

from .models import (
    CrmSettings,
    Customer,
    CustomerEvent,
    CustomerTag,
    ExternalOrder,
    FollowUp,
    ImportJob,
    MemberLevel,
    Note,
    PointsEntry,
    Segment,
    SegmentMember,
    SocialAccount,
    SocialLink,
    Source,
    Tag,
)

PHONE_DIGITS = 11
DETAIL_ROWS = 20  # rows per list in a one-screen history (the API); the console pages instead
TIMELINE_ROWS = 50

TAGS = Prefetch("tag_links", queryset=CustomerTag.objects.select_related("tag").order_by("tag__name"))

FILTER_KEYS = (
    "q",
    "tag",
    "lifecycle",
    "source",
    "level",
    "spend_min",
    "spend_max",
    "last_order_after",
    "last_order_before",
    "segment",
    "assigned_to",
)


def _search(qs: QuerySet[Customer], q: str) -> QuerySet[Customer]:
    """An 11-digit number is looked up by its hash (phones are encrypted); anything else by name."""
    q = (q or "").strip()[:40]
    if not q:
        return qs
    digits = q.replace(" ", "").replace("-", "")
    if digits.isdigit() and len(digits) == PHONE_DIGITS:
        return qs.filter(phone_hash=lookup_hash(digits))
    return qs.filter(Q(name__icontains=q) | Q(public_id=q))


def customers_for_staff(*, shop: Shop, filters: dict | None = None) -> QuerySet[Customer]:
    """The shop's customers, newest first, narrowed by the filters that are set.

    filters: q (name, public id or an exact phone), tag (id), lifecycle, source, level (id, or 0
    for "no level"), spend_min/spend_max (fen, inclusive), last_order_after/last_order_before
    (aware datetimes; after is inclusive, before exclusive), segment (id: its evaluated members),
    assigned_to (staff id). Tags and segments are matched with EXISTS, so no row appears twice.
    Each customer's tags come along in one extra query per page.
    """
    f = {k: v for k, v in (filters or {}).items() if k in FILTER_KEYS and v not in (None, "")}
    qs = Customer.objects.filter(shop=shop).select_related("level").prefetch_related(TAGS)
    qs = _search(qs, f.get("q", ""))
    if "tag" in f:
        qs = qs.filter(Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag_id=f["tag"], tag__shop=shop)))
    if "segment" in f:
        members = SegmentMember.objects.filter(customer=OuterRef("pk"), segment_id=f["segment"], segment__shop=shop)
        qs = qs.filter(Exists(members))
    for key in ("lifecycle", "source"):
        if key in f:
            qs = qs.filter(**{key: f[key]})
    if "level" in f:
        qs = qs.filter(level__isnull=True) if int(f["level"]) == 0 else qs.filter(level_id=f["level"])
    if "assigned_to" in f:
        qs = qs.filter(assigned_to_id=f["assigned_to"])
    if "spend_min" in f:
        qs = qs.filter(total_spent__gte=f["spend_min"])
    if "spend_max" in f:
        qs = qs.filter(total_spent__lte=f["spend_max"])
    if "last_order_after" in f:
        qs = qs.filter(last_order_at__gte=f["last_order_after"])
    if "last_order_before" in f:
        qs = qs.filter(last_order_at__lt=f["last_order_before"])
    return qs.order_by("-id")


def customer_for_staff(*, shop: Shop, public_id: str) -> Customer:
    customer = (
        Customer.objects.filter(shop=shop, public_id=str(public_id)[:16])
        .select_related("level", "assigned_to", "shopper")
        .prefetch_related(TAGS)
        .first()
    )
    if customer is None:
        raise NotFound(detail={"customer": public_id})
    return customer


def customer_timeline(*, shop: Shop, customer: Customer, limit: int = TIMELINE_ROWS) -> list[CustomerEvent]:
    """The newest events first: orders, imports, tags, notes, consents, views of personal data."""
    return list(CustomerEvent.objects.filter(shop=shop, customer=customer).order_by("-id")[:limit])


@dataclass
class CustomerHistory:
    orders: list
    external_orders: list
    after_sales: list
    notes: list
    follow_ups: list
    points: list
    points_balance: int
    social_links: list


@dataclass
class CustomerLists:
    """The long lists on a customer's page as unevaluated querysets, newest first, so a page can
    show any slice of them (one count and one slice each) however long the history grows."""

    orders: QuerySet[Order]
    external_orders: QuerySet[ExternalOrder]
    after_sales: QuerySet[AfterSale]
    notes: QuerySet[Note]
    follow_ups: QuerySet[FollowUp]
    points: QuerySet[PointsEntry]
    timeline: QuerySet[CustomerEvent]


def customer_lists(*, shop: Shop, customer: Customer) -> CustomerLists:
    """Every list on the customer page, scoped to the shop; a customer who never signed in to the
    storefront has no own orders or after-sales (empty querysets cost no query)."""
    orders = Order.objects.none()
    after_sales = AfterSale.objects.none()
    if customer.shopper_id:
        lines = Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
        orders = Order.objects.filter(shop=shop, shopper_id=customer.shopper_id).prefetch_related(lines).order_by("-id")
        after_sales = (
            AfterSale.objects.filter(shop=shop, order__shopper_id=customer.shopper_id)
            .select_related("order", "line")
            .order_by("-id")
        )
    return CustomerLists(
        orders=orders,
        external_orders=ExternalOrder.objects.filter(shop=shop, customer=customer).order_by("-placed_at", "-id"),
        after_sales=after_sales,
        notes=Note.objects.filter(customer=customer).select_related("author").order_by("-id"),
        follow_ups=(
            FollowUp.objects.filter(shop=shop, customer=customer)
            .select_related("customer", "assignee", "product")
            .order_by("done_at", "due_on", "id")
        ),
        points=PointsEntry.objects.filter(shop=shop, customer=customer).order_by("-id"),
        timeline=CustomerEvent.objects.filter(shop=shop, customer=customer).order_by("-id"),
    )


def customer_points_balance(*, shop: Shop, customer: Customer) -> int:
    points = PointsEntry.objects.filter(shop=shop, customer=customer)
    return points.aggregate(total=Coalesce(Sum("delta"), 0))["total"]


def customer_social_links(*, shop: Shop, customer: Customer) -> list[SocialLink]:
    return list(
        SocialLink.objects.filter(customer=customer, account__shop=shop).select_related("account").order_by("id")
    )


def customer_history(*, shop: Shop, customer: Customer, limit: int = DETAIL_ROWS) -> CustomerHistory:
    """The newest `limit` rows of each list, for callers that show one screenful (the API's
    customer detail); the console pages through `customer_lists` instead."""
    lists = customer_lists(shop=shop, customer=customer)
    return CustomerHistory(
        orders=list(lists.orders[:limit]),
        external_orders=list(lists.external_orders[:limit]),
        after_sales=list(lists.after_sales[:limit]),
        notes=list(lists.notes[:limit]),
        follow_ups=list(lists.follow_ups[:limit]),
        points=list(lists.points[:limit]),
        points_balance=customer_points_balance(shop=shop, customer=customer),
        social_links=customer_social_links(shop=shop, customer=customer),
    )


IMPORTED_SOURCES = [Source.TAOBAO, Source.JD, Source.PDD, Source.IMPORT]


def customer_counts(*, shop: Shop) -> dict:
    """The dashboard's customer figures for this calendar month (shop time), in one query.

    A new customer is one whose first order falls in the month: a record created by an import is
    a past buyer brought in, not a new one (an import of 12,000 buyers is not 12,000 new customers),
    so imports are counted apart, as records created this month from a marketplace or a file."""
    start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    agg = Customer.objects.filter(shop=shop).aggregate(
        total=Count("id"),
        new_this_month=Count("id", filter=Q(first_order_at__gte=start)),
        imported_this_month=Count("id", filter=Q(created_at__gte=start, source__in=IMPORTED_SOURCES)),
    )
    return {key: agg[key] for key in ("total", "new_this_month", "imported_this_month")}


# --- the pieces around the pool --------------------------------------------------------------


def tags_for_staff(*, shop: Shop) -> QuerySet[Tag]:
    """Tags by name, each with how many customers carry it."""
    return Tag.objects.filter(shop=shop).annotate(customer_count=Count("links")).order_by("name")


def tag_for_staff(*, shop: Shop, tag_id: int) -> Tag:
    tag = Tag.objects.filter(shop=shop, pk=tag_id).first()
    if tag is None:
        raise NotFound(detail={"tag": tag_id})
    return tag


def tag_choices(*, shop: Shop) -> list[tuple[int, str]]:
    return list(Tag.objects.filter(shop=shop).order_by("name").values_list("pk", "name"))


def levels_for_staff(*, shop: Shop) -> list[MemberLevel]:
    return list(MemberLevel.objects.filter(shop=shop).order_by("min_spend"))


def segments_for_staff(*, shop: Shop) -> QuerySet[Segment]:
    return Segment.objects.filter(shop=shop).order_by("name")


def segment_for_staff(*, shop: Shop, segment_id: int) -> Segment:
    segment = Segment.objects.filter(shop=shop, pk=segment_id).first()
    if segment is None:
        raise NotFound(detail={"segment": segment_id})
    return segment


def import_jobs_for_staff(*, shop: Shop) -> QuerySet[ImportJob]:
    # The rejected rows can be large; lists leave them in the database.
    return ImportJob.objects.filter(shop=shop).defer("rejected_rows", "mapping").select_related("created_by")


def import_job_for_staff(*, shop: Shop, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(shop=shop, pk=job_id).select_related("created_by").first()
    if job is None:
        raise NotFound(detail={"import": job_id})
    return job


def crm_settings_for_staff(*, shop: Shop) -> CrmSettings:
    """The shop's settings, or unsaved defaults (reading never writes)."""
    return settings_row_get(CrmSettings, shop_id=shop.pk)


def followups_open_for_staff(*, shop: Shop, assignee=None, due_by: datetime | None = None) -> QuerySet[FollowUp]:
    qs = FollowUp.objects.filter(shop=shop, done_at__isnull=True).select_related("customer", "assignee", "product")
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    if due_by is not None:
        qs = qs.filter(due_on__lte=due_by)
    return qs.order_by("due_on", "id")


def social_accounts_for_staff(*, shop: Shop) -> QuerySet[SocialAccount]:
    """Accounts with their friend, invited and deleted counts, in one query."""
    return (
        SocialAccount.objects.filter(shop=shop)
        .select_related("owner")
        .annotate(
            friends=Count("links", filter=Q(links__status=SocialLink.Status.ADDED)),
            invited=Count("links", filter=Q(links__status=SocialLink.Status.INVITED)),
            deleted=Count("links", filter=Q(links__status=SocialLink.Status.DELETED)),
        )
        .order_by("id")
    )


def social_account_for_staff(*, shop: Shop, account_id: int) -> SocialAccount:
    account = social_accounts_for_staff(shop=shop).filter(pk=account_id).first()
    if account is None:
        raise NotFound(detail={"account": account_id})
    return account


def social_links_of_account(*, shop: Shop, account: SocialAccount) -> QuerySet[SocialLink]:
    return SocialLink.objects.filter(account=account, account__shop=shop).select_related("customer").order_by("-id")


def followup_for_staff(*, shop: Shop, followup_id: int) -> FollowUp:
    task = FollowUp.objects.filter(shop=shop, pk=followup_id).select_related("customer").first()
    if task is None:
        raise NotFound(detail={"followup": followup_id})
    return task
