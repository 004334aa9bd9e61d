"""Spreadsheet downloads: CSV that Excel opens as UTF-8, and .xlsx; every cell through `safe_cell`."""

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

from siyu.core.spreadsheets import safe_cell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def csv_response(*, filename: str, header: Sequence, rows: Iterable[Sequence]) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the byte-order mark tells Excel the file is UTF-8
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(str(h)) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(str(v)) for v in row])
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    return _attachment(response, filename)


def xlsx_response(*, filename: str, title: str, header: Sequence, rows: Iterable[Sequence]) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append([safe_cell(str(h)) for h in header])
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return _attachment(HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE), filename)
