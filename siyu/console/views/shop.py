"""Shop settings: profile and images, return policies, staff and API tokens."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.accounts import services as accounts
from siyu.accounts.selectors import staff_get, staff_list, tokens_of
from siyu.catalog.models import ReturnPolicy
from siyu.catalog.selectors import return_policy_counts
from siyu.core.errors import DomainError
from siyu.shops.services import shop_set_image, shop_update_profile

from ..decorators import staff_required
from ..forms import DefaultPolicyForm, ImageForm, ShopProfileForm, StaffCreateForm, StaffUpdateForm, TokenForm
from ..labels import POLICY_HELP, POLICY_LABELS, ROLE_HELP, ROLE_LABELS
from ..rendering import error_status, form_error, page

IMAGE_KINDS = ("logo", "banner")


# Writes and forms use `request.staff.shop`, loaded fresh with the member, not the briefly cached
# `request.shop`, so a save never writes back a stale copy.
def _profile_initial(shop) -> dict:
    return {
        "name": shop.name,
        "slogan": shop.slogan,
        "audience": shop.audience,
        "description": shop.description,
        "default_return_policy": shop.default_return_policy,
    }


def _profile_page(request, *, form=None, image_forms=None, status=200):
    image_forms = image_forms or {}
    context = {
        "form": form or ShopProfileForm(initial=_profile_initial(request.staff.shop)),
        "image_forms": [(kind, image_forms.get(kind) or ImageForm(prefix=kind)) for kind in IMAGE_KINDS],
    }
    return page(request, "console/shop_profile.html", context, status=status)


@staff_required
def shop_profile(request):
    if request.method != "POST":
        return _profile_page(request)
    form = ShopProfileForm(request.POST)
    if form.is_valid():
        try:
            shop_update_profile(actor=request.staff, shop=request.staff.shop, data=form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
            return _profile_page(request, form=form, status=error_status(exc))
        messages.success(request, _("The shop profile is saved."))
        return redirect("console:shop_profile")
    return _profile_page(request, form=form, status=400)


@staff_required
@require_POST
def shop_image(request, kind: str):
    if kind not in IMAGE_KINDS:
        raise Http404()
    form = ImageForm(request.POST, request.FILES, prefix=kind)
    if form.is_valid():
        try:
            shop_set_image(actor=request.staff, shop=request.staff.shop, kind=kind, upload=form.cleaned_data["image"])
        except DomainError as exc:
            form_error(form, exc)
            return _profile_page(request, image_forms={kind: form}, status=error_status(exc))
        messages.success(request, _("The image is uploaded."))
        return redirect("console:shop_profile")
    return _profile_page(request, image_forms={kind: form}, status=400)


@staff_required
def return_policies(request):
    form = DefaultPolicyForm(
        request.POST or None, initial={"default_return_policy": request.staff.shop.default_return_policy}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                shop_update_profile(actor=request.staff, shop=request.staff.shop, data=form.cleaned_data)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The default return policy is saved."))
                return redirect("console:return_policies")
    counts = return_policy_counts(shop=request.shop)
    policies = [
        {
            "key": policy.value,
            "label": POLICY_LABELS[policy],
            "help": POLICY_HELP[policy],
            "count": counts.get(policy.value, 0),
            "is_default": policy == request.staff.shop.default_return_policy,
        }
        for policy in ReturnPolicy
    ]
    return page(request, "console/return_policies.html", {"form": form, "policies": policies}, status=status)


def _staff_page(request, *, create_form=None, bound=None, status=200):
    """The staff list; `bound` is a (member id, form) pair to show with its errors."""
    members = staff_list(shop=request.shop)
    rows = []
    for member in members:
        if bound and bound[0] == member.pk:
            form = bound[1]
        else:
            form = StaffUpdateForm(prefix=f"m{member.pk}", initial={"role": member.role, "is_active": member.is_active})
        rows.append({"member": member, "form": form, "role_label": ROLE_LABELS.get(member.role, member.role)})
    context = {
        "rows": rows,
        "create_form": create_form or StaffCreateForm(),
        "roles": list(ROLE_HELP.items()),
        "role_labels": ROLE_LABELS,
    }
    return page(request, "console/staff.html", context, status=status)


@staff_required(perm="staff.manage")
def staff(request):
    if request.method != "POST":
        return _staff_page(request)
    form = StaffCreateForm(request.POST)
    if form.is_valid():
        try:
            member = accounts.staff_create(actor=request.staff, shop=request.shop, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
            return _staff_page(request, create_form=form, status=error_status(exc))
        messages.success(request, _("%(name)s can now sign in.") % {"name": member.display_name})
        return redirect("console:staff")
    return _staff_page(request, create_form=form, status=400)


@staff_required(perm="staff.manage")
@require_POST
def staff_update(request, staff_id: int):
    member = staff_get(shop=request.shop, staff_id=staff_id)
    form = StaffUpdateForm(request.POST, prefix=f"m{member.pk}")
    if form.is_valid():
        try:
            accounts.staff_update(actor=request.staff, member=member, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
            return _staff_page(request, bound=(member.pk, form), status=error_status(exc))
        messages.success(request, _("%(name)s is updated.") % {"name": member.display_name})
        return redirect("console:staff")
    return _staff_page(request, bound=(member.pk, form), status=400)


@staff_required
def tokens(request):
    form = TokenForm(request.POST or None)
    new_key, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                _token, new_key = accounts.token_issue(
                    shop=request.shop, staff=request.staff, name=form.cleaned_data["name"]
                )
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                # Rendered, not redirected: the key exists only in this response.
                form, status = TokenForm(), 200
    context = {"form": form, "tokens": tokens_of(staff=request.staff), "new_key": new_key}
    return page(request, "console/tokens.html", context, status=status)


@staff_required
@require_POST
def token_revoke(request, token_id: int):
    accounts.token_revoke(actor=request.staff, token_id=token_id)
    messages.success(request, _("The token is revoked."))
    return redirect("console:tokens")
