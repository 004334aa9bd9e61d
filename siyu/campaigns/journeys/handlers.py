"""Reactions to lower domains' events: a new customer starts the shop's welcome journeys at once
when they have no delay (the five-minute sweep finds everyone else, and catches up if this is lost)."""

from functools import partial

from django.db import transaction

from siyu.core.events import subscribe

from .models import Journey, JourneyKind


@subscribe("customer.created")
def welcome_now(event) -> None:
    ids = list(
        Journey.objects.filter(shop_id=event.shop_id, kind=JourneyKind.WELCOME, active=True, delay_hours=0).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        transaction.on_commit(partial(_queue, pk))


def _queue(journey_id: int) -> None:
    from .tasks import journey_run_task

    journey_run_task(journey_id)
