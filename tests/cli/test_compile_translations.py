"""Translations compile without GNU gettext, and the compiled Chinese is what the shop serves."""

import gettext
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.utils import translation

from siyu.cli.management.commands.compile_translations import catalogue_compile, catalogue_paths

ROOT = Path(__file__).resolve().parents[2]


def _path_without_msgfmt() -> str:
    """A PATH holding only the interpreter's folder, with a check that msgfmt really is not on it."""
    path = str(Path(sys.executable).parent)
    assert shutil.which("msgfmt", path=path) is None
    return path


def test_makefile_compiles_messages_with_python_not_gettext():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^messages:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert "compile_translations" in recipe
    assert "compilemessages" not in makefile and "msgfmt" not in recipe
    assert "gettext" not in (ROOT / ".ci" / "run").read_text()


def test_compile_without_msgfmt_writes_every_catalogue_and_the_shop_speaks_chinese(client, shop, settings):
    started = time.time() - 1
    env = {**os.environ, "PATH": _path_without_msgfmt(), "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "compile_translations"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    po_files = catalogue_paths(ROOT / "siyu")
    assert len(po_files) >= 2
    for po in po_files:
        assert po.with_suffix(".mo").stat().st_mtime >= started, po

    # Assigning LOCALE_PATHS makes Django drop the catalogues it already loaded, so what follows
    # reads the .mo files just written.
    settings.LOCALE_PATHS = list(settings.LOCALE_PATHS)
    with translation.override("zh-hans"):
        assert translation.gettext("New arrivals") == "新品上架"
        assert translation.ngettext("%(n)s point", "%(n)s points", 3) % {"n": 3} == "3 积分"
    with translation.override("en"):
        assert translation.gettext("New arrivals") == "New arrivals"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "新品上架" in page and "New arrivals" not in page


PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

msgid "Cart"
msgstr "购物车"

#, fuzzy
msgid "Card"
msgstr "购物车"

msgid "Untranslated"
msgstr ""

#, python-format
msgid "%(n)s item"
msgid_plural "%(n)s items"
msgstr[0] "%(n)s 件"
"""


def test_fuzzy_and_empty_entries_are_left_out_and_plurals_kept(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(PO, encoding="utf-8")
    assert catalogue_compile(po_path=po, mo_path=tmp_path / "out" / "django.mo") == 2
    with (tmp_path / "out" / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    assert compiled.gettext("Cart") == "购物车"
    assert compiled.gettext("Card") == "Card"  # fuzzy: a guess, so the English shows, as with msgfmt
    assert compiled.gettext("Untranslated") == "Untranslated"
    assert compiled.ngettext("%(n)s item", "%(n)s items", 5) == "%(n)s 件"


def test_mismatched_placeholders_fail_the_step(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(PO.replace('msgstr[0] "%(n)s 件"', 'msgstr[0] "%(count)s 件"'), encoding="utf-8")
    with pytest.raises(CommandError, match="placeholders"):
        catalogue_compile(po_path=po, mo_path=tmp_path / "django.mo")
    assert not (tmp_path / "django.mo").exists()
