"""Customers in known situations, the log channel on, and a journey of each kind to switch on."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.campaigns.channels.models import ChannelConfig, ChannelSettings
from siyu.campaigns.journeys.models import Journey
from siyu.campaigns.journeys.services import journey_activate, journey_create
from siyu.core.crypto import lookup_hash
from siyu.customers.models import Customer

from ...factories import make_shopper

_n = itertools.count(1)


def person(shop, *, consent: bool = True, created_ago: timedelta | None = None, **fields) -> Customer:
    """A customer of `shop` with a shopper (so orders and carts can be theirs)."""
    n = next(_n)
    shopper = make_shopper(f"135{n:08d}")
    customer = Customer.objects.create(
        shop=shop,
        shopper=shopper,
        public_id=f"jc{n:010d}",
        phone_hash=lookup_hash(shopper.phone),
        phone=shopper.phone,
        name=f"顾客{n}",
        marketing_consent_at=timezone.now() if consent else None,
        **fields,
    )
    if created_ago is not None:
        Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - created_ago)
        customer.refresh_from_db()
    return customer


def channels_on(shop, *, cost: int = 5) -> None:
    """Log channel on, no quiet hours, a cap that a test does not reach."""
    ChannelSettings.objects.update_or_create(shop=shop, defaults={"quiet_start": 0, "quiet_end": 0, "cap_messages": 50})
    ChannelConfig.objects.update_or_create(
        shop=shop, channel="log", defaults={"enabled": True, "cost_fen": cost, "rate_per_minute": 100000}
    )


def journey(owner, shop, kind: str, *, active_since=None, **extra) -> Journey:
    data = {
        "name": f"{kind} 旅程",
        "kind": kind,
        "channel": "log",
        "holdout_bp": 0,
        "delay_hours": 0,
        "variants": [{"text": "{name}，{shop} 想你了 {product}"}],
        **extra,
    }
    made = journey_create(actor=owner, shop=shop, data=data)
    journey_activate(actor=owner, shop=shop, public_id=made.public_id, now=active_since)
    made.refresh_from_db()
    return made


@pytest.fixture
def log_on(shop):
    channels_on(shop)
