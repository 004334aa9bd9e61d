import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from siyu.catalog.models import Product, ProductImage, Sku

from ..factories import CategoryFactory, ShippingTemplateFactory, image_upload, make_product


def edit_url(product, name="product_edit", *extra):
    return reverse(f"console:{name}", args=[product.public_id, *extra])


def test_create_specs_and_sku_flow(en_client, shop):
    shoes = CategoryFactory(shop=shop, name="鞋")
    response = en_client.post(
        reverse("console:product_create"), {"name": "跑鞋", "category": shoes.pk, "price": "199.00", "stock": "5"}
    )
    assert response.status_code == 302
    product = Product.objects.get(shop=shop, name="跑鞋")
    assert response.url == edit_url(product)
    assert (product.status, product.category_id, product.price_min) == ("draft", shoes.pk, 19900)

    response = en_client.post(edit_url(product, "product_specs"), {"specs": "颜色: 红, 蓝\n尺码：40，41，42"})
    assert response.status_code == 302
    skus = list(Sku.objects.filter(product=product, is_active=True))
    assert sorted(s.spec_key for s in skus) == sorted(f"{c}/{n}" for c in "红蓝" for n in ("40", "41", "42"))
    page = en_client.get(edit_url(product)).content.decode()
    assert "颜色: 红, 蓝" in page and "尺码: 40, 41, 42" in page

    data = {}
    for sku in Sku.objects.filter(product=product):
        prefix = f"sku{sku.pk}-"
        data.update(
            {
                prefix + "price": "219.5",
                prefix + "list_price": "299",
                prefix + "cost_price": "80.00",
                prefix + "stock": "7",
                prefix + "code": f"RUN-{sku.pk}",
            }
        )
        if sku.is_active:
            data[prefix + "is_active"] = "on"
    response = en_client.post(edit_url(product, "product_skus"), data)
    assert response.status_code == 302
    red_40 = Sku.objects.get(product=product, spec_key="红/40")
    assert (red_40.price, red_40.list_price, red_40.cost_price, red_40.stock) == (21950, 29900, 8000, 7)
    product.refresh_from_db()
    assert (product.price_min, product.price_max) == (21950, 21950)

    response = en_client.post(edit_url(product, "product_status"), {"status": "on_sale"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.status == "on_sale"
    page = en_client.get(edit_url(product)).content.decode()
    assert "The status is now: On sale." in page
    assert "80.00" in page  # cost price is shown to staff


def test_sku_errors_are_shown_per_row(en_client, product):
    sku = product.skus.get()
    prefix = f"sku{sku.pk}-"
    response = en_client.post(
        edit_url(product, "product_skus"),
        {prefix + "price": "20", prefix + "list_price": "10", prefix + "stock": "3", prefix + "is_active": "on"},
    )
    assert response.status_code == 400
    assert "The list price must not be below the price." in response.content.decode()
    sku.refresh_from_db()
    assert sku.stock == 10

    response = en_client.post(
        edit_url(product, "product_skus"), {prefix + "price": "abc", prefix + "stock": "3", prefix + "is_active": "on"}
    )
    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()


def test_bad_specs_are_refused(en_client, product):
    response = en_client.post(edit_url(product, "product_specs"), {"specs": "颜色 红 蓝"})
    assert response.status_code == 400
    assert "Line 1 needs a name, a colon and values." in response.content.decode()
    four = "\n".join(f"s{i}: a, b" for i in range(4))
    response = en_client.post(edit_url(product, "product_specs"), {"specs": four})
    assert response.status_code == 400
    product.refresh_from_db()
    assert product.spec_names == []


def test_edit_main_fields(en_client, shop, product):
    template = ShippingTemplateFactory(shop=shop)
    response = en_client.post(
        edit_url(product),
        {
            "name": "新名字",
            "category": "",
            "shipping_template": template.pk,
            "selling_points": "好看\n\n耐穿\n",
            "description": "说明",
            "return_policy": "exchange_only",
            "consumption_cycle_days": "30",
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (
        product.name,
        product.shipping_template_id,
        product.selling_points,
        product.return_policy,
        product.consumption_cycle_days,
    ) == ("新名字", template.pk, ["好看", "耐穿"], "exchange_only", 30)


def test_edit_shows_service_errors(en_client, product):
    response = en_client.post(
        edit_url(product),
        {"name": "x", "selling_points": "\n".join(f"point {i}" for i in range(6)), "return_policy": "no_returns"},
    )
    assert response.status_code == 400
    assert "Please check the product." in response.content.decode()
    product.refresh_from_db()
    assert product.name == "测试商品"


def test_status_change_refused_with_message(en_client, shop):
    product = make_product(shop, price=0, status="draft")
    response = en_client.post(edit_url(product, "product_status"), {"status": "on_sale"}, follow=True)
    assert "Give at least one SKU a price" in response.content.decode()
    product.refresh_from_db()
    assert product.status == "draft"


def test_main_and_detail_images(en_client, product):
    response = en_client.post(edit_url(product, "product_main_image"), {"main-image": image_upload()})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.main_image and product.main_thumb
    for _ in range(9):
        assert (
            en_client.post(edit_url(product, "product_image_add"), {"detail-image": image_upload()}).status_code == 302
        )
    response = en_client.post(edit_url(product, "product_image_add"), {"detail-image": image_upload()})
    assert response.status_code == 409
    assert "at most 9 detail images" in response.content.decode()
    image = ProductImage.objects.filter(product=product).first()
    assert en_client.post(edit_url(product, "product_image_remove", image.pk)).status_code == 302
    assert product.images.count() == 8


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png"),
        SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg"),
        image_upload("tiny.png", size=(10, 10)),
        image_upload("p.gif", fmt="GIF"),
    ],
)
def test_bad_uploads_are_form_errors(en_client, product, upload):
    response = en_client.post(edit_url(product, "product_main_image"), {"main-image": upload})
    assert response.status_code == 400
    assert 'class="form-errors"' in response.content.decode() or 'class="error"' in response.content.decode()
    product.refresh_from_db()
    assert not product.main_image


def test_huge_upload_is_refused(en_client, product, settings):
    blob = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"0" * (8 * 1024 * 1024 + 10), content_type="image/jpeg")
    response = en_client.post(edit_url(product, "product_image_add"), {"detail-image": blob})
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert not product.images.exists()


def test_service_role_cannot_edit_products(service_client, product):
    assert service_client.get(edit_url(product)).status_code == 200
    response = service_client.post(edit_url(product), {"name": "hacked", "return_policy": "no_returns"})
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    for name, data in (
        ("product_status", {"status": "off_shelf"}),
        ("product_specs", {"specs": "a: b"}),
        ("product_main_image", {"main-image": image_upload()}),
    ):
        assert service_client.post(edit_url(product, name), data).status_code == 403
    product.refresh_from_db()
    assert (product.name, product.status, product.spec_names) == ("测试商品", "on_sale", [])


def test_list_filters(staff_client, shop):
    food = CategoryFactory(shop=shop, name="食品")
    tea = CategoryFactory(shop=shop, name="茶", parent=food)
    make_product(shop, name="龙井", category=tea)
    make_product(shop, name="饼干", category=food, status="draft")
    make_product(shop, name="毛巾")
    url = reverse("console:products")

    def names(**params):
        return sorted(p.name for p in staff_client.get(url, params).context["page_obj"].object_list)

    assert names() == ["毛巾", "饼干", "龙井"]
    assert names(category=food.pk) == ["饼干", "龙井"]
    assert names(category=food.pk, status="on_sale") == ["龙井"]
    assert names(q="毛") == ["毛巾"]
    assert names(status="bogus") == ["毛巾", "饼干", "龙井"]


def test_list_pages(staff_client, shop):
    for i in range(25):
        make_product(shop, name=f"P{i:02d}")
    url = reverse("console:products")
    first = staff_client.get(url)
    assert len(first.context["page_obj"].object_list) == 20
    second = staff_client.get(url, {"page": "2"})
    assert [p.name for p in second.context["page_obj"].object_list] == [f"P{i:02d}" for i in range(4, -1, -1)]
    assert staff_client.get(url, {"page": "999"}).status_code == 200


def test_edit_page_query_count(staff_client, product, django_assert_num_queries):
    # shop, user, staff, product, its SKUs, its images, category tree, shipping templates
    with django_assert_num_queries(8):
        assert staff_client.get(edit_url(product)).status_code == 200
