"""PostgreSQL, real threads: the same visitor's clicks at once make one visit with every click
counted, and the order.placed event delivered several times at once attributes the order once."""

import pytest

from siyu.accounts.services import address_create
from siyu.community.content import tracking
from siyu.community.content.models import PostOrder, PostVisit
from tests.concurrency import run_parallel
from tests.orders.helpers import place

from .conftest import make_post

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_clicks_of_one_visitor_make_one_visit(postgres_only, shop, owner):
    post = make_post(shop, owner)
    results = run_parallel(
        lambda: tracking.post_visit_record(shop=shop, code=post.code, visitor_key="same", ref_code="abcd2345"),
        [()] * 8,
    )
    assert all(r.visit is not None for r in results)
    visit = PostVisit.objects.get()
    assert visit.clicks == 8


def test_parallel_deliveries_attribute_an_order_once(postgres_only, shop, owner, shopper, product):
    post = make_post(shop, owner)
    tracking.post_visit_record(shop=shop, code=post.code, visitor_key="k", shopper=shopper)
    data = {"recipient": "甲", "phone": shopper.phone, "province": "浙江省", "city": "杭州市", "district": "西湖区"}
    address = address_create(shop=shop, shopper=shopper, data={**data, "detail": "1 号"})
    order = place(shop, shopper, address, product)
    PostOrder.objects.filter(order=order).delete()  # whatever the commit's own delivery did: start clean
    run_parallel(lambda: tracking.post_order_attribute(shop_id=shop.pk, order_id=order.pk), [()] * 6)
    assert PostOrder.objects.filter(order=order, post=post).count() == 1
