"""One journey's round: enrol who is due, then send what is due. Runs in the worker, never
inside a transaction (each batch of either step is its own short one)."""

from datetime import datetime

from django.utils import timezone

from .enrol import journey_enrol_due
from .models import Journey
from .sending import journey_send_due


def journey_run(*, journey_id: int, now: datetime | None = None) -> dict:
    """{"enrolled", "tried"} for an active journey; zeros for a paused or missing one."""
    journey = Journey.objects.select_related("shop").filter(pk=journey_id, active=True).first()
    if journey is None:
        return {"enrolled": 0, "tried": 0}
    enrolled = journey_enrol_due(journey=journey, now=now or timezone.now())
    if now is None:
        tried = journey_send_due(journey_id=journey_id)
    else:
        tried = journey_send_due(journey_id=journey_id, now_fn=lambda: now)
    return {"enrolled": enrolled, "tried": tried}


def journeys_active() -> list[int]:
    return list(Journey.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))


def repurchase_journey_on(shop) -> bool:
    """Registered with siyu.customers.reminders: the journey messages this shop's due customers."""
    return Journey.objects.filter(shop=shop, kind="repurchase", active=True).exists()
