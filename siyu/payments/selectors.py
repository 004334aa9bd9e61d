from django.db.models import QuerySet, prefetch_related_objects

from siyu.accounts.models import Shopper
from siyu.core.errors import NotFound
from siyu.orders.models import AfterSale, AfterSaleKind, Order
from siyu.orders.selectors import aftersales_for_staff
from siyu.orders.states import REFUND_DUE
from siyu.shops.models import Shop

from .models import Payment, Refund


def payment_for_shopper(*, shop: Shop, shopper: Shopper, out_trade_no: str) -> Payment:
    payment = (
        Payment.objects.select_related("order")
        .filter(shop=shop, order__shopper=shopper, out_trade_no=str(out_trade_no)[:32])
        .first()
    )
    if payment is None:
        raise NotFound(detail={"payment": out_trade_no})
    return payment


def payments_of_order(*, shop: Shop, order_id: int) -> list[Payment]:
    return list(Payment.objects.filter(shop=shop, order_id=order_id).prefetch_related("refunds"))


def order_payments_load(*, order: Order) -> Order:
    """The order with its payments (newest first), each with its refunds, loaded into the relation
    (two queries), so `order.payments.all()` and `payment.refunds.all()` query nothing more."""
    prefetch_related_objects([order], "payments__refunds")
    return order


def refunds_for_staff(*, shop: Shop, status: str = ""):
    qs = Refund.objects.filter(shop=shop).select_related("payment__order", "after_sale")
    return qs.filter(status=status) if status else qs


def aftersales_awaiting_refund(*, shop: Shop) -> QuerySet[AfterSale]:
    """Finance's queue: refunds recommended by staff (or refused by the provider), waiting for
    someone with refunds.approve. Oldest first: the shopper has waited longest."""
    return (
        aftersales_for_staff(shop=shop)
        .filter(status__in=REFUND_DUE)
        .exclude(kind=AfterSaleKind.EXCHANGE)
        .order_by("id")
    )
