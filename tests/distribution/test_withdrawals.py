"""Withdrawals: request under the account lock, finance approval (two people above a threshold),
payout outside any transaction with the idempotency key written first."""

import pytest
from django.urls import reverse

from siyu.accounts.roles import FINANCE, SERVICE
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.distribution import ledger, withdrawals
from siyu.distribution.models import LedgerEntry, Withdrawal
from siyu.distribution.payouts import SandboxPayoutProvider
from siyu.distribution.promoters import promoter_suspend
from siyu.distribution.withdrawals import (
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_reject,
    withdrawal_request,
)

from ..factories import make_shopper, make_staff
from .promoter_steps import fund, world

pytestmark = pytest.mark.django_db
W = Withdrawal.Status


@pytest.fixture(autouse=True)
def _sandbox():
    SandboxPayoutProvider.reset()
    yield
    SandboxPayoutProvider.reset()


def test_request_checks_minimum_balance_and_promoter(shop, owner):
    w = world(shop, owner, min_withdrawal=1000)
    fund(w.promoter, 5000)
    with pytest.raises(InvalidInput) as exc:
        withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=999)
    assert exc.value.code == "below_minimum"
    with pytest.raises(Conflict) as exc:
        withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount="50.01")
    assert exc.value.code == "insufficient_balance"
    with pytest.raises(NotFound):
        withdrawal_request(shop=shop, shopper=make_shopper(), amount=1000)
    with pytest.raises(InvalidInput):
        withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount="-1")
    withdrawal = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount="30.00")
    assert withdrawal.amount == 3000 and withdrawal.status == W.REQUESTED and withdrawal.out_no.startswith("WD")
    assert ledger.balances_of(promoter=w.promoter)["available"] == 2000
    assert ledger.balance(ledger.shop_account(shop.pk, ledger.CLEARING)) == 3000
    assert not Withdrawal.objects.filter(amount__in=[999, 5001]).exists()


def test_approve_and_pay_moves_money_to_paid_out_once(shop, owner):
    w = world(shop, owner)
    finance = make_staff(shop, role=FINANCE)
    fund(w.promoter, 5000)
    withdrawal = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=5000)
    with pytest.raises(PermissionDenied):
        withdrawal_approve(actor=make_staff(shop, role=SERVICE), shop=shop, withdrawal_id=withdrawal.pk)
    with pytest.raises(Conflict):
        withdrawal_pay(actor=finance, shop=shop, withdrawal_id=withdrawal.pk)  # not approved yet
    assert withdrawal_approve(actor=finance, shop=shop, withdrawal_id=withdrawal.pk).status == W.APPROVED
    paid = withdrawal_pay(actor=finance, shop=shop, withdrawal_id=withdrawal.pk)
    assert paid.status == W.PAID and paid.provider_ref == "sbp_" + withdrawal.out_no
    again = withdrawal_pay(actor=finance, shop=shop, withdrawal_id=withdrawal.pk)
    assert again.status == W.PAID and SandboxPayoutProvider.calls == [withdrawal.out_no]
    assert ledger.balances_of(promoter=w.promoter) == {"frozen": 0, "available": 0, "paid_out": 5000}
    assert ledger.balance(ledger.shop_account(shop.pk, ledger.CLEARING)) == 0
    assert LedgerEntry.objects.filter(ref_type="withdrawal", ref_id=withdrawal.pk).count() == 4


def test_above_threshold_needs_a_second_different_approver(shop, owner):
    w = world(shop, owner, second_approval_over=10000)
    finance = make_staff(shop, role=FINANCE)
    fund(w.promoter, 30000)
    small = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=10000)
    assert withdrawal_approve(actor=finance, shop=shop, withdrawal_id=small.pk).status == W.APPROVED
    big = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=10001)
    assert withdrawal_approve(actor=finance, shop=shop, withdrawal_id=big.pk).status == W.REQUESTED
    with pytest.raises(Conflict) as exc:
        withdrawal_approve(actor=finance, shop=shop, withdrawal_id=big.pk)
    assert exc.value.code == "second_approver_needed"
    with pytest.raises(Conflict):
        withdrawal_pay(actor=finance, shop=shop, withdrawal_id=big.pk)
    approved = withdrawal_approve(actor=owner, shop=shop, withdrawal_id=big.pk)
    assert approved.status == W.APPROVED and [a["staff"] for a in approved.approvals] == [finance.pk, owner.pk]
    assert withdrawal_pay(actor=owner, shop=shop, withdrawal_id=big.pk).status == W.PAID


def test_failed_payout_and_rejection_give_the_money_back(shop, owner):
    w = world(shop, owner)
    fund(w.promoter, 8000)
    first = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=5000)
    withdrawal_approve(actor=owner, shop=shop, withdrawal_id=first.pk)
    SandboxPayoutProvider.fail = True
    failed = withdrawal_pay(actor=owner, shop=shop, withdrawal_id=first.pk)
    assert failed.status == W.FAILED and failed.note == "sandbox payout refused"
    assert ledger.balances_of(promoter=w.promoter)["available"] == 8000
    second = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=3000)
    assert withdrawal_reject(actor=owner, shop=shop, withdrawal_id=second.pk, note="账户有误").status == W.REJECTED
    assert ledger.balances_of(promoter=w.promoter)["available"] == 8000
    with pytest.raises(Conflict):
        withdrawal_reject(actor=owner, shop=shop, withdrawal_id=second.pk)
    assert ledger.balance(ledger.shop_account(shop.pk, ledger.CLEARING)) == 0


def test_stuck_payout_is_retried_with_the_same_key(shop, owner, monkeypatch):
    w = world(shop, owner)
    fund(w.promoter, 2000)
    withdrawal = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=2000)
    withdrawal_approve(actor=owner, shop=shop, withdrawal_id=withdrawal.pk)

    def timeout(self, **kwargs):
        type(self).calls.append(kwargs["out_no"])
        raise TimeoutError("provider did not answer")

    monkeypatch.setattr(SandboxPayoutProvider, "pay", timeout)
    with pytest.raises(TimeoutError):
        withdrawal_pay(actor=owner, shop=shop, withdrawal_id=withdrawal.pk)
    withdrawal.refresh_from_db()
    assert withdrawal.status == W.PAYING  # the key was saved before the call
    assert withdrawal_pay(actor=owner, shop=shop, withdrawal_id=withdrawal.pk).status == W.PAYING  # no second call
    monkeypatch.undo()
    paid = withdrawal_pay(actor=owner, shop=shop, withdrawal_id=withdrawal.pk, retry=True)
    assert paid.status == W.PAID and SandboxPayoutProvider.calls == [withdrawal.out_no, withdrawal.out_no]
    assert ledger.balances_of(promoter=w.promoter)["paid_out"] == 2000


def test_suspended_promoter_can_still_withdraw_what_was_earned(shop, owner):
    w = world(shop, owner)
    fund(w.promoter, 2000)
    promoter_suspend(actor=owner, promoter=w.promoter, note="暂停")
    assert withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=2000).amount == 2000


def test_other_shops_staff_cannot_touch_withdrawals(shop, other_shop, owner):
    w = world(shop, owner)
    fund(w.promoter, 2000)
    withdrawal = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=2000)
    stranger = make_staff(other_shop)
    with pytest.raises(PermissionDenied):
        withdrawal_approve(actor=stranger, shop=shop, withdrawal_id=withdrawal.pk)
    with pytest.raises(NotFound):
        withdrawal_approve(actor=stranger, shop=other_shop, withdrawal_id=withdrawal.pk)


def test_the_console_page_asks_the_service_how_many_approvers(staff_client, shop, owner, monkeypatch):
    """The approval rule lives in the service; the page only shows what the service answers."""
    w = world(shop, owner, second_approval_over=10000)
    fund(w.promoter, 30000)
    big = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=20000)
    small = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=2000)
    asked, rule = [], withdrawals.withdrawal_approvals_needed

    def spy(**kwargs):
        asked.append(kwargs["withdrawal"].pk)
        return rule(**kwargs)

    monkeypatch.setattr(withdrawals, "withdrawal_approvals_needed", spy)
    page = staff_client.get(reverse("console:withdrawals"))
    assert page.status_code == 200
    assert {row["w"].pk: row["needed"] for row in page.context["rows"]} == {big.pk: 2, small.pk: 1}
    assert sorted(asked) == sorted([big.pk, small.pk])


def test_approval_needs_are_decided_by_the_service_at_the_threshold(shop, owner):
    w = world(shop, owner, second_approval_over=10000)
    fund(w.promoter, 30000)
    at = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=10000)
    above = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=10001)
    assert withdrawals.withdrawal_approvals_needed(withdrawal=at) == 1
    assert withdrawals.withdrawal_approvals_needed(withdrawal=above) == 2
    assert withdrawal_approve(actor=owner, shop=shop, withdrawal_id=at.pk).status == W.APPROVED
    assert withdrawal_approve(actor=owner, shop=shop, withdrawal_id=above.pk).status == W.REQUESTED
