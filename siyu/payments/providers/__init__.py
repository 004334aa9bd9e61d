"""Payment providers by name, configured from settings (SIYU_WECHATPAY, SIYU_ALIPAY)."""

from django.conf import settings

from siyu.core.errors import InvalidInput

from .base import PaymentProvider


def provider_get(name: str) -> PaymentProvider:
    if name == "sandbox" and settings.SIYU_SANDBOX_PAYMENTS:
        from .sandbox import SandboxProvider

        return SandboxProvider()
    if name == "manual":
        from .base import ManualProvider

        return ManualProvider()
    if name == "wechatpay" and settings.SIYU_WECHATPAY:
        from .wechatpay import WechatPayProvider

        return WechatPayProvider(settings.SIYU_WECHATPAY)
    if name == "alipay" and settings.SIYU_ALIPAY:
        from .alipay import AlipayProvider

        return AlipayProvider(settings.SIYU_ALIPAY)
    raise InvalidInput(code="unknown_provider", detail={"provider": str(name)[:20]})


def providers_enabled() -> list[str]:
    names = ["sandbox"] if settings.SIYU_SANDBOX_PAYMENTS else []
    return names + [n for n, cfg in (("wechatpay", settings.SIYU_WECHATPAY), ("alipay", settings.SIYU_ALIPAY)) if cfg]
