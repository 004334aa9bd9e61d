from siyu.accounts.models import ApiToken
from siyu.accounts.roles import OPERATOR
from siyu.catalog.models import Product, ShippingTemplate, Sku

from ..factories import CategoryFactory, image_upload, make_product, make_staff
from .conftest import API, bearer

C = f"{API}/console"


def _json(api, method, url, payload):
    return getattr(api, method)(url, payload, content_type="application/json")


def test_shop_profile_and_dashboard(api, shop, product):
    assert api.get(f"{C}/shop").json()["slug"] == "main"
    changed = _json(api, "patch", f"{C}/shop", {"slogan": "每天上新", "default_return_policy": "quality_only"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["slogan"] == "每天上新" and changed.json()["default_return_policy"] == "quality_only"
    shop.refresh_from_db()
    assert shop.slogan == "每天上新" and shop.name == "私域优选"
    counts = api.get(f"{C}/dashboard").json()
    assert counts == {"products": 1, "on_sale": 1, "draft": 0, "off_shelf": 0, "skus_sold_out": 0, "categories": 0}


def test_categories_crud(api, shop):
    top = _json(api, "post", f"{C}/categories", {"name": "水果"})
    assert top.status_code == 201
    top_id = top.json()["id"]
    sub = _json(api, "post", f"{C}/categories", {"name": "苹果", "parent_id": top_id}).json()
    assert sub["parent_id"] == top_id
    deeper = _json(api, "post", f"{C}/categories", {"name": "红富士", "parent_id": sub["id"]})
    assert deeper.status_code == 400 and deeper.json()["detail"] == {"parent": "categories have two levels at most"}
    dup = _json(api, "post", f"{C}/categories", {"name": "苹果", "parent_id": top_id})
    assert dup.status_code == 409 and dup.json()["code"] == "conflict"
    hidden = _json(api, "patch", f"{C}/categories/{sub['id']}", {"is_visible": False}).json()
    assert hidden["is_visible"] is False and hidden["name"] == "苹果"
    tree = api.get(f"{C}/categories").json()
    assert [(c["name"], [s["name"] for s in c["children"]]) for c in tree] == [("水果", ["苹果"])]
    in_use = api.delete(f"{C}/categories/{top_id}")
    assert in_use.status_code == 409 and in_use.json()["code"] == "category_in_use"
    assert api.delete(f"{C}/categories/{sub['id']}").status_code == 204
    assert api.delete(f"{C}/categories/{top_id}").status_code == 204
    assert api.get(f"{C}/categories").json() == []


def test_shipping_templates_crud(api, shop):
    created = _json(
        api, "post", f"{C}/shipping-templates", {"name": "包邮", "base_fee_fen": 800, "free_over_fen": 9900}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["base_fee_fen"] == 800 and body["free_over_fen"] == 9900 and body["is_default"] is True
    assert "新疆" in body["remote_provinces"]
    url = f"{C}/shipping-templates/{body['id']}"
    changed = _json(api, "patch", url, {"base_fee_fen": 1000}).json()
    assert (changed["base_fee_fen"], changed["free_over_fen"], changed["is_default"]) == (1000, 9900, True)
    never_free = _json(api, "patch", url, {"free_over_fen": None}).json()
    assert never_free["free_over_fen"] is None and never_free["base_fee_fen"] == 1000
    assert [t["name"] for t in api.get(f"{C}/shipping-templates").json()] == ["包邮"]
    assert api.delete(url).status_code == 204
    assert not ShippingTemplate.objects.exists()


def test_product_lifecycle(api, shop):
    category = CategoryFactory(shop=shop, name="服饰")
    created = _json(
        api,
        "post",
        f"{C}/products",
        {"name": "T恤", "price_fen": 5900, "stock": 5, "category_id": category.pk, "selling_points": ["纯棉"]},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    pid = body["public_id"]
    assert body["status"] == "draft" and body["price_min_fen"] == 5900 and body["selling_points"] == ["纯棉"]
    assert body["skus"][0]["stock"] == 5

    patched = _json(api, "patch", f"{C}/products/{pid}", {"description": "夏季款", "category_id": None}).json()
    assert patched["description"] == "夏季款" and patched["category_id"] is None and patched["name"] == "T恤"

    skus = _json(
        api,
        "put",
        f"{C}/products/{pid}/specs",
        {"specs": [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["S", "M"]}]},
    )
    assert skus.status_code == 200, skus.content
    matrix = {s["spec_key"]: s for s in skus.json()}
    assert set(matrix) == {"红/S", "红/M", "蓝/S", "蓝/M"}

    rows = [
        {"id": matrix["红/S"]["id"], "price_fen": 6900, "cost_price_fen": 3000, "stock": 7},
        {"id": matrix["蓝/M"]["id"], "is_active": False},
    ]
    updated = _json(api, "patch", f"{C}/products/{pid}/skus", {"skus": rows})
    assert updated.status_code == 200, updated.content
    red_s = next(s for s in updated.json() if s["spec_key"] == "红/S")
    assert (red_s["price_fen"], red_s["cost_price_fen"], red_s["stock"]) == (6900, 3000, 7)
    bad_list_price = _json(
        api, "patch", f"{C}/products/{pid}/skus", {"skus": [{"id": red_s["id"], "list_price_fen": 100}]}
    )
    assert bad_list_price.status_code == 400

    stock = _json(api, "post", f"{C}/products/{pid}/skus/{red_s['id']}/stock", {"delta": -2, "reason": "盘点"})
    assert stock.json() == {"sku_id": red_s["id"], "stock": 5}
    too_many = _json(api, "post", f"{C}/products/{pid}/skus/{red_s['id']}/stock", {"delta": -6})
    assert too_many.status_code == 409 and too_many.json()["code"] == "insufficient_stock"
    assert Sku.objects.get(pk=red_s["id"]).stock == 5

    on_sale = _json(api, "post", f"{C}/products/{pid}/status", {"status": "on_sale"})
    assert on_sale.status_code == 200 and on_sale.json()["status"] == "on_sale"
    detail = api.get(f"{C}/products/{pid}").json()
    assert detail["price_max_fen"] == 6900 and detail["spec_names"] == ["颜色", "尺码"]

    image = api.post(f"{C}/products/{pid}/main-image", {"image": image_upload()})
    assert image.status_code == 200, image.content
    assert image.json()["main_image_url"].startswith("http://testserver/media/products/")
    assert Product.objects.get(public_id=pid).main_thumb


def test_product_list_filters(api, shop):
    shirts = CategoryFactory(shop=shop, name="衣服")
    make_product(shop, name="衬衫", category=shirts)
    make_product(shop, name="草稿衬衫", status="draft", category=shirts)
    make_product(shop, name="帽子", status="off_shelf")
    names = lambda r: sorted(p["name"] for p in r.json()["items"])  # noqa: E731
    assert names(api.get(f"{C}/products")) == ["帽子", "草稿衬衫", "衬衫"]
    assert names(api.get(f"{C}/products?status=draft")) == ["草稿衬衫"]
    assert names(api.get(f"{C}/products?category={shirts.pk}&q=草稿")) == ["草稿衬衫"]
    row = api.get(f"{C}/products?q=帽子").json()["items"][0]
    assert row["stock_total"] == 10 and row["category"] is None


def test_featured(api, shop):
    first, second = make_product(shop, name="一"), make_product(shop, name="二")
    draft = make_product(shop, name="草稿", status="draft")
    put = _json(api, "put", f"{C}/featured", {"product_ids": [second.public_id, first.public_id]})
    assert [p["name"] for p in put.json()] == ["二", "一"]
    assert [p["name"] for p in api.get(f"{C}/featured").json()] == ["二", "一"]
    refused = _json(api, "put", f"{C}/featured", {"product_ids": [draft.public_id]})
    assert refused.status_code == 409 and refused.json()["detail"]["not_on_sale"] == [draft.public_id]
    missing = _json(api, "put", f"{C}/featured", {"product_ids": [first.public_id, "nosuchproduct"]})
    assert missing.status_code == 404 and missing.json()["detail"] == {"product_ids": ["nosuchproduct"]}
    assert [p["name"] for p in api.get(f"{C}/featured").json()] == ["二", "一"]  # nothing changed


def test_staff_list(api, shop, owner):
    make_staff(shop, role=OPERATOR, username="op1")
    staff = api.get(f"{C}/staff").json()
    assert [(s["username"], s["role"]) for s in staff] == [("boss", "owner"), ("op1", "operator")]


def test_tokens_are_shown_once_and_can_be_revoked(api, client, shop, owner):
    created = _json(api, "post", f"{C}/tokens", {"name": "ERP"})
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith("sy_") and key.startswith(body["prefix"])
    listed = api.get(f"{C}/tokens").json()
    assert {t["name"] for t in listed} == {"ERP", "test"} and all("key" not in t for t in listed)
    assert key not in api.get(f"{C}/tokens").content.decode()
    assert ApiToken.objects.filter(key_hash__contains=key).count() == 0  # only the hash is stored
    assert client.get(f"{C}/dashboard", headers=bearer(key)).status_code == 200
    assert api.delete(f"{C}/tokens/{body['id']}").status_code == 204
    assert client.get(f"{C}/dashboard", headers=bearer(key)).status_code == 401
    assert api.delete(f"{C}/tokens/{body['id'] + 1000}").status_code == 404
