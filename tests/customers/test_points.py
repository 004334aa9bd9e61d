"""The points ledger: earned on completion, redeemed at checkout, reversed on refund, expiring."""

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from siyu.core.errors import Conflict
from siyu.core.models import OutboxEvent
from siyu.customers import pricing_hooks
from siyu.customers.models import CrmSettings, Customer, CustomerEvent, PointsEntry
from siyu.customers.points import (
    points_balance,
    points_earn,
    points_expire,
    points_expire_all,
    points_redeem,
    points_restore,
    points_reverse,
)
from siyu.customers.stats import customer_for_shopper
from siyu.orders import checkout, lifecycle
from siyu.orders.models import AfterSaleStatus, Order, OrderStatus
from siyu.orders.pricing import Adjustment
from siyu.payments import aftersales
from siyu.payments.aftersales import aftersale_review

from ..factories import ShopFactory, make_product, make_shopper
from ..orders.helpers import place
from .member_steps import bare_order, completed_order

_phones = itertools.count(1)


@pytest.fixture
def tea(shop):
    return make_product(shop, name="龙井", price=5000, stock=50)


def _customer(shop, shopper) -> Customer:
    return customer_for_shopper(shop=shop, shopper=shopper)


def _balance(shop, shopper) -> int:
    return points_balance(customer=_customer(shop, shopper))


def _grant(shop, shopper, points):
    PointsEntry.objects.create(shop=shop, customer=_customer(shop, shopper), delta=points, reason="adjust")


def test_completed_order_earns_once_even_if_the_event_comes_twice(shop, shopper, owner, address, tea):
    CrmSettings.objects.create(shop=shop, points_per_yuan=2, points_valid_days=30)
    order = completed_order(shop, shopper, owner, address, tea, quantity=2)  # 100.00 paid
    entry = PointsEntry.objects.get(order_id=order.pk)
    assert (entry.reason, entry.delta) == ("earn", 200)
    assert timedelta(days=29) < entry.expires_at - timezone.now() <= timedelta(days=30)
    event = OutboxEvent.objects.get(topic="order.completed")
    assert event.dispatched_at is not None
    assert points_earn(order=order) is None  # delivered again
    pricing_hooks.earn_on_complete(event)
    assert _balance(shop, shopper) == 200


def test_unfinished_orders_earn_nothing(shop, shopper, address, tea):
    order = place(shop, shopper, address, tea)
    assert points_earn(order=order) is None
    assert not PointsEntry.objects.exists()


def test_earning_counts_what_was_refunded_before_completion(shop, shopper):
    order = bare_order(shop, shopper, paid=9999)
    Order.objects.filter(pk=order.pk).update(refunded_amount=2000)
    assert points_earn(order=order).delta == 79  # 79.99 yuan net, rounded down


def test_checkout_redeems_points_in_the_order_transaction(shop, shopper, address, tea):
    _grant(shop, shopper, 1000)
    order = place(shop, shopper, address, tea, options={"points": 1000})
    # 1000 points would pay 10.00 yuan; within half of 50.00, so all are used.
    assert (order.discount, order.points_used, order.total) == (1000, 1000, 5000 + order.shipping_fee - 1000)
    assert _balance(shop, shopper) == 0
    again = place(shop, shopper, address, tea, idempotency_key=order.idempotency_key, options={"points": 1000})
    assert again.pk == order.pk and _balance(shop, shopper) == 0


def test_insufficient_points_are_refused_and_nothing_changes(shop, shopper, address, tea):
    _grant(shop, shopper, 300)
    with pytest.raises(Conflict) as exc:
        place(shop, shopper, address, tea, options={"points": 301})
    assert exc.value.code == "insufficient_points"
    assert not Order.objects.exists() and _balance(shop, shopper) == 300


def test_the_locked_balance_check_refuses_what_the_quote_let_through(shop, shopper, address, tea, monkeypatch):
    """The balance is checked again under the customer lock when the order is written: a quote
    that promised more points than are left (spent by a parallel checkout) rolls the order back."""
    _grant(shop, shopper, 500)
    stale = [Adjustment(kind="points", label="900", amount=900, points_used=900)]
    monkeypatch.setattr(checkout, "adjustments_for", lambda **kw: stale)
    with pytest.raises(Conflict) as exc:
        place(shop, shopper, address, tea)
    assert exc.value.code == "insufficient_points"
    assert not Order.objects.exists() and tea.skus.get().stock == 50
    assert _balance(shop, shopper) == 500


def test_cancel_gives_redeemed_points_back_once(shop, shopper, address, tea):
    _grant(shop, shopper, 800)
    order = place(shop, shopper, address, tea, options={"points": 800})
    assert _balance(shop, shopper) == 0
    lifecycle.order_cancel(order_id=order.pk, actor=shopper)
    assert _balance(shop, shopper) == 800
    assert points_restore(order=order) == 0
    assert _balance(shop, shopper) == 800


def _refund(shop, shopper, owner, order, quantity):
    line = order.lines.get()
    sale = aftersales.aftersale_request(
        shop=shop,
        shopper=shopper,
        order_public_id=order.public_id,
        line_id=line.pk,
        kind="refund_only",
        quantity=quantity,
        reason_code="other",
    )
    aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    return sale


def test_partial_then_full_refund_takes_earned_points_back_in_proportion(
    shop, shopper, owner, address, tea, django_capture_on_commit_callbacks
):
    CrmSettings.objects.create(shop=shop, points_per_yuan=3)
    with django_capture_on_commit_callbacks(execute=True):
        order = completed_order(shop, shopper, owner, address, tea, quantity=2)
    assert _balance(shop, shopper) == 300  # 100.00 paid
    with django_capture_on_commit_callbacks(execute=True):
        sale = _refund(shop, shopper, owner, order, 1)
    sale.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDED
    assert _balance(shop, shopper) == 150
    with django_capture_on_commit_callbacks(execute=True):
        _refund(shop, shopper, owner, order, 1)
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and _balance(shop, shopper) == 0
    assert points_reverse(order=order)["reversed"] == 0 and _balance(shop, shopper) == 0
    assert list(PointsEntry.objects.filter(order_id=order.pk).order_by("id").values_list("reason", "delta")) == [
        ("earn", 300),
        ("reverse", -150),
        ("reverse", -150),
    ]


def test_full_refund_gives_redeemed_points_back_once(shop, shopper):
    _grant(shop, shopper, 500)
    order = bare_order(shop, shopper, status=OrderStatus.PAID, paid=4000, points_used=500)
    points_redeem(order=order)
    Order.objects.filter(pk=order.pk).update(refunded_amount=1000)
    assert points_reverse(order=order)["restored"] == 0  # partly refunded: the points stay spent
    Order.objects.filter(pk=order.pk).update(refunded_amount=4000, status=OrderStatus.CLOSED)
    assert points_reverse(order=order)["restored"] == 500
    assert points_reverse(order=order)["restored"] == 0
    assert _balance(shop, shopper) == 500


def test_refund_and_points_reversal_commit_together(
    shop, shopper, owner, address, tea, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = completed_order(shop, shopper, owner, address, tea)
    assert _balance(shop, shopper) == 50

    def broken(**kwargs):
        raise RuntimeError("points store down")

    monkeypatch.setattr(pricing_hooks, "points_reverse", broken)
    with django_capture_on_commit_callbacks(execute=True):
        sale = _refund(shop, shopper, owner, order, 1)
    sale.refresh_from_db()
    # the refund could not settle: the provider call is retried later; nothing was half-done
    order.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDING
    assert order.lines.get().refunded_amount == 0 and order.status == OrderStatus.COMPLETED
    assert _balance(shop, shopper) == 50 and not PointsEntry.objects.filter(reason="reverse").exists()


def test_reversal_never_overdraws_and_records_the_shortfall(shop, shopper):
    order = bare_order(shop, shopper, paid=10000)
    points_earn(order=order)
    spend = bare_order(shop, shopper, status=OrderStatus.PENDING_PAYMENT, points_used=80)
    points_redeem(order=spend)
    Order.objects.filter(pk=order.pk).update(refunded_amount=F("paid_amount"))
    result = points_reverse(order=order, after_sale_id=1)
    assert (result["reversed"], result["shortfall"]) == (20, 80)
    assert _balance(shop, shopper) == 0
    assert points_reverse(order=order, after_sale_id=1)["reversed"] == 0  # delivered again
    assert CustomerEvent.objects.filter(kind="points_refund").count() == 1
    points_restore(order=spend)
    assert _balance(shop, shopper) == 80  # the written-off points are not taken later


def test_expiry_is_first_in_first_out_and_repeatable(shop, shopper):
    CrmSettings.objects.create(shop=shop, points_valid_days=10)
    t0 = timezone.now()
    first = bare_order(shop, shopper, paid=10000)
    points_earn(order=first, now=t0)  # 100, until t0+10d
    second = bare_order(shop, shopper, paid=5000)
    points_earn(order=second, now=t0 + timedelta(days=5))  # 50, until t0+15d
    points_redeem(order=bare_order(shop, shopper, status=OrderStatus.PENDING_PAYMENT, points_used=120))
    assert points_expire(shop=shop, now=t0 + timedelta(days=9)) == 0
    assert points_expire(shop=shop, now=t0 + timedelta(days=11)) == 0  # the 120 came out of the first 100
    assert points_expire(shop=shop, now=t0 + timedelta(days=16)) == 1  # 30 left of the second
    assert points_expire(shop=shop, now=t0 + timedelta(days=17)) == 0
    assert _balance(shop, shopper) == 0
    assert PointsEntry.objects.get(reason="expire").delta == -30


def test_expiry_touches_only_its_shop(shop, shopper):
    other, third = ShopFactory(), ShopFactory()
    for s in (shop, other, third):
        CrmSettings.objects.create(shop=s, points_valid_days=1)
        points_earn(order=bare_order(s, shopper, paid=1000), now=timezone.now() - timedelta(days=2))
    assert points_expire(shop=shop) == 1
    assert _balance(shop, shopper) == 0 and _balance(other, shopper) == 10
    assert points_expire_all() == 2
    assert _balance(other, shopper) == _balance(third, shopper) == 0


# --- the ledger under random operations -------------------------------------------------------

VALID_DAYS = 30


class PointsLedger(RuleBasedStateMachine):
    """Earn, redeem, refund, cancel, expire and redeliver, through the services, against a model:
    lots of points consumed soonest-expiring first."""

    @initialize()
    def setup(self):
        self.shop = ShopFactory()
        CrmSettings.objects.create(shop=self.shop, points_per_yuan=1, points_valid_days=VALID_DAYS)
        self.shopper = make_shopper(f"137{next(_phones):08d}")
        self.customer = _customer(self.shop, self.shopper)
        self.clock = timezone.now()
        self.lots: list[list] = []  # [remaining, expires_at]
        self.earned: dict[int, dict] = {}  # order id → {"points", "net", "reversed", "written_off"}
        self.redeemed: dict[int, dict] = {}  # order id → {"points", "restored"}

    # model helpers
    @property
    def balance(self) -> int:
        return sum(lot[0] for lot in self.lots)

    def consume(self, points: int) -> None:
        for lot in sorted(self.lots, key=lambda lot: lot[1]):
            take = min(lot[0], points)
            lot[0] -= take
            points -= take

    def grant(self, points: int) -> None:
        self.lots.append([points, self.clock + timedelta(days=VALID_DAYS)])

    @rule(yuan=st.integers(min_value=0, max_value=300), refunded_before=st.integers(min_value=0, max_value=100))
    def earn(self, yuan, refunded_before):
        order = bare_order(self.shop, self.shopper, paid=yuan * 100 + 37)
        refunded = min(refunded_before * 100, order.paid_amount)
        Order.objects.filter(pk=order.pk).update(refunded_amount=refunded)
        entry = points_earn(order=order, now=self.clock)
        net = order.paid_amount - refunded
        assert (entry.delta if entry else 0) == net // 100
        if entry:
            self.grant(entry.delta)
            self.earned[order.pk] = {"points": entry.delta, "net": net, "reversed": 0, "written_off": 0}

    @precondition(lambda self: self.earned)
    @rule(data=st.data())
    def earn_delivered_again(self, data):
        order_id = data.draw(st.sampled_from(sorted(self.earned)))
        assert points_earn(order=order_id, now=self.clock) is None

    @rule(points=st.integers(min_value=1, max_value=400))
    def redeem(self, points):
        order = bare_order(self.shop, self.shopper, status=OrderStatus.PENDING_PAYMENT, points_used=points)
        if points > self.balance:
            with pytest.raises(Conflict):
                points_redeem(order=order)
            return
        points_redeem(order=order)
        self.consume(points)
        self.redeemed[order.pk] = {"points": points, "restored": False}

    @precondition(lambda self: self.earned)
    @rule(data=st.data(), fen=st.integers(min_value=1, max_value=30000))
    def refund(self, data, fen):
        order_id = data.draw(st.sampled_from(sorted(self.earned)))
        order = Order.objects.get(pk=order_id)
        fen = min(fen, order.paid_amount - order.refunded_amount)
        Order.objects.filter(pk=order_id).update(refunded_amount=F("refunded_amount") + fen)
        order.refresh_from_db()
        points_reverse(order=order_id, after_sale_id=fen)
        m = self.earned[order_id]
        keep = m["points"] * min(order.paid_amount - order.refunded_amount, m["net"]) // m["net"]
        due = m["points"] - m["reversed"] - m["written_off"] - keep
        if due > 0:
            taken = min(due, self.balance)
            self.consume(taken)
            m["reversed"] += taken
            m["written_off"] += due - taken

    @precondition(lambda self: self.redeemed)
    @rule(data=st.data(), full_refund=st.booleans())
    def give_back(self, data, full_refund):
        order_id = data.draw(st.sampled_from(sorted(self.redeemed)))
        if full_refund:
            Order.objects.filter(pk=order_id).update(paid_amount=100, refunded_amount=100, status=OrderStatus.CLOSED)
            points_reverse(order=order_id, now=self.clock)
        else:
            points_restore(order=order_id, now=self.clock)
        m = self.redeemed[order_id]
        if not m["restored"]:
            m["restored"] = True
            self.grant(m["points"])

    @rule(days=st.integers(min_value=0, max_value=40))
    def expire(self, days):
        self.clock += timedelta(days=days)
        points_expire(shop=self.shop, now=self.clock)
        for lot in self.lots:
            if lot[1] <= self.clock:
                lot[0] = 0

    @invariant()
    def ledger_matches_model(self):
        if not hasattr(self, "customer"):
            return
        entries = list(PointsEntry.objects.filter(customer=self.customer).values_list("delta", flat=True))
        assert sum(entries) == points_balance(customer=self.customer) == self.balance
        assert self.balance >= 0


@pytest.mark.django_db
def test_points_ledger_state_machine():
    run_state_machine_as_test(
        PointsLedger,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_every_write_runs_in_its_own_transaction(shop, shopper):
    """A refused redemption inside a larger transaction leaves that transaction usable."""
    with transaction.atomic():
        order = bare_order(shop, shopper, status=OrderStatus.PENDING_PAYMENT, points_used=5)
        with pytest.raises(Conflict):
            points_redeem(order=order)
        assert Order.objects.filter(pk=order.pk).exists()
