"""Group buys in checkout (siyu.orders.pricing hooks).

The shopper chooses the mode: option `promotion="group_buy:<campaign>"` opens a group,
`"group_buy:<campaign>:<group>"` joins one. Any other order costs these hooks nothing (the option
is read before any query).

- The line pricer offers the group price, exclusive (a mode the shopper chose), kind "group_buy",
  ref = the campaign's public id (what per-promotion results are keyed by). The group is only
  checked here so the shopper hears at once when it is closed or full: membership is decided when
  the payment lands, under the group's lock (groups.py).
- A zero-amount adjustment "group_buy_join:<group>" carries the group a joiner asked for to the
  `order.placed` subscriber (the event names every adjustment's "kind:ref"); checkout shows no
  zero adjustment in the breakdown.
"""

import re

from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.core.errors import Conflict, InvalidInput
from siyu.orders.pricing import Adjustment, LinePrice, PricingLine

from .models import Group, GroupBuyPrice, GroupMember, GroupStatus, MemberStatus

KIND = "group_buy"
JOIN_KIND = "group_buy_join"
_OPTION = re.compile(r"^group_buy:([a-z0-9]{1,20})(?::([a-z0-9]{1,20}))?$")


def wanted(options: dict | None) -> tuple[str, str] | None:
    """(campaign public id, group public id or "") the shopper asked for, or None."""
    value = str((options or {}).get("promotion") or "")
    if not value.startswith(KIND + ":"):
        return None
    match = _OPTION.match(value)
    if match is None:
        raise InvalidInput(detail={"promotion": "group_buy:<campaign> or group_buy:<campaign>:<group>"})
    return match.group(1), match.group(2) or ""


def group_price_offers(*, shop, shopper, lines: list[PricingLine], options: dict, **_kw) -> dict[int, LinePrice]:
    asked = wanted(options)
    if asked is None:
        return {}
    campaign_id, group_id = asked
    if len(lines) != 1:
        raise InvalidInput(_("A group buy is bought on its own, one item per order."), detail={"items": "one line"})
    line = lines[0]
    row = (
        GroupBuyPrice.objects.filter(campaign__shop=shop, campaign__public_id=campaign_id, sku_id=line.sku_id)
        .select_related("campaign")
        .first()
    )
    if row is None:
        raise InvalidInput(_("This item is not in that group buy."), detail={"promotion": "not found"})
    campaign, now = row.campaign, timezone.now()
    if line.quantity > campaign.per_customer_limit:
        raise InvalidInput(
            _("At most %(n)s per customer in this group buy.") % {"n": campaign.per_customer_limit},
            code="over_limit",
            detail={"limit": campaign.per_customer_limit},
        )
    if not campaign.is_active or (not group_id and not campaign.starts_at <= now < campaign.ends_at):
        raise Conflict(_("This group buy is not running now."), code="group_buy_closed")
    if group_id:
        _check_group(campaign=campaign, group_id=group_id, shopper=shopper, now=now)
    label = _("%(n)s-person group") % {"n": campaign.group_size}
    return {
        line.sku_id: LinePrice(
            unit_price=row.group_price, kind=KIND, label=label, ref=campaign.public_id, exclusive=True
        )
    }


def _check_group(*, campaign, group_id: str, shopper, now) -> None:
    group = Group.objects.filter(campaign=campaign, public_id=group_id).first()
    if group is None:
        raise InvalidInput(_("This group does not exist."), detail={"promotion": "group not found"})
    if group.status != GroupStatus.OPEN or group.deadline <= now or group.joined >= group.size:
        raise Conflict(_("This group is full or closed; open a new one instead."), code="group_closed")
    if (
        shopper is not None
        and GroupMember.objects.filter(group=group, shopper=shopper, status=MemberStatus.JOINED).exists()
    ):
        raise Conflict(_("You are already in this group."), code="group_already_member")


def group_join_marker(*, options: dict, **_kw) -> list[Adjustment]:
    """No query: the group a joiner asked for, carried to the order.placed event (see above)."""
    asked = wanted(options)
    if asked is None or not asked[1]:
        return []
    return [Adjustment(kind=JOIN_KIND, label=_("Joining a group"), amount=0, ref=asked[1])]
