"""gunicorn settings `siyu serve` loads (`-c python:siyu.cli.gunicorn_conf`).

The app is imported once, in the master (preload), and then everything it made is moved out of the
cyclic garbage collector's reach (`gc.freeze()`) before the workers fork: the workers share those
pages copy-on-write instead of each touching (and so copying) them on every full collection, and
each collection walks only what a request made. SIYU_GC_FREEZE=0 turns the freeze off (the bench
measures both).
"""

import gc
import os

preload_app = True


def when_ready(server) -> None:  # gunicorn's hook: the app is loaded, no worker forked yet
    if os.environ.get("SIYU_GC_FREEZE", "1") != "0":
        gc.freeze()
