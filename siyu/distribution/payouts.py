"""Payout providers: how a withdrawal reaches the promoter's wallet or bank. They never touch the
database and must treat `out_no` as an idempotency key: paying the same out_no twice pays once."""

import threading
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class PayoutResult:
    succeeded: bool | None  # None: accepted, the result comes later
    provider_ref: str = ""
    message: str = ""


class PayoutProvider:
    name = "base"

    def pay(self, *, out_no: str, amount: int, kind: str, account: str, name: str) -> PayoutResult:
        raise NotImplementedError


class ManualPayoutProvider(PayoutProvider):
    """Finance transfers the money by hand and records it; used when no sandbox is allowed."""

    name = "manual"

    def pay(self, *, out_no: str, amount: int, kind: str, account: str, name: str) -> PayoutResult:
        return PayoutResult(succeeded=True, provider_ref="manual-" + out_no, message="transferred by finance")


class SandboxPayoutProvider(PayoutProvider):
    """Pays at once and remembers each out_no, as a real provider does. Tests set `fail = True`
    to see the failure path; `calls` records every request it received."""

    name = "sandbox"
    fail = False
    calls: list[str] = []
    _paid: dict[str, str] = {}
    _lock = threading.Lock()

    def pay(self, *, out_no: str, amount: int, kind: str, account: str, name: str) -> PayoutResult:
        with self._lock:
            type(self).calls.append(out_no)
            if out_no in self._paid:
                return PayoutResult(succeeded=True, provider_ref=self._paid[out_no], message="already paid")
            if type(self).fail:
                return PayoutResult(succeeded=False, message="sandbox payout refused")
            ref = "sbp_" + out_no
            self._paid[out_no] = ref
            return PayoutResult(succeeded=True, provider_ref=ref)

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.fail, cls.calls, cls._paid = False, [], {}


def payout_provider_get() -> PayoutProvider:
    """The sandbox wherever sandbox payments are on (development, tests); otherwise manual."""
    if settings.SIYU_SANDBOX_PAYMENTS:
        return SandboxPayoutProvider()
    return ManualPayoutProvider()
