"""The `siyu` command: Django's management commands under friendlier names.

siyu up              set up and serve the demo shop with its worker (what `make run` does)
siyu demo            build the demo shop (--if-empty: only on an empty database)
siyu create-shop     add another shop with its owner
siyu import-customers FILE   import past buyers from a Taobao/JD/Pinduoduo export or any CSV/Excel
siyu worker          run the background worker
siyu serve           run the production web server (gunicorn)
siyu <anything>      any other Django management command (migrate, shell, …)
"""

import os
import sys

ALIASES = {"create-shop": "create_shop", "worker": "run_huey", "import-customers": "import_customers"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    if len(argv) < 2 or argv[1] in {"-h", "--help", "help"}:
        print(__doc__)
        if len(argv) < 2:
            return
    else:
        argv[1] = ALIASES.get(argv[1], argv[1])
    from django.core.management import execute_from_command_line

    execute_from_command_line(["siyu", *argv[1:]])


if __name__ == "__main__":
    main()
