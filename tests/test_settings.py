import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _check(env_extra: dict) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        and not k.startswith(("SIYU_SMS", "SIYU_ALLOW_LOG_SMS", "SIYU_TENCENT", "SIYU_ALIYUN"))
    }
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **env_extra})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({"ALLOWED_HOSTS": "shop.example.com"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": "shop.example.com", "SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": "shop.example.com", "SECRET_KEY": "siyu-insecure-" + "x" * 60}, "SECRET_KEY"),
        ({"SECRET_KEY": secrets.token_urlsafe(60)}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_secrets(env, message):
    result = _check(env)
    assert result.returncode != 0 and message in result.stderr


def _deploy_env(**extra) -> dict:
    return {"ALLOWED_HOSTS": "shop.example.com", "SECRET_KEY": secrets.token_urlsafe(60), **extra}


def test_production_deploy_check_is_clean():
    result = _check(_deploy_env(SIYU_ALLOW_LOG_SMS="1"))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_sign_in_codes_in_the_log():
    result = _check(_deploy_env())
    assert result.returncode != 0 and "siyu.E002" in result.stderr


def test_production_with_a_real_sms_provider_is_clean():
    result = _check(
        _deploy_env(
            SIYU_SMS_BACKEND="siyu.accounts.sms.TencentSmsBackend",
            SIYU_SMS_TEMPLATE="1234567",
            SIYU_TENCENT_SECRET_ID="id",
            SIYU_TENCENT_SECRET_KEY="key",
            SIYU_TENCENT_SMS_APP_ID="1400000001",
        )
    )
    assert result.returncode == 0, result.stderr
