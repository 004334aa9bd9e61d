"""Console pages for message channels: the settings page (which channels are on, credentials,
costs, rate limits, quiet hours, frequency cap) and the message log. Viewing needs customers.view;
changing needs integrations.manage (the service checks it again)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.campaigns.channels import config, selectors
from siyu.campaigns.channels.messages import CHANNELS
from siyu.campaigns.channels.models import CHANNEL_CHOICES, MessageStatus
from siyu.core.errors import DomainError

from ..decorators import staff_required
from ..paging import paged
from ..rendering import error_status, form_error, page

LABELS = dict(CHANNEL_CHOICES)
CREDENTIAL_LABELS = {
    "from_email": gettext_lazy("Sender address"),
    "corp_id": gettext_lazy("Corp ID"),
    "app_id": gettext_lazy("App ID"),
    "secret": gettext_lazy("Secret"),
    "template_id": gettext_lazy("Template ID"),
    "field": gettext_lazy("Template field for the text"),
    "inbound_token": gettext_lazy("Reply callback token"),
}


class ChannelSettingsForm(forms.Form):
    quiet_start = forms.RegexField(
        label=gettext_lazy("Quiet hours from"), regex=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", max_length=5
    )
    quiet_end = forms.RegexField(
        label=gettext_lazy("Quiet hours until"), regex=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", max_length=5
    )
    cap_messages = forms.IntegerField(label=gettext_lazy("At most marketing messages per customer"), min_value=0)
    cap_days = forms.IntegerField(label=gettext_lazy("Within days"), min_value=1)

    def __init__(self, *args, view: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = []
        for item in view["channels"]:
            ch = item["channel"]
            names = [f"{ch}-enabled", f"{ch}-cost_fen", f"{ch}-rate_per_minute"]
            self.fields[names[0]] = forms.BooleanField(label=gettext_lazy("On"), required=False)
            self.fields[names[1]] = forms.IntegerField(label=gettext_lazy("Cost per message (fen)"), min_value=0)
            self.fields[names[2]] = forms.IntegerField(label=gettext_lazy("At most per minute"), min_value=1)
            for key in item["credential_keys"]:
                name = f"{ch}-cred-{key}"
                is_set = key in item["credentials_set"]
                secret = key in config.SECRET_KEYS
                self.fields[name] = forms.CharField(
                    label=CREDENTIAL_LABELS.get(key, key),
                    required=False,
                    max_length=500,
                    widget=forms.PasswordInput(render_value=False) if secret else forms.TextInput,
                    help_text=_("Set; leave empty to keep it.") if is_set else "",
                )
                names.append(name)
            self.groups.append({"channel": ch, "label": LABELS[ch], "fields": [self[n] for n in names]})

    @staticmethod
    def initial_for(view: dict) -> dict:
        initial = {k: view[k] for k in ("quiet_start", "quiet_end", "cap_messages", "cap_days")}
        for item in view["channels"]:
            for key in ("enabled", "cost_fen", "rate_per_minute"):
                initial[f"{item['channel']}-{key}"] = item[key]
        return initial

    def service_data(self) -> dict:
        data = self.cleaned_data
        channels = []
        for ch in CHANNELS:
            creds = {
                key: data[f"{ch}-cred-{key}"]
                for key in config.CREDENTIAL_KEYS[ch]
                if data.get(f"{ch}-cred-{key}")  # empty keeps the saved value
            }
            item = {k: data[f"{ch}-{k}"] for k in ("enabled", "cost_fen", "rate_per_minute")}
            channels.append({"channel": ch, **item, **({"credentials": creds} if creds else {})})
        return {k: data[k] for k in ("quiet_start", "quiet_end", "cap_messages", "cap_days")} | {"channels": channels}


@staff_required(perm=config.PERM_VIEW)
def channel_settings(request):
    view = selectors.channel_settings_view(actor=request.staff, shop=request.shop)
    status = 200
    if request.method == "POST":
        form = ChannelSettingsForm(request.POST, view=view)
        status = 400
        if form.is_valid():
            try:
                config.channel_settings_update(actor=request.staff, shop=request.shop, data=form.service_data())
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The channel settings are saved."))
                return redirect("console:channel_settings")
    else:
        form = ChannelSettingsForm(initial=ChannelSettingsForm.initial_for(view), view=view)
    context = {"form": form, "view": view, "can_edit": request.staff.can(config.PERM_MANAGE)}
    return page(request, "console/channels/settings.html", context, status=status)


@staff_required(perm=config.PERM_VIEW)
def message_log(request):
    channel = request.GET.get("channel", "")
    status = request.GET.get("status", "")
    channel = channel if channel in CHANNELS else ""
    status = status if status in MessageStatus.values else ""
    rows = selectors.messages_of(actor=request.staff, shop=request.shop, channel=channel, status=status)
    context = {
        "listing": paged(request, rows, per_page=50),
        "channel": channel,
        "status": status,
        "channels": CHANNEL_CHOICES,
        "statuses": MessageStatus.choices,
    }
    return page(request, "console/channels/messages.html", context)
