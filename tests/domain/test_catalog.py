import pytest

from siyu.accounts.roles import SERVICE
from siyu.catalog import services
from siyu.catalog.models import Product, ProductStatus, Sku
from siyu.catalog.shipping import shipping_fee
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

from ..factories import CategoryFactory, ShippingTemplateFactory, image_upload, make_product, make_staff

pytestmark = pytest.mark.django_db


def test_categories_have_two_levels_at_most(shop, owner):
    top = services.category_create(actor=owner, shop=shop, name="零食")
    sub = services.category_create(actor=owner, shop=shop, name="坚果", parent_id=top.pk)
    with pytest.raises(InvalidInput) as exc:
        services.category_create(actor=owner, shop=shop, name="腰果", parent_id=sub.pk)
    assert "two levels" in exc.value.detail["parent"]
    with pytest.raises(Conflict):
        services.category_create(actor=owner, shop=shop, name="坚果", parent_id=top.pk)
    with pytest.raises(NotFound) as missing:  # a parent that is not this shop's is not found, naming the field
        services.category_create(actor=owner, shop=shop, name="腰果", parent_id=top.pk + 1000)
    assert missing.value.detail == {"parent_id": top.pk + 1000}


def test_category_in_use_cannot_be_deleted(shop, owner):
    cat = CategoryFactory(shop=shop)
    make_product(shop, category=cat)
    with pytest.raises(Conflict):
        services.category_delete(actor=owner, category=cat)


def test_product_create_validates_and_uses_shop_defaults(shop, owner):
    shop.default_return_policy = "quality_only"
    template = ShippingTemplateFactory(shop=shop)
    with pytest.raises(InvalidInput) as exc:
        services.product_create(actor=owner, shop=shop, data={"name": "", "price": "-3", "stock": "x"})
    assert set(exc.value.detail) >= {"name", "price", "stock"}
    product = services.product_create(actor=owner, shop=shop, data={"name": "核桃", "price": "25.80", "stock": 3})
    assert product.status == ProductStatus.DRAFT and product.return_policy == "quality_only"
    assert product.shipping_template == template and product.price_min == 2580


def test_spec_matrix_keeps_surviving_skus(shop, owner):
    product = services.product_create(actor=owner, shop=shop, data={"name": "袜子", "price": 990})
    services.product_set_specs(actor=owner, product=product, specs=[{"name": "颜色", "values": ["红", "蓝"]}])
    red = product.skus.get(spec_key="红")
    services.sku_update_many(actor=owner, product=product, rows=[{"id": red.pk, "price": 1290, "stock": 7}])
    services.product_set_specs(actor=owner, product=product, specs=[{"name": "颜色", "values": ["红", "绿"]}])
    red.refresh_from_db()
    assert (red.price, red.stock, red.is_active) == (1290, 7, True)
    assert not product.skus.get(spec_key="蓝").is_active
    product.refresh_from_db()
    assert product.price_min == 990 and product.price_max == 1290


@pytest.mark.parametrize(
    "specs",
    [
        [{"name": "", "values": ["a"]}],
        [{"name": "a", "values": []}],
        [{"name": "a", "values": ["x/y"]}],
        [{"name": "a", "values": ["1"]}, {"name": "a", "values": ["2"]}],
        [{"name": str(i), "values": ["v"]} for i in range(4)],
        "not a list",
    ],
)
def test_bad_specs_are_refused(shop, owner, specs):
    product = services.product_create(actor=owner, shop=shop, data={"name": "x", "price": 100})
    with pytest.raises(InvalidInput):
        services.product_set_specs(actor=owner, product=product, specs=specs)


def test_sku_list_price_below_price_refused(shop, owner, product):
    sku = product.skus.get()
    with pytest.raises(InvalidInput):
        services.sku_update_many(actor=owner, product=product, rows=[{"id": sku.pk, "price": 500, "list_price": 400}])


def test_status_transitions(shop, owner):
    product = services.product_create(actor=owner, shop=shop, data={"name": "x", "price": 0})
    with pytest.raises(Conflict):
        services.product_set_status(actor=owner, product=product, status=ProductStatus.ON_SALE)
    services.sku_update_many(actor=owner, product=product, rows=[{"id": product.skus.get().pk, "price": 100}])
    services.product_set_status(actor=owner, product=product, status=ProductStatus.ON_SALE)
    with pytest.raises(Conflict):
        services.product_set_status(actor=owner, product=product, status=ProductStatus.DRAFT)


def test_featured_at_most_eight_and_on_sale(shop, owner):
    products = [make_product(shop, name=f"p{i}") for i in range(9)]
    with pytest.raises(InvalidInput):
        services.featured_set(actor=owner, shop=shop, product_ids=[p.public_id for p in products])
    draft = make_product(shop, status=ProductStatus.DRAFT)
    with pytest.raises(Conflict) as not_on_sale:
        services.featured_set(actor=owner, shop=shop, product_ids=[draft.public_id])
    assert not_on_sale.value.detail == {"not_on_sale": [draft.public_id]}
    with pytest.raises(NotFound) as missing:
        services.featured_set(actor=owner, shop=shop, product_ids=["nosuchproduct"])
    assert missing.value.detail == {"product_ids": ["nosuchproduct"]}
    services.featured_set(actor=owner, shop=shop, product_ids=[p.public_id for p in products[:8]][::-1])
    assert list(
        Product.objects.filter(featured_position__isnull=False)
        .order_by("featured_position")
        .values_list("name", flat=True)
    ) == [f"p{i}" for i in range(7, -1, -1)]
    services.product_set_status(actor=owner, product=products[0], status=ProductStatus.OFF_SHELF)
    assert Product.objects.filter(featured_position__isnull=False).count() == 7


def test_detail_images_capped_at_nine(shop, owner, product):
    for _ in range(9):
        services.product_add_image(actor=owner, product=product, upload=image_upload())
    with pytest.raises(Conflict):
        services.product_add_image(actor=owner, product=product, upload=image_upload())
    assert product.images.count() == 9


def test_stock_adjust_never_below_zero(shop, owner, product):
    sku = product.skus.get()
    assert services.sku_adjust_stock(actor=owner, sku=sku, delta=-10) == 0
    with pytest.raises(Conflict):
        services.sku_adjust_stock(actor=owner, sku=sku, delta=-1)
    assert Sku.objects.get(pk=sku.pk).stock == 0


def test_customer_service_cannot_edit_catalogue(shop, owner, product):
    agent = make_staff(shop, role=SERVICE)
    with pytest.raises(PermissionDenied):
        services.product_update(actor=agent, product=product, data={"name": "hacked"})


def test_shipping_fee_rules(shop):
    template = ShippingTemplateFactory(shop=shop, base_fee=800, free_over=9900, remote_surcharge=1200)
    assert shipping_fee(template, subtotal=5000, province="浙江省") == 800
    assert shipping_fee(template, subtotal=9900, province="浙江省") == 0
    assert shipping_fee(template, subtotal=9900, province="新疆维吾尔自治区") == 1200
    assert shipping_fee(template, subtotal=100, province="西藏自治区") == 2000
    assert shipping_fee(None, subtotal=100) == 0
