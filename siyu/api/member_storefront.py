"""Storefront endpoints for the shopper's own membership, points and personal data (PIPL).

Everything here reads the signed-in shopper's record in the requesting shop only; nothing takes
an id, so another shopper's data cannot be asked for. Reads never create a customer record: a
shopper the shop has not met yet simply has no level, no points and no consents.
"""

import json

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router
from ninja.responses import Status

from siyu.core.errors import InvalidInput
from siyu.customers.membership import member_overview
from siyu.customers.points import points_history
from siyu.customers.privacy import consent_set, shopper_data_export, shopper_delete

from .auth import shopper_auth
from .member_storefront_schemas import (
    ConsentsIn,
    ConsentsOut,
    DeleteIn,
    MembershipOut,
    PointsFilterIn,
    PointsPage,
)
from .schemas import ERRORS, page_of

router = Router(tags=["storefront membership"], auth=shopper_auth)

CONFIRM_WORDS = frozenset({"delete", "注销"})


def _benefits(level) -> list[dict]:
    found = []
    if level is not None and level.discount_bp:
        found.append({"kind": "discount", "label": gettext("Member discount"), "discount_bp": level.discount_bp})
    if level is not None and level.free_shipping:
        found.append({"kind": "free_shipping", "label": gettext("Free shipping")})
    return found


def _consents(customer) -> dict:
    marketing_at = customer.marketing_consent_at if customer else None
    profiling_at = customer.profiling_consent_at if customer else None
    return {
        "marketing": marketing_at is not None,
        "marketing_at": marketing_at,
        "profiling": profiling_at is not None,
        "profiling_at": profiling_at,
    }


@router.get("/me/membership", response={200: MembershipOut, **ERRORS})
def membership(request):
    """Level, its benefits, the next level and the spend still needed for it."""
    m = member_overview(shop=request.shop, shopper=request.auth, history_rows=0)
    return {
        "level": m.level,
        "benefits": _benefits(m.level),
        "next_level": m.next_level,
        "to_next_level_fen": m.to_next,
        "total_spent_fen": m.customer.total_spent if m.customer else 0,
        "points_balance": m.balance,
        "levels": m.levels,
    }


@router.get("/me/points", response={200: PointsPage, **ERRORS})
def points(request, filters: Query[PointsFilterIn]):
    """The points balance and its history, newest first, paged."""
    m = member_overview(shop=request.shop, shopper=request.auth, history_rows=0)
    if m.customer is None:
        page = {"count": 0, "limit": filters.limit, "offset": filters.offset, "items": []}
    else:
        # The ledger is append-only, so id order is time order and pages stay stable.
        page = page_of(points_history(customer=m.customer, limit=None), filters)
    return {
        **page,
        "balance": m.balance,
        "points_per_yuan_redeemed": m.rules.points_per_yuan_redeemed,
        "points_valid_days": m.rules.points_valid_days,
    }


@router.get("/me/consents", response={200: ConsentsOut, **ERRORS})
def consents(request):
    m = member_overview(shop=request.shop, shopper=request.auth, history_rows=0)
    return _consents(m.customer)


@router.put("/me/consents", response={200: ConsentsOut, **ERRORS})
def consents_set(request, data: ConsentsIn):
    """Both choices, every time: marketing messages and referral profiling are separate consents."""
    customer = consent_set(shop=request.shop, shopper=request.auth, marketing=data.marketing, profiling=data.profiling)
    return _consents(customer)


@router.get(
    "/me/export",
    response=ERRORS,
    openapi_extra={
        "responses": {
            200: {
                "description": "Everything kept about the shopper, as a JSON file download.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        }
    },
)
def export(request):
    """The personal-data export (PIPL) as an attachment: the same file the storefront page gives."""
    data = shopper_data_export(shopper=request.auth)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="my-data-{timezone.localdate():%Y%m%d}.json"'
    response["Cache-Control"] = "no-store"
    return response


@router.post("/me/delete", response={204: None, **ERRORS})
def delete(request, data: DeleteIn):
    """Delete the account: personal fields anonymised, orders kept, every token revoked.
    Refused (409 open_orders) while an order or after-sale is still open."""
    if data.confirm.strip().lower() not in CONFIRM_WORDS:
        raise InvalidInput(
            _('Type "delete" to confirm.'),
            code="confirm_mismatch",
            detail={"confirm": sorted(CONFIRM_WORDS)},
        )
    shopper_delete(shopper=request.auth)
    # The session signs a browser in; a deleted account must not stay signed in there either.
    request.session.flush()
    return Status(204, None)
