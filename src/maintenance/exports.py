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
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import xlsxwriter
from fastapi import Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from sqlalchemy import Select, func, select
from sqlmodel import Session
from starlette.background import BackgroundTask

from maintenance import export_jobs
from maintenance.choices import Choice
from maintenance.config import get_settings
from maintenance.db import plant_timezone, utcnow
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import NP_, ContextMessage, current_locale, translate
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
# Between the parts of a filter in words: punctuation that follows the language.
FILTER_SEPARATORS = {"zh_CN": "；", "en": "; "}

logger = logging.getLogger("maintenance.exports")


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
    """One column of an export: its key, its header (an English msgid in the export's context),
    how its cells are typed, its width."""

    key: str
    label: ContextMessage
    kind: CellKind = "text"
    width: int = 12

    def header(self, locale: str) -> str:
        return translate(locale, self.label)


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
    """A header sheet: a title, then label → value lines (text, date, naive datetime or number;
    a ``Decimal`` with two decimals)."""
    bold = workbook.add_format({"bold": True})
    title_format = workbook.add_format({"bold": True, "font_size": 14})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
    time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss", "align": "left"})
    number = workbook.add_format({"num_format": "#,##0", "align": "left"})
    money = workbook.add_format({"num_format": "#,##0.00", "align": "left"})
    about.set_column(0, 0, 18)
    about.set_column(1, 1, 60)
    about.write_string(0, 0, title, title_format)
    for row, (label, value) in enumerate(entries, start=2):
        about.write_string(row, 0, label, bold)
        if isinstance(value, datetime):
            about.write_datetime(row, 1, value, time_format)
        elif isinstance(value, date):
            about.write_datetime(row, 1, value, date_format)
        elif isinstance(value, Decimal):  # money and shares keep their two decimals
            about.write_number(row, 1, float(value), money)
        elif isinstance(value, int | float):
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


# --- The table export ---------------------------------------------------------------------


@dataclass(kw_only=True)
class TableExport:
    """One export of a list: a domain declares its columns, its query and how a row of that
    query becomes a row of the file; this class writes the CSV, the XLSX (a header sheet, then
    the data) and the download, in the export's language (``locale``) whatever the request's.

    Subclasses set the class attributes, implement :meth:`select`, :meth:`records` and
    :meth:`filter_text`, and may add header-sheet lines (:meth:`scope_entries`) or name the
    file by another day or a scope (:attr:`file_day`, :meth:`file_scope`).
    """

    columns: ClassVar[tuple[ExportColumn, ...]]
    title: ClassVar[ContextMessage]  # the header sheet's title
    sheet_name: ClassVar[ContextMessage]  # the data sheet's
    file_stem: ClassVar[ContextMessage]  # its msgid names the file for clients without UTF-8 names
    temp_prefix: ClassVar[str] = "export-"

    session: Session
    locale: str = field(default_factory=current_locale)
    exported_by: str
    exported_at: datetime = field(default_factory=utcnow)
    row_count: int = 0

    @property
    def zh(self) -> bool:
        """Choices carry their own zh/en labels (choices.py), picked by this."""
        return self.locale == "zh_CN"

    def text(self, message: str | ContextMessage, **variables: object) -> str:
        return translate(self.locale, message, **variables)

    def join_filters(self, parts: Sequence[str], nothing: ContextMessage) -> str:
        """A filter in words, its parts joined, or ``nothing`` when it filters nothing out."""
        return FILTER_SEPARATORS.get(self.locale, "; ").join(parts) if parts else self.text(nothing)

    # --- What a domain declares ------------------------------------------------------------

    def select(self) -> Select[Any]:
        """The list's query (same filters, same order) reduced to the exported columns."""
        raise NotImplementedError

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        """The file's rows (typed values in :attr:`columns` order) from the query's."""
        raise NotImplementedError

    def filter_text(self) -> str:
        raise NotImplementedError

    def scope_entries(self) -> list[tuple[str, Any]]:
        """The header sheet's lines before who exported it and when."""
        return [(self.text(NP_("export", "Filter")), self.filter_text())]

    @property
    def file_day(self) -> date:
        """The day in the file's name: the plant day of the export."""
        return self.exported_at.astimezone(plant_timezone()).date()

    def file_scope(self) -> str:
        """What the file's name says besides the list and the day (e.g. a turnaround's code)."""
        return ""

    # --- Rows --------------------------------------------------------------------------------

    def headers(self) -> list[str]:
        return [column.header(self.locale) for column in self.columns]

    def rows(self, batch_size: int | None = None) -> Iterator[tuple[Any, ...]]:
        """Fetched in batches of ``batch_size`` rows (a server-side cursor on PostgreSQL), as
        Core rows: the ORM adds nothing to a read-only table of columns."""
        stmt = self.select().execution_options(yield_per=batch_size or BATCH_SIZE)
        self.session.flush()
        self.row_count = 0
        for row in self.records(self.session.connection().execute(stmt)):
            self.row_count += 1
            yield row

    # --- Files -------------------------------------------------------------------------------

    def csv_chunks(self, rows: Iterable[tuple[Any, ...]] | None = None, rows_per_chunk: int = 500) -> Iterator[bytes]:
        """The CSV as UTF-8 (with BOM) chunks of a few hundred rows each."""
        return csv_chunks(self.columns, self.headers(), self.rows() if rows is None else rows, rows_per_chunk)

    def write_csv(self, path: str | os.PathLike[str], rows: Iterable[tuple[Any, ...]] | None = None) -> int:
        write_csv_file(path, self.csv_chunks(rows))
        return self.row_count

    def write_xlsx(self, path: str | os.PathLike[str], rows: Iterable[tuple[Any, ...]] | None = None) -> int:
        """The header sheet first, then the data (constant memory)."""
        workbook = open_workbook(path)
        try:
            about = workbook.add_worksheet(self.text(NP_("export", "About")))
            data_name = self.text(self.sheet_name)
            self.row_count = write_table(
                workbook, data_name, self.columns, self.headers(), self.rows() if rows is None else rows
            )
            entries = [
                *self.scope_entries(),
                (self.text(NP_("export", "Exported by")), self.exported_by),
                (self.text(NP_("export", "Exported at")), plant_local(self.exported_at)),
                (self.text(NP_("export", "Time zone")), str(plant_timezone())),
                (self.text(NP_("export", "Rows")), self.row_count),
                (self.text(NP_("export", "Data sheet")), data_name),
            ]
            write_about(about, workbook, self.text(self.title), entries)
        finally:
            workbook.close()
        return self.row_count

    # --- The web download --------------------------------------------------------------------

    def file_names(self, fmt: ExportFormat) -> tuple[str, str]:
        """(the real name, an ASCII fallback): 工单_TA2026_2026-11-23.xlsx, orders_TA2026_2026-11-23.xlsx."""
        tail = f"{self.file_scope()}_{self.file_day.isoformat()}.{fmt}"
        return f"{self.text(self.file_stem)}{tail}", f"{self.file_stem.message}{tail}"

    def response_headers(self, fmt: ExportFormat) -> dict[str, str]:
        name, fallback = self.file_names(fmt)
        return {"Content-Disposition": content_disposition(name, fallback), "Cache-Control": "no-store"}

    def count_rows(self, cap: int | None = None) -> int:
        """The rows the export would have, counted up to ``cap`` when given (the list's query
        with a LIMIT, never the whole table)."""
        stmt = self.select().order_by(None)
        if cap is not None:
            stmt = stmt.limit(cap)
        return self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

    def response(self, fmt: ExportFormat, request: Request) -> Response:
        """CSV streamed as it is produced, or XLSX in constant memory; an export of more rows
        than ``MAINTENANCE_EXPORT_JOB_THRESHOLD_ROWS`` becomes a job of the user's "My exports"
        (:mod:`maintenance.export_jobs`) instead."""
        threshold = get_settings().export_job_threshold_rows
        if self.count_rows(threshold + 1) > threshold:
            logger.info(
                "%s export %s by %s as a job (%s)", self.file_stem.message, fmt, self.exported_by, self.filter_text()
            )
            return export_jobs.start_export_job(
                request,
                self,
                fmt,
                title=self.text(self.title),
                filter_text=self.filter_text(),
                file_name=self.file_names(fmt)[0],
            )
        logger.info("%s export %s by %s (%s)", self.file_stem.message, fmt, self.exported_by, self.filter_text())
        return download_response(
            fmt,
            headers=self.response_headers(fmt),
            csv_chunks=self.csv_chunks,
            write_xlsx=self.write_xlsx,
            temp_prefix=self.temp_prefix,
        )


@dataclass(kw_only=True)
class ComputedExport(TableExport):
    """A table export of rows computed by the caller (``computed``, in column order): for
    figures no query selects, such as a standing on a reference date, which the page computed
    from what it loaded in a fixed number of queries."""

    computed: Sequence[tuple[Any, ...]] = ()

    def count_rows(self, cap: int | None = None) -> int:
        return len(self.computed) if cap is None else min(len(self.computed), cap)

    def rows(self, batch_size: int | None = None) -> Iterator[tuple[Any, ...]]:
        self.row_count = 0
        for row in self.computed:
            self.row_count += 1
            yield row
