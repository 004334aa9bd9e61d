"""Unsubscribe paths: a signed link `/u/<token>/` in every message but SMS, and "回复TD退订" in SMS.

The token is the customer's public id signed with the project's secret (django.core.signing, its
own salt), so it cannot be guessed or altered and never expires: an old message's link still works.
Opening the link shows one button; the POST withdraws marketing consent (a GET must not, since chat
apps and mail scanners open links to preview them).
"""

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from siyu.core import locks
from siyu.core.errors import NotFound
from siyu.customers.models import Customer, CustomerEvent
from siyu.shops.models import Shop

from .models import Unsubscribe

_SALT = "siyu.channels.unsubscribe"
SMS_SUFFIX = "回复TD退订"


def unsubscribe_token(customer: Customer) -> str:
    return signing.Signer(salt=_SALT).sign(customer.public_id)


def unsubscribe_path(customer: Customer) -> str:
    token = unsubscribe_token(customer)
    try:
        return reverse("storefront:unsubscribe", args=[token])
    except NoReverseMatch:  # the lead wires the page into siyu/storefront/urls.py
        return f"/u/{token}/"


def unsubscribe_url(shop: Shop, customer: Customer) -> str:
    """Absolute when the deployment says where it is served (SIYU_PUBLIC_URL, else the shop's host)."""
    base = getattr(settings, "SIYU_PUBLIC_URL", "") or (f"https://{shop.host}" if shop.host else "")
    return base.rstrip("/") + unsubscribe_path(customer)


def unsubscribe_customer(*, token: str) -> Customer:
    """The customer a token names (NotFound for a bad or altered token)."""
    try:
        public = signing.Signer(salt=_SALT).unsign(str(token)[:100])
    except signing.BadSignature:
        raise NotFound(detail={"token": "invalid"}) from None
    customer = Customer.objects.select_related("shop").filter(public_id=public).first()
    if customer is None:
        raise NotFound(detail={"token": "invalid"})
    return customer


def customer_unsubscribe(*, customer: Customer, via: str = "link") -> Customer:
    """Withdraw the customer's marketing consent for their shop and remember how. Repeatable.
    Locks: the customer row."""
    with transaction.atomic():
        customer = locks.lock_one(Customer.objects.filter(pk=customer.pk), rank=locks.REACTION)
        if customer is None:
            raise NotFound(detail={"customer": "gone"})
        now = timezone.now()
        had = customer.marketing_consent_at is not None
        if had:
            customer.marketing_consent_at = None
            customer.save(update_fields=["marketing_consent_at"])
            CustomerEvent.objects.create(
                shop_id=customer.shop_id,
                customer=customer,
                kind="consent",
                actor_label="unsubscribe",
                data={"marketing": False, "via": via},
            )
        Unsubscribe.objects.update_or_create(
            customer=customer, defaults={"shop_id": customer.shop_id, "via": via[:10], "at": now}
        )
    return customer


def unsubscribe_by_token(*, token: str) -> Customer:
    return customer_unsubscribe(customer=unsubscribe_customer(token=token), via="link")
