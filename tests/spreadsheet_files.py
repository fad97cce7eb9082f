"""Spreadsheets built in the tests of the imports (never committed): a workbook whose cells
have the types a person's Excel gives them."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import xlsxwriter


def xlsx_bytes(rows: list[list[Any]], *, sheet: str, date_format: str = "yyyy-mm-dd") -> bytes:
    """Strings as text cells (never formulas), numbers as numbers, dates and datetimes as real
    date cells in ``date_format``; None and "" leave the cell empty."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    worksheet = book.add_worksheet(sheet)
    day = book.add_format({"num_format": date_format})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                worksheet.write_datetime(r, c, value, day)
            elif isinstance(value, date):
                worksheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)  # noqa: DTZ001
            elif isinstance(value, int | float):
                worksheet.write_number(r, c, value)
            else:
                worksheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()
