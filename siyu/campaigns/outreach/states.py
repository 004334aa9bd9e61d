"""The campaign's status table: draft → scheduled → preparing → sending → done, or cancelled."""

from siyu.core.states import StateMachine

from .models import CampaignStatus as S

CAMPAIGN = StateMachine(
    name="campaign",
    table={
        S.DRAFT: {S.SCHEDULED, S.CANCELLED},
        S.SCHEDULED: {S.PREPARING, S.CANCELLED},
        S.PREPARING: {S.SENDING, S.CANCELLED},
        S.SENDING: {S.DONE, S.CANCELLED},
        S.DONE: set(),
        S.CANCELLED: set(),
    },
    labels=dict(S.choices),
)

# Statuses whose work a worker may be doing (the sweep resumes them when their heartbeat stops).
RUNNING = (S.PREPARING, S.SENDING)
