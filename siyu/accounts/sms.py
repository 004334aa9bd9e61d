"""Pluggable SMS delivery. The default writes the message to the log (for demos and tests)."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from siyu.core.crypto import mask_phone

logger = logging.getLogger("siyu.sms")
outbox: list[tuple[str, str]] = []  # what LogSmsBackend sent in this process, newest last


class LogSmsBackend:
    def send(self, *, phone: str, text: str) -> None:
        outbox.append((phone, text))
        del outbox[:-100]
        logger.info("SMS to %s: %s", mask_phone(phone), text)


def sms_send(*, phone: str, text: str) -> None:
    import_string(settings.SIYU_SMS_BACKEND)().send(phone=phone, text=text)
