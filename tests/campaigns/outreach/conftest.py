"""A pool of consenting customers, a segment of them, and the log channel switched on."""

import itertools

import pytest
from django.utils import timezone

from siyu.campaigns.channels.models import ChannelConfig, ChannelSettings
from siyu.campaigns.outreach.services import campaign_create, campaign_start
from siyu.core.crypto import lookup_hash
from siyu.customers.models import Customer
from siyu.customers.segments import segment_save

from ...factories import make_shopper

_n = itertools.count(1)
CITY = {"all": [{"field": "city", "op": "eq", "value": "杭州"}]}


def make_pool(shop, size: int, *, consent: bool = True, city: str = "杭州") -> list[Customer]:
    made = []
    for _i in range(size):
        n = next(_n)
        shopper = make_shopper(f"136{n:08d}")
        made.append(
            Customer.objects.create(
                shop=shop,
                shopper=shopper,
                public_id=f"oc{n:010d}",
                phone_hash=lookup_hash(shopper.phone),
                phone=shopper.phone,
                name=f"顾客{n}",
                city=city,
                marketing_consent_at=timezone.now() if consent else None,
            )
        )
    return made


def channels_on(shop, *, cost: int = 5) -> None:
    """Log channel on, no quiet hours, a cap that campaigns in a test do not reach."""
    ChannelSettings.objects.update_or_create(shop=shop, defaults={"quiet_start": 0, "quiet_end": 0, "cap_messages": 50})
    ChannelConfig.objects.update_or_create(
        shop=shop, channel="log", defaults={"enabled": True, "cost_fen": cost, "rate_per_minute": 100000}
    )


def draft(owner, shop, segment, **extra):
    data = {
        "name": "双十二老客召回",
        "segment": segment.pk,
        "channel": "log",
        "holdout_bp": 2000,
        "variants": [{"text": "{name}，您有{points}积分，点此 {link}"}, {"text": "{name}，老客专享"}],
        **extra,
    }
    return campaign_create(actor=owner, shop=shop, data=data)


@pytest.fixture
def pool(shop):
    channels_on(shop)
    return make_pool(shop, 40)


@pytest.fixture
def segment(owner, shop, pool):
    return segment_save(actor=owner, shop=shop, name="杭州老客", rules=CITY)


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """campaign_start with the work it queues after commit run at once (the test worker is immediate)."""

    def run(owner, shop, campaign, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return campaign_start(actor=owner, shop=shop, public_id=campaign.public_id, **kwargs)

    return run
