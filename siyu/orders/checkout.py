"""Cart and checkout. Prices, postage and totals are computed here, from the database, only."""

import functools
import re
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple, ParamSpec

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Address, Shopper
from siyu.accounts.selectors import address_find
from siyu.catalog.models import ProductStatus, ReturnPolicy, ShippingTemplate, Sku
from siyu.catalog.shipping import shipping_fee
from siyu.core.errors import Conflict, DomainError, InvalidInput, NotFound
from siyu.core.events import event_new, event_recorded
from siyu.core.ids import public_id
from siyu.core.prepared import PreparedRead, execute, insert_new, insert_new_together
from siyu.core.soldout import soldout_any, soldout_mark
from siyu.shops.models import Shop

from .lifecycle import timeline_row
from .models import CartLine, Order, OrderLine, OrderTimeline
from .pickup.codes import pickup_order_record
from .pickup.models import PickupPoint
from .pricing import (
    Adjustment,
    LinePrice,
    PricingLine,
    adjustments_for,
    basket_checks_run,
    line_prices_for,
)
from .sku_read import skus_read

MAX_QUANTITY = 999
MAX_LINES = 50
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass
class QuoteLine:
    sku: Sku
    quantity: int
    offer: LinePrice | None = None  # a promotion's price for this line (siyu.orders.pricing)

    @property
    def unit_price(self) -> int:
        return self.offer.unit_price if self.offer else self.sku.price

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    @property
    def promotion(self) -> str:
        """ "kind:ref" of the promotion that priced this line, or ""."""
        return f"{self.offer.kind}:{self.offer.ref}" if self.offer else ""

    def pricing_line(self) -> PricingLine:
        return PricingLine(
            sku_id=self.sku.pk,
            product_id=self.sku.product_id,
            category_id=self.sku.product.category_id,
            list_price=self.sku.price,
            unit_price=self.unit_price,
            quantity=self.quantity,
            promotion=self.offer.kind if self.offer else "",
        )


@dataclass
class Quote:
    lines: list[QuoteLine]
    subtotal: int
    shipping_fee: int
    discount: int = 0
    needs_no_returns_confirmation: bool = False
    problems: dict = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    points_used: int = 0
    sold_out: list[int] = field(default_factory=list)  # SKUs seen at zero stock
    pay_minutes: int | None = None  # a promotion's shorter payment deadline

    @property
    def total(self) -> int:
        return self.subtotal + self.shipping_fee - self.discount

    @property
    def promotions(self) -> list[str]:
        """ "kind:ref" of every promotion in this quote: line prices, then basket adjustments."""
        found = [ln.promotion for ln in self.lines if ln.promotion]
        return found + [f"{a.kind}:{a.ref}" for a in self.adjustments if a.ref]


def _items_clean(items) -> dict[int, int]:
    if not isinstance(items, list | tuple) or not items or len(items) > MAX_LINES:
        raise InvalidInput(_("Choose between 1 and 50 items."), detail={"items": "1 to 50 lines"})
    wanted: dict[int, int] = defaultdict(int)
    for item in items:
        try:
            sku_id, quantity = int(item["sku"]), int(item["quantity"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(detail={"items": "each item needs a sku id and a quantity"}) from None
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput(detail={"quantity": f"1 to {MAX_QUANTITY}"})
        wanted[sku_id] += quantity
    if any(q > MAX_QUANTITY for q in wanted.values()):
        raise InvalidInput(detail={"quantity": f"1 to {MAX_QUANTITY}"})
    return dict(wanted)


def order_quote(
    *,
    shop: Shop,
    items,
    province: str = "",
    shopper: Shopper | None = None,
    options: dict | None = None,
    pickup: bool = False,
) -> Quote:
    """Price a basket: current SKU prices, postage per shipping template (remote surcharge by province),
    then the adjustments registered by other domains (member discount, points) for this shopper.
    With pickup=True (collected at a pickup point) there is no postage."""
    wanted = _items_clean(items)
    # What the registered adjusters and checks need (member level, price floors) comes with the
    # SKUs, in this one SELECT, compiled once per process (see siyu.orders.sku_read).
    skus = skus_read(shop=shop, shopper=shopper, sku_ids=list(wanted), now=timezone.now())
    problems = {}
    sold_out: list[int] = []
    lines = []
    options = options or {}
    for sku_id, quantity in wanted.items():
        sku = skus.get(sku_id)
        if sku is None or not sku.is_active or sku.product.status != ProductStatus.ON_SALE:
            problems[str(sku_id)] = "not for sale"
        else:
            lines.append(QuoteLine(sku=sku, quantity=quantity))
    offers = (
        line_prices_for(
            shop=shop, shopper=shopper, lines=[ln.pricing_line() for ln in lines], options=options, row=lines[0].sku
        )
        if lines
        else {}
    )
    for line in list(lines):
        line.offer = offers.get(line.sku.pk)
        # A promotion that holds its own stock (a flash sale) checks it itself, when the order is placed.
        if (line.offer is None or not line.offer.holds_stock) and line.sku.stock < line.quantity:
            problems[str(line.sku.pk)] = f"only {line.sku.stock} left"
            if line.sku.stock <= 0:
                sold_out.append(line.sku.pk)
            lines.remove(line)
    by_template: defaultdict[int | None, int] = defaultdict(int)  # None: products with no template
    templates: dict[int | None, ShippingTemplate | None] = {}
    for line in lines:
        template = line.sku.product.shipping_template
        key = template.pk if template else None
        templates[key] = template
        by_template[key] += line.line_total
    fee = sum(shipping_fee(templates[k], subtotal=v, province=province) for k, v in by_template.items())
    if pickup:
        fee = 0  # collected at a pickup point: no postage
    subtotal = sum(line.line_total for line in lines)
    adjustments = (
        adjustments_for(
            shop=shop,
            shopper=shopper,
            subtotal=subtotal,
            shipping_fee=fee,
            options=options,
            lines=[ln.pricing_line() for ln in lines],
            row=lines[0].sku,
        )
        if lines
        else []
    )
    if any(a.free_shipping for a in adjustments):
        fee = 0
    return Quote(
        lines=lines,
        subtotal=subtotal,
        shipping_fee=fee,
        discount=min(subtotal, sum(a.amount for a in adjustments)),
        needs_no_returns_confirmation=any(ln.sku.product.return_policy == ReturnPolicy.NO_RETURNS for ln in lines),
        problems=problems,
        adjustments=adjustments,
        points_used=sum(a.points_used for a in adjustments),
        sold_out=sold_out,
        pay_minutes=min((ln.offer.pay_minutes for ln in lines if ln.offer and ln.offer.pay_minutes), default=None),
    )


def _order_number() -> str:
    return timezone.localdate().strftime("%Y%m%d") + f"{secrets.randbelow(10**12):012d}"


P = ParamSpec("P")


class Submitted(NamedTuple):
    order: Order
    created: bool  # False: the idempotency key had made this order before


def order_submit(
    *,
    shop: Shop,
    shopper: Shopper,
    items,
    address_id: str = "",
    idempotency_key: str,
    note: str = "",
    confirm_no_returns: bool = False,
    ref_code: str = "",
    from_cart: bool = False,
    options: dict | None = None,
    pickup_point: str = "",
) -> Submitted:
    """Place an order and reserve its stock with one conditional UPDATE per SKU (in id order).

    Delivered to the shopper's address (`address_id`), or collected at a pickup point (`pickup_point`,
    its public id; no postage): exactly one of the two. A pickup order keeps the point's address as
    its delivery address and gets its pickup row (and code) in the order's transaction.

    Resubmitting the same idempotency key returns the order it made, with created=False.
    Anything price-like a client sends is never read: prices come from the SKUs, postage from the templates.

    Locks: the SKU rows (pk order), each only from its decrement to the commit.
    """
    if not KEY_RE.match(str(idempotency_key or "")):
        raise InvalidInput(detail={"idempotency_key": "8-64 letters, digits, _ or -"})
    # The key is not looked up first: the order's unique (shop, shopper, key) constraint answers a
    # resubmission at the INSERT, which saves a query on every first submission. A resubmission
    # refused before the INSERT (sold out since, say) looks the key up then, on that rare path.
    try:
        address, quote = _checkout_ready(
            shop=shop,
            shopper=shopper,
            items=items,
            address_id=address_id,
            note=note,
            options=options,
            pickup_point=pickup_point,
        )
        if quote.needs_no_returns_confirmation and not confirm_no_returns:
            raise InvalidInput(_("Please confirm that some items cannot be returned."), code="confirm_no_returns")
    except DomainError:
        existing = _made_with(shop=shop, shopper=shopper, idempotency_key=idempotency_key)
        if existing is None:
            raise
        return Submitted(existing, False)
    order = _order_new(
        shop=shop,
        shopper=shopper,
        quote=quote,
        address=address,
        idempotency_key=idempotency_key,
        note=note,
        ref_code=ref_code,
        no_returns_confirmed=bool(confirm_no_returns and quote.needs_no_returns_confirmation),
    )
    try:
        with transaction.atomic():
            insert_new([order])
            placed = _order_write_rest(order=order, quote=quote, shopper=shopper, from_cart=from_cart)
            if isinstance(address, PickupPoint):
                pickup_order_record(order=order, point=address)
    except IntegrityError:
        # The key made an order before (or the same key was submitted twice at once).
        existing = _made_with(shop=shop, shopper=shopper, idempotency_key=idempotency_key)
        if existing is None:
            raise
        return Submitted(existing, False)
    # The caller usually shows the new order at once: hand over what we already hold instead of
    # making it read the order back (Django's own prefetch cache, keyed by relation name).
    _prime(order, lines=placed.lines, timeline=[placed.timeline], shipments=[], after_sales=[])
    return Submitted(order, True)


def _made_with_query(*, shop: int, shopper: int, key: str):
    return Order.objects.filter(shop_id=shop, shopper_id=shopper, idempotency_key=key).order_by("pk")[:1]


# Read by every refused checkout (a rush's sold-out answers): compiled once (siyu/core/prepared.py).
_MADE_WITH = PreparedRead.by_value(
    Order, _made_with_query, shop=-7_301_101, shopper=-7_301_103, key="stand-in-idempotency-key"
)


def _made_with(*, shop: Shop, shopper: Shopper, idempotency_key: str) -> Order | None:
    """The order this key made before, if any (the key is unique per shop and shopper)."""
    found = _MADE_WITH.fetch(shop=shop.pk, shopper=shopper.pk, key=idempotency_key)
    return found[0] if found else None


def _checkout_ready(
    *, shop: Shop, shopper: Shopper, items, address_id, note, options, pickup_point: str = ""
) -> tuple[Address | PickupPoint, Quote]:
    """Everything checked before the transaction: sold-out marks (no query), address or pickup point,
    note, prices."""
    wanted = _items_clean(items)
    sold_out = soldout_any(sku_ids=wanted)
    if sold_out:
        # Answered as the database would answer it, from the cache (see siyu.core.soldout).
        raise Conflict(
            _("Some items cannot be bought now."),
            code="items_unavailable",
            detail={str(pk): "only 0 left" for pk in sold_out},
        )
    address: Address | PickupPoint | None
    if pickup_point:
        address = _pickup_point_for(shop=shop, address_id=address_id, pickup_point=pickup_point)
    else:
        address = address_find(shop=shop, shopper=shopper, public_id=str(address_id or ""))
    if address is None:
        raise InvalidInput(_("Choose a shipping address."), detail={"address": "not found"})
    if len(str(note or "")) > 200:
        raise InvalidInput(detail={"note": "at most 200 characters"})
    quote = order_quote(
        shop=shop,
        items=items,
        province=address.province,
        shopper=shopper,
        options=options,
        pickup=isinstance(address, PickupPoint),
    )
    if quote.problems:
        for pk in quote.sold_out:
            soldout_mark(sku_id=pk)
        raise Conflict(_("Some items cannot be bought now."), code="items_unavailable", detail=quote.problems)
    # Before the transaction, on the prices just quoted (a refusal places and reserves nothing).
    basket_checks_run(shop=shop, shopper=shopper, lines=[(ln.sku, ln.unit_price, ln.quantity) for ln in quote.lines])
    return address, quote


def _pickup_point_for(*, shop: Shop, address_id, pickup_point) -> PickupPoint:
    """The active pickup point chosen instead of an address (both at once is refused)."""
    if address_id:
        raise InvalidInput(
            _("Choose either a shipping address or a pickup point, not both."),
            code="address_or_pickup",
            detail={"address": "not with a pickup point"},
        )
    point = PickupPoint.objects.filter(shop=shop, public_id=str(pickup_point)[:16], is_active=True).first()
    if point is None:
        raise InvalidInput(_("Choose a pickup point."), detail={"pickup_point": "not found"})
    return point


def _order_new(
    *,
    shop: Shop,
    shopper: Shopper,
    quote: Quote,
    address: Address | PickupPoint,
    idempotency_key: str,
    note,
    ref_code,
    no_returns_confirmed: bool,
) -> Order:
    now = timezone.now()
    return Order(
        shop=shop,
        public_id=public_id(16),
        number=_order_number(),
        shopper=shopper,
        idempotency_key=idempotency_key,
        subtotal=quote.subtotal,
        shipping_fee=quote.shipping_fee,
        discount=quote.discount,
        points_used=quote.points_used,
        adjustments=[
            {"kind": a.kind, "label": a.label, "amount": a.amount, **({"ref": a.ref} if a.ref else {})}
            for a in quote.adjustments
        ],
        total=quote.total,
        recipient=address.name if isinstance(address, PickupPoint) else address.recipient,
        phone=address.phone,
        province=address.province,
        city=address.city,
        district=address.district,
        address_detail=address.detail,
        note=str(note or "").strip(),
        ref_code=str(ref_code or "")[:12],
        no_returns_confirmed=no_returns_confirmed,
        pay_deadline=now + timedelta(minutes=quote.pay_minutes or settings.SIYU_ORDER_PAY_MINUTES),
    )


class _Placed(NamedTuple):
    lines: list[OrderLine]
    timeline: OrderTimeline


def _order_write_rest(*, order: Order, quote: Quote, shopper: Shopper, from_cart: bool) -> _Placed:
    """The order's lines, timeline row and `order.placed` event, then the stock: inside the order's
    transaction. Any refusal (stock, a subscriber's check) rolls the whole order back."""
    shop = order.shop
    lines = [
        OrderLine(
            order=order,
            shop=shop,
            sku=ln.sku,
            product=ln.sku.product,
            product_name=ln.sku.product.name,
            sku_label=ln.sku.label,
            image=ln.sku.product.main_thumb.name or "",
            list_price=ln.sku.price,
            unit_price=ln.unit_price,
            quantity=ln.quantity,
            line_total=ln.line_total,
            return_policy=ln.sku.product.return_policy,
            promotion=ln.promotion,
            stock_held=bool(ln.offer and ln.offer.holds_stock),
        )
        for ln in quote.lines
    ]
    placed = timeline_row(order=order, actor=shopper, action="place", to_status=order.status)
    event = event_new(
        topic="order.placed",
        shop_id=shop.pk,
        payload={
            "order": order.pk,
            "total": order.total,
            "shopper": shopper.pk,
            "points_used": quote.points_used,
            # Promotion subscribers look here first, so an order without one costs them no query.
            "promotions": quote.promotions,
        },
    )
    insert_new_together(lines, [placed], [event])  # on PostgreSQL one statement
    event_recorded(event)  # its in-transaction subscribers (a promotion holding stock takes it here)
    if from_cart:
        CartLine.objects.filter(shop=shop, shopper=shopper, sku_id__in=[ln.sku.pk for ln in quote.lines]).delete()
    # The stock rows are hot under a rush: decrement them last, so their locks are held
    # only from here to the commit. A promotion holding a line's stock took it in its
    # order.placed subscriber above.
    for line in sorted(quote.lines, key=lambda ln: ln.sku.pk):
        if line.offer and line.offer.holds_stock:
            continue
        left = _stock_take(sku_id=line.sku.pk, quantity=line.quantity)
        if left is None:
            if line.quantity == 1:  # not even one left: sold out (a bigger quantity may still fit)
                soldout_mark(sku_id=line.sku.pk)
            raise Conflict(
                _("Sold out while you were checking out."), code="insufficient_stock", detail={"sku": line.sku.pk}
            )
        if left == 0:
            transaction.on_commit(functools.partial(soldout_mark, sku_id=line.sku.pk))
    return _Placed(lines, placed)


_STOCK_TAKE = "UPDATE catalog_sku SET stock = stock - %s WHERE id = %s AND stock >= %s AND is_active RETURNING stock"


def _stock_take(*, sku_id: int, quantity: int) -> int | None:
    """One conditional decrement; the stock left, or None if there was not enough. Raw SQL for
    its RETURNING (the ORM's update() cannot say what is left), which tells us the SKU sold out
    without another read."""
    rows = execute(connection, _STOCK_TAKE, [quantity, sku_id, quantity])
    return int(rows[0][0]) if rows else None


def _order_only(submit: Callable[P, Submitted]) -> Callable[P, Order]:
    @functools.wraps(submit)
    def place(*args: P.args, **kwargs: P.kwargs) -> Order:
        return submit(*args, **kwargs).order

    return place


# Place an order (see `order_submit`) when the caller does not care whether it was a resubmission.
order_place = _order_only(order_submit)


def _prime(order: Order, **related: list) -> None:
    cache = {}
    for name, rows in related.items():
        qs = getattr(order, name).all()
        qs._result_cache, qs._prefetch_done = rows, True
        cache[name] = qs
    order._prefetched_objects_cache = cache  # type: ignore[attr-defined]  # Django's own; the stubs omit it


# --- cart --------------------------------------------------------------------------------


def cart_set(*, shop: Shop, shopper: Shopper, sku_id: int, quantity: int, add: bool = False) -> CartLine | None:
    """Set (or with add=True, increase) a cart line's quantity; 0 removes it."""
    try:
        sku_id, quantity = int(sku_id), int(quantity)
    except (TypeError, ValueError):
        raise InvalidInput(detail={"quantity": "not a whole number"}) from None
    if not 0 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(detail={"quantity": f"0 to {MAX_QUANTITY}"})
    sku = Sku.objects.filter(shop=shop, pk=sku_id).select_related("product").first()
    if quantity == 0 and sku is not None:
        CartLine.objects.filter(shop=shop, shopper=shopper, sku=sku).delete()  # removing is always allowed
        return None
    if sku is None or not sku.is_active or sku.product.status != ProductStatus.ON_SALE:
        raise NotFound(_("This item is not for sale."), detail={"sku": sku_id})
    with transaction.atomic():
        line = CartLine.objects.select_for_update().filter(shop=shop, shopper=shopper, sku=sku).first()
        new_quantity = min(MAX_QUANTITY, (line.quantity if line and add else 0) + quantity)
        if new_quantity == 0:
            if line:
                line.delete()
            return None
        if line is None:
            if CartLine.objects.filter(shop=shop, shopper=shopper).count() >= MAX_LINES:
                raise Conflict(_("Your cart is full."), detail={"max": MAX_LINES})
            try:
                with transaction.atomic():
                    return CartLine.objects.create(shop=shop, shopper=shopper, sku=sku, quantity=new_quantity)
            except IntegrityError:
                line = CartLine.objects.get(shop=shop, shopper=shopper, sku=sku)
        line.quantity = new_quantity
        line.save(update_fields=["quantity"])
    return line


def cart_lines(*, shop: Shop, shopper: Shopper) -> list[CartLine]:
    return list(
        CartLine.objects.filter(shop=shop, shopper=shopper).select_related("sku", "sku__product").order_by("id")
    )
