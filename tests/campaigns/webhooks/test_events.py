"""Which changes become webhook events, and what their `data` holds (stable, minimal, masked)."""

from datetime import timedelta

from django.utils import timezone

from siyu.campaigns.webhooks.models import WebhookEvent
from siyu.campaigns.webhooks.services import endpoint_create
from siyu.distribution.commissions_bulk import commissions_settle_due
from siyu.distribution.models import Commission

from ...customers.member_steps import deliver_events
from ...distribution.promoter_steps import referred_order, ship_and_receive, world
from ...orders.helpers import pay, place
from ...referrals.steps import refund


def _data(topic):
    return [e.data for e in WebhookEvent.objects.filter(type=topic).order_by("part")]


def _deliver_all():
    while deliver_events():
        pass


def test_customer_created_is_masked(shop, owner, shopper, address, product, receiver):
    endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["customer.created"])
    pay(place(shop, shopper, address, product))
    _deliver_all()
    (data,) = _data("customer.created")
    customer = data["customer"]
    assert customer["phone"] == "138****8000" and customer["source"] == "store"
    assert set(customer) == {"id", "phone", "source", "marketing_consent", "created_at"}
    assert not WebhookEvent.objects.exclude(type="customer.created").exists()  # only what was asked for


def test_after_sale_steps_and_the_refund(
    shop, owner, shopper, address, product, receiver, django_capture_on_commit_callbacks
):
    endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["*"])
    order = place(shop, shopper, address, product)
    pay(order)
    with django_capture_on_commit_callbacks(execute=True):
        sale = refund(shop, owner, order)
    _deliver_all()
    types = set(WebhookEvent.objects.values_list("type", flat=True))
    assert {"aftersale.requested", "aftersale.refunding", "aftersale.refunded", "order.refunded"} <= types
    (requested,) = _data("aftersale.requested")
    assert requested["after_sale"]["id"] == sale.public_id and requested["after_sale"]["order"] == order.public_id
    assert requested["after_sale"]["status"] == "requested" and requested["after_sale"]["reason"] == "quality"
    (refunded,) = _data("order.refunded")
    assert refunded["refund"] == {"amount": sale.amount, "after_sale": sale.public_id, "quantity": 1}


def test_each_settled_commission_is_one_event(shop, owner, receiver, django_capture_on_commit_callbacks):
    endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["commission.settled"])
    w = world(shop, owner, default_rate_bp=1000)
    with django_capture_on_commit_callbacks(execute=True):
        orders = [referred_order(w), referred_order(w)]
        for order in orders:
            ship_and_receive(w, order)
    assert commissions_settle_due(now=timezone.now() + timedelta(days=400)) == 2
    _deliver_all()
    settled = _data("commission.settled")
    assert sorted(d["commission"]["order"] for d in settled) == sorted(o.public_id for o in orders)
    assert {d["commission"]["amount"] for d in settled} == set(Commission.objects.values_list("amount", flat=True))
    assert WebhookEvent.objects.filter(type="commission.settled").values("source").distinct().count() == 1
