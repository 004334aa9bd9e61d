"""Trial console pages: list, form, the trial's page (queries at two sizes), actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from siyu.community.trials.models import ApplicationStatus, Trial, TrialApplication, TrialDraw
from siyu.community.trials.services import trial_move

from .conftest import apply_many
from .test_services import receive, submit

pytestmark = pytest.mark.django_db


def test_create_from_the_form(staff_client, product):
    now = timezone.localtime()
    resp = staff_client.post(
        reverse("console:trial_new"),
        {
            "title": "护手霜试用",
            "sku": product.skus.get().pk,
            "quantity": 5,
            "apply_starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "apply_ends_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "report_days": 10,
            "questions": "气味\n滋润度",
        },
    )
    trial = Trial.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("console:trial", args=[trial.public_id])
    assert [q["text"] for q in trial.questions] == ["气味", "滋润度"] and trial.status == "draft"
    edit = staff_client.get(reverse("console:trial_edit", args=[trial.public_id]))
    assert edit.status_code == 200 and "护手霜试用" in edit.content.decode()


def test_form_errors_are_shown_not_500(staff_client, product):
    resp = staff_client.post(reverse("console:trial_new"), {"title": "x", "sku": product.skus.get().pk, "quantity": 1})
    assert resp.status_code == 400
    assert not Trial.objects.exists()


@pytest.mark.parametrize("n", [2, 8])
def test_trial_page_queries_at_two_sizes(staff_client, owner, trial, n, django_assert_num_queries):
    apps = apply_many(trial, n)
    trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="selecting")
    staff_client.post(
        reverse("console:trial_action", args=[trial.public_id]),
        {"action": "select", "applications": [apps[0].public_id]},
    )
    url = reverse("console:trial", args=[trial.public_id])
    staff_client.get(url)
    with django_assert_num_queries(8):
        resp = staff_client.get(url)
    assert resp.status_code == 200
    assert resp.content.decode().count('name="applications"') == n - 1
    with django_assert_num_queries(5):
        assert staff_client.get(reverse("console:trials")).status_code == 200


def test_draw_select_and_publish_from_the_page(staff_client, owner, trial):
    apply_many(trial, 4)
    action = reverse("console:trial_action", args=[trial.public_id])
    staff_client.post(action, {"action": "move", "to": "selecting"})
    resp = staff_client.post(action, {"action": "draw", "count": "2"})
    assert resp.status_code == 302
    draw = TrialDraw.objects.get()
    assert len(draw.winners) == 2
    page = staff_client.get(reverse("console:trial", args=[trial.public_id])).content.decode()
    assert draw.seed in page
    staff_client.post(action, {"action": "move", "to": "running"})
    winner = TrialApplication.objects.filter(status=ApplicationStatus.SELECTED).select_related("order").first()
    receive(winner.order, owner)
    report = submit(winner)
    staff_client.post(action, {"action": "publish", "report": report.public_id})
    report.refresh_from_db()
    assert report.review_id is not None


def test_too_many_for_the_stock_shows_the_error(staff_client, owner, trial, product):
    apps = apply_many(trial, 2)
    trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="selecting")
    product.skus.update(stock=1)
    action = reverse("console:trial_action", args=[trial.public_id])
    resp = staff_client.post(action, {"action": "select", "applications": [a.public_id for a in apps]}, follow=True)
    assert "库存" in resp.content.decode() or "stock" in resp.content.decode()
    assert not TrialApplication.objects.filter(status=ApplicationStatus.SELECTED).exists()


def test_other_shops_trial_is_404(client, trial, other_shop):
    from tests.factories import make_staff

    other = make_staff(other_shop, username="other-owner")
    client.force_login(other.user)
    assert client.get(reverse("console:trial", args=[trial.public_id])).status_code in (403, 404)
