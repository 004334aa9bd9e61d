"""Real threads on PostgreSQL: one shopper's parallel orders at a limited-time price never pass
the per-customer limit; cancelling gives the units back once."""

import pytest

from siyu.core.errors import DomainError
from siyu.orders import lifecycle
from siyu.orders.models import Order
from siyu.promotions.discounts.models import LimitedTimeBuyer, LimitedTimeUse
from tests.concurrency import run_parallel

from ...factories import make_product, make_staff
from ...orders.test_concurrency import make_buyers
from .conftest import buy, make_limited

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def test_parallel_orders_never_pass_the_limit(shop):
    owner = make_staff(shop, username="boss")
    product = make_product(shop, name="限时茶", price=6000, stock=100)
    discount = make_limited(owner, shop, product, price=4800, limit=2)
    (shopper, address), (other, other_address) = make_buyers(shop, 2)
    results = run_parallel(buy, [(shop, shopper, address, (product, 1)) for _ in range(8)])
    results += run_parallel(buy, [(shop, other, other_address, (product, 1)) for _ in range(8)])
    placed = [r for r in results if not isinstance(r, DomainError)]
    discounted = [o for o in placed if o.lines.get().unit_price == 4800]
    assert {o.shopper_id for o in discounted} == {shopper.pk, other.pk}
    for who in (shopper, other):
        mine = [o for o in discounted if o.shopper_id == who.pk]
        assert len(mine) <= 2
        held = LimitedTimeBuyer.objects.get(discount=discount, shopper=who).bought
        assert held == sum(o.lines.get().quantity for o in mine)
    # the ones refused were refused for the limit (or quoted at the SKU's price after it), never a 500
    assert all(r.code == "promotion_limit_reached" for r in results if isinstance(r, DomainError))
    # cancelling every order of one shopper, twice at once each: the allowance comes back exactly
    mine = [(o.pk,) for o in discounted if o.shopper_id == shopper.pk]
    run_parallel(lambda pk: lifecycle.order_cancel(order_id=pk, actor="system"), mine + mine)
    assert LimitedTimeBuyer.objects.get(discount=discount, shopper=shopper).bought == 0
    assert not LimitedTimeUse.objects.filter(order__in=Order.objects.filter(shopper=shopper)).exists()
