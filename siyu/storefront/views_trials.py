"""Shopper pages for trials: the trial (apply with one of your addresses), "my trials" (status,
the free order, the report deadline) and the report form."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from siyu.accounts.selectors import addresses_of
from siyu.community.trials import applications, reports, selectors
from siyu.community.trials.models import TrialApplication
from siyu.core.errors import DomainError

from .helpers import current_shopper, not_found_as_404, shopper_required


@not_found_as_404
@require_http_methods(["GET", "POST"])
def trial_page(request, public_id: str):
    trial = applications.trial_for_shopper(shop=request.shop, public_id=public_id)
    shopper = current_shopper(request)
    error, status = None, 200
    if request.method == "POST":
        if shopper is None:
            return redirect("storefront:login")
        try:
            applications.trial_apply(
                shop=request.shop,
                shopper=shopper,
                public_id=trial.public_id,
                address_id=request.POST.get("address", ""),
                reason=request.POST.get("reason", "")[:400],
            )
        except DomainError as exc:
            error, status = exc, exc.status
        else:
            messages.success(request, _("Applied. We will tell you if you are selected."))
            return redirect("storefront:my_trials")
    mine = None
    addresses = []
    if shopper is not None:
        mine = TrialApplication.objects.filter(trial=trial, shopper=shopper).first()
        addresses = addresses_of(shop=request.shop, shopper=shopper) if mine is None else []
    return render(
        request,
        "storefront/trials/trial.html",
        {
            "trial": trial,
            "accepting": applications.trial_accepting(trial),
            "shopper": shopper,
            "mine": mine,
            "addresses": addresses,
            "error": error,
        },
        status=status,
    )


@shopper_required
@require_GET
def my_trials(request):
    shopper = current_shopper(request)
    rows = []
    for app in selectors.my_applications(shop=request.shop, shopper=shopper)[:50]:
        received = app.order.received_at if app.order else None
        rows.append({"app": app, "due": reports.report_due_at(app.trial, received_at=received) if app.order else None})
    return render(request, "storefront/trials/my_trials.html", {"rows": rows})


@shopper_required
@require_http_methods(["GET", "POST"])
def trial_report(request, application_id: str):
    shopper = current_shopper(request)
    app = reports.application_of_shopper(shop=request.shop, shopper=shopper, public_id=application_id)
    error, status = None, 200
    if request.method == "POST":
        answers = {
            q["id"]: {
                "rating": request.POST.get(f"{q['id']}_rating", ""),
                "text": request.POST.get(f"{q['id']}_text", ""),
            }
            for q in app.trial.questions
        }
        try:
            reports.report_submit(
                shop=request.shop,
                shopper=shopper,
                application_id=app.public_id,
                rating=request.POST.get("rating", ""),
                text=request.POST.get("text", "")[:600],
                answers=answers,
                photos=request.FILES.getlist("photos"),
            )
        except DomainError as exc:
            error, status = exc, exc.status
        else:
            messages.success(request, _("Thank you for your report."))
            return redirect("storefront:my_trials")
    report = getattr(app, "report", None) if hasattr(app, "report") else None
    received = app.order.received_at if app.order else None
    return render(
        request,
        "storefront/trials/report.html",
        {
            "app": app,
            "trial": app.trial,
            "report": report,
            "due": reports.report_due_at(app.trial, received_at=received) if app.order else None,
            "error": error,
            "stars": range(5, 0, -1),
        },
        status=status,
    )
