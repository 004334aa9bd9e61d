"""Input rules shared by the three discount kinds: names, windows, amounts, rates, price floors, and
the status table (a discount runs until its end, or until someone ends it early)."""

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Sku
from siyu.core.errors import Conflict, InvalidInput
from siyu.core.money import format_yuan, parse_yuan
from siyu.core.permissions import Actor
from siyu.core.states import StateMachine
from siyu.distribution.prices import price_floor_of, sku_price_check

from .models import Status

VIEW = "promotions.view"
MANAGE = "promotions.manage"
MAX_FEN = 10_000_000_000
MAX_DAYS = 366

THRESHOLD_STATES = StateMachine(
    name="threshold_activity", table={Status.ACTIVE: {Status.ENDED}, Status.ENDED: ()}, labels=dict(Status.choices)
)
LIMITED_STATES = StateMachine(
    name="limited_time_discount", table={Status.ACTIVE: {Status.ENDED}, Status.ENDED: ()}, labels=dict(Status.choices)
)


def phase(obj, now: datetime | None = None) -> str:
    """What a seller reads: scheduled, running or ended (by its end or by hand)."""
    now = now or timezone.now()
    if obj.status == Status.ENDED or obj.ends_at <= now:
        return "ended"
    return "scheduled" if obj.starts_at > now else "running"


def live(queryset: QuerySet, now: datetime, prefix: str = "") -> QuerySet:
    """Rows (or rows whose `prefix` relation is) running at `now`."""
    return queryset.filter(
        **{f"{prefix}status": Status.ACTIVE, f"{prefix}starts_at__lte": now, f"{prefix}ends_at__gt": now}
    )


def clean_name(value, errors: dict) -> str:
    name = str(value or "").strip()
    if not 1 <= len(name) <= 40:
        errors["name"] = "1 to 40 characters"
    return name


def clean_moment(value, *, field: str, errors: dict) -> datetime | None:
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = parse_datetime(str(value or "").strip()) if value else None
        if moment is None:
            errors[field] = "a date and time, e.g. 2025-06-18T20:00"
            return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def clean_window(data: dict, errors: dict, clashes: dict):
    """Each moment well formed (`errors`), and the two together a window ending in the future, at
    most MAX_DAYS long (`clashes`: what no single field's format can say)."""
    starts = clean_moment(data.get("starts_at"), field="starts_at", errors=errors)
    ends = clean_moment(data.get("ends_at"), field="ends_at", errors=errors)
    if starts and ends:
        if ends <= starts:
            clashes["ends_at"] = "after the start"
        elif (ends - starts).days > MAX_DAYS:
            clashes["ends_at"] = f"at most {MAX_DAYS} days after the start"
        elif ends <= timezone.now():
            clashes["ends_at"] = "in the future"
    return starts, ends


def clean_fen(value, *, field: str, errors: dict, low: int = 0) -> int:
    try:
        if isinstance(value, bool):
            raise InvalidInput(detail={field: "not a number"})
        fen = value if isinstance(value, int) else parse_yuan(value, field=field)
    except InvalidInput as exc:
        errors[field] = (exc.detail or {}).get(field, "not a number")
        return 0
    if not low <= fen <= MAX_FEN:
        errors[field] = "out of range"
    return fen


def clean_whole(value, *, field: str, errors: dict, low: int, high: int) -> int:
    text = str(value if value is not None else "").strip()
    if isinstance(value, bool) or not text.isdigit() or not low <= int(text) <= high:
        errors[field] = f"a whole number from {low} to {high}"
        return 0
    return int(text)


def refuse(errors: dict, clashes: dict | None = None) -> None:
    """Malformed fields: 400. Well-formed fields that do not fit together or with the shop's data
    (a window ending before it starts, a price not below the SKU's): 409 settings_conflict, so a
    client can tell "fix the format" from "change the values"."""
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), detail=errors)
    if clashes:
        raise Conflict(_("These settings do not fit together."), code="settings_conflict", detail=clashes)


def floor_check(*, sku: Sku, price: int, override_reason: str, actor: Actor, field: str) -> None:
    """A promotion price below the SKU's minimum advertised price: refused (400, naming the floor)
    unless the seller gives a reason, which is audited as a price-floor override for exactly this
    price (the checkout's floor check then lets it through)."""
    floor = price_floor_of(sku=sku)
    if floor is None or price >= floor:
        return
    if not str(override_reason or "").strip():
        raise InvalidInput(
            _("The price ¥%(price)s is below this item's minimum advertised price of ¥%(floor)s.")
            % {"price": format_yuan(price), "floor": format_yuan(floor)},
            code="below_price_floor",
            detail={field: f"below the minimum price {format_yuan(floor)}", "sku": sku.pk, "min_price": floor},
        )
    sku_price_check(sku=sku, price=price, override_reason=override_reason, actor=actor)
