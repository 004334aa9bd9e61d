"""Fixtures the coupon tests share with the API tests (bearer tokens)."""

from ...api.conftest import owner_key, shopper_key  # noqa: F401 - fixtures
