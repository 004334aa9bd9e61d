"""Unsubscribe paths: a signed link `/u/<token>/` in every message but SMS, and "回复TD退订" in SMS.

The token is the customer's public id signed with the project's secret (django.core.signing, its
own salt), so it cannot be guessed or altered and never expires: an old message's link still works.
Opening the link shows one button; the POST withdraws marketing consent (a GET must not, since chat
apps and mail scanners open links to preview them).
"""

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import get_script_prefix, reverse
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


def storefront_url(shop: Shop, name: str, *args) -> str:
    """The absolute URL of a storefront page of `shop`, as a message must carry it: on the shop's own
    host when it has one, else under SIYU_PUBLIC_URL (http://localhost:8000 in development), with
    the shop's /s/<slug> prefix unless it is the default shop (the middleware finds it so). The
    path is taken without the script prefix of whatever request may be running (a start in the
    console sends at once in tests), so it never carries another prefix."""
    path = reverse(f"storefront:{name}", args=args)
    prefix = get_script_prefix()
    if prefix != "/" and path.startswith(prefix):
        path = "/" + path[len(prefix) :]
    return storefront_base(shop) + path


def storefront_base(shop: Shop) -> str:
    """Where the shop's storefront is reached from outside, without a trailing slash (see
    storefront_url): https://<its host>, else SIYU_PUBLIC_URL[/s/<slug>]."""
    if shop.host:
        return f"https://{shop.host}"
    base = str(getattr(settings, "SIYU_PUBLIC_URL", "") or "http://localhost:8000").rstrip("/")
    return base + ("" if shop.is_default else f"/s/{shop.slug}")


def unsubscribe_url(shop: Shop, customer: Customer) -> str:
    return storefront_url(shop, "unsubscribe", unsubscribe_token(customer))


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
