"""The API fuzz gate: schemathesis generates requests from the live OpenAPI document
(/api/v1/openapi.json) for every operation, valid and invalid, with a shopper token on the
storefront and a staff token on the console, and checks every answer: never a 5xx, only documented
status codes and content types, bodies that match their documented schema, valid input accepted
(or refused for a documented business reason: 401/403/404/409/429) and invalid input refused.

Bounded to stay cheap on two cores and deterministic: a fixed number of examples per operation and
mode, derandomised generation, no shrinking, no example database. Set SIYU_FUZZ_EXAMPLES to dig
deeper locally.
"""

import os
from collections import defaultdict

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks

from siyu.accounts.services import token_issue
from siyu.customers.segments import MAX_CONDITIONS

from ..factories import make_product

pytestmark = pytest.mark.django_db(transaction=False)

# Files whose content no schema can describe (a CSV of orders, an image): the generator sends random
# bytes, which these operations refuse with 400 naming the file. Only that one refusal of valid-looking
# input is excused, only on these operations; anything else they answer is checked like the rest.
FILE_CONTENT_REFUSALS = {
    # (and its optional column mapping, which names columns of the file)
    "POST /api/v1/console/customers/imports": (
        "import_encoding",
        "import_empty",
        "import_format",
        "import_columns",
        "import_layout",
        "import_mapping",
        "invalid_input",
    ),
    "POST /api/v1/console/channels/addresses-import": ("import_encoding", "import_columns", "import_format"),
    "POST /api/v1/console/orders/ship-batch": ("invalid_input",),
    "POST /api/v1/console/shop/banner": ("invalid_input",),
    "POST /api/v1/console/shop/logo": ("invalid_input",),
    "POST /api/v1/console/content/posts": ("bad_image",),
    "POST /api/v1/console/content/posts/{code}/images": ("bad_image",),
    "POST /api/v1/console/content/personas": ("bad_image",),
    "POST /api/v1/console/content/personas/{persona_id}": ("bad_image",),
}
# What a refusal's detail may name to be about the file ("index": which of several files).
FILE_FIELDS = {"file", "banner", "logo", "image", "images", "avatar", "index", "mapping"}
# Refusals that depend on data no schema can carry, on these operations alone: places are checked against
# the packaged region list (couriers and remote postage read the names) and a keeper must be a shopper who
# has signed in; a random value is refused with 400 naming only those fields, for those reasons.
DATA_CHECKED = {"POST /api/v1/console/pickup/points", "PUT /api/v1/console/pickup/points/{point_id}"}
DATA_REASONS = {
    "province": "not in the region list",
    "city": "not in the region list",
    "district": "not in the region list",
    "keeper_phone": "no shopper has signed in with this number",
}
EXAMPLES = int(os.environ.get("SIYU_FUZZ_EXAMPLES", "3"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.positive_data_acceptance,
]


def _file_refused(name: str, response, found: list[str]) -> bool:
    codes = FILE_CONTENT_REFUSALS.get(name)
    if codes is None or response.status_code != 400 or not all("ST202" in f for f in found):
        return False
    body = response.json()
    detail = body["detail"]
    about_the_file = isinstance(detail, dict) and set(detail) <= FILE_FIELDS
    return body["code"] in codes and (body["code"].startswith("import_") or about_the_file)


def _data_refused(name: str, response, found: list[str]) -> bool:
    codes = [f.split()[1] for f in found if f.startswith("- ST")]
    if name not in DATA_CHECKED or response.status_code != 400 or codes != ["ST202"] * len(codes):
        return False
    detail = response.json()["detail"]
    return isinstance(detail, dict) and bool(detail) and all(DATA_REASONS.get(k) == v for k, v in detail.items())


def _credentials_as_worded(body) -> None:
    """The channel settings document says in words which credential names each channel takes (a
    schema per channel would be a union the generator cannot aim): valid requests keep to them."""
    from siyu.campaigns.channels.config import CREDENTIAL_KEYS

    for item in body.get("channels", []) if isinstance(body, dict) else []:
        creds = item.get("credentials") if isinstance(item, dict) else None
        if isinstance(creds, dict):
            allowed = CREDENTIAL_KEYS.get(item.get("channel"), ())
            item["credentials"] = {k: v for k, v in creds.items() if k in allowed}


def _untyped_form(case, mode: GenerationMode, found: list[str]) -> bool:
    """A multipart form carries text only, and like a browser's form its unknown parts are ignored: a
    "negative" case that changes a field's type (a number where text is expected) or adds a part reaches
    the server as a valid form. Accepting one is excused there and nowhere else; every other check (no
    500, the documented statuses and bodies) still runs on multipart operations."""
    multipart = str(getattr(case, "media_type", "") or "").startswith("multipart/")
    codes = [f.split()[1] for f in found if f.startswith("- ST")]
    return mode is GenerationMode.NEGATIVE and multipart and codes == ["ST201"] * len(codes) and bool(codes)


def _rules_as_worded(node, counted: list[int] | None = None) -> None:
    """The two rules of segment rules that JSON Schema cannot state, which the document says in
    words: a `between` pair is [low, high] with low not above high, and a rule set has at most
    MAX_CONDITIONS conditions in all. Valid requests are made to keep them."""
    counted = [0] if counted is None else counted
    if isinstance(node, dict):
        value = node.get("value")
        if node.get("op") == "between" and isinstance(value, list) and len(value) == 2:
            node["value"] = sorted(value, key=float)
        for child in node.values():
            _rules_as_worded(child, counted)
    elif isinstance(node, list):
        for item in list(node):
            if isinstance(item, dict) and "field" in item:
                if counted[0] == MAX_CONDITIONS:
                    node.remove(item)
                    continue
                counted[0] += 1
            _rules_as_worded(item, counted)


def _run(operation, mode: GenerationMode, headers: dict, failures: dict) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    def probe(case):
        if mode is GenerationMode.POSITIVE:
            _rules_as_worded(case.body)
            _credentials_as_worded(case.body)
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as exc:
            name = f"{operation.method.upper()} {operation.path}"
            found = [line.strip() for line in str(exc).splitlines() if line.strip().startswith("- ")]
            if _file_refused(name, response, found) or _data_refused(name, response, found):
                return
            if _untyped_form(case, mode, found):
                return
            key = f"{name} [{mode.value}]"
            failures[key].append(f"{response.status_code} {' '.join(found)}: {response.text[:300]}")

    try:
        probe()
    except Unsatisfiable:
        pass  # nothing to make invalid: an operation without parameters or body has no negative cases


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, kept from closing the test's database connection after each
    request (as Django's own test client does)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def keys(shop, owner, shopper):
    make_product(shop, name="测试商品", price=5000, stock=10)
    staff = token_issue(shop=shop, staff=owner, name="fuzz")[1]
    buyer = token_issue(shop=shop, shopper=shopper, name="fuzz")[1]
    return {"console": f"Bearer {staff}", "storefront": f"Bearer {buyer}"}


@pytest.mark.parametrize("area", ["storefront", "console"])
def test_fuzz_the_api(area, keys, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    failures: dict[str, list[str]] = defaultdict(list)
    operations = [r.ok() for r in schema.get_all_operations() if f"/{area}/" in r.ok().path]
    assert operations
    headers = {"Authorization": keys[area]}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, headers, failures)
    report = "\n".join(f"{key}: {found[0]} (x{len(found)})" for key, found in sorted(failures.items()))
    assert not failures, f"{len(failures)} operations misbehaved:\n{report}"
