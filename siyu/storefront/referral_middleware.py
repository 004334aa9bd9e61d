"""Share codes on storefront requests: record `?ref=CODE` visits and bind the visitor once signed in.

Cheap by design: a request without `?ref` and without a binding waiting costs no query (the session
is a signed cookie). The session keeps the first code seen for the shop's window
(request.session["ref"], which checkout copies onto the order), a random visitor id, and a
"binding pending" flag that the first signed-in request clears. Sign-in cycles the session key but
keeps its data, so a code picked up before signing in is still there after.
"""

import logging
import secrets

from django.utils import timezone

from siyu.accounts.selectors import SHOPPER_SESSION_KEY
from siyu.core.errors import DomainError
from siyu.referrals.services import REF_RE, ref_should_replace, referral_bind, share_visit_record

from .helpers import current_shopper

logger = logging.getLogger("siyu.referrals")

REF, REF_AT, REF_SHOP, VISITOR, PENDING = "ref", "ref_at", "ref_shop", "ref_visitor", "ref_pending"
SKIPPED_PREFIXES = ("/console/", "/admin/", "/api/", "/static/", "/media/", "/i18n/", "/healthz")


def _skipped(request) -> bool:
    path = request.path_info
    # Images (posters) carry the sharer's own code and are fetched by the sharer's browser.
    return request.method not in ("GET", "HEAD") or path.startswith(SKIPPED_PREFIXES) or path.endswith(".png")


class ReferralMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        shop = getattr(request, "shop", None)
        if shop is not None and not _skipped(request):
            code = request.GET.get("ref", "")
            if code and REF_RE.match(code):
                self._touch(request, shop, code)
            if request.session.get(PENDING) and request.session.get(REF_SHOP) == shop.pk:
                self._bind(request, shop)
        return self.get_response(request)

    def _touch(self, request, shop, code: str) -> None:
        session = request.session
        signed_in = current_shopper(request) if session.get(SHOPPER_SESSION_KEY) else None
        key = session.get(VISITOR) or secrets.token_urlsafe(18)
        touch = share_visit_record(shop=shop, code=code, visitor_key=key, shopper=signed_in, path=request.path_info)
        if touch is None:
            return  # unknown code or the sharer's own link: keep nothing
        session[VISITOR] = key
        now = timezone.now()
        if ref_should_replace(
            current_code=session.get(REF),
            current_at=session.get(REF_AT),
            current_shop=session.get(REF_SHOP),
            shop_id=shop.pk,
            window_days=touch.window_days,
            now=now,
        ):
            session[REF], session[REF_AT], session[REF_SHOP] = touch.referrer.code, now.timestamp(), shop.pk
            session[PENDING] = True

    def _bind(self, request, shop) -> None:
        if not request.session.get(SHOPPER_SESSION_KEY):
            return  # still anonymous: wait for sign-in
        shopper = current_shopper(request)
        request.session.pop(PENDING, None)
        if shopper is None:
            return
        try:
            referral_bind(
                shop=shop,
                referee=shopper,
                code=request.session.get(REF, ""),
                visitor_key=request.session.get(VISITOR, ""),
            )
        except DomainError as exc:
            logger.debug("referral not bound for shopper %s: %s", shopper.pk, exc.code)
