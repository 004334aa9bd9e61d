"""Personal data at rest: Fernet encryption plus a keyed hash for exact lookups."""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[Fernet, bytes]:
    root = hashlib.sha256(("siyu-data-key:" + secret).encode()).digest()
    enc = hashlib.sha256(root + b"encrypt").digest()
    mac = hashlib.sha256(root + b"lookup").digest()
    return Fernet(base64.urlsafe_b64encode(enc)), mac


def _secret() -> str:
    return settings.SIYU_DATA_KEY or settings.SECRET_KEY


def encrypt(text: str) -> str:
    return _keys(_secret())[0].encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _keys(_secret())[0].decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def lookup_hash(text: str) -> str:
    """A stable keyed hash, so equal values can be found without storing them in clear."""
    return hmac.new(_keys(_secret())[1], text.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """Stores ciphertext; Python code sees plain text."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
