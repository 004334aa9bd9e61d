"""The cart as a shopper sees it: each line, whether it can be bought now and why not, and the
subtotal of the lines that can. One rule for the storefront page and the API."""

from dataclasses import dataclass

from siyu.accounts.models import Shopper
from siyu.catalog.models import ProductStatus
from siyu.shops.models import Shop

from .checkout import cart_lines
from .models import CartLine

OFF_SALE, SOLD_OUT, SHORT = "off_sale", "sold_out", "short"


@dataclass(frozen=True)
class CartRow:
    line: CartLine
    problem: str  # "" when the line can be bought now, else OFF_SALE, SOLD_OUT or SHORT

    @property
    def sku(self):
        return self.line.sku

    @property
    def sku_id(self) -> int:
        return self.line.sku_id

    @property
    def quantity(self) -> int:
        return self.line.quantity

    @property
    def total(self) -> int:
        return self.line.sku.price * self.line.quantity

    @property
    def available(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class CartView:
    rows: list[CartRow]

    @property
    def subtotal(self) -> int:
        """What the lines that can be bought now cost (the others are not checked out)."""
        return sum(row.total for row in self.rows if row.available)


def _problem(line: CartLine) -> str:
    sku = line.sku
    if not sku.is_active or sku.product.status != ProductStatus.ON_SALE:
        return OFF_SALE
    if sku.stock <= 0:
        return SOLD_OUT
    return SHORT if sku.stock < line.quantity else ""


def cart_view(*, shop: Shop, shopper: Shopper) -> CartView:
    """The shopper's cart in this shop, oldest line first (one query)."""
    return CartView(rows=[CartRow(line=ln, problem=_problem(ln)) for ln in cart_lines(shop=shop, shopper=shopper)])
