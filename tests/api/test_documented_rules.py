"""The OpenAPI document states the rules the services keep, so clients (and the fuzz gate) can send
valid input: these tests hold the document's tables to the services' own."""

import json

import pytest

from siyu.api.console_schemas import ReturnPolicyName
from siyu.api.rules_schema import CONDITIONS, RULES_COMPONENTS
from siyu.catalog.models import ReturnPolicy
from siyu.customers.segments import FIELDS

API = "/api/v1"
pytestmark = pytest.mark.django_db


def test_the_rules_tree_names_every_field_and_operator_the_service_knows():
    documented = {(field, op) for field, shapes in CONDITIONS.items() for ops, _value in shapes for op in ops}
    assert documented == {(field, op) for field, ops in FIELDS.items() for op in ops}


def test_return_policies_are_the_catalogues():
    assert set(ReturnPolicyName.__args__) == set(ReturnPolicy.values)


def test_the_document_refers_to_the_rules_tree(client, shop):
    doc = json.loads(client.get(f"{API}/openapi.json").content)
    schemas = doc["components"]["schemas"]
    assert set(RULES_COMPONENTS) <= set(schemas)
    assert schemas["SegmentIn"]["properties"]["rules"]["$ref"] == "#/components/schemas/SegmentRules"
    assert "x-siyu-component" not in json.dumps(doc)


def _post(client, url, body, key):
    return client.post(url, json.dumps(body), content_type="application/json", headers={"Authorization": key})


def test_whole_numbers_written_as_floats_are_numbers(client, owner_key):
    """JSON has one number type: 5.0 is 5, as JSON Schema's "integer" says."""
    rules = {"all": [{"field": "order_count", "op": ">=", "value": 1.0}]}
    response = _post(client, f"{API}/console/segments/preview", {"rules": rules}, f"Bearer {owner_key}")
    assert response.status_code == 200, response.content
    fraction = {"all": [{"field": "order_count", "op": ">=", "value": 1.5}]}
    refused = _post(client, f"{API}/console/segments/preview", {"rules": fraction}, f"Bearer {owner_key}")
    assert refused.status_code == 400 and refused.json()["detail"]["path"] == "all.0.value"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/console/categories", {"name": "   "}, "name"),
        ("/console/products", {"name": "鞋", "return_policy": "whatever"}, "return_policy"),
        ("/console/tags", {"name": " \u3000 "}, "name"),
        ("/console/distribution/commission-rules", {"product_id": 1, "tier": 3, "rate_bp": 100}, "tier"),
    ],
)
def test_documented_rules_are_refused_naming_the_field(client, owner_key, url, body, field):
    response = _post(client, f"{API}{url}", body, f"Bearer {owner_key}")
    assert response.status_code == 400
    assert {e["loc"][-1] for e in response.json()["detail"]["errors"]} == {field}


def test_a_referenced_row_that_is_not_this_shops_is_not_found(client, owner_key):
    key = f"Bearer {owner_key}"
    parent = _post(client, f"{API}/console/categories", {"name": "子类", "parent_id": 999999}, key)
    assert parent.status_code == 404 and parent.json() | {"request_id": ""} == {
        "code": "not_found",
        "message": parent.json()["message"],
        "detail": {"parent_id": 999999},
        "request_id": "",
    }
    product = _post(client, f"{API}/console/products", {"name": "鞋", "shipping_template_id": 999999}, key)
    assert product.status_code == 404 and product.json()["detail"] == {"shipping_template_id": 999999}
    account = _post(client, f"{API}/console/social-accounts", {"name": "客服号", "owner_id": 999999}, key)
    assert account.status_code == 404 and account.json()["detail"] == {"owner_id": 999999}


@pytest.mark.parametrize(
    "phone", ["13800138000", "+86 138-0013-8000", "12800138000", "1380013800", "１３８００１３８０００", "١٣٨٠٠١٣٨٠٠٠"]
)
def test_the_services_phone_rule_is_the_documented_one(phone):
    """Every door normalises phones through phone_normalize; what it takes, once spaces, dashes and
    +86 are gone, is what the document's Phone pattern admits: ASCII digits, never another script's."""
    import re

    from pydantic import TypeAdapter, ValidationError

    from siyu.accounts.services import phone_normalize
    from siyu.api.schemas import Phone
    from siyu.core.errors import InvalidInput

    bare = re.sub(r"[\s-]", "", phone).removeprefix("+86")
    try:
        documented = TypeAdapter(Phone).validate_python(bare) == bare
    except ValidationError:
        documented = False
    try:
        accepted = phone_normalize(phone) == bare
    except InvalidInput:
        accepted = False
    assert accepted == documented
