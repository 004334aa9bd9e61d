"""Selecting applicants, by hand or by a recorded random draw, and placing their zero-price orders.

The order is placed by the system at selection, for the shopper, to the address they chose when
applying, through the ordinary `order_submit` (stock reserved by its conditional UPDATE, postage,
timeline, after-sales rules), then marked paid with provider "free" (its total is 0). One selection
is one transaction: every order of it is placed, or none is and nobody is selected — so units
beyond the stock are a clear 409 at selection (`trial_stock_short`, checked first, and
`insufficient_stock` from the stock UPDATE itself if a buyer took the units meanwhile), never a
half-done draw and never negative stock.

A draw records its seed (from `secrets`), the pool (application public ids in id order), the count
and the winners, who drew and when: `random.Random(seed).sample(pool, count)` gives the same
winners again (`draw_replay`).

Locks, in this order: the trial's selected count (a conditional UPDATE: never above its quantity),
the applications (conditional UPDATEs), then each order as `order_submit` and `order_mark_paid` take
them (stock last within each order).
"""

import random
import secrets

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Sku
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import require
from siyu.core.settings_rows import whole_number
from siyu.orders.checkout import order_submit
from siyu.orders.lifecycle import order_lock, order_mark_paid
from siyu.orders.models import Order, OrderStatus
from siyu.shops.models import Shop

from .models import ApplicationStatus, Trial, TrialApplication, TrialDraw, TrialStatus
from .pricing import OPTION
from .services import MANAGE, trial_for_staff

FREE_PROVIDER = "free"
MAX_PICK = 500


def draw_winners(*, seed: str, pool: list[str], count: int) -> list[str]:
    """The draw itself: deterministic for a seed and a pool (in the pool's order)."""
    return random.Random(seed).sample(list(pool), min(count, len(pool)))


def draw_replay(draw: TrialDraw) -> list[str]:
    """The winners a recorded draw must have had: anyone can check a draw with this."""
    return draw_winners(seed=draw.seed, pool=draw.pool, count=draw.count)


def _label(actor) -> str:
    return str(getattr(actor, "display_name", "") or getattr(getattr(actor, "user", None), "username", "") or actor)[
        :60
    ]


def applications_select(*, actor, shop: Shop, public_id: str, application_ids: list[str], now=None) -> list[Order]:
    """Select applicants by hand; each gets their zero-price order. Returns the orders."""
    trial = trial_for_staff(actor=actor, shop=shop, public_id=public_id)
    require(actor, MANAGE, shop_id=shop.pk)
    wanted = sorted({str(a)[:16] for a in application_ids or [] if a})
    if not wanted or len(wanted) > MAX_PICK:
        raise InvalidInput(detail={"applications": f"1 to {MAX_PICK} application ids"})
    found = list(TrialApplication.objects.filter(trial=trial, public_id__in=wanted).order_by("pk"))
    if len(found) != len(wanted):
        raise NotFound(detail={"applications": sorted(set(wanted) - {a.public_id for a in found})})
    with transaction.atomic():
        return _select(actor=actor, trial=trial, applications=found, draw=None, now=now)


def trial_draw(*, actor, shop: Shop, public_id: str, count, seed: str | None = None, now=None) -> TrialDraw:
    """Draw `count` winners at random among the applicants still waiting (at most the units left).
    The seed is made here with `secrets` unless given (a test, or redoing a published seed)."""
    trial = trial_for_staff(actor=actor, shop=shop, public_id=public_id)
    require(actor, MANAGE, shop_id=shop.pk)
    count = whole_number(count)
    if count is None or not 1 <= count <= MAX_PICK:
        raise InvalidInput(detail={"count": f"1 to {MAX_PICK}"})
    seed = str(seed)[:64] if seed else secrets.token_hex(16)
    pool = list(
        TrialApplication.objects.filter(trial=trial, status=ApplicationStatus.APPLIED)
        .order_by("pk")
        .values_list("public_id", flat=True)
    )
    left = trial.quantity - trial.selected_count
    count = min(count, left, len(pool))
    if count <= 0:
        raise Conflict(_("There is nobody left to draw, or no unit left to give."), code="trial_draw_empty")
    winners = draw_winners(seed=seed, pool=pool, count=count)
    with transaction.atomic():
        draw = TrialDraw.objects.create(
            shop=shop, trial=trial, seed=seed, count=count, pool=pool, winners=winners, drawn_by=_label(actor)
        )
        applications = list(TrialApplication.objects.filter(trial=trial, public_id__in=winners).order_by("pk"))
        _select(actor=actor, trial=trial, applications=applications, draw=draw, now=now)
    return draw


def _select(*, actor, trial: Trial, applications: list[TrialApplication], draw: TrialDraw | None, now) -> list[Order]:
    """In the caller's transaction: count, mark and order every application, or refuse all."""
    n = len(applications)
    if trial.status != TrialStatus.SELECTING:
        raise Conflict(_("Close the applications before selecting."), code="trial_not_selecting")
    stock = Sku.objects.filter(pk=trial.sku_id).values_list("stock", flat=True).first() or 0
    if stock < n:
        raise Conflict(
            _("Not enough stock for this many trial units."),
            code="trial_stock_short",
            detail={"stock": stock, "wanted": n},
        )
    if not Trial.objects.filter(
        pk=trial.pk, status=TrialStatus.SELECTING, selected_count__lte=trial.quantity - n
    ).update(selected_count=F("selected_count") + n):
        raise Conflict(
            _("This would select more shoppers than the trial has units."),
            code="trial_quantity_exceeded",
            detail={"quantity": trial.quantity},
        )
    now = now or timezone.now()
    for application in applications:
        if not TrialApplication.objects.filter(pk=application.pk, status=ApplicationStatus.APPLIED).update(
            status=ApplicationStatus.SELECTED, selected_at=now, selected_by=_label(actor), draw=draw
        ):
            raise Conflict(
                _("Someone selected these applicants at the same time; try again."),
                code="trial_selection_changed",
                detail={"application": application.public_id},
            )
        application.status = ApplicationStatus.SELECTED
    orders = [trial_order_place(actor=actor, trial=trial, application=application) for application in applications]
    audit_record(
        shop_id=trial.shop_id,
        actor=actor,
        action="trial.select",
        target=trial,
        data={"applications": [a.public_id for a in applications], "draw": draw.pk if draw else None},
    )
    return orders


def trial_order_place(*, actor, trial: Trial, application: TrialApplication) -> Order:
    """The application's zero-price order, placed and marked paid (provider "free"). Runs inside
    the selecting transaction; also used to place it again after its order was cancelled."""
    address = application.address
    if address is None:
        raise Conflict(
            _("An applicant no longer has the shipping address they chose."),
            code="trial_no_address",
            detail={"application": application.public_id},
        )
    submitted = order_submit(
        shop=trial.shop,
        shopper=application.shopper,
        items=[{"sku": trial.sku_id, "quantity": 1}],
        address_id=address.public_id,
        idempotency_key=f"trial-{application.public_id}-{application.orders_placed}",
        confirm_no_returns=True,
        options={OPTION: application.public_id},
    )
    order = order_lock(order_id=submitted.order.pk)
    if order.total != 0:  # a hook priced it: never charge a trial winner
        raise Conflict(_("A trial order must be free."), code="trial_not_free", detail={"total": order.total})
    if order.status == OrderStatus.PENDING_PAYMENT:
        order_mark_paid(order=order, amount=0, provider=FREE_PROVIDER, actor=actor)
    return order


def trial_order_again(*, actor, shop: Shop, application_id: str) -> Order:
    """Place a selected applicant's order again after the first one was cancelled."""
    require(actor, MANAGE, shop_id=shop.pk)
    application = (
        TrialApplication.objects.filter(shop=shop, public_id=str(application_id)[:16])
        .select_related("trial", "trial__shop", "address", "shopper")
        .first()
    )
    if application is None:
        raise NotFound(detail={"application": str(application_id)[:16]})
    if application.status != ApplicationStatus.SELECTED or application.order_id is not None:
        raise Conflict(_("This applicant already has their trial order."), code="trial_used")
    with transaction.atomic():
        return trial_order_place(actor=actor, trial=application.trial, application=application)
