"""Customer lifetime value: fit the shop's models, store each customer's figures, read them back.

`clv_fit_shop` runs nightly in the worker (and on demand): the purchase summary in one SQL
statement (clv_summary), BG/NBD and Gamma-Gamma by maximum likelihood (clv_models), then each
customer's P(alive), expected orders in the next 90 and 365 days, expected spend per order and CLV,
written in batches of BATCH rows, each batch its own short transaction (an upsert on the customer),
never one long transaction over a whole pool.

CLV = expected spend per order × Σ_{i=1..HORIZON_MONTHS} (expected orders in month i) / (1 + d)^i,
d = MONTHLY_DISCOUNT_BP / 10000, month i's expected orders being E[Y(i months)] - E[Y(i-1 months)]
from the BG/NBD (see clv_models.lifetime_value). It is revenue, not profit: no margin is applied.

Who to win back (`win_back`): a customer whose CLV is in the shop's top third (at least the 2/3
quantile of all fitted customers' CLV, WIN_BACK_TOP_SHARE) and whose P(alive) is below
WIN_BACK_P_ALIVE — valuable customers who have probably lapsed. The thresholds are constants here,
stored with each fit so the console can say which were used.
"""

import time as clock
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import numpy as np
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.crypto import mask_phone
from siyu.core.errors import NotFound
from siyu.core.money import format_yuan
from siyu.core.permissions import require
from siyu.core.spreadsheets import safe_cell
from siyu.customers.models import Customer
from siyu.shops.models import Shop

from . import clv_models
from .clv_summary import Summary, clv_summary
from .models import ClvFit, CustomerValue

PERM = "analytics.view"
HORIZON_MONTHS = 12
MONTHLY_DISCOUNT_BP = 100  # 1 % a month, about 12.7 % a year
WIN_BACK_P_ALIVE = 0.5
WIN_BACK_TOP_SHARE = 1 / 3
BATCH = 2000
WINBACK_LIMIT_MAX = 1000

_VALUE_FIELDS = [
    "shop",
    "frequency",
    "recency_days",
    "age_days",
    "mean_spend",
    "p_alive",
    "expected_orders_90",
    "expected_orders_365",
    "expected_spend",
    "clv",
    "win_back",
    "fitted_at",
]


def _predict(summary: Summary, bg: clv_models.BgNbd, gg: clv_models.GammaGamma) -> dict[str, np.ndarray]:
    x, tx, T, z = summary.frequency, summary.recency, summary.age, summary.mean_spend
    clv = clv_models.lifetime_value(
        bg, gg, x=x, tx=tx, T=T, z=z, months=HORIZON_MONTHS, monthly_discount=MONTHLY_DISCOUNT_BP / 10000
    )
    return {
        "p_alive": clv_models.p_alive(bg, x, tx, T),
        "expected_orders_90": clv_models.expected_purchases(bg, 90, x, tx, T),
        "expected_orders_365": clv_models.expected_purchases(bg, 365, x, tx, T),
        "expected_spend": clv_models.expected_spend(gg, x, z),
        "clv": np.nan_to_num(clv, nan=0.0, posinf=0.0, neginf=0.0),
    }


def _fen(values: np.ndarray) -> list[int]:
    return [int(v) for v in np.rint(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0))]


def _write_values(*, shop: Shop, summary: Summary, out: dict[str, np.ndarray], win_back, fitted_at) -> None:
    """Upsert every customer's row in batches, then drop the rows this fit did not write (customers
    who no longer have a counted purchase, or were anonymised)."""
    spend, clv, mean = _fen(out["expected_spend"]), _fen(out["clv"]), _fen(summary.mean_spend)
    for start in range(0, len(summary), BATCH):
        rows = [
            CustomerValue(
                shop=shop,
                customer_id=int(summary.customer_ids[i]),
                frequency=int(summary.frequency[i]),
                recency_days=int(summary.recency[i]),
                age_days=int(summary.age[i]),
                mean_spend=mean[i],
                p_alive=float(out["p_alive"][i]),
                expected_orders_90=float(out["expected_orders_90"][i]),
                expected_orders_365=float(out["expected_orders_365"][i]),
                expected_spend=spend[i],
                clv=clv[i],
                win_back=bool(win_back[i]),
                fitted_at=fitted_at,
            )
            for i in range(start, min(start + BATCH, len(summary)))
        ]
        with transaction.atomic():
            CustomerValue.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["customer"], update_fields=_VALUE_FIELDS
            )
    CustomerValue.objects.filter(shop=shop).exclude(fitted_at=fitted_at).delete()


def clv_fit_shop(*, shop: Shop, calibration_end: date | None = None) -> ClvFit:
    """Fit the shop's models on its purchases up to `calibration_end` (yesterday by default) and
    store every customer's figures. Too little data is not an error for the caller: the fit is
    recorded as failed with the reason (clv_too_few_customers) and earlier figures stay."""
    started = clock.perf_counter()
    fitted_at = timezone.now()
    calibration_end = calibration_end or timezone.localdate() - timedelta(days=1)
    summary = clv_summary(shop=shop, calibration_end=calibration_end)
    fit = ClvFit(shop=shop, fitted_at=fitted_at, calibration_end=calibration_end, customers=len(summary))
    fit.repeaters = int((summary.frequency > 0).sum())
    try:
        bg = clv_models.bgnbd_fit(summary.frequency, summary.recency, summary.age)
        gg = clv_models.gamma_gamma_fit(summary.frequency, summary.mean_spend)
    except clv_models.ClvDataTooFew as error:
        fit.status, fit.error_code, fit.error_message = ClvFit.Status.FAILED, error.code, str(error.message)[:200]
        fit.parameters = {"detail": error.detail}
        fit.seconds = clock.perf_counter() - started
        fit.save()
        return fit
    out = _predict(summary, bg, gg)
    clv_from = float(np.quantile(out["clv"], 1 - WIN_BACK_TOP_SHARE))
    win_back = (out["clv"] >= clv_from) & (out["p_alive"] < WIN_BACK_P_ALIVE) & (out["clv"] > 0)
    _write_values(shop=shop, summary=summary, out=out, win_back=win_back, fitted_at=fitted_at)
    fit.status = ClvFit.Status.OK
    fit.parameters = {
        "r": bg.r,
        "alpha": bg.alpha,
        "a": bg.a,
        "b": bg.b,
        "p": gg.p,
        "q": gg.q,
        "gamma": gg.gamma,
        "ll_bgnbd": bg.log_likelihood,
        "ll_gamma_gamma": gg.log_likelihood,
        "horizon_months": HORIZON_MONTHS,
        "monthly_discount_bp": MONTHLY_DISCOUNT_BP,
        "win_back_p_alive": WIN_BACK_P_ALIVE,
        "win_back_clv_from": int(round(clv_from)),
    }
    fit.seconds = clock.perf_counter() - started
    fit.save()
    return fit


def clv_fit_all() -> dict:
    """Nightly: every shop, one after the other. Returns how many shops fitted and failed."""
    done = {"fitted": 0, "failed": 0}
    for shop in Shop.objects.order_by("pk").iterator():
        fit = clv_fit_shop(shop=shop)
        done["fitted" if fit.status == ClvFit.Status.OK else "failed"] += 1
    return done


# --- reading -----------------------------------------------------------------------------------


def clv_latest_fit(*, actor, shop: Shop) -> ClvFit | None:
    """The shop's most recent fit, successful or not."""
    require(actor, PERM, shop_id=shop.pk)
    return ClvFit.objects.filter(shop=shop).first()


def customer_value_for(*, shop: Shop, customer: Customer) -> CustomerValue | None:
    """The customer's figures from the last fit, or None before one covered them. One query."""
    return CustomerValue.objects.filter(shop=shop, customer=customer).first()


def customer_value_by_public_id(*, actor, shop: Shop, public_id: str) -> CustomerValue:
    require(actor, PERM, shop_id=shop.pk)
    customer = Customer.objects.filter(shop=shop, public_id=str(public_id)[:16]).first()
    if customer is None:
        raise NotFound(detail={"customer": public_id})
    value = customer_value_for(shop=shop, customer=customer)
    if value is None:
        message = _("No lifetime value yet: the last fit found no purchase of this customer.")
        raise NotFound(message, code="clv_not_fitted", detail={"customer": public_id})
    return value


def winback_candidates(*, shop: Shop, limit: int = 100) -> QuerySet[CustomerValue]:
    """Who to win back, most valuable first: customers flagged win_back at the last fit (CLV in the
    top third, P(alive) below WIN_BACK_P_ALIVE), by CLV then by P(alive) (the likelier lapsed first).
    With their customer row (one query). For the console, the API and the journeys engine."""
    limit = max(0, min(int(limit), WINBACK_LIMIT_MAX))
    return (
        CustomerValue.objects.filter(shop=shop, win_back=True, customer__anonymized_at__isnull=True)
        .select_related("customer")
        .order_by("-clv", "p_alive", "customer_id")[:limit]
    )


def winback_list(*, actor, shop: Shop, limit: int = 100) -> list[CustomerValue]:
    require(actor, PERM, shop_id=shop.pk)
    return list(winback_candidates(shop=shop, limit=limit))


WINBACK_EXPORT_HEADER = [
    "public_id",
    "name",
    "phone",
    "clv",
    "p_alive",
    "expected_orders_365",
    "expected_spend",
    "frequency",
    "recency_days",
    "age_days",
    "last_order_at",
]


def winback_export(*, actor, shop: Shop) -> Iterator[list[str]]:
    """CSV rows (header first) of every win-back candidate, phones masked, as the list orders them."""
    require(actor, PERM, shop_id=shop.pk)
    yield list(WINBACK_EXPORT_HEADER)
    rows = (
        CustomerValue.objects.filter(shop=shop, win_back=True, customer__anonymized_at__isnull=True)
        .order_by("-clv", "p_alive", "customer_id")
        .values_list(
            "customer__public_id",
            "customer__name",
            "customer__phone",
            "clv",
            "p_alive",
            "expected_orders_365",
            "expected_spend",
            "frequency",
            "recency_days",
            "age_days",
            "customer__last_order_at",
        )
    )
    for pid, name, phone, clv, alive, orders, spend, freq, rec, age, last in rows.iterator(chunk_size=2000):
        last_text = timezone.localtime(last).strftime("%Y-%m-%d") if isinstance(last, datetime) else ""
        yield [
            pid,
            safe_cell(name),
            mask_phone(phone or ""),
            format_yuan(clv),
            f"{alive:.3f}",
            f"{orders:.2f}",
            format_yuan(spend),
            str(freq),
            str(rec),
            str(age),
            last_text,
        ]
