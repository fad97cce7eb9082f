"""Reading the files plants keep their lists in: shared by every domain's import.

Text files are UTF-8 (with or without BOM) or, failing that, GB18030 — the encodings Chinese
Excel writes. Cells that hold a code, a number, a date or a choice are normalised where the
meaning is unambiguous (full-width characters, zero-width spaces, the apostrophe an exporter puts
before a formula sign: :func:`cell_text`); free text a person wrote — a name, a specification,
notes — is kept as written, only trimmed (:func:`free_text`): 原料泵（备） stays 原料泵（备）, 5000m³
stays 5000m³. Core module: it knows no domain.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

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
