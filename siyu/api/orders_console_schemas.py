"""What staff send and see about orders, payments and after-sales in the console. Money is fen.

Staff see full contact details on an order's detail; lists show phone numbers masked.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from .orders_schemas import (
    AfterSaleOut,
    AfterSaleStatusFilter,
    OrderDetailOut,
    OrderRowOut,
    OrderStatusFilter,
    ShipToOut,
    TimelineOut,
)
from .schemas import MAX_STOCK, NAME_PATTERN, TRIMMED_PATTERN, Fen, Id, In, PageIn

# The rules of siyu.orders.fulfilment.tracking_clean, stated so that clients can check them first.
Carrier = Annotated[str, Field(max_length=40, pattern=NAME_PATTERN, description="The carrier's name, e.g. 顺丰.")]
TrackingNumber = Annotated[
    str,
    Field(
        max_length=40,
        pattern="^[A-Za-z0-9-]*[A-Za-z0-9][A-Za-z0-9-]*$",
        description="Letters, digits and hyphens (ASCII), at least one letter or digit.",
    ),
]

# --- console -----------------------------------------------------------------------------


class OrderFiltersIn(In):
    status: OrderStatusFilter = ""
    date_from: date | None = Field(None, description="Placed on or after this day (shop time).")
    date_to: date | None = Field(None, description="Placed on or before this day (shop time).")
    q: str = Field("", max_length=40, description="Order number, phone number or recipient name.")
    product: str = Field("", max_length=20, description="Product public id.")


class ConsoleOrderFilterIn(PageIn, OrderFiltersIn):
    pass


class ExportFilterIn(OrderFiltersIn):
    format: Literal["csv", "xlsx"] = "csv"


class ConsoleOrderRowOut(OrderRowOut):
    paid_amount_fen: int
    refunded_amount_fen: int
    recipient: str
    masked_phone: str
    province: str
    city: str
    paid_at: datetime | None
    shipped_at: datetime | None

    @staticmethod
    def resolve_paid_amount_fen(obj):
        return obj.paid_amount

    @staticmethod
    def resolve_refunded_amount_fen(obj):
        return obj.refunded_amount


class ConsoleOrderPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ConsoleOrderRowOut]


class ConsoleTimelineOut(TimelineOut):
    actor_label: str


class ConsoleShipToOut(ShipToOut):
    phone: str


class RefundOut(Schema):
    out_refund_no: str
    amount_fen: int
    status: str
    reason: str
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_amount_fen(obj):
        return obj.amount


class PaymentOut(Schema):
    provider: str
    out_trade_no: str
    amount_fen: int
    refunded_amount_fen: int
    status: str
    outcome: str
    created_at: datetime
    paid_at: datetime | None
    refunds: list[RefundOut]

    @staticmethod
    def resolve_amount_fen(obj):
        return obj.amount

    @staticmethod
    def resolve_refunded_amount_fen(obj):
        return obj.refunded_amount

    @staticmethod
    def resolve_refunds(obj):
        return list(obj.refunds.all())


class ConsoleOrderDetailOut(OrderDetailOut):
    shopper_masked_phone: str
    timeline: list[ConsoleTimelineOut]
    ship_to: ConsoleShipToOut
    payments: list[PaymentOut]

    @staticmethod
    def resolve_shopper_masked_phone(obj):
        return obj.shopper.masked_phone

    @staticmethod
    def resolve_ship_to(obj):
        return {**OrderDetailOut.resolve_ship_to(obj), "phone": obj.phone}


class ShipIn(In):
    carrier: Carrier
    tracking_number: TrackingNumber
    lines: dict[int, int] | None = Field(
        None,
        max_length=50,
        description="Order line id → units to ship; leave out to ship everything left.",
        # JSON keys are text: say that these are line ids, written as whole numbers.
        json_schema_extra={
            "propertyNames": {"pattern": "^[1-9][0-9]*$", "maxLength": 15},
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": MAX_STOCK},
        },
    )


class BatchRejectedOut(Schema):
    row: int
    order: str
    carrier: str
    tracking: str
    error: str
    code: str


class BatchShipOut(Schema):
    shipped: int
    rejected: list[BatchRejectedOut]


class AfterSaleFilterIn(PageIn):
    status: AfterSaleStatusFilter = ""


class ConsoleAfterSaleOut(AfterSaleOut):
    order_public_id: str
    order_number: str
    product_name: str
    sku_label: str

    @staticmethod
    def resolve_order_public_id(obj):
        return obj.order.public_id

    @staticmethod
    def resolve_order_number(obj):
        return obj.order.number

    @staticmethod
    def resolve_product_name(obj):
        return obj.line.product_name

    @staticmethod
    def resolve_sku_label(obj):
        return obj.line.sku_label


class AfterSalePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ConsoleAfterSaleOut]


class DecisionIn(In):
    approve: bool
    note: str = Field("", max_length=300)
    replacement_sku_id: Id | None = Field(
        None, description="Exchanges: another SKU of the same product at the same price to send instead."
    )


class ReplacementIn(In):
    replacement_sku_id: Id | None = Field(
        None, description="Another SKU of the same product at the same price; leave out to keep the chosen one."
    )


class ReplacementShipIn(In):
    carrier: Carrier
    tracking_number: TrackingNumber


class ManualPaymentIn(In):
    amount_fen: Fen = Field(description="Must equal the order total.")
    reference: str = Field(
        min_length=4,
        max_length=40,
        pattern=TRIMMED_PATTERN,
        description="The bank or transfer reference, without spaces at either end.",
    )


class ManualPaymentOut(Schema):
    outcome: str = Field(description="paid, reinstated, or needs_refund (the money goes back).")
    order: ConsoleOrderDetailOut
