"""Console pages for pickup (自提): points (list, new, edit), pickup orders with the write-off box
(type the code, or scan it: a scanner types it), group-buy batches (start one for a point, ship
it with one tracking number) and a batch's printable pick list. Reading needs orders.view,
everything else orders.manage; the services check again."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError
from siyu.orders.pickup import selectors
from siyu.orders.pickup.batches import pickup_batch_create, pickup_batch_ship
from siyu.orders.pickup.points import MANAGE, VIEW, pickup_point_create, pickup_point_update
from siyu.orders.pickup.writeoff import pickup_verify

from ..decorators import staff_required
from ..paging import paged
from ..rendering import error_status, form_error, page

WEEKDAYS = [
    (0, gettext_lazy("Mon")),
    (1, gettext_lazy("Tue")),
    (2, gettext_lazy("Wed")),
    (3, gettext_lazy("Thu")),
    (4, gettext_lazy("Fri")),
    (5, gettext_lazy("Sat")),
    (6, gettext_lazy("Sun")),
]


class PointForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=40)
    phone = forms.CharField(label=gettext_lazy("Contact phone"), max_length=20, required=False)
    province = forms.CharField(label=gettext_lazy("Province"), max_length=20)
    city = forms.CharField(label=gettext_lazy("City"), max_length=30)
    district = forms.CharField(label=gettext_lazy("District"), max_length=30)
    detail = forms.CharField(label=gettext_lazy("Street address"), max_length=200)
    hours = forms.CharField(
        label=gettext_lazy("Opening hours"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("As shoppers should read it, e.g. 每天 9:00-20:00."),
    )
    open_days = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Open on"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every day."),
    )
    opens_at = forms.TimeField(label=gettext_lazy("Opens at"), required=False, widget=forms.TimeInput(format="%H:%M"))
    closes_at = forms.TimeField(label=gettext_lazy("Closes at"), required=False, widget=forms.TimeInput(format="%H:%M"))
    keeper_phone = forms.CharField(
        label=gettext_lazy("Keeper's mobile number"),
        max_length=20,
        required=False,
        help_text=gettext_lazy(
            "The group leader or shop assistant (a shopper who has signed in) who may verify codes here."
        ),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Offered at checkout"), required=False, initial=True)


@staff_required(perm=VIEW)
def point_list(request):
    points = selectors.pickup_points_of_shop(shop=request.shop, active_only=False)
    return page(request, "console/pickup/points.html", {"points": list(points)})


def _point_initial(point) -> dict:
    return {
        "name": point.name,
        "phone": point.phone,
        "province": point.province,
        "city": point.city,
        "district": point.district,
        "detail": point.detail,
        "hours": point.hours,
        "open_days": point.open_days,
        "opens_at": point.opens_at,
        "closes_at": point.closes_at,
        "keeper_phone": point.keeper.phone if point.keeper else "",
        "is_active": point.is_active,
    }


@staff_required(perm=MANAGE)
def point_edit(request, public_id: str = ""):
    point = selectors.pickup_point_get(shop=request.shop, public_id=public_id) if public_id else None
    form = PointForm(request.POST or None, initial=_point_initial(point) if point else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            args = {"actor": request.staff, "shop": request.shop, "data": form.cleaned_data}
            try:
                if point:
                    pickup_point_update(**args, public_id=point.public_id)
                else:
                    pickup_point_create(**args)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("console:pickup_points")
    return page(request, "console/pickup/point_form.html", {"form": form, "point": point}, status=status)


@staff_required(perm=VIEW)
def pickup_orders(request):
    state = request.GET.get("state", "waiting")
    state = state if state in ("waiting", "done", "all") else "waiting"
    qs = selectors.pickup_orders_for_staff(actor=request.staff, shop=request.shop, state=state)
    listing = paged(request, qs, per_page=30)
    tabs = [("waiting", _("Waiting to be picked up")), ("done", _("Picked up")), ("all", _("All"))]
    return page(request, "console/pickup/orders.html", {"listing": listing, "state": state, "tabs": tabs})


@require_POST
@staff_required(perm=MANAGE)
def pickup_writeoff(request):
    """Verify a typed or scanned code; the answer comes back as a message on the orders page."""
    try:
        entry = pickup_verify(shop=request.shop, code=request.POST.get("code", ""), actor=request.staff)
    except DomainError as exc:
        if exc.code == "already_picked_up":
            when = exc.detail.get("verified_at", "")[:16].replace("T", " ")
            messages.error(
                request, _("Already picked up at %(when)s by %(who)s.") % {"when": when, "who": exc.detail["by"]}
            )
        else:
            messages.error(request, exc.message)
        return redirect("console:pickup_orders")
    messages.success(request, _("Picked up: order %(number)s.") % {"number": entry.order.number})
    return redirect("console:pickup_orders")


@staff_required(perm=VIEW)
def batch_list(request):
    qs = selectors.pickup_batches_for_staff(actor=request.staff, shop=request.shop)
    listing = paged(request, qs, per_page=30)
    points = selectors.pickup_points_of_shop(shop=request.shop, active_only=False).select_related(None)
    return page(request, "console/pickup/batches.html", {"listing": listing, "points": list(points)})


@require_POST
@staff_required(perm=MANAGE)
def batch_create(request):
    try:
        batch = pickup_batch_create(
            actor=request.staff, shop=request.shop, point_id=request.POST.get("point", ""), cutoff=timezone.now()
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect("console:pickup_batches")
    return redirect("console:pickup_batch", batch.public_id)


@staff_required(perm=VIEW)
def batch_detail(request, public_id: str):
    batch = selectors.pickup_batch_get(actor=request.staff, shop=request.shop, public_id=public_id)
    picks = selectors.pickup_batch_pick_list(batch=batch)
    return page(request, "console/pickup/batch.html", {"batch": batch, **picks})


@require_POST
@staff_required(perm=MANAGE)
def batch_ship(request, public_id: str):
    try:
        result = pickup_batch_ship(
            actor=request.staff,
            shop=request.shop,
            public_id=public_id,
            carrier=request.POST.get("carrier", ""),
            tracking_number=request.POST.get("tracking_number", ""),
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, f"{exc.message}")
        return redirect("console:pickup_batch", public_id)
    messages.success(request, _("%(n)s orders shipped to the point.") % {"n": result["shipped"]})
    for row in result["rejected"]:
        messages.error(request, f"{row['order']}: {row['error']}")
    return redirect("console:pickup_batch", public_id)


@staff_required(perm=VIEW)
def batch_print(request, public_id: str):
    batch = selectors.pickup_batch_get(actor=request.staff, shop=request.shop, public_id=public_id)
    picks = selectors.pickup_batch_pick_list(batch=batch)
    return page(
        request, "console/pickup/batch_print.html", {"batch": batch, "printed_at": timezone.localtime(), **picks}
    )
