"""The API fuzz gate (tests/fuzz/test_api_fuzz.py) run on the journey operations alone, with a
journey in place so that their own paths are found as well as refused."""

from collections import defaultdict

import schemathesis
from schemathesis import GenerationMode

from ...fuzz.test_api_fuzz import _run, keys, wsgi_app  # noqa: F401 - fixtures
from .conftest import journey


def test_fuzz_journey_operations(keys, wsgi_app, shop, owner):  # noqa: F811
    journey(owner, shop, "winback")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    operations = [r.ok() for r in schema.get_all_operations() if "/console/journeys" in r.ok().path]
    assert len(operations) == 7
    failures: dict[str, list[str]] = defaultdict(list)
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, {"Authorization": keys["console"]}, failures)
    report = "\n".join(f"{key}: {found[0]} (x{len(found)})" for key, found in sorted(failures.items()))
    assert not failures, f"{len(failures)} operations misbehaved:\n{report}"
