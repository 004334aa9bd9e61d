from django.urls import reverse

from siyu.catalog.models import Category, Product, ShippingTemplate

from ..factories import CategoryFactory, ShippingTemplateFactory, make_product


def test_category_tree_create_edit_delete(en_client, shop):
    url = reverse("console:categories")
    assert en_client.post(url, {"name": "服装", "parent": "", "position": "1"}).status_code == 302
    top = Category.objects.get(shop=shop, name="服装")
    assert en_client.post(url, {"name": "T恤", "parent": top.pk, "position": "0"}).status_code == 302
    sub = Category.objects.get(shop=shop, name="T恤")
    assert sub.parent_id == top.pk
    page = en_client.get(url).content.decode()
    assert page.index("服装") < page.index("└ T恤")

    edit = reverse("console:category_edit", args=[sub.pk])
    assert en_client.post(edit, {"name": "短袖", "position": "3"}).status_code == 302
    sub.refresh_from_db()
    assert (sub.name, sub.position, sub.is_visible) == ("短袖", 3, False)

    response = en_client.post(reverse("console:category_delete", args=[top.pk]), follow=True)
    assert "Move its products and sub-categories out first." in response.content.decode()
    assert en_client.post(reverse("console:category_delete", args=[sub.pk])).status_code == 302
    assert not Category.objects.filter(pk=sub.pk).exists()


def test_category_errors(en_client, shop):
    url = reverse("console:categories")
    food = CategoryFactory(shop=shop, name="食品")
    CategoryFactory(shop=shop, name="茶", parent=food)
    response = en_client.post(url, {"name": "茶", "parent": food.pk, "position": "0"})
    assert response.status_code == 409
    assert "A category with this name exists here already." in response.content.decode()
    assert en_client.post(url, {"name": "", "position": "-1"}).status_code == 400
    assert Category.objects.filter(shop=shop).count() == 2


def test_shipping_template_crud(en_client, shop):
    url = reverse("console:shipping")
    response = en_client.post(
        url,
        {
            "name": "包邮",
            "base_fee": "8",
            "free_over": "99.00",
            "remote_surcharge": "12.5",
            "remote_provinces": "新疆，西藏、青海",
        },
    )
    assert response.status_code == 302
    template = ShippingTemplate.objects.get(shop=shop)
    assert (
        template.base_fee,
        template.free_over,
        template.remote_surcharge,
        template.remote_provinces,
        template.is_default,
    ) == (800, 9900, 1250, ["新疆", "西藏", "青海"], True)
    page = en_client.get(url).content.decode()
    assert "¥8.00" in page and "¥99.00" in page and "¥12.50" in page and "新疆、西藏、青海" in page

    edit = reverse("console:shipping_edit", args=[template.pk])
    assert 'value="99.00"' in en_client.get(edit).content.decode()
    assert (
        en_client.post(
            edit,
            {"name": "满百包邮", "base_fee": "10", "free_over": "", "remote_surcharge": "", "remote_provinces": ""},
        ).status_code
        == 302
    )
    template.refresh_from_db()
    assert (template.name, template.base_fee, template.free_over, template.remote_provinces) == (
        "满百包邮",
        1000,
        None,
        [],
    )

    make_product(shop, shipping_template=template)
    response = en_client.post(reverse("console:shipping_delete", args=[template.pk]), follow=True)
    assert "Products still use this template." in response.content.decode()
    Product.objects.filter(shop=shop).delete()
    assert en_client.post(reverse("console:shipping_delete", args=[template.pk])).status_code == 302
    assert not ShippingTemplate.objects.filter(pk=template.pk).exists()


def test_shipping_template_bad_money(en_client, shop):
    response = en_client.post(reverse("console:shipping"), {"name": "x", "base_fee": "8.123"})
    assert response.status_code == 400
    assert "Use at most two decimals." in response.content.decode()
    response = en_client.post(reverse("console:shipping"), {"name": "x", "base_fee": "-1"})
    assert response.status_code == 400
    assert not ShippingTemplate.objects.exists()


def test_featured_order_and_clear(en_client, shop):
    a, b, c = (make_product(shop, name=n) for n in "ABC")
    url = reverse("console:featured")
    response = en_client.post(url, {f"pos_{a.public_id}": "2", f"pos_{c.public_id}": "1"})
    assert response.status_code == 302
    got = list(Product.objects.filter(featured_position__isnull=False).order_by("featured_position"))
    assert got == [c, a]
    page = en_client.get(url).content.decode()
    assert page.index("<li>C</li>") < page.index("<li>A</li>")
    assert en_client.post(url, {f"pos_{a.public_id}": ""}).status_code == 302
    assert not Product.objects.filter(featured_position__isnull=False).exists()
    b.refresh_from_db()
    assert b.featured_position is None


def test_featured_more_than_eight_is_refused(en_client, shop):
    products = [make_product(shop, name=f"P{i}") for i in range(9)]
    data = {f"pos_{p.public_id}": str(i + 1) for i, p in enumerate(products)}
    response = en_client.post(reverse("console:featured"), data)
    assert response.status_code == 400
    assert "At most 8 featured products." in response.content.decode()
    assert not Product.objects.filter(featured_position__isnull=False).exists()


def test_featured_keeps_current_ones_outside_a_search(en_client, shop):
    tea = make_product(shop, name="绿茶")
    cake = make_product(shop, name="蛋糕")
    url = reverse("console:featured")
    en_client.post(url, {f"pos_{tea.public_id}": "1"})
    response = en_client.get(url, {"q": "蛋"})
    names = [p.name for _field, p in response.context["form"].rows()]
    assert names == ["绿茶", "蛋糕"]
    en_client.post(url + "?q=蛋", {f"pos_{tea.public_id}": "1", f"pos_{cake.public_id}": "2"})
    assert list(Product.objects.filter(featured_position__isnull=False).order_by("featured_position")) == [tea, cake]


def test_shipping_template_from_factory_lists(staff_client, shop):
    ShippingTemplateFactory(shop=shop, name="顺丰")
    assert "顺丰" in staff_client.get(reverse("console:shipping")).content.decode()
