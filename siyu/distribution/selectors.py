"""Reads for the promoter pages, the console and the API."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from siyu.accounts.models import Shopper
from siyu.catalog.models import Product
from siyu.catalog.selectors import products_on_sale
from siyu.shops.models import Shop

from . import ledger
from .models import Commission, DistributionSettings, Promoter, PromoterFlag, Withdrawal
from .promoters import settings_for

W = Withdrawal.Status
PENDING_WITHDRAWAL = (W.REQUESTED, W.APPROVED, W.PAYING)


def distribution_settings(*, shop: Shop) -> DistributionSettings:
    return settings_for(shop)


def promoter_for_shopper(*, shop: Shop, shopper: Shopper) -> Promoter | None:
    return Promoter.objects.filter(shop=shop, shopper=shopper).first()


def promoters_list(*, shop: Shop, status: str = "") -> QuerySet[Promoter]:
    qs = Promoter.objects.filter(shop=shop).select_related("shopper", "parent__shopper").order_by("-id")
    return qs.filter(status=status) if status else qs


def micro_shop_products(*, shop: Shop) -> QuerySet[Product]:
    """A promoter's micro-shop is the brand's own catalogue at the brand's prices: the same
    products shoppers browse; only the links carry the promoter's code."""
    return products_on_sale(shop=shop)


@dataclass
class Wallet:
    frozen: int = 0
    available: int = 0
    paid_out: int = 0
    withdrawing: int = 0  # requested, not yet paid or given back
    withdrawals: list = field(default_factory=list)


def wallet_of(*, promoter: Promoter, limit: int = 20) -> Wallet:
    """Balances from the ledger (one grouped query), money on its way out, recent withdrawals."""
    balances = ledger.balances_of(promoter=promoter)
    withdrawing = Withdrawal.objects.filter(promoter=promoter, status__in=PENDING_WITHDRAWAL).aggregate(
        total=Coalesce(Sum("amount"), 0)
    )["total"]
    return Wallet(
        frozen=balances[ledger.FROZEN],
        available=balances[ledger.AVAILABLE],
        paid_out=balances[ledger.PAID_OUT],
        withdrawing=withdrawing,
        withdrawals=list(Withdrawal.objects.filter(promoter=promoter).order_by("-id")[:limit]),
    )


# What a commission row shows (its order number and line), loaded in the one query of a list.
_COMMISSION_FIELDS = (
    "id",
    "tier",
    "base_amount",
    "rate_bp",
    "amount",
    "status",
    "created_at",
    "settle_after",
    "settled_at",
    "order__number",
    "line__product_name",
    "line__sku_label",
    "line__quantity",
)


def commissions_of(*, promoter: Promoter, status: str = "") -> QuerySet[Commission]:
    qs = (
        Commission.objects.filter(promoter=promoter)
        .select_related("order", "line")
        .only(*_COMMISSION_FIELDS)
        .order_by("-id")
    )
    return qs.filter(status=status) if status else qs


def commissions_for_shop(
    *,
    shop: Shop,
    status: str = "",
    promoter_id: int | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Commission]:
    """Every promoter's commissions in the shop, newest first, with order, line and promoter in the
    same query; `created_from` is inclusive, `created_before` exclusive."""
    qs = (
        Commission.objects.filter(shop=shop)
        .select_related("order", "line", "promoter__shopper")
        .only(*_COMMISSION_FIELDS, "promoter__id", "promoter__shopper__nickname", "promoter__shopper__phone")
        .order_by("-id")
    )
    if status:
        qs = qs.filter(status=status)
    if promoter_id is not None:
        qs = qs.filter(promoter_id=promoter_id)
    if created_from is not None:
        qs = qs.filter(created_at__gte=created_from)
    if created_before is not None:
        qs = qs.filter(created_at__lt=created_before)
    return qs


def withdrawals_to_approve(*, shop: Shop) -> QuerySet[Withdrawal]:
    return (
        Withdrawal.objects.filter(shop=shop, status__in=[W.REQUESTED, W.APPROVED])
        .select_related("promoter__shopper")
        .order_by("id")
    )


def flags_of(*, promoter: Promoter) -> list[PromoterFlag]:
    return list(PromoterFlag.objects.filter(promoter=promoter).order_by("-id")[:50])
