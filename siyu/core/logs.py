"""The terminal's log output under `make run`: one line a person must not miss stands out.

A record logged with `extra={"highlight": True}` (the log SMS backend's sign-in code) is written on
its own line between blank lines and, when the stream is a terminal, in bold reverse video. Log
files and pipes get the same text without colour codes, so a grep for the code still works.
"""

import logging

_ON, _OFF = "\x1b[1;7m", "\x1b[0m"


class TerminalHandler(logging.StreamHandler):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if not getattr(record, "highlight", False):
            return text
        isatty = getattr(self.stream, "isatty", None)
        if callable(isatty) and isatty():
            text = f"{_ON} {text} {_OFF}"
        return f"\n{text}\n"
