"""The demo shop's journeys: the default set, with welcome and the second-order nudge switched on
through the log channel (messages appear in the worker's log, nothing leaves the machine)."""

from siyu.accounts.models import StaffMember
from siyu.campaigns.journeys.models import Journey, JourneyKind
from siyu.campaigns.journeys.selectors import with_variants
from siyu.campaigns.journeys.services import journey_activate, journey_update, journeys_seed
from siyu.shops.models import Shop

SWITCHED_ON = (JourneyKind.WELCOME, JourneyKind.SECOND_ORDER)


def demo_journeys(*, shop: Shop, owner: StaffMember) -> list[str]:
    """Seed the journeys and switch two on; returns the kinds switched on."""
    journeys_seed(shop=shop)
    on = []
    for journey in with_variants(Journey.objects.filter(shop=shop, kind__in=SWITCHED_ON)).order_by("pk"):
        variants = [{"text": v.text, "subject": v.subject} for v in journey.variants.all()]
        data = {
            "name": journey.name,
            "channel": "log",
            "delay_hours": journey.delay_hours,
            "holdout_bp": journey.holdout_bp,
            "variants": variants,
        }
        journey_update(actor=owner, shop=shop, public_id=journey.public_id, data=data)
        journey_activate(actor=owner, shop=shop, public_id=journey.public_id)
        on.append(journey.kind)
    return on
