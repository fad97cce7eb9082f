"""The cell parsers every import shares: dates, amounts and rates as people write them in a
spreadsheet, and the refusals that say why a cell cannot be read."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from maintenance import spreadsheets
from maintenance.spreadsheets import CellError


@pytest.mark.parametrize(
    "cell",
    [
        "2024年3月5日",
        "2024 年 3 月 5 日",
        "2024/3/5",
        "2024-03-05",
        "2024.03.05",
        "2024-03-05 00:00:00",
        "20240305",
        "45356",
        45356,
        45356.75,
        20240305,
        date(2024, 3, 5),
        datetime(2024, 3, 5, 14, 30),  # noqa: DTZ001 (Excel cells have no time zone)
    ],
    ids=repr,
)
def test_unambiguous_dates_are_read(cell: Any) -> None:
    assert spreadsheets.parse_date(cell) == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("03/05/24", "ambiguous"),
        ("3/5/2024", "ambiguous"),
        ("05.03.2024", "ambiguous"),
        ("2024年3月", "day"),
        ("2024-02-30", "2024-02-30"),
        ("2024", "2024"),
        (2024, "2024"),
        ("去年", "去年"),
    ],
)
@pytest.mark.usefixtures("english")
def test_ambiguous_or_impossible_dates_are_refused_with_a_reason(cell: Any, reason: str) -> None:
    with pytest.raises(CellError) as error:
        spreadsheets.parse_date(cell)
    assert reason in str(error.value)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,234,567.00", "1234567.00"),
        ("¥1234", "1234.00"),
        ("￥1,234.5", "1234.50"),
        ("1234元", "1234.00"),
        ("12.5万", "125000.00"),
        ("12.5万元", "125000.00"),
        ("1.2亿", "120000000.00"),
        ("0", "0.00"),
        (1234.5, "1234.50"),
        (1234567, "1234567.00"),
        (0.1 + 0.2, "0.30"),  # binary noise from a formula cell
        (1234.5600000000002, "1234.56"),
    ],
)
def test_amounts_are_exact_decimals(cell: Any, expected: str) -> None:
    value = spreadsheets.parse_money(cell)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)
    assert str(value) == expected


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("1,23", "ambiguous"),
        ("-5", "negative"),
        ("(1,000)", "negative"),
        ("12.345", "decimal"),
        ("abc", "abc"),
        ("100000000000000", "too large"),
        (1e26, "too large"),  # more digits than a Decimal context holds: refused, not a crash
    ],
)
@pytest.mark.usefixtures("english")
def test_bad_amounts_are_refused(cell: Any, reason: str) -> None:
    with pytest.raises(CellError) as error:
        spreadsheets.parse_money(cell)
    assert reason in str(error.value)


@pytest.mark.parametrize(
    ("cell", "percent_header", "expected"),
    [("5%", False, "0.0500"), ("0.05", False, "0.0500"), (0.05, False, "0.0500"), ("5", True, "0.0500")],
)
def test_salvage_rates(cell: Any, percent_header: bool, expected: str) -> None:
    assert spreadsheets.parse_rate(cell, percent_header=percent_header) == Decimal(expected)


@pytest.mark.parametrize("cell", ["-0.05", -0.05, -1e30])
@pytest.mark.usefixtures("english")
def test_negative_salvage_rates_are_refused(cell: Any) -> None:
    with pytest.raises(CellError, match="negative"):
        spreadsheets.parse_rate(cell)


def test_a_bare_rate_above_one_is_ambiguous() -> None:
    with pytest.raises(CellError, match="5"):
        spreadsheets.parse_rate("5")


# --- Import templates ----------------------------------------------------------------------


def test_an_import_template_has_the_headers_the_examples_and_the_lists_of_accepted_values() -> None:
    columns = (
        spreadsheets.ImportColumn("code", "编号", "Code", required=True),
        spreadsheets.ImportColumn("amount", "金额(元)", "Amount (CNY)"),
    )
    content = spreadsheets.import_template(
        "台账",
        columns,
        [("A-1", 1200.5)],
        value_lists=[spreadsheets.ValueList("类型", ("代码", "名称"), [("static", "静密封")])],
    )

    book = CalamineWorkbook.from_filelike(BytesIO(content))
    assert book.sheet_names == ["台账", "类型"]
    assert book.get_sheet_by_name("台账").to_python() == [["编号", "金额(元)"], ["A-1", 1200.5]]
    assert book.get_sheet_by_name("类型").to_python() == [["代码", "名称"], ["static", "静密封"]]
