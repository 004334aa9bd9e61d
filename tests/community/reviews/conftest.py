"""Fixtures for review tests: orders delivered to the shopper (paid, shipped, received)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from siyu.community.reviews.models import Review
from siyu.orders.models import OrderLine
from tests.orders.helpers import deliver, pay, place


@pytest.fixture
def delivered(shop, shopper, address, product, owner):
    """A received order of `product` by `shopper`; returns its one line."""
    order = place(shop, shopper, address, product)
    deliver(order, owner)
    return order.lines.get()


@pytest.fixture
def paid_line(shop, shopper, address, product):
    order = place(shop, shopper, address, product)
    pay(order)
    return order.lines.get()


def more_lines(line: OrderLine, n: int) -> list[OrderLine]:
    """Copies of a received line on the same order (each may carry its own review): cheap rows for
    query-count tests at two sizes."""
    made = []
    for _ in range(n):
        copy = OrderLine.objects.get(pk=line.pk)
        copy.pk = None
        copy.save()
        made.append(copy)
    return made


def jpeg(*, gps: bool = False, size=(200, 150), color=(20, 120, 200), name="photo.jpg") -> SimpleUploadedFile:
    """A JPEG, optionally with EXIF that carries a GPS position (Hangzhou) and a camera make."""
    img = Image.new("RGB", size, color)
    buf = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "SiyuCam"  # Make
        exif[0x8825] = {1: "N", 2: (30.0, 15.0, 0.0), 3: "E", 4: (120.0, 10.0, 0.0)}  # GPSInfo
        img.save(buf, "JPEG", exif=exif)
    else:
        img.save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def make_review(line: OrderLine, **extra) -> Review:
    from siyu.community.reviews.services import review_create

    extra.setdefault("rating", 5)
    return review_create(shop=line.shop, shopper=line.order.shopper, line_id=line.pk, **extra)
