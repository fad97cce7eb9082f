"""Reading the files plants keep their lists in: shared by every domain's import.

Text files are UTF-8 (with or without BOM) or, failing that, GB18030 — the encodings Chinese
Excel writes. Cells that hold a code, a number, a date or a choice are normalised where the
meaning is unambiguous (full-width characters, zero-width spaces, the apostrophe an exporter puts
before a formula sign: :func:`cell_text`); free text a person wrote — a name, a specification,
notes — is kept as written, only trimmed (:func:`free_text`): 原料泵（备） stays 原料泵（备）, 5000m³
stays 5000m³. Core module: it knows no domain.

What every import shares: the one reader (:func:`read_tables`, a file's sheets row by row), the
limits checked before a workbook is parsed (:func:`check_workbook`) and while a CSV file is read,
the header matcher (:class:`HeaderMatcher`) and the cell parsers (:func:`parse_date`,
:func:`parse_money`, :func:`parse_int`, :func:`parse_rate`, :func:`parse_choice`).
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import posixpath
import re
import unicodedata
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Generic, Protocol, TypeVar
from xml.parsers import expat

from maintenance.choices import Choice
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import gettext as _

# The day Excel's serial numbers count from (serial 1 = 1900-01-01, past its 1900 leap-year bug).
EXCEL_EPOCH = date(1899, 12, 30)
# Bytes looked at to choose a text file's encoding when it is read as a stream.
ENCODING_SNIFF_BYTES = 1 << 16


class ImportFileError(ValidationFailed):
    """The file cannot be read at all (type, size, encoding, no header)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [FieldError(_("File"), message)])


class CellError(ValueError):
    """A cell's value was refused; the message says why and how to write it."""


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def check_upload(
    filename: str,
    size: int,
    *,
    extensions: Iterable[str],
    max_bytes: int | None,
    wrong_type: Callable[[str], str],
) -> str:
    """The file's extension when it is one of ``extensions`` and not too large; ImportFileError
    otherwise. ``wrong_type`` words the refusal of another type (it is given ".ext" or "(no extension)")."""
    extension = extension_of(filename)
    if extension not in extensions:
        raise ImportFileError(wrong_type(f".{extension}" if extension else _("(no extension)")))
    if max_bytes is not None and size > max_bytes:
        raise ImportFileError(
            _("The file is larger than %(limit)s MB. Split it into smaller files.", limit=max_bytes // 2**20)
        )
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    return extension


def csv_delimiter(lines: Iterable[str]) -> str:
    """The delimiter of a CSV file from its first lines: Excel writes commas; its "Unicode text"
    export uses tabs, some locales semicolons."""
    sample = list(lines)
    return max(",\t;", key=lambda d: sum(line.count(d) for line in sample))


def not_csv_error() -> ImportFileError:
    return ImportFileError(_("The file is not a text CSV file. Save it from Excel as CSV (UTF-8) or as .xlsx."))


def csv_error(error: csv.Error) -> ImportFileError:
    return ImportFileError(_("The CSV file could not be read: %(reason)s", reason=str(error)))


def check_excel_signature(head: bytes, extension: str) -> None:
    """ImportFileError unless ``head`` (the file's first bytes) starts as the workbook the
    extension promises (.xls may also be a renamed .xlsx)."""
    is_zip, is_ole = head.startswith(b"PK\x03\x04"), head.startswith(b"\xd0\xcf\x11\xe0")
    if (extension == "xlsx" and not is_zip) or (extension == "xls" and not (is_ole or is_zip)):
        raise ImportFileError(_("The file is not an Excel workbook although its name ends in .%(ext)s.", ext=extension))


def workbook_error(error: Exception) -> ImportFileError:
    return ImportFileError(_("The workbook could not be read: %(reason)s", reason=str(error)[:200]))


def _not_text_error() -> ImportFileError:
    return ImportFileError(
        _("The file is neither UTF-8 nor GB18030 text. Save it from Excel as CSV (UTF-8) or as .xlsx.")
    )


def decode_text(content: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 with or without BOM, else GB18030 (a superset of GBK/GB2312)."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return content.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return text, "UTF-8 BOM" if content.startswith(codecs.BOM_UTF8) else "UTF-8"
    try:
        return content.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as error:
        raise _not_text_error() from error


def detect_encoding(head: bytes) -> tuple[str, str]:
    """(Python codec, encoding name) of a text file from its first bytes, for reading it as a
    stream: the same choice as :func:`decode_text`, made on ``head`` (a multi-byte character cut
    at the end of ``head`` does not count against UTF-8)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 BOM"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", "UTF-8"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
    except UnicodeDecodeError as error:
        raise _not_text_error() from error
    return "gb18030", "GB18030"


# --- Limits: what a file may hold, checked before any parser sees it ----------------------
#
# A workbook is a zip of XML parts, and a parser allocates what the XML declares: a 1.6 KB
# XLSX whose sheet has cells A1 and XFD1048576 makes calamine allocate a dense range of
# 1048576 × 16384 cells (512 GiB), a few MB of zip can unpack to gigabytes of XML, and a
# shared string of 30,000 characters referenced by a million cells is copied into each. So
# before a workbook is parsed its archive is checked (parts, their real unpacked sizes,
# compression ratios) and every XML part is walked with a streaming parser (expat) for the
# sheets' declared dimensions, the cells actually present and the text they expand to. CSV is
# bounded while it is read: line length, columns per row and rows.


@dataclass(frozen=True)
class SheetLimits:
    """How much an import file may hold. ``cells`` bounds rows × columns summed over a
    workbook's sheets (what calamine allocates); ``text_chars`` the characters its cells' text
    comes to once shared strings are copied into them."""

    rows: int
    columns: int
    cells: int
    unpacked_bytes: int
    text_chars: int
    line_chars: int = 1 << 20
    parts: int = 2000
    compression_ratio: int = 100


# Parts smaller than this may compress as well as they like (a few KB of repeated styles).
_RATIO_FLOOR_BYTES = 1 << 20
_READ_CHUNK = 1 << 20
# Room in the central directory for one part (46 bytes and its name, extra field and comment).
_DIRECTORY_BYTES_PER_PART = 1024
# Excel's own limits: 1,048,576 rows × 16,384 columns (XFD), 32,767 characters in a cell.
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,7})\$?([0-9]{1,10})")
_MAX_SHARED_STRING = 0xFFFF
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
    EOFError,
)
_SHEET_RELATION_TYPES = ("/worksheet", "/chartsheet", "/dialogsheet", "/macrosheet", "/xlmacrosheet")


def too_many_rows_error(rows: int, limit: int, *, declared: bool = False) -> ImportFileError:
    if declared:
        return ImportFileError(
            _("File too large: the sheet declares %(rows)s rows, the limit is %(limit)s rows.", rows=rows, limit=limit)
        )
    return ImportFileError(
        _("File too large: the sheet has %(rows)s rows, the limit is %(limit)s rows.", rows=rows, limit=limit)
    )


def too_many_columns_error(columns: int, limit: int, *, declared: bool = False) -> ImportFileError:
    if declared:
        return ImportFileError(
            _(
                "File too large: the sheet declares %(columns)s columns, the limit is %(limit)s columns.",
                columns=columns,
                limit=limit,
            )
        )
    return ImportFileError(
        _(
            "File too large: the sheet has %(columns)s columns, the limit is %(limit)s columns.",
            columns=columns,
            limit=limit,
        )
    )


def _too_many_cells_error(cells: int, limit: int) -> ImportFileError:
    return ImportFileError(
        _(
            "File too large: the sheets span %(cells)s cells (rows × columns), the limit is %(limit)s cells.",
            cells=cells,
            limit=limit,
        )
    )


def _damaged(reason: str) -> ImportFileError:
    return workbook_error(ValueError(reason))


def check_workbook(file: IO[bytes], limits: SheetLimits) -> None:
    """ImportFileError when the workbook in ``file`` (seekable) holds more than ``limits``
    allow, before anything parses it. A workbook that is a zip (XLSX, or an .xls that is one)
    is checked part by part; the older binary .xls is left to its parser, whose format caps a
    sheet at 65,536 × 256 cells."""
    file.seek(0)
    head = file.read(4)
    file.seek(0)
    try:
        if head == b"PK\x03\x04":
            _check_zip_workbook(file, limits)
    finally:
        file.seek(0)


def _check_central_directory(file: IO[bytes], limits: SheetLimits) -> None:
    """Bounds the archive's table of contents before zipfile reads it into one object per
    entry: its size, from the end record (found as zipfile finds it); zip64 archives (over
    65,535 parts or 4 GB) are refused."""
    size = file.seek(0, 2)
    tail_start = max(size - (1 << 16) - 22, 0)
    file.seek(tail_start)
    tail = file.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        raise _damaged("no end of central directory")
    entries, directory_size = (
        int.from_bytes(tail[end + 10 : end + 12], "little"),
        int.from_bytes(tail[end + 12 : end + 16], "little"),
    )
    zip64 = end >= 20 and tail[end - 20 : end - 16] == b"PK\x06\x07"
    if zip64 or entries == 0xFFFF or directory_size == 0xFFFFFFFF or entries > limits.parts:
        raise _too_many_parts_error(entries, limits)
    if directory_size > limits.parts * _DIRECTORY_BYTES_PER_PART:
        raise _too_many_parts_error(directory_size // _DIRECTORY_BYTES_PER_PART, limits)
    file.seek(0)


def _too_many_parts_error(parts: int, limits: SheetLimits) -> ImportFileError:
    return ImportFileError(
        _(
            "The workbook has %(n)s parts, the limit is %(limit)s: it is not a spreadsheet a person wrote.",
            n=parts,
            limit=limits.parts,
        )
    )


def _check_zip_workbook(file: IO[bytes], limits: SheetLimits) -> None:
    _check_central_directory(file, limits)
    try:
        archive = zipfile.ZipFile(file)
    except _ZIP_ERRORS as error:
        raise workbook_error(error) from error
    with archive:
        parts = archive.infolist()
        if len(parts) > limits.parts:
            raise _too_many_parts_error(len(parts), limits)
        declared = sum(part.file_size for part in parts)
        if declared > limits.unpacked_bytes:
            raise _unpacked_error(limits)
        for part in parts:
            if part.file_size > _RATIO_FLOOR_BYTES and part.file_size > limits.compression_ratio * max(
                part.compress_size, 1
            ):
                raise ImportFileError(
                    _(
                        "The workbook part %(name)s unpacks to %(ratio)s times its size, the limit is %(limit)s: "
                        "it is not a spreadsheet a person wrote.",
                        name=part.filename[:100],
                        ratio=part.file_size // max(part.compress_size, 1),
                        limit=limits.compression_ratio,
                    )
                )
        try:
            _WorkbookScan(archive, limits).run()
        except ImportFileError:
            raise
        except _ZIP_ERRORS as error:  # damaged, encrypted or compressed in a way zipfile does not know
            raise workbook_error(error) from error


def _unpacked_error(limits: SheetLimits) -> ImportFileError:
    return ImportFileError(
        _(
            "File too large: the workbook unpacks to more than %(limit)s MB.",
            limit=max(limits.unpacked_bytes // 2**20, 1),
        )
    )


class _WorkbookScan:
    """One pass over a workbook's parts, counting the bytes they really unpack to (never
    trusting the sizes the archive declares) and walking the XML ones with expat."""

    def __init__(self, archive: zipfile.ZipFile, limits: SheetLimits) -> None:
        self.archive = archive
        self.limits = limits
        self.unpacked = 0
        self.cells = 0  # rows × columns of the sheets walked so far
        self.text_chars = 0
        self.shared_lengths: array[int] = array("H")

    def run(self) -> None:
        parts = self.archive.infolist()
        relations = [part for part in parts if part.filename.lower().endswith(".rels")]
        sheet_targets: set[str] = set()
        shared_targets = {part.filename for part in parts if part.filename.lower().endswith("sharedstrings.xml")}
        for part in relations:
            for kind, target in self._relations(part):
                if kind.endswith("/sharedstrings"):
                    shared_targets.add(target)
                elif kind.endswith(_SHEET_RELATION_TYPES):
                    sheet_targets.add(target)
        shared = [part for part in parts if part.filename in shared_targets]
        for part in shared:
            self._merge_shared_lengths(self._shared_string_lengths(part))
        for part in parts:
            if part in relations or part in shared:
                continue
            if part.filename in sheet_targets or part.filename.lower().endswith(".xml"):
                self._scan_sheet(part)
            else:
                for _chunk in self._chunks(part):
                    pass

    # --- Reading parts ---

    def _chunks(self, part: zipfile.ZipInfo) -> Iterator[bytes]:
        """The part's bytes as they really unpack: the declared size is not trusted (calamine's
        zip reader does not stop at it), so the part is read to the end of its compressed data
        within what is left of the budget."""
        unbounded = copy.copy(part)
        unbounded.file_size = 1 << 62  # zipfile then reads to the end of the data; the budget stops it
        size = 0
        with self.archive.open(unbounded) as stream:
            while chunk := stream.read(_READ_CHUNK):
                size += len(chunk)
                self.unpacked += len(chunk)
                if self.unpacked > self.limits.unpacked_bytes:
                    raise _unpacked_error(self.limits)
                yield chunk
        if size != part.file_size:
            raise _damaged(f"{part.filename[:100]}: {size} bytes, {part.file_size} declared")

    def _parse(self, part: zipfile.ZipInfo, parser: Any) -> None:
        try:
            for chunk in self._chunks(part):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as error:
            raise _damaged(f"{part.filename[:100]}: {error}") from error

    # --- Relationships and shared strings ---

    def _relations(self, part: zipfile.ZipInfo) -> list[tuple[str, str]]:
        """(type, target part) of each relationship a .rels part declares, the type lowercased."""
        found: list[tuple[str, str]] = []
        folder = posixpath.dirname(posixpath.dirname(part.filename))

        def start(name: str, attrs: dict[str, str]) -> None:
            if name.rpartition(":")[2] != "Relationship" or attrs.get("TargetMode") == "External":
                return
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found.append((attrs.get("Type", "").lower(), posixpath.normpath(path)))

        parser = _new_parser()
        parser.StartElementHandler = start
        self._parse(part, parser)
        return found

    def _merge_shared_lengths(self, lengths: array[int]) -> None:
        """Keeps, by index, the longest string any shared-strings part gives."""
        if len(lengths) > len(self.shared_lengths):
            lengths, self.shared_lengths = self.shared_lengths, lengths
        for index, length in enumerate(lengths):
            if length > self.shared_lengths[index]:
                self.shared_lengths[index] = length

    def _count_shared(self, count: int) -> None:
        if count > self.limits.cells:
            raise _too_many_cells_error(count, self.limits.cells)

    def _shared_string_lengths(self, part: zipfile.ZipInfo) -> array[int]:
        """The length of each shared string, by index."""
        lengths: array[int] = array("H")
        state = {"in_string": False, "in_text": False, "length": 0}

        def start(name: str, attrs: dict[str, str]) -> None:
            name = name.rpartition(":")[2]
            if name == "si":
                state["in_string"], state["length"] = True, 0
                self._count_shared(len(lengths) + 1)
            elif name == "t" and state["in_string"]:
                state["in_text"] = True

        def end(name: str) -> None:
            name = name.rpartition(":")[2]
            if name == "t":
                state["in_text"] = False
            elif name == "si" and state["in_string"]:
                state["in_string"] = False
                lengths.append(min(int(state["length"]), _MAX_SHARED_STRING))

        def text(data: str) -> None:
            if state["in_text"]:
                state["length"] = int(state["length"]) + len(data)

        parser = _new_parser()
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
        self._parse(part, parser)
        return lengths

    # --- Sheets ---

    def _scan_sheet(self, part: zipfile.ZipInfo) -> None:
        sheet = _SheetScan(self)
        parser = _new_parser()
        parser.StartElementHandler, parser.EndElementHandler = sheet.start, sheet.end
        parser.CharacterDataHandler = sheet.text
        self._parse(part, parser)
        self.cells += sheet.rows * sheet.columns


def _new_parser() -> Any:
    """An expat parser that refuses a document type declaration (OOXML has none; entities
    declared in one are how XML bombs expand)."""
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def refuse(*_args: Any) -> None:
        raise expat.ExpatError("a document type declaration is not allowed")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    return parser


def _column_number(letters: str) -> int:
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - 64
    return column


def _cell_position(ref: str) -> tuple[int, int]:
    """(row, column), from 1, of an A1 reference."""
    match = _CELL_REF.fullmatch(ref)
    if match is None:
        raise _damaged(f"cell reference {ref[:20]!r}")
    return int(match[2]), _column_number(match[1])


class _SheetScan:
    """What one sheet holds: its declared dimension, the largest row and column a cell is in
    (with or without an ``r`` attribute) and the text its shared-string cells expand to.
    Refuses as soon as a limit is passed. ``start``, ``end`` and ``text`` are expat's handlers."""

    def __init__(self, workbook: _WorkbookScan) -> None:
        self.workbook = workbook
        self.limits = workbook.limits
        self.in_data = False
        self.row = 0  # the current row's number
        self.column = 0  # the last cell's column in the current row
        self.rows = 0
        self.columns = 0
        self.shared_cell = False
        self.value: list[str] | None = None

    def reach(self, row: int, column: int) -> None:
        """A cell at (row, column) is present."""
        if row > self.rows:
            self.rows = row
            if row > self.limits.rows:
                raise too_many_rows_error(row, self.limits.rows)
        if column > self.columns:
            self.columns = column
            if column > self.limits.columns:
                raise too_many_columns_error(column, self.limits.columns)
        cells = self.workbook.cells + self.rows * self.columns
        if cells > self.limits.cells:
            raise _too_many_cells_error(cells, self.limits.cells)

    def add_shared_text(self, index: int, count: int = 1) -> None:
        """``count`` cells hold shared string ``index``: calamine copies it into each."""
        lengths = self.workbook.shared_lengths
        if index < len(lengths):
            self.workbook.text_chars += lengths[index] * count
            if self.workbook.text_chars > self.limits.text_chars:
                raise ImportFileError(
                    _(
                        "File too large: the text of the cells comes to more than %(limit)s million characters.",
                        limit=max(self.limits.text_chars // 1_000_000, 1),
                    )
                )

    def check_dimension(self, ref: str) -> None:
        corners = [_cell_position(corner) for corner in ref.split(":") if corner]
        if not corners:
            return
        rows = max(row for row, _column in corners)
        columns = max(column for _row, column in corners)
        if rows > self.limits.rows:
            raise too_many_rows_error(rows, self.limits.rows, declared=True)
        if columns > self.limits.columns:
            raise too_many_columns_error(columns, self.limits.columns, declared=True)
        if rows * columns > self.limits.cells:
            raise _too_many_cells_error(rows * columns, self.limits.cells)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            if not self.in_data:
                return
            ref = attrs.get("r")
            if ref:
                row, self.column = _cell_position(ref)
            else:
                row, self.column = self.row, self.column + 1
            self.reach(row, self.column)
            self.shared_cell = attrs.get("t") == "s"
        elif name == "v":
            if self.shared_cell:
                self.value = []
        elif name == "row":
            if not self.in_data:
                return
            number = attrs.get("r")
            if number is None:
                self.row += 1
            elif number.isdigit() and len(number) <= 10:
                self.row = int(number)
            else:
                raise _damaged(f"row number {number[:20]!r}")
            self.column = 0
        elif name == "sheetData":
            self.in_data = True
        elif name == "dimension":
            self.check_dimension(attrs.get("ref", ""))

    def end(self, name: str) -> None:
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "v" and self.value is not None:
            text, self.value = "".join(self.value).strip(), None
            if text.isdigit() and len(text) <= 10:
                self.add_shared_text(int(text))
        elif name == "c":
            self.shared_cell = False
        elif name == "sheetData":
            self.in_data = False

    def text(self, data: str) -> None:
        if self.value is not None:
            self.value.append(data)


def bounded_lines(stream: IO[str], limits: SheetLimits) -> Iterator[str]:
    """The lines of a text stream (opened with ``newline=""``), refusing one longer than
    ``limits.line_chars`` before it is read whole."""
    number = 0
    while line := stream.readline(limits.line_chars + 1):
        number += 1
        if len(line) > limits.line_chars:
            raise ImportFileError(
                _(
                    "File too large: line %(line)s is longer than %(limit)s characters.",
                    line=number,
                    limit=limits.line_chars,
                )
            )
        yield line


def bounded_csv_rows(stream: IO[str], delimiter: str, limits: SheetLimits) -> Iterator[list[str]]:
    """csv.reader over ``stream`` that refuses, as it reads, a line longer than the limit, a row
    of more columns than the limit and more rows than the limit."""
    for number, row in enumerate(csv.reader(bounded_lines(stream, limits), delimiter=delimiter), start=1):
        if number > limits.rows:
            raise ImportFileError(
                _(
                    "File too large: the file has more than %(limit)s rows, the limit. Split it into smaller files.",
                    limit=limits.rows,
                )
            )
        if len(row) > limits.columns:
            raise ImportFileError(
                _(
                    "File too large: row %(row)s has %(columns)s columns, the limit is %(limit)s columns.",
                    row=number,
                    columns=len(row),
                    limit=limits.columns,
                )
            )
        yield row


# --- Reading: one reader for every import -------------------------------------------------
#
# CSV is read through the csv module line by line (bounded as it goes), a workbook through
# python-calamine, whose cells stay in Rust until a row is asked for: pandas' read_excel with
# the calamine engine does the same parse and then builds a DataFrame of every sheet on top
# (bench/bench_spreadsheets.py measures the difference).

# Lines looked at to choose a CSV file's delimiter.
_DELIMITER_SNIFF_LINES = 30


@dataclass
class Table:
    """One sheet's rows as (row number as Excel shows it, cells), read lazily."""

    rows: Iterator[tuple[int, Sequence[Any]]]
    file_format: str  # CSV, XLSX or XLS
    encoding: str | None = None
    sheet: str | None = None


def read_tables(file: IO[bytes], extension: str, limits: SheetLimits) -> Iterator[Table]:
    """The sheets of ``file`` (seekable, binary; ``extension`` as :func:`check_upload` gave it),
    each read as its rows are asked for. A workbook is checked against ``limits`` before it is
    parsed, a CSV file while it is read; the file is left open for the caller to close."""
    return _csv_tables(file, limits) if extension == "csv" else _excel_tables(file, extension, limits)


def _csv_tables(file: IO[bytes], limits: SheetLimits) -> Iterator[Table]:
    head = file.read(ENCODING_SNIFF_BYTES)
    file.seek(0)
    codec, encoding = detect_encoding(head)
    if b"\x00" in head and codec != "utf-16":
        raise not_csv_error()
    delimiter = csv_delimiter(head.decode(codec, errors="ignore").splitlines()[:_DELIMITER_SNIFF_LINES])
    text = io.TextIOWrapper(file, encoding=codec, newline="")

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        try:
            yield from enumerate(bounded_csv_rows(text, delimiter, limits), start=1)
        except UnicodeDecodeError as error:
            raise ImportFileError(
                _(
                    "The file changes encoding part-way (it began as %(encoding)s). Save it from Excel as "
                    "CSV (UTF-8) or as .xlsx.",
                    encoding=encoding,
                )
            ) from error
        except csv.Error as error:
            raise csv_error(error) from error
        finally:
            if not file.closed:
                text.detach()  # the caller closes the file, not the wrapper

    yield Table(rows(), "CSV", encoding)


def _excel_tables(file: IO[bytes], extension: str, limits: SheetLimits) -> Iterator[Table]:
    import python_calamine  # loaded when a workbook is actually read

    head = file.read(8)
    file.seek(0)
    check_excel_signature(head, extension)
    check_workbook(file, limits)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(file)
    except Exception as error:  # calamine and zipfile raise their own kinds
        raise workbook_error(error) from error
    file_format = "XLSX" if extension == "xlsx" else "XLS"
    for index, name in enumerate(workbook.sheet_names):
        try:
            sheet = workbook.get_sheet_by_index(index)
        except Exception as error:
            raise workbook_error(error) from error
        first_row = sheet.start[0] if sheet.start else 0  # calamine skips the empty rows above the data
        yield Table(enumerate(sheet.iter_rows(), start=first_row + 1), file_format, sheet=str(name))


# --- Header matching ----------------------------------------------------------------------


def header_keys(text: str) -> list[str]:
    """Comparison keys of a header: as written and without a bracketed unit, so 原值(元) and
    数值[mm/s] also match 原值 and 数值."""
    folded = normalise_text(text).casefold()
    bare = re.sub(r"[(\[].*?[)\]]", "", folded)
    return list(dict.fromkeys(key for key in (squash(folded), squash(bare)) if key))


class HeaderMatcher:
    """Which field a header cell names, given every name of each field (template headers in
    Chinese and English, the field itself, the aliases people write). A name claimed by two
    fields belongs to the first."""

    def __init__(self, names: Mapping[str, Iterable[str]]) -> None:
        self._field_by_key: dict[str, str] = {}
        for field_name, texts in names.items():
            for text in texts:
                for key in header_keys(text):
                    self._field_by_key.setdefault(key, field_name)

    def field_for(self, header: Any) -> str | None:
        if not isinstance(header, str):
            return None
        for key in header_keys(header):
            if key in self._field_by_key:
                return self._field_by_key[key]
        return None

    def fields_in(self, cells: Sequence[Any]) -> dict[int, str]:
        """Column index → field, for each cell of a row that names a field."""
        found: dict[int, str] = {}
        for index, cell in enumerate(cells):
            if (name := self.field_for(cell)) is not None:
                found[index] = name
        return found


@dataclass(frozen=True)
class ImportColumn:
    """A column an import reads: its field, the template's header in Chinese and English, the
    other headers people write for it, and whether a row must fill it."""

    field: str
    zh: str  # the template's header
    en: str
    aliases: tuple[str, ...] = ()
    required: bool = False


def column_matcher(columns: Iterable[ImportColumn]) -> HeaderMatcher:
    return HeaderMatcher({c.field: (c.zh, c.en, c.field, *c.aliases) for c in columns})


def column_header(columns: Iterable[ImportColumn], name: str) -> str:
    """The template's header of the field ``name``: what an error names the column by."""
    return next(c.zh for c in columns if c.field == name)


def parse_columns(
    columns: Iterable[ImportColumn],
    cells: Mapping[str, Any],
    parse: Callable[[str, Any], Any],
    refuse: Callable[[str, str], None],
) -> dict[str, Any]:
    """Field → value of a data row, each cell read by ``parse`` (field, raw cell); a cell it cannot
    read, or a required one left empty, is refused (field, message) and the row read on."""
    values: dict[str, Any] = {}
    for column in columns:
        try:
            values[column.field] = parse(column.field, cells.get(column.field))
        except CellError as error:
            refuse(column.field, str(error))
            continue
        if column.required and values[column.field] in (None, ""):
            refuse(column.field, _("This column is required."))
    return values


def first_sheet_rows(content: bytes, limits: SheetLimits) -> list[tuple[int, Sequence[Any]]]:
    """The rows of an XLSX file's first sheet (none when it has no sheet); raises
    :class:`ImportFileError` when the file cannot be read or exceeds ``limits``."""
    table = next(iter(read_tables(io.BytesIO(content), "xlsx", limits)), None)
    return list(table.rows) if table else []


# The header row may sit below a title and notes; it is looked for among the sheet's first rows.
HEADER_SCAN_ROWS = 20


def find_header_row(
    rows: Sequence[tuple[int, Sequence[Any]]], is_header: Callable[[Sequence[Any]], bool]
) -> int | None:
    """Index in ``rows`` ((row number, cells) as a :class:`Table` gives them) of the first row,
    among the first :data:`HEADER_SCAN_ROWS`, that ``is_header`` accepts; None when there is none."""
    return next((i for i, (_number, cells) in enumerate(rows[:HEADER_SCAN_ROWS]) if is_header(cells)), None)


def cells_below_header(
    rows: Sequence[tuple[int, Sequence[Any]]], header_at: int, matcher: HeaderMatcher
) -> list[tuple[int, dict[str, Any]]]:
    """The data rows under the header row at ``header_at``, as (row number, field → raw cell) for
    the columns ``matcher`` recognises in that header; rows with nothing in those columns are left out."""
    columns = matcher.fields_in(rows[header_at][1])
    data = [
        (number, {name: cells[index] for index, name in columns.items() if index < len(cells)})
        for number, cells in rows[header_at + 1 :]
    ]
    return [(number, cells) for number, cells in data if any(cell_text(value) for value in cells.values())]


# --- Row-by-row imports with a preview ------------------------------------------------------

# How many rows the preview lists: enough to check the file was read right, not the whole file.
PREVIEW_ROWS = 50


class CheckedRow(Protocol):
    """A data row of an import, checked: its reasons for being refused, if any."""

    errors: list[FieldError]

    @property
    def ok(self) -> bool: ...


RowT = TypeVar("RowT", bound=CheckedRow)


@dataclass
class ImportRow:
    """The common part of an import's data rows: the row's number in the file and its errors (each
    import's row adds what the row says and what would happen to it)."""

    row: int
    errors: list[FieldError] = field(default_factory=list, kw_only=True)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class RowImportReport(Generic[RowT]):
    """What an import found in a file: the errors of the file itself, and every data row checked.
    Each import adds its counts and says what makes it importable."""

    rows: list[RowT] = field(default_factory=list)
    file_errors: list[FieldError] = field(default_factory=list)

    @property
    def errors(self) -> list[FieldError]:
        return [*self.file_errors, *(error for row in self.rows for error in row.errors)]

    @property
    def invalid(self) -> int:
        return sum(1 for row in self.rows if not row.ok)

    @property
    def preview(self) -> list[RowT]:
        return self.rows[:PREVIEW_ROWS]


@dataclass(frozen=True)
class ValueList:
    """A sheet of an import template listing the values a column accepts (codes and labels)."""

    name: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]


def import_template(
    sheet_name: str,
    columns: Sequence[ImportColumn],
    examples: Sequence[Sequence[object]],
    *,
    value_lists: Sequence[ValueList] = (),
    widths: Mapping[str, int] | None = None,
) -> bytes:
    """An import's template workbook: the columns' Chinese headers in bold over example rows
    (amounts given as floats shown with two decimals), then a sheet per list of accepted values.
    ``widths`` widens columns by field (default 16 characters)."""
    import xlsxwriter  # loaded when a template is asked for

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet = book.add_worksheet(sheet_name)
    for index, column in enumerate(columns):
        sheet.write(0, index, column.zh, bold)
        sheet.set_column(index, index, (widths or {}).get(column.field, 16))
    for number, example in enumerate(examples, start=1):
        for index, value in enumerate(example):
            sheet.write(number, index, value, money if isinstance(value, float) else None)
    for value_list in value_lists:
        listing = book.add_worksheet(value_list.name)
        listing.write_row(0, 0, list(value_list.headers), bold)
        for number, row in enumerate(value_list.rows, start=1):
            listing.write_row(number, 0, list(row))
    book.close()
    return buffer.getvalue()


def data_below_header(
    rows: Sequence[tuple[int, Sequence[Any]]],
    matcher: HeaderMatcher,
    is_header: Callable[[Any], bool],
    no_header: str,
) -> list[tuple[int, dict[str, Any]]]:
    """The data rows under a table's header row, by field; :class:`ImportFileError` with
    ``no_header`` when no row is a header, or when nothing is under it."""
    header_at = find_header_row(rows, is_header)
    if header_at is None:
        raise ImportFileError(no_header)
    data = cells_below_header(rows, header_at, matcher)
    if not data:
        raise ImportFileError(_("The file has a header row but no lines below it."))
    return data


ReportT = TypeVar("ReportT", bound=RowImportReport[Any])


class RowImportFailed(ValidationFailed, Generic[ReportT]):
    """Nothing was written; ``report`` says why, row by row."""

    def __init__(self, message: str, report: ReportT) -> None:
        super().__init__(message, report.errors)
        self.report = report


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_FORMULA_START = ("=", "+", "-", "@")
# What people write in a cell to mean "nothing here".
NOTHING = frozenset({"-", "--", "—", "——", "/", "\\", "n/a", "na", "无"})


# Whitespace (ideographic spaces included) and zero-width characters around a cell's text.
_SURROUNDING_SPACE = re.compile(r"^[\s\u200b\u200c\u200d\u2060\ufeff]+|[\s\u200b\u200c\u200d\u2060\ufeff]+$")


def normalise_text(value: str, *, keep_lines: bool = False) -> str:
    """NFKC (full-width letters, digits, spaces and punctuation → their ordinary forms), trimmed,
    runs of spaces collapsed; the apostrophe an exporter puts before =, +, - or @ is removed."""
    text = unicodedata.normalize("NFKC", value).translate(_ZERO_WIDTH)
    if keep_lines:
        lines = [" ".join(line.split()) for line in text.splitlines()]
        text = "\n".join(lines).strip()
    else:
        text = " ".join(text.split())
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        text = text[1:]
    return text


def free_text(value: Any) -> str:
    """Text a person wrote (a name, a specification, notes, a manufacturer) exactly as written:
    only the spaces around it are trimmed, CR LF line breaks become LF and the apostrophe an
    exporter puts before =, +, - or @ is removed. Full-width letters, digits and brackets, ³, ²
    and runs of spaces inside are the user's and stay. Other cells read as :func:`cell_text`."""
    if not isinstance(value, str):
        return cell_text(value)
    text = _SURROUNDING_SPACE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        text = text[1:]
    return text


def float_text(value: float) -> str:
    """The shortest text that reads back as ``value`` (repr), never in exponent form."""
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def cell_text(value: Any, *, keep_lines: bool = False) -> str:
    """Any raw cell as the text a user would see in it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return normalise_text(value, keep_lines=keep_lines)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return "" if value != value else float_text(value)  # NaN: an empty cell
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return normalise_text(str(value))


def squash(text: str) -> str:
    """A comparison key for headers and names: NFKC, case-folded, without spaces and the
    punctuation people vary."""
    return re.sub(r"[\s*:：/\\._\-·、]", "", unicodedata.normalize("NFKC", text).casefold())


C = TypeVar("C", bound=Choice)


def choice_names(choice: type[C], extra: Mapping[str, str] | None = None) -> dict[str, C]:
    """Every way a member of ``choice`` may be written in a cell, by :func:`squash` key: its code,
    its labels, the parts of 容器/塔器 and of A类(关键), then ``extra`` (text → code). The first
    member to claim a key keeps it."""
    names: dict[str, C] = {}
    for member in choice:
        texts = [member.value, member.zh, member.en]
        for label in (member.zh, member.en):
            folded = unicodedata.normalize("NFKC", label)
            texts.extend(folded.split("/"))
            texts.append(re.sub(r"\(.*?\)", "", folded))
            texts.extend(re.findall(r"\((.*?)\)", folded))
        for text in texts:
            key = squash(text)
            if key:
                names.setdefault(key, member)
    for text, code in (extra or {}).items():
        names.setdefault(squash(text), choice(code))
    return names


# --- Cell parsers: what people write for dates, amounts, counts, rates and choices ----------


# Excel serial numbers taken as dates: 1950-01-01 … 2099-12-31. Smaller numbers are more
# likely years or counts than dates in the 1900s, so they are refused rather than guessed.
_SERIAL_MIN = (date(1950, 1, 1) - EXCEL_EPOCH).days
_SERIAL_MAX = (date(2099, 12, 31) - EXCEL_EPOCH).days
_DATE_FORMS = (
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_AMBIGUOUS_DATE = re.compile(r"^\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2,4}$")
_MONTH_ONLY = re.compile(r"^(\d{4})\s*(?:年\s*(\d{1,2})\s*月?|[-/.](\d{1,2}))$")


def _date_hint() -> str:
    return _("Write dates as 2024-03-05, 2024/3/5, 2024.03.05 or 2024年3月5日.")


def _make_date(year: int, month: int, day: int, original: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(_("There is no date %(value)s.", value=original)) from None


def _serial_date(number: float, original: str) -> date:
    if _SERIAL_MIN <= number <= _SERIAL_MAX:
        return EXCEL_EPOCH + timedelta(days=int(number))  # a fraction is the time of day
    if float(number).is_integer() and 19000101 <= number <= 20991231:
        digits = str(int(number))
        return _make_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]), original)
    raise CellError(_("%(value)s is not a date. %(hint)s", value=original, hint=_date_hint()))


def parse_date(value: Any) -> date | None:
    """Date cells, Excel serials and the unambiguous written forms; D/M/Y and M/D/Y are refused."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, time):
        raise CellError(_("%(value)s is a time of day, not a date.", value=value.isoformat()))
    if isinstance(value, bool):
        raise CellError(_("%(value)s is not a date. %(hint)s", value=value, hint=_date_hint()))
    if isinstance(value, int | float):
        return None if value != value else _serial_date(value, cell_text(value))
    text = cell_text(value)
    if text.casefold() in NOTHING or not text:
        return None
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return _make_date(year, month, day, text)
    if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        return _serial_date(float(text), text)
    if _AMBIGUOUS_DATE.match(text):
        raise CellError(
            _(
                "%(value)s is ambiguous: day and month could be either way round. Write it as year-month-day, "
                "e.g. 2024-03-05.",
                value=text,
            )
        )
    if _MONTH_ONLY.match(text):
        raise CellError(_("%(value)s has no day. Give the full date, e.g. 2024-03-05.", value=text))
    raise CellError(_("%(value)s is not a date. %(hint)s", value=text, hint=_date_hint()))


_CENT = Decimal("0.01")
_MONEY_LIMIT = Decimal(10) ** 14  # Numeric(16, 2)
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_PLAIN_NUMBER = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$", re.IGNORECASE)


def _decimal(value: Any) -> tuple[Decimal, bool]:
    """(number, came from a binary float) for numeric cells; text goes through the parsers."""
    if isinstance(value, bool):
        raise CellError(_("%(value)s is not a number.", value=value))
    if isinstance(value, int):
        return Decimal(value), False
    return Decimal(repr(value)), True


def _number_text(text: str) -> Decimal:
    """A non-negative number written with optional thousands separators (1,234,567.00)."""
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    bare = text.strip("()").lstrip("-+").strip()
    if "," in bare:
        if not _GROUPED.match(bare):
            raise CellError(_("%(value)s is ambiguous: commas must separate thousands (1,234,567.00).", value=text))
        bare = bare.replace(",", "")
    if not _PLAIN_NUMBER.match(bare):
        raise CellError(_("%(value)s is not a number.", value=text))
    number = Decimal(bare)
    if negative and number:
        raise CellError(_("%(value)s is negative; the value must be 0 or more.", value=text))
    return number


def _to_cents(number: Decimal, *, from_float: bool, original: str) -> Decimal:
    if not number.is_finite():
        raise CellError(_("%(value)s is not a number.", value=original))
    if number < 0:
        raise CellError(_("%(value)s is negative; the value must be 0 or more.", value=original))
    # A number longer than the decimal context holds cannot be rounded to fen: it is too large anyway.
    cents = number.quantize(_CENT) if number < _MONEY_LIMIT else number
    # A float cell may carry binary noise (1234.5600000000002); text must be exact.
    if cents != number and not (from_float and abs(cents - number) < Decimal("0.000001")):
        raise CellError(_("%(value)s has more than two decimal places (fen).", value=original))
    if cents >= _MONEY_LIMIT:
        raise CellError(_("%(value)s is too large.", value=original))
    return cents


def parse_money(value: Any, *, scale: Decimal = Decimal(1)) -> Decimal | None:
    """元 as Decimal: 1,234,567.00, ¥1234, 1234元, 12.5万 (=125000.00), 1.2亿; numeric cells via repr,
    never through binary arithmetic. ``scale`` is 10000 under a 原值(万元) header."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value:
            return None
        number, from_float = _decimal(value)
        return _to_cents(number * scale, from_float=from_float, original=cell_text(value))
    text = cell_text(value)
    if not text or text.casefold() in NOTHING:
        return None
    compact = text.replace(" ", "")
    unit = scale
    for suffix, multiplier in (("万元", 10**4), ("亿元", 10**8), ("万", 10**4), ("亿", 10**8)):
        if compact.endswith(suffix):
            compact, unit = compact[: -len(suffix)], Decimal(multiplier)
            break
    compact = re.sub(r"^(?:¥|RMB|CNY)|(?:元|RMB|CNY)$", "", compact, flags=re.IGNORECASE)
    compact = re.sub(r"^(-?)(?:¥|RMB|CNY)", r"\1", compact, flags=re.IGNORECASE)
    if not compact:
        raise CellError(_("%(value)s is not an amount.", value=text))
    try:
        number = _number_text(compact)
    except CellError:
        raise
    except InvalidOperation:
        raise CellError(_("%(value)s is not an amount.", value=text)) from None
    return _to_cents(number * unit, from_float=False, original=text)


def parse_int(value: Any, *, low: int, high: int) -> int | None:
    if isinstance(value, float) and value != value:
        return None
    text = cell_text(value)
    if not text or text.casefold() in NOTHING:
        return None
    bare = re.sub(r"(?:年|years?|yrs?)$", "", text, flags=re.IGNORECASE).strip()
    match = re.fullmatch(r"(\d+)(?:\.0+)?", bare)
    if match is None:
        raise CellError(_("%(value)s is not a whole number.", value=text))
    number = int(match.group(1))
    if not low <= number <= high:
        raise CellError(_("%(value)s is out of range: enter %(low)s to %(high)s.", value=text, low=low, high=high))
    return number


_RATE_STEP = Decimal("0.0001")


def parse_rate(value: Any, *, percent_header: bool = False) -> Decimal | None:
    """A fraction of 1: 5% or 0.05. A bare number above 1 is a percentage only under a 残值率(%) header."""
    if isinstance(value, float) and value != value:
        return None
    text = cell_text(value)
    if not text or text.casefold() in NOTHING:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number, from_float = _decimal(value)
        is_percent = False
    else:
        is_percent = text.endswith(("%", "％"))
        number, from_float = _number_text(text.rstrip("%％").strip()), False
    if is_percent or (number > 1 and percent_header):
        number = number / 100
    elif number > 1:
        raise CellError(_("%(value)s is ambiguous: write the rate as 5%% or 0.05.", value=text))
    if number > 1:
        raise CellError(_("%(value)s is more than 100%%.", value=text))
    if number < 0:
        raise CellError(_("%(value)s is negative; the value must be 0 or more.", value=text))
    rounded = number.quantize(_RATE_STEP)
    if rounded != number and not (from_float and abs(rounded - number) < Decimal("0.0000001")):
        raise CellError(_("%(value)s has more decimal places than 0.0001 (0.01%%).", value=text))
    return rounded


def parse_choice(value: Any, names: Mapping[str, C], choice: type[C]) -> C | None:
    """The member of ``choice`` a cell names, by any of ``names`` (:func:`choice_names`); None for
    an empty cell."""
    text = cell_text(value)
    if not text:
        return None
    member = names.get(squash(text))
    if member is None:
        raise CellError(
            _("%(value)s is not one of: %(options)s.", value=text, options=", ".join(item.label for item in choice))
        )
    return member
