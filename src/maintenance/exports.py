"""The domain-free half of every CSV/XLSX export: columns, safe cells, the writers, the download.

A domain's export module says *what* its rows are (columns and a row generator over one
filtered query); this module says *how* they become a file, the same way for every list:

- **CSV** is UTF-8 with a BOM (so Excel shows Chinese), CRLF line ends, no comment lines (pandas
  reads it directly), produced in chunks of a few hundred rows while the rows are fetched in
  batches, so a large table is never held in memory.
- **XLSX** is written by XlsxWriter in constant-memory mode to a temporary file that is deleted
  once sent. Cells are typed (dates, money ``#,##0.00``, integers, rates as percentages) and
  text is always written as a string, never a formula.
- Text starting with ``= + - @`` (or a tab / carriage return) is prefixed with ``'`` in the
  CSV (OWASP "CSV injection"), so a spreadsheet never runs it as a formula.
- The download sets the ``maintenance_export`` cookie that the page's export buttons watch
  (static/app.js) to know the file has started.

No domain is imported here.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

import xlsxwriter
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from maintenance.choices import Choice
from maintenance.db import plant_timezone
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import gettext as _

ExportFormat = Literal["csv", "xlsx"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# A non-HttpOnly cookie the export links watch (static/app.js) to know the file has started.
EXPORT_COOKIE = "maintenance_export"
# Rows fetched per round trip (a server-side cursor on PostgreSQL).
BATCH_SIZE = 1000

CellKind = Literal["text", "date", "datetime", "money", "int", "number", "rate"]
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def plant_local(moment: datetime | None) -> datetime | None:
    """Plant wall-clock time without a zone (what a spreadsheet can hold), to the second."""
    if moment is None:
        return None
    return moment.astimezone(plant_timezone()).replace(tzinfo=None, microsecond=0)


def choice_labels(choices: dict[str, type[Choice]], *, zh: bool) -> dict[str, dict[str, str]]:
    """For each column name, its choice's stored codes → labels (zh or en): rows are labelled
    through a dict, not an enum per cell."""
    return {
        name: {member.value: member.zh if zh else member.en for member in choice} for name, choice in choices.items()
    }


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its key, its zh/en header, how its cells are typed, its width."""

    key: str
    zh: str
    en: str
    kind: CellKind = "text"
    width: int = 12

    def header(self, zh: bool) -> str:
        return self.zh if zh else self.en


def check_format(fmt: str) -> ExportFormat:
    """The requested format, or a 422 naming the parameter."""
    if fmt not in FORMATS:
        raise ValidationFailed(
            _("Choose an export format: csv or xlsx."), [FieldError("export", _("Choose one of the listed options."))]
        )
    return fmt  # type: ignore[return-value]


def escape_formula(text: str) -> str:
    """Text a spreadsheet would evaluate gets a leading apostrophe."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def csv_value(kind: CellKind, value: Any) -> str:
    if value is None:
        return ""
    if kind == "text":
        return escape_formula(str(value))
    if kind in ("date", "datetime") and not isinstance(value, str):
        return str(value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat())
    if isinstance(value, str):  # a word where the date or number is not known (未知)
        return escape_formula(value)
    return str(value)


def csv_chunks(
    columns: Sequence[ExportColumn], headers: Sequence[str], rows: Iterable[Sequence[Any]], rows_per_chunk: int = 500
) -> Iterator[bytes]:
    """The CSV as UTF-8 (with BOM) chunks of ``rows_per_chunk`` rows each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(headers)
    kinds = [column.kind for column in columns]
    for index, row in enumerate(rows, start=1):
        writer.writerow([csv_value(kind, value) for kind, value in zip(kinds, row, strict=True)])
        if index % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_csv_file(path: str | os.PathLike[str], chunks: Iterable[bytes]) -> None:
    with open(path, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)


# --- XLSX ---------------------------------------------------------------------------------


def open_workbook(path: str | os.PathLike[str]) -> Any:
    """A constant-memory workbook (each row is flushed once the next begins) that never turns
    text into formulas, numbers or links."""
    return xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )


def _cell_formats(workbook: Any) -> dict[str, Any]:
    return {
        "header": workbook.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1, "text_wrap": True}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "money": workbook.add_format({"num_format": "#,##0.00"}),
        "int": workbook.add_format({"num_format": "0"}),
        "number": workbook.add_format({"num_format": "#,##0.###"}),
        "rate": workbook.add_format({"num_format": "0.00%"}),
    }


def _cell_writer(sheet: Any, kind: CellKind, formats: dict[str, Any]) -> Callable[[int, int, Any], None]:
    """A typed cell per value; a ``str`` in a date or number column (a word such as 未知 where
    the value is not known) is written as text."""
    if kind == "text":
        return lambda r, c, v: sheet.write_string(r, c, str(v))
    if kind in ("date", "datetime"):
        date_format = formats[kind]
        return lambda r, c, v: (
            sheet.write_string(r, c, v) if isinstance(v, str) else sheet.write_datetime(r, c, v, date_format)
        )
    number_format = formats[kind]
    return lambda r, c, v: (
        sheet.write_string(r, c, v)
        if isinstance(v, str)
        else sheet.write_number(r, c, float(v) if isinstance(v, Decimal) else v, number_format)
    )


def write_table(
    workbook: Any,
    sheet_name: str,
    columns: Sequence[ExportColumn],
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """A data sheet: a frozen, filterable header row, then one typed row per item. Returns the
    number of rows. Datetimes must be naive (plant-local): spreadsheets have no time zones."""
    sheet = workbook.add_worksheet(sheet_name)
    formats = _cell_formats(workbook)
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width)
    sheet.freeze_panes(1, 1)
    sheet.write_row(0, 0, list(headers), formats["header"])  # headers are our own text, never formulas
    writers = [_cell_writer(sheet, column.kind, formats) for column in columns]
    count = 0
    for count, row in enumerate(rows, start=1):
        for index, value in enumerate(row):
            if value is not None and value != "":
                writers[index](count, index, value)
    sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    return count


def write_about(about: Any, workbook: Any, title: str, entries: Sequence[tuple[str, Any]]) -> None:
    """A header sheet: a title, then label → value lines (text, date, naive datetime or number)."""
    bold = workbook.add_format({"bold": True})
    title_format = workbook.add_format({"bold": True, "font_size": 14})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
    time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss", "align": "left"})
    number = workbook.add_format({"num_format": "#,##0", "align": "left"})
    about.set_column(0, 0, 18)
    about.set_column(1, 1, 60)
    about.write_string(0, 0, title, title_format)
    for row, (label, value) in enumerate(entries, start=2):
        about.write_string(row, 0, label, bold)
        if isinstance(value, datetime):
            about.write_datetime(row, 1, value, time_format)
        elif isinstance(value, date):
            about.write_datetime(row, 1, value, date_format)
        elif isinstance(value, int | float | Decimal):
            about.write_number(row, 1, float(value), number)
        else:
            about.write_string(row, 1, str(value))


# --- The web download ---------------------------------------------------------------------


def content_disposition(filename: str, ascii_fallback: str) -> str:
    """``attachment`` with an ASCII name for old clients and the real one per RFC 5987/6266."""
    return f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_response(
    fmt: ExportFormat,
    *,
    headers: dict[str, str],
    csv_chunks: Callable[[], Iterator[bytes]],
    write_xlsx: Callable[[str], int],
    temp_prefix: str = "export-",
) -> Response:
    """CSV streamed as it is produced; XLSX written to a temporary file (deleted once sent),
    its row count in ``X-Export-Rows``."""
    response: Response
    if fmt == "csv":
        response = StreamingResponse(csv_chunks(), media_type=CSV_MEDIA_TYPE, headers=headers)
    else:
        handle, path = tempfile.mkstemp(prefix=temp_prefix, suffix=".xlsx")
        os.close(handle)
        try:
            rows = write_xlsx(path)
        except BaseException:
            os.unlink(path)
            raise
        response = FileResponse(
            path,
            media_type=XLSX_MEDIA_TYPE,
            headers=headers | {"X-Export-Rows": str(rows)},
            background=BackgroundTask(os.unlink, path),
        )
    response.set_cookie(EXPORT_COOKIE, fmt, max_age=120, path="/", samesite="strict")
    return response
