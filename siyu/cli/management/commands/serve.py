"""`siyu serve`: the production web server (gunicorn) for config.wsgi, and nothing else."""

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


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int, access_log: bool = True) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
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

    def handle(
        self, *args, host: str, port: int | None, workers: int | None, threads: int, no_access_log: bool, **options
    ):
        port = env_port() if port is None else port
        workers = default_workers() if workers is None else workers
        check_server_options(port=port, workers=workers, threads=threads)
        argv = gunicorn_argv(host=host, port=port, workers=workers, threads=threads, access_log=not no_access_log)
        self.stdout.write(f"gunicorn config.wsgi on http://{host}:{port}/ ({workers} workers × {threads} threads)")
        self.stdout.flush()
        # Replace this process, so a process manager's signals reach gunicorn itself.
        os.execve(argv[0], argv, child_environment())
