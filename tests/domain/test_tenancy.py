"""One shop's staff can never see or change another shop's rows, whichever door they use."""

import pytest

from siyu.catalog import services
from siyu.catalog.models import Product
from siyu.core.errors import NotFound, PermissionDenied
from siyu.shops.services import shop_update_profile

from ..factories import CategoryFactory, make_product, make_staff

pytestmark = pytest.mark.django_db


def test_staff_of_another_shop_cannot_change_rows(shop, other_shop, owner):
    intruder = make_staff(other_shop, username="intruder")
    product = make_product(shop, name="mine")
    category = CategoryFactory(shop=shop)
    attempts = [
        lambda: services.product_update(actor=intruder, product=product, data={"name": "theirs"}),
        lambda: services.product_set_status(actor=intruder, product=product, status="off_shelf"),
        lambda: services.category_delete(actor=intruder, category=category),
        lambda: services.product_create(actor=intruder, shop=shop, data={"name": "x", "price": 1}),
        lambda: services.featured_set(actor=intruder, shop=shop, product_ids=[product.public_id]),
        lambda: shop_update_profile(actor=intruder, shop=shop, data={"name": "pwned"}),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    product.refresh_from_db()
    shop.refresh_from_db()
    assert product.name == "mine" and product.status == "on_sale" and shop.name == "私域优选"
    assert Product.objects.filter(shop=shop).count() == 1


def test_cross_shop_references_are_not_found(shop, other_shop, owner):
    foreign_category = CategoryFactory(shop=other_shop)
    with pytest.raises(NotFound) as exc:
        services.product_create(
            actor=owner, shop=shop, data={"name": "x", "price": 1, "category_id": foreign_category.pk}
        )
    assert exc.value.detail == {"category_id": foreign_category.pk}
