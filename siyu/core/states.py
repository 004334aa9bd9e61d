"""Status tables: what may follow what, and one way to move along them.

Every model with a status field declares one `StateMachine`. `move()` is the only way its status
changes for a single row (it refuses moves the table does not allow and writes an audit row with
from, to, who and why); `claim()` is the set-based form for "take every row still in state X"
(a conditional UPDATE, so two workers never take the same row). Callers hold the row lock that
the owning service documents; this module takes none itself.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .audit import actor_describe, audit_record
from .errors import Conflict

# What a person reads for a status or an action: plain or lazily translated text.
Labels = dict[str, str | Promise]


class StateMachine:
    """One status table. `table` maps each status to the statuses that may follow it."""

    def __init__(self, *, name: str, table: Mapping[str, Iterable[str]], field: str = "status", labels=None):
        self.name = name
        self.field = field
        self.table: dict[str, frozenset[str]] = {str(k): frozenset(str(v) for v in vs) for k, vs in table.items()}
        self.labels = dict(labels or {})
        unknown = {t for targets in self.table.values() for t in targets} - set(self.table)
        if unknown:
            raise ValueError(f"{name}: targets without a row in the table: {sorted(unknown)}")

    def allowed(self, current: str) -> frozenset[str]:
        return self.table.get(str(current), frozenset())

    def can(self, current: str, to: str) -> bool:
        return str(to) in self.allowed(current)

    def check(self, current: str, to: str) -> None:
        """Refuse a move the table does not allow (409 bad_transition)."""
        if not self.can(current, to):
            raise Conflict(
                _("This cannot be done in the current state."),
                code="bad_transition",
                detail={"what": self.name, "from": str(current), "to": str(to)},
            )

    def label(self, status: str) -> str:
        return str(self.labels.get(status, status))

    def move(
        self,
        obj: models.Model,
        *,
        to: str,
        actor: Any,
        why: str = "",
        fields: Mapping[str, Any] | None = None,
        audit: bool = True,
    ) -> str:
        """Move one (locked) row to `to`, saving `fields` with it; returns the status it left."""
        before = getattr(obj, self.field)
        self.check(before, to)
        setattr(obj, self.field, to)
        for key, value in (fields or {}).items():
            setattr(obj, key, value)
        update = [self.field, *(fields or {})]
        if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
            update.append("updated_at")
        obj.save(update_fields=update)
        if audit:
            audit_record(
                shop_id=getattr(obj, "shop_id", None),
                actor=actor,
                action=f"{self.name}.{to}",
                target=obj,
                data={"from": str(before), "to": str(to), "why": str(why or "")[:300]},
            )
        return before

    def claim(self, queryset: models.QuerySet, *, current: str, to: str, **fields: Any) -> int:
        """Set-based move of every row of `queryset` still in `current`: one conditional UPDATE.

        Returns how many rows moved; rows that changed meanwhile are left alone. No audit rows:
        the caller records one summary row (or per-row history) when it needs them.
        """
        self.check(current, to)
        return queryset.filter(**{self.field: current}).update(**{self.field: to}, **fields)


__all__ = ["Labels", "StateMachine", "actor_describe"]
