"""The stocktake report as an XLSX workbook: a summary with the sign-off and totals, then
one sheet each for found, missing and surplus items, each ending in a totals row.

Text typed by users (notes, descriptions) is always written as a string cell, so a
value starting with ``=`` is shown, never executed, by Excel.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from maintenance.assets.stocktake.models import CountResult, StocktakeLine, StocktakeSurplus
from maintenance.assets.stocktake.service import StocktakeReport
from maintenance.db import plant_timezone, utcnow
from maintenance.i18n import gettext as _
from maintenance.org.models import User

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(value: datetime | None) -> datetime | None:
    """Excel has no time zones: show the plant's wall-clock time."""
    return None if value is None else value.astimezone(plant_timezone()).replace(tzinfo=None, microsecond=0)


class _Writer:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.bold = book.add_format({"bold": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.header = book.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1, "text_wrap": True})
        self.money = book.add_format({"num_format": "#,##0.00"})
        self.money_bold = book.add_format({"num_format": "#,##0.00", "bold": True, "top": 1})
        self.total_label = book.add_format({"bold": True, "top": 1})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})

    def cell(self, sheet: Worksheet, row: int, column: int, value: Any, fmt: Format | None = None) -> None:
        if value is None or value == "":
            sheet.write_blank(row, column, None, fmt)
        elif isinstance(value, bool):
            sheet.write_string(row, column, _("yes") if value else _("no"), fmt)
        elif isinstance(value, Decimal | int | float):
            sheet.write_number(row, column, float(value), fmt or (self.money if isinstance(value, Decimal) else None))
        elif isinstance(value, datetime):
            sheet.write_datetime(row, column, value, fmt or self.datetime)
        elif isinstance(value, date):
            sheet.write_datetime(row, column, datetime.combine(value, datetime.min.time()), fmt or self.date)
        else:
            sheet.write_string(row, column, str(value), fmt)


Column = tuple[str, int, Callable[[Any], Any]]


def _line_columns(users: dict[int, User], *, with_condition: bool) -> list[Column]:
    columns: list[Column] = [
        (_("Tag"), 16, lambda line: line.tag),
        (_("Name"), 24, lambda line: line.name),
        (_("Location"), 24, lambda line: line.location),
        (_("Fixed-asset no."), 16, lambda line: line.fixed_asset_number),
        (_("Original value (CNY)"), 16, lambda line: line.original_value_cny),
        (_("Net book value at start (CNY)"), 16, lambda line: line.net_book_value_cny),
    ]
    if with_condition:
        columns += [
            (_("Condition"), 10, lambda line: line.condition.label if line.condition else ""),
            (_("Found by scanning the label"), 10, lambda line: line.found_by_scan),
        ]
    columns += [
        (_("Note"), 30, lambda line: line.note),
        (
            _("Counted by"),
            12,
            lambda line: users[line.counted_by_id].display_name if line.counted_by_id in users else "",
        ),
        (_("Counted at"), 17, lambda line: _local(line.counted_at)),
    ]
    return columns


def _surplus_columns(users: dict[int, User], tags: dict[int, str]) -> list[Column]:
    return [
        (_("Description"), 30, lambda item: item.description),
        (_("Location"), 24, lambda item: item.location),
        (_("Estimated value (CNY)"), 16, lambda item: item.estimated_value_cny),
        (_("Condition"), 10, lambda item: item.condition.label if item.condition else ""),
        (_("Registered asset"), 16, lambda item: tags.get(item.asset_id, "") if item.asset_id else ""),
        (_("Note"), 30, lambda item: item.note),
        (
            _("Recorded by"),
            12,
            lambda item: users[item.recorded_by_id].display_name if item.recorded_by_id in users else "",
        ),
        (_("Recorded at"), 17, lambda item: _local(item.recorded_at)),
    ]


def _table(
    writer: _Writer,
    name: str,
    columns: list[Column],
    rows: Sequence[StocktakeLine] | Sequence[StocktakeSurplus],
    money_columns: Sequence[int],
    totals: Sequence[Decimal],
) -> None:
    """A sheet: header, one row per item, then a totals row (SUM formulas with their values)."""
    sheet = writer.book.add_worksheet(name)
    for index, (title, width, _getter) in enumerate(columns):
        sheet.write_string(0, index, title, writer.header)
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    for row_number, item in enumerate(rows, start=1):
        for index, (_title, _width, getter) in enumerate(columns):
            writer.cell(sheet, row_number, index, getter(item))
    last = len(rows) + 1
    sheet.write_string(last, 0, _("Total (%(n)s items)", n=len(rows)), writer.total_label)
    for column, total in zip(money_columns, totals, strict=True):
        if rows:
            formula = f"=SUM({xl_rowcol_to_cell(1, column)}:{xl_rowcol_to_cell(last - 1, column)})"
            sheet.write_formula(last, column, formula, writer.money_bold, float(total))
        else:
            sheet.write_number(last, column, 0, writer.money_bold)
    if rows:
        sheet.autofilter(0, 0, last - 1, len(columns) - 1)


def _summary(writer: _Writer, report: StocktakeReport, users: dict[int, User], exported_by: User) -> None:
    stocktake, progress = report.stocktake, report.progress
    sheet = writer.book.add_worksheet(_("Summary"))
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 3, 18)
    sheet.write_string(0, 0, _("Stocktake #%(id)s report", id=stocktake.id), writer.title)
    info: list[tuple[str, Any]] = [
        (_("Workshop"), report.workshop.name),
        (_("State"), stocktake.state.label),
        (_("Assets as of"), stocktake.as_of_date),
        (_("Started by"), report.started_by.display_name if report.started_by else ""),
        (_("Started at"), _local(stocktake.started_at)),
        (_("Signed off by"), stocktake.signed_by_name),
        (_("Signed off at"), _local(stocktake.closed_at)),
        (_("Sign-off statement"), stocktake.sign_off_statement),
        (_("Note"), stocktake.note),
        (_("Exported by"), exported_by.display_name),
        (_("Exported at"), _local(utcnow())),
    ]
    row = 2
    for label, value in info:
        sheet.write_string(row, 0, label, writer.bold)
        writer.cell(sheet, row, 1, value, writer.wrap if isinstance(value, str) else None)
        row += 1
    if stocktake.is_open:
        sheet.write_string(row, 0, _("Not signed off: the count is still open."), writer.bold)
        row += 1
    row += 1
    for index, title in enumerate(
        (_("Item"), _("Count"), _("Original value (CNY)"), _("Net book value at start (CNY)"))
    ):
        sheet.write_string(row, index, title, writer.header)
    totals: list[tuple[str, int, Decimal | None, Decimal | None]] = [
        (
            _("Expected (snapshot)"),
            progress.expected.count,
            progress.expected.original_value_cny,
            progress.expected.net_book_value_cny,
        ),
        (_("Found"), progress.found.count, progress.found.original_value_cny, progress.found.net_book_value_cny),
        (
            _("Missing"),
            progress.missing.count,
            progress.missing.original_value_cny,
            progress.missing.net_book_value_cny,
        ),
        (_("Not counted yet"), progress.uncounted, None, None),
        (_("Surplus (estimated value)"), progress.surplus_count, progress.surplus_value_cny, None),
    ]
    for label, count, original, book in totals:
        row += 1
        sheet.write_string(row, 0, label)
        sheet.write_number(row, 1, count)
        writer.cell(sheet, row, 2, original)
        writer.cell(sheet, row, 3, book)


def build_workbook(
    report: StocktakeReport, users: dict[int, User], asset_tags: dict[int, str], exported_by: User
) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    writer = _Writer(book)
    progress = report.progress
    _summary(writer, report, users, exported_by)
    _table(
        writer,
        _("Found"),
        _line_columns(users, with_condition=True),
        report.found,
        (4, 5),
        (progress.found.original_value_cny, progress.found.net_book_value_cny),
    )
    _table(
        writer,
        _("Missing"),
        _line_columns(users, with_condition=False),
        report.missing,
        (4, 5),
        (progress.missing.original_value_cny, progress.missing.net_book_value_cny),
    )
    _table(
        writer,
        _("Surplus"),
        _surplus_columns(users, asset_tags),
        report.surplus,
        (2,),
        (progress.surplus_value_cny,),
    )
    if report.uncounted:
        uncounted = report.progress.by_result[CountResult.UNCOUNTED]
        _table(
            writer,
            _("Not counted yet"),
            _line_columns(users, with_condition=False),
            report.uncounted,
            (4, 5),
            (uncounted.original_value_cny, uncounted.net_book_value_cny),
        )
    book.close()
    return buffer.getvalue()
