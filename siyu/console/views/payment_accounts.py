"""The shop's own WeChat Pay and Alipay merchant accounts (owner only: shop.manage).

Stored values are never put back into the form: ids are shown masked and keys as "set", and a
field left blank keeps what is stored. The notification address is this shop's own URL, worked
out from the host the owner is using.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.errors import DomainError
from siyu.payments.accounts import FIELDS, PROVIDERS, payment_account_save, payment_account_summaries
from siyu.payments.states import PROVIDER_LABELS

from ..decorators import staff_required
from ..rendering import error_status, form_error, page


class PaymentAccountForm(forms.Form):
    enabled = forms.BooleanField(label=gettext_lazy("Offer it to shoppers"), required=False, initial=True)

    def __init__(self, *args, provider: str, **kwargs):
        kwargs["prefix"] = provider
        super().__init__(*args, **kwargs)
        for field in FIELDS[provider]:
            widget = forms.Textarea(attrs={"rows": 4}) if field.kind != "id" else forms.TextInput()
            if field.secret or field.kind != "id":
                widget.attrs["autocomplete"] = "off"
            self.fields[field.name] = forms.CharField(
                label=field.label,
                required=False,
                max_length=8000,
                widget=widget,
                help_text=gettext_lazy("Leave blank to keep what is stored."),
            )


def _page(request, *, forms_by_provider=None, status=200):
    forms_by_provider = forms_by_provider or {}
    summaries = payment_account_summaries(shop=request.staff.shop)
    accounts = []
    for provider in PROVIDERS:
        summary = summaries[provider]
        form = forms_by_provider.get(provider) or PaymentAccountForm(
            provider=provider, initial={"enabled": summary["enabled"] or not summary["own"]}
        )
        accounts.append({"provider": provider, "label": PROVIDER_LABELS[provider], "form": form, **summary})
    return page(request, "console/payment_accounts.html", {"accounts": accounts}, status=status)


@staff_required(perm="shop.manage")
def payment_accounts(request):
    if request.method != "POST":
        return _page(request)
    provider = request.POST.get("provider", "")
    if provider not in PROVIDERS:
        return _page(request, status=400)
    form = PaymentAccountForm(request.POST, provider=provider)
    if not form.is_valid():
        return _page(request, forms_by_provider={provider: form}, status=400)
    data = dict(form.cleaned_data)
    enabled = bool(data.pop("enabled"))
    shop = request.staff.shop
    notify_url = request.build_absolute_uri(reverse("payment-notify-shop", args=[provider, shop.slug]))
    try:
        payment_account_save(
            actor=request.staff, shop=shop, provider=provider, data=data, notify_url=notify_url, enabled=enabled
        )
    except DomainError as exc:
        form_error(form, exc)
        return _page(request, forms_by_provider={provider: form}, status=error_status(exc))
    messages.success(request, _("The payment account is saved."))
    return redirect("console:payment_accounts")
