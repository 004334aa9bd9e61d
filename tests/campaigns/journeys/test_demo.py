"""The demo shop's journeys: the default set, welcome and second-order nudge on, via the log channel."""

import pytest

from siyu.campaigns.journeys.models import Journey
from siyu.cli.demo_journeys import demo_journeys

pytestmark = pytest.mark.django_db


def test_demo_switches_welcome_and_second_order_on(shop, owner):
    assert sorted(demo_journeys(shop=shop, owner=owner)) == ["second_order", "welcome"]
    journeys = Journey.objects.filter(shop=shop)
    assert journeys.count() == 6
    on = journeys.filter(active=True)
    assert sorted(on.values_list("kind", flat=True)) == ["second_order", "welcome"]
    assert set(on.values_list("channel", flat=True)) == {"log"}
    assert all(j.variants.count() == 1 for j in on)
