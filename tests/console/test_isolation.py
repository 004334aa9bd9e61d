"""One shop's staff can never see or change another shop's rows through the console."""

import pytest
from django.urls import reverse

from siyu.accounts.models import ApiToken, StaffMember
from siyu.accounts.services import token_issue
from siyu.catalog.models import Category, ProductImage, ShippingTemplate

from ..factories import CategoryFactory, ShippingTemplateFactory, image_upload, make_product


@pytest.fixture
def theirs(other_shop, other_owner):
    product = make_product(other_shop, name="别人的商品")
    image = ProductImage.objects.create(product=product, image="x.jpg", thumb="x.jpg")
    token, _key = token_issue(shop=other_shop, staff=other_owner, name="theirs")
    return {
        "product": product,
        "image": image,
        "category": CategoryFactory(shop=other_shop, name="别人的分类"),
        "template": ShippingTemplateFactory(shop=other_shop, name="别人的运费"),
        "token": token,
        "member": other_owner,
    }


def test_other_shops_product_pages_are_404(staff_client, theirs):
    pid = theirs["product"].public_id
    assert staff_client.get(reverse("console:product_edit", args=[pid])).status_code == 404
    posts = {
        "product_edit": {"name": "mine now", "return_policy": "no_returns"},
        "product_status": {"status": "off_shelf"},
        "product_specs": {"specs": "色: 红"},
        "product_skus": {},
        "product_main_image": {"main-image": image_upload()},
        "product_image_add": {"detail-image": image_upload()},
    }
    for name, data in posts.items():
        assert staff_client.post(reverse(f"console:{name}", args=[pid]), data).status_code == 404, name
    url = reverse("console:product_image_remove", args=[pid, theirs["image"].pk])
    assert staff_client.post(url).status_code == 404
    product = theirs["product"]
    product.refresh_from_db()
    assert (product.name, product.status, product.spec_names) == ("别人的商品", "on_sale", [])
    assert ProductImage.objects.filter(pk=theirs["image"].pk).exists()


def test_other_shops_rows_are_404(staff_client, theirs):
    category, template = theirs["category"], theirs["template"]
    assert staff_client.get(reverse("console:category_edit", args=[category.pk])).status_code == 404
    assert (
        staff_client.post(
            reverse("console:category_edit", args=[category.pk]), {"name": "x", "position": 0}
        ).status_code
        == 404
    )
    assert staff_client.post(reverse("console:category_delete", args=[category.pk])).status_code == 404
    assert staff_client.get(reverse("console:shipping_edit", args=[template.pk])).status_code == 404
    assert staff_client.post(reverse("console:shipping_delete", args=[template.pk])).status_code == 404
    assert (
        staff_client.post(
            reverse("console:staff_update", args=[theirs["member"].pk]), {f"m{theirs['member'].pk}-role": "service"}
        ).status_code
        == 404
    )
    assert staff_client.post(reverse("console:token_revoke", args=[theirs["token"].pk])).status_code == 404
    assert Category.objects.filter(pk=category.pk, name="别人的分类").exists()
    assert ShippingTemplate.objects.filter(pk=template.pk).exists()
    assert StaffMember.objects.get(pk=theirs["member"].pk).role == "owner"
    assert ApiToken.objects.get(pk=theirs["token"].pk).revoked_at is None


def test_lists_show_only_this_shop(staff_client, shop, theirs):
    make_product(shop, name="我的商品")
    for name, hidden in (
        ("products", "别人的商品"),
        ("categories", "别人的分类"),
        ("shipping", "别人的运费"),
        ("staff", "rival"),
        ("featured", "别人的商品"),
    ):
        page = staff_client.get(reverse(f"console:{name}")).content.decode()
        assert hidden not in page, name
    assert "我的商品" in staff_client.get(reverse("console:products")).content.decode()


def test_featured_refuses_other_shops_product(en_client, shop, theirs):
    mine = make_product(shop, name="我的")
    data = {f"pos_{mine.public_id}": "1", f"pos_{theirs['product'].public_id}": "2"}
    en_client.post(reverse("console:featured"), data)
    theirs["product"].refresh_from_db()
    assert theirs["product"].featured_position is None
