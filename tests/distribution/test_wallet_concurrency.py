"""Real concurrency on PostgreSQL: many withdrawal requests and payouts racing through the services."""

import pytest

from siyu.core.errors import DomainError
from siyu.distribution import ledger
from siyu.distribution.models import LedgerEntry, Withdrawal
from siyu.distribution.payouts import SandboxPayoutProvider
from siyu.distribution.withdrawals import withdrawal_approve, withdrawal_pay, withdrawal_request
from tests.concurrency import run_parallel

from .promoter_steps import fund, world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.fixture(autouse=True)
def _payouts_start_empty():
    SandboxPayoutProvider.reset()


def test_concurrent_requests_never_overdraw(shop, owner):
    w = world(shop, owner, min_withdrawal=100)
    fund(w.promoter, 10000)
    results = run_parallel(lambda: withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=3000), [()] * 20)
    made = [r for r in results if isinstance(r, Withdrawal)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(made) == 3 and len(refused) == 17
    assert {r.code for r in refused} == {"insufficient_balance"}
    assert ledger.balances_of(promoter=w.promoter)["available"] == 1000
    assert Withdrawal.objects.count() == 3


def test_concurrent_payouts_pay_once(shop, owner):
    w = world(shop, owner)
    fund(w.promoter, 5000)
    withdrawal = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=5000)
    withdrawal_approve(actor=owner, shop=shop, withdrawal_id=withdrawal.pk)
    results = run_parallel(
        lambda retry: withdrawal_pay(actor=owner, shop=shop, withdrawal_id=withdrawal.pk, retry=retry),
        [(i % 2 == 0,) for i in range(20)],
    )
    assert not [r for r in results if isinstance(r, DomainError)]
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PAID
    assert set(SandboxPayoutProvider.calls) == {withdrawal.out_no}  # one key, paid once by the provider
    assert ledger.balances_of(promoter=w.promoter) == {"frozen": 0, "available": 0, "paid_out": 5000}
    assert LedgerEntry.objects.filter(ref_type="withdrawal", ref_id=withdrawal.pk, memo="paid").count() == 2
