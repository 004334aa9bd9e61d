"""Payment providers by name, built with the credentials of the shop whose money they move.

WeChat Pay and Alipay use the shop's own account, or the installation settings (SIYU_WECHATPAY,
SIYU_ALIPAY) for the default shop (see siyu.payments.accounts). The sandbox and the manual
provider are installation-wide.
"""

from django.conf import settings

from siyu.core.errors import InvalidInput
from siyu.shops.models import Shop

from .base import PaymentProvider


def provider_get(name: str, *, shop: Shop | None = None, offered_only: bool = False) -> PaymentProvider:
    """The provider `name` for `shop` (None: the installation's own settings). Raises InvalidInput
    (400 unknown_provider) when the shop has no credentials for it."""
    from ..accounts import provider_config

    if name == "sandbox" and settings.SIYU_SANDBOX_PAYMENTS:
        from .sandbox import SandboxProvider

        return SandboxProvider()
    if name == "manual":
        from .base import ManualProvider

        return ManualProvider()
    config = provider_config(shop=shop, provider=name, offered_only=offered_only)
    if name == "wechatpay" and config:
        from .wechatpay import WechatPayProvider

        return WechatPayProvider(config)
    if name == "alipay" and config:
        from .alipay import AlipayProvider

        return AlipayProvider(config)
    raise InvalidInput(code="unknown_provider", detail={"provider": str(name)[:20]})


def providers_enabled(*, shop: Shop | None = None) -> list[str]:
    """What `shop` offers shoppers (None: the installation settings alone)."""
    from ..accounts import providers_configured

    names = ["sandbox"] if settings.SIYU_SANDBOX_PAYMENTS else []
    return names + providers_configured(shop=shop)
