"""An import file as a stream of rows, so a marketplace export of a million rows is never held whole.

A CSV on disk is read twice, never kept: a first pass finds its encoding (as layouts.read_table
does: UTF-16 with a BOM, else UTF-8, else GBK/GB18030, whichever decodes the whole file), counts its
rows for the progress bar and refuses a malformed file before a job starts; the import then reads it
again row by row. Bytes already in memory (a small upload) and .xlsx workbooks go through
layouts.read_table as before: openpyxl needs the whole workbook, and Excel stops at 1,048,576 rows.
"""

import csv
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from siyu.core.errors import InvalidInput

from .layouts import _trimmed, clean_header, read_table

Rows = Iterator[tuple[int, list]]  # (row number in the file, cells), blank rows left out


@dataclass
class Source:
    header: list[str]
    total_rows: int
    rows: Callable[[], Rows]  # a fresh pass over the rows each call


def import_source(*, filename: str, content: bytes | None = None, path: Path | None = None) -> Source:
    """The rows of an import file given as bytes or as a path; whole-file problems raise InvalidInput."""
    if content is None and path is None:
        raise ValueError("import_source needs content or a path")
    if content is None and path is not None and not _is_workbook(filename, path):
        return _csv_source(path)
    table = read_table(filename=filename, content=content if content is not None else Path(path or "").read_bytes())
    rows = table.rows
    return Source(header=table.header, total_rows=len(rows), rows=lambda: iter(rows))


def _is_workbook(filename: str, path: Path) -> bool:
    with path.open("rb") as f:
        magic = f.read(4)
    # Everything read_table treats as Excel (or refuses as such) goes to it.
    return magic in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0") or (filename or "").lower().endswith((".xls", ".xlsx"))


def _csv_source(path: Path) -> Source:
    if path.stat().st_size == 0:
        raise InvalidInput(_("The file is empty."), code="import_empty")
    for encoding in _encodings(path):
        try:
            delimiter, header, total = _scan(path, encoding)
        except UnicodeDecodeError:
            continue
        return Source(header=header, total_rows=total, rows=functools.partial(_rows, path, encoding, delimiter))
    raise InvalidInput(
        _("The file is not a CSV in a known text encoding (UTF-8 or GBK) nor an .xlsx workbook."),
        code="import_encoding",
        detail={"encodings": ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"]},
    )


def _encodings(path: Path) -> list[str]:
    with path.open("rb") as f:
        start = f.read(4096)
    if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return ["utf-16"]
    return [] if b"\x00" in start else ["utf-8-sig", "gb18030"]


def _scan(path: Path, encoding: str) -> tuple[str, list[str], int]:
    """The delimiter, header and number of non-blank rows; UnicodeDecodeError for the wrong encoding."""
    with path.open("r", encoding=encoding, newline="") as f:
        first_line = f.readline()
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter)
        try:
            header = next(reader, None)
            if header is None:
                raise InvalidInput(_("The file is empty."), code="import_empty")
            total = sum(1 for cells in reader if any(cells))
        except csv.Error as exc:
            raise InvalidInput(
                _("The CSV file is malformed."), code="import_format", detail={"csv": str(exc)}
            ) from None
    return delimiter, _trimmed([clean_header(h) for h in header]), total


def _rows(path: Path, encoding: str, delimiter: str) -> Rows:
    with path.open("r", encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        next(reader, None)
        for number, cells in enumerate(reader, start=2):
            if any(cells):
                yield number, cells
