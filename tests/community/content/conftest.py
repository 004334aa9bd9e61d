"""Fixtures for content-library tests: images (with EXIF GPS on request), posts scheduled today,
and the order.placed event run as the worker would."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from siyu.accounts.services import token_issue
from siyu.community.content.services import post_create
from siyu.core.events import event_dispatch
from siyu.core.models import OutboxEvent
from tests.factories import make_staff


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


def not_an_image(name="notes.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"this is not a picture at all", content_type="image/jpeg")


def today_at(hour: int, minute: int = 0):
    return timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)


def make_post(shop, actor, *, text="今天上新，快来看看", publish_at="now", images=None, **data):
    """A post scheduled an hour ago (today, unless it is just past midnight) by default."""
    if publish_at == "now":
        now = timezone.localtime()
        publish_at = max(now - timedelta(hours=1), now.replace(hour=0, minute=0, second=0, microsecond=0))
    return post_create(actor=actor, shop=shop, data={"text": text, "publish_at": publish_at, **data}, images=images)


def run_order_events(order) -> None:
    """Dispatch the order's outbox events now (tests run inside a transaction that never commits)."""
    for event_id in OutboxEvent.objects.filter(payload__order=order.pk).order_by("id").values_list("id", flat=True):
        event_dispatch(event_id=event_id)


@pytest.fixture
def owner_key(shop, owner) -> str:
    return token_issue(shop=shop, staff=owner, name="test")[1]


@pytest.fixture
def other_key(other_shop) -> str:
    return token_issue(shop=other_shop, staff=make_staff(other_shop, username="otherboss"), name="other")[1]


@pytest.fixture
def shopper_key(shop, shopper) -> str:
    return token_issue(shop=shop, shopper=shopper, name="test")[1]
