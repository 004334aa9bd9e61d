"""The fuzz test of tests/fuzz, limited to the discount operations (the whole run covers them too)."""

from collections import defaultdict

import pytest
import schemathesis
from schemathesis import GenerationMode

from ...fuzz.test_api_fuzz import _run, keys, wsgi_app  # noqa: F401 - fixtures used by name

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.mark.parametrize("area", ["storefront", "console"])
def test_fuzz_the_discount_operations(area, keys, wsgi_app):  # noqa: F811 - the imported fixtures
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    failures: dict[str, list[str]] = defaultdict(list)
    operations = [
        r.ok() for r in schema.get_all_operations() if f"/{area}/" in r.ok().path and "discounts" in r.ok().path
    ]
    assert operations
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, {"Authorization": keys[area]}, failures)
    report = "\n".join(f"{key}: {found[0]} (x{len(found)})" for key, found in sorted(failures.items()))
    assert not failures, f"{len(failures)} operations misbehaved:\n{report}"
