"""Small clients for WeCom customer-contact messages and WeChat Official Account template messages.

Neither platform has a maintained Python client that covers these calls, so these speak the
documented HTTP endpoints with `requests`:

- WeCom (企业微信): `GET /cgi-bin/gettoken?corpid=…&corpsecret=…` and
  `POST /cgi-bin/externalcontact/add_msg_template?access_token=…` with
  `{"chat_type": "single", "external_userid": [...], "sender": userid, "text": {"content": …}}`.
  The message becomes a task in the sender's WeCom app, who confirms it (WeCom's rule for
  customer-contact messages); the answer's `msgid` is the provider id.
- Official Account: `GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…` and
  `POST /cgi-bin/message/template/send?access_token=…` with a template id, the openid, a link and
  the template's fields.

An access token lives 7,200 seconds and both platforms limit how often it may be fetched, so it is
kept in the cache (shared by every worker) until five minutes before it expires; an answer saying
the token is invalid or expired (40001, 40014, 42001) drops it and the call is made once more with
a fresh one. Any other non-zero `errcode`, an HTTP error or a timeout raises ChannelError.
The API hosts come from settings (SIYU_WECOM_API_BASE, SIYU_WECHAT_API_BASE) so tests point them
at a local fake server; credentials never choose a host.
"""

import hashlib

import requests
from django.conf import settings
from django.core.cache import cache

from . import ChannelError, Recipient

TIMEOUT = 10
TOKEN_ERRORS = {40001, 40014, 42001}
WECOM_BASE = "https://qyapi.weixin.qq.com"
WECHAT_BASE = "https://api.weixin.qq.com"


class _Client:
    kind = ""

    def __init__(self, *, app_id: str, secret: str):
        if not app_id or not secret:
            raise ChannelError(f"{self.kind}: no credentials")
        self.app_id, self.secret = app_id, secret

    @property
    def base(self) -> str:
        raise NotImplementedError

    def _token_url(self) -> tuple[str, dict]:
        raise NotImplementedError

    def _cache_key(self) -> str:
        digest = hashlib.sha256(f"{self.base}|{self.app_id}|{self.secret}".encode()).hexdigest()[:24]
        return f"siyu:channels:token:{self.kind}:{digest}"

    def _request(self, method: str, url: str, **kwargs) -> dict:
        try:
            response = requests.request(method, url, timeout=TIMEOUT, **kwargs)
            response.raise_for_status()
            body = response.json()
        except requests.RequestException as exc:
            raise ChannelError(f"{self.kind}: {type(exc).__name__}") from exc
        except ValueError as exc:
            raise ChannelError(f"{self.kind}: not json") from exc
        if not isinstance(body, dict):
            raise ChannelError(f"{self.kind}: not an object")
        return body

    def token(self) -> str:
        key = self._cache_key()
        cached = cache.get(key)
        if cached:
            return cached
        url, params = self._token_url()
        body = self._request("GET", url, params=params)
        token = body.get("access_token")
        if body.get("errcode") or not isinstance(token, str) or not token:
            raise ChannelError(f"{self.kind}: token errcode {body.get('errcode')}")
        given = body.get("expires_in")
        expires = given if isinstance(given, int) and not isinstance(given, bool) else 7200
        cache.set(key, token, max(expires - 300, 60))
        return token

    def call(self, path: str, payload: dict) -> dict:
        """POST `payload` to `path` with the access token; one retry with a fresh token."""
        for attempt in (1, 2):
            body = self._request("POST", f"{self.base}{path}", params={"access_token": self.token()}, json=payload)
            code = body.get("errcode", 0)
            if code in TOKEN_ERRORS and attempt == 1:
                cache.delete(self._cache_key())
                continue
            if code:
                raise ChannelError(f"{self.kind}: errcode {code}")
            return body
        raise ChannelError(f"{self.kind}: token refused")  # pragma: no cover - the loop returns or raises


class WeComClient(_Client):
    kind = "wecom"

    @property
    def base(self) -> str:
        return getattr(settings, "SIYU_WECOM_API_BASE", WECOM_BASE).rstrip("/")

    def _token_url(self) -> tuple[str, dict]:
        return f"{self.base}/cgi-bin/gettoken", {"corpid": self.app_id, "corpsecret": self.secret}

    def add_msg_template(self, *, sender: str, external_userid: str, text: str) -> str:
        body = self.call(
            "/cgi-bin/externalcontact/add_msg_template",
            {"chat_type": "single", "external_userid": [external_userid], "sender": sender, "text": {"content": text}},
        )
        if body.get("fail_list"):
            raise ChannelError("wecom: recipient refused")
        return str(body.get("msgid") or "")


class OfficialAccountClient(_Client):
    kind = "wechat_oa"

    @property
    def base(self) -> str:
        return getattr(settings, "SIYU_WECHAT_API_BASE", WECHAT_BASE).rstrip("/")

    def _token_url(self) -> tuple[str, dict]:
        return f"{self.base}/cgi-bin/token", {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self.secret,
        }

    def template_send(self, *, openid: str, template_id: str, url: str, fields: dict[str, str]) -> str:
        payload = {
            "touser": openid,
            "template_id": template_id,
            "url": url,
            "data": {name: {"value": value} for name, value in fields.items()},
        }
        body = self.call("/cgi-bin/message/template/send", payload)
        return str(body.get("msgid") or "")


def wecom_deliver(*, shop, recipient: Recipient, text: str, subject: str, link: str, credentials: dict) -> str:
    if not recipient.sender:
        raise ChannelError("wecom: no sender")
    client = WeComClient(app_id=str(credentials.get("corp_id", "")), secret=str(credentials.get("secret", "")))
    return client.add_msg_template(sender=recipient.sender, external_userid=recipient.address, text=text)


def wechat_oa_deliver(*, shop, recipient: Recipient, text: str, subject: str, link: str, credentials: dict) -> str:
    template_id = str(credentials.get("template_id", ""))
    if not template_id:
        raise ChannelError("wechat_oa: no template")
    client = OfficialAccountClient(app_id=str(credentials.get("app_id", "")), secret=str(credentials.get("secret", "")))
    field = str(credentials.get("field") or "content")
    fields = {field: text[:200]}
    if subject:
        fields["first"] = subject[:60]
    return client.template_send(openid=recipient.address, template_id=template_id, url=link, fields=fields)
