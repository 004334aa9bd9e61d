"""The API fuzz gate (tests/fuzz/test_api_fuzz.py) on the channel operations alone."""

from collections import defaultdict

import schemathesis
from schemathesis import GenerationMode

from ...fuzz.test_api_fuzz import _run, keys, wsgi_app  # noqa: F401 - fixtures


def test_fuzz_channel_operations(keys, wsgi_app, shop, owner):  # noqa: F811
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    operations = [r.ok() for r in schema.get_all_operations() if "/console/channels" in r.ok().path]
    assert len(operations) == 7  # settings get/put, messages, addresses get/put/delete, import
    failures: dict[str, list[str]] = defaultdict(list)
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, {"Authorization": keys["console"]}, failures)
    report = "\n".join(f"{key}: {found[0]} (x{len(found)})" for key, found in sorted(failures.items()))
    assert not failures, f"{len(failures)} operations misbehaved:\n{report}"
