"""Permission checks used by services. The actor is any object with `shop_id` and `can(perm)`
(a staff member); the role table itself lives with the staff accounts."""

from typing import Any, Protocol

from .errors import PermissionDenied


class Actor(Protocol):
    pk: int  # recorded where one person's act must be told from another's (two-person approval)
    shop_id: int

    def can(self, perm: str) -> bool: ...


def require(actor: Actor | None, perm: str, *, shop_id: int) -> None:
    if actor is None or getattr(actor, "shop_id", None) != shop_id or not actor.can(perm):
        raise PermissionDenied(detail={"permission": perm})


def actor_user(actor: Any):
    """The Django user behind an actor, for audit rows."""
    return getattr(actor, "user", None)
