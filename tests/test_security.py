"""Content-Security-Policy: every HTML page carries a strict policy, and no template relies on
what that policy refuses (inline scripts, on*= handlers, style= attributes, <style> blocks)."""

import re
from pathlib import Path

import ninja
import pytest
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from siyu.core.security import ContentSecurityPolicyMiddleware, client_ip

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "siyu").glob("*/templates/**/*.html"))
# The API docs page renders ninja's own template.
TEMPLATES.append(Path(ninja.__file__).parent / "templates" / "ninja" / "swagger.html")
DATA_SCRIPT = re.compile(r"""type\s*=\s*["']application/(ld\+)?json["']""", re.I)
REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def _without_template_code(text: str) -> str:
    return re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", " ", text, flags=re.S)


def inline_code(text: str) -> list[str]:
    """What a strict CSP would refuse in this HTML (or template) source."""
    text = _without_template_code(text)
    found = []
    for match in re.finditer(r"<script\b([^>]*)>", text, re.I):
        attrs = match.group(1)
        if not re.search(r"\ssrc\s*=", attrs, re.I) and "nonce" not in attrs and not DATA_SCRIPT.search(attrs):
            found.append(match.group(0))
    for tag in re.finditer(r"<[a-z][^>]*>", text, re.I):
        if re.search(r"\son[a-z]+\s*=", tag.group(0), re.I) or re.search(r"\sstyle\s*=", tag.group(0), re.I):
            found.append(tag.group(0))
        if re.search(r"""=\s*["']?\s*javascript:""", tag.group(0), re.I):
            found.append(tag.group(0))
    found += re.findall(r"<style\b[^>]*>", text, re.I)
    return found


def test_the_scanner_finds_what_the_policy_refuses():
    assert inline_code('<script>alert(1)</script><a href="#" onclick="x()">') != []
    assert len(inline_code('<div style="width: 3%"></div><style>p{}</style><a href="javascript:x()">')) == 3
    assert inline_code('<script src="/static/a.js" defer></script><script type="application/json">{}</script>') == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_no_template_has_inline_code(path):
    assert inline_code(path.read_text(encoding="utf-8")) == []


def _assert_strict(response):
    assert response["Content-Type"].startswith("text/html")
    policy = _policy(response)
    for directive, source in REQUIRED.items():
        assert policy.get(directive) == source, (directive, response["Content-Security-Policy"])
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_storefront_pages_carry_the_policy(client, shop, product):
    for url in [reverse("storefront:home"), reverse("storefront:product", args=[product.public_id])]:
        response = client.get(url)
        assert response.status_code == 200
        _assert_strict(response)
        assert inline_code(response.content.decode()) == []
    _assert_strict(client.get("/no-such-page/"))


def test_console_pages_carry_the_policy(client, staff_client):
    _assert_strict(client.get(reverse("console:login")))
    response = staff_client.get(reverse("console:home"))
    assert response.status_code == 200
    _assert_strict(response)
    assert inline_code(response.content.decode()) == []


def test_api_docs_carry_the_policy_and_need_nothing_inline(client, shop):
    response = client.get("/api/docs")
    assert response.status_code == 200
    _assert_strict(response)
    assert inline_code(response.content.decode()) == []
    assert 'id="swagger-settings"' in response.content.decode()


def test_json_answers_carry_no_page_policy(client, shop):
    response = client.get("/api/v1/storefront/shop")
    assert response["Content-Type"].startswith("application/json")
    assert "Content-Security-Policy" not in response


def test_a_page_that_uses_the_nonce_gets_it_allowed():
    def view(request):
        html = Template('<script nonce="{{ request.csp_nonce }}">go()</script>').render(Context({"request": request}))
        return HttpResponse(html)

    request = RequestFactory().get("/")
    response = ContentSecurityPolicyMiddleware(view)(request)
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in _policy(response)["script-src"]
    plain = ContentSecurityPolicyMiddleware(lambda r: HttpResponse("<p>hi</p>"))(RequestFactory().get("/"))
    assert "nonce" not in plain["Content-Security-Policy"]


def test_client_ip_trusts_only_the_configured_proxies(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_ip(request) == "10.0.0.9"
    settings.SIYU_TRUSTED_PROXIES = 1
    assert client_ip(request) == "1.2.3.4"
    settings.SIYU_TRUSTED_PROXIES = 2
    assert client_ip(request) == "6.6.6.6"


def test_sign_in_codes_record_the_caller_behind_a_proxy(client, shop, settings):
    from siyu.accounts.models import OtpChallenge

    settings.SIYU_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    client.post("/api/v1/storefront/auth/otp", {"phone": "13912345678"}, content_type="application/json", **proxy)
    client.post(reverse("storefront:login"), {"phone": "13912345679", "action": "send"}, **proxy)
    assert list(OtpChallenge.objects.values_list("ip", flat=True)) == ["203.0.113.7", "203.0.113.7"]
