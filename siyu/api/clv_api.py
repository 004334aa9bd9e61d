"""API operations for customer lifetime value.

`console_router` joins /api/v1/console/: the last fit (status and parameters), one customer's
figures, and the win-back list. Staff with analytics.view; the services check it.
"""

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Query, Router, Schema

from siyu.analytics import clv

from .auth import staff_auth
from .schemas import ERRORS

console_router = Router(tags=["console clv"], auth=staff_auth)


class ClvFitOut(Schema):
    fitted: bool = Field(description="false before the shop's first fit; the other fields are then empty")
    fitted_at: datetime | None = None
    calibration_end: date | None = None
    status: str = Field("", description="ok | failed")
    error_code: str = ""
    error_message: str = ""
    customers: int = 0
    repeaters: int = 0
    parameters: dict = Field(
        default_factory=dict,
        description="r, alpha, a, b (BG/NBD, days), p, q, gamma (Gamma-Gamma, fen), log-likelihoods, "
        "horizon_months, monthly_discount_bp, win_back_p_alive, win_back_clv_from (fen)",
    )


class CustomerValueOut(Schema):
    customer: str = Field(description="the customer's public id")
    frequency: int = Field(description="repeat purchase days")
    recency_days: int
    age_days: int
    mean_spend: int = Field(description="fen, mean of the repeat purchase days")
    p_alive: float
    expected_orders_90: float
    expected_orders_365: float
    expected_spend: int = Field(description="fen per future order")
    clv: int = Field(description="fen, discounted, over the fit's horizon")
    win_back: bool
    fitted_at: datetime


class WinBackOut(Schema):
    items: list[CustomerValueOut]


def _value(v) -> dict:
    return {
        "customer": v.customer.public_id,
        **{
            name: getattr(v, name)
            for name in (
                "frequency", "recency_days", "age_days", "mean_spend", "p_alive", "expected_orders_90",
                "expected_orders_365", "expected_spend", "clv", "win_back", "fitted_at",
            )
        },
    }  # fmt: skip


@console_router.get("/clv/fit", response={200: ClvFitOut, **ERRORS})
def clv_fit(request):
    """The shop's most recent fit of the lifetime value models, successful or not."""
    fit = clv.clv_latest_fit(actor=request.auth, shop=request.shop)
    if fit is None:
        return {"fitted": False}
    return {
        "fitted": True,
        **{
            name: getattr(fit, name)
            for name in (
                "fitted_at", "calibration_end", "status", "error_code", "error_message", "customers", "repeaters",
                "parameters",
            )
        },
    }  # fmt: skip


@console_router.get("/clv/customers/{public_id}", response={200: CustomerValueOut, **ERRORS})
def clv_customer(request, public_id: str):
    """One customer's CLV figures from the last fit (404 clv_not_fitted before one covered them)."""
    value = clv.customer_value_by_public_id(actor=request.auth, shop=request.shop, public_id=public_id)
    return _value(value)


class WinBackQuery(Schema):
    limit: Annotated[int, Field(ge=1, le=clv.WINBACK_LIMIT_MAX)] = 100


@console_router.get("/clv/win-back", response={200: WinBackOut, **ERRORS})
def clv_win_back(request, query: Query[WinBackQuery]):
    """Who to win back, most valuable first: CLV in the top third and P(alive) below one half."""
    rows = clv.winback_list(actor=request.auth, shop=request.shop, limit=query.limit)
    return {"items": [_value(v) for v in rows]}
