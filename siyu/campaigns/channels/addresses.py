"""The address book: where a customer is reached on the channels the pool has no field for.

SMS uses the customer's phone and the log channel their public id; email, WeCom and the Official
Account need an address the seller learns elsewhere (a sign-up form, the WeCom callback that names
an external contact, the Official Account's follow event). Until one is known the channel refuses
"no_address". Addresses are personal data: encrypted at rest (ChannelAddress.address) and shown
masked in the console and the API.

What a valid address is, per channel:
  email      an address Django's EmailValidator accepts, at most 254 characters (domain lower-cased)
  wecom      a WeCom external_userid: 16 to 64 of A–Z a–z 0–9 _ - (WeCom issues 32, starting "wm"/"wo")
  wechat_oa  an Official Account openid: 20 to 64 of A–Z a–z 0–9 _ - (WeChat issues 28)
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from siyu.core import locks
from siyu.core.audit import audit_record
from siyu.core.errors import InvalidInput
from siyu.core.permissions import actor_user, require
from siyu.customers.models import Customer
from siyu.shops.models import Shop

from .models import ChannelAddress

PERM_VIEW = "customers.view"
PERM_MANAGE = "customers.manage"
ADDRESS_CHANNELS = ("email", "wecom", "wechat_oa")
_IDS = {
    "wecom": re.compile(r"[A-Za-z0-9_-]{16,64}"),
    "wechat_oa": re.compile(r"[A-Za-z0-9_-]{20,64}"),
}
_EMAIL = EmailValidator()
MAX_EMAIL = 254


def address_clean(*, channel: str, address) -> str:
    """The address in its stored form, or InvalidInput naming what is wrong."""
    if channel not in ADDRESS_CHANNELS:
        raise InvalidInput(_("This channel takes no address."), detail={"channel": "takes no address"})
    value = address.strip() if isinstance(address, str) else ""
    if channel == "email":
        local, _at, domain = value.rpartition("@")
        value = f"{local}@{domain.lower()}" if local else value
        try:
            if len(value) > MAX_EMAIL:
                raise ValidationError("too long")
            _EMAIL(value)
        except ValidationError:
            raise InvalidInput(_("Enter a valid email address."), detail={"address": "invalid email"}) from None
        return value
    if not _IDS[channel].fullmatch(value):
        low = 16 if channel == "wecom" else 20
        raise InvalidInput(
            _("Enter the id as the platform gives it: letters, digits, _ and -."),
            detail={"address": f"{low} to 64 of A-Z a-z 0-9 _ - expected"},
        )
    return value


def address_mask(*, channel: str, address: str) -> str:
    """Enough to recognise an address, not to use it."""
    if channel == "email":
        local, _at, domain = address.rpartition("@")
        return f"{local[:1]}***@{domain}" if local else "***"
    return f"{address[:4]}…{address[-4:]}" if len(address) > 8 else "…"


def channel_addresses_of(*, actor, shop: Shop, customer: Customer) -> list[dict]:
    """The customer's addresses, masked, in ADDRESS_CHANNELS order (one query)."""
    require(actor, PERM_VIEW, shop_id=shop.pk)
    found = {
        a.channel: a for a in ChannelAddress.objects.filter(shop=shop, customer=customer, channel__in=ADDRESS_CHANNELS)
    }
    return [
        {
            "channel": ch,
            "masked": address_mask(channel=ch, address=found[ch].address),
            "updated_at": found[ch].updated_at,
        }
        for ch in ADDRESS_CHANNELS
        if ch in found
    ]


def _locked_customer(shop: Shop, customer: Customer) -> Customer:
    locked = locks.lock_one(Customer.objects.filter(pk=customer.pk, shop=shop), rank=locks.REACTION)
    if locked is None:
        raise InvalidInput(detail={"customer": "not of this shop"})
    return locked


def channel_address_set(*, actor, shop: Shop, customer: Customer, channel: str, address) -> ChannelAddress:
    """Add or replace the customer's address on `channel`. Audited (masked). Locks: the customer row."""
    require(actor, PERM_MANAGE, shop_id=shop.pk)
    value = address_clean(channel=channel, address=address)
    with transaction.atomic():
        locked = _locked_customer(shop, customer)
        row = ChannelAddress.objects.filter(customer=locked, channel=channel).first()
        if row is not None and row.address == value:
            return row
        before = address_mask(channel=channel, address=row.address) if row is not None else None
        if row is None:
            row = ChannelAddress.objects.create(shop=shop, customer=locked, channel=channel, address=value)
        else:
            row.address = value
            row.save(update_fields=["address", "updated_at"])
        audit_record(
            shop_id=shop.pk,
            actor=actor_user(actor),
            action="channel_address.set",
            target=locked,
            data={"channel": channel, "from": before, "to": address_mask(channel=channel, address=value)},
        )
    return row


def channel_address_remove(*, actor, shop: Shop, customer: Customer, channel: str) -> bool:
    """Forget the customer's address on `channel` (False when there was none). Audited. Locks: the
    customer row."""
    require(actor, PERM_MANAGE, shop_id=shop.pk)
    if channel not in ADDRESS_CHANNELS:
        raise InvalidInput(detail={"channel": "takes no address"})
    with transaction.atomic():
        locked = _locked_customer(shop, customer)
        deleted, _rows = ChannelAddress.objects.filter(customer=locked, channel=channel).delete()
        if deleted:
            audit_record(
                shop_id=shop.pk,
                actor=actor_user(actor),
                action="channel_address.remove",
                target=locked,
                data={"channel": channel},
            )
    return bool(deleted)
