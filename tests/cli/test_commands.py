import os
import signal
import socket
import subprocess
import sys
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from siyu.cli.management.commands import serve as serve_cmd
from siyu.cli.management.commands import up as up_cmd


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def exec_calls(monkeypatch):
    calls = []
    monkeypatch.setattr(serve_cmd.os, "execve", lambda path, argv, env: calls.append((path, argv, env)))
    return calls


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_serve_runs_gunicorn_on_config_wsgi(exec_calls):
    call_command("serve", "--port", "9123", "--workers", "3", "--threads", "2", stdout=StringIO())
    [(path, argv, env)] = exec_calls
    assert path == sys.executable and argv[1:4] == ["-m", "gunicorn", "config.wsgi:application"]
    assert _option(argv, "--bind") == "127.0.0.1:9123"
    assert (_option(argv, "--workers"), _option(argv, "--threads")) == ("3", "2")
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.test"
    assert "--access-logfile" in argv


def test_serve_reads_port_and_workers_from_the_environment(exec_calls, monkeypatch):
    monkeypatch.setenv("PORT", "9124")
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    call_command("serve", "--host", "0.0.0.0", stdout=StringIO())
    argv = exec_calls[0][1]
    assert _option(argv, "--bind") == "0.0.0.0:9124" and _option(argv, "--workers") == "5"


@pytest.mark.parametrize("args", [["--port", "0"], ["--port", "70000"], ["--workers", "0"]])
def test_serve_refuses_bad_options(exec_calls, args):
    with pytest.raises(CommandError):
        call_command("serve", *args, stdout=StringIO())
    assert exec_calls == []


def test_up_prepares_then_builds_the_demo_only_if_empty(monkeypatch):
    calls = []
    monkeypatch.setattr(up_cmd, "call_command", lambda name, **kw: calls.append((name, kw.get("if_empty"))))
    up_cmd.Command(stdout=StringIO()).prepare(build_demo=True)
    assert calls == [("compile_translations", None), ("migrate", None), ("collectstatic", None), ("demo", True)]


@pytest.fixture
def fake_children(monkeypatch):
    """Run up with harmless stand-ins: a worker that sleeps and a server that exits at once with 3."""
    started = []

    class RecordingPopen(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    seen = {}

    def fake_gunicorn(**kwargs):
        seen.update(kwargs)
        return [sys.executable, "-c", "import sys, time; time.sleep(0.3); sys.exit(3)"]

    monkeypatch.setattr(up_cmd.Command, "prepare", lambda self, build_demo: seen.update(demo=build_demo))
    monkeypatch.setattr(up_cmd.subprocess, "Popen", RecordingPopen)
    monkeypatch.setattr(up_cmd, "gunicorn_argv", fake_gunicorn)
    monkeypatch.setattr(up_cmd, "worker_argv", lambda: [sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(up_cmd, "wait_until_listening", lambda *a, **k: False)
    return started, seen


def test_up_stops_the_worker_when_the_server_dies(fake_children, monkeypatch):
    started, seen = fake_children
    port = _free_port()
    monkeypatch.setenv("PORT", str(port))
    began = time.monotonic()
    with pytest.raises(CommandError, match="3"):
        call_command("up", stdout=StringIO())
    assert time.monotonic() - began < 10
    assert (seen["host"], seen["port"], seen["workers"], seen["demo"]) == ("127.0.0.1", port, 2, True)
    assert len(started) == 2 and all(p.returncode is not None for p in started)


def test_up_without_worker_starts_only_the_server(fake_children):
    started, seen = fake_children
    with pytest.raises(CommandError):
        call_command("up", "--port", str(_free_port()), "--no-worker", "--no-demo", stdout=StringIO())
    assert len(started) == 1 and seen["demo"] is False


def test_up_refuses_a_busy_port(fake_children):
    started, _seen = fake_children
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(CommandError, match=str(busy.getsockname()[1])):
            call_command("up", "--port", str(busy.getsockname()[1]), stdout=StringIO())
    assert started == []


def test_supervise_stops_every_child_on_sigterm():
    procs = {
        name: subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], process_group=0)
        for name in ("worker", "server")
    }
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        assert up_cmd.supervise(procs, poll_interval=0.05, grace=5) == (None, 0)
    finally:
        timer.cancel()
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    assert all(p.returncode is not None for p in procs.values())
    assert signal.getsignal(signal.SIGTERM) == before  # our handler is removed again


def test_serve_preloads_and_picks_the_worker_class_by_threads(exec_calls):
    call_command("serve", "--threads", "1", stdout=StringIO())
    call_command("serve", "--threads", "4", stdout=StringIO())
    (_, sync, _), (_, threaded, _) = exec_calls
    assert _option(sync, "--worker-class") == "sync" and _option(threaded, "--worker-class") == "gthread"
    assert _option(sync, "--config") == "python:siyu.cli.gunicorn_conf"  # preload + gc.freeze


def test_serve_runs_granian_when_asked(exec_calls, monkeypatch):
    call_command(
        "serve", "--server", "granian", "--port", "9125", "--workers", "3", "--threads", "2", stdout=StringIO()
    )
    monkeypatch.setenv("SIYU_WEB_SERVER", "granian")
    call_command("serve", stdout=StringIO())
    (_, argv, env), (_, from_env, _) = exec_calls
    assert argv[1:3] == ["-m", "granian"] and argv[-1] == "config.wsgi:application"
    assert (_option(argv, "--interface"), _option(argv, "--port")) == ("wsgi", "9125")
    assert (_option(argv, "--workers"), _option(argv, "--blocking-threads")) == ("3", "2")
    assert "--no-http1-keep-alive" in argv  # kept-alive connections pinned to one busy worker stalled
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.test"
    assert from_env[1:3] == ["-m", "granian"]


def test_gunicorn_conf_freezes_the_preloaded_app_unless_told_not_to(monkeypatch):
    import gc

    from siyu.cli import gunicorn_conf

    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    assert gunicorn_conf.preload_app is True
    gunicorn_conf.when_ready(None)
    monkeypatch.setenv("SIYU_GC_FREEZE", "0")
    gunicorn_conf.when_ready(None)
    assert frozen == [True]
