"""Storefront endpoints: what a shopper's app or page reads, plus sign-in and the shopper's own data."""

from django.middleware.csrf import get_token, rotate_token
from ninja import Query, Router
from ninja.responses import Status

from siyu.accounts.agreements import AGREEMENT_VERSION
from siyu.accounts.selectors import SHOPPER_SESSION_KEY, address_get, addresses_of
from siyu.accounts.services import (
    address_create,
    address_delete,
    address_update,
    otp_request,
    shopper_sign_in,
    shopper_update_profile,
    token_issue,
    token_revoke_shopper,
)
from siyu.accounts.sessions import shopper_session_start
from siyu.catalog.selectors import categories_tree, product_for_shopper, products_featured, products_on_sale
from siyu.core.errors import InvalidInput, NotAuthenticated
from siyu.core.security import client_ip

from .auth import shopper_auth
from .schemas import ERRORS, page_of
from .storefront_schemas import (
    AddressDetailOut,
    AddressIn,
    AddressOut,
    CategoryTreeOut,
    CsrfOut,
    HomeOut,
    LoginIn,
    LoginOut,
    MeOut,
    MePatchIn,
    OtpIn,
    OtpOut,
    ProductDetailOut,
    ProductFilterIn,
    ProductPage,
    ShopOut,
)

router = Router(tags=["storefront"])


# --- the shop and its catalogue ----------------------------------------------------------


@router.get("/shop", response={200: ShopOut, **ERRORS})
def shop_profile(request):
    return request.shop


@router.get("/home", response={200: HomeOut, **ERRORS})
def home(request):
    return {
        "shop": request.shop,
        "featured": products_featured(shop=request.shop),
        "categories": categories_tree(shop=request.shop),
    }


@router.get("/categories", response={200: list[CategoryTreeOut], **ERRORS})
def categories(request):
    return categories_tree(shop=request.shop)


@router.get("/products", response={200: ProductPage, **ERRORS})
def products(request, filters: Query[ProductFilterIn]):
    qs = products_on_sale(shop=request.shop, category_id=filters.category, q=filters.q)
    return page_of(qs, filters)


@router.get("/products/{public_id}", response={200: ProductDetailOut, **ERRORS})
def product_detail(request, public_id: str):
    return product_for_shopper(shop=request.shop, public_id=public_id)


# --- sign-in -----------------------------------------------------------------------------


@router.get("/csrf", response={200: CsrfOut})
def csrf(request):
    """The token to send as X-CSRFToken with unsafe requests signed in by session cookie."""
    return {"csrf_token": get_token(request)}


@router.post("/auth/otp", response={202: OtpOut, **ERRORS})
def auth_otp(request, data: OtpIn):
    challenge = otp_request(phone=data.phone, ip=client_ip(request), shop=request.shop)
    return Status(202, challenge)


@router.post("/auth/login", response={200: LoginOut, **ERRORS})
def auth_login(request, data: LoginIn):
    """A wrong or expired code is 401 otp_invalid: the request is well formed, the sign-in failed."""
    try:
        # The app shows the same "signing in accepts…" line as the sign-in page, so the same record.
        shopper = shopper_sign_in(phone=data.phone, code=data.code, shop=request.shop, agreement=AGREEMENT_VERSION)
    except InvalidInput as exc:
        if exc.code != "otp_invalid":
            raise
        raise NotAuthenticated(exc.message, code=exc.code, detail=exc.detail) from None
    _token, key = token_issue(shop=request.shop, shopper=shopper, name="storefront login")
    # A new session key at sign-in, so a planted session cannot be taken over (fixation).
    shopper_session_start(session=request.session, shopper=shopper)
    rotate_token(request)
    return {"token": key, "shopper": shopper}


@router.post("/auth/logout", auth=shopper_auth, response={204: None, **ERRORS})
def auth_logout(request):
    token = getattr(request, "api_token", None)
    if token is not None:
        token_revoke_shopper(shopper=request.auth, token_id=token.pk)
    request.session.pop(SHOPPER_SESSION_KEY, None)
    return Status(204, None)


# --- the shopper's own data --------------------------------------------------------------


@router.get("/me", auth=shopper_auth, response={200: MeOut, **ERRORS})
def me(request):
    return request.auth


@router.patch("/me", auth=shopper_auth, response={200: MeOut, **ERRORS})
def me_update(request, data: MePatchIn):
    return shopper_update_profile(shopper=request.auth, nickname=data.nickname)


@router.get("/me/addresses", auth=shopper_auth, response={200: list[AddressOut], **ERRORS})
def address_list(request):
    return addresses_of(shop=request.shop, shopper=request.auth)


@router.post("/me/addresses", auth=shopper_auth, response={201: AddressDetailOut, **ERRORS})
def address_add(request, data: AddressIn):
    return Status(201, address_create(shop=request.shop, shopper=request.auth, data=data.dict()))


@router.get("/me/addresses/{public_id}", auth=shopper_auth, response={200: AddressDetailOut, **ERRORS})
def address_detail(request, public_id: str):
    return address_get(shop=request.shop, shopper=request.auth, public_id=public_id)


@router.put("/me/addresses/{public_id}", auth=shopper_auth, response={200: AddressDetailOut, **ERRORS})
def address_change(request, data: AddressIn, public_id: str):
    return address_update(shop=request.shop, shopper=request.auth, public_id=public_id, data=data.dict())


@router.delete("/me/addresses/{public_id}", auth=shopper_auth, response={204: None, **ERRORS})
def address_remove(request, public_id: str):
    address_delete(shop=request.shop, shopper=request.auth, public_id=public_id)
    return Status(204, None)
