"""Reads of trials: the console's lists, the shopper's trials, the product panel's trial."""

from django.db.models import QuerySet

from siyu.accounts.models import Shopper
from siyu.core.permissions import require
from siyu.shops.models import Shop

from .flags import trial_flags
from .models import Trial, TrialApplication, TrialDraw, TrialStatus
from .services import VIEW

STATUS_CHOICES = tuple(TrialStatus.values)


def trials_for_staff(*, actor, shop: Shop, status: str = "") -> QuerySet[Trial]:
    require(actor, VIEW, shop_id=shop.pk)
    qs = Trial.objects.filter(shop=shop).select_related("product", "sku", "segment")
    return qs.filter(status=status) if status in STATUS_CHOICES else qs


def applications_for_staff(*, actor, shop: Shop, trial: Trial, status: str = "") -> QuerySet[TrialApplication]:
    require(actor, VIEW, shop_id=shop.pk)
    qs = (
        TrialApplication.objects.filter(shop=shop, trial=trial)
        .select_related("shopper", "address", "order", "report")
        .order_by("pk")
    )
    return qs.filter(status=status) if status else qs


def draws_for_staff(*, actor, shop: Shop, trial: Trial) -> QuerySet[TrialDraw]:
    require(actor, VIEW, shop_id=shop.pk)
    return TrialDraw.objects.filter(shop=shop, trial=trial).order_by("-pk")


def my_applications(*, shop: Shop, shopper: Shopper) -> QuerySet[TrialApplication]:
    return (
        TrialApplication.objects.filter(shop=shop, shopper=shopper)
        .select_related("trial", "trial__product", "order", "report")
        .order_by("-pk")
    )


def open_trial_for_product(*, shop: Shop, product) -> tuple[str, str] | None:
    """(public id, title) of the trial taking applications for this product, from the cached
    flags: no query at all once they are warm."""
    return trial_flags(shop_id=shop.pk).open_products.get(product.pk)
