"""Status tables of groups and their members (siyu.core.states)."""

from siyu.core.states import StateMachine

from .models import GroupStatus, MemberStatus

G, M = GroupStatus, MemberStatus

GROUP_STATES = StateMachine(
    name="group_buy",
    table={G.OPEN: {G.FORMED, G.FAILED}, G.FORMED: set(), G.FAILED: set()},
    labels=dict(G.choices),
)

MEMBER_STATES = StateMachine(
    name="group_member",
    table={
        M.PENDING: {M.JOINED, M.REFUNDING, M.CANCELLED},
        # A payment arriving after the order was cancelled reinstates it (siyu.orders.lifecycle):
        # it is decided as any other payment.
        M.CANCELLED: {M.JOINED, M.REFUNDING},
        # Joined, then refunded: the group failed, or the shopper was refunded before it formed.
        M.JOINED: {M.REFUNDING, M.REFUNDED},
        M.REFUNDING: {M.REFUNDED},
        M.REFUNDED: set(),
    },
    labels=dict(M.choices),
)
