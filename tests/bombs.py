"""Hostile spreadsheets, built small: a minimal valid XLSX around a sheet that declares or holds
far more than it weighs, zips that unpack to much more than they are, archives whose declared
sizes lie. None of them is ever handed to a real parser by the tests (see ``parser_must_not_run``
in the tests that use them): built unchecked, each would make calamine allocate gigabytes.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable

import pytest

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
    '<sheets><sheet name="读数" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_PATH = "xl/worksheets/sheet1.xml"


def sheet_xml(cells: str, *, dimension: str | None = None) -> str:
    """A worksheet whose sheetData is ``cells`` (``<row>`` elements)."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{declared}'
        f"<sheetData>{cells}</sheetData></worksheet>"
    )


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def number_cell(ref: str, value: float) -> str:
    return f'<c r="{ref}"><v>{value}</v></c>'


def xlsx(sheet: str | bytes, *, shared_strings: Iterable[str] = (), extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal valid workbook: content types, the workbook and its relationships, one sheet,
    its shared strings."""
    strings = "".join(f"<si><t>{text}</t></si>" for text in shared_strings)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr(SHEET_PATH, sheet)
        archive.writestr(
            "xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">{strings}</sst>'
        )
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


HEADER_ROW = '<row r="1">' + text_cell("A1", "测点编号") + text_cell("B1", "时间") + text_cell("C1", "数值") + "</row>"

# A1 and XFD1048576: calamine would allocate 1,048,576 × 16,384 cells (512 GiB). 1.6 KB.
CELL_BOMB = xlsx(sheet_xml(HEADER_ROW + '<row r="1048576">' + number_cell("XFD1048576", 1) + "</row>"))
# The same, declared only.
DIMENSION_BOMB = xlsx(sheet_xml(HEADER_ROW, dimension="A1:XFD1048576"))
# One column, a million rows: cheap to hold, seconds of CPU to walk row by row.
TALL_SHEET = xlsx(sheet_xml(HEADER_ROW + '<row r="1048576">' + number_cell("A1048576", 1) + "</row>"))
# Cells without an r attribute are placed by their order: 20,000 of them in one row is column ATP.
WIDE_ROW_WITHOUT_REFS = xlsx(sheet_xml("<row>" + '<c t="inlineStr"><is><t>x</t></is></c>' * 20_000 + "</row>"))
# One shared string of 30,000 characters that 20,000 cells refer to: 600 million characters
# once calamine copies it into each cell, from a file of a few KB.
SHARED_STRING_BOMB = xlsx(
    sheet_xml("".join(f'<row r="{row}"><c r="A{row}" t="s"><v>0</v></c></row>' for row in range(1, 20_001))),
    shared_strings=["长" * 30_000],
)


def deflate_bomb(unpacked_mb: int) -> bytes:
    """A workbook whose sheet is ``unpacked_mb`` MB of XML (a run of spaces inside the
    worksheet) that deflates to a few KB."""
    filler = b" " * (1 << 20)
    head, tail = sheet_xml(HEADER_ROW).encode().split(b"<sheetData>")
    tail = b"<sheetData>" + tail
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed, crc = compressor.compress(head), zlib.crc32(head)
    for _ in range(unpacked_mb):
        compressed += compressor.compress(filler)
        crc = zlib.crc32(filler, crc)
    compressed += compressor.compress(tail) + compressor.flush()
    size = len(head) + unpacked_mb * len(filler) + len(tail)
    return _with_raw_part(xlsx(sheet_xml(HEADER_ROW)), SHEET_PATH, compressed, size, zlib.crc32(tail, crc))


def lying_sizes(workbook: bytes, declared: int) -> bytes:
    """``workbook`` with its sheet's unpacked size declared as ``declared`` bytes, in the
    central directory and the local header alike (the data and its CRC are the real ones)."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        data = archive.read(SHEET_PATH)
    compressed = zlib.compress(data, 9)[2:-4]
    return _with_raw_part(workbook, SHEET_PATH, compressed, declared, zlib.crc32(data))


def _with_raw_part(workbook: bytes, name: str, compressed: bytes, declared: int, crc: int) -> bytes:
    """Rebuilds ``workbook`` with part ``name`` replaced by ``compressed`` (raw deflate) of
    CRC ``crc``, declaring ``declared`` unpacked bytes (true or not)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    parts = [(info, source.read(info)) for info in source.infolist()]
    output = io.BytesIO()
    directory = b""
    for info, data in parts:
        encoded_name = info.filename.encode()
        if info.filename == name:
            body, part_crc, size = compressed, crc, declared
        else:
            body = zlib.compress(data, 9)[2:-4]
            part_crc, size = zlib.crc32(data), len(data)
        offset = output.tell()
        output.write(
            struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, part_crc, len(body), size, len(encoded_name), 0)
        )
        output.write(encoded_name + body)
        directory += struct.pack(
            "<4s6H3I5H2I",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            0,
            part_crc,
            len(body),
            size,
            len(encoded_name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        directory += encoded_name
    start = output.tell()
    output.write(directory)
    output.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory), start, 0))
    return output.getvalue()


def many_parts(count: int) -> bytes:
    """A workbook with ``count`` extra (empty) parts."""
    return xlsx(sheet_xml(HEADER_ROW), extra={f"xl/media/p{index}.bin": b"" for index in range(count)})


def parser_must_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes any attempt to parse a workbook fail the test at once instead of allocating: a
    bomb that got past the checks is caught here, never by the machine running out of memory."""
    import pandas as pd
    import python_calamine

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a hostile workbook reached the parser")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", refuse)
    monkeypatch.setattr(pd, "read_excel", refuse)
