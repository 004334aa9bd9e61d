"""Compile every translation catalogue (.po → .mo) with Babel, so no GNU gettext is needed.

Django's `compilemessages` shells out to `msgfmt`, which a fresh machine (or a seller's laptop)
often lacks; without the .mo files the storefront silently falls back to English. Babel is a
Python dependency already installed with Siyu, so `make run` needs nothing beyond Python.

It behaves like `msgfmt --check-format`: fuzzy and untranslated entries are left out (the English
text is shown instead of a guess), plural forms are kept, and a catalogue that does not parse or
whose placeholders do not match its msgids fails the command instead of shipping a broken page.
"""

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogue_paths(root: Path) -> list[Path]:
    """Every django.po under `root`'s locale folders, in a stable order."""
    return sorted(p for p in root.rglob("locale/*/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def catalogue_compile(*, po_path: Path, mo_path: Path) -> int:
    """Write `po_path` compiled to `mo_path`; returns how many translations went in.

    The .mo is written beside it under a temporary name and moved into place, because a running
    server or a test in another process may be reading the old one at that moment.
    """
    with po_path.open("rb") as fh:
        try:
            catalog = read_po(fh, abort_invalid=True)
        except PoFileError as exc:
            raise CommandError(f"{po_path}: {exc}") from None
    problems = [
        f"{po_path}:{message.lineno}: {error}"
        for message, errors in catalog.check()
        for error in errors
        if not message.fuzzy  # a fuzzy entry is not compiled, so its placeholders cannot break a page
    ]
    if problems:
        raise CommandError("placeholders do not match:\n" + "\n".join(problems))
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".django-", suffix=".mo", dir=mo_path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; a catalogue is read by the web server's user
        os.replace(tmp_name, mo_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return sum(1 for message in list(catalog)[1:] if message.string and not message.fuzzy)


class Command(BaseCommand):
    help = "Compile the translation catalogues (.po → .mo) with Babel; needs no GNU gettext."

    def add_arguments(self, parser):
        parser.add_argument("--root", default="", help="folder to search (default: the siyu package)")

    def handle(self, *args, root, **options):
        base = Path(root) if root else Path(settings.BASE_DIR) / "siyu"
        paths = catalogue_paths(base)
        if not paths:
            raise CommandError(f"no locale/*/LC_MESSAGES/django.po under {base}")
        for po_path in paths:
            count = catalogue_compile(po_path=po_path, mo_path=po_path.with_suffix(".mo"))
            if options.get("verbosity", 1) > 0:
                self.stdout.write(f"{po_path.relative_to(base)}: {count} translations", style_func=None)
