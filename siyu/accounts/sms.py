"""Pluggable SMS delivery: `SIYU_SMS_BACKEND` names a class with `send(*, phone, text, sign, params)`.

- `LogSmsBackend` writes the message to the log, for demos and tests. Whoever reads that log
  can sign in as any shopper, so a deployment refuses it (a `check --deploy` error) unless
  SIYU_ALLOW_LOG_SMS=1 says it is wanted.
- `AliyunSmsBackend` and `TencentSmsBackend` send through Aliyun SMS and Tencent Cloud SMS.

Mainland providers only send pre-approved templates under a pre-approved signature, so a
message reaches them as a template id plus its parameters (`params`, e.g. the code), not as
free text; `text` is the same message written out, for the log backend. The signature is the
shop's name unless SIYU_SMS_SIGN_NAME fixes one for the whole platform. A provider's refusal
raises `SmsError`, which lets the delivery task retry; the message text is never logged by a
real backend because it holds a sign-in code.
"""

import json
import logging

from django.conf import settings
from django.utils.module_loading import import_string

from siyu.core.crypto import mask_phone

logger = logging.getLogger("siyu.sms")
outbox: list[tuple[str, str]] = []  # what LogSmsBackend sent in this process, newest last


class SmsError(Exception):
    """The provider refused or could not be reached; the delivery task retries."""


class LogSmsBackend:
    writes_codes_to_log = True  # the deploy check looks for this

    def send(self, *, phone: str, text: str, sign: str = "", params: dict | None = None) -> None:
        outbox.append((phone, text))
        del outbox[:-100]
        # Under `make run` this line is how a person signs in: the code first, on a line of its own
        # (siyu.core.logs highlights it). "SMS to <number>: <text>" stays in it for scripts.
        code = (params or {}).get("code", "")
        prefix = f"验证码 {code} · " if code else ""
        logger.info("%sSMS to %s: %s", prefix, mask_phone(phone), text, extra={"highlight": bool(code)})


def _config() -> dict:
    return settings.SIYU_SMS


def _template_values(params: dict | None) -> list[tuple[str, str]]:
    """The template's parameters, in the order SIYU_SMS_TEMPLATE_PARAMS lists them."""
    params = params or {}
    return [(name, str(params.get(name, ""))) for name in _config()["template_params"]]


def _sign(sign: str) -> str:
    return _config()["sign_name"] or sign


class AliyunSmsBackend:
    """Aliyun (Alibaba Cloud) SMS, API version 2017-05-25: SendSms with a template code and
    named template parameters (JSON), e.g. {"code": "123456"}."""

    # SIYU_SMS keys the deploy check requires (siyu.core.checks)
    required_settings = ("template", "aliyun_access_key_id", "aliyun_access_key_secret")

    def _client(self):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.models import Config

        conf = _config()
        return Client(
            Config(
                access_key_id=conf["aliyun_access_key_id"],
                access_key_secret=conf["aliyun_access_key_secret"],
                region_id=conf["aliyun_region"],
                endpoint=conf["aliyun_endpoint"],
            )
        )

    def send(self, *, phone: str, text: str, sign: str = "", params: dict | None = None) -> None:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest
        from darabonba.exceptions import DaraException, UnretryableException

        request = SendSmsRequest(
            phone_numbers=phone,
            sign_name=_sign(sign),
            template_code=_config()["template"],
            template_param=json.dumps(dict(_template_values(params)), ensure_ascii=False),
        )
        try:
            body = self._client().send_sms(request).body
        except (DaraException, UnretryableException, OSError) as exc:
            raise SmsError(f"aliyun: {type(exc).__name__}") from exc
        if body is None or body.code != "OK":
            raise SmsError(f"aliyun: {getattr(body, 'code', None)} {getattr(body, 'message', '')}")
        logger.info("SMS to %s sent by Aliyun (%s)", mask_phone(phone), body.biz_id)


class TencentSmsBackend:
    """Tencent Cloud SMS, API version 2021-01-11: SendSms with an SDK app id, a template id and
    positional template parameters, e.g. ["123456", "5"]."""

    required_settings = ("template", "tencent_secret_id", "tencent_secret_key", "tencent_app_id")

    def _client(self):
        from tencentcloud.common import credential
        from tencentcloud.sms.v20210111 import sms_client

        conf = _config()
        cred = credential.Credential(conf["tencent_secret_id"], conf["tencent_secret_key"])
        return sms_client.SmsClient(cred, conf["tencent_region"])

    def send(self, *, phone: str, text: str, sign: str = "", params: dict | None = None) -> None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        conf = _config()
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [phone if phone.startswith("+") else f"+86{phone}"]
        request.SmsSdkAppId = conf["tencent_app_id"]
        request.SignName = _sign(sign)
        request.TemplateId = conf["template"]
        request.TemplateParamSet = [value for _name, value in _template_values(params)]
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as exc:
            raise SmsError(f"tencent: {exc.code}") from exc
        status = (response.SendStatusSet or [None])[0]
        if status is None or status.Code != "Ok":
            raise SmsError(f"tencent: {getattr(status, 'Code', None)} {getattr(status, 'Message', '')}")
        logger.info("SMS to %s sent by Tencent Cloud (%s)", mask_phone(phone), status.SerialNo)


def sms_send(*, phone: str, text: str, sign: str = "", params: dict | None = None) -> None:
    import_string(settings.SIYU_SMS_BACKEND)().send(phone=phone, text=text, sign=sign, params=params)
