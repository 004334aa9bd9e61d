"""Panels on storefront pages (promotions, reviews), one module per kind.

Each kind owns `siyu/storefront/panels_<kind>.py` and may define any of:
- `product_panel(request, product) -> Panel | None`: a block on the product page (a flash-sale
  countdown, "open a group", "start a bargain", coupons to claim);
- `home_panel(request) -> Panel | None`: a block on the home page;
- `my_links(request) -> list[tuple[str, str]]`: (label, url) entries on the "me" page;
- `checkout_panel(request, quote) -> Panel | None`: a block in the checkout breakdown (the coupon choice).
A panel must cost no database query when its shop runs no promotion of its kind (cache a per-shop
flag), so pages without promotions keep their query counts.
"""

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any, NamedTuple

KINDS = (
    "coupons",
    "discounts",
    "flashsales",
    "groupbuys",
    "bargains",
    "reviews",
    "pickup",
    "groups",
    "content",
    "trials",
)


class Panel(NamedTuple):
    template: str
    context: dict[str, Any]


def _modules() -> Iterator[ModuleType]:
    for kind in KINDS:
        try:
            yield importlib.import_module(f"siyu.storefront.panels_{kind}")
        except ModuleNotFoundError as exc:
            if exc.name != f"siyu.storefront.panels_{kind}":
                raise


def _collect(hook: str, *args) -> list[Panel]:
    found = []
    for module in _modules():
        func = getattr(module, hook, None)
        panel = func(*args) if func else None
        if panel is not None:
            found.append(panel)
    return found


def product_panels(request, product) -> list[Panel]:
    return _collect("product_panel", request, product)


def home_panels(request) -> list[Panel]:
    return _collect("home_panel", request)


def checkout_panels(request, quote) -> list[Panel]:
    return _collect("checkout_panel", request, quote)


def my_links(request) -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = []
    for module in _modules():
        func = getattr(module, "my_links", None)
        if func:
            links.extend(func(request))
    return links
