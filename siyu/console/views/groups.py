"""Console pages for community groups (社群): the list with its leaderboard (members, new members
this week, orders, revenue, repeat rate), a group's page (figures, new members per week, best
products, members with add and remove, its join link and QR poster), and the create/edit form.
The services check the permissions again: reading needs customers.view, changes customers.manage."""

from typing import cast

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.accounts.selectors import staff_list
from siyu.community.groups import selectors, services
from siyu.community.groups.models import Group, GroupKind
from siyu.core.errors import DomainError

from ..decorators import staff_required
from ..paging import paged
from ..rendering import error_status, form_error, page

SORT_LABELS = {
    "revenue": gettext_lazy("Revenue"),
    "orders": gettext_lazy("Orders"),
    "members": gettext_lazy("Members"),
    "new_members": gettext_lazy("New this week"),
    "repeat_rate": gettext_lazy("Repeat rate"),
}


class GroupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=services.MAX_NAME)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=GroupKind.choices)
    leader_customer = forms.CharField(
        label=gettext_lazy("Leader (customer)"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("The customer's id or phone number. Leave empty for a staff leader or none."),
    )
    leader_staff = forms.TypedChoiceField(
        label=gettext_lazy("Leader (staff member)"), required=False, coerce=int, empty_value=None
    )
    reward_leader = forms.BooleanField(
        label=gettext_lazy("Pay the leader commission on the group's sales"),
        required=False,
        help_text=gettext_lazy(
            "The customer leader must be an approved promoter. They earn the ordinary commission on orders "
            "that come through the group and carry no other sharer's code; never for members joining."
        ),
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags"), required=False, max_length=200, help_text=gettext_lazy("Separated by commas.")
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        required=False,
        max_length=services.MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["leader_staff"]).choices = [("", "—"), *staff_choices]


def _staff_choices(request) -> list[tuple[int, str]]:
    return [(s.pk, str(s)) for s in staff_list(shop=request.shop) if s.is_active]


def _initial(group: Group) -> dict:
    return {
        "name": group.name,
        "kind": group.kind,
        "leader_customer": group.leader_customer.public_id if group.leader_customer else "",
        "leader_staff": group.leader_staff_id,
        "reward_leader": bool(group.leader_promoter_id),
        "tags": ", ".join(group.tags),
        "notes": group.notes,
        "is_active": group.is_active,
    }


@staff_required(perm=selectors.VIEW)
def group_list(request):
    g = request.GET
    kind = g.get("kind", "") if g.get("kind", "") in GroupKind.values else ""
    sort = g.get("sort", "revenue") if g.get("sort", "") in selectors.SORTS else "revenue"
    ranked = selectors.group_leaderboard(
        actor=request.staff, shop=request.shop, sort=sort, q=g.get("q", "")[:40], kind=kind
    )
    listing = paged(request, ranked, per_page=30)
    context = {"listing": listing, "g": g, "kind": kind, "sort": sort, "kinds": GroupKind.choices, "sorts": SORT_LABELS}
    return page(request, "console/groups/list.html", context)


def _form_refusal(form: GroupForm, exc: DomainError) -> None:
    """A leader who cannot be found is a mistake in the form, not a missing page."""
    missing = exc.detail if exc.status == 404 and isinstance(exc.detail, dict) else {}
    if missing and set(missing) <= set(form.fields):
        for field in missing:
            form.add_error(field, str(exc.message))
        return
    form_error(form, exc)


def _form_page(request, *, group: Group | None):
    initial = _initial(group) if group else {"is_active": True}
    form = GroupForm(request.POST or None, initial=initial, staff_choices=_staff_choices(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if group is None:
                    group = services.group_create(actor=request.staff, shop=request.shop, data=data)
                else:
                    group = services.group_update(
                        actor=request.staff, shop=request.shop, group_id=group.public_id, data=data
                    )
            except DomainError as exc:
                _form_refusal(form, exc)
                status = 400 if exc.status == 404 else error_status(exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("console:group_detail", public_id=group.public_id)
    return page(request, "console/groups/form.html", {"form": form, "group": group}, status=status)


@staff_required(perm=selectors.MANAGE)
def group_new(request):
    return _form_page(request, group=None)


@staff_required(perm=selectors.MANAGE)
def group_edit(request, public_id: str):
    return _form_page(
        request, group=selectors.group_for_staff(actor=request.staff, shop=request.shop, public_id=public_id)
    )


@staff_required(perm=selectors.VIEW)
def group_detail(request, public_id: str):
    group = selectors.group_for_staff(actor=request.staff, shop=request.shop, public_id=public_id)
    detail = selectors.group_detail(actor=request.staff, shop=request.shop, group=group)
    members = paged(request, selectors.group_members(actor=request.staff, shop=request.shop, group=group), per_page=30)
    peak = max([n for _week, n in detail.weekly] + [1])
    weekly = [(week, n, n * 100 // peak) for week, n in detail.weekly]
    context = {"group": group, "detail": detail, "f": detail.figures, "members": members, "weekly": weekly}
    return page(request, "console/groups/detail.html", context)


@require_POST
@staff_required(perm=selectors.MANAGE)
def group_member_add(request, public_id: str):
    try:
        services.group_member_add(
            actor=request.staff, shop=request.shop, group_id=public_id, customer=request.POST.get("customer", "")[:20]
        )
        messages.success(request, _("Member added."))
    except DomainError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
    return redirect("console:group_detail", public_id=public_id)


@require_POST
@staff_required(perm=selectors.MANAGE)
def group_member_remove(request, public_id: str):
    try:
        services.group_member_remove(
            actor=request.staff, shop=request.shop, group_id=public_id, customer=request.POST.get("customer", "")[:20]
        )
        messages.success(request, _("Member removed."))
    except DomainError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
    return redirect("console:group_detail", public_id=public_id)
