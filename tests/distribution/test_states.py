"""The status tables of promoters, commissions and withdrawals: every allowed move works and
leaves an audit row (from, to, who, why); every other move is refused with bad_transition and
changes nothing. Then the services: each status change they make follows its table."""

from itertools import product

import pytest

from siyu.core.errors import Conflict
from siyu.core.models import AuditEntry
from siyu.core.states import StateMachine
from siyu.distribution.models import Commission, Promoter, Withdrawal
from siyu.distribution.payouts import SandboxPayoutProvider
from siyu.distribution.promoters import promoter_apply, promoter_decide, promoter_suspend
from siyu.distribution.states import COMMISSION, PROMOTER, WITHDRAWAL
from siyu.distribution.withdrawals import withdrawal_approve, withdrawal_pay, withdrawal_reject, withdrawal_request

from ..factories import make_shopper
from .promoter_steps import id_number, referred_order, world
from .test_withdrawals import fund

pytestmark = pytest.mark.django_db


def _set(obj, status: str) -> None:
    type(obj).objects.filter(pk=obj.pk).update(status=status)
    obj.refresh_from_db()


def _trail(obj) -> list[tuple[str, str, str]]:
    rows = AuditEntry.objects.filter(target_type=type(obj).__name__.lower(), target_id=str(obj.pk)).order_by("id")
    return [(e.action, e.data.get("from"), e.data.get("to")) for e in rows if "from" in e.data]


def walk_table(machine: StateMachine, obj, statuses) -> None:
    """Every status has a row in the table; every allowed move is made and audited; every other
    pair (self-moves included) is refused and leaves the row and the audit log as they were."""
    assert set(machine.table) == set(statuses)
    for start, to in product(statuses, statuses):
        _set(obj, start)
        audited = AuditEntry.objects.count()
        if machine.can(start, to):
            machine.move(obj, to=to, actor="tester", why=f"{start} to {to}")
            obj.refresh_from_db()
            assert obj.status == to
            entry = AuditEntry.objects.order_by("-id").first()
            assert (entry.action, entry.actor_label, entry.target_id) == (f"{machine.name}.{to}", "tester", str(obj.pk))
            assert entry.data == {"from": start, "to": to, "why": f"{start} to {to}"}
            continue
        with pytest.raises(Conflict) as refused:
            machine.move(obj, to=to, actor="tester")
        assert refused.value.code == "bad_transition"
        assert refused.value.detail == {"what": machine.name, "from": start, "to": to}
        obj.refresh_from_db()
        assert obj.status == start and AuditEntry.objects.count() == audited


def test_promoter_table(shop, owner):
    w = world(shop, owner)
    walk_table(PROMOTER, w.promoter, Promoter.Status.values)
    assert PROMOTER.allowed(Promoter.Status.APPLIED) == {"approved", "rejected"}
    assert not PROMOTER.can(Promoter.Status.REJECTED, Promoter.Status.APPROVED)


def test_commission_table(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner)
    with django_capture_on_commit_callbacks(execute=True):
        referred_order(w)
    walk_table(COMMISSION, Commission.objects.get(), Commission.Status.values)
    assert not COMMISSION.can(Commission.Status.CANCELLED, Commission.Status.FROZEN)
    assert not COMMISSION.can(Commission.Status.SETTLED, Commission.Status.FROZEN)


def test_withdrawal_table(shop, owner):
    w = world(shop, owner)
    fund(w.promoter, 5000)
    withdrawal = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=5000)
    walk_table(WITHDRAWAL, withdrawal, Withdrawal.Status.values)
    assert not WITHDRAWAL.can(Withdrawal.Status.PAYING, Withdrawal.Status.REJECTED)  # never once money may be out
    assert not WITHDRAWAL.can(Withdrawal.Status.FAILED, Withdrawal.Status.PAYING)


# --- the services follow the tables ---------------------------------------------------------


def test_promoter_services_move_along_the_table(shop, owner):
    shopper = make_shopper()
    apply = dict(real_name="李四", id_number=id_number(77), payout_kind="wechat", payout_account="wx_lisi")
    promoter = promoter_apply(shop=shop, shopper=shopper, **apply)
    promoter_decide(actor=owner, promoter=promoter, approve=False, note="资料不全")
    promoter = promoter_apply(shop=shop, shopper=shopper, **apply)
    promoter_decide(actor=owner, promoter=promoter, approve=True)
    promoter_suspend(actor=owner, promoter=promoter, note="刷单")
    promoter_suspend(actor=owner, promoter=promoter, resume=True)
    with pytest.raises(Conflict) as refused:
        promoter_suspend(actor=owner, promoter=promoter, resume=True)  # approved → approved
    assert refused.value.code == "bad_transition"
    assert _trail(promoter) == [
        ("promoter.rejected", "applied", "rejected"),
        ("promoter.applied", "rejected", "applied"),
        ("promoter.approved", "applied", "approved"),
        ("promoter.suspended", "approved", "suspended"),
        ("promoter.approved", "suspended", "approved"),
    ]
    rejected = AuditEntry.objects.get(action="promoter.rejected")
    assert rejected.data["why"] == "资料不全" and rejected.actor_label == owner.user.get_username()


def test_withdrawal_services_move_along_the_table(shop, owner):
    SandboxPayoutProvider.reset()
    w = world(shop, owner)
    fund(w.promoter, 9000)
    paid = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=3000)
    withdrawal_approve(actor=owner, shop=shop, withdrawal_id=paid.pk)
    withdrawal_pay(actor=owner, shop=shop, withdrawal_id=paid.pk)
    with pytest.raises(Conflict) as refused:
        withdrawal_reject(actor=owner, shop=shop, withdrawal_id=paid.pk)
    assert refused.value.code == "bad_transition" and refused.value.detail["from"] == "paid"
    rejected = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=3000)
    withdrawal_approve(actor=owner, shop=shop, withdrawal_id=rejected.pk)
    withdrawal_reject(actor=owner, shop=shop, withdrawal_id=rejected.pk, note="账户有误")
    failed = withdrawal_request(shop=shop, shopper=w.promoter.shopper, amount=3000)
    withdrawal_approve(actor=owner, shop=shop, withdrawal_id=failed.pk)
    SandboxPayoutProvider.fail = True
    try:
        withdrawal_pay(actor=owner, shop=shop, withdrawal_id=failed.pk)
    finally:
        SandboxPayoutProvider.reset()
    with pytest.raises(Conflict) as refused:
        withdrawal_pay(actor=owner, shop=shop, withdrawal_id=failed.pk)
    assert refused.value.code == "bad_transition" and refused.value.detail == {
        "what": "withdrawal",
        "from": "failed",
        "to": "paying",
    }
    assert _trail(paid) == [
        ("withdrawal.approved", "requested", "approved"),
        ("withdrawal.paying", "approved", "paying"),
        ("withdrawal.paid", "paying", "paid"),
    ]
    assert _trail(rejected)[-1] == ("withdrawal.rejected", "approved", "rejected")
    assert _trail(failed)[-1] == ("withdrawal.failed", "paying", "failed")
    assert AuditEntry.objects.get(action="withdrawal.rejected").data["why"] == "账户有误"
