"""The shared reader refuses hostile files before any parser sees them: workbooks that declare or
hold more rows, columns or cells than allowed, zips that unpack to far more than they weigh (or
lie about it), shared strings copied into every cell, CSV lines and rows without end. Each bomb
is a few KB (tests/bombs.py); none reaches a parser (a stand-in refuses loudly if one would).
"""

from __future__ import annotations

import io
import time
from dataclasses import replace

import pytest

from maintenance import spreadsheets
from maintenance.i18n import set_locale
from maintenance.spreadsheets import ImportFileError, SheetLimits
from tests import bombs

LIMITS = SheetLimits(rows=200_000, columns=200, cells=4_000_000, unpacked_bytes=64 * 2**20, text_chars=50_000_000)


pytestmark = pytest.mark.usefixtures("english")


def refusal(content: bytes, limits: SheetLimits = LIMITS) -> str:
    with pytest.raises(ImportFileError) as refused:
        spreadsheets.check_workbook(io.BytesIO(content), limits)
    return refused.value.message


def test_a_cell_at_xfd1048576_is_refused_before_parsing() -> None:
    assert len(bombs.CELL_BOMB) < 2000
    assert refusal(bombs.CELL_BOMB) == "File too large: the sheet has 1048576 rows, the limit is 200000 rows."
    assert "16384 columns" in refusal(bombs.CELL_BOMB, replace(LIMITS, rows=2_000_000))


def test_a_declared_dimension_is_refused() -> None:
    assert refusal(bombs.DIMENSION_BOMB) == "File too large: the sheet declares 1048576 rows, the limit is 200000 rows."


def test_the_message_names_the_limit_in_chinese() -> None:
    set_locale("zh_CN")
    assert refusal(bombs.DIMENSION_BOMB) == "文件过大：工作表声明了 1048576 行，上限 200000 行"


def test_a_tall_sheet_is_refused_by_its_rows() -> None:
    assert refusal(bombs.TALL_SHEET) == "File too large: the sheet has 1048576 rows, the limit is 200000 rows."


def test_cells_without_references_are_counted_by_their_place() -> None:
    # The 201st cell of the row (20,000 in all) is refused as it is reached.
    assert (
        refusal(bombs.WIDE_ROW_WITHOUT_REFS) == "File too large: the sheet has 201 columns, the limit is 200 columns."
    )


def test_rows_times_columns_are_bounded_even_when_each_is_allowed() -> None:
    sheet = bombs.sheet_xml(
        '<row r="1">' + bombs.number_cell("A1", 1) + "</row>" + '<row r="199999">' + bombs.number_cell("GR199999", 1)
    )
    sheet = sheet.replace("</sheetData>", "</row></sheetData>")
    assert "the limit is 4000000 cells" in refusal(bombs.xlsx(sheet))


def test_a_shared_string_copied_into_many_cells_is_refused() -> None:
    assert "more than 50 million characters" in refusal(bombs.SHARED_STRING_BOMB)


def test_a_part_that_unpacks_a_thousandfold_is_refused() -> None:
    bomb = bombs.deflate_bomb(16)
    assert len(bomb) < 50_000
    assert "xl/worksheets/sheet1.xml unpacks to 1013 times its size, the limit is 100" in refusal(bomb)


def test_the_unpacked_total_is_bounded() -> None:
    limits = SheetLimits(rows=10, columns=10, cells=100, unpacked_bytes=2**20, text_chars=1000, compression_ratio=10**6)
    assert refusal(bombs.deflate_bomb(2), limits) == "File too large: the workbook unpacks to more than 1 MB."


def test_declared_sizes_are_not_trusted() -> None:
    """The archive says the sheet is 10 bytes; it unpacks to 16 MB. calamine's zip reader would
    read it all; the check reads what is really there (and stops at the limit)."""
    limits = SheetLimits(rows=10, columns=10, cells=100, unpacked_bytes=2**20, text_chars=1000)
    lying = bombs.lying_sizes(bombs.deflate_bomb(16), declared=10)
    assert refusal(lying, limits) == "File too large: the workbook unpacks to more than 1 MB."
    small_lie = bombs.lying_sizes(bombs.xlsx(bombs.sheet_xml(bombs.HEADER_ROW)), declared=10)
    assert "could not be read" in refusal(small_lie)


def test_too_many_parts_are_refused() -> None:
    assert "parts, the limit is 2000" in refusal(bombs.many_parts(2100))


def test_a_document_type_declaration_is_refused() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        f'<worksheet xmlns="{bombs.MAIN}"><sheetData><row><c t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    assert "could not be read" in refusal(bombs.xlsx(laughs))


def test_a_malformed_cell_reference_is_refused() -> None:
    sheet = bombs.sheet_xml('<row r="1"><c r="1A"><v>1</v></c></row>')
    assert "could not be read" in refusal(bombs.xlsx(sheet))


def test_an_ordinary_workbook_passes() -> None:
    rows = "".join(
        f'<row r="{row}">{bombs.text_cell(f"A{row}", "P-1")}{bombs.number_cell(f"C{row}", row)}</row>'
        for row in range(2, 500)
    )
    spreadsheets.check_workbook(io.BytesIO(bombs.xlsx(bombs.sheet_xml(bombs.HEADER_ROW + rows))), LIMITS)


def test_binary_xls_and_garbage_are_left_to_the_parser() -> None:
    spreadsheets.check_workbook(io.BytesIO(b"\xd0\xcf\x11\xe0" + b"\0" * 100), LIMITS)
    assert "could not be read" in refusal(b"PK\x03\x04 not really a zip")


# --- CSV ----------------------------------------------------------------------------------


def csv_refusal(text: str, limits: SheetLimits = LIMITS) -> str:
    with pytest.raises(ImportFileError) as refused:
        list(spreadsheets.bounded_csv_rows(io.StringIO(text, newline=""), ",", limits))
    return refused.value.message


def test_a_csv_row_of_a_million_columns_is_refused_at_once() -> None:
    started = time.process_time()
    message = csv_refusal("a" + "," * 999_999 + "\r\nb,c\r\n")
    assert message == "File too large: row 1 has 1000000 columns, the limit is 200 columns."
    assert time.process_time() - started < 5


def test_a_csv_line_longer_than_the_limit_is_refused_before_it_is_read_whole() -> None:
    limits = SheetLimits(rows=10, columns=10, cells=100, unpacked_bytes=1, text_chars=1, line_chars=1000)
    assert csv_refusal("x" * 5000, limits) == "File too large: line 1 is longer than 1000 characters."


def test_csv_rows_are_counted_as_they_are_read() -> None:
    limits = SheetLimits(rows=3, columns=10, cells=100, unpacked_bytes=1, text_chars=1)
    assert "more than 3 rows" in csv_refusal("a\r\n" * 4, limits)
    assert list(spreadsheets.bounded_csv_rows(io.StringIO("a,b\r\n" * 3, newline=""), ",", limits)) == [["a", "b"]] * 3
