"""Reading an asset list: the upload's type and size, the sheet through the one spreadsheet
reader (:func:`spreadsheets.read_tables`), its header row wherever it sits under a title, the
columns it names, and its data rows without the blank, total, footer and repeated header rows."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from maintenance import spreadsheets
from maintenance.assets.imports.columns import COLUMN_BY_FIELD, HEADERS, REQUIRED, is_canonical
from maintenance.assets.imports.report import ImportReport
from maintenance.config import get_settings
from maintenance.exceptions import FieldError
from maintenance.i18n import gettext as _
from maintenance.spreadsheets import ImportFileError, cell_text

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What the upload form and the CLI accept (calamine reads the older .xls as well).
EXTENSIONS = ("xlsx", "xls", "csv")
# The characters a workbook's cells may come to once its shared strings are copied into them.
MAX_TEXT_CHARS = 50_000_000
# The header row is looked for among the first rows only (titles and notes sit above it).
HEADER_SCAN_ROWS = 30


@dataclass
class Sheet:
    """A sheet of raw cells: ``rows[i]`` is Excel row ``i + 1``."""

    rows: list[Sequence[Any]]
    name: str | None = None


@dataclass
class DataRows:
    """What the checks need of a sheet: its data rows as (Excel row number, field → raw cell)
    and its header row (index → field, and the cells as written, whose units scale values)."""

    rows: list[tuple[int, dict[str, Any]]]
    header_fields: dict[int, str]
    header_cells: Sequence[Any]


def check_upload(filename: str, size: int, *, max_bytes: int | None = MAX_UPLOAD_BYTES) -> str:
    """The file's extension when it is one we read and not too large; ImportFileError otherwise."""
    return spreadsheets.check_upload(
        filename,
        size,
        extensions=EXTENSIONS,
        max_bytes=max_bytes,
        wrong_type=lambda kind: _(
            "Files of type %(type)s cannot be imported. Upload an Excel workbook (.xlsx) or a CSV file.", type=kind
        ),
    )


def sheet_limits() -> spreadsheets.SheetLimits:
    """What an asset list may hold (``MAINTENANCE_IMPORT_MAX_*``), checked before it is parsed."""
    settings = get_settings()
    return spreadsheets.SheetLimits(
        rows=settings.import_max_rows,
        columns=settings.import_max_columns,
        cells=settings.import_max_cells,
        unpacked_bytes=settings.import_max_unpacked_mb * 2**20,
        text_chars=MAX_TEXT_CHARS,
    )


def _whole_sheet(table: spreadsheets.Table) -> Sheet:
    """The table's rows in a list (the checks look across rows), padded from row 1: calamine
    starts at the first row that holds a cell."""
    rows: list[Sequence[Any]] = []
    for number, cells in table.rows:
        rows.extend([] for _ in range(number - 1 - len(rows)))
        rows.append(cells)
    return Sheet(rows, table.sheet)


def _find_header(sheet: Sheet) -> tuple[int, dict[int, str]] | None:
    """(row index, column index → field) of the row among the first that names the tag column
    and the most other columns."""
    best: tuple[int, dict[int, str]] | None = None
    for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        found = HEADERS.fields_in(row)
        if "tag" in found.values() and (best is None or len(set(found.values())) > len(set(best[1].values()))):
            best = (index, found)
    return best


_TOTAL_ROW = re.compile(r"^(?:(?:总合计|合计|小计|总计|共计)|(?:grand|sub)?totals?:?$)", re.IGNORECASE)
_FOOTER_ROW = re.compile(r"^(?:制表|审核|复核|填表|编制|批准|负责人)人?[:：]")


def _is_total_or_footer(row: Sequence[Any]) -> bool:
    first = next((cell_text(value) for value in row if cell_text(value)), "")
    compact = first.replace(" ", "")
    return bool(_TOTAL_ROW.match(compact) or _FOOTER_ROW.match(compact))


def read_data_rows(
    report: ImportReport, content: bytes, filename: str, *, max_bytes: int | None = MAX_UPLOAD_BYTES
) -> DataRows | None:
    """The data rows of the first sheet with a header row; the report is given the file's
    format, sheet, header row and columns. None, with ``report.file_errors`` saying why, when
    the file cannot be read as an asset list."""
    try:
        extension = check_upload(filename, len(content), max_bytes=max_bytes)
        found = None
        for table in spreadsheets.read_tables(io.BytesIO(content), extension, sheet_limits()):
            report.file_format, report.encoding = table.file_format, table.encoding
            sheet = _whole_sheet(table)
            if header := _find_header(sheet):
                found = sheet, header
                break
    except ImportFileError as error:
        report.file_errors = error.errors
        return None
    if found is None:
        names = ", ".join(column.zh for column in REQUIRED)
        report.file_errors.append(
            FieldError(
                _("File"),
                _(
                    "No header row found in the first %(n)s rows. The table needs a header row naming at least "
                    "the columns %(columns)s (download the template to see them all).",
                    n=HEADER_SCAN_ROWS,
                    columns=names,
                ),
            )
        )
        return None
    sheet, (header_index, headers) = found
    report.sheet = sheet.name
    report.header_row = header_index + 1
    header_cells = sheet.rows[header_index]
    # Two columns for one field: the one named as in the template wins over an alias
    # (位号 beside 设备编号 keeps 位号); two of the same standing are refused.
    by_field: dict[str, list[int]] = {}
    for index in sorted(headers):
        by_field.setdefault(headers[index], []).append(index)
    seen: dict[str, int] = {}
    doubled: set[str] = set()
    for name, indexes in by_field.items():
        canonical = [index for index in indexes if is_canonical(cell_text(header_cells[index]), name)]
        chosen = canonical if canonical else indexes
        if len(chosen) > 1:
            first, second = (cell_text(header_cells[index]) for index in chosen[:2])
            message = _(
                "The columns %(first)s and %(second)s both give %(field)s; keep one of them.",
                first=first,
                second=second,
                field=COLUMN_BY_FIELD[name].label,
            )
            report.file_errors.append(FieldError(second, message, report.header_row))
            doubled.add(name)
            continue
        seen[name] = chosen[0]
    for index, value in enumerate(header_cells):
        text = cell_text(value)
        if index in headers and seen.get(headers[index]) == index:
            report.columns.append((text, headers[index]))
        elif text and not (index in headers and headers[index] not in seen):
            report.ignored_columns.append(text)
    for column in REQUIRED:
        if column.field not in seen.keys() | doubled and not (column.field == "workshop" and "unit" in seen):
            report.file_errors.append(
                FieldError(
                    column.label,
                    _("The column %(column)s is missing.", column=f"{column.zh} / {column.en}"),
                    report.header_row,
                )
            )
    if report.file_errors:
        return None
    positions = dict(seen)
    data_rows: list[tuple[int, dict[str, Any]]] = []
    for index in range(header_index + 1, len(sheet.rows)):
        raw = sheet.rows[index]
        cells = {name: raw[position] if position < len(raw) else "" for name, position in positions.items()}
        if not any(cell_text(value) for value in cells.values()):
            if any(cell_text(value) for value in raw) and _is_total_or_footer(raw):
                report.skipped_totals.append(index + 1)
            else:
                report.skipped_blank += 1
            continue
        if _is_total_or_footer(raw):
            report.skipped_totals.append(index + 1)
            continue
        if all(HEADERS.field_for(cell_text(value)) == name for name, value in cells.items() if cell_text(value)):
            report.skipped_headers.append(index + 1)  # the template's English header row, or a repeated header
            continue
        data_rows.append((index + 1, cells))
    if not data_rows:
        report.file_errors.append(FieldError(_("File"), _("The file has no data rows under the header.")))
    return DataRows(data_rows, headers, header_cells)
