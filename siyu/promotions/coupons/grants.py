"""Coupons given without a claim: by rules (first paid order, birthday, member level reached, a
referral reward granted) and pushed to a saved segment. Every path is idempotent through the
grant's slot (see models)."""

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, NotFound
from siyu.core.permissions import require
from siyu.customers.models import Customer, Segment, SegmentMember
from siyu.orders.models import Order
from siyu.promotions.results import PAID_STATUSES

from .models import Coupon, CouponGrant, CouponPush, CouponRule, CouponStatus, GrantSource, PushStatus
from .services import _new_grant, _take, coupon_grant_issue

BATCH = 500


def _rule_coupons(shop_id: int, rule: str) -> list[Coupon]:
    return list(Coupon.objects.filter(shop_id=shop_id, status=CouponStatus.ACTIVE, rule=rule).order_by("pk"))


def grants_for_first_order(*, order_id: int) -> int:
    """After a payment: the shop's first-order coupons, if this was the shopper's first paid order."""
    order = Order.objects.filter(pk=order_id).only("pk", "shop_id", "shopper_id", "paid_at").first()
    if order is None or order.paid_at is None:
        return 0
    coupons = _rule_coupons(order.shop_id, CouponRule.FIRST_ORDER)
    if not coupons:
        return 0
    earlier = Order.objects.filter(
        Q(paid_at__lt=order.paid_at) | Q(paid_at=order.paid_at, pk__lt=order.pk),
        shop_id=order.shop_id,
        shopper_id=order.shopper_id,
        status__in=PAID_STATUSES,
        paid_amount__gt=0,
    )
    if earlier.exists():
        return 0
    return sum(
        1
        for c in coupons
        if coupon_grant_issue(coupon=c, shopper_id=order.shopper_id, slot="first_order", source=GrantSource.FIRST_ORDER)
    )


def grants_for_level_up(*, shop_id: int, shopper_id: int | None, level_id: int | None) -> int:
    if not shopper_id or not level_id:
        return 0
    return sum(
        1
        for c in _rule_coupons(shop_id, CouponRule.LEVEL_UP)
        if coupon_grant_issue(coupon=c, shopper_id=shopper_id, slot=f"level:{level_id}", source=GrantSource.LEVEL_UP)
    )


def grants_for_referral(*, shop_id: int, shopper_id: int | None, reward_id: int, role: str) -> int:
    """A referral reward was granted (siyu.referrals: after the first order's refund window): the
    shop's running referral coupons for that side, once per reward (slot "referral:<reward id>")."""
    rule = {"referrer": CouponRule.REFERRER, "referee": CouponRule.REFEREE}.get(role)
    if not shopper_id or rule is None:
        return 0
    return sum(
        1
        for c in _rule_coupons(shop_id, rule)
        if coupon_grant_issue(
            coupon=c, shopper_id=shopper_id, slot=f"referral:{reward_id}", source=GrantSource.REFERRAL
        )
    )


def _birthday_q(today: date) -> Q:
    found = Q(birthday__month=today.month, birthday__day=today.day)
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    if today.month == 2 and today.day == 28 and not leap:
        found |= Q(birthday__month=2, birthday__day=29)  # born on 29 February: the 28th in other years
    return found


def grants_for_birthdays(*, shop_id: int, today: date | None = None) -> int:
    """Today's birthday coupons for one shop (the worker runs this daily; a rerun gives nothing
    twice: the slot is "birthday:<year>")."""
    today = today or timezone.localdate()
    coupons = _rule_coupons(shop_id, CouponRule.BIRTHDAY)
    if not coupons:
        return 0
    made = 0
    customers = Customer.objects.filter(_birthday_q(today), shop_id=shop_id, anonymized_at__isnull=True)
    for batch in _batches(customers.values_list("pk", "shopper_id", "phone_hash")):
        shoppers = _shoppers_of(batch)
        for coupon in coupons:
            for shopper_id in shoppers.values():
                if coupon_grant_issue(
                    coupon=coupon, shopper_id=shopper_id, slot=f"birthday:{today.year}", source=GrantSource.BIRTHDAY
                ):
                    made += 1
    return made


def _batches(rows, size: int = BATCH):
    batch = []
    for row in rows.iterator(chunk_size=size):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _shoppers_of(rows: list[tuple[int, int | None, str]]) -> dict[int, int]:
    """customer id -> shopper id: the linked shopper, else the signed-in shopper with that phone
    (an imported customer who never signed in has none and cannot hold a coupon yet)."""
    found = {pk: shopper_id for pk, shopper_id, _hash in rows if shopper_id}
    unlinked = {phone_hash: pk for pk, shopper_id, phone_hash in rows if not shopper_id}
    if unlinked:
        for shopper_id, phone_hash in Shopper.objects.filter(phone_hash__in=list(unlinked)).values_list(
            "pk", "phone_hash"
        ):
            found[unlinked[phone_hash]] = shopper_id
    return found


# --- pushes to a segment -------------------------------------------------------------------


def coupon_push_start(*, actor, coupon: Coupon, segment_id) -> CouponPush:
    """Queue a push of `coupon` to every member of a saved segment; the worker grants it in batches."""
    require(actor, "promotions.manage", shop_id=coupon.shop_id)
    if coupon.status != CouponStatus.ACTIVE:
        raise Conflict(_("Start the coupon before giving it out."), code="coupon_not_active")
    try:
        segment = Segment.objects.filter(shop_id=coupon.shop_id, pk=int(segment_id)).first()
    except (TypeError, ValueError):
        segment = None
    if segment is None:
        raise NotFound(_("This segment does not exist."), detail={"segment": str(segment_id)[:20]})
    from siyu.core.audit import actor_describe

    with transaction.atomic():
        push = CouponPush.objects.create(
            shop_id=coupon.shop_id,
            coupon=coupon,
            segment=segment,
            segment_name=segment.name,
            total=SegmentMember.objects.filter(segment=segment).count(),
            created_by=actor_describe(actor)[1][:120],
        )
        audit_record(
            shop_id=coupon.shop_id, actor=actor, action="coupon.push", target=coupon, data={"segment": segment.name}
        )
        transaction.on_commit(lambda: _enqueue(push.pk))
    return push


def _enqueue(push_id: int) -> None:
    from .tasks import coupon_push_task

    coupon_push_task(push_id)


def coupon_push_run(*, push_id: int) -> CouponPush | None:
    """Work a queued push through, batch by batch, each its own short transaction (progress is
    saved with the batch, so a crash resumes where it stopped and gives no one a coupon twice)."""
    if not CouponPush.objects.filter(pk=push_id, status=PushStatus.QUEUED).update(status=PushStatus.RUNNING):
        return CouponPush.objects.filter(pk=push_id).first()  # another worker has it, or it is done
    while True:
        push = CouponPush.objects.select_related("coupon").get(pk=push_id)
        if push.segment_id is None:
            return _push_finish(push, PushStatus.FAILED, "the segment was deleted")
        rows = list(
            SegmentMember.objects.filter(segment_id=push.segment_id, customer_id__gt=push.last_customer_id)
            .order_by("customer_id")
            .values_list("customer_id", "customer__shopper_id", "customer__phone_hash")[:BATCH]
        )
        if not rows:
            return _push_finish(push, PushStatus.DONE, "")
        granted, gone = _push_batch(push, rows)
        if gone:
            return _push_finish(CouponPush.objects.get(pk=push_id), PushStatus.FAILED, "no coupons left")


def _push_batch(push: CouponPush, rows: list) -> tuple[int, bool]:
    coupon, slot, now = push.coupon, f"push:{push.pk}", timezone.now()
    shoppers = _shoppers_of(rows)
    with transaction.atomic():
        had = set(
            CouponGrant.objects.filter(coupon=coupon, slot=slot, shopper_id__in=list(shoppers.values())).values_list(
                "shopper_id", flat=True
            )
        )
        wanted = sorted({s for s in shoppers.values() if s not in had})
        gone = False
        if wanted and not _take(coupon.pk, len(wanted)):
            # Not enough left for the whole batch: as many as fit, one conditional UPDATE each.
            fit = 0
            while fit < len(wanted) and _take(coupon.pk, 1):
                fit += 1
            wanted, gone = wanted[:fit], True
        try:
            CouponGrant.objects.bulk_create(
                [
                    _new_grant(
                        coupon=coupon, shopper_id=s, slot=slot, source=GrantSource.SEGMENT, sharer_code="", now=now
                    )
                    for s in wanted
                ]
            )
        except IntegrityError:
            raise Conflict(code="push_busy") from None  # only one worker runs a push (the claim above)
        CouponPush.objects.filter(pk=push.pk).update(
            done=push.done + len(rows),
            granted=push.granted + len(wanted),
            skipped=push.skipped + len(rows) - len(wanted),
            last_customer_id=rows[-1][0],
        )
    return len(wanted), gone


def _push_finish(push: CouponPush, status: str, note: str) -> CouponPush:
    CouponPush.objects.filter(pk=push.pk).update(status=status, note=note, finished_at=timezone.now())
    push.refresh_from_db()
    return push
