"""Per-post figures: shares, clicks and visits through the link, and orders attributed to the post
by the order.placed handler, checked against a known set of orders."""

from datetime import timedelta

import pytest
from django.db.models import F

from siyu.accounts.services import address_create
from siyu.community.content import selectors, tracking
from siyu.community.content.models import PostOrder, PostVisit
from siyu.core.errors import InvalidInput, NotFound
from siyu.orders.models import Order
from tests.factories import make_shopper
from tests.orders.helpers import pay, place

from .conftest import make_post, run_order_events

pytestmark = pytest.mark.django_db


def _address(shop, shopper):
    data = {"recipient": "买家", "phone": shopper.phone, "province": "浙江省", "city": "杭州市", "district": "西湖区"}
    return address_create(shop=shop, shopper=shopper, data={**data, "detail": "文三路 2 号"})


def _buy(shop, shopper, product, *, paid=True):
    order = place(shop, shopper, _address(shop, shopper), product)
    if paid:
        pay(order)
    run_order_events(order)
    return order


def _visit(shop, post, key, shopper=None, ref="sharer01"):
    return tracking.post_visit_record(shop=shop, code=post.code, visitor_key=key, ref_code=ref, shopper=shopper).visit


def _figures(shop, owner, post):
    row = selectors.post_for_staff(actor=owner, shop=shop, code=post.code)
    return {
        "shares": row.n_shares,
        "clicks": row.n_clicks,
        "visits": row.n_visits,
        "orders": row.n_orders,
        "paid": row.n_paid_orders,
        "revenue": row.revenue,
    }


def test_clicks_count_every_opening_and_visits_each_visitor(shop, owner):
    post = make_post(shop, owner)
    for key in ("v1", "v1", "v1", "v2"):
        _visit(shop, post, key)
    assert _figures(shop, owner, post)["clicks"] == 4
    assert _figures(shop, owner, post)["visits"] == 2


def test_the_sharers_own_click_and_a_deleted_posts_clicks_count_for_nothing(shop, owner, shopper):
    post = make_post(shop, owner)
    own = tracking.post_visit_record(
        shop=shop, code=post.code, visitor_key="me", ref_code=shopper.share_code, own_code=shopper.share_code
    )
    assert own.visit is None
    from siyu.community.content.services import post_delete

    post_delete(actor=owner, shop=shop, code=post.code)
    assert _visit(shop, post, "later") is None
    assert not PostVisit.objects.exists()


def test_an_unknown_code_or_another_shops_post_is_not_found(shop, owner, other_shop):
    post = make_post(shop, owner)
    with pytest.raises(NotFound):
        tracking.post_visit_record(shop=other_shop, code=post.code, visitor_key="v")
    with pytest.raises(NotFound):
        tracking.post_visit_record(shop=shop, code="nosuchpost", visitor_key="v")


def test_shares_are_recorded_per_tap_with_the_sharers_code(shop, owner, shopper):
    post = make_post(shop, owner)
    tracking.post_share_record(shop=shop, code=post.code, kind="copy", shopper=shopper)
    share = tracking.post_share_record(shop=shop, code=post.code, kind="save", shopper=shopper)
    tracking.post_share_record(shop=shop, code=post.code, kind="copy", staff=owner)
    assert share.code == shopper.share_code
    assert _figures(shop, owner, post)["shares"] == 3
    with pytest.raises(InvalidInput):
        tracking.post_share_record(shop=shop, code=post.code, kind="like", shopper=shopper)
    draft = make_post(shop, owner, publish_at=None)
    with pytest.raises(NotFound):  # a draft is not shared yet
        tracking.post_share_record(shop=shop, code=draft.code, kind="copy", shopper=shopper)


def test_orders_are_attributed_to_the_post_their_buyer_came_through(shop, owner, product):
    """Five buyers, known answers: A (visited signed in, paid), B (visited anonymously, signed in
    later, unpaid), C (never visited), D (visited 8 days before buying), E (visited post 1 then
    post 2: the latest visit wins)."""
    first, second = make_post(shop, owner, text="一"), make_post(shop, owner, text="二")
    a, b, c, d, e = (make_shopper() for _ in range(5))
    _visit(shop, first, "ka", shopper=a)
    visit_b = _visit(shop, first, "kb")
    assert tracking.post_visit_bind(shop=shop, visit_id=visit_b.pk, shopper=b) is True
    assert tracking.post_visit_bind(shop=shop, visit_id=visit_b.pk, shopper=c) is False  # bound once
    _visit(shop, first, "kd", shopper=d)
    PostVisit.objects.filter(visitor_key="kd").update(
        first_at=F("first_at") - timedelta(days=8), last_at=F("last_at") - timedelta(days=8)
    )
    _visit(shop, first, "ke1", shopper=e)
    PostVisit.objects.filter(visitor_key="ke1").update(last_at=F("last_at") - timedelta(hours=2))
    _visit(shop, second, "ke2", shopper=e)

    order_a = _buy(shop, a, product)
    order_b = _buy(shop, b, product, paid=False)
    _buy(shop, c, product)
    _buy(shop, d, product)
    order_e = _buy(shop, e, product)

    by_order = dict(PostOrder.objects.values_list("order_id", "post_id"))
    assert by_order == {order_a.pk: first.pk, order_b.pk: first.pk, order_e.pk: second.pk}
    assert _figures(shop, owner, first) == {
        "shares": 0,
        "clicks": 4,
        "visits": 4,
        "orders": 2,
        "paid": 1,
        "revenue": order_a.total,
    }
    assert _figures(shop, owner, second)["revenue"] == order_e.total

    Order.objects.filter(pk=order_a.pk).update(refunded_amount=500)  # a partial refund shows at once
    assert _figures(shop, owner, first)["revenue"] == order_a.total - 500


def test_a_second_delivery_of_the_event_records_nothing_more(shop, owner, product, shopper):
    post = make_post(shop, owner)
    _visit(shop, post, "k", shopper=shopper)
    order = _buy(shop, shopper, product)
    assert tracking.post_order_attribute(shop_id=shop.pk, order_id=order.pk) is None
    assert PostOrder.objects.filter(order=order).count() == 1


def test_a_visit_to_another_shops_post_never_claims_an_order(shop, owner, other_shop, product, shopper):
    from tests.factories import make_staff

    their_owner = make_staff(other_shop, username="their-boss")
    theirs = make_post(other_shop, their_owner)
    _visit(other_shop, theirs, "k", shopper=shopper)
    make_post(shop, owner)  # this shop uses the library too
    _buy(shop, shopper, product)
    assert not PostOrder.objects.exists()


def test_a_shop_without_posts_pays_no_query_for_attribution(shop, product, shopper, django_assert_num_queries):
    order = place(shop, shopper, _address(shop, shopper), product)
    tracking.post_order_attribute(shop_id=shop.pk, order_id=order.pk)  # fills the flag
    with django_assert_num_queries(0):
        assert tracking.post_order_attribute(shop_id=shop.pk, order_id=order.pk) is None
