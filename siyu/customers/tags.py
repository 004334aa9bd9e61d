"""Tags: manual ones that staff put on customers, and automatic ones that follow segment-style rules.

An automatic tag's links are marked automatic and belong to the worker: auto_tags_apply adds them
where the rules match and removes them where they no longer do. Staff cannot add or remove those
by hand (the next run would undo it), and the worker never touches a manual link.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Now

from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import actor_user, require
from siyu.shops.models import Shop

from .models import Customer, CustomerEvent, CustomerTag, Tag
from .segments import customers_matching, insert_from_select, segment_rules_validate

PERM = "customers.manage"


def actor_label(actor) -> str:
    return (getattr(actor, "display_name", "") or str(getattr(getattr(actor, "user", None), "username", "")))[:60]


def _audit(actor, action: str, tag: Tag, data: dict) -> None:
    audit_record(shop_id=tag.shop_id, actor=actor_user(actor), action=action, target=tag, data=data)


def _tag_name(name: Any) -> str:
    name = str(name or "").strip()
    if not 1 <= len(name) <= 20:
        raise InvalidInput(detail={"name": "required, at most 20 characters"})
    return name


def tag_create(*, actor, shop: Shop, name: str, rules: Any = None) -> Tag:
    """A manual tag, or an automatic one when `rules` (segment format) are given; an automatic tag
    is applied at once."""
    require(actor, PERM, shop_id=shop.pk)
    name = _tag_name(name)
    rules = segment_rules_validate(rules) if rules not in (None, "", {}) else None
    try:
        with transaction.atomic():
            tag = Tag.objects.create(shop=shop, name=name, rules=rules)
            _audit(actor, "tag.create", tag, {"rules": rules})
    except IntegrityError:
        raise Conflict(detail={"name": "a tag with this name exists"}) from None
    if rules is not None:
        auto_tag_apply(tag=tag)
    return tag


def tag_update_rules(*, actor, tag: Tag, rules: Any) -> Tag:
    """Change an automatic tag's rules and re-apply it. A manual tag cannot become automatic: its
    links were put there by people."""
    require(actor, PERM, shop_id=tag.shop_id)
    if tag.rules is None:
        raise Conflict(detail={"tag": "a manual tag has no rules"})
    tag.rules = segment_rules_validate(rules)
    with transaction.atomic():
        tag.save(update_fields=["rules"])
        _audit(actor, "tag.rules", tag, {"rules": tag.rules})
        auto_tag_apply(tag=tag)
    return tag


def tag_delete(*, actor, tag: Tag) -> None:
    require(actor, PERM, shop_id=tag.shop_id)
    with transaction.atomic():
        _audit(actor, "tag.delete", tag, {"name": tag.name})
        tag.delete()


def _resolve(customer: Customer, tag: Tag | str | int, *, create: bool = False) -> Tag:
    if isinstance(tag, Tag):
        if tag.shop_id != customer.shop_id:
            raise NotFound(detail={"tag": "not in this shop"})
        return tag
    if isinstance(tag, int):
        found = Tag.objects.filter(shop_id=customer.shop_id, pk=tag).first()
        if found is None:
            raise NotFound(detail={"tag": "not in this shop"})
        return found
    name = _tag_name(tag)
    if create:
        return Tag.objects.get_or_create(shop_id=customer.shop_id, name=name)[0]
    found = Tag.objects.filter(shop_id=customer.shop_id, name=name).first()
    if found is None:
        raise NotFound(detail={"tag": "not in this shop"})
    return found


def _refuse_automatic(tag: Tag) -> None:
    if tag.rules is not None:
        raise Conflict(detail={"tag": "automatic tags follow their rules"})


def customer_tag_add(*, actor, customer: Customer, tag: Tag | str | int) -> CustomerTag:
    """Put a manual tag on a customer (a name makes the tag if it is new). Adding it twice is a no-op."""
    require(actor, PERM, shop_id=customer.shop_id)
    with transaction.atomic():
        tag = _resolve(customer, tag, create=True)
        _refuse_automatic(tag)
        link, created = CustomerTag.objects.get_or_create(customer=customer, tag=tag)
        if created:
            CustomerEvent.objects.create(
                shop_id=customer.shop_id,
                customer=customer,
                kind="tag.added",
                actor_label=actor_label(actor),
                data={"tag": tag.pk, "name": tag.name},
            )
    return link


def customer_tag_remove(*, actor, customer: Customer, tag: Tag | str | int) -> bool:
    """Take a manual tag off a customer. False when it was not there."""
    require(actor, PERM, shop_id=customer.shop_id)
    tag = _resolve(customer, tag)
    _refuse_automatic(tag)
    with transaction.atomic():
        removed, _ = CustomerTag.objects.filter(customer=customer, tag=tag).delete()
        if removed:
            CustomerEvent.objects.create(
                shop_id=customer.shop_id,
                customer=customer,
                kind="tag.removed",
                actor_label=actor_label(actor),
                data={"tag": tag.pk, "name": tag.name},
            )
    return bool(removed)


def auto_tag_apply(*, tag: Tag) -> dict:
    """Bring one automatic tag's links in line with its rules: one INSERT … SELECT for the new
    matches, one DELETE for the automatic links that no longer match. Manual links stay."""
    if tag.rules is None:
        return {"added": 0, "removed": 0}
    with transaction.atomic():
        matching = customers_matching(shop_id=tag.shop_id, rules=tag.rules)
        new = (
            matching.exclude(Exists(CustomerTag.objects.filter(tag_id=tag.pk, customer=OuterRef("pk"))))
            .annotate(t_customer=F("pk"), t_tag=Value(tag.pk), t_auto=Value(True), t_at=Now())
            .values_list("t_customer", "t_tag", "t_auto", "t_at")
        )
        added = insert_from_select(CustomerTag, ["customer", "tag", "automatic", "created_at"], new)
        removed, _ = (
            CustomerTag.objects.filter(tag_id=tag.pk, automatic=True)
            .exclude(customer_id__in=matching.values("pk"))
            .delete()
        )
    return {"added": added, "removed": removed}


def auto_tags_apply(*, shop: Shop) -> dict:
    """Re-apply every automatic tag of the shop (nightly, and after big changes such as an import)."""
    totals = {"tags": 0, "added": 0, "removed": 0}
    for tag in Tag.objects.filter(shop=shop, rules__isnull=False).order_by("pk"):
        result = auto_tag_apply(tag=tag)
        totals["tags"] += 1
        totals["added"] += result["added"]
        totals["removed"] += result["removed"]
    return totals
