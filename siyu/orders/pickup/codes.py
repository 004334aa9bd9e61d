"""Pickup codes: what the shopper shows at the point (digits, and the same as a QR image).

Eight random digits from the operating system's generator, unique within a shop: 10^8 values, so
a guess hits one of a shop's few thousand open codes about once in tens of thousands of tries,
and wrong guesses are throttled per verifier (siyu.orders.pickup.writeoff).
"""

import io
import secrets

import qrcode
from django.db import IntegrityError, transaction

from siyu.orders.models import Order

from .models import PickupOrder, PickupPoint

CODE_DIGITS = 8
TRIES = 5


def pickup_code_new() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def pickup_order_record(*, order: Order, point: PickupPoint) -> PickupOrder:
    """The pickup row of a new order, inside the order's transaction (checkout calls this). A code
    already taken in the shop (rare) is drawn again, in a savepoint, so the order is not lost."""
    for attempt in range(TRIES):
        try:
            with transaction.atomic():
                return PickupOrder.objects.create(
                    shop_id=order.shop_id, order=order, point=point, code=pickup_code_new()
                )
        except IntegrityError:
            if attempt == TRIES - 1:
                raise
    raise AssertionError("unreachable")


def pickup_qr_png(*, code: str) -> bytes:
    """The code as a QR image, for the point's scanner (a scanner types it into the write-off box)."""
    qr = qrcode.QRCode(border=2, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(code)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().get_image().save(out, "PNG")
    return out.getvalue()
