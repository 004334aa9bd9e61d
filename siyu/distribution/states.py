"""The status tables of distribution: what may follow what for promoters, commissions and
withdrawals. Every status change in this domain goes through one of these (`move` for a locked
row, with an audit row; `claim` for the set-based moves), so a refused move answers the same
409 `bad_transition` wherever it was tried.
"""

from siyu.core.audit import audit_record
from siyu.core.states import StateMachine

from .models import Commission, Promoter, Withdrawal

P, C, W = Promoter.Status, Commission.Status, Withdrawal.Status

PROMOTER = StateMachine(
    name="promoter",
    table={
        P.APPLIED: {P.APPROVED, P.REJECTED},
        P.APPROVED: {P.SUSPENDED},
        P.SUSPENDED: {P.APPROVED},  # resumed; what was earned stayed theirs meanwhile
        P.REJECTED: {P.APPLIED},  # a rejected application may be sent again
    },
    labels=dict(P.choices),
)

COMMISSION = StateMachine(
    name="commission",
    table={
        C.FROZEN: {C.SETTLED, C.CANCELLED},
        C.SETTLED: {C.CANCELLED},  # a full refund after settlement (the refund window is longer than it looks)
        C.CANCELLED: set(),
    },
    labels=dict(C.choices),
)

WITHDRAWAL = StateMachine(
    name="withdrawal",
    table={
        W.REQUESTED: {W.APPROVED, W.REJECTED},
        W.APPROVED: {W.PAYING, W.REJECTED},
        W.PAYING: {W.PAID, W.FAILED},  # only the provider's answer ends a payout
        W.PAID: set(),
        W.REJECTED: set(),
        W.FAILED: set(),
    },
    labels=dict(W.choices),
)


def claimed_record(machine: StateMachine, obj, *, before: str, actor, why: str = "") -> None:
    """The audit row of a single row moved by `claim` (a conditional UPDATE writes none itself),
    in the shape `move` writes."""
    to = getattr(obj, machine.field)
    audit_record(
        shop_id=getattr(obj, "shop_id", None),
        actor=actor,
        action=f"{machine.name}.{to}",
        target=obj,
        data={"from": str(before), "to": str(to), "why": str(why or "")[:300]},
    )
