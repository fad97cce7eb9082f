"""Reading the files plants keep their lists in: shared by every domain's import.

Text files are UTF-8 (with or without BOM) or, failing that, GB18030 — the encodings Chinese
Excel writes. Cells are normalised where the meaning is unambiguous (full-width characters,
zero-width spaces, the apostrophe an exporter puts before a formula sign). Core module: it
knows no domain.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

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
