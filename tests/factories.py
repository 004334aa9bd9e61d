"""Factories for tests. They go through the real services where a rule matters."""

import io
import itertools

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from siyu.accounts.models import Shopper, StaffMember
from siyu.accounts.roles import OWNER
from siyu.accounts.services import staff_create
from siyu.catalog.models import Category, Product, ProductStatus, ShippingTemplate, Sku
from siyu.core.crypto import lookup_hash
from siyu.shops.models import Shop

_seq = itertools.count(1)


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    slug = factory.Sequence(lambda n: f"shop{n}")
    name = factory.Sequence(lambda n: f"小店{n}")


def make_staff(shop: Shop, role: str = OWNER, username: str | None = None) -> StaffMember:
    """A staff member of `shop` with password 'password123'."""
    username = username or f"staff{next(_seq)}"
    if not StaffMember.objects.filter(shop=shop).exists() and role != OWNER:
        staff_create(actor=None, shop=shop, username=f"owner{next(_seq)}", password="password123", role=OWNER)
    if role == OWNER:
        return staff_create(actor=None, shop=shop, username=username, password="password123", role=role)
    owner = StaffMember.objects.filter(shop=shop, role=OWNER).first()
    return staff_create(actor=owner, shop=shop, username=username, password="password123", role=role)


def make_shopper(phone: str | None = None) -> Shopper:
    phone = phone or f"139{next(_seq):08d}"
    return Shopper.objects.create(phone_hash=lookup_hash(phone), phone=phone)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"分类{n}")


class ShippingTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingTemplate

    shop = factory.SubFactory(ShopFactory)
    name = "默认运费"
    base_fee = 800
    free_over = 9900
    remote_surcharge = 1200
    remote_provinces = ["新疆", "西藏"]
    is_default = True


def make_product(
    shop: Shop,
    *,
    name: str = "测试商品",
    price: int = 1990,
    stock: int = 10,
    status: str = ProductStatus.ON_SALE,
    category: Category | None = None,
    **extra,
) -> Product:
    product = Product.objects.create(
        shop=shop, name=name, status=status, category=category, price_min=price, price_max=price, **extra
    )
    Sku.objects.create(shop=shop, product=product, price=price, stock=stock)
    return product


def image_upload(name: str = "p.png", size=(300, 200), fmt: str = "PNG", color=(200, 30, 30)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return SimpleUploadedFile(name, buf.getvalue(), content_type=f"image/{fmt.lower()}")


def sign_in_shopper(client, shopper: Shopper) -> None:
    """Sign a shopper in on the test client's session, as the sign-in page does."""
    from django.conf import settings

    from siyu.accounts.sessions import shopper_session_start

    session = client.session
    shopper_session_start(session=session, shopper=shopper)
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
