"""The buyer summary the dashboards read: kept by the order events, it equals a recomputation from
scratch after any sequence of place / pay / late pay / cancel / partial refund, whichever order the
worker handles the events in and however late; the rebuild (command and migration step) gives the
same rows."""

import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from siyu.accounts.services import address_create
from siyu.analytics.buyers import buyer_summaries_rebuild, buyer_summary_refresh
from siyu.analytics.models import BuyerSummary
from siyu.core.errors import DomainError
from siyu.core.events import event_dispatch, events_pending
from siyu.orders.lifecycle import order_cancel
from siyu.orders.models import Order, OrderStatus
from siyu.payments.aftersales import aftersale_review

from ..factories import make_product, make_shopper
from ..orders.helpers import ask, pay, place

ADDRESS = {
    "recipient": "赵六",
    "phone": "13900139000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文二路 2 号",
}
FIELDS = (
    "first_placed_at",
    "first_paid_at",
    "first_order_id",
    "first_ref_code",
    "second_paid_at",
    "paid_orders",
    "revenue",
)


def from_scratch(shop) -> dict[int, tuple]:
    """Every shopper's figures computed here, in Python, from their orders."""
    by_shopper: dict[int, list[Order]] = {}
    for order in Order.objects.filter(shop=shop):
        by_shopper.setdefault(order.shopper_id, []).append(order)
    out = {}
    for shopper_id, orders in by_shopper.items():
        paid = sorted((o for o in orders if o.paid_at is not None), key=lambda o: (o.paid_at, o.pk))
        out[shopper_id] = (
            min(o.created_at for o in orders),
            paid[0].paid_at if paid else None,
            paid[0].pk if paid else None,
            paid[0].ref_code if paid else "",
            paid[1].paid_at if len(paid) > 1 else None,
            len(paid),
            sum(o.paid_amount - o.refunded_amount for o in paid),
        )
    return out


def kept(shop) -> dict[int, tuple]:
    return {
        s["shopper_id"]: tuple(s[f] for f in FIELDS)
        for s in BuyerSummary.objects.filter(shop=shop).values("shopper_id", *FIELDS)
    }


def run_worker(rng: random.Random | None = None, share: float = 1.0) -> None:
    """Hand pending events to their subscribers as the worker would: all of them, or a random
    part in a random order (a busy worker, a retry)."""
    pending = events_pending()
    if rng is not None:
        rng.shuffle(pending)
        pending = pending[: int(len(pending) * share)]
    for event_id in pending:
        event_dispatch(event_id=event_id)


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() that moves only when told, so orders can share a payment time exactly."""
    state = {"now": timezone.now().replace(microsecond=0)}
    monkeypatch.setattr(timezone, "now", lambda: state["now"])
    return state


@pytest.mark.parametrize("seed", range(6))
def test_kept_rows_equal_a_recomputation_after_random_steps(
    seed, shop, owner, address, clock, django_capture_on_commit_callbacks
):
    rng = random.Random(seed)
    tea = make_product(shop, name="龙井", price=5000, stock=500)
    buyers = [address.shopper, make_shopper(), make_shopper()]
    addresses = {address.shopper.pk: address}
    for other in buyers[1:]:
        addresses[other.pk] = address_create(shop=shop, shopper=other, data=ADDRESS)
    orders: list[Order] = []
    for _step in range(30):
        clock["now"] += timedelta(minutes=rng.choice([0, 0, 1, 7]))  # 0: payments at the same instant
        step = rng.choice(["place", "place", "pay", "pay", "cancel", "refund"])
        try:
            if step == "place" or not orders:
                who = rng.choice(buyers)
                code = rng.choice(["", rng.choice(buyers).share_code])
                orders.append(place(shop, who, addresses[who.pk], tea, quantity=rng.randint(1, 3), ref_code=code))
                continue
            order = Order.objects.get(pk=rng.choice(orders).pk)
            if step == "pay" and order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED):
                pay(order)  # a cancelled one: a late payment, reinstated
            elif step == "cancel" and order.status == OrderStatus.PENDING_PAYMENT:
                order_cancel(order_id=order.pk, actor=order.shopper)
            elif step == "refund" and order.status == OrderStatus.PAID:
                sale = ask(order, order.lines.get(), "refund_only", 1, "other")
                # Executed: the sandbox refunds at once. Not: the amount stays reserved on the
                # order while the refund is with the provider (in flight), as revenue counts it.
                with django_capture_on_commit_callbacks(execute=rng.random() < 0.5):
                    aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
        except DomainError:
            pass  # a step the rules refuse (nothing left to refund, say) changes nothing
        if rng.random() < 0.3:
            run_worker(rng, share=0.5)
    run_worker()
    expected = from_scratch(shop)
    assert any(row[5] for row in expected.values())  # somebody paid: the sequence tested something
    assert kept(shop) == expected
    buyer_summaries_rebuild(shop_ids=[shop.pk])
    assert kept(shop) == expected


def test_a_refund_lowers_revenue_once_the_worker_has_run(shop, owner, address, django_capture_on_commit_callbacks):
    order = place(shop, address.shopper, address, make_product(shop, name="茶", price=3000, stock=9), quantity=2)
    pay(order)
    run_worker()
    row = BuyerSummary.objects.get(shop=shop, shopper=address.shopper)
    assert (row.paid_orders, row.revenue, row.first_order_id, row.second_paid_at) == (1, 6000, order.pk, None)
    sale = ask(order, order.lines.get(), "refund_only", 1, "other")
    with django_capture_on_commit_callbacks(execute=True):
        aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    run_worker()
    row.refresh_from_db()
    assert row.revenue == 3000


def test_a_refund_with_the_provider_counts_as_revenue_does(shop, owner, address, django_capture_on_commit_callbacks):
    order = place(shop, address.shopper, address, make_product(shop, name="茶", price=3000, stock=9), quantity=2)
    pay(order)
    run_worker()  # the payment's events handled first: only the refund's own events can tell
    sale = ask(order, order.lines.get(), "refund_only", 1, "other")
    with django_capture_on_commit_callbacks(execute=False):  # the provider is never called
        aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    run_worker()
    order.refresh_from_db()
    assert order.refunded_amount == 3000  # reserved while the refund is in flight
    assert BuyerSummary.objects.get(shop=shop, shopper=address.shopper).revenue == 3000


def test_refresh_without_orders_leaves_no_row(shop, shopper):
    assert buyer_summary_refresh(shop_id=shop.pk, shopper_id=shopper.pk) is None
    assert not BuyerSummary.objects.exists()


def test_rebuild_command_repairs_one_shop_or_all(shop, other_shop, address, capsys):
    order = place(shop, address.shopper, address, make_product(shop, name="茶", price=3000, stock=9))
    pay(order)
    BuyerSummary.objects.all().delete()  # as after orders loaded straight into the tables
    call_command("analytics_rebuild_buyers", "--shop", "other")
    assert not BuyerSummary.objects.exists()
    call_command("analytics_rebuild_buyers")
    assert kept(shop) == from_scratch(shop) and len(kept(shop)) == 1
    assert "1 buyer rows rebuilt." in capsys.readouterr().out
