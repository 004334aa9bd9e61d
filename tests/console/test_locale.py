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


def test_every_catalogue_is_complete():
    """Every app's Chinese catalogue: each message translated, none fuzzy, placeholders kept."""
    from babel.messages.pofile import read_po

    root = PO.parents[4]
    paths = sorted(root.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
    assert len(paths) >= 8
    for path in paths:
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id:
                continue
            forms = [message.string] if isinstance(message.string, str) else list(message.string)
            assert all(forms) and not message.fuzzy, (path, message.id)
            source = message.id if isinstance(message.id, str) else message.id[0]
            wanted = set(re.findall(r"%\(\w+\)[sd]", source))
            assert all(set(re.findall(r"%\(\w+\)[sd]", form)) == wanted for form in forms), (path, message.id)
