"""API parity with the console's image uploads: a product's detail images (up to 9: upload,
reorder, delete) and the shop's logo and banner. The catalogue and shop services validate and
resize; a non-image is 400, an oversized file 413; roles without the permission are refused and
another shop's staff get 404 for this shop's product."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from siyu.accounts.roles import FINANCE, OPERATOR, SERVICE
from siyu.catalog.models import ProductImage
from siyu.core.images import MAX_UPLOAD_BYTES
from siyu.core.models import AuditEntry
from siyu.shops.models import Shop

from ..factories import image_upload, make_product, make_staff
from .conftest import API, OTHER_API, bearer


def _images_url(product, base=API) -> str:
    return f"{base}/console/products/{product.public_id}/images"


def _upload(client, url, upload, key=None):
    return client.post(url, {"image": upload}, headers=bearer(key) if key else {})


def _order(client, product, ids, key=None, base=API):
    return client.put(
        f"{_images_url(product, base)}/order",
        {"image_ids": ids},
        content_type="application/json",
        headers=bearer(key) if key else {},
    )


def _oversized() -> SimpleUploadedFile:
    # A real PNG padded past the limit: the size alone decides.
    buf = io.BytesIO()
    Image.new("RGB", (100, 100), (1, 2, 3)).save(buf, "PNG")
    return SimpleUploadedFile("big.png", buf.getvalue() + b"\0" * MAX_UPLOAD_BYTES, content_type="image/png")


def test_detail_images_upload_resize_reorder_delete(api, shop, product):
    ids = []
    for i in range(3):
        response = _upload(api, _images_url(product), image_upload(f"p{i}.png", size=(2400, 1600)))
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["position"] == i and body["url"].endswith(".jpg") and body["thumb_url"].endswith("_t.jpg")
        ids.append(body["id"])
    stored = ProductImage.objects.get(pk=ids[0])
    with Image.open(stored.image) as full, Image.open(stored.thumb) as thumb:
        assert (full.format, max(full.size), max(thumb.size)) == ("JPEG", 1200, 400)  # resized on the server

    reordered = _order(api, product, [ids[2], ids[0], ids[1]])
    assert reordered.status_code == 200, reordered.content
    assert [(i["id"], i["position"]) for i in reordered.json()] == [(ids[2], 0), (ids[0], 1), (ids[1], 2)]
    assert [i["id"] for i in api.get(_images_url(product)).json()] == [ids[2], ids[0], ids[1]]
    assert AuditEntry.objects.filter(action="product.images_order", data={"ids": [ids[2], ids[0], ids[1]]}).exists()
    # the product detail shows them in that order too
    detail = api.get(f"{API}/console/products/{product.public_id}").json()
    assert [i["url"] for i in detail["images"]] == [i["url"] for i in reordered.json()]

    assert api.delete(f"{_images_url(product)}/{ids[0]}").status_code == 204
    assert [i["id"] for i in api.get(_images_url(product)).json()] == [ids[2], ids[1]]
    assert api.delete(f"{_images_url(product)}/{ids[0]}").status_code == 404


def test_reorder_must_name_every_image_once(api, shop, product):
    ids = [_upload(api, _images_url(product), image_upload()).json()["id"] for _ in range(2)]
    other = make_product(shop, name="别的商品")
    theirs = _upload(api, _images_url(other), image_upload()).json()["id"]
    left_out = _order(api, product, [ids[1]])
    assert left_out.status_code == 409 and left_out.json()["code"] == "image_order_mismatch"
    assert left_out.json()["detail"] == {"missing": [ids[0]]}
    assert _order(api, product, [ids[1], ids[0], theirs]).status_code == 404  # another product's image
    assert _order(api, product, [ids[1], ids[1]]).status_code == 400
    assert list(ProductImage.objects.filter(product=product).values_list("id", "position")) == [
        (ids[0], 0),
        (ids[1], 1),
    ]


def test_at_most_nine_detail_images(api, shop, product):
    ProductImage.objects.bulk_create(
        [
            ProductImage(product=product, image=f"products/{i}.jpg", thumb=f"products/{i}_t.jpg", position=i)
            for i in range(9)
        ]
    )
    response = _upload(api, _images_url(product), image_upload())
    assert response.status_code == 409 and response.json()["code"] == "too_many_images"
    assert product.images.count() == 9


@pytest.mark.parametrize("kind", ["product", "logo", "banner"])
def test_non_images_are_400_and_oversized_files_413(api, shop, product, kind):
    url = _images_url(product) if kind == "product" else f"{API}/console/shop/{kind}"
    not_image = _upload(api, url, SimpleUploadedFile("x.png", b"%PDF-1.4 not an image", content_type="image/png"))
    assert not_image.status_code == 400 and not_image.json()["code"] == "invalid_input"
    gif = io.BytesIO()
    Image.new("RGB", (100, 100)).save(gif, "GIF")
    wrong_type = _upload(api, url, SimpleUploadedFile("x.gif", gif.getvalue(), content_type="image/gif"))
    assert wrong_type.status_code == 400
    too_big = _upload(api, url, _oversized())
    assert too_big.status_code == 413, too_big.content
    assert too_big.json()["code"] == "too_large" and too_big.json()["request_id"]
    assert api.post(url, {}).status_code == 400  # no file at all
    shop.refresh_from_db()
    assert not product.images.exists() and not shop.logo and not shop.banner


def test_shop_logo_and_banner(api, shop):
    logo = _upload(api, f"{API}/console/shop/logo", image_upload("logo.png", size=(900, 900)))
    assert logo.status_code == 200, logo.content
    banner = _upload(api, f"{API}/console/shop/banner", image_upload("banner.webp", size=(3000, 1000), fmt="WEBP"))
    assert banner.status_code == 200, banner.content
    body = banner.json()
    assert body["logo_url"].endswith(".jpg") and body["banner_url"].endswith(".jpg") and body["banner_thumb_url"]
    shop = Shop.objects.get(pk=shop.pk)
    with Image.open(shop.logo) as img:
        assert img.size == (400, 400)
    with Image.open(shop.banner) as img:
        assert max(img.size) == 1500
    assert api.get(f"{API}/storefront/shop").json()["logo_url"] == body["logo_url"]


@pytest.mark.parametrize("role", [SERVICE, FINANCE])
def test_roles_without_catalog_manage_cannot_touch_product_images(client, api, shop, product, role):
    image_id = _upload(api, _images_url(product), image_upload()).json()["id"]
    api.defaults.pop("HTTP_AUTHORIZATION")
    client.force_login(make_staff(shop, role=role).user)  # by session: these roles may not hold tokens
    key = None
    for response in (
        _upload(client, _images_url(product), image_upload(), key),
        _order(client, product, [image_id], key),
        client.delete(f"{_images_url(product)}/{image_id}", headers=bearer(key)),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
    assert list(product.images.values_list("id", flat=True)) == [image_id]
    assert client.get(_images_url(product), headers=bearer(key)).status_code == 200  # reading is fine


@pytest.mark.parametrize("role", [OPERATOR, SERVICE, FINANCE])
def test_only_shop_manage_sets_the_shop_images(client, shop, role):
    client.force_login(make_staff(shop, role=role).user)
    key = None
    for kind in ("logo", "banner"):
        response = _upload(client, f"{API}/console/shop/{kind}", image_upload(), key)
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    shop.refresh_from_db()
    assert not shop.logo and not shop.banner


def test_other_shops_staff_get_404_for_this_shops_product(client, api, shop, product, other_key):
    image_id = _upload(api, _images_url(product), image_upload()).json()["id"]
    for response in (
        client.get(_images_url(product, OTHER_API), headers=bearer(other_key)),
        _upload(client, _images_url(product, OTHER_API), image_upload(), other_key),
        _order(client, product, [image_id], other_key, base=OTHER_API),
        client.delete(f"{_images_url(product, OTHER_API)}/{image_id}", headers=bearer(other_key)),
    ):
        assert response.status_code == 404, response.content
    assert list(product.images.values_list("id", flat=True)) == [image_id]
    # its logo lands on its own shop
    assert _upload(client, f"{OTHER_API}/console/shop/logo", image_upload(), other_key).status_code == 200
    shop.refresh_from_db()
    assert not shop.logo and Shop.objects.get(slug="other").logo
