import json
import re

from .conftest import API


def test_openapi_document_lists_both_routers(client, shop):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = json.loads(response.content)
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["version"] == "1"
    paths = doc["paths"]
    assert f"{API}/storefront/products" in paths
    assert f"{API}/storefront/products/{{public_id}}" in paths
    assert f"{API}/console/products" in paths
    assert f"{API}/console/products/{{public_id}}/specs" in paths
    # every operation documents its error body
    assert set(doc["components"]["schemas"]["ErrorOut"]["required"]) == {"code", "message", "detail", "request_id"}
    assert {"StaffToken", "StaffSession", "ShopperToken", "ShopperSession"} <= set(doc["components"]["securitySchemes"])
    assert {"StaffToken": []} in paths[f"{API}/console/products"]["get"]["security"]
    assert "security" not in paths[f"{API}/storefront/products"]["get"]


def test_openapi_has_no_cost_price_for_shoppers(client, shop):
    doc = client.get(f"{API}/openapi.json").json()
    sku = doc["components"]["schemas"]["SkuOut"]["properties"]
    assert "cost_price_fen" not in sku and "price_fen" in sku


def test_docs_page_uses_bundled_assets_only(client, shop):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html and "/static/ninja/" in html
    assert not re.search(r"https?://", html), "the docs page must not load anything from another host"
    assert f"{API}/openapi.json" in html


def test_docs_static_file_is_served(client, shop, settings):
    from django.contrib.staticfiles import finders

    assert finders.find("ninja/swagger-ui-bundle.js")
    assert finders.find("ninja/swagger-ui.css")


def test_docs_on_another_shop_read_that_shops_document(client, shop, other_shop):
    html = client.get("/s/other/api/docs").content.decode()
    assert "/s/other/api/v1/openapi.json" in html
    doc = client.get("/s/other/api/v1/openapi.json").json()
    assert "/s/other/api/v1/console/products" in doc["paths"]
