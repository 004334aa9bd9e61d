"""`siyu up`: what `make run` starts. Prepare the database, then run the worker and the web server.

`siyu up` stays in the foreground as a small supervisor: the background worker and gunicorn run
as child processes in their own process group, so Ctrl-C reaches only us and we stop each child
the gentle way (gunicorn: SIGTERM, the huey worker: SIGINT, both meaning "finish, then exit").
If either child dies, the other is stopped too, so nothing is left running half-way.
"""

import signal
import socket
import subprocess
import sys
import time

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from siyu.cli import demo_data

from .serve import check_server_options, child_environment, env_port, gunicorn_argv, project_dir

STOP_SIGNALS = {"server": signal.SIGTERM, "worker": signal.SIGINT}
GRACE_SECONDS = 15


def worker_argv() -> list[str]:
    return [sys.executable, "-m", "django", "run_huey"]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_until_listening(host: str, port: int, process: subprocess.Popen, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def stop_all(procs: dict[str, subprocess.Popen], grace: float = GRACE_SECONDS) -> None:
    """Ask each running child to finish, wait up to `grace` seconds, then kill what is left."""
    for name, proc in procs.items():
        if proc.poll() is None:
            proc.send_signal(STOP_SIGNALS.get(name, signal.SIGTERM))
    deadline = time.monotonic() + grace
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def supervise(
    procs: dict[str, subprocess.Popen], *, poll_interval: float = 0.3, grace: float = GRACE_SECONDS
) -> tuple[str | None, int]:
    """Wait until we are told to stop (SIGINT/SIGTERM/SIGHUP) or a child exits, then stop them all.

    Returns (name of the child that exited by itself or None, its exit code or 0).
    """
    stop = {"requested": False}

    def request_stop(signum, frame):
        stop["requested"] = True

    handled = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {sig: signal.signal(sig, request_stop) for sig in handled}
    exited: tuple[str | None, int] = (None, 0)
    try:
        while not stop["requested"]:
            dead = [(name, p.returncode) for name, p in procs.items() if p.poll() is not None]
            if dead:
                exited = dead[0]
                break
            time.sleep(poll_interval)
        stop_all(procs, grace)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exited


class Command(BaseCommand):
    help = "Migrate, collect static files, build the demo shop if the database is empty, then serve it with a worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
        parser.add_argument("--port", type=int, default=None, help="port (default: $PORT or 8000)")
        parser.add_argument("--workers", type=int, default=2, help="web server processes (default: 2)")
        parser.add_argument("--threads", type=int, default=4, help="threads per web process (default: 4)")
        parser.add_argument("--no-worker", action="store_true", help="do not start the background worker")
        parser.add_argument("--no-demo", action="store_true", help="do not build the demo shop")

    def handle(
        self, *args, host: str, port: int | None, workers: int, threads: int, no_worker: bool, no_demo: bool, **options
    ):
        port = env_port() if port is None else port
        check_server_options(port=port, workers=workers, threads=threads)
        self.prepare(build_demo=not no_demo)
        if not port_is_free(host, port):
            raise CommandError(
                _("Port %(port)d is in use. Stop what runs there, or use --port or PORT=…") % {"port": port}
            )
        procs = self.start(host=host, port=port, workers=workers, threads=threads, with_worker=not no_worker)
        supervised = False
        try:
            if wait_until_listening(host, port, procs["server"]):
                self.banner(host, port)
            supervised = True
            name, code = supervise(procs)
        finally:
            if not supervised:  # e.g. Ctrl-C while the server was still starting
                stop_all(procs)
        if name is not None:
            label = _("The web server") if name == "server" else _("The background worker")
            raise CommandError(
                _("%(what)s stopped unexpectedly (exit code %(code)s); everything was stopped.")
                % {"what": label, "code": code}
            )
        self.stdout.write(_("Stopped."))

    def prepare(self, *, build_demo: bool) -> None:
        # Babel compiles the catalogues, so this needs no GNU gettext; the server process started
        # afterwards reads the fresh .mo files.
        call_command("compile_translations", verbosity=0)
        self.stdout.write(_("Applying database migrations…"))
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(_("Collecting static files…"))
        call_command("collectstatic", interactive=False, verbosity=0)
        if build_demo:
            call_command("demo", if_empty=True, stdout=self.stdout)
        self.stdout.flush()

    def start(
        self, *, host: str, port: int, workers: int, threads: int, with_worker: bool
    ) -> dict[str, subprocess.Popen]:
        env, cwd = child_environment(), project_dir()
        procs: dict[str, subprocess.Popen] = {}
        if with_worker:
            procs["worker"] = subprocess.Popen(worker_argv(), env=env, cwd=cwd, process_group=0)
        argv = gunicorn_argv(host=host, port=port, workers=workers, threads=threads, access_log=False)
        try:
            procs["server"] = subprocess.Popen(argv, env=env, cwd=cwd, process_group=0)
        except OSError:
            stop_all(procs)
            raise
        return procs

    def banner(self, host: str, port: int) -> None:
        base = f"http://{host}:{port}"
        lines = [
            "",
            self.style.SUCCESS(_("Siyu is running.")),
            _("  Storefront:  %(url)s") % {"url": f"{base}/"},
            _("  Console:     %(url)s") % {"url": f"{base}/console/"},
            _("  API docs:    %(url)s") % {"url": f"{base}/api/docs"},
        ]
        owner = demo_data.OWNER
        if get_user_model().objects.filter(username=owner["username"]).exists():
            lines.append(
                _("  Demo owner:  %(user)s / %(password)s") % {"user": owner["username"], "password": owner["password"]}
            )
        # The log SMS backend writes sign-in codes here (siyu.core.logs makes that line stand out).
        lines += [
            _("  Sign-in codes (验证码) are printed in this terminal, on a highlighted line."),
            _("Press Ctrl-C to stop."),
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
