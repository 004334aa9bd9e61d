"""`siyu serve`: the production web server for config.wsgi, and nothing else.

gunicorn with preloading and `gc.freeze()` (siyu/cli/gunicorn_conf.py), sync workers when each
worker runs one thread, gthread otherwise; or granian's WSGI server with `--server granian`. Which
one is the default was chosen by measurement (bench/checkout.py compares them in one run; the
figures are in the README's Performance section).
"""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def env_port(default: int = 8000) -> int:
    raw = os.environ.get("PORT", "").strip()
    return int(raw) if raw.isdigit() else default


def default_workers() -> int:
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return min(2 * (os.cpu_count() or 1) + 1, 12)


def check_server_options(*, port: int, workers: int, threads: int) -> None:
    if not 1 <= port <= 65535:
        raise CommandError(f"--port must be between 1 and 65535, not {port}")
    if workers < 1 or threads < 1:
        raise CommandError("--workers and --threads must be at least 1")


def child_environment() -> dict[str, str]:
    """The environment for processes we start: they must load the same settings we did."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}


def project_dir() -> str:
    """Where `config` can be imported from (the checkout), else the current directory."""
    base = Path(settings.BASE_DIR)
    return str(base) if (base / "config" / "wsgi.py").is_file() else os.getcwd()


SERVERS = ("gunicorn", "granian")
DEFAULT_SERVER = "gunicorn"


def default_server() -> str:
    raw = os.environ.get("SIYU_WEB_SERVER", "").strip()
    return raw if raw in SERVERS else DEFAULT_SERVER


def server_argv(*, server: str, host: str, port: int, workers: int, threads: int, access_log: bool = True) -> list[str]:
    if server == "granian":
        return granian_argv(host=host, port=port, workers=workers, threads=threads, access_log=access_log)
    return gunicorn_argv(host=host, port=port, workers=workers, threads=threads, access_log=access_log)


def granian_argv(*, host: str, port: int, workers: int, threads: int, access_log: bool = True) -> list[str]:
    argv = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", host, "--port", str(port)]
    argv += ["--workers", str(workers), "--blocking-threads", str(threads), "--working-dir", project_dir()]
    argv += ["--no-ws", "--workers-kill-timeout", "10"]
    # Each worker serves one request at a time, and a kept-alive connection stays with the worker that
    # accepted it: clients piled up behind one busy worker while others idled (p99 of seconds in
    # bench-checkout). A connection per request lets the kernel spread them, as gunicorn's sync
    # workers do (which never keep a connection alive); behind a proxy nothing changes for clients.
    argv.append("--no-http1-keep-alive")
    if access_log:
        argv.append("--access-log")
    return argv + ["config.wsgi:application"]


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int, access_log: bool = True) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--config",
        "python:siyu.cli.gunicorn_conf",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        # One thread per worker: the plain sync worker (no thread pool to hand each request to).
        "--worker-class",
        "sync" if threads == 1 else "gthread",
        "--chdir",
        project_dir(),
        # Long enough for a slow export, short enough that a stuck worker is replaced.
        "--timeout",
        "60",
        "--graceful-timeout",
        "10",
        "--error-logfile",
        "-",
    ]
    if _gunicorn_has("control_socket_disable"):
        # Every gunicorn on a machine shares one default control socket; benchmarks run several.
        argv.append("--no-control-socket")
    if access_log:
        argv += ["--access-logfile", "-"]
    return argv


def _gunicorn_has(setting: str) -> bool:
    from gunicorn import config

    return any(known.name == setting for known in config.KNOWN_SETTINGS)


class Command(BaseCommand):
    help = "Run the production web server (gunicorn with threads) for config.wsgi."

    def add_arguments(self, parser):
        parser.add_argument(
            "--host",
            default=os.environ.get("HOST", "127.0.0.1"),
            help="address to listen on (default: $HOST or 127.0.0.1; 0.0.0.0 for all)",
        )
        parser.add_argument("--port", type=int, default=None, help="port (default: $PORT or 8000)")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="worker processes (default: $WEB_CONCURRENCY or 2 × CPUs + 1, at most 12)",
        )
        parser.add_argument("--threads", type=int, default=4, help="threads per worker (default: 4)")
        parser.add_argument("--no-access-log", action="store_true", help="do not log each request")
        parser.add_argument(
            "--server",
            choices=SERVERS,
            default=None,
            help=f"the WSGI server (default: $SIYU_WEB_SERVER or {DEFAULT_SERVER})",
        )

    def handle(
        self,
        *args,
        host: str,
        port: int | None,
        workers: int | None,
        threads: int,
        no_access_log: bool,
        server: str | None,
        **options,
    ):
        port = env_port() if port is None else port
        workers = default_workers() if workers is None else workers
        server = server or default_server()
        check_server_options(port=port, workers=workers, threads=threads)
        argv = server_argv(
            server=server, host=host, port=port, workers=workers, threads=threads, access_log=not no_access_log
        )
        self.stdout.write(f"{server} config.wsgi on http://{host}:{port}/ ({workers} workers × {threads} threads)")
        self.stdout.flush()
        # Replace this process, so a process manager's signals reach gunicorn itself.
        os.execve(argv[0], argv, child_environment())
