"""API operations for pickup (自提) and write-off (核销).

Console (/api/v1/console/, staff): pickup points (list: orders.view; create, replace:
orders.manage), pickup orders (orders.view), write-off by code (orders.manage; an unknown code is
404 `pickup_code_unknown`, a second use 409 `already_picked_up` with when and by whom, too many
wrong codes 429 `pickup_rate_limited`), group-buy batches (list, start, pick list, ship as one).

Storefront (/api/v1/storefront/, shopper): the points checkout offers (choose one with
`pickup_point` in POST /orders instead of `address_id`), an order's pickup code once paid, and
write-off by a point's keeper (only that point's codes).
"""

from datetime import datetime, time
from typing import Annotated

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from siyu.core.errors import NotFound
from siyu.core.permissions import require
from siyu.orders.models import OrderStatus
from siyu.orders.pickup import selectors
from siyu.orders.pickup.batches import pickup_batch_create, pickup_batch_ship
from siyu.orders.pickup.models import PickupBatch, PickupOrder, PickupPoint
from siyu.orders.pickup.points import pickup_point_create, pickup_point_update
from siyu.orders.pickup.writeoff import pickup_verify
from siyu.orders.selectors import order_for_shopper

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, NAME_PATTERN, In, PageIn, page_of

console_router = Router(tags=["console pickup"], auth=staff_auth)
storefront_router = Router(tags=["storefront pickup"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=16, pattern="^[A-Za-z0-9_-]+$")]
Code = Annotated[str, Field(min_length=1, max_length=40, description="The pickup code as typed or scanned (8 digits).")]
SHOWN = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)


class PickupPointOut(Schema):
    id: str
    name: str
    province: str
    city: str
    district: str
    detail: str
    hours: str
    open_days: list[int] = Field(description="Weekdays open, 0 = Monday; empty: every day.")
    opens_at: time | None
    closes_at: time | None


class PickupConsolePointOut(PickupPointOut):
    phone: str
    keeper_phone: str = Field(description="The keeper's mobile number, masked; '' without a keeper.")
    active: bool
    created_at: datetime


class PickupPointIn(In):
    name: str = Field(min_length=1, max_length=40, pattern=NAME_PATTERN)
    phone: str = Field("", max_length=20, pattern="^([0-9+][0-9-]{4,19})?$", description="A mobile or landline.")
    province: str = Field(min_length=1, max_length=20, pattern=NAME_PATTERN)
    city: str = Field(min_length=1, max_length=30, pattern=NAME_PATTERN)
    district: str = Field(min_length=1, max_length=30, pattern=NAME_PATTERN)
    detail: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    hours: str = Field("", max_length=100)
    open_days: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=list, max_length=7)
    opens_at: time | None = None
    closes_at: time | None = None
    keeper_phone: str = Field(
        "", pattern="^(1[3-9][0-9]{9})?$", description="A shopper's mobile number: the point's keeper ('' for none)."
    )
    active: bool = True


class PickupOrderOut(Schema):
    order_id: str
    order_number: str
    order_status: str
    total_fen: int
    point_id: str
    point_name: str
    code: str
    batch_id: str | None
    verified_at: datetime | None
    verified_by: str
    verified_via: str


class PickupOrderPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PickupOrderOut]


class PickupOrderFilterIn(PageIn):
    state: str = Field("", pattern="^(|waiting|done)$", description="waiting (not picked up), done, or '' for all.")


class PickupVerifyIn(In):
    code: Code


class PickupBatchOut(Schema):
    id: str
    point_id: str
    point_name: str
    cutoff: datetime
    order_count: int
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    created_at: datetime


class PickupBatchPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PickupBatchOut]


class PickupBatchIn(In):
    point_id: PublicId
    cutoff: datetime | None = Field(None, description="Orders paid by then join; now when left out.")


class PickupPickTotalOut(Schema):
    product: str
    spec: str
    quantity: int


class PickupPickItemOut(Schema):
    product: str
    spec: str
    quantity: int


class PickupPickOrderOut(Schema):
    order_number: str
    picked_up: bool
    items: list[PickupPickItemOut]


class PickupPickListOut(Schema):
    batch: PickupBatchOut
    units: int
    totals: list[PickupPickTotalOut]
    orders: list[PickupPickOrderOut]


class PickupBatchShipIn(In):
    carrier: str = Field(min_length=1, max_length=40, pattern=NAME_PATTERN)
    tracking_number: str = Field(min_length=1, max_length=40, pattern="^[A-Za-z0-9-]+$")


class PickupShipRejectOut(Schema):
    order: str
    code: str
    error: str


class PickupBatchShipOut(Schema):
    shipped: int
    orders: list[str]
    rejected: list[PickupShipRejectOut]


class PickupCodeOut(Schema):
    order_id: str
    code: str = Field(description="'' until the order is paid.")
    point: PickupPointOut
    verified_at: datetime | None


# --- shaping -------------------------------------------------------------------------------


def _point(p: PickupPoint) -> dict:
    return {
        "id": p.public_id,
        "name": p.name,
        "province": p.province,
        "city": p.city,
        "district": p.district,
        "detail": p.detail,
        "hours": p.hours,
        "open_days": list(p.open_days or []),
        "opens_at": p.opens_at,
        "closes_at": p.closes_at,
    }


def _console_point(p: PickupPoint) -> dict:
    keeper = p.keeper.masked_phone if p.keeper else ""
    return {**_point(p), "phone": p.phone, "keeper_phone": keeper, "active": p.is_active, "created_at": p.created_at}


def _pickup(e: PickupOrder) -> dict:
    return {
        "order_id": e.order.public_id,
        "order_number": e.order.number,
        "order_status": e.order.status,
        "total_fen": e.order.total,
        "point_id": e.point.public_id,
        "point_name": e.point.name,
        "code": e.code,
        "batch_id": e.batch.public_id if e.batch else None,
        "verified_at": e.verified_at,
        "verified_by": e.verified_by_label,
        "verified_via": e.verified_via,
    }


def _batch(b: PickupBatch) -> dict:
    return {
        "id": b.public_id,
        "point_id": b.point.public_id,
        "point_name": b.point.name,
        "cutoff": b.cutoff,
        "order_count": b.order_count,
        "carrier": b.carrier,
        "tracking_number": b.tracking_number,
        "shipped_at": b.shipped_at,
        "created_at": b.created_at,
    }


def _point_data(data: PickupPointIn) -> dict:
    body = data.dict()
    body["is_active"] = body.pop("active")
    return body


# --- console -------------------------------------------------------------------------------


@console_router.get("/pickup/points", response={200: list[PickupConsolePointOut], **ERRORS})
def console_pickup_points(request):
    """Every pickup point, active or not, oldest first."""
    require(request.auth, "orders.view", shop_id=request.shop.pk)
    return [_console_point(p) for p in selectors.pickup_points_of_shop(shop=request.shop, active_only=False)]


@console_router.post("/pickup/points", response={201: PickupConsolePointOut, **ERRORS})
def console_pickup_point_create(request, data: PickupPointIn):
    point = pickup_point_create(actor=request.auth, shop=request.shop, data=_point_data(data))
    return Status(201, _console_point(selectors.pickup_point_get(shop=request.shop, public_id=point.public_id)))


@console_router.put("/pickup/points/{point_id}", response={200: PickupConsolePointOut, **ERRORS})
def console_pickup_point_update(request, point_id: PublicId, data: PickupPointIn):
    """Replace a point's fields; `active: false` stops checkout offering it."""
    point = pickup_point_update(actor=request.auth, shop=request.shop, public_id=point_id, data=_point_data(data))
    return _console_point(selectors.pickup_point_get(shop=request.shop, public_id=point.public_id))


@console_router.get("/pickup/orders", response={200: PickupOrderPage, **ERRORS})
def console_pickup_orders(request, q: Query[PickupOrderFilterIn]):
    qs = selectors.pickup_orders_for_staff(actor=request.auth, shop=request.shop, state=q.state)
    page = page_of(qs, q)
    return {**page, "items": [_pickup(e) for e in page["items"]]}


@console_router.post("/pickup/verify", response={200: PickupOrderOut, **ERRORS})
def console_pickup_verify(request, data: PickupVerifyIn):
    """Write off (核销) a pickup code: the order is handed over and marked received. Once only."""
    entry = pickup_verify(shop=request.shop, code=data.code, actor=request.auth, via="api")
    entry = selectors.pickup_orders_for_staff(actor=request.auth, shop=request.shop).get(pk=entry.pk)
    return _pickup(entry)


@console_router.get("/pickup/batches", response={200: PickupBatchPage, **ERRORS})
def console_pickup_batches(request, q: Query[PageIn]):
    page = page_of(selectors.pickup_batches_for_staff(actor=request.auth, shop=request.shop), q)
    return {**page, "items": [_batch(b) for b in page["items"]]}


@console_router.post("/pickup/batches", response={201: PickupBatchOut, **ERRORS})
def console_pickup_batch_create(request, data: PickupBatchIn):
    """Start a group-buy batch: the point's paid pickup orders up to the cut-off (409 `batch_empty` if none)."""
    batch = pickup_batch_create(actor=request.auth, shop=request.shop, point_id=data.point_id, cutoff=data.cutoff)
    return Status(201, _batch(batch))


@console_router.get("/pickup/batches/{batch_id}", response={200: PickupPickListOut, **ERRORS})
def console_pickup_batch(request, batch_id: PublicId):
    """A batch with its pick list: totals per product and spec, and each order's items."""
    batch = selectors.pickup_batch_get(actor=request.auth, shop=request.shop, public_id=batch_id)
    picks = selectors.pickup_batch_pick_list(batch=batch)
    return {
        "batch": _batch(batch),
        "units": picks["units"],
        "totals": picks["summary"],
        "orders": [
            {
                "order_number": row["order"].number,
                "picked_up": row["pickup"].verified_at is not None,
                "items": [{"product": ln.product_name, "spec": ln.sku_label, "quantity": n} for ln, n in row["items"]],
            }
            for row in picks["rows"]
        ],
    }


@console_router.post("/pickup/batches/{batch_id}/ship", response={200: PickupBatchShipOut, **ERRORS})
def console_pickup_batch_ship(request, batch_id: PublicId, data: PickupBatchShipIn):
    """Ship every order of the batch with one carrier and tracking number (409 `batch_shipped` the second time)."""
    return pickup_batch_ship(
        actor=request.auth,
        shop=request.shop,
        public_id=batch_id,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
    )


# --- storefront ----------------------------------------------------------------------------


@storefront_router.get("/pickup/points", response={200: list[PickupPointOut], **ERRORS})
def pickup_points(request):
    """The points this shop offers at checkout (send one's id as `pickup_point` in POST /orders)."""
    return [_point(p) for p in selectors.pickup_points_for_checkout(shop=request.shop)]


@storefront_router.get("/orders/{order_id}/pickup", response={200: PickupCodeOut, **ERRORS})
def order_pickup(request, order_id: PublicId):
    """Your order's pickup point and code (the code once paid); 404 for an order delivered by post."""
    order = order_for_shopper(shop=request.shop, shopper=request.auth, public_id=order_id)
    entry = selectors.pickup_for_order(order=order)
    if entry is None:
        raise NotFound(detail={"pickup": "not a pickup order"})
    return {
        "order_id": order.public_id,
        "code": entry.code if order.status in SHOWN else "",
        "point": _point(entry.point),
        "verified_at": entry.verified_at,
    }


@storefront_router.post("/pickup/verify", response={200: PickupOrderOut, **ERRORS})
def keeper_pickup_verify(request, data: PickupVerifyIn):
    """A point's keeper writes off a code of their own point (another point's code is 404)."""
    entry = pickup_verify(shop=request.shop, code=data.code, keeper=request.auth)
    entry = PickupOrder.objects.select_related("order", "point", "batch").get(pk=entry.pk)
    return _pickup(entry)
