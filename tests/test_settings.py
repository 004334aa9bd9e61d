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


def test_production_deploy_check_is_clean():
    result = _check({"ALLOWED_HOSTS": "shop.example.com", "SECRET_KEY": secrets.token_urlsafe(60)})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
