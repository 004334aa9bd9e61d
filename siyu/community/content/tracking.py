"""What a post brought: shares (a sharer's tap of copy or save), clicks and visits through its
link, and orders placed after such a visit.

- A click is one opening of /m/<code>/; a visit is one visitor (a browser session, by a random key
  the storefront keeps in the session), so a visitor opening the link three times is 3 clicks, 1
  visit. The sharer's own opening of their link counts for nothing.
- An order comes through a post when its shopper visited the post's link within ATTRIBUTION_DAYS
  before placing it. The visit learns who its visitor is when they are signed in: at once, or on a
  later page (the storefront calls `post_visit_bind`). The `order.placed` handler (in the worker,
  not in the checkout's transaction) writes one PostOrder for the latest such visit; the order's
  unique key makes a second delivery of the event a no-op. Revenue is read from the order when
  figures are shown (paid minus refunded), so refunds show without anything being rewritten here.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from siyu.accounts.models import Shopper, StaffMember
from siyu.core.errors import InvalidInput
from siyu.core.events import event_order_id
from siyu.core.models import OutboxEvent
from siyu.orders.models import Order
from siyu.shops.models import Shop

from .flags import content_in_use
from .models import Post, PostOrder, PostShare, PostVisit, ShareKind
from .selectors import post_for_link, post_to_share

ATTRIBUTION_DAYS = 7
KEY_MAX = 32


def post_share_record(
    *, shop: Shop, code: str, kind: str, shopper: Shopper | None = None, staff: StaffMember | None = None
) -> PostShare:
    """One tap of "copy the text" or "save the images" by a sharer (a signed-in shopper or staff)."""
    if kind not in ShareKind.values:
        raise InvalidInput(detail={"kind": "copy or save"})
    if shopper is None and staff is None:
        raise InvalidInput(detail={"sharer": "required"})
    post = post_to_share(shop=shop, code=code)
    share_code = shopper.share_code if shopper is not None else staff.share_code  # type: ignore[union-attr]
    return PostShare.objects.create(shop=shop, post=post, kind=kind, code=share_code, shopper=shopper, staff=staff)


@dataclass(frozen=True)
class Landed:
    post: Post
    visit: PostVisit | None  # None: the sharer's own click, or a deleted post's (nothing recorded)


def post_visit_record(
    *, shop: Shop, code: str, visitor_key: str, ref_code: str = "", shopper: Shopper | None = None, own_code: str = ""
) -> Landed:
    """Record one click of a post's link (404 for an unknown code). `own_code`: the share code of
    whoever clicks (signed in); a sharer opening their own link is not a visit."""
    post = post_for_link(shop=shop, code=code)
    key = str(visitor_key or "")[:KEY_MAX]
    if post.deleted_at is not None or not key or (own_code and own_code == ref_code):
        return Landed(post, None)
    now = timezone.now()
    defaults = {"shop": shop, "ref_code": str(ref_code or "")[:12], "shopper": shopper, "first_at": now, "last_at": now}
    try:
        with transaction.atomic():
            visit, created = PostVisit.objects.get_or_create(post=post, visitor_key=key, defaults=defaults)
    except IntegrityError:  # the same visitor's two clicks at once: the other one made the row
        visit, created = PostVisit.objects.get(post=post, visitor_key=key), False
    if not created:
        changes: dict = {"clicks": F("clicks") + 1, "last_at": now}
        if shopper is not None and visit.shopper_id is None:
            changes["shopper"] = shopper
        PostVisit.objects.filter(pk=visit.pk).update(**changes)
    return Landed(post, visit)


def post_visit_bind(*, shop: Shop, visit_id: int, shopper: Shopper) -> bool:
    """The visitor of `visit_id` turned out to be `shopper` (they signed in). Binds once; True if it did."""
    return bool(PostVisit.objects.filter(pk=int(visit_id), shop=shop, shopper__isnull=True).update(shopper=shopper))


def post_order_attribute(*, shop_id: int, order_id: int) -> PostOrder | None:
    """The post an order came through (its shopper's latest visit within the window before it was
    placed), recorded once. None when no post brought it."""
    if not content_in_use(shop_id=shop_id):
        return None
    order = Order.objects.filter(pk=order_id, shop_id=shop_id).values("shopper_id", "created_at").first()
    if order is None:
        return None
    placed = order["created_at"]
    visit = (
        PostVisit.objects.filter(
            shop_id=shop_id,
            shopper_id=order["shopper_id"],
            last_at__gte=placed - timedelta(days=ATTRIBUTION_DAYS),
            last_at__lte=placed,
        )
        .order_by("-last_at", "-id")
        .first()
    )
    if visit is None:
        return None
    try:
        with transaction.atomic():
            return PostOrder.objects.create(shop_id=shop_id, post_id=visit.post_id, order_id=order_id, visit=visit)
    except IntegrityError:  # delivered twice: the first delivery recorded it
        return None


def on_order_placed(event: OutboxEvent) -> None:
    if event.shop_id is not None:
        post_order_attribute(shop_id=event.shop_id, order_id=event_order_id(event))
