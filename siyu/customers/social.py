"""The seller's personal WeChat / WeCom accounts and which customers each holds as a friend.

A personal account holds a limited number of friends (5,000 by default), so the seller needs to
see how full each account is, be warned before one fills up, and know where to send new people.
Friend counts come from the links (status "added"); pending invitations are set aside too when
suggesting an account, since they are likely to become friends.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import StaffMember
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import actor_user, require
from siyu.shops.models import Shop

from .models import Customer, CustomerEvent, SocialAccount, SocialLink

PERM = "customers.manage"
KINDS = ("wechat", "wecom")
MAX_CAPACITY = 100_000
WARN_PERCENT = 90
STATUSES = tuple(SocialLink.Status.values)


@dataclass(frozen=True)
class Capacity:
    friends: int
    capacity: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.friends, 0)

    @property
    def percent(self) -> int:
        return min(self.friends * 100 // self.capacity, 100) if self.capacity else 100

    @property
    def warning(self) -> bool:
        # integer arithmetic: 4,500 of 5,000 is exactly the 90% line and warns
        return self.friends * 100 >= self.capacity * WARN_PERCENT

    @property
    def full(self) -> bool:
        return self.friends >= self.capacity


def social_capacity(account: SocialAccount) -> Capacity:
    """How full an account is. Uses the `friends` annotation of the selectors when present."""
    friends = getattr(account, "friends", None)
    if friends is None:
        friends = account.links.filter(status=SocialLink.Status.ADDED).count()
    return Capacity(friends=friends, capacity=account.capacity)


def _clean_account(*, shop: Shop, data: dict) -> dict:
    errors: dict = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "required"
    elif len(name) > 40:
        errors["name"] = "at most 40 characters"
    kind = str(data.get("kind") or "wechat")
    if kind not in KINDS:
        errors["kind"] = "unknown kind"
    handle = str(data.get("handle") or "").strip()
    if len(handle) > 60:
        errors["handle"] = "at most 60 characters"
    try:
        capacity = int(data.get("capacity", 5000))
    except (TypeError, ValueError):
        capacity = -1
        errors["capacity"] = "not a whole number"
    if "capacity" not in errors and not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = "out of range"
    owner_id = data.get("owner_id") or None
    if owner_id is not None:
        try:
            owner_id = int(owner_id)
        except (TypeError, ValueError):
            errors["owner_id"] = "not a whole number"
    if errors:
        raise InvalidInput(detail=errors)
    # Checked after the input: a staff member who is not this shop's is missing, as at every door.
    if owner_id is not None and not StaffMember.objects.filter(shop=shop, pk=owner_id).exists():
        raise NotFound(detail={"owner_id": owner_id})
    return {"name": name, "kind": kind, "handle": handle, "capacity": capacity, "owner_id": owner_id}


def social_account_save(*, actor, shop: Shop, data: dict, account_id: int | None = None) -> SocialAccount:
    """Create an account, or change one of this shop's (name, kind, handle, capacity, owner_id)."""
    require(actor, PERM, shop_id=shop.pk)
    values = _clean_account(shop=shop, data=data)
    account: SocialAccount | None
    with transaction.atomic():
        if account_id is None:
            account = SocialAccount.objects.create(shop=shop, **values)
            action = "social_account.create"
        else:
            account = SocialAccount.objects.select_for_update().filter(shop=shop, pk=account_id).first()
            if account is None:
                raise NotFound(detail={"account": account_id})
            for key, value in values.items():
                setattr(account, key, value)
            account.save()
            action = "social_account.update"
        audit_record(shop_id=shop.pk, actor=actor_user(actor), action=action, target=account, data=dict(values))
    return account


def social_link_set(*, actor, shop: Shop, account_id: int, customer_public_id: str, status: str) -> SocialLink:
    """Record that a customer was invited by, became a friend of, or was deleted from an account.

    Locks the account row, so two staff adding friends at once cannot push it over capacity.
    """
    require(actor, PERM, shop_id=shop.pk)
    if status not in STATUSES:
        raise InvalidInput(detail={"status": "unknown status"})
    customer = Customer.objects.filter(shop=shop, public_id=str(customer_public_id)[:16]).first()
    if customer is None:
        raise NotFound(detail={"customer": customer_public_id})
    with transaction.atomic():
        account = SocialAccount.objects.select_for_update().filter(shop=shop, pk=account_id).first()
        if account is None:
            raise NotFound(detail={"account": account_id})
        link = SocialLink.objects.filter(account=account, customer=customer).first()
        if link is not None and link.status == status:
            return link
        if status == SocialLink.Status.ADDED and social_capacity(account).full:
            raise Conflict(
                _("This account has no room for more friends."),
                code="account_full",
                detail={"capacity": account.capacity},
            )
        before = link.status if link else ""
        if link is None:
            link = SocialLink.objects.create(account=account, customer=customer, status=status)
        else:
            link.status = status
            link.save(update_fields=["status", "updated_at"])
        CustomerEvent.objects.create(
            shop=shop,
            customer=customer,
            kind=f"social.{status}",
            actor_label=str(getattr(actor, "display_name", ""))[:60],
            data={"account": account.pk, "account_name": account.name, "from": before},
        )
    return link


def social_suggest_account(*, shop: Shop) -> SocialAccount | None:
    """Where new customers should go: the account with the most room left, counting friends and
    pending invitations; the oldest account wins a tie. None when every account is full."""
    accounts = (
        SocialAccount.objects.filter(shop=shop)
        .annotate(load=Count("links", filter=Q(links__status__in=[SocialLink.Status.ADDED, SocialLink.Status.INVITED])))
        .annotate(room=F("capacity") - F("load"))
        .filter(room__gt=0)
        .order_by("-room", "id")
    )
    return accounts.first()
