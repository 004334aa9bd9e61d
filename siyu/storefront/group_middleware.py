"""Group codes on storefront requests: record `?g=CODE` visits and touch the visitor once signed in.

Kept apart from the referral middleware on purpose (see siyu.community.groups.attribution): a group
link never changes the session's `ref` nor anyone's referral binding. Cheap: a request without
`?g` and without a touch waiting costs no query, and a shop without groups costs none either
(cached flag). The visitor id is the one the referral middleware keeps, so one visitor is one id.
"""

import logging
import secrets

from siyu.accounts.selectors import SHOPPER_SESSION_KEY
from siyu.community.groups.attribution import group_touch_bind, group_visit_record

from .helpers import current_shopper
from .referral_middleware import VISITOR, _skipped

logger = logging.getLogger("siyu.groups")

GROUP, GROUP_SHOP, PENDING = "group", "group_shop", "group_pending"


def group_link_seen(request, shop, code: str):
    """Record a visit through a group code; remember it in the session until the visitor signs in."""
    session = request.session
    signed_in = current_shopper(request) if session.get(SHOPPER_SESSION_KEY) else None
    key = session.get(VISITOR) or secrets.token_urlsafe(18)
    group = group_visit_record(shop=shop, code=code, visitor_key=key, shopper=signed_in, path=request.path_info)
    if group is None:
        return None
    session[VISITOR] = key
    session[GROUP], session[GROUP_SHOP] = group.code, shop.pk
    if signed_in is None:
        session[PENDING] = True
    return group


class GroupMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        shop = getattr(request, "shop", None)
        if shop is not None and not _skipped(request):
            code = request.GET.get("g", "")
            if code and len(code) <= 12:
                group_link_seen(request, shop, code)
            if request.session.get(PENDING) and request.session.get(GROUP_SHOP) == shop.pk:
                self._bind(request, shop)
        return self.get_response(request)

    def _bind(self, request, shop) -> None:
        if not request.session.get(SHOPPER_SESSION_KEY):
            return  # still anonymous: wait for sign-in
        shopper = current_shopper(request)
        request.session.pop(PENDING, None)
        if shopper is not None:
            group = group_touch_bind(
                shop=shop,
                shopper=shopper,
                code=request.session.get(GROUP, ""),
                visitor_key=request.session.get(VISITOR, ""),
            )
            logger.debug("group touch for shopper %s: %s", shopper.pk, group.code if group else None)
