"""API operations for flash sales (秒杀).

`console_router` joins /api/v1/console/ (staff: promotions.view to read, promotions.manage to
change), `storefront_router` joins /api/v1/storefront/ (signed-in shoppers). Buying goes through
the ordinary checkout, `POST /storefront/orders` with `promotion: "flash_sale:<item id>"`.

A session's window must end after it starts, within 31 days of it, in the future, and both times
fall in the years 2000–2100: rules no JSON Schema states, so a well-formed window that breaks them
is 409 `settings_conflict` with the field in `detail` (as the other promotions answer), not 400."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from siyu.core.errors import Conflict, InvalidInput
from siyu.core.permissions import require
from siyu.promotions.flashsales import selectors, services
from siyu.promotions.flashsales.models import FlashItem, FlashSession

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, MAX_FEN, MAX_ID, NAME_PATTERN, In, PageIn, page_of

console_router = Router(tags=["console flashsales"], auth=staff_auth)
storefront_router = Router(tags=["storefront flashsales"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=16, pattern="^[a-z0-9]+$")]
FlashPrice = Annotated[int, Field(ge=1, le=MAX_FEN, description="Fen, not above the SKU's price.")]
WINDOW_FIELDS = {"starts_at", "ends_at"}


@contextmanager
def _window_conflicts() -> Iterator[None]:
    """The service's refusal of a well-formed window, answered as 409 settings_conflict (see above)."""
    try:
        yield
    except InvalidInput as exc:
        if isinstance(exc.detail, dict) and exc.detail and set(exc.detail) <= WINDOW_FIELDS:
            raise Conflict(exc.message, code="settings_conflict", detail=exc.detail) from None
        raise


class FlashItemOut(Schema):
    id: str = Field(alias="public_id")
    sku_id: int
    product_id: str = Field(description="The product's public id.")
    product_name: str
    sku_price: int = Field(description="The SKU's own price, fen.")
    flash_price: int = Field(description="Fen.")
    flash_stock: int
    stock_left: int
    sold: int
    sold_bp: int = Field(description="Share of the flash stock sold, basis points.")
    per_customer_limit: int
    promotion: str = Field(description='What to send to checkout as "promotion".')

    @staticmethod
    def resolve_product_id(obj: FlashItem) -> str:
        return obj.product.public_id

    @staticmethod
    def resolve_product_name(obj: FlashItem) -> str:
        return obj.product.name

    @staticmethod
    def resolve_sku_price(obj: FlashItem) -> int:
        return obj.sku.price

    @staticmethod
    def resolve_promotion(obj: FlashItem) -> str:
        return f"flash_sale:{obj.public_id}"


class FlashSessionOut(Schema):
    id: str = Field(alias="public_id")
    name: str
    starts_at: datetime
    ends_at: datetime
    pay_minutes: int
    status: str


class FlashSessionDetailOut(FlashSessionOut):
    items: list[FlashItemOut]

    @staticmethod
    def resolve_items(obj: FlashSession) -> list:
        return list(obj.items.all())


class FlashSessionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[FlashSessionOut]


class FlashSessionIn(In):
    name: str = Field(min_length=1, max_length=60, pattern=NAME_PATTERN)
    starts_at: datetime
    ends_at: datetime
    pay_minutes: int = Field(5, ge=1, le=services.MAX_PAY_MINUTES)


class FlashItemIn(In):
    sku_id: int = Field(ge=1, le=MAX_ID)
    flash_price: FlashPrice
    flash_stock: int = Field(ge=1, le=1_000_000)
    per_customer_limit: int = Field(1, ge=1, le=services.MAX_LIMIT)


class FlashItemChangeIn(In):
    flash_price: FlashPrice
    flash_stock: int = Field(ge=1, le=1_000_000)
    per_customer_limit: int = Field(1, ge=1, le=services.MAX_LIMIT)


class SessionFilterIn(PageIn):
    status: str = Field("", max_length=12, pattern="^(|draft|scheduled|ended)$")


class PromotionResultsOut(Schema):
    orders_placed: int
    orders_paid: int
    revenue: int = Field(description="Fen: paid − refunded on the paid orders.")
    discount: int = Field(description="Fen taken off on the paid orders.")
    new_customers: int
    returning_customers: int


# --- storefront ----------------------------------------------------------------------------


@storefront_router.get("/flash-sales", response={200: list[FlashSessionDetailOut], **ERRORS})
def storefront_flash_sessions(request):
    """Sessions running now or starting within two days, with their items (three queries)."""
    return selectors.flash_sessions_for_shopper(shop=request.shop)


# --- console -------------------------------------------------------------------------------


def _can_view(request) -> None:
    require(request.auth, "promotions.view", shop_id=request.shop.pk)


@console_router.get("/flash-sales", response={200: FlashSessionPage, **ERRORS})
def console_flash_sessions(request, q: Query[SessionFilterIn]):
    _can_view(request)
    return page_of(selectors.flash_sessions_for_staff(shop=request.shop, status=q.status), q)


@console_router.post("/flash-sales", response={201: FlashSessionDetailOut, **ERRORS})
def console_flash_session_create(request, data: FlashSessionIn):
    with _window_conflicts():
        session = services.flash_session_create(actor=request.auth, shop=request.shop, **data.dict())
    return Status(201, selectors.flash_session_for_staff(shop=request.shop, session_id=session.public_id))


@console_router.get("/flash-sales/{session_id}", response={200: FlashSessionDetailOut, **ERRORS})
def console_flash_session(request, session_id: PublicId):
    _can_view(request)
    return selectors.flash_session_for_staff(shop=request.shop, session_id=session_id)


@console_router.put("/flash-sales/{session_id}", response={200: FlashSessionDetailOut, **ERRORS})
def console_flash_session_update(request, session_id: PublicId, data: FlashSessionIn):
    """Change a draft session (409 once scheduled)."""
    with _window_conflicts():
        services.flash_session_update(actor=request.auth, shop=request.shop, session_id=session_id, **data.dict())
    return selectors.flash_session_for_staff(shop=request.shop, session_id=session_id)


@console_router.delete("/flash-sales/{session_id}", response={204: None, **ERRORS})
def console_flash_session_delete(request, session_id: PublicId):
    services.flash_session_delete(actor=request.auth, shop=request.shop, session_id=session_id)
    return Status(204, None)


@console_router.post("/flash-sales/{session_id}/schedule", response={200: FlashSessionDetailOut, **ERRORS})
def console_flash_session_schedule(request, session_id: PublicId):
    """Publish: each item's flash stock is taken from its SKU's stock (all or none; 409 if short)."""
    services.flash_session_schedule(actor=request.auth, shop=request.shop, session_id=session_id)
    return selectors.flash_session_for_staff(shop=request.shop, session_id=session_id)


@console_router.post("/flash-sales/{session_id}/end", response={200: FlashSessionDetailOut, **ERRORS})
def console_flash_session_end(request, session_id: PublicId):
    """End now: what is left of each flash stock goes back to its SKU (once)."""
    services.flash_session_end(actor=request.auth, shop=request.shop, session_id=session_id)
    return selectors.flash_session_for_staff(shop=request.shop, session_id=session_id)


@console_router.post("/flash-sales/{session_id}/items", response={201: FlashItemOut, **ERRORS})
def console_flash_item_add(request, session_id: PublicId, data: FlashItemIn):
    item = services.flash_item_add(actor=request.auth, shop=request.shop, session_id=session_id, **data.dict())
    return Status(201, selectors.flash_item_for_staff(shop=request.shop, item_id=item.public_id))


@console_router.put("/flash-sale-items/{item_id}", response={200: FlashItemOut, **ERRORS})
def console_flash_item_update(request, item_id: PublicId, data: FlashItemChangeIn):
    services.flash_item_update(actor=request.auth, shop=request.shop, item_id=item_id, **data.dict())
    return selectors.flash_item_for_staff(shop=request.shop, item_id=item_id)


@console_router.delete("/flash-sale-items/{item_id}", response={204: None, **ERRORS})
def console_flash_item_remove(request, item_id: PublicId):
    services.flash_item_remove(actor=request.auth, shop=request.shop, item_id=item_id)
    return Status(204, None)


@console_router.get("/flash-sale-items/{item_id}/results", response={200: PromotionResultsOut, **ERRORS})
def console_flash_item_results(request, item_id: PublicId):
    """Orders, revenue, discount given and new vs returning customers of one item."""
    from siyu.promotions.results import promotion_results

    _can_view(request)
    item = selectors.flash_item_for_staff(shop=request.shop, item_id=item_id)
    return promotion_results(shop=request.shop, kind="flash_sale", ref=item.public_id)
