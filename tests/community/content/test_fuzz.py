"""The API fuzz gate (tests/fuzz/test_api_fuzz.py) run on the content operations alone, with a post
and a persona in place so that their own paths are found as well as refused."""

from collections import defaultdict

import schemathesis
from schemathesis import GenerationMode

from siyu.community.content.services import persona_create

from ...fuzz.test_api_fuzz import _run, keys, wsgi_app  # noqa: F401 - fixtures
from .conftest import make_post


def test_fuzz_content_operations(keys, wsgi_app, shop, owner):  # noqa: F811
    make_post(shop, owner)
    persona_create(actor=owner, shop=shop, data={"name": "小美"})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    operations = [r.ok() for r in schema.get_all_operations() if "/content/" in r.ok().path]
    assert len(operations) == 15
    failures: dict[str, list[str]] = defaultdict(list)
    for operation in operations:
        area = "storefront" if "/storefront/" in operation.path else "console"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, {"Authorization": keys[area]}, failures)
    report = "\n".join(f"{key}: {found[0]} (x{len(found)})" for key, found in sorted(failures.items()))
    assert not failures, f"{len(failures)} operations misbehaved:\n{report}"
