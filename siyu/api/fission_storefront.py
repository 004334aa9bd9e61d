"""Storefront endpoints for fission and distribution: the shopper's invite link and referrals,
the promoter application, commissions, wallet and withdrawals; and the public traceability scan.

Everything but the scan needs a signed-in shopper and reads only that shopper's own rows.
"""

from django.urls import NoReverseMatch, reverse
from ninja import Query, Router
from ninja.responses import Status

from siyu.core.errors import NotFound
from siyu.core.security import client_ip
from siyu.distribution.promoters import promoter_apply
from siyu.distribution.selectors import commissions_of, promoter_for_shopper, wallet_of
from siyu.distribution.trace import trace_scan
from siyu.distribution.withdrawals import withdrawal_request
from siyu.referrals.selectors import invite_overview

from .auth import shopper_auth
from .fission_schemas import (
    CommissionFilterIn,
    CommissionPage,
    InviteOut,
    MyPromoterOut,
    PromoterApplyIn,
    TraceScanResultOut,
    WalletOut,
    WithdrawalOut,
    WithdrawIn,
)
from .schemas import ERRORS, page_of

router = Router(tags=["storefront fission"], auth=shopper_auth)


def _url(request, name: str) -> str | None:
    try:
        return request.build_absolute_uri(reverse(name))
    except NoReverseMatch:
        return None


@router.get("/invite", response={200: InviteOut, **ERRORS})
def invite(request):
    """Your share link (any page with `?ref=<share_code>` works), the rules, the friends you
    brought in with their first order's status, and your pending and granted rewards."""
    shopper = request.auth
    overview = invite_overview(shop=request.shop, shopper=shopper)
    return {
        "share_code": shopper.share_code,
        "share_url": f"{_url(request, 'storefront:home')}?ref={shopper.share_code}",
        "poster_url": _url(request, "storefront:invite_poster"),
        "rules": overview.rules,
        "referrals": overview.referrals,
        "pending_total": overview.pending_total,
        "granted_total": overview.granted_total,
    }


def _my_promoter(request):
    promoter = promoter_for_shopper(shop=request.shop, shopper=request.auth)
    if promoter is None:
        raise NotFound(detail={"promoter": "none"}, code="not_a_promoter")
    return promoter


@router.get("/promoter", response={200: MyPromoterOut, **ERRORS})
def promoter_status(request):
    """Your application or promoter status; 404 `not_a_promoter` when you never applied."""
    promoter = _my_promoter(request)
    promoter.shopper = request.auth
    return promoter


@router.post("/promoter/application", response={201: MyPromoterOut, **ERRORS})
def promoter_application(request, data: PromoterApplyIn):
    """Apply to become a promoter: free, no purchase needed; staff decide. Name, ID number and
    payout account are stored encrypted."""
    promoter = promoter_apply(shop=request.shop, shopper=request.auth, **data.dict())
    promoter.shopper = request.auth
    return Status(201, promoter)


@router.get("/promoter/commissions", response={200: CommissionPage, **ERRORS})
def my_commissions(request, q: Query[CommissionFilterIn]):
    """Your commissions, newest first: frozen until receipt, the return window and the freeze
    period have passed; then settled and withdrawable."""
    return page_of(commissions_of(promoter=_my_promoter(request), status=q.status), q)


@router.get("/promoter/wallet", response={200: WalletOut, **ERRORS})
def my_wallet(request):
    return wallet_of(promoter=_my_promoter(request))


@router.post("/promoter/withdrawals", response={201: WithdrawalOut, **ERRORS})
def my_withdrawal(request, data: WithdrawIn):
    """Ask to withdraw part of the withdrawable balance; finance approves and pays."""
    return Status(201, withdrawal_request(shop=request.shop, shopper=request.auth, amount=data.amount_fen))


# --- public ----------------------------------------------------------------------------------


@router.get("/trace/{code}", auth=None, response={200: TraceScanResultOut, **ERRORS})
def trace(request, code: str):
    """Scan a traceability code (no sign-in). Each call counts as one scan, except a repeat from
    the same address within a few minutes; too many calls from one address answer 429
    (`trace_rate_limited`). An unknown code answers 404 with code `trace_unknown`: the item is
    not genuine."""
    result = trace_scan(code=code, ip=client_ip(request), shop=request.shop)
    item, batch = result.code, result.code.batch
    return {
        "genuine": True,
        "suspicious": result.suspicious,
        "first_scan": result.first_scan,
        "code": item.code,
        "serial": item.serial,
        "scan_count": item.scan_count,
        "first_scan_at": item.first_scan_at,
        "product_id": batch.product.public_id,
        "product_name": batch.product.name,
        "sku_label": batch.sku.label if batch.sku else "",
        "batch": batch.name,
    }
