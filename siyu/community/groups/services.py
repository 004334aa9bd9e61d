"""Writes for community groups: create and edit a group (staff), add and remove members (staff),
join and leave through the group's link (shoppers).

Permissions: reading needs customers.view, every staff change customers.manage (service staff
included, as for reviews). Every staff change writes an audit row. Locks: none beyond a savepoint —
membership is one row held unique by the database, so two joins at once make one membership.
"""

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper, StaffMember
from siyu.core.audit import audit_record
from siyu.core.crypto import lookup_hash
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id, share_code
from siyu.core.permissions import require
from siyu.customers.models import Customer
from siyu.customers.stats import customer_for_shopper
from siyu.distribution.models import Promoter
from siyu.referrals.attribution import REFUSED, profiling_state
from siyu.shops.models import Shop

from .attribution import group_for_code, group_touch
from .flags import groups_flag_forget
from .models import Group, GroupKind, GroupMember
from .selectors import MANAGE, group_for_staff

MAX_NAME, MAX_NOTES, MAX_TAGS, MAX_TAG = 40, 2000, 10, 12
FIELDS = ("name", "kind", "leader_customer", "leader_staff", "reward_leader", "tags", "notes", "is_active")


@dataclass(frozen=True)
class Joined:
    member: GroupMember
    created: bool  # False: the shopper was already a member


def _text(value: Any, *, field: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise InvalidInput(detail={field: f"at most {limit} characters"})
    if required and not text:
        raise InvalidInput(detail={field: "required"})
    return text


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [t for t in value.replace("，", ",").split(",")]
    if not isinstance(value, list | tuple):
        raise InvalidInput(detail={"tags": "a list of words"})
    tags: list[str] = []
    for item in value:
        tag = _text(item, field="tags", limit=MAX_TAG)
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(detail={"tags": f"at most {MAX_TAGS}"})
    return tags


def customer_find(*, shop: Shop, ref: str) -> Customer | None:
    """A customer of the shop by public id or by exact 11-digit phone (looked up by its hash)."""
    ref = str(ref or "").strip().replace(" ", "").replace("-", "")[:20]
    if not ref:
        return None
    if ref.isdigit() and len(ref) == 11:
        return Customer.objects.filter(shop=shop, phone_hash=lookup_hash(ref)).first()
    return Customer.objects.filter(shop=shop, public_id=ref).first()


def _leader_promoter(shop: Shop, customer: Customer | None) -> Promoter:
    """The approved promoter profile of a customer leader; refused when there is none."""
    promoter = None
    if customer is not None:
        promoter = (
            Promoter.objects.filter(shop=shop, shopper__phone_hash=customer.phone_hash, status=Promoter.Status.APPROVED)
            .select_related("shopper")
            .first()
        )
    if promoter is None:
        raise Conflict(
            _("Only a customer leader who is an approved promoter can earn commission on the group's sales."),
            code="leader_not_promoter",
        )
    return promoter


def _cleaned(shop: Shop, data: dict, current: Group | None) -> dict:
    """The model fields for `data` (keys of FIELDS; left-out keys keep their current value)."""
    values: dict[str, Any] = {}
    if "name" in data or current is None:
        values["name"] = _text(data.get("name"), field="name", limit=MAX_NAME, required=True)
    if "kind" in data:
        if data["kind"] not in GroupKind.values:
            raise InvalidInput(detail={"kind": "wechat, wecom or offline"})
        values["kind"] = data["kind"]
    if "leader_customer" in data:
        ref = data["leader_customer"] or ""
        customer = customer_find(shop=shop, ref=ref) if ref else None
        if ref and customer is None:
            raise NotFound(_("No such customer."), detail={"leader_customer": "not found"})
        values["leader_customer"] = customer
    if "leader_staff" in data:
        staff = None
        if data["leader_staff"]:
            staff = StaffMember.objects.filter(shop=shop, pk=data["leader_staff"], is_active=True).first()
            if staff is None:
                raise NotFound(detail={"leader_staff": "not found"})
        values["leader_staff"] = staff
    if "tags" in data:
        values["tags"] = _tags(data["tags"])
    if "notes" in data:
        values["notes"] = _text(data["notes"], field="notes", limit=MAX_NOTES)
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    leader = values.get("leader_customer", current.leader_customer if current else None)
    staff_leader = values.get("leader_staff", current.leader_staff if current else None)
    if leader is not None and staff_leader is not None:
        raise InvalidInput(_("A group has one leader: a customer or a staff member."), code="two_leaders")
    if current is None or "reward_leader" in data or "leader_customer" in data:
        reward = data.get("reward_leader", bool(current and current.leader_promoter_id))
        values["leader_promoter"] = _leader_promoter(shop, leader) if reward else None
    return values


def _described(group: Group) -> dict:
    return {
        "name": group.name,
        "kind": group.kind,
        "leader_customer": group.leader_customer_id,
        "leader_staff": group.leader_staff_id,
        "leader_promoter": group.leader_promoter_id,
        "tags": list(group.tags),
        "notes": group.notes,
        "is_active": group.is_active,
    }


def group_create(*, actor, shop: Shop, data: dict) -> Group:
    require(actor, MANAGE, shop_id=shop.pk)
    values = _cleaned(shop, data, None)
    with transaction.atomic():
        group = Group.objects.create(shop=shop, public_id=public_id(12), code=share_code(), **values)
        audit_record(shop_id=shop.pk, actor=actor, action="group.create", target=group, data=_described(group))
        groups_flag_forget(shop_id=shop.pk)
    return group


def group_update(*, actor, shop: Shop, group_id: str, data: dict) -> Group:
    """Change the fields given in `data` (others keep their value). Audited with before and after."""
    require(actor, MANAGE, shop_id=shop.pk)
    group = group_for_staff(actor=actor, shop=shop, public_id=group_id)
    values = _cleaned(shop, data, group)
    with transaction.atomic():
        before = _described(group)
        for field, value in values.items():
            setattr(group, field, value)
        group.save(update_fields=list(values))
        audit_record(
            shop_id=shop.pk,
            actor=actor,
            action="group.update",
            target=group,
            data={"from": before, "to": _described(group)},
        )
        groups_flag_forget(shop_id=shop.pk)
    return group


def _member_new(*, shop: Shop, group: Group, customer: Customer, source: str, now) -> Joined:
    try:
        with transaction.atomic():
            member = GroupMember.objects.create(
                shop=shop, group=group, customer=customer, source=source, joined_at=now or timezone.now()
            )
            return Joined(member, True)
    except IntegrityError:  # already a member, or joined twice at once: the database kept one
        return Joined(GroupMember.objects.get(group=group, customer=customer), False)


def group_member_add(*, actor, shop: Shop, group_id: str, customer: str, now=None) -> GroupMember:
    """Staff add a customer (public id or phone). 409 `already_member` if they are one."""
    require(actor, MANAGE, shop_id=shop.pk)
    group = group_for_staff(actor=actor, shop=shop, public_id=group_id)
    found = customer_find(shop=shop, ref=customer)
    if found is None:
        raise NotFound(_("No such customer."), detail={"customer": str(customer)[:20]})
    joined = _member_new(shop=shop, group=group, customer=found, source=GroupMember.Source.STAFF, now=now)
    if not joined.created:
        raise Conflict(_("This customer is already in the group."), code="already_member")
    audit_record(shop_id=shop.pk, actor=actor, action="group.member_add", target=group, data={"customer": found.pk})
    return joined.member


def group_member_remove(*, actor, shop: Shop, group_id: str, customer: str) -> None:
    require(actor, MANAGE, shop_id=shop.pk)
    group = group_for_staff(actor=actor, shop=shop, public_id=group_id)
    found = customer_find(shop=shop, ref=customer)
    with transaction.atomic():
        deleted = GroupMember.objects.filter(group=group, customer=found).delete()[0] if found else 0
        if found is None or not deleted:
            raise NotFound(_("This customer is not in the group."), detail={"customer": str(customer)[:20]})
        audit_record(
            shop_id=shop.pk, actor=actor, action="group.member_remove", target=group, data={"customer": found.pk}
        )


def group_join(*, shop: Shop, shopper: Shopper, code: str, now=None) -> Joined:
    """A signed-in shopper joins through the group's link (idempotent: a second join is a no-op).
    Joining is also a group touch: what they buy in the next days counts for the group."""
    group = group_for_code(shop=shop, code=code)
    if group is None:
        raise NotFound(detail={"group": str(code)[:12]})
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    joined = _member_new(shop=shop, group=group, customer=customer, source=GroupMember.Source.LINK, now=now)
    if profiling_state(customer=customer) != REFUSED:
        group_touch(shop=shop, shopper=shopper, group=group, now=now)
    return joined


def group_leave(*, shop: Shop, shopper: Shopper, code: str) -> bool:
    """The shopper leaves the group; False if they were not in it."""
    group = group_for_code(shop=shop, code=code)
    if group is None:
        raise NotFound(detail={"group": str(code)[:12]})
    deleted = GroupMember.objects.filter(
        group=group, customer__shop=shop, customer__phone_hash=shopper.phone_hash
    ).delete()[0]
    if deleted:
        audit_record(shop_id=shop.pk, actor=shopper, action="group.leave", target=group, data={})
    return bool(deleted)
