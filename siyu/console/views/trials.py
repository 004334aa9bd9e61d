"""Trials (试用) in the console: the list, the form (new and edit a draft), and the trial's page —
status buttons, applicants with hand selection and a recorded random draw, the draws, the reports
(publish as a review, hide, show again).

The services check every permission (promotions.manage to change); the pages need promotions.view
and only hide the buttons a role cannot use.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from siyu.catalog.models import ProductStatus, Sku
from siyu.community.trials import reports, selection, selectors, services
from siyu.community.trials.models import TrialStatus
from siyu.core.errors import DomainError
from siyu.core.money import format_yuan
from siyu.customers.models import Segment

from ..decorators import staff_required
from ..forms import choice_field
from ..paging import paged
from ..rendering import error_status, form_error, page

VIEW = services.VIEW
MAX_CHOICES = 500
# What each status button moves the trial to, and its label.
MOVES: dict[str, list] = {
    TrialStatus.DRAFT: [(TrialStatus.OPEN, gettext_lazy("Open for applications"))],
    TrialStatus.OPEN: [(TrialStatus.SELECTING, gettext_lazy("Close applications and select"))],
    TrialStatus.SELECTING: [(TrialStatus.RUNNING, gettext_lazy("Selection done: start the trial"))],
    TrialStatus.RUNNING: [],
}


class TrialForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=60)
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    sku = forms.ChoiceField(label=gettext_lazy("Variant"))
    quantity = forms.IntegerField(
        label=gettext_lazy("Units to give"),
        min_value=1,
        max_value=services.MAX_QUANTITY,
        help_text=gettext_lazy("One per selected shopper, sent as a free order (the shop pays the postage)."),
    )
    apply_starts_at = forms.DateTimeField(
        label=gettext_lazy("Applications open"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    apply_ends_at = forms.DateTimeField(
        label=gettext_lazy("Applications close"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    report_days = forms.IntegerField(
        label=gettext_lazy("Report due days after receipt"),
        min_value=1,
        max_value=services.MAX_REPORT_DAYS,
        required=False,
        help_text=gettext_lazy("Give this or a fixed date below, not both."),
    )
    report_due_on = forms.DateField(
        label=gettext_lazy("Or report due by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    segment = forms.ChoiceField(label=gettext_lazy("Who may apply"), required=False)
    questions = forms.CharField(
        label=gettext_lazy("Report questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One per line; each is answered with 1 to 5 stars and a comment."),
    )

    def __init__(self, *args, shop=None, **kwargs):
        super().__init__(*args, **kwargs)
        skus = (
            Sku.objects.filter(shop=shop, is_active=True, product__status=ProductStatus.ON_SALE)
            .select_related("product")
            .order_by("product__name", "id")[:MAX_CHOICES]
        )
        choice_field(self, "sku").choices = [("", "—")] + [
            (str(s.pk), f"{s.product.name}{' · ' + s.label if s.label else ''} (¥{format_yuan(s.price)}, {s.stock})")
            for s in skus
        ]
        segments = Segment.objects.filter(shop=shop).order_by("name")[:MAX_CHOICES]
        choice_field(self, "segment").choices = [("", _("Anyone"))] + [
            (str(s.pk), f"{s.name} ({s.member_count})") for s in segments
        ]


def _initial(trial) -> dict:
    local = lambda value: value.astimezone().replace(tzinfo=None)  # noqa: E731 - the input shows shop time
    return {
        "title": trial.title,
        "description": trial.description,
        "sku": str(trial.sku_id),
        "quantity": trial.quantity,
        "apply_starts_at": local(trial.apply_starts_at),
        "apply_ends_at": local(trial.apply_ends_at),
        "report_days": trial.report_days,
        "report_due_on": trial.report_due_on,
        "segment": str(trial.segment_id or ""),
        "questions": "\n".join(q["text"] for q in trial.questions),
    }


@staff_required(perm=VIEW)
def trial_list(request):
    wanted = request.GET.get("status", "")
    rows = paged(request, selectors.trials_for_staff(actor=request.staff, shop=request.shop, status=wanted))
    return page(
        request,
        "console/trials/list.html",
        {"paged": rows, "status": wanted, "statuses": TrialStatus.choices},
    )


@staff_required(perm=VIEW)
@require_http_methods(["GET", "POST"])
def trial_form(request, public_id: str = ""):
    """New trial, or a draft's edit form."""
    trial = services.trial_for_staff(actor=request.staff, shop=request.shop, public_id=public_id) if public_id else None
    form = TrialForm(request.POST or None, shop=request.shop, initial=_initial(trial) if trial else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if trial is None:
                    trial = services.trial_create(actor=request.staff, shop=request.shop, data=data)
                else:
                    services.trial_update(actor=request.staff, shop=request.shop, public_id=public_id, data=data)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("console:trial", trial.public_id)
    return page(request, "console/trials/form.html", {"form": form, "trial": trial}, status=status)


@staff_required(perm=VIEW)
def trial_detail(request, public_id: str):
    trial = services.trial_for_staff(actor=request.staff, shop=request.shop, public_id=public_id)
    wanted = request.GET.get("applications", "")
    applicants = paged(
        request,
        selectors.applications_for_staff(actor=request.staff, shop=request.shop, trial=trial, status=wanted),
        param="page",
    )
    report_rows = paged(
        request,
        reports.reports_for_staff(actor=request.staff, shop=request.shop, trial=trial).select_related("review"),
        param="reports_page",
    )
    return page(
        request,
        "console/trials/detail.html",
        {
            "trial": trial,
            "status_label": services.TRIAL_STATES.label(trial.status),
            "moves": MOVES.get(trial.status, []),
            "closable": trial.status != TrialStatus.CLOSED,
            "selecting": trial.status == TrialStatus.SELECTING,
            "applicants": applicants,
            "wanted": wanted,
            "draws": list(selectors.draws_for_staff(actor=request.staff, shop=request.shop, trial=trial)[:10]),
            "reports": report_rows,
            "units_left": trial.quantity - trial.selected_count,
        },
    )


def _act(request, public_id: str, action: str) -> str:
    """Run one action; returns the message to show."""
    common = {"actor": request.staff, "shop": request.shop}
    post = request.POST
    if action == "move":
        services.trial_move(**common, public_id=public_id, to=post.get("to", ""), why=post.get("why", "")[:200])
        return _("Saved.")
    if action == "select":
        orders = selection.applications_select(
            **common, public_id=public_id, application_ids=post.getlist("applications")[: selection.MAX_PICK]
        )
        return _("Selected; %(n)s free orders placed.") % {"n": len(orders)}
    if action == "draw":
        draw = selection.trial_draw(**common, public_id=public_id, count=post.get("count", ""))
        return _("Drawn: %(n)s winners; seed %(seed)s.") % {"n": len(draw.winners), "seed": draw.seed}
    if action == "order_again":
        selection.trial_order_again(**common, application_id=post.get("application", ""))
        return _("Order placed.")
    report_id = post.get("report", "")
    if action == "publish":
        reports.report_publish_review(**common, public_id=report_id)
        return _("Published as a review.")
    if action == "hide":
        reports.report_hide(**common, public_id=report_id, reason=post.get("reason", "")[:300])
        return _("Report hidden.")
    if action == "unhide":
        reports.report_unhide(**common, public_id=report_id)
        return _("Report shown again.")
    return ""


@staff_required(perm=VIEW)
@require_POST
def trial_action(request, public_id: str):
    services.trial_for_staff(actor=request.staff, shop=request.shop, public_id=public_id)
    try:
        done = _act(request, public_id, request.POST.get("action", ""))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, f"{exc.message} {exc.detail or ''}".strip())
    else:
        if done:
            messages.success(request, done)
        else:
            messages.error(request, _("Unknown action."))
    return redirect("console:trial", public_id)
