"""Money leaves the shop only with refunds.approve (owner, finance). Customer service and operators
review, take returns back and recommend refunds; finance approves them. The same rule at every door:
the service, the console and the API, for each of the four roles."""

import pytest
from django.test import Client
from django.urls import reverse

from siyu.accounts.roles import FINANCE, OPERATOR, OWNER, SERVICE
from siyu.core.errors import PermissionDenied
from siyu.orders.models import AfterSale, AfterSaleStatus, Order
from siyu.payments.aftersales import (
    aftersale_receive_return,
    aftersale_refund_approve,
    aftersale_refund_retry,
    aftersale_return_shipped,
    aftersale_review,
)
from siyu.payments.models import Refund

from ..factories import make_product, make_staff
from .helpers import ask, deliver, pay, place

A = AfterSaleStatus
ROLES = (OWNER, OPERATOR, SERVICE, FINANCE)
PAYS = {OWNER: True, OPERATOR: False, SERVICE: False, FINANCE: True}
API = "/api/v1/console"


@pytest.fixture
def staff(shop, owner):
    """One member per role (the owner fixture makes the shop's first owner)."""
    return {role: owner if role == OWNER else make_staff(shop, role=role) for role in ROLES}


@pytest.fixture
def paid(shop, shopper, address):
    order = place(shop, shopper, address, make_product(shop, name="龙井", price=5000, stock=20), quantity=2)
    pay(order)
    return order


def refund_request(order):
    return ask(order, order.lines.get(), "refund_only", 1, "other")


def settled(sale) -> AfterSale:
    return AfterSale.objects.get(pk=sale.pk)


def approved_by_service(order, staff):
    sale = refund_request(order)
    aftersale_review(actor=staff[SERVICE], shop=order.shop, public_id=sale.public_id, approve=True)
    return sale


# --- the service -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_review_moves_money_only_for_refund_approvers(role, staff, paid, django_capture_on_commit_callbacks):
    sale = refund_request(paid)
    with django_capture_on_commit_callbacks(execute=True):
        aftersale_review(actor=staff[role], shop=paid.shop, public_id=sale.public_id, approve=True)
    paid.refresh_from_db()
    if PAYS[role]:  # one step: approved and refunded
        assert settled(sale).status == A.REFUNDED and paid.refunded_amount == sale.amount
    else:  # recommended: waits in finance's queue, nothing refunded
        assert settled(sale).status == A.APPROVED and paid.refunded_amount == 0
        assert not Refund.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_only_refund_approvers_approve_a_recommended_refund(role, staff, paid, django_capture_on_commit_callbacks):
    sale = approved_by_service(paid, staff)
    if not PAYS[role]:
        with pytest.raises(PermissionDenied):
            aftersale_refund_approve(actor=staff[role], shop=paid.shop, public_id=sale.public_id)
        with pytest.raises(PermissionDenied):
            aftersale_refund_retry(actor=staff[role], shop=paid.shop, public_id=sale.public_id)
        assert settled(sale).status == A.APPROVED and not Refund.objects.exists()
        return
    with django_capture_on_commit_callbacks(execute=True):
        aftersale_refund_approve(actor=staff[role], shop=paid.shop, public_id=sale.public_id)
    assert settled(sale).status == A.REFUNDED
    assert Refund.objects.get(after_sale=sale).status == "succeeded"
    assert Order.objects.get(pk=paid.pk).refunded_amount == sale.amount


@pytest.mark.parametrize("role", ROLES)
def test_receiving_a_return(role, shop, shopper, address, staff, django_capture_on_commit_callbacks):
    order = place(shop, shopper, address, make_product(shop, name="杯子", price=3000, stock=5))
    deliver(order, staff[OWNER])
    sale = ask(order, order.lines.get(), "return_refund", 1, "no_reason")
    aftersale_review(actor=staff[SERVICE], shop=shop, public_id=sale.public_id, approve=True)
    aftersale_return_shipped(shop=shop, shopper=shopper, public_id=sale.public_id, carrier="中通", tracking="ZT9")
    if role == FINANCE:  # finance does not handle goods
        with pytest.raises(PermissionDenied):
            aftersale_receive_return(actor=staff[role], shop=shop, public_id=sale.public_id)
        assert settled(sale).status == A.AWAITING_RETURN
        return
    with django_capture_on_commit_callbacks(execute=True):
        aftersale_receive_return(actor=staff[role], shop=shop, public_id=sale.public_id)
    assert settled(sale).status == (A.REFUNDED if PAYS[role] else A.RETURNED)
    assert Refund.objects.filter(after_sale=sale).exists() == PAYS[role]


# --- the console -------------------------------------------------------------------------


def console(member) -> Client:
    client = Client()
    client.force_login(member.user)
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.parametrize("role", ROLES)
def test_console_doors(role, staff, paid, django_capture_on_commit_callbacks):
    client = console(staff[role])
    sale = refund_request(paid)
    with django_capture_on_commit_callbacks(execute=True):
        decided = client.post(reverse("console:aftersale_decide", args=[sale.public_id]), {"decision": "approve"})
    assert decided.status_code == 302
    assert settled(sale).status == (A.REFUNDED if PAYS[role] else A.APPROVED)

    other = approved_by_service(paid, staff) if PAYS[role] else None
    if other is None:  # the recommended refund stays with finance
        refused = client.post(reverse("console:aftersale_refund", args=[sale.public_id]))
        assert refused.status_code == 403 and settled(sale).status == A.APPROVED
        assert client.post(reverse("console:aftersale_retry", args=[sale.public_id])).status_code == 403
        assert not Refund.objects.exists()
        return
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("console:aftersale_refund", args=[other.public_id]))
    assert done.status_code == 302 and settled(other).status == A.REFUNDED


def test_finance_sees_the_queue_of_refunds_awaiting_approval(staff, paid):
    sale = approved_by_service(paid, staff)
    finance = console(staff[FINANCE])
    page = finance.get(reverse("console:aftersales"))  # finance lands on its queue
    assert page.status_code == 200 and [r["sale"].pk for r in page.context["rows"]] == [sale.pk]
    text = page.content.decode()
    assert "Refunds awaiting approval" in text and "Approve refund" in text
    service_page = console(staff[SERVICE]).get(reverse("console:aftersales")).content.decode()
    assert "Waiting for finance to approve the refund" in service_page and "Approve refund" not in service_page


# --- the API -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_api_doors(role, staff, paid, django_capture_on_commit_callbacks):
    client = console(staff[role])
    sale = refund_request(paid)
    with django_capture_on_commit_callbacks(execute=True):
        decided = client.post(
            f"{API}/after-sales/{sale.public_id}/decision", {"approve": True}, content_type="application/json"
        )
    assert decided.status_code == 200, decided.content
    assert settled(sale).status == (A.REFUNDED if PAYS[role] else A.APPROVED)
    # A refund recommended by service: the first one if this role could not pay it, or a new one.
    other = approved_by_service(paid, staff) if PAYS[role] else sale
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"{API}/after-sales/{other.public_id}/refund-approve")
    if PAYS[role]:
        assert answer.status_code == 200 and settled(other).status == A.REFUNDED
    else:
        assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
        assert settled(other).status == A.APPROVED
        assert client.post(f"{API}/after-sales/{other.public_id}/refund-retry").status_code == 403
