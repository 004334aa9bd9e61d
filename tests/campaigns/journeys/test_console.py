"""Console pages: the list (seeded defaults, key figures), the form, a journey's results, actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from siyu.accounts.roles import SERVICE
from siyu.campaigns.journeys.engine import journey_run
from siyu.campaigns.journeys.models import Journey, JourneyEnrolment, JourneyKind
from siyu.customers.models import Lifecycle
from tests.factories import make_staff

from .conftest import journey, person

pytestmark = pytest.mark.django_db


def lapsed(shop, n):
    for _ in range(n):
        person(shop, lifecycle=Lifecycle.AT_RISK, order_count=1, last_order_at=timezone.now() - timedelta(days=90))


def test_first_visit_seeds_the_default_journeys_switched_off(staff_client, shop, other_shop):
    response = staff_client.get(reverse("console:journeys"))
    assert response.status_code == 200
    seeded = Journey.objects.filter(shop=shop)
    assert sorted(seeded.values_list("kind", flat=True)) == sorted(JourneyKind.values)
    assert not seeded.filter(active=True).exists() and not Journey.objects.filter(shop=other_shop).exists()
    assert all(j.variants.count() == 1 and j.holdout_bp == 1000 for j in seeded)
    staff_client.get(reverse("console:journeys"))
    assert seeded.count() == 6


@pytest.mark.parametrize("enrolled", [3, 30])
def test_list_query_count_does_not_grow(staff_client, owner, shop, log_on, enrolled, django_assert_num_queries):
    staff_client.get(reverse("console:journeys"))  # seeds
    lapsed(shop, enrolled)
    j = journey(owner, shop, "winback", holdout_bp=2000)
    journey_run(journey_id=j.pk)
    # the console's own (session, staff member, shop), then: seeded already?; the journeys with
    # their figures in one grouped query; their variants
    with django_assert_num_queries(6):
        response = staff_client.get(reverse("console:journeys"))
    assert response.status_code == 200
    row = next(r for r in response.context["journeys"] if r.pk == j.pk)
    assert row.n_enrolled == enrolled and row.n_sent + row.n_holdout == enrolled


@pytest.mark.parametrize("enrolled", [3, 30])
def test_detail_shows_results_in_fixed_queries(staff_client, owner, shop, log_on, enrolled, django_assert_num_queries):
    lapsed(shop, enrolled)
    j = journey(owner, shop, "winback", holdout_bp=2000)
    journey_run(journey_id=j.pk)
    # the console's own three; the journey with its figures; its variants; the results' groups and
    # margin (siyu/campaigns/journeys/results.py), read only when someone got the treatment (with 3
    # enrolled, all three are held out 0.8 % of the time)
    treated = JourneyEnrolment.objects.filter(journey=j, variant__isnull=False).exists()
    with django_assert_num_queries(6 + treated):
        response = staff_client.get(reverse("console:journey_detail", args=[j.public_id]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "ROI" in body and "<svg" in body
    assert sum(g.recipients for g in response.context["result"].groups) == enrolled


def test_create_edit_activate_pause(staff_client, owner, shop):
    data = {
        "name": "新客欢迎",
        "kind": "welcome",
        "delay_hours": 2,
        "channel": "log",
        "holdout_percent": "15",
        "text_a": "{name}，欢迎来到{shop} {link}",
        "text_b": "欢迎 {name}",
        "target": "home",
        "attribution_days": 7,
        "margin_percent": "30",
    }
    response = staff_client.post(reverse("console:journey_new"), data)
    assert response.status_code == 302
    j = Journey.objects.get(shop=shop, name="新客欢迎")
    assert (j.kind, j.delay_hours, j.holdout_bp, j.active, j.variants.count()) == ("welcome", 2, 1500, False, 2)
    page = staff_client.get(reverse("console:journey_edit", args=[j.public_id]))
    assert page.status_code == 200 and "新客欢迎" in page.content.decode()
    edit = {**data, "name": "新客欢迎 2", "text_a": "你好 {name}", "kind": "birthday"}
    assert staff_client.post(reverse("console:journey_edit", args=[j.public_id]), edit).status_code == 302
    j.refresh_from_db()
    assert (j.name, j.kind, j.variants.get(index=0).text) == ("新客欢迎 2", "welcome", "你好 {name}")
    staff_client.post(reverse("console:journey_action", args=[j.public_id, "activate"]))
    j.refresh_from_db()
    assert j.active and j.active_since is not None
    staff_client.post(reverse("console:journey_action", args=[j.public_id, "pause"]))
    j.refresh_from_db()
    assert not j.active


def test_bad_text_stays_on_the_form(staff_client, shop):
    data = {
        "name": "x",
        "kind": "welcome",
        "delay_hours": 0,
        "channel": "log",
        "holdout_percent": "10",
        "text_a": "{coupon}",
        "target": "home",
        "attribution_days": 7,
        "margin_percent": "30",
    }
    response = staff_client.post(reverse("console:journey_new"), data)
    assert response.status_code == 400 and "unknown merge field" in response.content.decode()
    assert not Journey.objects.filter(shop=shop).exists()


def test_customer_service_sees_but_cannot_change(client, owner, shop):
    j = journey(owner, shop, "winback")
    staff = make_staff(shop, role=SERVICE)  # promotions.view without promotions.manage
    client.force_login(staff.user)
    response = client.get(reverse("console:journeys"))
    assert response.status_code == 200 and Journey.objects.filter(shop=shop).count() == 1  # no seeding
    assert client.post(reverse("console:journey_action", args=[j.public_id, "pause"])).status_code == 403
    j.refresh_from_db()
    assert j.active


def test_other_shops_journey_is_not_found(staff_client, shop, other_shop):
    from siyu.accounts.roles import OWNER

    theirs = journey(make_staff(other_shop, role=OWNER), other_shop, "winback")
    assert staff_client.get(reverse("console:journey_detail", args=[theirs.public_id])).status_code == 404
    assert staff_client.post(reverse("console:journey_action", args=[theirs.public_id, "pause"])).status_code == 404
