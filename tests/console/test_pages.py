import pytest
from django.urls import reverse

from siyu.catalog.models import Category, ShippingTemplate

from ..factories import CategoryFactory, ShippingTemplateFactory, make_product, make_staff


@pytest.fixture
def filled_shop(shop, owner, product):
    top = CategoryFactory(shop=shop, name="服装")
    CategoryFactory(shop=shop, name="T恤", parent=top)
    ShippingTemplateFactory(shop=shop)
    return shop


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "shop_profile",
        "return_policies",
        "staff",
        "tokens",
        "categories",
        "shipping",
        "featured",
        "products",
        "product_create",
    ],
)
def test_each_page_renders(staff_client, filled_shop, name):
    response = staff_client.get(reverse(f"console:{name}"))
    assert response.status_code == 200
    assert b"console.css" in response.content


def test_detail_pages_render(staff_client, filled_shop, product):
    category = Category.objects.get(name="T恤")
    template = ShippingTemplate.objects.get(shop=filled_shop)
    for url in (
        reverse("console:product_edit", args=[product.public_id]),
        reverse("console:category_edit", args=[category.pk]),
        reverse("console:shipping_edit", args=[template.pk]),
    ):
        assert staff_client.get(url).status_code == 200, url


def test_dashboard_shows_real_counts(en_client, shop, owner):
    make_product(shop, name="A")
    make_product(shop, name="B", stock=0)
    make_product(shop, name="C", status="draft")
    make_staff(shop, role="service", username="kefu1")
    response = en_client.get(reverse("console:home"))
    counts = response.context["counts"]
    assert (counts["products"], counts["on_sale"], counts["draft"], counts["skus_sold_out"]) == (3, 2, 1, 1)
    assert response.context["staff_active"] == 2


def _dashboard_queries(client, django_assert_num_queries, n):
    # shop, user, staff, staff list, 3 catalogue counts, 2 order counts, paid today, customer counts,
    # and the analytics charts: the 30-day trend (2) and funnel (2)
    with django_assert_num_queries(n):
        assert client.get(reverse("console:home")).status_code == 200


def test_dashboard_query_count_is_fixed(staff_client, shop, django_assert_num_queries):
    _dashboard_queries(staff_client, django_assert_num_queries, 15)
    for i in range(5):
        make_product(shop, name=f"P{i}")
        make_staff(shop, role="operator", username=f"ops{i}")
    _dashboard_queries(staff_client, django_assert_num_queries, 15)


def test_product_list_query_count_is_fixed(staff_client, shop, django_assert_num_queries):
    top = CategoryFactory(shop=shop, name="食品")
    for i in range(3):
        make_product(shop, name=f"P{i}", category=top)
    url = reverse("console:products")
    # shop, user, staff, category tree, page count, page rows
    with django_assert_num_queries(6):
        assert staff_client.get(url).status_code == 200
    for i in range(40):
        make_product(shop, name=f"Q{i}", category=top)
    with django_assert_num_queries(6):
        response = staff_client.get(url, {"page": 2, "category": top.pk, "status": "on_sale"})
    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == 20


# shop, user and staff come first on every console page; the rest is what the page itself reads.
PAGE_QUERIES = {
    "shop_profile": 3,
    "return_policies": 4,  # + products per policy
    "staff": 4,  # + staff with users
    "tokens": 4,  # + my tokens
    "categories": 4,  # + the tree
    "shipping": 4,  # + templates
    "featured": 5,  # + featured, + candidates
    "product_create": 4,  # + the tree for the select
}


@pytest.mark.parametrize("name", sorted(PAGE_QUERIES))
def test_page_query_counts_do_not_grow(staff_client, shop, owner, name, django_assert_num_queries):
    url = reverse(f"console:{name}")
    with django_assert_num_queries(PAGE_QUERIES[name]):
        assert staff_client.get(url).status_code == 200
    for i in range(6):
        top = CategoryFactory(shop=shop, name=f"c{i}")
        CategoryFactory(shop=shop, name=f"s{i}", parent=top)
        ShippingTemplateFactory(shop=shop, name=f"t{i}")
        make_product(shop, name=f"p{i}", category=top, featured_position=i + 1)
        make_staff(shop, role="service", username=f"kefu{i}")
    with django_assert_num_queries(PAGE_QUERIES[name]):
        assert staff_client.get(url).status_code == 200


def test_edit_pages_query_counts(staff_client, shop, django_assert_num_queries):
    top = CategoryFactory(shop=shop, name="c")
    template = ShippingTemplateFactory(shop=shop)
    # shop, user, staff, the row
    with django_assert_num_queries(4):
        assert staff_client.get(reverse("console:category_edit", args=[top.pk])).status_code == 200
    with django_assert_num_queries(4):
        assert staff_client.get(reverse("console:shipping_edit", args=[template.pk])).status_code == 200


def test_login_page_query_count(client, shop, django_assert_num_queries):
    with django_assert_num_queries(1):  # the shop
        assert client.get(reverse("console:login")).status_code == 200
