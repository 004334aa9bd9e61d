"""SMS backends, offline: each test stops the SDK at its HTTP layer and reads the request it
would have sent (signed, with our parameters), then answers as the provider would."""

import io
import json
import re

import pytest
from alibabacloud_tea_openapi import client as aliyun_openapi
from django.core.checks import run_checks
from tencentcloud.common.http.request import ApiRequest

from siyu.accounts import sms
from siyu.accounts.services import otp_request
from siyu.core import checks

PHONE = "13912345678"
CREDENTIALS = {
    "template": "SMS_000001",
    "aliyun_access_key_id": "LTAI-test-id",
    "aliyun_access_key_secret": "aliyun-test-secret",
    "tencent_secret_id": "AKID-test-id",
    "tencent_secret_key": "tencent-test-key",
    "tencent_app_id": "1400000001",
}


@pytest.fixture
def sms_settings(settings):
    settings.SIYU_SMS = {**settings.SIYU_SMS, **CREDENTIALS}
    return settings


class _AliyunResponse:
    headers = {"content-type": "application/json"}

    def __init__(self, body: dict, status: int = 200):
        self.status_code = status
        self.body = io.BytesIO(json.dumps(body).encode())


class _TencentResponse:
    status_code = 200
    headers = {"Content-Type": "application/json"}

    def __init__(self, body: dict):
        self.content = json.dumps({"Response": body}).encode()


@pytest.fixture
def aliyun_wire(monkeypatch):
    """Requests the Aliyun SDK hands to its HTTP layer; `answer` is what the provider says."""
    wire = {"sent": [], "answer": ({"Code": "OK", "Message": "OK", "BizId": "biz-1", "RequestId": "r-1"}, 200)}

    def do_action(request, runtime=None):
        wire["sent"].append(request)
        body, status = wire["answer"]
        return _AliyunResponse(body, status)

    monkeypatch.setattr(aliyun_openapi.DaraCore, "do_action", staticmethod(do_action))
    return wire


@pytest.fixture
def tencent_wire(monkeypatch):
    wire = {"sent": [], "answer": {"SendStatusSet": [{"Code": "Ok", "Message": "send success", "SerialNo": "s-1"}]}}

    def send_request(self, request):
        wire["sent"].append(request)
        return _TencentResponse({**wire["answer"], "RequestId": "r-1"})

    monkeypatch.setattr(ApiRequest, "send_request", send_request)
    return wire


def _otp_via(settings, backend: str, shop, capture) -> None:
    settings.SIYU_SMS_BACKEND = backend
    with capture(execute=True):
        otp_request(phone=PHONE, ip=None, shop=shop)


def test_aliyun_request_carries_number_signature_template_and_code(
    db, shop, sms_settings, aliyun_wire, django_capture_on_commit_callbacks
):
    _otp_via(sms_settings, "siyu.accounts.sms.AliyunSmsBackend", shop, django_capture_on_commit_callbacks)
    (request,) = aliyun_wire["sent"]
    assert request.method == "POST" and request.headers["host"] == "dysmsapi.aliyuncs.com"
    assert request.headers["x-acs-action"] == "SendSms" and request.headers["x-acs-version"] == "2017-05-25"
    assert request.headers["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI-test-id,")
    query = request.query
    assert query["PhoneNumbers"] == PHONE
    assert query["SignName"] == shop.name
    assert query["TemplateCode"] == "SMS_000001"
    assert re.fullmatch(r"\d{6}", json.loads(query["TemplateParam"])["code"])
    assert "aliyun-test-secret" not in json.dumps(request.headers) + json.dumps(query)


def test_aliyun_refusal_raises_so_the_task_retries(db, sms_settings, aliyun_wire):
    aliyun_wire["answer"] = ({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limited", "RequestId": "r"}, 200)
    with pytest.raises(sms.SmsError, match="BUSINESS_LIMIT_CONTROL"):
        sms.AliyunSmsBackend().send(phone=PHONE, text="", sign="店", params={"code": "123456"})
    aliyun_wire["answer"] = ({"Code": "InvalidAccessKeyId.NotFound", "Message": "no", "RequestId": "r"}, 404)
    with pytest.raises(sms.SmsError):
        sms.AliyunSmsBackend().send(phone=PHONE, text="", sign="店", params={"code": "123456"})


def test_tencent_request_carries_app_signature_template_and_code(
    db, shop, sms_settings, tencent_wire, django_capture_on_commit_callbacks
):
    sms_settings.SIYU_SMS = {**sms_settings.SIYU_SMS, "template": "1234567", "template_params": ["code", "minutes"]}
    _otp_via(sms_settings, "siyu.accounts.sms.TencentSmsBackend", shop, django_capture_on_commit_callbacks)
    (request,) = tencent_wire["sent"]
    assert request.host == "sms.tencentcloudapi.com" and request.method == "POST"
    assert request.header["X-TC-Action"] == "SendSms" and request.header["X-TC-Version"] == "2021-01-11"
    assert request.header["X-TC-Region"] == "ap-guangzhou"
    assert request.header["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKID-test-id/")
    body = json.loads(request.data)
    assert body["PhoneNumberSet"] == [f"+86{PHONE}"]
    assert body["SmsSdkAppId"] == "1400000001" and body["TemplateId"] == "1234567"
    assert body["SignName"] == shop.name
    code, minutes = body["TemplateParamSet"]
    assert re.fullmatch(r"\d{6}", code) and minutes == "5"


def test_tencent_refusal_raises_so_the_task_retries(db, sms_settings, tencent_wire):
    tencent_wire["answer"] = {"SendStatusSet": [{"Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "x"}]}
    with pytest.raises(sms.SmsError, match="PhoneNumberDailyLimit"):
        sms.TencentSmsBackend().send(phone=PHONE, text="", sign="店", params={"code": "123456"})
    tencent_wire["answer"] = {"Error": {"Code": "AuthFailure.SecretIdNotFound", "Message": "no"}}
    with pytest.raises(sms.SmsError, match="AuthFailure"):
        sms.TencentSmsBackend().send(phone=PHONE, text="", sign="店", params={"code": "123456"})


def test_a_platform_signature_replaces_the_shop_name(db, shop, sms_settings, tencent_wire):
    sms_settings.SIYU_SMS = {**sms_settings.SIYU_SMS, "sign_name": "私域平台"}
    sms.TencentSmsBackend().send(phone=PHONE, text="", sign=shop.name, params={"code": "123456"})
    assert json.loads(tencent_wire["sent"][0].data)["SignName"] == "私域平台"


def test_log_backend_text_is_signed_with_the_shop_name(db, shop, settings, django_capture_on_commit_callbacks):
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        otp_request(phone=PHONE, ip=None, shop=shop)
    phone, text = sms.outbox[-1]
    assert phone == PHONE and text.startswith(f"【{shop.name}】")


def _deploy_errors() -> set[str]:
    return {m.id for m in run_checks(include_deployment_checks=True) if m.id and m.id.startswith("siyu.")}


def test_deploy_check_refuses_the_log_backend_unless_allowed(settings):
    settings.SIYU_SMS_BACKEND = "siyu.accounts.sms.LogSmsBackend"
    settings.SIYU_ALLOW_LOG_SMS = False
    assert "siyu.E002" in _deploy_errors()
    settings.SIYU_ALLOW_LOG_SMS = True
    assert "siyu.E002" not in _deploy_errors()


def test_deploy_check_wants_the_provider_credentials(settings):
    settings.SIYU_SMS_BACKEND = "siyu.accounts.sms.AliyunSmsBackend"
    assert "siyu.E003" in _deploy_errors()
    settings.SIYU_SMS = {**settings.SIYU_SMS, **CREDENTIALS}
    assert not _deploy_errors() & {"siyu.E002", "siyu.E003"}
    settings.SIYU_SMS_BACKEND = "siyu.accounts.sms.NoSuchBackend"
    assert "siyu.E001" in _deploy_errors()


def test_deploy_check_refuses_sessions_that_cannot_be_ended(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    assert "siyu.E004" in _deploy_errors()
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    assert checks.check_sessions() == []
