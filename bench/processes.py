"""Child processes the benchmarks and the scale tests start (web servers, workers), each in a process
group of its own so that stopping it reaches gunicorn's or granian's workers too."""

import os
import signal
import subprocess


def stop_group(proc: subprocess.Popen, *, term_wait: float = 20) -> None:
    """SIGTERM the process's group, then SIGKILL if it has not gone within `term_wait` seconds."""
    for sig, wait in ((signal.SIGTERM, term_wait), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
