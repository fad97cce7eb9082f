"""Importing the asset registry from the spreadsheets plants actually keep.

A file is read whole as raw cells: XLSX (and XLS) through pandas with python-calamine,
CSV decoded as UTF-8 (with or without BOM) or, failing that, GB18030, the encodings
Chinese Excel writes. The header row is found by its column names (Chinese or English,
with aliases), wherever it sits under a title row; blank rows, repeated header rows and
合计/小计/总计 rows are skipped. Cells holding a code, a number, a date or a choice are
normalised where the meaning is unambiguous (full-width characters, 2024年3月5日, Excel
serials, 12.5万, 5%) and refused with a reason where it is not (03/05/24); free text — names,
specifications, manufacturers, custodians, reasons, notes — is stored as written, only trimmed
(原料泵（备） and 5000m³ stay as they are). Equipment classes are given by code, label or any
alias in the class alias table (离心泵, 叉车, 工业管道…); an unknown word is refused naming the
closest classes.

A retired row without its retirement date or reason (an old ledger that never recorded them)
is imported as retired with them unknown, and listed as a warning, apart from the errors.

Every row is checked before anything is written, and every problem is reported with the
Excel row number, the column as the user named it and what to do about it. Writes go
through :func:`service.create_asset` / :func:`service.update_asset` (validated, versioned,
logged); an existing tag updates that asset. The import never commits: the caller's
transaction does, so a failure anywhere leaves nothing behind (:class:`ImportFailed`).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance import spreadsheets
from maintenance.assets import class_aliases, service
from maintenance.assets.choices import AssetClass, AssetStatus, Criticality, SpecialCategory
from maintenance.assets.class_aliases import ClassWord
from maintenance.assets.models import Asset, AssetCreate, AssetFields, AssetUpdate
from maintenance.audit.service import Actor
from maintenance.choices import Choice
from maintenance.config import get_settings
from maintenance.db import plant_today
from maintenance.exceptions import FieldError, MaintenanceError, ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.org.models import Unit, Workshop
from maintenance.spreadsheets import EXCEL_EPOCH, CellError, ImportFileError, cell_text, decode_text, free_text
from maintenance.spreadsheets import NOTHING as _NOTHING
from maintenance.spreadsheets import squash as _squash

logger = logging.getLogger("maintenance.imports")

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What the upload form and the CLI accept (calamine reads the older .xls as well).
EXTENSIONS = ("xlsx", "xls", "csv")
PREVIEW_ROWS = 20
# The characters a workbook's cells may come to once its shared strings are copied into them.
MAX_TEXT_CHARS = 50_000_000
# The header row is looked for among the first rows only (titles and notes sit above it).
HEADER_SCAN_ROWS = 30

ProgressCallback = Callable[[int, int], None]


class ImportMode(StrEnum):
    ALL_OR_NOTHING = "all"
    VALID_ONLY = "valid_only"


# --- Columns ------------------------------------------------------------------------------

# "code": normalised (full-width forms → ordinary ones); "text" and "notes": free text, kept as written.
Kind = Literal["code", "text", "notes", "choice", "date", "money", "int", "rate", "workshop", "unit", "parent"]


@dataclass(frozen=True)
class Column:
    """One importable column: the model field, its template headers and the names users give it."""

    field: str
    zh: str
    en: str
    kind: Kind = "text"
    aliases: tuple[str, ...] = ()
    required: bool = False
    choice: type[Choice] | None = None

    @property
    def label(self) -> str:
        return self.zh if current_locale() == "zh_CN" else self.en

    @property
    def max_length(self) -> int | None:
        info = AssetFields.model_fields.get(self.field)
        for item in info.metadata if info else ():
            if hasattr(item, "max_length"):
                return int(item.max_length)
        return None


COLUMNS: tuple[Column, ...] = (
    Column(
        "tag",
        "位号",
        "Tag",
        "code",
        aliases=("设备位号", "设备编号", "tag no", "tag number", "equipment tag"),
        required=True,
    ),
    Column("name", "设备名称", "Name", aliases=("名称", "asset name", "equipment name"), required=True),
    Column(
        "asset_class",
        "设备类别",
        "Class",
        "choice",
        ("类别", "设备分类", "设备类型", "equipment class", "asset class", "iso 14224 class"),
        required=True,
        choice=AssetClass,
    ),
    Column("workshop", "车间", "Workshop", "workshop", ("所属车间", "使用车间", "车间名称"), required=True),
    Column("unit", "装置", "Unit", "unit", ("工段", "装置/工段", "所属装置", "装置名称")),
    Column("parent_tag", "上级设备", "Parent tag", "parent", ("上级位号", "上级设备位号", "所属设备", "parent")),
    Column("manufacturer", "制造厂", "Manufacturer", aliases=("制造厂家", "生产厂家", "制造单位", "制造商", "厂家")),
    Column("spec", "规格型号", "Model/Spec", aliases=("型号", "规格", "型号规格", "model", "spec", "specification")),
    Column("serial_number", "出厂编号", "Serial", "code", ("出厂号", "制造编号", "serial number", "serial no")),
    Column("install_date", "安装日期", "Install date", "date", ("安装时间", "installed on", "installation date")),
    Column(
        "commission_date",
        "投用日期",
        "Commission date",
        "date",
        ("投运日期", "投产日期", "投用时间", "启用日期", "commissioned on", "commissioning date"),
    ),
    Column("criticality", "重要度", "Criticality", "choice", ("重要程度", "设备重要度", "ABC分类"), choice=Criticality),
    Column("status", "状态", "Status", "choice", ("设备状态", "使用状态"), choice=AssetStatus),
    Column(
        "fixed_asset_number",
        "固定资产编号",
        "Fixed asset number",
        "code",
        ("资产编号", "固定资产卡片号", "卡片编号", "fixed asset no", "asset number"),
    ),
    Column(
        "original_value_cny",
        "原值(元)",
        "Original value (CNY)",
        "money",
        ("原值", "资产原值", "固定资产原值", "账面原值", "original value"),
    ),
    Column("useful_life_years", "折旧年限", "Useful life (years)", "int", ("使用年限", "预计使用年限", "useful life")),
    Column("salvage_rate", "残值率", "Salvage rate", "rate", ("净残值率", "预计净残值率", "residual rate")),
    Column(
        "special_category",
        "特种设备类别",
        "Special category",
        "choice",
        ("特种设备", "特种设备种类", "special equipment", "special equipment category"),
        choice=SpecialCategory,
    ),
    Column(
        "registration_number",
        "使用登记证号",
        "Registration number",
        "code",
        ("使用登记证编号", "登记证号", "使用证号", "registration certificate no", "registration no"),
    ),
    Column("custodian", "保管人", "Custodian", aliases=("责任人", "保管责任人", "keeper")),
    Column("notes", "备注", "Notes", "notes", ("说明", "remarks", "remark", "comment")),
    Column("retired_date", "报废日期", "Retired on", "date", ("retired date", "retirement date")),
    Column("retire_reason", "报废原因", "Retire reason", aliases=("retirement reason",)),
)
COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}
REQUIRED = tuple(column for column in COLUMNS if column.required)
# Service error fields → the import column they come from.
_SERVICE_FIELDS = {"workshop_id": "workshop", "unit_id": "unit", "parent_id": "parent_tag"}


def _header_keys(text: str) -> list[str]:
    """The header as written, and without a parenthesised unit: 原值(元) → 原值(元), 原值."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return list(dict.fromkeys(key for key in (_squash(folded), _squash(re.sub(r"\(.*?\)", "", folded))) if key))


_HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.zh, _column.en, _column.field, *_column.aliases):
        for _header_key in _header_keys(_name):
            _HEADER_INDEX.setdefault(_header_key, _column.field)


def _is_canonical(header: str, name: str) -> bool:
    column = COLUMN_BY_FIELD[name]
    keys = set(_header_keys(header))
    return any(keys & set(_header_keys(text)) for text in (column.zh, column.en, column.field))


def field_for_header(header: str) -> str | None:
    for key in _header_keys(header):
        if key in _HEADER_INDEX:
            return _HEADER_INDEX[key]
    return None


# --- Choices ------------------------------------------------------------------------------

_EXTRA_CHOICE_NAMES: dict[type[Choice], dict[str, str]] = {
    Criticality: {
        "a类": "A",
        "a级": "A",
        "关键": "A",
        "critical": "A",
        "b类": "B",
        "b级": "B",
        "重要": "B",
        "important": "B",
        "c类": "C",
        "c级": "C",
        "一般": "C",
        "general": "C",
    },
    AssetStatus: {"运行": "in_service", "使用": "in_service", "使用中": "in_service", "维修": "under_repair"},
    SpecialCategory: {
        "无": "none",
        "否": "none",
        "非特种": "none",
        "no": "none",
        "场内专用机动车辆": "vehicle",
        "厂内专用机动车辆": "vehicle",
        "厂内机动车辆": "vehicle",
        "场(厂)内机动车辆": "vehicle",
        "起重机": "lifting",
    },
}


_CHOICE_NAMES: dict[type[Choice], dict[str, Choice]] = {
    choice: dict(spreadsheets.choice_names(choice, _EXTRA_CHOICE_NAMES.get(choice)))
    for choice in (AssetClass, AssetStatus, Criticality, SpecialCategory)
}


# --- Reading files ------------------------------------------------------------------------


@dataclass
class Sheet:
    """A table of raw cells: ``rows[i]`` is Excel row ``i + 1``."""

    rows: list[list[Any]]
    name: str | None = None


@dataclass
class Workbook:
    file_format: str
    sheets: list[Sheet]
    encoding: str | None = None


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


def read_workbook(content: bytes, filename: str, *, max_bytes: int | None = MAX_UPLOAD_BYTES) -> Workbook:
    extension = check_upload(filename, len(content), max_bytes=max_bytes)
    if extension == "csv":
        return _read_csv(content)
    return _read_excel(content, extension)


def _read_excel(content: bytes, extension: str) -> Workbook:
    import pandas as pd  # heavy: loaded when a workbook is actually read

    spreadsheets.check_excel_signature(content[:8], extension)
    spreadsheets.check_workbook(io.BytesIO(content), sheet_limits())
    try:
        frames = pd.read_excel(
            io.BytesIO(content), sheet_name=None, header=None, dtype=object, na_filter=False, engine="calamine"
        )
    except Exception as error:  # calamine and zipfile raise their own kinds
        raise spreadsheets.workbook_error(error) from error
    sheets = [
        Sheet(rows=[list(row) for row in frame.itertuples(index=False, name=None)], name=str(name))
        for name, frame in frames.items()
    ]
    return Workbook(file_format="XLSX" if extension == "xlsx" else "XLS", sheets=sheets)


def _read_csv(content: bytes) -> Workbook:
    text, encoding = decode_text(content)
    if "\x00" in text:
        raise spreadsheets.not_csv_error()
    delimiter = spreadsheets.csv_delimiter(text[:20000].splitlines()[:30])
    stream = io.StringIO(text, newline="")
    try:
        rows: list[list[Any]] = list(spreadsheets.bounded_csv_rows(stream, delimiter, sheet_limits()))
    except csv.Error as error:
        raise spreadsheets.csv_error(error) from error
    return Workbook(file_format="CSV", sheets=[Sheet(rows=rows)], encoding=encoding)


# --- Normalising cells --------------------------------------------------------------------

# Excel serial numbers taken as dates: 1950-01-01 … 2099-12-31. Smaller numbers are more
# likely years or counts than dates in the 1900s, so they are refused rather than guessed.
_EXCEL_EPOCH = EXCEL_EPOCH
_SERIAL_MIN = (date(1950, 1, 1) - _EXCEL_EPOCH).days
_SERIAL_MAX = (date(2099, 12, 31) - _EXCEL_EPOCH).days
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
        return _EXCEL_EPOCH + timedelta(days=int(number))  # a fraction is the time of day
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
    if text.casefold() in _NOTHING or not text:
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
    cents = number.quantize(_CENT)
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
    if not text or text.casefold() in _NOTHING:
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
    if not text or text.casefold() in _NOTHING:
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
    if not text or text.casefold() in _NOTHING:
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
    rounded = number.quantize(_RATE_STEP)
    if rounded != number and not (from_float and abs(rounded - number) < Decimal("0.0000001")):
        raise CellError(_("%(value)s has more decimal places than 0.0001 (0.01%%).", value=text))
    return rounded


def parse_choice(
    value: Any,
    choice: type[Choice],
    *,
    names: dict[str, Choice] | None = None,
    words: Sequence[ClassWord] | None = None,
) -> Choice | None:
    """A member by code, label or other name. ``names`` (by :func:`squash` key) replaces the
    built-in names: equipment classes pass theirs with the aliases, and ``words`` to suggest
    the closest classes for an unknown word."""
    text = cell_text(value)
    if not text:
        return None
    key = _squash(text)
    if not key and choice is SpecialCategory:
        return SpecialCategory.NONE  # "-", "/" : not special equipment
    member = (names if names is not None else _CHOICE_NAMES[choice]).get(key)
    if member is None:
        if choice is SpecialCategory and text.casefold() in _NOTHING:
            return SpecialCategory.NONE
        if choice is AssetClass:
            raise CellError(_unknown_class(text, words if words is not None else class_aliases.words_of(())))
        raise CellError(
            _(
                "%(value)s is not one of: %(options)s.",
                value=text,
                options=", ".join(member.label for member in choice),
            )
        )
    return member


def _unknown_class(text: str, words: Sequence[ClassWord]) -> str:
    """未知类别“离芯泵”，是否为：离心泵(泵)、泵？ — or, with nothing close, the classes there are."""
    closest = class_aliases.closest_words(text, words)
    separator = "、" if current_locale() == "zh_CN" else ", "
    if closest:
        return _(
            "Unknown class “%(value)s”. Did you mean: %(suggestions)s?",
            value=text,
            suggestions=separator.join(dict.fromkeys(word.label for word in closest)),
        )
    return _(
        "Unknown class “%(value)s”. Give one of the classes %(options)s, or a word an administrator has "
        "added as an alias of one.",
        value=text,
        options=separator.join(member.label for member in AssetClass),
    )


# --- The report ---------------------------------------------------------------------------

Action = Literal["new", "update", "unchanged", "invalid"]


@dataclass
class ImportRow:
    """One data row: where it is, what it says (normalised), what would happen to it."""

    row: int
    tag: str
    values: dict[str, Any] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    # Imported all the same, but the user should know (a retirement of unknown date).
    warnings: list[FieldError] = field(default_factory=list)
    parent_tag: str = ""
    existing: Asset | None = None
    workshop: Workshop | None = None
    action: Action = "new"

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportReport:
    filename: str
    file_format: str = ""
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    # (header as the user wrote it, field) in sheet order
    columns: list[tuple[str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[FieldError] = field(default_factory=list)
    write_errors: list[FieldError] = field(default_factory=list)
    skipped_blank: int = 0
    skipped_totals: list[int] = field(default_factory=list)
    skipped_headers: list[int] = field(default_factory=list)
    mode: ImportMode = ImportMode.ALL_OR_NOTHING
    dry_run: bool = True
    written: bool = False
    created: int = 0
    updated: int = 0

    @property
    def errors(self) -> list[FieldError]:
        """Every problem, file-level first, then by row."""
        by_row = sorted(
            (error for row in self.rows for error in row.errors), key=lambda e: (e.row or 0, self._order(e.field))
        )
        return [*self.file_errors, *by_row, *self.write_errors]

    @property
    def warnings(self) -> list[FieldError]:
        """What rows will be imported with and the user should know, by row."""
        return sorted(
            (warning for row in self.rows if row.ok for warning in row.warnings),
            key=lambda w: (w.row or 0, self._order(w.field)),
        )

    def _order(self, header: str) -> int:
        for index, (name, _field) in enumerate(self.columns):
            if name == header:
                return index
        return len(self.columns)

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def new(self) -> int:
        return self.count("new")

    @property
    def updates(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def invalid(self) -> int:
        return self.count("invalid")

    @property
    def valid_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.ok]

    @property
    def preview(self) -> list[ImportRow]:
        return self.rows[:PREVIEW_ROWS]

    @property
    def preview_fields(self) -> list[tuple[str, str]]:
        """(field, header) of the columns the file has, in the template's order."""
        present = {name: header for header, name in self.columns}
        return [(column.field, present[column.field]) for column in COLUMNS if column.field in present]

    def header_for(self, name: str) -> str:
        for header, field_name in self.columns:
            if field_name == name:
                return header
        column = COLUMN_BY_FIELD.get(name)
        return column.label if column else name


class ImportFailed(ValidationFailed):
    """Nothing was (or may be) written; ``report`` says why, row by row."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message, report.errors)
        self.report = report


# --- Finding the table --------------------------------------------------------------------

_TOTAL_ROW = re.compile(r"^(?:(?:总合计|合计|小计|总计|共计)|(?:grand|sub)?totals?:?$)", re.IGNORECASE)
_FOOTER_ROW = re.compile(r"^(?:制表|审核|复核|填表|编制|批准|负责人)人?[:：]")


def _header_fields(row: Sequence[Any]) -> dict[int, str]:
    found: dict[int, str] = {}
    for index, value in enumerate(row):
        if isinstance(value, str) and (name := field_for_header(value)):
            found[index] = name
    return found


def _find_header(sheet: Sheet) -> tuple[int, dict[int, str]] | None:
    best: tuple[int, dict[int, str]] | None = None
    for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        found = _header_fields(row)
        if "tag" in found.values() and (best is None or len(set(found.values())) > len(set(best[1].values()))):
            best = (index, found)
    return best


def _is_total_or_footer(row: Sequence[Any]) -> bool:
    first = next((cell_text(value) for value in row if cell_text(value)), "")
    compact = first.replace(" ", "")
    return bool(_TOTAL_ROW.match(compact) or _FOOTER_ROW.match(compact))


# --- Checking rows ------------------------------------------------------------------------


@dataclass
class _Lookups:
    """Workshops, units and the assets the file names, loaded once (no query per row)."""

    workshops: dict[str, Workshop]
    units_by_workshop: dict[int, dict[str, Unit]]
    units: dict[str, list[Unit]]
    workshop_by_id: dict[int, Workshop]
    assets: dict[tuple[int, str], Asset]
    class_names: dict[str, Choice]  # codes, labels and aliases of equipment classes
    class_words: list[ClassWord]  # what an unknown class's error may suggest

    @classmethod
    def load(cls, session: Session, tags: Iterable[str]) -> _Lookups:
        workshops = list(session.scalars(select(Workshop)))
        units = list(session.scalars(select(Unit)))
        by_key: dict[str, Workshop] = {}
        for workshop in workshops:
            by_key.setdefault(_squash(workshop.code), workshop)
        for workshop in workshops:
            by_key.setdefault(_squash(workshop.name), workshop)
        units_by_workshop: dict[int, dict[str, Unit]] = {}
        all_units: dict[str, list[Unit]] = {}
        for unit in units:
            for key in (_squash(unit.code), _squash(unit.name)):
                units_by_workshop.setdefault(unit.workshop_id, {}).setdefault(key, unit)
                all_units.setdefault(key, [])
                if unit not in all_units[key]:
                    all_units[key].append(unit)
        wanted = sorted(set(tags))
        assets: dict[tuple[int, str], Asset] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for asset in session.scalars(select(Asset).where(col(Asset.tag).in_(chunk))):
                assets[(asset.site_id, asset.tag)] = asset
        aliases = class_aliases.list_aliases(session)
        return cls(
            by_key,
            units_by_workshop,
            all_units,
            {w.id: w for w in workshops if w.id is not None},
            assets,
            dict(class_aliases.names_of(aliases)),
            class_aliases.words_of(aliases),
        )


class _RowChecker:
    def __init__(self, report: ImportReport, lookups: _Lookups, scales: dict[str, Any]) -> None:
        self.report = report
        self.lookups = lookups
        self.scales = scales
        self.today = plant_today()

    def error(self, row: ImportRow, name: str, message: str) -> None:
        row.errors.append(FieldError(self.report.header_for(name), message, row.row))

    def warn(self, row: ImportRow, name: str, message: str) -> None:
        row.warnings.append(FieldError(self.report.header_for(name), message, row.row))

    def _has_error(self, row: ImportRow, name: str) -> bool:
        header = self.report.header_for(name)
        return any(error.field == header for error in row.errors)

    def check(self, number: int, cells: dict[str, Any]) -> ImportRow:
        row = ImportRow(row=number, tag=cell_text(cells.get("tag", "")))
        values = row.values
        for name, raw in cells.items():
            column = COLUMN_BY_FIELD[name]
            try:
                value = self._parse(column, raw)
            except CellError as error:
                self.error(row, name, str(error))
                row.display[name] = cell_text(raw)
                continue
            if value is None or value == "":
                continue
            values[name] = value
            row.display[name] = _display(value)
        for column in REQUIRED:
            if column.field != "workshop" and column.field not in values and not self._has_error(row, column.field):
                self.error(row, column.field, _("This field is required."))
        self._place(row)
        self._check_values(row)
        return row

    def _parse(self, column: Column, raw: Any) -> Any:
        match column.kind:
            case "date":
                return parse_date(raw)
            case "money":
                return parse_money(raw, scale=self.scales.get(column.field, Decimal(1)))
            case "int":
                return parse_int(raw, low=1, high=100)  # a useful life is at least a year
            case "rate":
                return parse_rate(raw, percent_header=bool(self.scales.get(column.field)))
            case "choice":
                assert column.choice is not None
                if column.choice is AssetClass:
                    return parse_choice(raw, AssetClass, names=self.lookups.class_names, words=self.lookups.class_words)
                return parse_choice(raw, column.choice)
            case "text" | "notes":
                text = free_text(raw)  # what a person wrote, as written
            case _:
                text = cell_text(raw)
        limit = column.max_length
        if limit is not None and len(text) > limit:
            raise CellError(_("Too long: %(n)s characters, at most %(max)s.", n=len(text), max=limit))
        return text

    def _place(self, row: ImportRow) -> None:
        """Workshop and unit by code or name; the unit must belong to the workshop. A unit
        that exists in one workshop only names that workshop when the workshop is left empty."""
        values, lookups = row.values, self.lookups
        workshop_text, unit_text = values.pop("workshop", ""), values.pop("unit", "")
        workshop = lookups.workshops.get(_squash(workshop_text)) if workshop_text else None
        if workshop_text and workshop is None:
            message = _("There is no workshop %(value)s (give its code or name).", value=workshop_text)
            self.error(row, "workshop", message)
            return
        unit: Unit | None = None
        if unit_text:
            key = _squash(unit_text)
            owners = lookups.units.get(key, [])
            if workshop is None and len(owners) == 1:
                workshop = lookups.workshop_by_id[owners[0].workshop_id]
            if workshop is not None and workshop.id is not None:
                unit = lookups.units_by_workshop.get(workshop.id, {}).get(key)
            if unit is None and workshop is not None and owners:
                message = _(
                    "Unit %(unit)s is not in workshop %(workshop)s (it belongs to %(owners)s).",
                    unit=unit_text,
                    workshop=workshop.code,
                    owners=", ".join(lookups.workshop_by_id[owner.workshop_id].code for owner in owners),
                )
                self.error(row, "unit", message)
            elif unit is None and not owners:
                self.error(row, "unit", _("There is no unit %(value)s (give its code or name).", value=unit_text))
        if workshop is None:
            self.error(row, "workshop", _("This field is required."))
            return
        row.workshop = workshop
        values["workshop_id"] = workshop.id
        row.display["workshop"] = workshop.code
        if unit is not None:
            values["unit_id"] = unit.id
            row.display["unit"] = unit.code

    def _check_values(self, row: ImportRow) -> None:
        values = row.values
        for name in ("install_date", "commission_date", "retired_date"):
            day = values.get(name)
            if day is not None and day > self.today:
                self.error(row, name, _("%(value)s is in the future.", value=day.isoformat()))
        parent = values.pop("parent_tag", "")
        row.parent_tag = parent
        if parent and parent == row.tag:
            self.error(row, "parent_tag", _("An asset cannot be its own parent."))


def _display(value: Any) -> str:
    if isinstance(value, Choice):
        return value.label
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value.as_tuple().exponent == -2 else f"{value * 100:g}%"
    return str(value)


def _scales(headers: dict[int, str], header_row: Sequence[Any]) -> dict[str, Any]:
    """Units written in headers: 原值(万元) scales amounts, 残值率(%) makes bare numbers percentages."""
    scales: dict[str, Any] = {}
    for index, name in headers.items():
        text = unicodedata.normalize("NFKC", str(header_row[index]))
        if name == "original_value_cny" and "万" in text:
            scales[name] = Decimal(10000)
        if name == "salvage_rate" and "%" in text:
            scales[name] = True
    return scales


def analyse(
    session: Session, content: bytes, filename: str, *, max_bytes: int | None = MAX_UPLOAD_BYTES
) -> ImportReport:
    """Read and check a file against the registry; writes nothing."""
    report = ImportReport(filename=filename)
    try:
        workbook = read_workbook(content, filename, max_bytes=max_bytes)
    except ImportFileError as error:
        report.file_errors = error.errors
        return report
    report.file_format, report.encoding = workbook.file_format, workbook.encoding
    found = next(((sheet, header) for sheet in workbook.sheets if (header := _find_header(sheet))), None)
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
        return report
    sheet, (header_index, headers) = found
    report.sheet = sheet.name if len(workbook.sheets) > 1 or workbook.file_format != "CSV" else None
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
        canonical = [index for index in indexes if _is_canonical(cell_text(header_cells[index]), name)]
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
        return report
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
        if all(field_for_header(cell_text(value)) == name for name, value in cells.items() if cell_text(value)):
            report.skipped_headers.append(index + 1)  # the template's English header row, or a repeated header
            continue
        data_rows.append((index + 1, cells))
    if not data_rows:
        report.file_errors.append(FieldError(_("File"), _("The file has no data rows under the header.")))
        return report
    lookups = _Lookups.load(
        session, (cell_text(cells.get(k, "")) for _n, cells in data_rows for k in ("tag", "parent_tag"))
    )
    checker = _RowChecker(report, lookups, _scales(headers, header_cells))
    report.rows = [checker.check(number, cells) for number, cells in data_rows]
    _check_across_rows(report, lookups, checker)
    return report


def _check_across_rows(report: ImportReport, lookups: _Lookups, checker: _RowChecker) -> None:
    """Duplicates, parents (in the registry or anywhere in the file), loops, and what each row will do."""
    by_tag: dict[str, list[ImportRow]] = {}
    for row in report.rows:
        if row.tag:
            by_tag.setdefault(row.tag, []).append(row)
    for tag, rows in by_tag.items():
        if len(rows) > 1:
            numbers = ", ".join(str(row.row) for row in rows)
            for row in rows:
                checker.error(
                    row,
                    "tag",
                    _("Tag %(tag)s appears more than once in the file (rows %(rows)s).", tag=tag, rows=numbers),
                )
    for row in report.rows:
        if row.workshop is not None:
            row.existing = lookups.assets.get((row.workshop.site_id, row.tag))
        _check_merged(row, checker)
    # Parents: in the registry (same site) or defined by another row, above or below.
    for row in report.rows:
        if not row.parent_tag or row.parent_tag == row.tag:
            continue
        in_file = by_tag.get(row.parent_tag)
        site_id = row.workshop.site_id if row.workshop else None
        in_registry = site_id is not None and (site_id, row.parent_tag) in lookups.assets
        if not in_file and not in_registry:
            checker.error(
                row,
                "parent_tag",
                _("No asset has the tag %(tag)s, in the registry or in this file.", tag=row.parent_tag),
            )
    for cycle in _parent_cycles(report.rows, by_tag):
        chain = " → ".join([*(row.tag for row in cycle), cycle[0].tag])
        for row in cycle:
            checker.error(row, "parent_tag", _("The parent tags go round in a circle: %(chain)s.", chain=chain))
    # A row whose parent row is refused cannot be imported either (valid-only mode skips both).
    changed = True
    while changed:
        changed = False
        for row in report.rows:
            parent_rows = by_tag.get(row.parent_tag, []) if row.parent_tag else []
            if row.ok and parent_rows and not all(parent.ok for parent in parent_rows):
                checker.error(
                    row,
                    "parent_tag",
                    _(
                        "The parent %(tag)s (row %(row)s) has errors, so this row cannot be imported either.",
                        tag=row.parent_tag,
                        row=parent_rows[0].row,
                    ),
                )
                changed = True
    for row in report.rows:
        row.action = _action(row) if row.ok else "invalid"


def _check_merged(row: ImportRow, checker: _RowChecker) -> None:
    """Rules that span fields, on what the asset will hold (an update keeps stored values)."""
    merged = _merged_fields(row)
    install, commission = merged.get("install_date"), merged.get("commission_date")
    if install and commission and commission < install:
        checker.error(row, "commission_date", _("Commissioning cannot come before installation."))
    if merged.get("status") == AssetStatus.RETIRED:
        # Old ledgers often never recorded when or why: imported as retired, the rest unknown.
        date_header, reason_header = (checker.report.header_for(name) for name in ("retired_date", "retire_reason"))
        no_date, no_reason = not merged.get("retired_date"), not merged.get("retire_reason")
        if no_date and no_reason:
            message = _(
                "Retired with no %(date)s and no %(reason)s: imported as retired, both marked unknown.",
                date=date_header,
                reason=reason_header,
            )
            checker.warn(row, "status", message)
        elif no_date or no_reason:
            missing = date_header if no_date else reason_header
            message = _("Retired with no %(field)s: imported as retired, %(field)s marked unknown.", field=missing)
            checker.warn(row, "status", message)


def _parent_cycles(rows: list[ImportRow], by_tag: dict[str, list[ImportRow]]) -> list[list[ImportRow]]:
    cycles: list[list[ImportRow]] = []
    state: dict[int, int] = {}  # row number → 1 visiting, 2 done
    for start in rows:
        path: list[ImportRow] = []
        current: ImportRow | None = start
        while current is not None and state.get(current.row) is None:
            state[current.row] = 1
            path.append(current)
            parents = by_tag.get(current.parent_tag, []) if current.parent_tag != current.tag else []
            current = parents[0] if len(parents) == 1 else None
        if current is not None and state.get(current.row) == 1:
            cycles.append(path[path.index(current) :])
        for row in path:
            state[row.row] = 2
    return cycles


def _merged_fields(row: ImportRow) -> dict[str, Any]:
    """What the asset will hold: the stored asset with the file's non-empty cells on top.
    Empty cells and absent columns keep what is stored (a partial sheet never wipes data)."""
    data = row.existing.model_dump(include=set(AssetFields.model_fields)) if row.existing else {}
    data.update({name: value for name, value in row.values.items() if name in AssetFields.model_fields})
    return data


def _action(row: ImportRow) -> Action:
    if row.existing is None:
        return "new"
    merged = _merged_fields(row)
    if row.parent_tag:
        return "update"  # the parent's id is only known when the file's rows are written
    stored = row.existing.model_dump(include=set(AssetFields.model_fields))
    return "unchanged" if all(stored.get(name) == value for name, value in merged.items()) else "update"


def _write_order(rows: list[ImportRow]) -> list[ImportRow]:
    """Parents before their components, otherwise file order."""
    by_tag = {row.tag: row for row in rows}
    depth: dict[int, int] = {}

    def depth_of(row: ImportRow, seen: frozenset[int] = frozenset()) -> int:
        if row.row in depth:
            return depth[row.row]
        parent = by_tag.get(row.parent_tag)
        value = 0 if parent is None or parent.row in seen else depth_of(parent, seen | {row.row}) + 1
        depth[row.row] = value
        return value

    return sorted(rows, key=lambda row: (depth_of(row), row.row))


# --- Writing ------------------------------------------------------------------------------


def import_assets(
    session: Session,
    content: bytes,
    filename: str,
    *,
    actor: Actor,
    mode: ImportMode = ImportMode.ALL_OR_NOTHING,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    max_bytes: int | None = MAX_UPLOAD_BYTES,
) -> ImportReport:
    """Check the file and, unless ``dry_run``, write it through the asset service.

    All-or-nothing (the default) writes nothing when any row has an error; ``VALID_ONLY``
    writes the rows without errors and reports the others. Raises :class:`ImportFailed`
    when nothing can be written, or when the service refuses a row during the write —
    rows may already be flushed then, so the caller must roll back (the request and the
    CLI command do). Never commits.
    """
    report = analyse(session, content, filename, max_bytes=max_bytes)
    report.mode, report.dry_run = mode, dry_run
    if dry_run:
        return report
    if report.file_errors:
        raise ImportFailed(_("Nothing was imported: the file cannot be read as an asset list."), report)
    if report.invalid and mode == ImportMode.ALL_OR_NOTHING:
        raise ImportFailed(
            _("Nothing was imported: %(n)s of %(total)s rows have errors.", n=report.invalid, total=len(report.rows)),
            report,
        )
    todo = _write_order(report.valid_rows)
    if not todo:
        raise ImportFailed(_("Nothing was imported: no row is free of errors."), report)
    written: dict[str, Asset] = {}
    for done, row in enumerate(todo, start=1):
        try:
            written[row.tag] = _write_row(session, row, written, actor)
        except MaintenanceError as error:
            report.write_errors.extend(_row_errors(report, row, error.errors or [FieldError("tag", error.message)]))
        except PydanticValidationError as error:
            details = [FieldError(str(e["loc"][0]) if e["loc"] else "tag", e["msg"]) for e in error.errors()]
            report.write_errors.extend(_row_errors(report, row, details))
        if progress is not None:
            progress(done, len(todo))
    if report.write_errors:
        raise ImportFailed(_("Nothing was imported: some rows were refused while saving."), report)
    report.written = True
    report.created = sum(1 for row in todo if row.action == "new")
    report.updated = sum(1 for row in todo if row.action == "update")
    logger.info(
        "asset import %s by %s: %s created, %s updated, %s unchanged, %s rows skipped",
        filename,
        actor.username,
        report.created,
        report.updated,
        report.unchanged,
        report.invalid,
    )
    return report


def _write_row(session: Session, row: ImportRow, written: dict[str, Asset], actor: Actor) -> Asset:
    data = _merged_fields(row)
    if row.parent_tag:
        parent = written.get(row.parent_tag)
        if parent is None and row.workshop is not None:
            parent = service.get_asset_by_tag(session, row.parent_tag, site_id=row.workshop.site_id)
        if parent is None:
            message = _("No asset has the tag %(tag)s, in the registry or in this file.", tag=row.parent_tag)
            raise ValidationFailed(_("The asset was not saved."), [FieldError("parent_id", message)])
        data["parent_id"] = parent.id
    if row.existing is None:
        row.action = "new"
        return service.create_asset(
            session, AssetCreate.model_validate(data), actor=actor, allow_unknown_retirement=True
        )
    version = row.existing.version
    service.update_asset(
        session,
        row.existing,
        AssetUpdate.model_validate(data | {"version": version}),
        actor=actor,
        allow_unknown_retirement=True,
    )
    row.action = "update" if row.existing.version != version else "unchanged"
    return row.existing


def _row_errors(report: ImportReport, row: ImportRow, details: list[FieldError]) -> list[FieldError]:
    return [
        FieldError(report.header_for(_SERVICE_FIELDS.get(detail.field, detail.field)), detail.message, row.row)
        for detail in details
    ]


# --- The template -------------------------------------------------------------------------

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_ROWS = 1000  # rows that carry the dropdowns


def template_workbook(session: Session) -> bytes:
    """The import template: Chinese headers (English under them and in each header's note),
    one example row, dropdowns for the choices, workshops and units."""
    import xlsxwriter  # loaded when a template is asked for

    workshops = list(session.scalars(select(Workshop).order_by(Workshop.code)))
    units = list(session.scalars(select(Unit).order_by(col(Unit.workshop_id), col(Unit.code))))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("设备台账")
    lists = book.add_worksheet("lists")
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    required = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_color": "#C00000"})
    english = book.add_format({"italic": True, "font_color": "#808080", "border": 1})
    text = book.add_format({"num_format": "@"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "#,##0.00"})
    percent = book.add_format({"num_format": "0.00%"})
    example_note = book.add_format({"font_color": "#808080", "num_format": "@"})

    choice_lists: dict[str, list[str]] = {
        "asset_class": [member.zh for member in AssetClass],
        "status": [member.zh for member in AssetStatus],
        "criticality": [member.zh for member in Criticality],
        "special_category": [member.zh for member in SpecialCategory],
        "workshop": [workshop.code for workshop in workshops],
        "unit": [unit.code for unit in units],
    }
    list_ranges: dict[str, str] = {}
    for index, (name, items) in enumerate(choice_lists.items()):
        lists.write_string(0, index, COLUMN_BY_FIELD[name].zh)
        for offset, item in enumerate(items, start=1):
            lists.write_string(offset, index, item)
        if items:
            letter = xlsxwriter.utility.xl_col_to_name(index)
            list_ranges[name] = f"=lists!${letter}$2:${letter}${len(items) + 1}"
    lists.hide()

    first_unit = next((unit for unit in units if workshops and unit.workshop_id == workshops[0].id), None)
    example: dict[str, Any] = {
        "tag": "P-101A",
        "name": "原料输送泵",
        "asset_class": AssetClass.PUMP.zh,
        "workshop": workshops[0].code if workshops else "",
        "unit": first_unit.code if first_unit else "",
        "manufacturer": "大连耐酸泵厂",
        "spec": "IH80-65-160",
        "serial_number": "2019-0356",
        "install_date": date(2019, 5, 10),
        "commission_date": date(2019, 6, 1),
        "criticality": Criticality.B.zh,
        "status": AssetStatus.IN_SERVICE.zh,
        "fixed_asset_number": "GD-2019-0123",
        "original_value_cny": 85000,
        "useful_life_years": 10,
        "salvage_rate": 0.05,
        "special_category": SpecialCategory.NONE.zh,
        "custodian": "张工",
        "notes": "示例行，导入前请删除 / example row: delete before importing",
    }
    formats = {"date": day, "money": money, "rate": percent}
    for index, column in enumerate(COLUMNS):
        sheet.write_string(0, index, column.zh, required if column.required else header)
        sheet.write_comment(0, index, _template_note(column), {"x_scale": 2, "y_scale": 1.5})
        sheet.write_string(1, index, column.en, english)
        cell_format = formats.get(column.kind, text if column.kind in ("code", "text", "notes", "parent") else None)
        sheet.set_column(index, index, 22 if column.kind in ("notes", "text") else 14, cell_format)
        value = example.get(column.field)
        if isinstance(value, date):
            sheet.write_datetime(2, index, datetime.combine(value, time.min), day)
        elif isinstance(value, int | float):
            sheet.write_number(2, index, value, formats.get(column.kind))
        elif value:
            sheet.write_string(2, index, value, example_note if column.field == "notes" else None)
        if column.field in list_ranges:
            sheet.data_validation(
                2,
                index,
                TEMPLATE_ROWS,
                index,
                {
                    "validate": "list",
                    "source": list_ranges[column.field],
                    # Workshops and units may also be given by name: warn, do not refuse.
                    "error_type": "warning" if column.kind in ("workshop", "unit") else "stop",
                    "error_title": column.zh,
                    "error_message": "请从下拉列表中选择 / choose from the list",
                },
            )
    sheet.freeze_panes(2, 2)
    sheet.set_row(0, 30)
    book.close()
    return buffer.getvalue()


def _template_note(column: Column) -> str:
    lines = [f"{column.zh} / {column.en}" + (" (必填 required)" if column.required else "")]
    if column.choice is not None:
        lines.append("可选 / options: " + "、".join(member.zh for member in column.choice))
    if column.choice is AssetClass:
        lines.append("也可填台账用词（别名），如 离心泵、叉车 / or a ledger word (alias), e.g. 离心泵")
    hints = {
        "date": "日期 date: 2024-03-05 / 2024年3月5日",
        "money": "元 CNY: 1234567.00 / 12.5万",
        "rate": "5% / 0.05",
        "int": "年 years: 1–100",
        "workshop": "车间代码或名称 / workshop code or name",
        "unit": "装置代码或名称 / unit code or name",
        "parent": "上级设备的位号 / tag of the parent asset",
    }
    if column.kind in hints:
        lines.append(hints[column.kind])
    return "\n".join(lines)
