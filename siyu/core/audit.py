from typing import Any

from .models import AuditEntry


def audit_record(*, shop_id: int | None, actor: Any, action: str, target: Any, data: dict | None = None) -> AuditEntry:
    """Write one audit row. `actor` is a Django user or None (the system)."""
    user = actor if getattr(actor, "pk", None) and hasattr(actor, "get_username") else None
    return AuditEntry.objects.create(
        shop_id=shop_id,
        actor=user,
        actor_label=user.get_username() if user else "system",
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=str(getattr(target, "pk", target)),
        data=data or {},
    )
