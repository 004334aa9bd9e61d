"""The shop-wide commission list: filters and rows (amounts in fen, rates in basis points)."""

from datetime import date
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from .fission_schemas import CommissionOut
from .schemas import Id, PageIn


class ShopCommissionFilterIn(PageIn):
    status: Literal["", "frozen", "settled", "cancelled"] = Field(
        "", description="frozen: waiting out the return window and freeze period; settled: withdrawable."
    )
    promoter: Id | None = Field(None, description="One promoter's id; another shop's promoter is 404.")
    date_from: date | None = Field(None, description="Accrued on or after this day (shop time).")
    date_to: date | None = Field(None, description="Accrued on or before this day (shop time).")


class ShopCommissionOut(CommissionOut):
    promoter_id: int
    promoter: str = Field(description="The promoter's nickname, or their masked phone number.")

    @staticmethod
    def resolve_promoter(obj):
        return str(obj.promoter.shopper)


_EXAMPLE: dict[str, Any] = {
    "count": 1,
    "limit": 20,
    "offset": 0,
    "items": [
        {
            "id": 812,
            "promoter_id": 15,
            "promoter": "小林",
            "order_number": "202612010930001234",
            "product_name": "明前龙井 250g",
            "sku_label": "礼盒装",
            "quantity": 2,
            "tier": 1,
            "base_amount_fen": 35800,
            "rate_bp": 1000,
            "amount_fen": 3580,
            "status": "frozen",
            "created_at": "2026-12-01T09:31:02+08:00",
            "settle_after": "2026-12-18T09:31:02+08:00",
            "settled_at": None,
        }
    ],
}


class ShopCommissionPage(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    count: int
    limit: int
    offset: int
    items: list[ShopCommissionOut]
