"""The customer pool: the filtered list and its export, and the customer page with its actions
(show the phone, tags, notes, follow-ups, social account links)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.accounts.selectors import staff_list
from siyu.analytics.clv import customer_value_for
from siyu.core.db_router import replica_reads
from siyu.core.errors import DomainError
from siyu.customers import followups, privacy, social, tags
from siyu.customers.selectors import (
    customer_for_staff,
    customer_lists,
    customer_points_balance,
    customer_social_links,
    customers_for_staff,
    followup_for_staff,
    levels_for_staff,
    segments_for_staff,
    social_accounts_for_staff,
    tag_choices,
)

from ..decorators import staff_required
from ..labels import AFTERSALE_STATUS_LABELS, ORDER_STATUS_LABELS
from ..paging import paged
from ..rendering import detail_text, page
from .channel_addresses import customer_addresses_block
from .customers_bulk import bulk_form
from .customers_forms import CustomerFilterForm, FollowUpForm, NoteForm, SocialLinkForm, TagAddForm
from .customers_labels import (
    EVENT_LABELS,
    FOLLOWUP_KIND_LABELS,
    LIFECYCLE_LABELS,
    POINTS_REASON_LABELS,
    SOCIAL_STATUS_LABELS,
    SOURCE_LABELS,
    event_detail,
    label,
)

PAGE_SIZE = 20
EDIT = "customers.manage"


def _filters(request, tags: list) -> tuple[CustomerFilterForm, dict]:
    form = CustomerFilterForm(
        request.GET or None,
        tags=tags,
        levels=levels_for_staff(shop=request.shop),
        segments=segments_for_staff(shop=request.shop).only("pk", "name"),
    )
    return form, form.selector_filters()


def customer_row(c) -> dict:
    return {
        "customer": c,
        "source": label(SOURCE_LABELS, c.source),
        "lifecycle": label(LIFECYCLE_LABELS, c.lifecycle),
        "tags": [link.tag.name for link in c.tag_links.all()],
    }


@staff_required(perm="customers.view")
@replica_reads()
def customer_list(request):
    """The filtered pool, a page at a time, with the bulk actions over ticked rows or all matching."""
    tags = tag_choices(shop=request.shop)
    filters, args = _filters(request, tags)
    customers = customers_for_staff(shop=request.shop, filters=args)
    page_obj = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    bulk = bulk_form(request.shop, tags=tags)
    bulk.initial["query"] = query.urlencode()
    context = {
        "filters": filters,
        "page_obj": page_obj,
        "rows": [customer_row(c) for c in page_obj.object_list],
        "query": query.urlencode(),
        "bulk": bulk,
    }
    return page(request, "console/customers.html", context)


# --- the customer page ----------------------------------------------------------------------


# Each list pages on its own parameter, so paging the points leaves the orders where they were.
DETAIL_ROWS = 20
TIMELINE_ROWS = 50


def _history_pages(request, lists) -> dict:
    """The customer page's lists, each one page of its own pager, rows labelled for the template."""
    pages = {
        "orders": paged(request, lists.orders, param="orders_page", per_page=DETAIL_ROWS),
        "external_orders": paged(request, lists.external_orders, param="imported_page", per_page=DETAIL_ROWS),
        "after_sales": paged(request, lists.after_sales, param="aftersales_page", per_page=DETAIL_ROWS),
        "notes": paged(request, lists.notes, param="notes_page", per_page=DETAIL_ROWS),
        "follow_ups": paged(request, lists.follow_ups, param="followups_page", per_page=DETAIL_ROWS),
        "points": paged(request, lists.points, param="points_page", per_page=DETAIL_ROWS),
        "timeline": paged(request, lists.timeline, param="timeline_page", per_page=TIMELINE_ROWS),
    }
    rows = {
        "orders": [{"order": o, "status": label(ORDER_STATUS_LABELS, o.status)} for o in pages["orders"].rows],
        "external_orders": [
            {"order": x, "source": label(SOURCE_LABELS, x.source)} for x in pages["external_orders"].rows
        ],
        "after_sales": [
            {"sale": s, "status": label(AFTERSALE_STATUS_LABELS, s.status)} for s in pages["after_sales"].rows
        ],
        "notes": pages["notes"].rows,
        "follow_ups": [{"task": f, "kind": label(FOLLOWUP_KIND_LABELS, f.kind)} for f in pages["follow_ups"].rows],
        "points": [{"entry": p, "reason": label(POINTS_REASON_LABELS, p.reason)} for p in pages["points"].rows],
        "timeline": [
            {"event": e, "kind": label(EVENT_LABELS, e.kind), "detail": event_detail(e.data)}
            for e in pages["timeline"].rows
        ],
    }
    return {**rows, "pagers": pages}


def _detail_page(request, customer, *, forms: dict | None = None, revealed: str = "", status: int = 200):
    """The merchant's whole view of one customer; a bound form passed in is shown with its errors."""
    shop = request.shop
    forms = forms or {}
    accounts = list(social_accounts_for_staff(shop=shop))
    social_links = customer_social_links(shop=shop, customer=customer)
    context = {
        "customer": customer,
        "row": customer_row(customer),
        "revealed": revealed,
        "points_balance": customer_points_balance(shop=shop, customer=customer),
        **_history_pages(request, customer_lists(shop=shop, customer=customer)),
        "social_links": [{"link": s, "status": label(SOCIAL_STATUS_LABELS, s.status)} for s in social_links],
        "tag_form": forms.get("tag") or TagAddForm(tags=tag_choices(shop=shop)),
        "note_form": forms.get("note") or NoteForm(),
        "followup_form": forms.get("followup") or FollowUpForm(staff=staff_list(shop=shop)),
        "social_form": forms.get("social") or (SocialLinkForm(accounts=accounts) if accounts else None),
        "today": timezone.localdate(),
        # CLV figures (one query) for staff who may see analytics
        "clv": customer_value_for(shop=shop, customer=customer) if request.staff.can("analytics.view") else None,
        # where campaigns reach the customer (email, WeCom, Official Account): one query
        **customer_addresses_block(request=request, customer=customer),
    }
    return page(request, "console/customer_detail.html", context, status=status)


# The session remembers only *that* a reveal was asked for (never the number), and the next view
# of the page uses it up: a reload after that shows the masked number again.
REVEAL_SESSION_KEY = "console_reveal"


@staff_required(perm="customers.view")
def customer_detail(request, public_id: str):
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    revealed = ""
    if request.session.get(REVEAL_SESSION_KEY) == customer.public_id:
        del request.session[REVEAL_SESSION_KEY]
        revealed = customer.phone or ""
    return _detail_page(request, customer, revealed=revealed)


@staff_required(perm="customers.view")
@require_POST
def customer_reveal(request, public_id: str):
    """Log the view (the service records who looked), then redirect back to the customer page, which
    shows the full number once: a reload never re-submits the POST (post/redirect/get)."""
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    privacy.customer_reveal(actor=request.staff, customer=customer)
    request.session[REVEAL_SESSION_KEY] = customer.public_id
    return _back(customer.public_id)


def _back(public_id: str):
    return redirect("console:customer_detail", public_id=public_id)


def _refused(request, exc: DomainError, public_id: str):
    """A refusal the merchant can fix comes back as a message; 403 and 404 get their own page."""
    if exc.status in (403, 404):
        raise exc
    text = str(exc.message)
    if isinstance(exc.detail, dict) and exc.detail:
        text = f"{text} ({detail_text(exc.detail)})"
    messages.error(request, text)
    return _back(public_id)


def _invalid(request, form, public_id: str):
    errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
    messages.error(request, " ".join(errors) or _("Check the form and try again."))
    return _back(public_id)


@staff_required(perm=EDIT)
@require_POST
def customer_tag_add(request, public_id: str):
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    form = TagAddForm(request.POST, tags=tag_choices(shop=request.shop))
    if not form.is_valid():
        return _invalid(request, form, public_id)
    try:
        tag = form.cleaned_data["tag"] or form.cleaned_data["name"].strip()
        tags.customer_tag_add(actor=request.staff, customer=customer, tag=tag)
    except DomainError as exc:
        return _refused(request, exc, public_id)
    messages.success(request, _("The tag is added."))
    return _back(public_id)


@staff_required(perm=EDIT)
@require_POST
def customer_tag_remove(request, public_id: str, tag_id: int):
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    try:
        tags.customer_tag_remove(actor=request.staff, customer=customer, tag=tag_id)
    except DomainError as exc:
        return _refused(request, exc, public_id)
    messages.success(request, _("The tag is removed."))
    return _back(public_id)


@staff_required(perm=EDIT)
@require_POST
def customer_note_add(request, public_id: str):
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, customer, forms={"note": form}, status=400)
    try:
        followups.note_add(actor=request.staff, customer=customer, text=form.cleaned_data["text"])
    except DomainError as exc:
        return _refused(request, exc, public_id)
    messages.success(request, _("The note is saved."))
    return _back(public_id)


@staff_required(perm=EDIT)
@require_POST
def customer_followup_add(request, public_id: str):
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    form = FollowUpForm(request.POST, staff=staff_list(shop=request.shop))
    if not form.is_valid():
        return _detail_page(request, customer, forms={"followup": form}, status=400)
    data = form.cleaned_data
    try:
        followups.followup_create(
            actor=request.staff,
            customer=customer,
            title=data["title"],
            due_on=data["due_on"],
            assignee=data["assignee"],
        )
    except DomainError as exc:
        return _refused(request, exc, public_id)
    messages.success(request, _("The follow-up is created."))
    return _back(public_id)


@staff_required(perm=EDIT)
@require_POST
def customer_social_link(request, public_id: str):
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    form = SocialLinkForm(request.POST, accounts=social_accounts_for_staff(shop=request.shop))
    if not form.is_valid():
        return _invalid(request, form, public_id)
    try:
        social.social_link_set(
            actor=request.staff,
            shop=request.shop,
            account_id=form.cleaned_data["account"],
            customer_public_id=customer.public_id,
            status=form.cleaned_data["status"],
        )
    except DomainError as exc:
        return _refused(request, exc, public_id)
    messages.success(request, _("The social account link is saved."))
    return _back(public_id)


@staff_required(perm=EDIT)
@require_POST
def followup_done(request, followup_id: int):
    """Tick a task off, from the customer page or from the "today" list (`next` says which)."""
    try:
        task = followups.followup_done(
            actor=request.staff, followup=followup_for_staff(shop=request.shop, followup_id=followup_id)
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
        return redirect("console:followups_today")
    messages.success(request, _("Done: %(title)s") % {"title": task.title})
    if request.POST.get("next") == "customer":
        return _back(task.customer.public_id)
    return redirect("console:followups_today")


@staff_required(perm="customers.view")
def followups_today(request):
    """The signed-in member's tasks due today or overdue, oldest first."""
    tasks = followups.followups_today(shop=request.shop, staff=request.staff)
    rows = [
        {"task": t, "kind": label(FOLLOWUP_KIND_LABELS, t.kind), "overdue": t.due_on < timezone.localdate()}
        for t in tasks
    ]
    return page(request, "console/followups_today.html", {"rows": rows})
