"""The results at any size: the page and the API answer with the same number of queries for 10 and
240 recipients (everything is aggregated in SQL), and the figures match a count by hand."""

import secrets
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from siyu.accounts.models import Shopper
from siyu.accounts.services import token_issue
from siyu.campaigns.outreach.models import Campaign, CampaignRecipient, CampaignVariant
from siyu.campaigns.outreach.results import campaign_results
from siyu.core.crypto import lookup_hash
from siyu.customers.models import Customer
from siyu.orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


def sent_campaign(shop, size: int) -> tuple[Campaign, dict]:
    """A finished campaign to `size` customers made in bulk: every fifth in the control group, the
    rest dealt A/B in turn; every third recipient paid an order in the window (amount by position),
    every seventh also one before the send (not counted). Returns the campaign and the counts by hand."""
    started = timezone.now() - timedelta(days=1)
    campaign = Campaign.objects.create(
        shop=shop,
        public_id=secrets.token_hex(6),
        name="规模",
        channel="log",
        seed="s",
        status="done",
        send_started_at=started,
        prepared=size,
    )
    variants = CampaignVariant.objects.bulk_create(
        [CampaignVariant(campaign=campaign, index=i, text="hi") for i in range(2)]
    )
    tag = secrets.token_hex(3)
    shoppers = Shopper.objects.bulk_create(
        [Shopper(phone_hash=lookup_hash(f"{tag}{i}"), phone="", share_code=f"{tag}{i:05d}") for i in range(size)]
    )
    customers = Customer.objects.bulk_create(
        [
            Customer(shop=shop, shopper=s, public_id=f"{tag}{i:07d}", phone_hash=lookup_hash(f"c{tag}{i}"))
            for i, s in enumerate(shoppers)
        ]
    )
    recipients, orders = [], []
    want = {key: {"recipients": 0, "delivered": 0, "ordered": 0, "revenue": 0} for key in ("control", "A", "B")}
    for i, customer in enumerate(customers):
        variant = None if i % 5 == 0 else variants[i % 2]
        key = "control" if variant is None else variant.letter
        recipients.append(
            CampaignRecipient(
                campaign=campaign,
                customer=customer,
                variant=variant,
                code=f"{tag}{i:07d}",
                status="control" if variant is None else "sent",
                cost_fen=0 if variant is None else 5,
            )
        )
        want[key]["recipients"] += 1
        want[key]["delivered"] += variant is not None
        if i % 3 == 0:
            orders.append(_order(shop, customer.shopper, 1000 + i, started + timedelta(hours=2)))
            want[key]["ordered"] += 1
            want[key]["revenue"] += 1000 + i
        if i % 7 == 0:
            orders.append(_order(shop, customer.shopper, 99, started - timedelta(hours=2)))
    CampaignRecipient.objects.bulk_create(recipients)
    Order.objects.bulk_create(orders)
    return campaign, want


def _order(shop, shopper, paid: int, paid_at) -> Order:
    return Order(
        shop=shop,
        public_id=secrets.token_hex(8),
        number=secrets.token_hex(10),
        shopper=shopper,
        idempotency_key=secrets.token_hex(8),
        status=OrderStatus.PAID,
        subtotal=paid,
        total=paid,
        paid_amount=paid,
        paid_at=paid_at,
        recipient="王五",
        phone="13800138000",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address_detail="文三路 1 号",
        pay_deadline=paid_at + timedelta(minutes=30),
    )


@pytest.mark.parametrize("size", [10, 240])
def test_results_figures_match_a_count_by_hand(shop, size):
    campaign, want = sent_campaign(shop, size)
    result = campaign_results(campaign=campaign)
    got = {
        g.key: {"recipients": g.recipients, "delivered": g.delivered, "ordered": g.ordered, "revenue": g.revenue}
        for g in result.groups
    }
    assert got == want
    assert result.message_cost == 5 * (want["A"]["recipients"] + want["B"]["recipients"])


@pytest.mark.parametrize("size", [10, 240])
def test_results_page_and_api_have_a_fixed_query_count(
    client, staff_client, shop, owner, size, django_assert_num_queries
):
    campaign, _want = sent_campaign(shop, size)
    with django_assert_num_queries(8):  # the same at both sizes
        response = staff_client.get(reverse("console:campaign_detail", args=[campaign.public_id]))
    assert response.status_code == 200
    client.logout()
    headers = {"Authorization": "Bearer " + token_issue(shop=shop, staff=owner, name="t")[1]}
    with django_assert_num_queries(7):  # the same at both sizes
        response = client.get(f"/api/v1/console/campaigns/{campaign.public_id}/results", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert sum(g["recipients"] for g in body["groups"] if g["group"] != "treatment") == size
