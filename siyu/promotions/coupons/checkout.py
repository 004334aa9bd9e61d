"""Coupons at checkout, and what happens to a used coupon when its order moves on.

The adjuster (priority 20: after threshold discounts, before membership and points) picks the
shopper's best usable coupon, or the one they chose (options["coupon"]: "" best, "none" none, or a
coupon code). Whether the shopper holds any coupon at all comes with the basket's SKU query (an
Exists() read), so a shopper without coupons costs checkout no query.

Rules of use:
- lines priced by a promotion the shopper chose (flash sale, group buy, bargain) are not eligible;
  the scope (categories, products, exclusions) picks the eligible lines among the rest, and the
  threshold and the amount are measured on those lines only; a coupon never takes more than the
  eligible lines cost, nor more than what is left after the discounts before it;
- a threshold discount the seller marked `exclusive` (does not stack) means no coupon;
- price floors: refunds spread order-level discounts over the lines in proportion to their totals
  (siyu.orders.aftersales.refund_amount_for), so the coupon is capped where that spread would take
  a floored line's net price below its floor (or below the lowest price an audited override allows).

Order events (in the order's transaction unless said otherwise):
- placed: the very grant the quote used (the code the shopper chose, or the best one picked for
  them) becomes used by the order, one conditional UPDATE; taken meanwhile (used in a parallel
  checkout) refuses and rolls the order back. The adjuster hands its pick to the subscriber in a
  context variable: checkout quotes and places in one call on one thread, so the pick is the one
  this placement's quote made (a subscriber run with no pick, as in a replay, takes the shopper's
  earliest-ending grant of the coupon). A free-shipping coupon's use records the postage it
  waived as its discount (Adjustment.amount is what comes off the items, 0 for it);
- cancelled, or refunded in full (the order closed): the grant comes back once, if still valid;
- paid after a cancel (a late payment reinstating the order): through the outbox, the grant is taken
  again if it is still free; if it was used meanwhile the order keeps its discount and its timeline
  says so.
"""

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import Conflict, InvalidInput
from siyu.core.events import event_order_id, subscribe
from siyu.core.models import AuditEntry
from siyu.distribution.models import PriceFloor
from siyu.distribution.prices import OVERRIDE_ACTION
from siyu.orders.lifecycle import timeline_add
from siyu.orders.models import Order, OrderStatus
from siyu.orders.pricing import Adjustment, PricingLine, register_adjuster
from siyu.promotions.models import PromotionUse

from .models import Coupon, CouponGrant, CouponKind, CouponScope, GrantStatus

KIND = "coupon"
EXCLUSIVE_LINE_KINDS = frozenset({"flash_sale", "group_buy", "bargain"})


class Pick(NamedTuple):
    grant: str  # the grant's code
    postage: int  # fen of postage a free-shipping coupon waives (0 for the others)


# The adjuster's last pick on this thread: (shop id, shopper id, coupon public id) -> Pick.
_picked: ContextVar[dict[tuple[int, int, str], Pick] | None] = ContextVar("coupon_picked", default=None)


@dataclass(frozen=True)
class CouponOffer:
    """What one grant would do for a basket: `saving` in fen (the amount, or the postage saved)."""

    grant: CouponGrant
    amount: int = 0
    free_shipping: bool = False
    saving: int = 0
    reason: str = ""  # why it cannot be used here ("" when it can)

    @property
    def usable(self) -> bool:
        return not self.reason

    def adjustment(self) -> Adjustment:
        coupon = self.grant.coupon
        return Adjustment(
            kind=KIND, label=coupon.name, amount=self.amount, free_shipping=self.free_shipping, ref=coupon.public_id
        )


def line_eligible(coupon: Coupon, line: PricingLine) -> bool:
    if line.promotion in EXCLUSIVE_LINE_KINDS or line.product_id in (coupon.excluded_product_ids or []):
        return False
    if coupon.scope == CouponScope.PRODUCTS:
        return line.product_id in (coupon.product_ids or [])
    if coupon.scope == CouponScope.CATEGORIES:
        return line.category_id in (coupon.category_ids or [])
    return True


def coupon_amount(coupon: Coupon, eligible: int) -> int:
    """What the coupon takes off `eligible` fen of items (before caps from the rest of the basket)."""
    if coupon.kind in (CouponKind.AMOUNT_OFF, CouponKind.NO_THRESHOLD):
        return min(coupon.amount_off, eligible)
    if coupon.kind == CouponKind.PERCENT_OFF:
        off = eligible * coupon.percent_off_bp // 10000
        return min(off, coupon.max_off) if coupon.max_off else off
    return 0


def offer_for(
    grant: CouponGrant, *, lines: list[PricingLine], subtotal: int, shipping_fee: int, prior: int, most: int | None
) -> CouponOffer:
    """One grant against one basket. `prior`: discounts before coupons; `most`: the largest order
    discount the price floors allow (None: no floor in the basket)."""
    coupon = grant.coupon
    eligible = sum(ln.unit_price * ln.quantity for ln in lines if line_eligible(coupon, ln))
    if not eligible:
        return CouponOffer(grant, reason=_t("None of these items can use this coupon."))
    if eligible < coupon.min_spend:
        return CouponOffer(grant, reason=_t("Spend ¥%(amount)s on eligible items to use it.") % _yuan(coupon.min_spend))
    if coupon.kind == CouponKind.FREE_SHIPPING:
        if not shipping_fee:
            return CouponOffer(grant, reason=_t("This order has no postage to waive."))
        return CouponOffer(grant, free_shipping=True, saving=shipping_fee)
    amount = min(coupon_amount(coupon, eligible), max(0, subtotal - prior))
    if most is not None:
        amount = min(amount, max(0, most - prior))
    if amount <= 0:
        return CouponOffer(grant, reason=_t("The items' minimum prices leave no room for this coupon."))
    return CouponOffer(grant, amount=amount, saving=amount)


def _yuan(fen: int) -> dict:
    from siyu.core.money import format_yuan

    return {"amount": format_yuan(fen)}


def floor_room(*, lines: list[PricingLine], subtotal: int) -> int | None:
    """The largest order-level discount that keeps every floored line's share at or above its
    floor (an audited override for a lower price lowers that line's floor to it): None when no
    line has a floor. Two queries, only when a coupon would apply."""
    floors = dict(PriceFloor.objects.filter(sku_id__in=[ln.sku_id for ln in lines]).values_list("sku_id", "min_price"))
    if not floors or not subtotal:
        return None
    overrides: dict[int, int] = {}
    for target, data in AuditEntry.objects.filter(
        action=OVERRIDE_ACTION, target_type="sku", target_id__in=[str(pk) for pk in floors]
    ).values_list("target_id", "data"):
        price = (data or {}).get("price")
        if isinstance(price, int):
            overrides[int(target)] = min(price, overrides.get(int(target), price))
    most = subtotal
    for line in lines:
        floor = floors.get(line.sku_id)
        if floor is None or not line.unit_price:
            continue
        floor = min(floor, overrides.get(line.sku_id, floor))
        # unit × (subtotal − D) / subtotal ≥ floor  ⇔  D ≤ subtotal − ⌈floor × subtotal / unit⌉
        most = min(most, subtotal - -(-floor * subtotal // line.unit_price))
    return max(0, most)


def usable_grants(*, shop, shopper) -> list[CouponGrant]:
    now = timezone.now()
    return list(
        CouponGrant.objects.filter(
            shop=shop, shopper=shopper, status=GrantStatus.AVAILABLE, valid_from__lte=now, valid_until__gt=now
        )
        .select_related("coupon")
        .order_by("valid_until", "id")
    )


def coupon_offers(
    *, shop, shopper, lines: list[PricingLine], subtotal: int, shipping_fee: int, prior: list[Adjustment]
) -> list[CouponOffer]:
    """Every available grant of the shopper against this basket, best saving first (ties: the one
    ending soonest). Used by the adjuster and by the checkout panel that lists the choice."""
    grants = usable_grants(shop=shop, shopper=shopper)
    if not grants:
        return []
    before = sum(a.amount for a in prior)
    most = floor_room(lines=lines, subtotal=subtotal)
    offers = [
        offer_for(g, lines=lines, subtotal=subtotal, shipping_fee=shipping_fee, prior=before, most=most) for g in grants
    ]
    return sorted(offers, key=lambda o: (not o.usable, -o.saving, o.grant.valid_until, o.grant.pk))


def not_stackable(prior: list[Adjustment]) -> Adjustment | None:
    return next((a for a in prior if a.exclusive), None)


def has_grants_read(*, shop, shopper, now) -> Exists | None:
    """Whether the shopper holds an available coupon, read by checkout with the basket's SKUs."""
    if shopper is None:
        return None
    return Exists(
        CouponGrant.objects.filter(shop=shop, shopper=shopper, status=GrantStatus.AVAILABLE, valid_until__gt=now)
    )


def coupon_checkout_adjustments(
    *,
    shop,
    shopper,
    subtotal: int,
    shipping_fee: int,
    options: dict,
    lines: list[PricingLine],
    prior: list[Adjustment],
    read: Mapping[str, Any],
    **_unused: Any,
) -> list[Adjustment]:
    """The checkout adjuster (see the module docstring). A chosen code that cannot be used here is
    refused with the reason (400 coupon_unusable), so the shopper is never charged silently
    without the coupon they picked."""
    _picked.set(None)
    choice = str(options.get("coupon") or "").strip()
    if choice == "none":
        return []
    if "has" in read and not read["has"]:
        if choice:
            raise InvalidInput(_("This coupon is not yours or can no longer be used."), code="coupon_unusable")
        return []
    blocker = not_stackable(prior)
    if blocker is not None:
        if choice:
            raise InvalidInput(
                _("Coupons cannot be used together with “%(name)s”.") % {"name": blocker.label},
                code="coupon_unusable",
                detail={"coupon": choice, "reason": "not_stackable"},
            )
        return []
    offers = coupon_offers(
        shop=shop, shopper=shopper, lines=lines, subtotal=subtotal, shipping_fee=shipping_fee, prior=prior
    )
    if choice:
        chosen = next((o for o in offers if o.grant.public_id == choice), None)
        if chosen is None or not chosen.usable:
            raise InvalidInput(
                chosen.reason if chosen else _("This coupon is not yours or can no longer be used."),
                code="coupon_unusable",
                detail={"coupon": choice[:20]},
            )
        return [_pick(chosen, shop=shop, shopper=shopper)]
    best = offers[0] if offers and offers[0].usable else None
    return [_pick(best, shop=shop, shopper=shopper)] if best else []


def _pick(offer: CouponOffer, *, shop, shopper) -> Adjustment:
    """The offer's adjustment, remembering which grant it came from for the order.placed subscriber."""
    grant = offer.grant
    postage = offer.saving if offer.free_shipping else 0
    _picked.set({(shop.pk, shopper.pk, grant.coupon.public_id): Pick(grant.public_id, postage)})
    return offer.adjustment()


register_adjuster(coupon_checkout_adjustments, reads={"has": has_grants_read}, priority=20)


# --- order events --------------------------------------------------------------------------


@subscribe("order.placed", in_transaction=True)
def use_on_place(event) -> None:
    """The order took a coupon: its grant is used now, or the order does not happen."""
    refs = [p.split(":", 1)[1] for p in event.payload.get("promotions") or [] if str(p).startswith(f"{KIND}:")]
    if not refs:
        return
    order_id, now = event_order_id(event), timezone.now()
    shopper_id = event.payload.get("shopper")
    picks = _picked.get() or {}
    for ref in refs:
        pick = picks.get((event.shop_id, shopper_id, ref))
        candidate = CouponGrant.objects.filter(
            shop_id=event.shop_id,
            shopper_id=shopper_id,
            coupon__public_id=ref,
            status=GrantStatus.AVAILABLE,
            valid_from__lte=now,
            valid_until__gt=now,
            **({"public_id": pick.grant} if pick else {}),
        ).order_by("valid_until", "id")
        # One conditional UPDATE: two checkouts racing for the last grant cannot both win (the loser
        # re-reads the row's status after the winner commits and matches nothing).
        taken = CouponGrant.objects.filter(
            pk=Subquery(candidate.values("pk")[:1]), status=GrantStatus.AVAILABLE
        ).update(status=GrantStatus.USED, order_id=order_id, used_at=now, returned_at=None)
        if not taken:
            raise Conflict(
                _("This coupon has just been used or has expired."), code="coupon_used", detail={"coupon": ref}
            )
        if pick and pick.postage:
            _record_postage(event.shop_id, order_id, ref, pick.postage)
    _picked.set(None)


def _record_postage(shop_id: int, order_id: int, ref: str, postage: int) -> None:
    """A free-shipping coupon gave the postage: that is its discount in the results (the order's
    own `discount` stays what came off the items). Whichever order.placed subscriber runs first,
    the row ends up with the postage (promotions.handlers ignores a row already written)."""
    use = PromotionUse.objects.filter(order_id=order_id, kind=KIND, ref=ref)
    if not use.update(discount=postage):
        PromotionUse.objects.create(shop_id=shop_id, order_id=order_id, kind=KIND, ref=ref, discount=postage)


def _give_back(order_id: int, **order_filter: Any) -> int:
    """The grant the order used becomes available again, once (it must still be used by this
    order and still be valid): one conditional UPDATE."""
    now = timezone.now()
    return CouponGrant.objects.filter(
        order_id=order_id, status=GrantStatus.USED, valid_until__gt=now, **order_filter
    ).update(status=GrantStatus.AVAILABLE, returned_at=now)


@subscribe("order.cancelled", in_transaction=True)
def return_on_cancel(event) -> None:
    _give_back(event_order_id(event))


@subscribe("order.refunded", in_transaction=True)
def return_on_full_refund(event) -> None:
    """Only a refund that closed the order (everything paid went back) returns the coupon."""
    _give_back(event_order_id(event), order__status=OrderStatus.CLOSED)


@subscribe("order.paid")
def retake_on_late_payment(event) -> None:
    """A cancelled order paid late and reinstated: take its returned coupon again if still free."""
    order_id, now = event_order_id(event), timezone.now()
    if CouponGrant.objects.filter(order_id=order_id, status=GrantStatus.AVAILABLE).update(
        status=GrantStatus.USED, used_at=now
    ):
        return
    used_elsewhere = (
        PromotionUse.objects.filter(order_id=order_id, kind=KIND)
        .exclude(Exists(CouponGrant.objects.filter(order_id=OuterRef("order_id"), status=GrantStatus.USED)))
        .exists()
    )
    if used_elsewhere:
        order = Order.objects.filter(pk=order_id).first()
        if order is not None:
            timeline_add(
                order=order,
                actor="system",
                action="coupon.kept",
                note="paid after cancel; its coupon had been used again, the discount stands",
            )
