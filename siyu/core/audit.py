from typing import Any

from .models import AuditEntry


def actor_describe(actor: Any) -> tuple[Any, str]:
    """(Django user or None, label) for any actor: a staff member, a user, a shopper or a word
    such as "system" or "payment"."""
    if actor is None:
        return None, "system"
    if getattr(actor, "pk", None) and hasattr(actor, "get_username"):
        return actor, actor.get_username()
    user = getattr(actor, "user", None)
    if user is not None:
        return user, getattr(actor, "display_name", "") or user.get_username()
    if hasattr(actor, "masked_phone"):
        return None, str(actor.masked_phone)
    return None, str(actor)


def audit_record(*, shop_id: int | None, actor: Any, action: str, target: Any, data: dict | None = None) -> AuditEntry:
    """Write one audit row. `actor` is a staff member, a Django user, a shopper, a word, or None (the system)."""
    user, label = actor_describe(actor)
    return AuditEntry.objects.create(
        shop_id=shop_id,
        actor=user,
        actor_label=label[:120],
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=str(getattr(target, "pk", target)),
        data=data or {},
    )
