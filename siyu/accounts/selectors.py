from django.db.models import QuerySet

from siyu.core.errors import NotFound
from siyu.core.prepared import PreparedRead
from siyu.shops.models import Shop

from .models import Address, ApiToken, Shopper, StaffMember
from .sessions import SHOPPER_HASH_SESSION_KEY, SHOPPER_SESSION_KEY, shopper_session_valid  # noqa: F401 (re-exported)


def shopper_from_session(session, *, queryset: QuerySet[Shopper] | None = None) -> Shopper | None:
    """The shopper signed in on this session, or None. A session bound to an identity that has
    since been deleted is refused and its sign-in dropped, however the session survived.
    `queryset` lets an interface read more in the same query (the storefront's cart badge)."""
    shopper_id = session.get(SHOPPER_SESSION_KEY)
    if not shopper_id:
        return None
    shopper = (queryset if queryset is not None else Shopper.objects.all()).filter(pk=shopper_id).first()
    if shopper is None or not shopper_session_valid(session, shopper):
        session.pop(SHOPPER_SESSION_KEY, None)
        session.pop(SHOPPER_HASH_SESSION_KEY, None)
        return None
    return shopper


def staff_for_user(*, user, shop: Shop | None) -> StaffMember | None:
    """The active staff record of a signed-in user for this shop, or None."""
    if shop is None or not getattr(user, "is_authenticated", False):
        return None
    return StaffMember.objects.select_related("shop").filter(user=user, shop=shop, is_active=True).first()


def staff_list(*, shop: Shop) -> list[StaffMember]:
    return list(StaffMember.objects.filter(shop=shop).select_related("user"))


def addresses_of(*, shop: Shop, shopper: Shopper) -> list[Address]:
    return list(Address.objects.filter(shop=shop, shopper=shopper))


def _address_query(*, shop_id: int, shopper_id: int, public_id: str) -> QuerySet[Address]:
    return Address.objects.filter(shop_id=shop_id, shopper_id=shopper_id, public_id=public_id).order_by("pk")[:1]


# Read by every checkout: compiled once (siyu/core/prepared.py).
_ADDRESS_READ = PreparedRead(
    Address,
    _address_query,
    lambda _: (
        {"shop_id": -7_301_017, "shopper_id": -7_301_023, "public_id": "stand-in-address"},
        {"shop": -7_301_017, "shopper": -7_301_023, "public_id": "stand-in-address"},
    ),
)


def address_find(*, shop: Shop, shopper: Shopper, public_id: str) -> Address | None:
    """One of the shopper's own addresses in this shop, or None (anyone else's is not found)."""
    found = _ADDRESS_READ.fetch(shop=shop.pk, shopper=shopper.pk, public_id=str(public_id or ""))
    return found[0] if found else None


def address_get(*, shop: Shop, shopper: Shopper, public_id: str) -> Address:
    """One of the shopper's own addresses in this shop; anyone else's is simply not found."""
    address = address_find(shop=shop, shopper=shopper, public_id=public_id)
    if address is None:
        raise NotFound(detail={"address": public_id})
    return address


def tokens_of(*, staff: StaffMember) -> list[ApiToken]:
    return list(ApiToken.objects.filter(staff=staff, revoked_at__isnull=True).order_by("-id"))


def staff_get(*, shop: Shop, staff_id: int) -> StaffMember:
    member = StaffMember.objects.select_related("user", "shop").filter(shop=shop, pk=staff_id).first()
    if member is None:
        raise NotFound(detail={"staff": staff_id})
    return member
