"""Template helpers for the shopper pages: the cart badge, labels for stored codes."""

import re

from django import template
from django.utils.translation import gettext_lazy as _

from siyu.accounts.sessions import SHOPPER_SESSION_KEY
from siyu.catalog.models import ReturnPolicy
from siyu.orders.selectors import cart_count

register = template.Library()

# Why a reason like "[no_reason] 尺码不合适" is stored with its code: the after-sale service keeps the
# code for the console's filters. People read the label instead.
REASON_LABELS = {
    "no_reason": _("Changed my mind (7-day no-reason)"),
    "quality": _("Quality problem"),
    "wrong_item": _("Wrong item sent"),
    "not_received": _("Not received"),
    "other": _("Other"),
}
REASON_RE = re.compile(r"^\[([a-z_]+)\]\s*")


@register.simple_tag(takes_context=True)
def cart_badge(context) -> int:
    """Items in the signed-in shopper's cart, counted once per request (the tab bar and the
    product page's bottom bar both show it)."""
    request = context.get("request")
    shop = getattr(request, "shop", None)
    if request is None or shop is None:
        return 0
    if not hasattr(request, "_cart_count"):
        # Pages that load the shopper have the count already (current_shopper). Pages that never
        # load the shopper (home, product) count by the session's shopper id: one query instead of
        # two. Only the number is shown, and a deleted identity has no cart lines.
        shopper = getattr(request, "_shopper", None)
        shopper_id = request.session.get(SHOPPER_SESSION_KEY)
        if shopper is not None and hasattr(shopper, "cart_items"):
            request._cart_count = shopper.cart_items
        elif shopper is None and "_shopper" in vars(request):
            request._cart_count = 0  # looked up: nobody is signed in
        else:
            request._cart_count = cart_count(shop=shop, shopper_id=shopper_id) if shopper_id else 0
    return request._cart_count


@register.filter
def return_policy_label(code: str) -> str:
    """The shopper's words for a return policy stored as a code on an order line."""
    try:
        return str(ReturnPolicy(code).label)
    except ValueError:
        return code


@register.filter
def reason_text(stored: str) -> str:
    """'[no_reason] too small' → 'Changed my mind (7-day no-reason): too small'."""
    found = REASON_RE.match(stored or "")
    if not found or found.group(1) not in REASON_LABELS:
        return stored
    rest = stored[found.end() :]
    label = str(REASON_LABELS[found.group(1)])
    return f"{label}: {rest}" if rest else label
