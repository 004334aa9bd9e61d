"""The log channel (development), SMS through the platform's SMS backend, and email through Django's
email backend."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from siyu.accounts import sms
from siyu.core.crypto import mask_phone

from . import ChannelError, Recipient

logger = logging.getLogger("siyu.channels")
outbox: list[tuple[str, str]] = []  # what the log channel sent in this process, newest last


def log_send(*, shop, recipient: Recipient, text: str, subject: str, link: str, credentials: dict) -> str:
    outbox.append((recipient.address, text))
    del outbox[:-200]
    logger.info("message to customer %s: %s", recipient.address, text)
    return ""


def _marketing_template() -> str:
    # Mainland providers send marketing only from their own pre-approved template (one parameter,
    # `content`), never from the sign-in code template.
    return getattr(settings, "SIYU_SMS_MARKETING_TEMPLATE", "")


def sms_deliver(*, shop, recipient: Recipient, text: str, subject: str, link: str, credentials: dict) -> str:
    """Send through the platform's SMS backend (siyu.accounts.sms) under the marketing template."""
    backend = import_string(settings.SIYU_SMS_BACKEND)()
    template = _marketing_template()
    if getattr(backend, "writes_codes_to_log", False):
        backend.send(phone=recipient.address, text=text, sign=shop.name, params={"content": text})
        return ""
    if not template:
        raise ChannelError("no_marketing_template")
    if isinstance(backend, sms.AliyunSmsBackend):
        return _aliyun(backend, shop=shop, phone=recipient.address, text=text, template=template)
    if isinstance(backend, sms.TencentSmsBackend):
        return _tencent(backend, shop=shop, phone=recipient.address, text=text, template=template)
    try:
        backend.send(phone=recipient.address, text=text, sign=shop.name, params={"content": text})
    except sms.SmsError as exc:
        raise ChannelError(str(exc)) from exc
    return ""


def _aliyun(backend, *, shop, phone: str, text: str, template: str) -> str:
    import json

    from alibabacloud_dysmsapi20170525.models import SendSmsRequest
    from darabonba.exceptions import DaraException, UnretryableException

    request = SendSmsRequest(
        phone_numbers=phone,
        sign_name=sms._sign(shop.name),
        template_code=template,
        template_param=json.dumps({"content": text}, ensure_ascii=False),
    )
    try:
        body = backend._client().send_sms(request).body
    except (DaraException, UnretryableException, OSError) as exc:
        raise ChannelError(f"aliyun: {type(exc).__name__}") from exc
    if body is None or body.code != "OK":
        raise ChannelError(f"aliyun: {getattr(body, 'code', None)}")
    logger.info("marketing SMS to %s sent by Aliyun (%s)", mask_phone(phone), body.biz_id)
    return str(body.biz_id or "")


def _tencent(backend, *, shop, phone: str, text: str, template: str) -> str:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.sms.v20210111 import models

    request = models.SendSmsRequest()
    request.PhoneNumberSet = [phone if phone.startswith("+") else f"+86{phone}"]
    request.SmsSdkAppId = settings.SIYU_SMS["tencent_app_id"]
    request.SignName = sms._sign(shop.name)
    request.TemplateId = template
    request.TemplateParamSet = [text]
    try:
        response = backend._client().SendSms(request)
    except TencentCloudSDKException as exc:
        raise ChannelError(f"tencent: {exc.code}") from exc
    status = (response.SendStatusSet or [None])[0]
    if status is None or status.Code != "Ok":
        raise ChannelError(f"tencent: {getattr(status, 'Code', None)}")
    return str(status.SerialNo or "")


def email_deliver(*, shop, recipient: Recipient, text: str, subject: str, link: str, credentials: dict) -> str:
    sender = credentials.get("from_email") or settings.DEFAULT_FROM_EMAIL
    mail = EmailMessage(subject=subject or shop.name, body=text, from_email=sender, to=[recipient.address])
    try:
        mail.send(fail_silently=False)
    except (OSError, ValueError) as exc:  # smtplib.SMTPException is an OSError
        raise ChannelError(f"email: {type(exc).__name__}") from exc
    return ""
