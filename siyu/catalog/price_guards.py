"""Checks a higher domain can put on SKU price changes (e.g. a minimum advertised price), without the
catalogue importing it. A guard raises a DomainError to refuse; it runs inside the update's transaction."""

from collections.abc import Callable

_guards: list[Callable[..., object]] = []


def register_price_guard(func):
    if func not in _guards:
        _guards.append(func)
    return func


def price_guards_run(*, sku, price: int, override_reason: str, actor) -> None:
    for guard in _guards:
        guard(sku=sku, price=price, override_reason=override_reason, actor=actor)
