"""After-sales have one public home, siyu.payments.aftersales: one entry per action, and no
interface reaches the order-side steps (calling one of those used to skip the refund silently)."""

import re
from pathlib import Path

from siyu.orders import aftersales as order_side
from siyu.payments import aftersales, services

ROOT = Path(__file__).resolve().parents[2] / "siyu"
INTERFACES = ("api", "console", "storefront", "cli")
ACTIONS = {
    "aftersale_request",
    "aftersale_review",
    "aftersale_refund_approve",
    "aftersale_return_shipped",
    "aftersale_receive_return",
    "aftersale_refund_retry",
    "aftersale_withdraw",
    "aftersale_exchange_retry",
    "aftersale_exchange_ship",
    "aftersale_exchange_received",
}


def test_each_action_has_one_public_entry():
    public = {name for name in dir(aftersales) if name.startswith("aftersale_")}
    assert public == ACTIONS
    assert not [n for n in dir(services) if n.startswith("aftersale_")]
    assert not [n for n in dir(order_side) if n.startswith("aftersale_")]


def test_interfaces_import_after_sales_only_from_the_public_home():
    offenders = []
    pattern = re.compile(
        r"siyu\.orders\.(aftersales|exchanges)|from siyu\.orders import [^\n]*\b(aftersales|exchanges)\b"
    )
    for folder in INTERFACES:
        for path in (ROOT / folder).rglob("*.py"):
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
