"""A small deployment on one machine for tests/scale: a PostgreSQL database of its own, N web
servers (`siyu serve`) and N workers (`siyu worker`) on Redis, as the README's production section
runs them, and a plain HTTP client that keeps cookies itself (production cookies are Secure, so a
cookie jar would not send them back over loopback HTTP).

Everything started here is stopped, and the database dropped, by Cluster.close(), which the test's
fixture calls whatever happens.
"""

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.processes import stop_group

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, *, admin_url: str, redis_url: str, workdir: Path):
        self.admin_url = admin_url
        self.db_name = f"siyu_scale_{os.getpid()}_{secrets.token_hex(3)}"
        self.workdir = workdir
        self.procs: list[tuple[subprocess.Popen, Path]] = []
        self.session_keys: list[str] = []  # sessions the test made, removed from Redis at the end
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": admin_url.rsplit("/", 1)[0] + "/" + self.db_name,
            "REDIS_URL": redis_url,
            # Its own queue: tasks left by another run on the same Redis database are not ours.
            "SIYU_QUEUE_NAME": self.db_name,
            "SECRET_KEY": "scale-" + secrets.token_urlsafe(60),  # the same for every process
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SIYU_DATA_DIR": str(workdir / "data"),
            "SIYU_SANDBOX_PAYMENTS": "true",
            "SIYU_SMS_BACKEND": "siyu.accounts.sms.LogSmsBackend",
            "SIYU_ALLOW_LOG_SMS": "1",
            "SIYU_WORKER_THREADS": "2",
        }
        self.env.pop("SIYU_TEST_DATABASE_URL", None)

    # --- the database ---------------------------------------------------------------------

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self._run([sys.executable, "manage.py", "migrate", "-v0"])

    def seed(self) -> dict:
        """One shop with one product on sale; returns its ids."""
        out = self._run([sys.executable, "-m", "tests.scale.seed"])
        return json.loads(out.strip().splitlines()[-1])

    def _run(self, argv: list[str]) -> str:
        proc = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=180)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        return proc.stdout

    # --- processes ------------------------------------------------------------------------

    def start(self, name: str, argv: list[str]) -> Path:
        log = self.workdir / f"{name}.log"
        with log.open("w") as out:
            # A process group of its own, so stopping it reaches gunicorn's workers too.
            proc = subprocess.Popen(
                [sys.executable, "-m", "siyu.cli.main", *argv],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append((proc, log))
        return log

    def web(self, name: str) -> int:
        port = free_port()
        self.start(name, ["serve", "--port", str(port), "--workers", "1", "--threads", "2"])
        return port

    def wait_ready(self, port: int, *, deadline: float) -> None:
        while time.monotonic() < deadline:
            for proc, log in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{log.name} exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            try:
                status, _, _ = Client(port).get("/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server on port {port} did not answer in time")

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for _, log in self.procs if log.exists())

    def close(self) -> None:
        for proc, _ in self.procs:
            stop_group(proc, term_wait=15)
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        self._forget_queue()

    def _forget_queue(self) -> None:
        """The run's queue, schedule and results, its sessions and the servers' shop cache (keyed by
        shop id, which the next run's database reuses) leave the shared Redis database."""
        import redis

        client = redis.Redis.from_url(self.env["REDIS_URL"])
        keys = list(client.scan_iter(match=f"huey.*{self.db_name}*", count=1000))
        keys += list(client.scan_iter(match=":1:siyu:shop:*", count=1000))
        keys += [f":1:django.contrib.sessions.cached_db{key}" for key in self.session_keys]
        if keys:
            client.delete(*keys)
        client.close()


def code_in_logs(logs: list[Path], *, deadline: float) -> str:
    """The sign-in code the log SMS backend wrote in a worker's log (whichever worker took it)."""
    pattern = re.compile(r"SMS to \S+: .*?(\d{6})")
    while time.monotonic() < deadline:
        for log in logs:
            found = pattern.search(log.read_text())
            if found:
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError("no sign-in code reached a worker's log")


class Client:
    """HTTP/1.1 to one server on loopback; cookies are passed in explicitly."""

    def __init__(self, port: int):
        self.port = port

    def request(self, method: str, path: str, *, body=None, headers: dict | None = None, cookies: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        head = dict(headers or {})
        if isinstance(body, dict) and head.get("Content-Type") == "application/x-www-form-urlencoded":
            body = urlencode(body)
        elif body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
            head.setdefault("Content-Type", "application/json")
        if cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        try:
            conn.request(method, path, body=body, headers=head)
            resp = conn.getresponse()
            raw = resp.read()
            jar = SimpleCookie()
            for value in resp.headers.get_all("Set-Cookie") or []:
                jar.load(value)
            set_cookies = {k: m.value for k, m in jar.items()}
            try:
                data = json.loads(raw) if raw and "json" in (resp.headers.get("Content-Type") or "") else raw
            except ValueError:
                data = raw
            if 300 <= resp.status < 400:
                data = resp.headers.get("Location", "")  # where a redirect goes is what a test checks
            return resp.status, data, set_cookies
        finally:
            conn.close()

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path: str, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)
