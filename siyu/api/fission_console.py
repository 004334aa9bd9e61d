"""Console endpoints for fission and distribution: analytics, referral rules, promoters, commission
rules and settings, withdrawals, sell-through, flags, price floors and traceability batches.

Staff of this shop only. The services check each permission: promoter decisions and referral
rules need customers.manage, distribution settings and rules shop.manage, withdrawals
finance.manage, traceability batches and price floors catalog.manage.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from ninja import Query, Router
from ninja.responses import Status

from siyu.catalog.selectors import sku_for_staff
from siyu.core.errors import NotFound
from siyu.customers.selectors import customer_for_staff
from siyu.distribution import flags, prices, trace, withdrawals
from siyu.distribution import promoters as promoter_services
from siyu.distribution.console_reads import commission_rules_of, price_floors_of
from siyu.distribution.models import TraceCode, TraceScan, Withdrawal
from siyu.distribution.selectors import (
    commissions_of,
    distribution_settings,
    promoters_list,
    withdrawals_to_approve,
)
from siyu.distribution.sellthrough import promoter_sellthrough
from siyu.referrals.analytics import (
    MAX_DEPTH,
    referral_funnel,
    referral_k_factor,
    referral_new_customer_share,
    referral_top_referrers,
    referral_tree,
)
from siyu.referrals.selectors import referral_settings_for_staff
from siyu.referrals.services import referral_settings_update

from .auth import staff_auth
from .fission_schemas import (
    CommissionFilterIn,
    CommissionPage,
    CommissionRuleIn,
    CommissionRuleOut,
    DistributionSettingsIn,
    DistributionSettingsOut,
    FissionOverviewOut,
    FissionPeriodIn,
    FlagOut,
    PriceFloorIn,
    PriceFloorOut,
    PromoterDecisionIn,
    PromoterFilterIn,
    PromoterOut,
    PromoterPage,
    ReferralSettingsIn,
    ReferralSettingsOut,
    RejectIn,
    SellThroughIn,
    SellThroughOut,
    StaffWithdrawalOut,
    SuspensionIn,
    TraceBatchIn,
    TraceBatchOut,
    TraceBatchPage,
    TraceCodeDetailOut,
    TraceCodeFilterIn,
    TraceCodePage,
    TreeNodeOut,
    WithdrawalPayIn,
)
from .schemas import ERRORS, Id, PageIn, page_of

router = Router(tags=["console fission"], auth=staff_auth)


# --- fission -------------------------------------------------------------------------------


@router.get("/fission/overview", response={200: FissionOverviewOut, **ERRORS})
def fission_overview(request, q: Query[FissionPeriodIn]):
    """invites → visits → sign-ups → first orders → revenue, the K-factor series, the share of new
    customers who came by referral, and the top referrers, for the last `days` days."""
    end = timezone.now()
    start = end - timedelta(days=q.days)
    shop = request.shop
    return {
        "funnel": referral_funnel(shop=shop, start=start, end=end),
        "k_factor": referral_k_factor(shop=shop, start=start, end=end, period=q.period),
        "new_customers": referral_new_customer_share(shop=shop, start=start, end=end),
        "top_referrers": referral_top_referrers(shop=shop, start=start, end=end),
    }


@router.get("/fission/tree/{public_id}", response={200: list[TreeNodeOut], **ERRORS})
def fission_tree(request, public_id: str, depth: int = Query(3, ge=1, le=MAX_DEPTH)):
    """Whom the customer brought in, and whom those brought in, `depth` levels deep."""
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    return referral_tree(shop=request.shop, customer=customer, depth=depth)


@router.get("/fission/referral-settings", response={200: ReferralSettingsOut, **ERRORS})
def referral_settings(request):
    return referral_settings_for_staff(shop=request.shop)


@router.patch("/fission/referral-settings", response={200: ReferralSettingsOut, **ERRORS})
def referral_settings_patch(request, data: ReferralSettingsIn):
    """Change the window or the rewards; fields left out keep their value."""
    changes = data.dict(exclude_unset=True, exclude_none=True)
    return referral_settings_update(actor=request.auth, shop=request.shop, data=changes)


# --- promoters -----------------------------------------------------------------------------


def _promoter(request, promoter_id: int):
    return promoter_services.promoter_get(shop=request.shop, promoter_id=promoter_id)


@router.get("/promoters", response={200: PromoterPage, **ERRORS})
def promoters(request, q: Query[PromoterFilterIn]):
    """Applications (status=applied) and promoters, newest first."""
    return page_of(promoters_list(shop=request.shop, status=q.status), q)


@router.get("/promoters/sell-through", response={200: list[SellThroughOut], **ERRORS})
def sellthrough(request, q: Query[SellThroughIn]):
    """Per promoter, over the last `days` days: orders, customers reached, repeat rate, refunds, commission."""
    return promoter_sellthrough(shop=request.shop, since=timezone.now() - timedelta(days=q.days))


@router.get("/promoters/{promoter_id}", response={200: PromoterOut, **ERRORS})
def promoter_detail(request, promoter_id: Id):
    return _promoter(request, promoter_id)


@router.post("/promoters/{promoter_id}/decision", response={200: PromoterOut, **ERRORS})
def promoter_decide(request, promoter_id: Id, data: PromoterDecisionIn):
    """Approve or reject an application."""
    return promoter_services.promoter_decide(
        actor=request.auth, promoter=_promoter(request, promoter_id), approve=data.approve, note=data.note
    )


@router.post("/promoters/{promoter_id}/suspension", response={200: PromoterOut, **ERRORS})
def promoter_suspend(request, promoter_id: Id, data: SuspensionIn):
    """Suspend a promoter (no commission on new orders; what was earned stays theirs) or resume."""
    return promoter_services.promoter_suspend(
        actor=request.auth, promoter=_promoter(request, promoter_id), note=data.note, resume=data.resume
    )


@router.get("/promoters/{promoter_id}/commissions", response={200: CommissionPage, **ERRORS})
def promoter_commissions(request, promoter_id: Id, q: Query[CommissionFilterIn]):
    return page_of(commissions_of(promoter=_promoter(request, promoter_id), status=q.status), q)


# --- settings and rules --------------------------------------------------------------------


@router.get("/distribution/settings", response={200: DistributionSettingsOut, **ERRORS})
def settings(request):
    return distribution_settings(shop=request.shop)


@router.patch("/distribution/settings", response={200: DistributionSettingsOut, **ERRORS})
def settings_patch(request, data: DistributionSettingsIn):
    """Tiers are 1 or 2 (a 3 is refused with invalid_input); there is no entry fee or recruiting reward."""
    changes = data.dict(exclude_unset=True, exclude_none=True)
    for fen_name, name in (
        ("min_withdrawal_fen", "min_withdrawal"),
        ("second_approval_over_fen", "second_approval_over"),
    ):
        if fen_name in changes:
            changes[name] = changes.pop(fen_name)
    return promoter_services.distribution_settings_update(actor=request.auth, shop=request.shop, data=changes)


@router.get("/distribution/commission-rules", response={200: list[CommissionRuleOut], **ERRORS})
def commission_rules(request):
    return list(commission_rules_of(shop=request.shop))


@router.post("/distribution/commission-rules", response={201: CommissionRuleOut, **ERRORS})
def commission_rule_set(request, data: CommissionRuleIn):
    """A rate for one product or one category and tier; replaces the rule it supersedes."""
    rule = promoter_services.commission_rule_set(actor=request.auth, shop=request.shop, **data.dict())
    return Status(201, rule)


@router.delete("/distribution/commission-rules/{rule_id}", response={204: None, **ERRORS})
def commission_rule_delete(request, rule_id: Id):
    promoter_services.commission_rule_delete(actor=request.auth, shop=request.shop, rule_id=rule_id)
    return Status(204, None)


# --- withdrawals, flags, price floors ------------------------------------------------------


@dataclass(frozen=True)
class StaffWithdrawal:
    """What StaffWithdrawalOut reads: the withdrawal's own fields, and how many different people
    must approve it (shown only: `withdrawal_approve` applies the rule again under the row lock)."""

    withdrawal: Withdrawal
    approvals_needed: int

    def __getattr__(self, name: str) -> Any:  # only names the dataclass lacks: the row's fields
        return getattr(self.withdrawal, name)


@router.get("/withdrawals", response={200: list[StaffWithdrawalOut], **ERRORS})
def withdrawal_list(request):
    """Withdrawals waiting for approval or payout, oldest first."""
    shop_settings = distribution_settings(shop=request.shop)
    return [
        StaffWithdrawal(w, withdrawals.withdrawal_approvals_needed(withdrawal=w, shop_settings=shop_settings))
        for w in withdrawals_to_approve(shop=request.shop)
    ]


def _withdrawal_args(request, withdrawal_id: int) -> dict:
    return {"actor": request.auth, "shop": request.shop, "withdrawal_id": withdrawal_id}


def _withdrawal_out(request, withdrawal: Withdrawal) -> StaffWithdrawal:
    return StaffWithdrawal(withdrawal, withdrawals.withdrawal_approvals_needed(withdrawal=withdrawal))


@router.post("/withdrawals/{withdrawal_id}/approve", response={200: StaffWithdrawalOut, **ERRORS})
def withdrawal_approve(request, withdrawal_id: Id):
    """Finance approves; above the shop's threshold a second, different approver is needed."""
    return _withdrawal_out(request, withdrawals.withdrawal_approve(**_withdrawal_args(request, withdrawal_id)))


@router.post("/withdrawals/{withdrawal_id}/pay", response={200: StaffWithdrawalOut, **ERRORS})
def withdrawal_pay(request, withdrawal_id: Id, data: WithdrawalPayIn):
    """Pay an approved withdrawal through the payout provider; calling twice pays once."""
    done = withdrawals.withdrawal_pay(**_withdrawal_args(request, withdrawal_id), retry=data.retry)
    return _withdrawal_out(request, done)


@router.post("/withdrawals/{withdrawal_id}/reject", response={200: StaffWithdrawalOut, **ERRORS})
def withdrawal_reject(request, withdrawal_id: Id, data: RejectIn):
    done = withdrawals.withdrawal_reject(**_withdrawal_args(request, withdrawal_id), note=data.note)
    return _withdrawal_out(request, done)


@router.get("/promoter-flags", response={200: list[FlagOut], **ERRORS})
def flag_list(request):
    return flags.flags_open(shop=request.shop)


@router.post("/promoter-flags/{flag_id}/resolve", response={200: FlagOut, **ERRORS})
def flag_resolve(request, flag_id: Id):
    flag = next((f for f in flags.flags_open(shop=request.shop) if f.pk == flag_id), None)
    if flag is None:
        raise NotFound(detail={"flag": flag_id})
    return flags.flag_resolve(actor=request.auth, flag=flag)


@router.get("/price-floors", response={200: list[PriceFloorOut], **ERRORS})
def price_floor_list(request):
    return list(price_floors_of(shop=request.shop))


@router.put("/price-floors/{sku_id}", response={200: PriceFloorOut, 204: None, **ERRORS})
def price_floor_put(request, sku_id: Id, data: PriceFloorIn):
    """Set the minimum advertised price of a SKU; 0 removes it (204)."""
    sku = sku_for_staff(shop=request.shop, sku_id=sku_id)
    floor = prices.price_floor_set(actor=request.auth, sku=sku, min_price=data.min_price_fen)
    return floor if floor is not None else Status(204, None)


# --- traceability --------------------------------------------------------------------------


@router.get("/trace/batches", response={200: TraceBatchPage, **ERRORS})
def trace_batches(request, q: Query[PageIn]):
    return page_of(trace.trace_batches_for_staff(shop=request.shop), q)


@router.post("/trace/batches", response={201: TraceBatchOut, **ERRORS})
def trace_batch_create(request, data: TraceBatchIn):
    """Generate `quantity` unique codes (one per physical item) for a product, optionally one SKU.
    A product, or a SKU of it, that is not this shop's is 404."""
    batch = trace.trace_batch_create(
        actor=request.auth,
        shop=request.shop,
        product=data.product,
        sku=data.sku_id,
        name=data.name,
        quantity=data.quantity,
    )
    return Status(201, trace.trace_batch_for_staff(shop=request.shop, batch_id=batch.pk))


@router.get("/trace/batches/{batch_id}", response={200: TraceBatchOut, **ERRORS})
def trace_batch(request, batch_id: Id):
    return trace.trace_batch_for_staff(shop=request.shop, batch_id=batch_id)


@router.get("/trace/batches/{batch_id}/codes", response={200: TraceCodePage, **ERRORS})
def trace_codes(request, batch_id: Id, q: Query[TraceCodeFilterIn]):
    """The batch's codes by serial, each with the URL its QR code opens; `flagged=true` for suspicious ones."""
    batch = trace.trace_batch_for_staff(shop=request.shop, batch_id=batch_id)
    return page_of(trace.trace_codes_of_batch(batch=batch, flagged_only=q.flagged), q)


@router.get("/trace/codes/{code}", response={200: TraceCodeDetailOut, **ERRORS})
def trace_code(request, code: str):
    """One code with its latest scans (time, network, a short visitor hash)."""
    found, scans = trace.trace_scans_of_code(shop=request.shop, code=code)
    return TraceCodeShown(found, scans)


@dataclass(frozen=True)
class TraceCodeShown:
    """What TraceCodeDetailOut reads: the code's own fields, and its latest scans only."""

    trace_code: TraceCode
    scans: list[TraceScan]

    def __getattr__(self, name: str) -> Any:  # only names the dataclass lacks: the row's fields
        return getattr(self.trace_code, name)
