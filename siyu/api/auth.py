"""Who is calling: a bearer token (`Authorization: Bearer sy_…`) or the Django session.

A token belongs to one shop and only works on that shop's addresses. Session sign-in is checked
for CSRF on unsafe methods, as ninja's cookie authentication does; a request with no session
cookie skips that check and simply is not signed in.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyCookie, HttpBearer

from siyu.accounts.models import Shopper, StaffMember
from siyu.accounts.selectors import shopper_from_session, staff_for_user
from siyu.accounts.services import token_authenticate
from siyu.core.errors import PermissionDenied
from siyu.shops.middleware import request_shop


class _Bearer(HttpBearer):
    holder = ""  # "staff" or "shopper": which kind of token this door accepts

    def authenticate(self, request: HttpRequest, token: str):
        api_token = token_authenticate(key=token.strip())
        if api_token is None:
            return None
        holder = getattr(api_token, self.holder)
        if holder is None:
            return None
        if api_token.shop_id != request_shop(request).pk:
            raise PermissionDenied(_("This token belongs to another shop."), code="wrong_shop")
        if isinstance(holder, StaffMember) and not holder.is_active:
            return None
        # the token in use, for signing out (storefront logout revokes it); a request attribute like request.user
        setattr(request, "api_token", api_token)  # noqa: B010
        return holder


class StaffToken(_Bearer):
    holder = "staff"


class ShopperToken(_Bearer):
    holder = "shopper"


class _Session(APIKeyCookie):
    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.COOKIES.get(self.param_name):
            return None
        return super()._get_key(request)


class StaffSession(_Session):
    def authenticate(self, request: HttpRequest, key: str | None) -> StaffMember | None:
        if key is None:
            return None
        return staff_for_user(user=request.user, shop=request_shop(request))


class ShopperSession(_Session):
    def authenticate(self, request: HttpRequest, key: str | None) -> Shopper | None:
        if key is None:
            return None
        return shopper_from_session(request.session)


staff_auth = [StaffToken(), StaffSession()]
shopper_auth = [ShopperToken(), ShopperSession()]
