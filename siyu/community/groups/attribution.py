"""What came through a group: visits, sign-ups and orders, each attributed to one group.

Why a code of its own (`/g/<code>/`, `?g=<code>`) and not the referral `?ref=`: a referral code
names a person and binds a new customer to them first-touch (referrals.attribution); a group is
not a person, and a group link must never take that binding or the session's `ref` away from
whoever shared first. So group touches are kept apart, in GroupTouch, and the referral rows are
never written here. The two meet only on the order: an order with no share code at all, placed
within WINDOW_DAYS of a group touch, gets the code of the group's leader promoter (if the shop set
one) so the ordinary commission path pays the leader — one tier, on the sale, never on a member
joining. An order that already carries a code keeps it: that sharer earns, the leader does not,
and the order still counts for the group.

Which group: the last group link the shopper opened (or the group they joined) within the window.
A sign-up counts for the first group that touched a shopper who had not bought in the shop yet.

Consent (PIPL), as referrals do: a customer who withdrew profiling consent is not touched (their
visit is recorded anonymously); visits are linked to a shopper only with consent given.
"""

import re
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from siyu.accounts.models import Shopper
from siyu.customers.models import Customer
from siyu.distribution.models import Promoter
from siyu.orders.models import Order, OrderStatus
from siyu.referrals.attribution import GIVEN, REFUSED, profiling_state
from siyu.shops.models import Shop

from .flags import groups_on
from .models import Group, GroupOrder, GroupTouch, GroupVisit

GROUP_CODE_RE = re.compile(r"^[a-z0-9]{6,12}$")
WINDOW_DAYS = 7  # how long a group link counts for the orders that follow it


def group_for_code(*, shop: Shop, code: str) -> Group | None:
    """The shop's active group with this share code (one query; none for a malformed code)."""
    code = str(code or "").strip().lower()
    if not GROUP_CODE_RE.match(code):
        return None
    return Group.objects.filter(shop=shop, code=code, is_active=True).first()


def _consent(shop: Shop, shopper: Shopper) -> str:
    return profiling_state(customer=Customer.objects.filter(shop=shop, phone_hash=shopper.phone_hash).first())


def _new_customer(shop: Shop, shopper: Shopper) -> bool:
    return not Order.objects.filter(shop=shop, shopper=shopper).exclude(status=OrderStatus.CANCELLED).exists()


def group_touch(*, shop: Shop, shopper: Shopper, group: Group, now: datetime | None = None) -> GroupTouch:
    """Make `group` the shopper's latest group link; the first touch of a shopper who has not
    bought here yet also records the sign-up (kept once, never moved to a later group)."""
    now = now or timezone.now()
    updated = GroupTouch.objects.filter(shop=shop, shopper=shopper).update(group=group, touched_at=now)
    if not updated:
        signup = group if _new_customer(shop, shopper) else None
        try:
            with transaction.atomic():
                return GroupTouch.objects.create(
                    shop=shop, shopper=shopper, group=group, touched_at=now, signup_group=signup
                )
        except IntegrityError:  # touched twice at once: the other request made the row
            GroupTouch.objects.filter(shop=shop, shopper=shopper).update(group=group, touched_at=now)
    return GroupTouch.objects.get(shop=shop, shopper=shopper)


def group_visit_record(
    *, shop: Shop, code: str, visitor_key: str, shopper: Shopper | None = None, path: str = "", now=None
) -> Group | None:
    """Record a visit through a group code; a signed-in shopper is touched at once. None (and
    nothing written, no query) for a shop without groups; None for an unknown code."""
    if not groups_on(shop_id=shop.pk):
        return None
    group = group_for_code(shop=shop, code=code)
    if group is None:
        return None
    now = now or timezone.now()
    consent = _consent(shop, shopper) if shopper is not None else REFUSED
    GroupVisit.objects.create(
        shop=shop,
        group=group,
        visitor_key=str(visitor_key)[:64],
        shopper=shopper if consent == GIVEN else None,
        path=str(path)[:200],
        at=now,
    )
    if shopper is not None and consent != REFUSED:
        group_touch(shop=shop, shopper=shopper, group=group, now=now)
    return group


def group_touch_bind(*, shop: Shop, shopper: Shopper, code: str, visitor_key: str = "", now=None) -> Group | None:
    """A visitor who came through a group link signed in: touch them, and (with consent) link
    their anonymous visits to them."""
    group = group_for_code(shop=shop, code=code)
    if group is None:
        return None
    consent = _consent(shop, shopper)
    if consent == REFUSED:
        return None
    with transaction.atomic():
        group_touch(shop=shop, shopper=shopper, group=group, now=now)
        if consent == GIVEN and visitor_key:
            GroupVisit.objects.filter(shop=shop, visitor_key=visitor_key, shopper__isnull=True).update(shopper=shopper)
    return group


def group_order_attribute(
    *, shop_id: int, order_id: int, shopper_id: int, now: datetime | None = None
) -> GroupOrder | None:
    """Attribute a just-placed order to the buyer's group touch (see the module note). Runs in the
    order's own transaction (order.placed), so the share code is on the order before anyone can
    pay it. No query for a shop without groups; one for a buyer with no recent group touch."""
    if not groups_on(shop_id=shop_id):
        return None
    now = now or timezone.now()
    touch = (
        GroupTouch.objects.filter(
            shop_id=shop_id,
            shopper_id=shopper_id,
            touched_at__gte=now - timedelta(days=WINDOW_DAYS),
            group__is_active=True,
        )
        .select_related("group__leader_promoter__shopper")
        .first()
    )
    if touch is None:
        return None
    promoter = touch.group.leader_promoter
    credited = None
    if promoter is not None and promoter.status == Promoter.Status.APPROVED and promoter.shopper_id != shopper_id:
        # Only an order without a code takes the leader's: a sharer already on the order keeps it.
        if Order.objects.filter(pk=order_id, ref_code="").update(ref_code=promoter.shopper.share_code):
            credited = promoter
    return GroupOrder.objects.create(
        shop_id=shop_id, group=touch.group, order_id=order_id, shopper_id=shopper_id, leader_promoter=credited, at=now
    )
