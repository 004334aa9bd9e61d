from datetime import datetime

import pytest
from django.utils import timezone

from siyu.campaigns.channels import config
from siyu.campaigns.channels.backends import simple
from siyu.core.crypto import lookup_hash
from siyu.core.ids import public_id
from siyu.customers.models import Customer

# 14:00 shop time on a weekday: outside the default quiet hours (21:00–09:00)
NOON = timezone.make_aware(datetime(2025, 3, 12, 14, 0))


def make_customer(shop, *, phone: str = "", consent: bool = True, **fields) -> Customer:
    phone = (
        phone or "139" + public_id(8).translate(str.maketrans("abcdefghjkmnpqrstuvwxyz", "01234567890123456789012"))[:8]
    )
    return Customer.objects.create(
        shop=shop,
        public_id=public_id(12),
        phone=phone,
        phone_hash=lookup_hash(phone + public_id(6)),
        name=fields.pop("name", "顾客"),
        marketing_consent_at=timezone.now() if consent else None,
        **fields,
    )


@pytest.fixture
def customer(shop):
    return make_customer(shop, phone="13900001111")


@pytest.fixture
def log_outbox():
    simple.outbox.clear()
    yield simple.outbox
    simple.outbox.clear()


@pytest.fixture
def enable(shop, owner):
    """enable("sms", cost_fen=5, credentials={...}) turns a channel on for `shop`."""

    def turn_on(channel: str, **fields):
        item = {"channel": channel, "enabled": True, **fields}
        config.channel_settings_update(actor=owner, shop=shop, data={"channels": [item]})

    return turn_on
