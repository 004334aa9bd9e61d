"""Flash-sale sessions through the API: a well-formed window that breaks the service's rules (the
end before the start, longer than 31 days, already over) is 409 settings_conflict, not 400 — the
API fuzz gate's rule for schema-valid input; malformed input stays 400."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.services import token_issue
from siyu.promotions.flashsales.models import FlashSession

from .conftest import API, bearer


@pytest.fixture
def key(shop, owner):
    return token_issue(shop=shop, staff=owner, name="t")[1]


def _post(client, key, starts, ends, **extra):
    body = {"name": "早场", "starts_at": starts.isoformat(), "ends_at": ends.isoformat(), **extra}
    return client.post(f"{API}/console/flash-sales", body, content_type="application/json", headers=bearer(key))


@pytest.mark.parametrize(
    "starts, ends",
    [
        (timedelta(hours=2), timedelta(hours=1)),  # ends before it starts
        (timedelta(hours=1), timedelta(days=40)),  # longer than 31 days
        (timedelta(days=-3), timedelta(days=-2)),  # already over
    ],
)
def test_a_window_that_does_not_fit_is_a_409(client, shop, key, starts, ends):
    now = timezone.now()
    answer = _post(client, key, now + starts, now + ends)
    assert answer.status_code == 409 and answer.json()["code"] == "settings_conflict"
    assert set(answer.json()["detail"]) <= {"starts_at", "ends_at"}
    assert not FlashSession.objects.exists()


def test_a_good_window_is_made_and_malformed_input_is_a_400(client, shop, key):
    now = timezone.now()
    assert _post(client, key, now, now + timedelta(hours=1)).status_code == 201
    assert _post(client, key, now, now + timedelta(hours=1), pay_minutes=0).status_code == 400
    session = FlashSession.objects.get()
    changed = client.put(
        f"{API}/console/flash-sales/{session.public_id}",
        {"name": "早场", "starts_at": now.isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat()},
        content_type="application/json",
        headers=bearer(key),
    )
    assert changed.status_code == 409 and changed.json()["detail"] == {"ends_at": "after starts_at"}
