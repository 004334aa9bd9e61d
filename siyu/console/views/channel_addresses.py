"""Console pages for the address book: a customer's channel addresses (the block on the customer
page posts here, then comes back) and the CSV import of addresses. Viewing needs customers.view;
changing needs customers.manage (the services check it again)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.campaigns.channels import addresses
from siyu.campaigns.channels.addresses_import import MAX_BYTES, channel_addresses_import, reason_label
from siyu.campaigns.channels.models import CHANNEL_CHOICES
from siyu.core.errors import DomainError, PermissionDenied
from siyu.customers.selectors import customer_for_staff

from ..decorators import staff_required
from ..rendering import detail_text, error_status, page

LABELS = dict(CHANNEL_CHOICES)
ADDRESS_CHOICES = [(ch, LABELS[ch]) for ch in addresses.ADDRESS_CHANNELS]


class ChannelAddressForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=ADDRESS_CHOICES)
    address = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=254,
        help_text=gettext_lazy("An email address, a WeCom external_userid or an Official Account openid."),
    )


class AddressImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


def customer_addresses_block(*, request, customer) -> dict:
    """What the customer page's include (console/channels/_customer_addresses.html) needs: one query."""
    rows = addresses.channel_addresses_of(actor=request.staff, shop=request.shop, customer=customer)
    return {
        "channel_addresses": [r | {"label": LABELS[r["channel"]]} for r in rows],
        "channel_address_form": ChannelAddressForm(),
    }


def _back(public_id: str):
    return redirect("console:customer_detail", public_id=public_id)


def _refused(request, exc: DomainError) -> None:
    if exc.status in (403, 404):
        raise exc
    text = str(exc.message)
    if isinstance(exc.detail, dict) and exc.detail:
        text = f"{text} ({detail_text(exc.detail)})"
    messages.error(request, text)


@staff_required(perm=addresses.PERM_MANAGE)
@require_POST
def customer_address_set(request, public_id: str):
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    form = ChannelAddressForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return _back(public_id)
    try:
        addresses.channel_address_set(
            actor=request.staff,
            shop=request.shop,
            customer=customer,
            channel=form.cleaned_data["channel"],
            address=form.cleaned_data["address"],
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The address is saved."))
    return _back(public_id)


@staff_required(perm=addresses.PERM_MANAGE)
@require_POST
def customer_address_remove(request, public_id: str, channel: str):
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    try:
        addresses.channel_address_remove(actor=request.staff, shop=request.shop, customer=customer, channel=channel)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The address is removed."))
    return _back(public_id)


@staff_required(perm=addresses.PERM_VIEW)
def address_import(request):
    """GET: the upload form. POST: import at once (a file of up to 10 MB) and show the report."""
    form, report, status = AddressImportForm(), None, 200
    if request.method == "POST":
        if not request.staff.can(addresses.PERM_MANAGE):
            raise PermissionDenied(detail={"permission": addresses.PERM_MANAGE})
        form = AddressImportForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                content = upload.read(MAX_BYTES + 1)  # the service refuses more than MAX_BYTES
                report = channel_addresses_import(actor=request.staff, shop=request.shop, content=content)
                status = 200
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                detail = exc.detail if isinstance(exc.detail, dict) else {}
                shown = {k: v for k, v in detail.items() if k in ("missing", "file")}
                form.add_error(None, f"{exc.message} ({detail_text(shown)})" if shown else str(exc.message))
                status = error_status(exc)
    rejected = (
        [r | {"reason_text": reason_label(r["reason"])} for r in report.rejected_rows] if report is not None else []
    )
    context = {"form": form, "report": report, "rejected": rejected, "tab": "addresses"}
    return page(request, "console/channels/address_import.html", context, status=status)
