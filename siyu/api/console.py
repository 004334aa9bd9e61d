"""Console endpoints for the shop itself: profile, dashboard, featured slots, staff and API tokens.

Every endpoint needs a staff member of this shop (token or session); what each role may change
is decided by the services.
"""

from ninja import Router
from ninja.responses import Status

from siyu.accounts.selectors import staff_list, tokens_of
from siyu.accounts.services import token_issue, token_revoke
from siyu.catalog.selectors import catalog_counts, products_featured
from siyu.catalog.services import featured_set
from siyu.shops.selectors import shop_get
from siyu.shops.services import shop_update_profile

from .auth import staff_auth
from .console_schemas import (
    ConsoleShopOut,
    DashboardOut,
    FeaturedIn,
    ShopPatchIn,
    StaffOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)
from .schemas import ERRORS, Id
from .storefront_schemas import ProductCardOut

router = Router(tags=["console"], auth=staff_auth)


@router.get("/shop", response={200: ConsoleShopOut, **ERRORS})
def shop_profile(request):
    return request.shop


@router.patch("/shop", response={200: ConsoleShopOut, **ERRORS})
def shop_update(request, data: ShopPatchIn):
    # Save onto a fresh row, not the briefly cached copy the middleware found.
    shop = shop_get(slug=request.shop.slug)
    return shop_update_profile(actor=request.auth, shop=shop, data=data.dict(exclude_unset=True, exclude_none=True))


@router.get("/dashboard", response={200: DashboardOut, **ERRORS})
def dashboard(request):
    return catalog_counts(shop=request.shop)


@router.get("/featured", response={200: list[ProductCardOut], **ERRORS})
def featured(request):
    return products_featured(shop=request.shop)


@router.put("/featured", response={200: list[ProductCardOut], **ERRORS})
def featured_update(request, data: FeaturedIn):
    return featured_set(actor=request.auth, shop=request.shop, product_ids=data.product_ids)


@router.get("/staff", response={200: list[StaffOut], **ERRORS})
def staff(request):
    return staff_list(shop=request.shop)


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
def tokens(request):
    """The caller's own live tokens."""
    return tokens_of(staff=request.auth)


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS})
def token_create(request, data: TokenIn):
    token, key = token_issue(shop=request.shop, staff=request.auth, name=data.name)
    return Status(
        201,
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "key": key,
        },
    )


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS})
def token_delete(request, token_id: Id):
    token_revoke(actor=request.auth, token_id=token_id)
    return Status(204, None)
