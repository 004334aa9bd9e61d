"""What shoppers send and see about carts, orders, payments and after-sales (shared by the console).

All money is integer fen (`*_fen`). Shoppers never see a cost price, an actor's name or another
shopper's data; lists show phone numbers masked.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from django.core.files.storage import default_storage
from ninja import Field, Schema
from pydantic import ConfigDict

from siyu.orders.models import AfterSaleKind, AfterSaleStatus, OrderStatus
from siyu.orders.states import timeline_action_label, timeline_note_text

from .schemas import Id, In, PageIn, media_url
from .storefront_schemas import ReturnPolicyOut

_ORDER_LABELS = dict(OrderStatus.choices)
_AFTERSALE_LABELS = dict(AfterSaleStatus.choices)
_KIND_LABELS = dict(AfterSaleKind.choices)

OrderStatusFilter = Literal["", *OrderStatus.values]  # type: ignore[valid-type]
AfterSaleStatusFilter = Literal["", *AfterSaleStatus.values]  # type: ignore[valid-type]


def stored_url(name: str, context: dict | None) -> str | None:
    """Absolute URL of a file kept by its storage name (order lines and after-sale photos)."""
    if not name:
        return None
    url = default_storage.url(name)
    request = (context or {}).get("request")
    return request.build_absolute_uri(url) if request is not None else url


# --- cart and checkout -------------------------------------------------------------------


class ItemIn(In):
    # Anything else a client sends with a line (a price, a total) is dropped, never read.
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    sku: Id
    quantity: int = Field(ge=1, le=999)


class CartLineIn(In):
    quantity: int = Field(ge=0, le=999, description="0 removes the line.")
    add: bool = Field(False, description="Add to the quantity already in the cart instead of replacing it.")


class CartLineOut(Schema):
    sku_id: int
    product_public_id: str
    product_name: str
    sku_label: str
    thumb_url: str | None
    unit_price_fen: int
    quantity: int
    line_total_fen: int
    available: bool = Field(description="On sale with enough stock for this quantity.")

    @staticmethod
    def resolve_product_public_id(obj):
        return obj.sku.product.public_id

    @staticmethod
    def resolve_product_name(obj):
        return obj.sku.product.name

    @staticmethod
    def resolve_sku_label(obj):
        return obj.sku.label

    @staticmethod
    def resolve_thumb_url(obj, context):
        return media_url(obj.sku.product.main_thumb, context)

    @staticmethod
    def resolve_unit_price_fen(obj):
        return obj.sku.price

    @staticmethod
    def resolve_line_total_fen(obj):
        return obj.total

    @staticmethod
    def resolve_available(obj):
        return obj.available


class CartOut(Schema):
    lines: list[CartLineOut]
    subtotal_fen: int = Field(description="What the lines that can be bought now cost.")


class QuoteIn(In):
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    items: list[ItemIn] | None = Field(None, max_length=50, description="Lines to price; or use from_cart.")
    from_cart: bool = False
    address_id: str | None = Field(None, max_length=20, description="Prices postage for this address.")
    pickup_point: str = Field(
        "",
        max_length=16,
        description="A pickup point's id (GET /storefront/pickup/points) instead of an address: no postage.",
    )
    points: int = Field(0, ge=0, le=10_000_000, description="Points to pay with (the server caps and values them).")
    coupon: str = Field(
        "", max_length=40, description='A coupon of yours to use; "" picks the best usable one, "none" uses none.'
    )
    promotion: str = Field(
        "",
        max_length=80,
        description='Buy through a promotion, as "kind:ref" (e.g. "flash_sale:…", "group_buy:…", "bargain:…").',
    )


class QuoteLineOut(Schema):
    sku_id: int
    product_public_id: str
    product_name: str
    sku_label: str
    list_price_fen: int = Field(description="The SKU's own price; unit_price_fen is lower when a promotion prices it.")
    unit_price_fen: int
    promotion: str = Field(description='"kind:ref" of the promotion that priced the line, or "".')
    quantity: int
    line_total_fen: int
    return_policy: ReturnPolicyOut

    @staticmethod
    def resolve_sku_id(obj):
        return obj.sku.pk

    @staticmethod
    def resolve_list_price_fen(obj):
        return obj.sku.price

    @staticmethod
    def resolve_product_public_id(obj):
        return obj.sku.product.public_id

    @staticmethod
    def resolve_product_name(obj):
        return obj.sku.product.name

    @staticmethod
    def resolve_sku_label(obj):
        return obj.sku.label

    @staticmethod
    def resolve_unit_price_fen(obj):
        return obj.unit_price

    @staticmethod
    def resolve_line_total_fen(obj):
        return obj.line_total

    @staticmethod
    def resolve_return_policy(obj):
        return ReturnPolicyOut.of(obj.sku.product.return_policy)


class QuoteOut(Schema):
    lines: list[QuoteLineOut]
    subtotal_fen: int
    shipping_fen: int
    discount_fen: int
    total_fen: int
    needs_no_returns_confirmation: bool
    problems: dict[str, str] = Field(description="SKU id → why it cannot be bought now.")

    @staticmethod
    def resolve_subtotal_fen(obj):
        return obj.subtotal

    @staticmethod
    def resolve_shipping_fen(obj):
        return obj.shipping_fee

    @staticmethod
    def resolve_discount_fen(obj):
        return obj.discount

    @staticmethod
    def resolve_total_fen(obj):
        return obj.total


class OrderIn(QuoteIn):
    address_id: str = Field(
        "", max_length=20, description="Where to deliver; or send pickup_point instead (one of the two)."
    )
    note: str = Field("", max_length=200)
    confirm_no_returns: bool = Field(False, description="Required when some items cannot be returned.")


class PayIn(In):
    provider: str = Field(max_length=20, description="One of GET /storefront/payment-providers.")


class PayActionOut(Schema):
    kind: Literal["redirect", "qrcode", "none"]
    url: str


class ProvidersOut(Schema):
    providers: list[str]


# --- orders ------------------------------------------------------------------------------


class OrderLineOut(Schema):
    id: int
    product_name: str
    sku_label: str
    image_url: str | None
    list_price_fen: int
    unit_price_fen: int
    promotion: str = Field(description='"kind:ref" of the promotion that priced the line, or "".')
    quantity: int
    line_total_fen: int
    shipped_quantity: int
    refunded_quantity: int
    refunded_amount_fen: int
    return_policy: ReturnPolicyOut

    @staticmethod
    def resolve_image_url(obj, context):
        return stored_url(obj.image, context)

    @staticmethod
    def resolve_list_price_fen(obj):
        return obj.list_price or obj.unit_price

    @staticmethod
    def resolve_unit_price_fen(obj):
        return obj.unit_price

    @staticmethod
    def resolve_line_total_fen(obj):
        return obj.line_total

    @staticmethod
    def resolve_refunded_amount_fen(obj):
        return obj.refunded_amount

    @staticmethod
    def resolve_return_policy(obj):
        return ReturnPolicyOut.of(obj.return_policy)


class TimelineOut(Schema):
    at: datetime
    action: str = Field(description="A stable code, for programs.")
    action_label: str = Field("", description="The action in the reader's language.")
    from_status: str
    to_status: str
    note: str
    note_label: str = Field("", description="The note in the reader's language (codes and amounts worded).")

    @staticmethod
    def resolve_action_label(obj):
        return timeline_action_label(obj.action)

    @staticmethod
    def resolve_note_label(obj):
        return timeline_note_text(obj)


class ShipmentOut(Schema):
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: list[dict] = Field(description='[{"line": order line id, "quantity": n}]')


class AfterSaleOut(Schema):
    public_id: str
    line_id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    quantity: int
    amount_fen: int = Field(description="Everything refunded, postage included.")
    reason: str
    photo_urls: list[str]
    staff_note: str
    return_carrier: str
    return_tracking: str
    replacement_sku_id: int | None = Field(description="Exchanges: the SKU sent in place of the returned goods.")
    replacement_carrier: str
    replacement_tracking: str
    replacement_shipped_at: datetime | None
    replacement_received_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_kind_label(obj):
        return str(_KIND_LABELS.get(obj.kind, obj.kind))

    @staticmethod
    def resolve_status_label(obj):
        return str(_AFTERSALE_LABELS.get(obj.status, obj.status))

    @staticmethod
    def resolve_amount_fen(obj):
        return obj.amount

    @staticmethod
    def resolve_photo_urls(obj, context):
        return [stored_url(name, context) for name in obj.photos or [] if name]


class _OrderBase(Schema):
    public_id: str
    number: str
    status: str
    status_label: str
    total_fen: int
    created_at: datetime

    @staticmethod
    def resolve_status_label(obj):
        return str(_ORDER_LABELS.get(obj.status, obj.status))

    @staticmethod
    def resolve_total_fen(obj):
        return obj.total


class OrderRowOut(_OrderBase):
    item_count: int
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_item_count(obj):
        return sum(line.quantity for line in obj.lines.all())

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())


class OrderPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrderRowOut]


class OrderFilterIn(PageIn):
    status: OrderStatusFilter = ""


class ShipToOut(Schema):
    recipient: str
    masked_phone: str
    province: str
    city: str
    district: str
    detail: str


class AdjustmentOut(Schema):
    kind: str
    label: str
    amount_fen: int
    ref: str

    @staticmethod
    def resolve_amount_fen(obj):
        return obj.get("amount", 0)

    @staticmethod
    def resolve_kind(obj):
        return obj.get("kind", "")

    @staticmethod
    def resolve_label(obj):
        return obj.get("label", "")

    @staticmethod
    def resolve_ref(obj):
        return obj.get("ref", "")


class OrderDetailOut(_OrderBase):
    subtotal_fen: int
    shipping_fee_fen: int
    discount_fen: int
    adjustments: list[AdjustmentOut] = Field(
        description="What the discount is made of: promotions, membership, points."
    )
    on_hold: str = Field(description='Why the order may not ship yet (e.g. "group_buy"), or "".')
    paid_amount_fen: int
    refunded_amount_fen: int
    note: str
    no_returns_confirmed: bool
    pay_deadline: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    received_at: datetime | None
    cancelled_at: datetime | None
    ship_to: ShipToOut
    lines: list[OrderLineOut]
    # A Sequence, so the console's detail can show a richer row (ConsoleTimelineOut) in its place.
    timeline: Sequence[TimelineOut]
    shipments: list[ShipmentOut]
    after_sales: list[AfterSaleOut]

    @staticmethod
    def resolve_subtotal_fen(obj):
        return obj.subtotal

    @staticmethod
    def resolve_shipping_fee_fen(obj):
        return obj.shipping_fee

    @staticmethod
    def resolve_discount_fen(obj):
        return obj.discount

    @staticmethod
    def resolve_adjustments(obj):
        return list(obj.adjustments or [])

    @staticmethod
    def resolve_on_hold(obj):
        return obj.fulfilment_hold

    @staticmethod
    def resolve_paid_amount_fen(obj):
        return obj.paid_amount

    @staticmethod
    def resolve_refunded_amount_fen(obj):
        return obj.refunded_amount

    @staticmethod
    def resolve_ship_to(obj):
        return {
            "recipient": obj.recipient,
            "masked_phone": obj.masked_phone,
            "province": obj.province,
            "city": obj.city,
            "district": obj.district,
            "detail": obj.address_detail,
        }

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())

    @staticmethod
    def resolve_timeline(obj):
        return list(obj.timeline.all())

    @staticmethod
    def resolve_shipments(obj):
        return list(obj.shipments.all())

    @staticmethod
    def resolve_after_sales(obj):
        return list(obj.after_sales.all())


class ReturnShipmentIn(In):
    carrier: str = Field(max_length=40)
    tracking_number: str = Field(max_length=40)
