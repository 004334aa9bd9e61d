"""The double-entry ledger: postings balance, promoter balances never go negative, balances are sums
and agree with the commissions and withdrawals they came from, under random operations."""

import importlib
import io
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
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

from siyu.core.errors import Conflict, DomainError
from siyu.distribution import ledger
from siyu.distribution.commissions import commissions_accrue, commissions_reverse_for_refund
from siyu.distribution.commissions_bulk import commissions_settle_due
from siyu.distribution.models import Commission, DistributionSettings, LedgerAccount, LedgerEntry, Withdrawal
from siyu.distribution.payouts import SandboxPayoutProvider
from siyu.distribution.withdrawals import withdrawal_approve, withdrawal_pay, withdrawal_reject, withdrawal_request
from siyu.orders.models import Order, OrderLine, OrderStatus

from ..factories import ShopFactory, make_product, make_shopper, make_staff
from .promoter_steps import approved_promoter

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_post_refuses_unbalanced_and_overdrawing_transactions(shop, owner):
    promoter = approved_promoter(shop, owner)
    frozen = ledger.promoter_account(promoter, ledger.FROZEN)
    expense = ledger.shop_account(shop.pk, ledger.EXPENSE)
    with pytest.raises(ledger.LedgerUnbalanced) as unbalanced:
        ledger.post(shop_id=shop.pk, lines=[(frozen, 5), (expense, -4)], ref_type="commission", ref_id=1)
    assert isinstance(unbalanced.value, DomainError) and unbalanced.value.code == "ledger_unbalanced"
    assert unbalanced.value.detail == {"sum": 1, "ref_type": "commission", "ref_id": 1}
    assert not LedgerEntry.objects.exists()
    with pytest.raises(Conflict):
        ledger.post(shop_id=shop.pk, lines=ledger.transfer(frozen, expense, 1), ref_type="commission", ref_id=1)
    ledger.post(shop_id=shop.pk, lines=ledger.transfer(expense, frozen, 7), ref_type="commission", ref_id=1)
    assert ledger.balance(frozen) == 7 and ledger.balance(expense) == -7
    assert ledger.account_get(shop_id=shop.pk, promoter_id=None, kind=ledger.EXPENSE) == expense
    with pytest.raises(ValueError):
        ledger.account_get(shop_id=shop.pk, promoter_id=None, kind=ledger.FROZEN)
    assert [(e.amount, e.ref_id) for e in ledger.entries_for(ref_type="commission", ref_id=1)] == [(-7, 1), (7, 1)]


def test_one_account_per_kind_is_enforced_by_the_database(shop, other_shop, owner):
    """On SQLite as on PostgreSQL: the shop-level accounts (no promoter) are unique too."""
    expense = ledger.shop_account(shop.pk, ledger.EXPENSE)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.create(shop=shop, promoter=None, kind=ledger.EXPENSE)
    promoter = approved_promoter(shop, owner)
    frozen = ledger.promoter_account(promoter, ledger.FROZEN)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.create(shop=shop, promoter=promoter, kind=ledger.FROZEN)
    # other kinds, other promoters and other shops are other accounts
    LedgerAccount.objects.create(shop=shop, promoter=None, kind=ledger.CLEARING)
    LedgerAccount.objects.create(shop=shop, promoter=promoter, kind=ledger.AVAILABLE)
    LedgerAccount.objects.create(shop=other_shop, promoter=None, kind=ledger.EXPENSE)
    assert ledger.shop_account(shop.pk, ledger.EXPENSE) == expense
    assert ledger.promoter_account(promoter, ledger.FROZEN) == frozen
    assert LedgerAccount.objects.filter(shop=shop, promoter=None, kind=ledger.EXPENSE).count() == 1


def test_check_reports_no_skipped_unique_constraint():
    """models.W047: a NULLS NOT DISTINCT constraint that SQLite would silently not create."""
    out, err = io.StringIO(), io.StringIO()
    call_command("check", databases=["default"], tags=["models"], stdout=out, stderr=err)
    assert "W047" not in out.getvalue() + err.getvalue()


def test_the_migration_merges_duplicate_accounts_keeping_every_entry(shop, owner):
    """Installs that ran on SQLite before the unique indexes existed may hold duplicates."""
    merge = importlib.import_module("siyu.distribution.migrations.0002_ledger_account_unique_everywhere")
    with connection.cursor() as cursor:  # back to the old SQLite state, inside this test's transaction
        cursor.execute("DROP INDEX one_shop_account_per_kind")
        cursor.execute("DROP INDEX one_promoter_account_per_kind")
    promoter = approved_promoter(shop, owner)
    expense = [LedgerAccount.objects.create(shop=shop, kind=ledger.EXPENSE) for _ in range(3)]
    frozen = [LedgerAccount.objects.create(shop=shop, promoter=promoter, kind=ledger.FROZEN) for _ in range(2)]
    for i, (source, target) in enumerate(zip(expense, [*frozen, frozen[0]], strict=True)):
        ledger.post(shop_id=shop.pk, lines=ledger.transfer(source, target, 100 + i), ref_type="commission", ref_id=i)
    merge.merge_duplicate_accounts(django_apps, None)
    assert list(LedgerAccount.objects.order_by("pk")) == [expense[0], frozen[0]]
    assert LedgerEntry.objects.count() == 6
    assert ledger.balance(expense[0]) == -(100 + 101 + 102) and ledger.balance(frozen[0]) == 303


_UNBALANCED_UNDER_O = """
import django
django.setup()
from siyu.distribution import ledger
from siyu.distribution.models import LedgerAccount
assert False, "this interpreter must run with -O"
lines = [(LedgerAccount(pk=1, shop_id=1, promoter_id=1, kind="frozen"), 5),
         (LedgerAccount(pk=2, shop_id=1, kind="commission_expense"), -4)]
try:
    ledger.post(shop_id=1, lines=lines, ref_type="commission", ref_id=1)
except ledger.LedgerUnbalanced as exc:
    print("refused", exc.code)
"""


def test_unbalanced_posting_is_refused_under_python_optimise():
    """`python -O` strips asserts; the zero-sum check must not be one. The posting is refused
    before any database work, so the child process needs no database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-O", "-c", _UNBALANCED_UNDER_O], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.stdout.strip() == "refused ledger_unbalanced", run.stderr[-2000:]


def _paid_order(shop, buyer, sku, product, code, quantity, unit_price):
    total = quantity * unit_price
    order = Order.objects.create(
        shop=shop,
        public_id=secrets.token_hex(8),
        number=secrets.token_hex(10),
        shopper=buyer,
        idempotency_key=secrets.token_hex(8),
        status=OrderStatus.PAID,
        subtotal=total,
        total=total,
        paid_amount=total,
        ref_code=code,
        recipient="王五",
        phone="13800138000",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address_detail="文三路 1 号",
        pay_deadline=timezone.now(),
        paid_at=timezone.now(),
    )
    OrderLine.objects.create(
        order=order,
        shop=shop,
        sku=sku,
        product=product,
        product_name=product.name,
        unit_price=unit_price,
        quantity=quantity,
        line_total=total,
        return_policy="no_reason_7d",
    )
    return order


def _total(qs, **where) -> int:
    return qs.filter(**where).aggregate(t=Sum("amount"))["t"] or 0


class PromoterLedger(RuleBasedStateMachine):
    """Accrue, refund, settle, withdraw, approve, pay (or fail) and reject, through the services."""

    @initialize()
    def setup(self):
        SandboxPayoutProvider.reset()
        self.shop = ShopFactory()
        self.owner = make_staff(self.shop)
        DistributionSettings.objects.create(shop=self.shop, default_rate_bp=1000, min_withdrawal=1, freeze_days=0)
        self.promoters = [approved_promoter(self.shop, self.owner) for _ in range(2)]
        self.product = make_product(self.shop, price=100)
        self.sku = self.product.skus.get()
        self.buyer = make_shopper()
        self.orders: list[int] = []
        self.clock = timezone.now()

    @rule(who=st.integers(0, 1), quantity=st.integers(1, 5), unit_price=st.integers(1, 20000))
    def accrue(self, who, quantity, unit_price):
        code = self.promoters[who].shopper.share_code
        order = _paid_order(self.shop, self.buyer, self.sku, self.product, code, quantity, unit_price)
        commissions_accrue(order_id=order.pk)
        commissions_accrue(order_id=order.pk)  # delivered twice
        self.orders.append(order.pk)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), units=st.integers(1, 5))
    def refund(self, data, units):
        order = Order.objects.get(pk=data.draw(st.sampled_from(self.orders)))
        line = order.lines.get()
        units = min(units, line.quantity - line.refunded_quantity)
        if units <= 0:
            return
        amount = line.unit_price * units
        OrderLine.objects.filter(pk=line.pk).update(
            refunded_quantity=line.refunded_quantity + units, refunded_amount=line.refunded_amount + amount
        )
        refunded = order.refunded_amount + amount
        status = OrderStatus.CLOSED if refunded >= order.paid_amount else order.status
        Order.objects.filter(pk=order.pk).update(refunded_amount=refunded, status=status)
        commissions_reverse_for_refund(order_id=order.pk)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def receive_and_settle(self, data):
        order_id = data.draw(st.sampled_from(self.orders))
        Order.objects.filter(pk=order_id, status=OrderStatus.PAID).update(
            status=OrderStatus.COMPLETED, received_at=self.clock
        )
        self.clock += timedelta(days=10)
        commissions_settle_due(now=self.clock)

    @rule(who=st.integers(0, 1), amount=st.integers(1, 3000))
    def request(self, who, amount):
        promoter = self.promoters[who]
        available = ledger.balances_of(promoter=promoter)["available"]
        if amount > available:
            with pytest.raises(Conflict):
                withdrawal_request(shop=self.shop, shopper=promoter.shopper, amount=amount)
        else:
            withdrawal_request(shop=self.shop, shopper=promoter.shopper, amount=amount)

    @rule(data=st.data(), outcome=st.sampled_from(["pay", "fail", "reject"]))
    def finish(self, data, outcome):
        open_ids = list(Withdrawal.objects.filter(shop=self.shop, status="requested").values_list("pk", flat=True))
        if not open_ids:
            return
        withdrawal_id = data.draw(st.sampled_from(open_ids))
        if outcome == "reject":
            withdrawal_reject(actor=self.owner, shop=self.shop, withdrawal_id=withdrawal_id)
            return
        withdrawal_approve(actor=self.owner, shop=self.shop, withdrawal_id=withdrawal_id)
        SandboxPayoutProvider.fail = outcome == "fail"
        withdrawal_pay(actor=self.owner, shop=self.shop, withdrawal_id=withdrawal_id)
        SandboxPayoutProvider.fail = False

    @invariant()
    def every_transaction_balances(self):
        if not hasattr(self, "shop"):
            return
        unbalanced = (
            LedgerEntry.objects.filter(shop=self.shop)
            .values("transaction")
            .annotate(total=Sum("amount"))
            .exclude(total=0)
        )
        assert not unbalanced.exists()

    @invariant()
    def balances_agree_with_their_sources(self):
        if not hasattr(self, "shop"):
            return
        grand = 0
        for promoter in self.promoters:
            got = ledger.balances_of(promoter=promoter)
            assert min(got.values()) >= 0
            commissions = Commission.objects.filter(promoter=promoter)
            withdrawals = Withdrawal.objects.filter(promoter=promoter)
            out = _total(withdrawals, status__in=["requested", "approved", "paying", "paid"])
            assert got["frozen"] == _total(commissions, status="frozen")
            assert got["available"] == _total(commissions, status="settled") - out
            assert got["paid_out"] == _total(withdrawals, status="paid")
            grand += sum(got.values())
        clearing = ledger.balance(ledger.shop_account(self.shop.pk, ledger.CLEARING))
        assert clearing == _total(Withdrawal.objects.filter(shop=self.shop), status__in=["requested", "approved"])
        assert ledger.balance(ledger.shop_account(self.shop.pk, ledger.EXPENSE)) == -(grand + clearing)


def test_ledger_state_machine():
    run_state_machine_as_test(
        PromoterLedger,
        settings=settings(
            max_examples=30, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
