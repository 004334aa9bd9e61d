"""After-sales under real concurrency on PostgreSQL: threads with their own connections."""

import secrets

import pytest

from siyu.catalog.models import Sku
from siyu.core.errors import Conflict
from siyu.orders.checkout import order_place
from siyu.orders.models import AfterSale, AfterSaleStatus
from siyu.payments.aftersales import aftersale_receive_return, aftersale_review, aftersale_withdraw

from ..factories import make_product
from .helpers import ask, deliver
from .test_concurrency import make_buyers, run_parallel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]
A = AfterSaleStatus


def test_two_exchanges_for_the_last_unit_one_ships_the_other_waits(shop, owner):
    product = make_product(shop, name="衬衫", price=9900, stock=5)
    m = product.skus.get()
    large = Sku.objects.create(shop=shop, product=product, spec_key="L", spec_values=["L"], price=9900, stock=1)
    sales = []
    for buyer, address in make_buyers(shop, 2):
        order = order_place(
            shop=shop,
            shopper=buyer,
            items=[{"sku": m.pk, "quantity": 1}],
            address_id=address.public_id,
            idempotency_key=secrets.token_hex(8),
        )
        deliver(order, owner)
        sale = ask(order, order.lines.get(), "exchange", 1, "no_reason")
        aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True, replacement_sku_id=large.pk)
        sales.append(sale)
    results = run_parallel(
        lambda public_id: aftersale_receive_return(actor=owner, shop=shop, public_id=public_id),
        [(s.public_id,) for s in sales],
        workers=2,
    )
    assert not [r for r in results if isinstance(r, Exception)]
    statuses = sorted(AfterSale.objects.filter(pk__in=[s.pk for s in sales]).values_list("status", flat=True))
    assert statuses == sorted([A.REPLACEMENT_READY, A.AWAITING_STOCK])
    assert Sku.objects.get(pk=large.pk).stock == 0
    assert Sku.objects.get(pk=m.pk).stock == 5 - 2 + 2  # both returned units are back


@pytest.mark.parametrize("approve", [True, False])
def test_withdraw_and_review_at_once_one_wins(shop, owner, approve):
    product = make_product(shop, name="龙井", price=5000, stock=20)
    pairs = make_buyers(shop, 6)
    sales = []
    for buyer, address in pairs:
        order = order_place(
            shop=shop,
            shopper=buyer,
            items=[{"sku": product.skus.get().pk, "quantity": 1}],
            address_id=address.public_id,
            idempotency_key=secrets.token_hex(8),
        )
        deliver(order, owner)
        sales.append(ask(order, order.lines.get(), "return_refund", 1, "no_reason"))
    calls = []
    for sale, (buyer, _address) in zip(sales, pairs, strict=True):
        calls.append(("withdraw", sale, buyer))
        calls.append(("review", sale, buyer))

    def act(kind, sale, buyer):
        if kind == "withdraw":
            return aftersale_withdraw(shop=shop, shopper=buyer, public_id=sale.public_id)
        return aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=approve)

    results = run_parallel(act, calls, workers=12)
    for i, sale in enumerate(sales):
        pair = results[2 * i : 2 * i + 2]
        losers = [r for r in pair if isinstance(r, Exception)]
        assert len(losers) == 1 and isinstance(losers[0], Conflict) and losers[0].status == 409
        winner = 0 if not isinstance(pair[0], Exception) else 1
        status = AfterSale.objects.get(pk=sale.pk).status
        expected = A.WITHDRAWN if winner == 0 else (A.AWAITING_RETURN if approve else A.REJECTED)
        assert status == expected
