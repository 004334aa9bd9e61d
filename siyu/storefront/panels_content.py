"""Content-library hooks on storefront pages. No panel is drawn; the product page and checkout
tell a post's visit who its visitor is once they are signed in (so an order can be linked to the
post), and the "me" page links to today's posts. A session that came through no post link costs no
query, and the "me" link reads a cached per-shop flag (siyu.community.content.flags)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.accounts.selectors import SHOPPER_SESSION_KEY
from siyu.community.content.flags import content_in_use
from siyu.community.content.tracking import post_visit_bind

from .helpers import current_shopper
from .panels import Panel
from .views_content import SESSION_KEY


def _bind(request) -> None:
    session = request.session
    pending = session.get(SESSION_KEY)
    if not pending or pending.get("bound") or not session.get(SHOPPER_SESSION_KEY):
        return
    if pending.get("shop") != request.shop.pk:
        return
    shopper = current_shopper(request)
    if shopper is None:
        return
    post_visit_bind(shop=request.shop, visit_id=int(pending.get("visit") or 0), shopper=shopper)
    session[SESSION_KEY] = {**pending, "bound": True}


def product_panel(request, product) -> Panel | None:
    _bind(request)
    return None


def checkout_panel(request, quote) -> Panel | None:
    _bind(request)
    return None


def my_links(request) -> list[tuple[str, str]]:
    if not content_in_use(shop_id=request.shop.pk):
        return []
    return [(_("Posts to share today"), reverse("storefront:content_today"))]
