"""One shop's token never reads or changes another shop's rows."""

import pytest

from siyu.catalog.models import Category

from ..factories import CategoryFactory, make_product
from .conftest import API, OTHER_API, bearer


@pytest.fixture
def mine(shop):
    category = CategoryFactory(shop=shop, name="我的分类")
    product = make_product(shop, name="我的商品", category=category)
    return product, category


@pytest.fixture
def theirs(other_shop):
    return make_product(other_shop, name="隔壁商品")


def _json(client, method, url, payload, key):
    return getattr(client, method)(url, payload, content_type="application/json", headers=bearer(key))


def test_other_shops_token_is_refused_on_this_shop(client, mine, other_key):
    product, category = mine
    headers = bearer(other_key)
    for response in [
        client.get(f"{API}/console/products", headers=headers),
        client.get(f"{API}/console/products/{product.public_id}", headers=headers),
        client.get(f"{API}/console/categories", headers=headers),
        _json(client, "patch", f"{API}/console/products/{product.public_id}", {"name": "被改了"}, other_key),
        _json(client, "patch", f"{API}/console/categories/{category.pk}", {"name": "被改了"}, other_key),
        client.delete(f"{API}/console/categories/{category.pk}", headers=headers),
    ]:
        assert response.status_code == 403, response.content
        body = response.json()
        assert body["code"] == "wrong_shop"
        assert "我的" not in response.content.decode()
    product.refresh_from_db()
    category.refresh_from_db()
    assert (product.name, category.name) == ("我的商品", "我的分类")


def test_other_shops_token_works_on_its_own_address_and_sees_only_its_rows(client, mine, theirs, other_key):
    product, category = mine
    headers = bearer(other_key)
    listing = client.get(f"{OTHER_API}/console/products", headers=headers)
    assert listing.status_code == 200
    assert [p["public_id"] for p in listing.json()["items"]] == [theirs.public_id]
    assert client.get(f"{OTHER_API}/console/categories", headers=headers).json() == []
    sku = product.skus.get()
    for response in [
        client.get(f"{OTHER_API}/console/products/{product.public_id}", headers=headers),
        _json(client, "patch", f"{OTHER_API}/console/products/{product.public_id}", {"name": "被改了"}, other_key),
        _json(
            client,
            "post",
            f"{OTHER_API}/console/products/{product.public_id}/status",
            {"status": "off_shelf"},
            other_key,
        ),
        _json(
            client,
            "post",
            f"{OTHER_API}/console/products/{product.public_id}/skus/{sku.pk}/stock",
            {"delta": -5},
            other_key,
        ),
        _json(client, "patch", f"{OTHER_API}/console/categories/{category.pk}", {"name": "被改了"}, other_key),
        client.delete(f"{OTHER_API}/console/categories/{category.pk}", headers=headers),
    ]:
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"
    # another shop's product cannot be featured or used as a category either
    featured = _json(client, "put", f"{OTHER_API}/console/featured", {"product_ids": [product.public_id]}, other_key)
    assert featured.status_code == 404 and featured.json()["detail"] == {"product_ids": [product.public_id]}
    created = _json(
        client, "post", f"{OTHER_API}/console/products", {"name": "新品", "category_id": category.pk}, other_key
    )
    assert created.status_code == 404 and created.json()["detail"] == {"category_id": category.pk}
    product.refresh_from_db()
    assert (product.name, product.status, product.skus.get().stock) == ("我的商品", "on_sale", 10)
    assert Category.objects.get(pk=category.pk).name == "我的分类"
    renamed = _json(client, "patch", f"{OTHER_API}/console/products/{theirs.public_id}", {"name": "改好了"}, other_key)
    assert renamed.status_code == 200 and renamed.json()["name"] == "改好了"


def test_this_shops_token_is_refused_on_the_other_shop(client, theirs, owner_key):
    response = client.get(f"{OTHER_API}/console/products", headers=bearer(owner_key))
    assert response.status_code == 403 and response.json()["code"] == "wrong_shop"


def test_staff_session_only_counts_in_its_own_shop(client, owner, theirs, mine):
    client.force_login(owner.user)
    assert client.get(f"{API}/console/products").status_code == 200
    response = client.get(f"{OTHER_API}/console/products")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_storefront_shows_each_shop_its_own_products(client, mine, theirs):
    product, _ = mine
    here = client.get(f"{API}/storefront/products").json()["items"]
    there = client.get(f"{OTHER_API}/storefront/products").json()["items"]
    assert [p["public_id"] for p in here] == [product.public_id]
    assert [p["public_id"] for p in there] == [theirs.public_id]
    assert client.get(f"{OTHER_API}/storefront/products/{product.public_id}").status_code == 404
    assert client.get(f"{OTHER_API}/storefront/shop").json()["slug"] == "other"


def test_shopper_token_belongs_to_its_shop(client, shopper_key, other_shop):
    assert client.get(f"{API}/storefront/me", headers=bearer(shopper_key)).status_code == 200
    response = client.get(f"{OTHER_API}/storefront/me", headers=bearer(shopper_key))
    assert response.status_code == 403 and response.json()["code"] == "wrong_shop"


def test_unknown_shop_prefix_is_not_found(client, shop):
    assert client.get("/s/nosuchshop/api/v1/storefront/shop").status_code == 404
