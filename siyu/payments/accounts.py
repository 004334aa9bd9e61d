"""Each shop's own merchant accounts with WeChat Pay and Alipay.

Which credentials a shop's payments use (`provider_config`):

- the shop's own `PaymentAccount` for that provider, when it has one;
- otherwise, for the installation's default shop only, the installation settings
  (SIYU_WECHATPAY / SIYU_ALIPAY), so a single-shop installation keeps working unchanged;
- otherwise none: another shop without an account of its own does not offer the provider. Money
  paid to a shop must reach that shop's merchant account, never the installation's.

Secrets (private keys, the APIv3 key) are stored encrypted (siyu.core.crypto) and never shown
back: the console sees which are set, and ids masked. A blank field on save keeps what is stored.
Every value is checked on save (ids have the provider's shape, PEM keys parse as RSA ≥ 2048 bits),
so a typo is refused in the console rather than discovered by a shopper who cannot pay.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from siyu.core import locks
from siyu.core.audit import audit_record
from siyu.core.errors import InvalidInput
from siyu.core.permissions import Actor, require
from siyu.shops.models import Shop

from .models import PaymentAccount

PROVIDERS = ("wechatpay", "alipay")
_PRIVATE, _PUBLIC = "private_key", "public_key"


@dataclass(frozen=True)
class Field:
    name: str
    label: Any  # a lazy translation
    pattern: str = ""  # a regular expression the whole value must match
    kind: str = "id"  # "id", "private_key" or "public_key"
    secret: bool = False
    required: bool = True


FIELDS: dict[str, tuple[Field, ...]] = {
    "wechatpay": (
        Field("mchid", _("Merchant id (mchid)"), r"[0-9]{8,12}"),
        Field("appid", _("App id (appid)"), r"wx[0-9A-Za-z]{16}"),
        Field("cert_serial_no", _("Merchant certificate serial number"), r"[0-9A-Fa-f]{8,40}"),
        Field("public_key_id", _("WeChat Pay public key id"), r"PUB_KEY_ID_[0-9A-Za-z_]{1,48}"),
        Field("public_key", _("WeChat Pay public key (PEM)"), kind=_PUBLIC),
        Field("private_key", _("Merchant API private key (PEM)"), kind=_PRIVATE, secret=True),
        Field("apiv3_key", _("APIv3 key"), r"[0-9A-Za-z]{32}", secret=True),
    ),
    "alipay": (
        Field("app_id", _("Alipay app id"), r"[0-9]{16}"),
        Field("seller_id", _("Seller id (2088…)"), r"2088[0-9]{12}", required=False),
        Field("alipay_public_key", _("Alipay public key (PEM)"), kind=_PUBLIC),
        Field("private_key", _("App private key (PEM)"), kind=_PRIVATE, secret=True),
    ),
}


def _installation_config(provider: str) -> dict:
    return dict({"wechatpay": settings.SIYU_WECHATPAY, "alipay": settings.SIYU_ALIPAY}.get(provider) or {})


def account_config(account: PaymentAccount) -> dict:
    """What a provider class is built from: the shown settings, the decrypted secrets, the notify URL."""
    try:
        secrets = json.loads(account.secrets) if account.secrets else {}
    except ValueError:  # undecryptable (the data key changed): the account has no usable secrets
        secrets = {}
    return {**account.settings, **secrets, "notify_url": account.notify_url}


def provider_config(*, shop: Shop | None, provider: str, offered_only: bool = False) -> dict:
    """The credentials `shop` uses with `provider` (see the module docstring); {} when none.

    `shop=None` is the installation itself (its settings). `offered_only` skips a shop's account
    the owner switched off, for starting new payments; notifications, refunds and queries of
    payments already made still use it.
    """
    if provider not in PROVIDERS:
        return {}
    if shop is None:
        return _installation_config(provider)
    account = PaymentAccount.objects.filter(shop_id=shop.pk, provider=provider).first()
    if account is not None:
        return account_config(account) if account.enabled or not offered_only else {}
    return _installation_config(provider) if shop.is_default else {}


def providers_configured(*, shop: Shop | None) -> list[str]:
    """Which of WeChat Pay and Alipay `shop` offers to shoppers, in one query."""
    if shop is None:
        return [p for p in PROVIDERS if _installation_config(p)]
    accounts = {a.provider: a.enabled for a in PaymentAccount.objects.filter(shop_id=shop.pk)}
    return [
        p for p in PROVIDERS if accounts.get(p) or (p not in accounts and shop.is_default and _installation_config(p))
    ]


# --- checking what the owner typed -------------------------------------------------------------


def _pem_body(text: str) -> bytes:
    """PEM text, or the bare base64 the providers' key tools print (wrapped here)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _normalise_key(text: str, kind: str) -> str | None:
    """The key as PEM (PKCS#8 for private keys, SubjectPublicKeyInfo for public ones), or None if
    it is not an RSA key of at least 2048 bits. Both provider libraries read these forms."""
    raw = _pem_body(text)
    if not raw:
        return None
    try:
        if kind == _PRIVATE:
            key = (
                serialization.load_pem_private_key(raw, password=None)
                if raw.startswith(b"-----")
                else serialization.load_der_private_key(raw, password=None)
            )
            if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
                return None
            out = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        else:
            pub = (
                serialization.load_pem_public_key(raw)
                if raw.startswith(b"-----")
                else serialization.load_der_public_key(raw)
            )
            if not isinstance(pub, rsa.RSAPublicKey) or pub.key_size < 2048:
                return None
            out = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError):
        return None
    return out.decode()


def _clean(field: Field, value: str) -> str:
    if field.kind in (_PRIVATE, _PUBLIC):
        key = _normalise_key(value, field.kind)
        if key is None:
            raise InvalidInput(
                _("Check the payment account."), detail={field.name: "not an RSA key (PEM, at least 2048 bits)"}
            )
        return key
    if len(value) > 80 or not re.fullmatch(field.pattern, value):
        raise InvalidInput(_("Check the payment account."), detail={field.name: "not in the expected form"})
    return value


def _merged(provider: str, data: dict, stored: dict, secrets: dict) -> tuple[dict, dict, list[str]]:
    """New (settings, secrets, changed field names): blank input keeps the stored value."""
    new_settings, new_secrets, changed = dict(stored), dict(secrets), []
    for field in FIELDS[provider]:
        value = str(data.get(field.name) or "").strip()
        target = new_secrets if field.secret else new_settings
        if value:
            cleaned = _clean(field, value)
            if target.get(field.name) != cleaned:
                changed.append(field.name)
            target[field.name] = cleaned
        elif field.required and not target.get(field.name):
            raise InvalidInput(_("Check the payment account."), detail={field.name: "required"})
    return new_settings, new_secrets, changed


def payment_account_save(
    *, actor: Actor, shop: Shop, provider: str, data: dict, notify_url: str, enabled: bool = True
) -> PaymentAccount:
    """Create or update `shop`'s account with `provider`. Owner only (shop.manage).

    `notify_url` is the shop's own notification address, worked out by the caller from the host
    it serves (the provider posts results there). The audit row names the fields changed, never
    their values. Locks: the account row (rank SHOP), so two saves cannot lose each other's fields.
    """
    require(actor, "shop.manage", shop_id=shop.pk)
    if provider not in PROVIDERS:
        raise InvalidInput(code="unknown_provider", detail={"provider": str(provider)[:20]})
    if not notify_url.startswith(("https://", "http://")) or len(notify_url) > 300:
        raise InvalidInput(detail={"notify_url": "an absolute URL"})
    rows = PaymentAccount.objects.filter(shop_id=shop.pk, provider=provider)
    with transaction.atomic():
        account = locks.lock_one(rows, rank=locks.SHOP)
        if account is None:
            try:
                with transaction.atomic():
                    account = PaymentAccount.objects.create(shop=shop, provider=provider, enabled=False)
            except IntegrityError:  # made by a parallel first save: take that one
                account = locks.lock_one(rows, rank=locks.SHOP)
        stored = account_config(account)
        stored_secrets = {f.name: stored[f.name] for f in FIELDS[provider] if f.secret and stored.get(f.name)}
        new_settings, new_secrets, changed = _merged(provider, data, account.settings, stored_secrets)
        if account.enabled != enabled:
            changed.append("enabled")
        account.settings, account.secrets = new_settings, json.dumps(new_secrets)
        account.notify_url, account.enabled = notify_url, enabled
        account.save()
        audit_record(
            shop_id=shop.pk, actor=actor, action="payment_account.saved", target=account, data={"changed": changed}
        )
    return account


# --- what the console may show ---------------------------------------------------------------


def _mask(value: str) -> str:
    return value[:2] + "…" + value[-4:] if len(value) > 8 else "…" + value[-2:]


def payment_account_summaries(*, shop: Shop) -> dict[str, dict]:
    """Per provider: whether the shop has its own account, whether it is on, and per field either a
    masked id or "set"/"" for keys and secrets. Never the full values. One query."""
    accounts = {a.provider: a for a in PaymentAccount.objects.filter(shop_id=shop.pk)}
    out = {}
    for provider in PROVIDERS:
        account = accounts.get(provider)
        config = account_config(account) if account else {}
        fields = []
        for field in FIELDS[provider]:
            value = str(config.get(field.name) or "")
            shown = ("set" if value else "") if field.secret or field.kind != "id" else (_mask(value) if value else "")
            fields.append({"name": field.name, "label": field.label, "shown": shown, "secret": field.secret})
        out[provider] = {
            "own": account is not None,
            "enabled": bool(account and account.enabled),
            "notify_url": account.notify_url if account else "",
            "falls_back": account is None and shop.is_default and bool(_installation_config(provider)),
            "fields": fields,
        }
    return out
