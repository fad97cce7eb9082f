"""Importing readings from files: what DCS/historian exports and data collectors write.

A CSV file (UTF-8 with or without BOM, or GB18030) or an Excel workbook (XLSX/XLS through
python-calamine) with three columns — point code, time, value — is read **as a stream**: row by
row, parsed, checked against the user's workshops chunk by chunk, and fed lazily to
:func:`ingest.ingest_readings`, which stores it chunk by chunk. A file of a million rows is never
held in memory (calamine keeps the worksheet's cells in Rust; CSV is decoded line by line).

Cells are read the way people write them: headers in Chinese or English (测点编号 / point /
code, 时间 / taken_at, 数值 / value, a unit in brackets is ignored); times as ISO 8601
(2026-03-05T08:00:00+08:00), 2026-03-05 08:00, 2026/3/5 8:00, 2026年3月5日 8:00, Excel date
cells or serial numbers (46086.333…); a time without an offset is plant time; values with
full-width digits or thousands separators (1,234.5). Day/month-first dates (05/03/2026) are
refused: they could be read either way.

Every refused row is reported with its Excel row number, the column as the file names it and
the reason — the ones refused while parsing, the ones of points outside the engineer's
workshops, and the ones ingest refuses (unknown or inactive point, impossible value, future
time). The import runs in a savepoint: all-or-nothing (the default) rolls it back when any row
was refused, ``VALID_ONLY`` keeps the valid rows, a dry run checks everything — ingest
included — and rolls back. Never commits.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from sqlmodel import Session

from maintenance import spreadsheets
from maintenance.audit.service import Actor
from maintenance.config import get_settings
from maintenance.db import plant_timezone
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.monitoring.choices import ReadingSource
from maintenance.monitoring.readings.ingest import (
    MAX_REPORTED_ERRORS,
    IngestMode,
    IngestReport,
    ReadingIn,
    ingest_readings,
    within_workshops,
)
from maintenance.org.models import User
from maintenance.org.permissions import writable_workshop_ids
from maintenance.spreadsheets import (
    EXCEL_EPOCH,
    NOTHING,
    CellError,
    ImportFileError,
    cell_text,
    normalise_text,
)

logger = logging.getLogger("maintenance.imports")

# Uploads through the browser; the CLI reads files of any size.
MAX_UPLOAD_BYTES = 200 * 2**20
EXTENSIONS = ("csv", "xlsx", "xls")
HEADER_SCAN_ROWS = 30
CHUNK_SIZE = 5000
PROGRESS_EVERY = 5000
# Distinct time texts remembered while parsing (bounded: memory stays flat).
_TIME_CACHE_SIZE = 4096
# The characters a workbook's cells may come to once its shared strings are copied into them.
MAX_TEXT_CHARS = 100_000_000

ProgressCallback = Callable[[int], None]


# --- Columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    field: str
    zh: str
    en: str
    aliases: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.zh if current_locale() == "zh_CN" else self.en


COLUMNS: tuple[Column, ...] = (
    Column("point", "测点编号", "Point", ("测点", "测点代码", "测点号", "point code", "code", "point_code")),
    Column(
        "taken_at",
        "时间",
        "Taken at",
        ("测量时间", "采集时间", "检测时间", "日期时间", "时间戳", "time", "timestamp", "datetime", "date time"),
    ),
    Column("value", "数值", "Value", ("测量值", "读数", "测值", "值", "reading", "measured value")),
)
COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}


HEADERS = spreadsheets.HeaderMatcher(
    {column.field: (column.zh, column.en, column.field, *column.aliases) for column in COLUMNS}
)


# --- Cells --------------------------------------------------------------------------------

# Excel serials taken as times: 1950-01-01 … 2099-12-31 (as the asset import reads dates).
_SERIAL_MIN = (date(1950, 1, 1) - EXCEL_EPOCH).days
_SERIAL_MAX = (date(2100, 1, 1) - EXCEL_EPOCH).days
_EXCEL_EPOCH_TIME = datetime.combine(EXCEL_EPOCH, time.min)
_WRITTEN_TIME = re.compile(
    r"^(\d{4})\s*(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?)"
    r"(?:\s*[T ]?\s*(\d{1,2})\s*[:时点]\s*(?:(\d{1,2})\s*[:分]?\s*(?:(\d{1,2}(?:\.\d+)?)\s*秒?)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_AMBIGUOUS_DATE = re.compile(r"^\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2,4}\b")
_SERIAL_TEXT = re.compile(r"^\d{5}(?:\.\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$", re.IGNORECASE)


def _time_hint() -> str:
    return _("Write times as 2026-03-05 08:00, 2026/3/5 8:00 or 2026-03-05T08:00:00+08:00.")


def _from_serial(number: float, original: str) -> datetime:
    if not _SERIAL_MIN <= number < _SERIAL_MAX:
        raise CellError(_("%(value)s is not a time. %(hint)s", value=original, hint=_time_hint()))
    # Serials carry binary noise (0.333333… of a day): round to the second.
    return _EXCEL_EPOCH_TIME + timedelta(seconds=round(number * 86400))


def parse_taken_at(value: Any, zone: Any) -> datetime:
    """An aware datetime from a time cell; a time without an offset is plant time (``zone``)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if value != value:
            raise CellError(_("This field is required."))
        moment = _from_serial(float(value), cell_text(value))
    elif isinstance(value, str):
        moment = _parse_time_text(value if value.isascii() else normalise_text(value))
    elif value is None:
        raise CellError(_("This field is required."))
    else:
        raise CellError(_("%(value)s is not a time. %(hint)s", value=cell_text(value), hint=_time_hint()))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _parse_time_text(raw: str) -> datetime:
    text = raw.strip()
    if not text or text.casefold() in NOTHING:
        raise CellError(_("This field is required."))
    try:
        return datetime.fromisoformat(text)  # ISO 8601, the common case: fast
    except ValueError:
        pass
    match = _WRITTEN_TIME.match(text)
    if match:
        year, month, day, month_zh, day_zh, hour, minute, second, offset = match.groups()
        seconds = float(second) if second else 0.0
        try:
            # Naive on purpose: a time without an offset is plant time, attached by the caller.
            moment = datetime(  # noqa: DTZ001
                int(year), int(month or month_zh), int(day or day_zh), int(hour or 0), int(minute or 0)
            ) + timedelta(seconds=seconds)
            if offset:
                moment = datetime.fromisoformat(moment.isoformat() + ("+00:00" if offset.upper() == "Z" else offset))
        except ValueError:
            raise CellError(_("There is no time %(value)s.", value=text)) from None
        return moment
    if _SERIAL_TEXT.match(text):
        return _from_serial(float(text), text)
    if _AMBIGUOUS_DATE.match(text):
        raise CellError(
            _(
                "%(value)s is ambiguous: day and month could be either way round. Write it as year-month-day, "
                "e.g. 2026-03-05 08:00.",
                value=text,
            )
        )
    raise CellError(_("%(value)s is not a time. %(hint)s", value=text, hint=_time_hint()))


def parse_value(value: Any) -> float:
    """A finite number; text may use full-width digits and thousands separators (1,234.5)."""
    if isinstance(value, float):
        if value != value:
            raise CellError(_("This field is required."))
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        if value is None:
            raise CellError(_("This field is required."))
        raise CellError(_("%(value)s is not a number.", value=cell_text(value)))
    text = value.strip() if value.isascii() else normalise_text(value)
    if _NUMBER.match(text):
        number = float(text)
    elif _GROUPED.match(text):
        number = float(text.replace(",", ""))
    elif not text or text.casefold() in NOTHING:
        raise CellError(_("This field is required."))
    elif "," in text and re.fullmatch(r"[+-]?[\d,]+(?:\.\d+)?", text):
        raise CellError(_("%(value)s is ambiguous: commas must separate thousands (1,234.5).", value=text))
    else:
        raise CellError(_("%(value)s is not a number.", value=text))
    if not math.isfinite(number):
        raise CellError(_("%(value)s is too large.", value=text))
    return number


def parse_point_code(value: Any) -> str:
    text = (
        cell_text(value) if not isinstance(value, str) else value.strip() if value.isascii() else normalise_text(value)
    )
    if not text:
        raise CellError(_("This field is required."))
    return text


# --- The report ---------------------------------------------------------------------------


@dataclass
class ReadingImportReport:
    filename: str
    file_format: str = ""
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    columns: dict[str, str] = field(default_factory=dict)  # field → header as the file writes it
    ignored_columns: list[str] = field(default_factory=list)
    file_errors: list[FieldError] = field(default_factory=list)
    row_errors: list[FieldError] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS
    rejected: int = 0  # every refused row, listed or not
    received: int = 0  # data rows read (blank and repeated header rows not counted)
    inserted: int = 0
    duplicates: int = 0
    skipped_blank: int = 0
    alerts_opened: list[str] = field(default_factory=list)
    mode: IngestMode = IngestMode.ALL_OR_NOTHING
    dry_run: bool = False
    written: bool = False

    @property
    def errors(self) -> list[FieldError]:
        return [*self.file_errors, *sorted(self.row_errors, key=lambda error: error.row or 0)]

    @property
    def accepted(self) -> int:
        return self.received - self.rejected

    def header_for(self, name: str) -> str:
        if name in self.columns:
            return self.columns[name]
        column = COLUMN_BY_FIELD.get(name)
        return column.label if column else name

    def reject(self, error: FieldError) -> None:
        self.rejected += 1
        if len(self.row_errors) < MAX_REPORTED_ERRORS:
            self.row_errors.append(error)


class ReadingImportFailed(ValidationFailed):
    """Nothing was written; ``report`` says why, row by row."""

    def __init__(self, message: str, report: ReadingImportReport) -> None:
        super().__init__(message, report.errors)
        self.report = report


# --- Reading files as streams -------------------------------------------------------------


def check_upload(filename: str, size: int, *, max_bytes: int | None = MAX_UPLOAD_BYTES) -> str:
    return spreadsheets.check_upload(
        filename,
        size,
        extensions=EXTENSIONS,
        max_bytes=max_bytes,
        wrong_type=lambda kind: _(
            "Files of type %(type)s cannot be imported. Upload a CSV file or an Excel workbook (.xlsx).", type=kind
        ),
    )


def sheet_limits() -> spreadsheets.SheetLimits:
    """What a readings file may hold (``MAINTENANCE_READING_IMPORT_MAX_*``), checked before a
    workbook is parsed and while a CSV file is read."""
    settings = get_settings()
    return spreadsheets.SheetLimits(
        rows=settings.reading_import_max_rows,
        columns=settings.reading_import_max_columns,
        cells=settings.reading_import_max_cells,
        unpacked_bytes=settings.reading_import_max_unpacked_mb * 2**20,
        text_chars=MAX_TEXT_CHARS,
    )


def _is_blank(cells: Sequence[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _find_header(table: spreadsheets.Table) -> tuple[int, Sequence[Any], dict[str, list[int]]] | None:
    """(row number, header cells, field → column indexes) when one of the first rows names all
    three columns; the rows above it (titles, notes) are passed over."""
    for number, cells in itertools.islice(table.rows, HEADER_SCAN_ROWS):
        found: dict[str, list[int]] = {}
        for index, name in HEADERS.fields_in(cells).items():
            found.setdefault(name, []).append(index)
        if len(found) == len(COLUMNS):
            return number, cells, found
    return None


# --- The import ---------------------------------------------------------------------------


@dataclass
class _OpenTable:
    """A sheet whose header row was found: its data rows follow in ``rows``."""

    rows: Iterator[tuple[int, Sequence[Any]]]
    header_row: int
    positions: dict[str, int]  # field → column index


def import_readings(
    session: Session,
    file: IO[bytes],
    filename: str,
    *,
    actor: Actor,
    mode: IngestMode = IngestMode.ALL_OR_NOTHING,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    max_bytes: int | None = MAX_UPLOAD_BYTES,
    chunk_size: int = CHUNK_SIZE,
) -> ReadingImportReport:
    """Read ``file`` (seekable, binary) as a stream and ingest its readings; see the module docstring.

    Raises :class:`ReadingImportFailed` when nothing was written: the file cannot be read, or
    a row was refused in all-or-nothing mode (the savepoint is rolled back first). A dry run
    returns the report of what would have happened, with everything rolled back."""
    report = ReadingImportReport(filename=filename, mode=mode, dry_run=dry_run)
    try:
        size = file.seek(0, io.SEEK_END)
        file.seek(0)
        extension = check_upload(filename, size, max_bytes=max_bytes)
        table = _open_table(file, extension, report)
    except ImportFileError as error:
        report.file_errors = error.errors
        raise ReadingImportFailed(error.message, report) from error
    rows = _parse_rows(table, report, plant_timezone(), progress)
    allowed = _within_workshops(session, rows, actor, report, chunk_size)
    savepoint = session.begin_nested()
    try:
        result = ingest_readings(
            session,
            allowed,
            source=ReadingSource.IMPORT,
            actor=actor,
            mode=IngestMode.VALID_ONLY,  # every row is checked; all-or-nothing is decided below
            entered_by_id=actor.id if isinstance(actor, User) else None,
            chunk_size=chunk_size,
        )
    except ImportFileError as error:  # the file turned out unreadable part-way
        savepoint.rollback()
        report.file_errors = error.errors
        raise ReadingImportFailed(error.message, report) from error
    except BaseException:
        savepoint.rollback()
        raise
    _merge(report, result)
    if progress is not None:
        progress(report.received)
    if dry_run:
        savepoint.rollback()
        return report
    if report.rejected and mode == IngestMode.ALL_OR_NOTHING:
        savepoint.rollback()
        raise ReadingImportFailed(
            _(
                "No readings were imported: %(n)s of %(total)s rows have errors.",
                n=report.rejected,
                total=report.received,
            ),
            report,
        )
    if not report.received:
        savepoint.rollback()
        raise ReadingImportFailed(_("No readings were imported: the file has no data rows."), report)
    savepoint.commit()
    report.written = True
    logger.info(
        "reading import %s by %s: %s rows, %s inserted, %s duplicates, %s refused, %s orders raised",
        filename,
        actor.username,
        report.received,
        report.inserted,
        report.duplicates,
        report.rejected,
        len(report.alerts_opened),
    )
    return report


def _open_table(file: IO[bytes], extension: str, report: ReadingImportReport) -> _OpenTable:
    """The first sheet with a header row; fills the report's source and columns."""
    for table in spreadsheets.read_tables(file, extension, sheet_limits()):
        found = _find_header(table)
        if found is None:
            continue
        number, cells, positions = found
        report.file_format, report.encoding = table.file_format, table.encoding
        report.sheet = table.sheet if table.file_format != "CSV" else None
        report.header_row = number
        chosen: dict[str, int] = {}
        for name, indexes in positions.items():
            if len(indexes) > 1:
                first, second = (cell_text(cells[index]) for index in indexes[:2])
                message = _(
                    "The columns %(first)s and %(second)s both give %(field)s; keep one of them.",
                    first=first,
                    second=second,
                    field=COLUMN_BY_FIELD[name].label,
                )
                raise ImportFileError(message)
            chosen[name] = indexes[0]
            report.columns[name] = cell_text(cells[indexes[0]])
        used = set(chosen.values())
        report.ignored_columns = [
            cell_text(cell) for index, cell in enumerate(cells) if index not in used and cell_text(cell)
        ]
        return _OpenTable(table.rows, number, chosen)
    names = ", ".join(f"{column.zh} / {column.en}" for column in COLUMNS)
    raise ImportFileError(
        _(
            "No header row found in the first %(n)s rows. The table needs a header row naming the columns "
            "%(columns)s (download the template).",
            n=HEADER_SCAN_ROWS,
            columns=names,
        )
    )


def _parse_rows(
    table: _OpenTable, report: ReadingImportReport, zone: Any, progress: ProgressCallback | None
) -> Iterator[ReadingIn]:
    """The file's data rows as readings, lazily; refused cells go to ``report``."""
    point_index, time_index, value_index = (table.positions[name] for name in ("point", "taken_at", "value"))
    width = max(point_index, time_index, value_index) + 1
    headers = {name: report.header_for(name) for name in ("point", "taken_at", "value")}
    time_cache: dict[str, datetime] = {}
    for number, cells in table.rows:
        if len(cells) < width:
            cells = [*cells, *([None] * (width - len(cells)))]
        point_cell, time_cell, value_cell = cells[point_index], cells[time_index], cells[value_index]
        errors: list[FieldError] = []
        code = value = None
        try:
            code = parse_point_code(point_cell)
        except CellError as error:
            errors.append(FieldError(headers["point"], str(error), number))
        # Exports list many points at the same instants: a time text is parsed once.
        taken_at = time_cache.get(time_cell) if time_cell.__class__ is str else None
        if taken_at is None:
            try:
                taken_at = parse_taken_at(time_cell, zone)
            except CellError as error:
                errors.append(FieldError(headers["taken_at"], str(error), number))
            else:
                if time_cell.__class__ is str:
                    if len(time_cache) >= _TIME_CACHE_SIZE:
                        time_cache.clear()
                    time_cache[time_cell] = taken_at
        try:
            value = parse_value(value_cell)
        except CellError as error:
            errors.append(FieldError(headers["value"], str(error), number))
        # Blank rows and repeated headers fail to parse: only then is it worth looking for them.
        if errors and _is_blank((point_cell, time_cell, value_cell)):
            report.skipped_blank += 1
            continue
        if errors and HEADERS.field_for(point_cell) == "point" and HEADERS.field_for(value_cell) == "value":
            continue  # the header again (a second page pasted below, the template's English row)
        report.received += 1
        if progress is not None and report.received % PROGRESS_EVERY == 0:
            progress(report.received)
        if errors:
            report.rejected += 1
            room = MAX_REPORTED_ERRORS - len(report.row_errors)
            report.row_errors.extend(errors[: max(room, 0)])
            continue
        yield ReadingIn(point_code=code, taken_at=taken_at, value=value, row=number)  # type: ignore[arg-type]


def _within_workshops(
    session: Session, rows: Iterable[ReadingIn], actor: Actor, report: ReadingImportReport, chunk_size: int
) -> Iterator[ReadingIn]:
    """``rows`` without those of points outside the actor's workshops (refused with the reason).
    Managers, admins and system processes that write everywhere import everywhere."""
    allowed = writable_workshop_ids(session, actor)
    if allowed is None:
        yield from rows
        return
    header = report.header_for("point")

    def refuse(row: ReadingIn, workshop: str) -> None:
        message = _(
            "Point %(code)s belongs to workshop %(workshop)s: you can only import readings of your own workshops.",
            code=row.point_code,
            workshop=workshop,
        )
        report.reject(FieldError(header, message, row.row))

    yield from within_workshops(session, rows, allowed, refuse, chunk_size)


# Ingest's field names → the import's columns.
_INGEST_FIELDS = {"point": "point", "point_code": "point", "taken_at": "taken_at", "value": "value"}


def _merge(report: ReadingImportReport, result: IngestReport) -> None:
    report.inserted, report.duplicates = result.inserted, result.duplicates
    report.alerts_opened = list(result.alerts_opened)
    report.rejected += result.rejected_count
    room = MAX_REPORTED_ERRORS - len(report.row_errors)
    for error in result.rejected[: max(room, 0)]:
        name = _INGEST_FIELDS.get(error.field, error.field)
        report.row_errors.append(FieldError(report.header_for(name), error.message, error.row))


# --- The template -------------------------------------------------------------------------


def template_csv(example_code: str | None = None) -> bytes:
    """The import template: UTF-8 with BOM (Excel opens it as such), the Chinese header, the
    English one (skipped on import like any repeated header) and two example rows."""
    code = example_code or "P-101A-DE-V"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.zh for column in COLUMNS])
    writer.writerow([column.en for column in COLUMNS])
    writer.writerow([code, "2026-03-05 08:00", "2.8"])
    writer.writerow([code, "2026-03-05 16:00", "3.1"])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
