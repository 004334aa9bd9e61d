"""Promoter money and trust: withdrawals to approve and pay, sell-through, flags, price floors.

Finance approves and pays withdrawals (finance.manage, checked by the services); above the shop's
threshold a second, different approver is needed (withdrawals.withdrawal_approvals_needed says how
many; the page only shows it). Customer service can look but not act.
"""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from siyu.core.errors import DomainError, NotFound
from siyu.distribution import flags as flag_services
from siyu.distribution import prices, withdrawals
from siyu.distribution import trace as trace_reads
from siyu.distribution.console_reads import price_floors_of
from siyu.distribution.models import Withdrawal
from siyu.distribution.selectors import distribution_settings, withdrawals_to_approve
from siyu.distribution.sellthrough import promoter_sellthrough

from ..decorators import staff_required
from ..rendering import error_status, form_error, page
from .fission_forms import PriceFloorForm, bp_to_percent

VIEW = "console.view"
WITHDRAWAL_LABELS = dict(Withdrawal.Status.choices)
SELLTHROUGH_DAYS = (30, 90, 365)


@staff_required(perm=VIEW)
@require_GET
def withdrawal_list(request):
    shop_settings = distribution_settings(shop=request.shop)
    rows = []
    for w in withdrawals_to_approve(shop=request.shop):
        # Shown only: the service owns the rule and applies it again under the row lock.
        needed = withdrawals.withdrawal_approvals_needed(withdrawal=w, shop_settings=shop_settings)
        approvers = {a.get("staff") for a in w.approvals}
        rows.append(
            {
                "w": w,
                "status": WITHDRAWAL_LABELS.get(w.status, w.status),
                "needed": needed,
                "given": len(w.approvals),
                "mine": request.staff.pk in approvers,
            }
        )
    return page(request, "console/withdrawals.html", {"rows": rows, "threshold": shop_settings.second_approval_over})


@staff_required(perm=VIEW)
@require_POST
def withdrawal_action(request, withdrawal_id: int):
    action = request.POST.get("action", "")
    args = {"actor": request.staff, "shop": request.shop, "withdrawal_id": withdrawal_id}
    try:
        if action == "approve":
            done = withdrawals.withdrawal_approve(**args)
            text = (
                _("Approved.")
                if done.status == Withdrawal.Status.APPROVED
                else _("Approved; a second approver is needed.")
            )
        elif action == "pay":
            done = withdrawals.withdrawal_pay(**args, retry=request.POST.get("retry") == "1")
            text = _("The payout is %(status)s.") % {"status": WITHDRAWAL_LABELS.get(done.status, done.status)}
        elif action == "reject":
            withdrawals.withdrawal_reject(**args, note=request.POST.get("note", "")[:200])
            text = _("The withdrawal is rejected; the money is back in the promoter's balance.")
        else:
            messages.error(request, _("Choose an action."))
            return redirect("console:withdrawals")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
        return redirect("console:withdrawals")
    messages.success(request, text)
    return redirect("console:withdrawals")


# --- sell-through and flags --------------------------------------------------------------


@staff_required(perm=VIEW)
@require_GET
def sellthrough(request):
    text = request.GET.get("days", "")
    days = int(text) if text.isdigit() and int(text) in SELLTHROUGH_DAYS else SELLTHROUGH_DAYS[0]
    rows = promoter_sellthrough(shop=request.shop, since=timezone.now() - timedelta(days=days))
    context = {
        "rows": [
            {"r": r, "repeat": bp_to_percent(r.repeat_rate_bp), "refund": bp_to_percent(r.refund_rate_bp)} for r in rows
        ],
        "days": days,
        "day_choices": SELLTHROUGH_DAYS,
    }
    return page(request, "console/promoter_sellthrough.html", context)


FLAG_LABELS = {
    "self_purchase": gettext_lazy("Bought through their own link"),
    "address_cluster": gettext_lazy("Many buyers, one address or phone"),
    "device_cluster": gettext_lazy("Many buyers, one device"),
    "refund_spike": gettext_lazy("High refund rate"),
    "clawback_short": gettext_lazy("Refund after the money was withdrawn"),
}


@staff_required(perm=VIEW)
@require_GET
def flag_list(request):
    rows = [{"flag": f, "kind": FLAG_LABELS.get(f.kind, f.kind)} for f in flag_services.flags_open(shop=request.shop)]
    return page(request, "console/promoter_flags.html", {"rows": rows})


@staff_required(perm=VIEW)
@require_POST
def flag_resolve(request, flag_id: int):
    flag = next((f for f in flag_services.flags_open(shop=request.shop) if f.pk == flag_id), None)
    if flag is None:
        raise NotFound(detail={"flag": flag_id})
    flag_services.flag_resolve(actor=request.staff, flag=flag)
    messages.success(request, _("The flag is marked as looked at."))
    return redirect("console:promoter_flags")


# --- price floors ------------------------------------------------------------------------


def _skus(request) -> list:
    return [sku for product in trace_reads.trace_targets(shop=request.shop) for sku in product.skus.all()]


def _floors_page(request, *, skus, form=None, status: int = 200):
    rows = [{"sku": f.sku, "floor": f} for f in price_floors_of(shop=request.shop)]
    context = {"rows": rows, "form": form or PriceFloorForm(skus=skus)}
    return page(request, "console/fission_price_floors.html", context, status=status)


@staff_required(perm=VIEW)
def price_floors(request):
    skus = _skus(request)
    if request.method != "POST":
        return _floors_page(request, skus=skus)
    form = PriceFloorForm(request.POST, skus=skus)
    if not form.is_valid():
        return _floors_page(request, skus=skus, form=form, status=400)
    sku = next(s for s in skus if str(s.pk) == form.cleaned_data["sku"])
    try:
        prices.price_floor_set(actor=request.staff, sku=sku, min_price=form.cleaned_data["min_price"])
    except DomainError as exc:
        form_error(form, exc)
        return _floors_page(request, skus=skus, form=form, status=error_status(exc))
    messages.success(request, _("The minimum advertised price is saved."))
    return redirect("console:price_floors")
