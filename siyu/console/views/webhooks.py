"""Console pages for webhooks: the list with a form to register one (its secret shown once), and an
endpoint's page with its deliveries and the actions disable/enable, rotate the secret, delete and
resend. Owners only (integrations.manage); the services check it again."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.campaigns.webhooks import selectors, services
from siyu.campaigns.webhooks.guard import MAX_URL
from siyu.campaigns.webhooks.models import DeliveryStatus
from siyu.campaigns.webhooks.notices import webhook_notices
from siyu.campaigns.webhooks.payloads import webhook_topics
from siyu.core.errors import DomainError

from ..decorators import staff_required
from ..paging import paged
from ..rendering import error_status, form_error, page

PERM = "integrations.manage"


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("URL"), max_length=MAX_URL, help_text="https://erp.example.com/siyu/webhooks"
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=lambda: [(t, t) for t in webhook_topics()],
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("All events: choose none of these and tick the box below."),
        required=False,
    )
    all_events = forms.BooleanField(label=gettext_lazy("Every event, including ones added later"), required=False)
    description = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def chosen_events(self) -> list[str]:
        return ["*"] if self.cleaned_data["all_events"] else list(self.cleaned_data["events"])


@staff_required(perm=PERM)
def webhook_list(request):
    form = WebhookForm(request.POST or None)
    created, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                created = services.endpoint_create(
                    actor=request.staff,
                    shop=request.shop,
                    url=form.cleaned_data["url"],
                    events=form.chosen_events(),
                    description=form.cleaned_data["description"],
                )
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                # Rendered, not redirected: the secret exists only in this response.
                form, status = WebhookForm(), 201
    context = {
        "form": form,
        "endpoints": selectors.endpoints_of(actor=request.staff, shop=request.shop),
        "notices": webhook_notices(shop=request.shop),
        "created": created[0] if created else None,
        "new_secret": created[1] if created else None,
        "limit": services.MAX_ENDPOINTS,
    }
    return page(request, "console/webhooks/list.html", context, status=200 if status == 201 else status)


def _detail(request, endpoint_id: str, *, new_secret: str | None = None):
    endpoint = selectors.endpoint_get(actor=request.staff, shop=request.shop, endpoint_id=endpoint_id)
    wanted = request.GET.get("status") or ""
    listing = paged(request, selectors.deliveries_of(endpoint=endpoint, status=wanted or None), per_page=30)
    context = {
        "endpoint": endpoint,
        "deliveries": listing,
        "statuses": DeliveryStatus.choices,
        "wanted": wanted,
        "new_secret": new_secret,
    }
    return page(request, "console/webhooks/detail.html", context)


@staff_required(perm=PERM)
def webhook_detail(request, endpoint_id: str):
    return _detail(request, endpoint_id)


@staff_required(perm=PERM)
@require_POST
def webhook_action(request, endpoint_id: str, action: str):
    """disable, enable, rotate (renders the new secret once) or delete."""
    kwargs = {"actor": request.staff, "shop": request.shop, "endpoint_id": endpoint_id}
    try:
        if action == "rotate":
            grace = 0 if request.POST.get("grace") == "0" else services.DEFAULT_GRACE_HOURS
            _endpoint, secret = services.endpoint_rotate_secret(**kwargs, grace_hours=grace)
            return _detail(request, endpoint_id, new_secret=secret)
        if action == "delete":
            services.endpoint_delete(**kwargs)
            messages.success(request, _("The endpoint is deleted."))
            return redirect("console:webhooks")
        done = {"disable": services.endpoint_disable, "enable": services.endpoint_enable}.get(action)
        if done is None:
            return redirect("console:webhook_detail", endpoint_id=endpoint_id)
        done(**kwargs)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("The endpoint is disabled.") if action == "disable" else _("The endpoint is enabled.")
        )
    return redirect("console:webhook_detail", endpoint_id=endpoint_id)


@staff_required(perm=PERM)
@require_POST
def webhook_resend(request, endpoint_id: str, delivery_id: str):
    try:
        services.delivery_resend(
            actor=request.staff, shop=request.shop, endpoint_id=endpoint_id, delivery_id=delivery_id
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The delivery is queued to be sent again."))
    return redirect("console:webhook_detail", endpoint_id=endpoint_id)
