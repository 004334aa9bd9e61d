"""Console pages: register (secret shown once), the list with the notice, the endpoint page with its
deliveries and actions; owners only; another shop's endpoints are 404."""

import pytest
from django.urls import reverse

from siyu.accounts.roles import OPERATOR, SERVICE
from siyu.campaigns.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

from ...factories import make_staff


def test_register_shows_the_secret_once(staff_client, receiver):
    response = staff_client.post(
        reverse("console:webhooks"), {"url": receiver.url, "events": ["order.paid", "order.shipped"]}
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["order.paid", "order.shipped"]
    assert endpoint.secret in response.content.decode()
    again = staff_client.get(reverse("console:webhooks")).content.decode()
    assert endpoint.url in again and endpoint.secret not in again


def test_all_events_and_bad_url(staff_client, receiver):
    response = staff_client.post(reverse("console:webhooks"), {"url": "nope", "all_events": "on"})
    assert response.status_code == 400 and not WebhookEndpoint.objects.exists()
    staff_client.post(reverse("console:webhooks"), {"url": receiver.url, "all_events": "on"})
    assert WebhookEndpoint.objects.get().events == ["*"]


def test_endpoint_page_and_actions(staff_client, endpoint, shop):
    event = WebhookEvent.objects.create(
        shop=shop, public_id="evt_p", type="order.paid", data={}, created_at=endpoint.created_at, source=1
    )
    WebhookDelivery.objects.create(
        shop=shop, public_id="dp", endpoint=endpoint, event=event, status="failed", attempts=8
    )
    page = staff_client.get(reverse("console:webhook_detail", args=[endpoint.public_id]))
    assert page.status_code == 200 and "evt_p" in page.content.decode()
    act = lambda name: reverse("console:webhook_action", args=[endpoint.public_id, name])  # noqa: E731
    staff_client.post(act("disable"))
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled"
    staff_client.post(act("enable"))
    resend = staff_client.post(reverse("console:webhook_resend", args=[endpoint.public_id, "dp"]))
    assert resend.status_code == 302 and WebhookDelivery.objects.get().status == "pending"
    old = endpoint.secret
    rotated = staff_client.post(act("rotate"))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in rotated.content.decode()
    staff_client.post(act("delete"))
    assert not WebhookEndpoint.objects.exists()


def test_the_notice_shows_an_endpoint_disabled_for_failing(staff_client, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(status="disabled", disabled_reason="failing")
    body = staff_client.get(reverse("console:webhooks")).content.decode()
    assert 'role="alert"' in body and endpoint.url in body


@pytest.mark.parametrize("role", [OPERATOR, SERVICE])
def test_other_roles_are_refused(client, shop, owner, endpoint, role):
    client.force_login(make_staff(shop, role=role).user)
    assert client.get(reverse("console:webhooks")).status_code == 403
    assert client.post(reverse("console:webhook_action", args=[endpoint.public_id, "disable"])).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.status == "enabled"


def test_another_shops_endpoint_is_404(staff_client, other_shop, receiver):
    from siyu.campaigns.webhooks.services import endpoint_create

    theirs, _ = endpoint_create(
        actor=make_staff(other_shop, username="otherboss"), shop=other_shop, url=receiver.url, events=["*"]
    )
    assert staff_client.get(reverse("console:webhook_detail", args=[theirs.public_id])).status_code == 404
    for action in ("disable", "rotate", "delete"):
        response = staff_client.post(reverse("console:webhook_action", args=[theirs.public_id, action]))
        assert response.status_code == 404
    assert theirs.url not in staff_client.get(reverse("console:webhooks")).content.decode()
    theirs.refresh_from_db()
    assert theirs.status == "enabled"


@pytest.mark.parametrize("n", [5, 30])
def test_endpoint_page_query_count(staff_client, endpoint, shop, n, django_assert_num_queries):
    events = WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                shop=shop, public_id=f"e{i}", type="order.paid", data={}, created_at=endpoint.created_at, source=i
            )
            for i in range(n)
        ]
    )
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(shop=shop, public_id=f"d{i}", endpoint=endpoint, event=e) for i, e in enumerate(events)]
    )
    url = reverse("console:webhook_detail", args=[endpoint.public_id])
    staff_client.get(url)
    # the same count at both sizes: the deliveries page joins their events
    with django_assert_num_queries(6):
        response = staff_client.get(url)
    assert response.content.decode().count("order.paid") == n


@pytest.mark.parametrize("n", [2, 10])
def test_list_page_query_count(staff_client, shop, owner, receiver, n, django_assert_num_queries):
    from siyu.campaigns.webhooks.services import endpoint_create

    for _ in range(n):
        endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["order.paid"])
    url = reverse("console:webhooks")
    staff_client.get(url)
    with django_assert_num_queries(5):  # the same at both sizes
        response = staff_client.get(url)
    assert response.content.decode().count(receiver.url) == n
