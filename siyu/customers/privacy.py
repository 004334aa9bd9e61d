"""Personal data (PIPL): a shopper's export and deletion, consents, and logged staff views.

Deletion anonymises rather than deletes where the law wants records kept: orders stay for
accounting with the recipient, phone and street address replaced; the shopper identity, the shops'
customer records and their consents lose every personal field; addresses, carts and sign-in codes
go; API tokens are revoked. The "deleted:<random>" hash keeps the shop's customer findable from the
(now empty) identity, so late order events still land on the same anonymous record.
"""

import secrets

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Address, ApiToken, OtpChallenge, Shopper
from siyu.accounts.sessions import shopper_sessions_end
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict
from siyu.core.money import format_yuan
from siyu.core.permissions import actor_user, require
from siyu.orders.models import AfterSale, CartLine, Order, OrderLine, OrderStatus
from siyu.orders.states import OPEN as OPEN_AFTER_SALES  # every after-sale still in progress
from siyu.shops.models import Shop

from .models import Customer, CustomerEvent, ExternalOrder, PointsEntry
from .stats import customer_for_shopper

DELETED_PREFIX = "deleted:"
PLACEHOLDER_NAME = "已注销"
PLACEHOLDER_TEXT = "***"
OPEN_ORDERS = [
    OrderStatus.PENDING_PAYMENT,
    OrderStatus.PAID,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
]


def _at(value) -> str | None:
    return value.isoformat() if value else None


def _customers_of(shopper: Shopper):
    return Customer.objects.filter(Q(shopper=shopper) | Q(phone_hash=shopper.phone_hash))


# --- export ------------------------------------------------------------------------------


def _customer_dict(c: Customer) -> dict:
    return {
        "id": c.public_id,
        "name": c.name,
        "phone": c.phone,
        "province": c.province,
        "city": c.city,
        "source": c.source,
        "level": c.level.name if c.level else "",
        "order_count": c.order_count,
        "total_spent": format_yuan(c.total_spent),
        "first_order_at": _at(c.first_order_at),
        "last_order_at": _at(c.last_order_at),
        "created_at": _at(c.created_at),
        "consents": {
            "marketing": _at(c.marketing_consent_at),
            "profiling": _at(c.profiling_consent_at),
        },
    }


def _order_dict(o: Order) -> dict:
    return {
        "number": o.number,
        "status": o.status,
        "created_at": _at(o.created_at),
        "paid_at": _at(o.paid_at),
        "subtotal": format_yuan(o.subtotal),
        "shipping_fee": format_yuan(o.shipping_fee),
        "discount": format_yuan(o.discount),
        "points_used": o.points_used,
        "total": format_yuan(o.total),
        "refunded": format_yuan(o.refunded_amount),
        "recipient": o.recipient,
        "phone": o.phone,
        "address": " ".join([o.province, o.city, o.district, o.address_detail]).strip(),
        "note": o.note,
        "lines": [
            {
                "product": ln.product_name,
                "spec": ln.sku_label,
                "unit_price": format_yuan(ln.unit_price),
                "quantity": ln.quantity,
                "total": format_yuan(ln.line_total),
            }
            for ln in o.lines.all()
        ],
    }


def _shop_entry(shops: dict, shop: Shop) -> dict:
    return shops.setdefault(
        shop.pk,
        {
            "shop": {"slug": shop.slug, "name": shop.name},
            "customer": None,
            "orders": [],
            "imported_orders": [],
            "points": [],
            "points_balance": 0,
        },
    )


def shopper_data_export(*, shopper: Shopper) -> dict:
    """Everything kept about this shopper, and nothing about anyone else: a JSON-able dict.
    Six queries whatever the history's length."""
    shops: dict[int, dict] = {}
    customers = list(_customers_of(shopper).select_related("shop", "level").order_by("pk"))
    by_customer = {}
    for c in customers:
        entry = _shop_entry(shops, c.shop)
        entry["customer"] = _customer_dict(c)
        by_customer[c.pk] = entry
    lines = Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    for o in Order.objects.filter(shopper=shopper).select_related("shop").prefetch_related(lines).order_by("id"):
        _shop_entry(shops, o.shop)["orders"].append(_order_dict(o))
    ids = list(by_customer)
    for x in ExternalOrder.objects.filter(customer_id__in=ids).order_by("placed_at"):
        by_customer[x.customer_id]["imported_orders"].append(
            {
                "source": x.source,
                "id": x.external_id,
                "placed_at": _at(x.placed_at),
                "amount": format_yuan(x.amount),
                "items": x.items,
            }
        )
    for p in PointsEntry.objects.filter(customer_id__in=ids).order_by("id"):
        entry = by_customer[p.customer_id]
        entry["points"].append(
            {"at": _at(p.created_at), "points": p.delta, "reason": p.reason, "expires_at": _at(p.expires_at)}
        )
        entry["points_balance"] += p.delta
    addresses = [
        {
            "shop": a.shop.slug,
            "recipient": a.recipient,
            "phone": a.phone,
            "province": a.province,
            "city": a.city,
            "district": a.district,
            "detail": a.detail,
            "default": a.is_default,
        }
        for a in Address.objects.filter(shopper=shopper).select_related("shop").order_by("id")
    ]
    return {
        "exported_at": _at(timezone.now()),
        "shopper": {
            "phone": shopper.phone,
            "nickname": shopper.nickname,
            "created_at": _at(shopper.created_at),
            "last_login_at": _at(shopper.last_login_at),
        },
        "addresses": addresses,
        "shops": list(shops.values()),
    }


# --- deletion ------------------------------------------------------------------------------


def _anonymise_customers(shopper: Shopper, new_hash: str, now) -> list[Customer]:
    customers = list(_customers_of(shopper).select_for_update().order_by("pk"))
    seen_shops = set()
    for c in customers:
        # One record per shop keeps the identity's hash; any stray duplicate gets its own.
        phone_hash = new_hash if c.shop_id not in seen_shops else DELETED_PREFIX + secrets.token_hex(16)
        seen_shops.add(c.shop_id)
        Customer.objects.filter(pk=c.pk).update(
            name="",
            phone="",
            phone_hash=phone_hash,
            province="",
            city="",
            shopper=shopper,
            marketing_consent_at=None,
            profiling_consent_at=None,
            anonymized_at=now,
        )
    CustomerEvent.objects.bulk_create(
        [CustomerEvent(shop_id=c.shop_id, customer=c, kind="account_deleted", actor_label="shopper") for c in customers]
    )
    return customers


def shopper_delete(*, shopper: Shopper) -> None:
    """Delete a shopper's account (see the module note). Refused while an order or an after-sale is
    still open, since the seller needs the address to finish it. Locks: the shopper row, then their
    customer rows in id order. The caller ends the session."""
    with transaction.atomic():
        shopper = Shopper.objects.select_for_update().get(pk=shopper.pk)
        if shopper.phone_hash.startswith(DELETED_PREFIX):
            return
        if (
            Order.objects.filter(shopper=shopper, status__in=OPEN_ORDERS).exists()
            or AfterSale.objects.filter(order__shopper=shopper, status__in=OPEN_AFTER_SALES).exists()
        ):
            raise Conflict(_("Please finish or cancel your open orders and after-sales first."), code="open_orders")
        now = timezone.now()
        old_hash, new_hash = shopper.phone_hash, DELETED_PREFIX + secrets.token_hex(16)
        customers = _anonymise_customers(shopper, new_hash, now)
        Order.objects.filter(shopper=shopper).update(
            recipient=PLACEHOLDER_NAME, phone="", address_detail=PLACEHOLDER_TEXT
        )
        Address.objects.filter(shopper=shopper).delete()
        CartLine.objects.filter(shopper=shopper).delete()
        OtpChallenge.objects.filter(phone_hash=old_hash).delete()
        ApiToken.objects.filter(shopper=shopper, revoked_at__isnull=True).update(revoked_at=now)
        Shopper.objects.filter(pk=shopper.pk).update(phone="", phone_hash=new_hash, nickname="")
        audit_record(
            shop_id=None,
            actor=None,
            action="shopper.delete",
            target=shopper,
            data={"customers": [c.public_id for c in customers]},
        )
    shopper_sessions_end(shopper=shopper)


# --- consents and staff views ---------------------------------------------------------------


def consent_set(*, shop: Shop, shopper: Shopper, marketing: bool, profiling: bool) -> Customer:
    """Record the shopper's choices for marketing messages and referral profiling in this shop.
    A consent keeps the time it was first given; withdrawing clears it. Locks: the customer row."""
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        now = timezone.now()
        before = (customer.marketing_consent_at is not None, customer.profiling_consent_at is not None)
        customer.marketing_consent_at = (customer.marketing_consent_at or now) if marketing else None
        customer.profiling_consent_at = (customer.profiling_consent_at or now) if profiling else None
        if before != (bool(marketing), bool(profiling)):
            customer.save(update_fields=["marketing_consent_at", "profiling_consent_at"])
            CustomerEvent.objects.create(
                shop=shop,
                customer=customer,
                kind="consent",
                actor_label="shopper",
                data={"marketing": bool(marketing), "profiling": bool(profiling)},
            )
    return customer


def customer_reveal(*, actor, customer: Customer) -> str:
    """The customer's full phone number, for staff allowed to view customers; every view is logged
    on the customer's timeline and in the audit log."""
    require(actor, "customers.view", shop_id=customer.shop_id)
    label = str(getattr(actor, "display_name", "") or "staff")[:60]
    CustomerEvent.objects.create(
        shop_id=customer.shop_id, customer=customer, kind="pii_view", actor_label=label, data={"field": "phone"}
    )
    audit_record(
        shop_id=customer.shop_id,
        actor=actor_user(actor),
        action="customer.reveal",
        target=customer,
        data={"field": "phone"},
    )
    return customer.phone or ""
