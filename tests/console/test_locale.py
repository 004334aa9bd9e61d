"""The console's Chinese catalogue is complete: every message has a translation and none is fuzzy."""

import ast
import re
from pathlib import Path

import siyu.console

PO = Path(siyu.console.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
_LINE = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$')


def _entries() -> list[dict]:
    """Each entry as {keyword: text}, continuation lines joined; the header entry left out."""
    entries, current, key = [], {}, None
    for line in PO.read_text(encoding="utf-8").splitlines() + [""]:
        match = _LINE.match(line)
        if match:
            key = match[1]
            current[key] = ast.literal_eval(match[2])
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
        elif not line.strip() and current:
            entries.append(current)
            current, key = {}, None
    return [e for e in entries if e.get("msgid")]


def test_every_message_is_translated():
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")
    entries = _entries()
    assert len(entries) > 150
    untranslated = [e["msgid"] for e in entries if not (e.get("msgstr") or e.get("msgstr[0]"))]
    assert untranslated == []


def test_placeholders_survive_translation():
    for entry in _entries():
        wanted = set(re.findall(r"%\(\w+\)s", entry["msgid"]))
        got = set(re.findall(r"%\(\w+\)s", entry.get("msgstr") or entry.get("msgstr[0]", "")))
        assert wanted == got, entry["msgid"]
