"""Importing finance journal entries (财务凭证) from XLSX or CSV.

One row per voucher line: 记账日期 (booked on), 车间 (workshop code), 费用科目 (cost category: code
or Chinese/English label), 金额(元) (amount in 元 to the fen; negative for a reversal, 红冲, never
zero), 凭证号 (voucher number, required) and 摘要 (description). A voucher is booked once: a
reference already in the journal is refused, naming when it was imported, and so is one that two
rows of the file repeat.

:func:`analyse` checks every row in a fixed number of queries and totals the file;
:func:`import_entries` writes every row or, when any row has an error, nothing. Managers and
admins import.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.imports.reading import sheet_limits
from maintenance.audit.service import Actor
from maintenance.budget import journal
from maintenance.exceptions import FieldError
from maintenance.i18n import format_datetime
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostCategory
from maintenance.orders.models import JournalEntry, JournalEntryFields
from maintenance.org.models import Workshop
from maintenance.org.permissions import Capability, require
from maintenance.spreadsheets import (
    CellError,
    ImportColumn,
    ImportFileError,
    ImportRow,
    RowImportFailed,
    RowImportReport,
    ValueList,
    cell_text,
    check_upload,
    choice_names,
    column_header,
    column_matcher,
    data_below_header,
    free_text,
    import_template,
    parse_choice,
    parse_columns,
    parse_date,
    parse_money,
    read_tables,
)

MAX_UPLOAD_BYTES = 5 * 2**20
EXTENSIONS = ("xlsx", "csv")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS = (
    ImportColumn("booked_on", "记账日期", "Booked on", ("日期", "凭证日期", "date"), required=True),
    ImportColumn("workshop", "车间", "Workshop", ("车间代码", "workshop code"), required=True),
    ImportColumn("category", "费用科目", "Category", ("科目", "费用类别", "cost category"), required=True),
    ImportColumn("amount", "金额(元)", "Amount (CNY)", ("金额", "amount"), required=True),
    ImportColumn("reference", "凭证号", "Reference", ("凭证编号", "voucher", "voucher number"), required=True),
    ImportColumn("description", "摘要", "Description", ("说明", "备注")),
)
_MATCHER = column_matcher(COLUMNS)
_CATEGORIES = choice_names(CostCategory)
# How a reversal's minus is written besides "-": accountants' brackets, (1,200.00).
_NEGATIVE_MARKS = (("-", ""), ("\u2212", ""), ("(", ")"))


@dataclass
class JournalRow(ImportRow):
    """One data row: what it says and, once checked, the entry it books."""

    reference: str
    workshop: Workshop | None = None
    data: JournalEntryFields | None = None


@dataclass
class JournalReport(RowImportReport[JournalRow]):
    created: int = 0

    @property
    def entries(self) -> list[JournalEntryFields]:
        return [row.data for row in self.rows if row.data is not None]

    @property
    def total(self) -> Decimal:
        """The sum of the readable rows, reversals included."""
        return sum((entry.amount_cny for entry in self.entries), Decimal("0.00"))

    @property
    def totals_by_workshop(self) -> list[tuple[Workshop, Decimal]]:
        """The readable rows summed by workshop, in the order of the workshops' codes."""
        totals: dict[int, Decimal] = defaultdict(Decimal)
        workshops: dict[int, Workshop] = {}
        for row in self.rows:
            if row.data is not None and row.workshop is not None and row.workshop.id is not None:
                totals[row.workshop.id] += row.data.amount_cny
                workshops[row.workshop.id] = row.workshop
        return sorted(((workshops[i], amount) for i, amount in totals.items()), key=lambda pair: pair[0].code)

    @property
    def importable(self) -> bool:
        return not self.errors and bool(self.rows)


class JournalImportFailed(RowImportFailed[JournalReport]):
    """Nothing was written; ``report`` says why, row by row."""


def check_journal_upload(filename: str, size: int) -> str:
    return check_upload(
        filename,
        size,
        extensions=EXTENSIONS,
        max_bytes=MAX_UPLOAD_BYTES,
        wrong_type=lambda kind: _("%(kind)s files cannot be imported: save the journal as .xlsx or as CSV.", kind=kind),
    )


# --- Reading and checking ------------------------------------------------------------------


def analyse(session: Session, content: bytes, extension: str, *, actor: Actor, today: date) -> JournalReport:
    """Every row of the journal in ``content`` (an XLSX or CSV file, by ``extension``) checked;
    nothing written. An entry booked after ``today`` is refused: the journal holds costs booked,
    and one dated ahead would count in the actual before its day on some pages and not others."""
    require(actor, Capability.MANAGE)
    report = JournalReport()
    names = ", ".join(c.zh for c in COLUMNS if c.required)
    try:
        table = next(iter(read_tables(io.BytesIO(content), extension, sheet_limits())), None)
        rows = list(table.rows) if table else []
        no_header = _("No header row found: the journal needs the columns %(names)s.", names=names)
        data = data_below_header(rows, _MATCHER, _is_header, no_header)
    except ImportFileError as error:
        report.file_errors = error.errors
        return report
    context = _Context.load(session, data, today)
    report.rows = [context.check(number, cells) for number, cells in data]
    return report


def _is_header(cells: Any) -> bool:
    found = set(_MATCHER.fields_in(cells).values())
    return {column.field for column in COLUMNS if column.required} <= found


@dataclass
class _Context:
    """What the rows are checked against, loaded in two queries whatever the file's length: the
    workshops the file names and the entries already booked under its references."""

    workshops: dict[str, Workshop]
    booked: dict[str, JournalEntry]
    today: date
    seen: dict[str, int] = field(default_factory=dict)  # reference → the row that gave it first

    @classmethod
    def load(cls, session: Session, data: list[tuple[int, dict[str, Any]]], today: date) -> _Context:
        def texts(name: str) -> list[str]:
            return sorted({text for _n, cells in data if (text := cell_text(cells.get(name)))})

        stmt = select(Workshop).where(col(Workshop.code).in_(texts("workshop")))
        workshops = {w.code: w for w in session.scalars(stmt)}
        return cls(workshops, journal.entries_by_reference(session, texts("reference")), today)

    def check(self, number: int, cells: dict[str, Any]) -> JournalRow:
        row = JournalRow(row=number, reference=cell_text(cells.get("reference")))

        def refuse(name: str, message: str) -> None:
            row.errors.append(FieldError(column_header(COLUMNS, name), message, number))

        values = parse_columns(COLUMNS, cells, _parse, refuse)
        row.workshop = self.workshops.get(values.get("workshop") or "")
        if values.get("workshop") and row.workshop is None:
            refuse("workshop", _("No workshop has the code %(code)s.", code=values["workshop"]))
        self._check_reference(row, refuse)
        booked_on = values.get("booked_on")
        if booked_on is not None and booked_on > self.today:
            refuse(
                "booked_on", _("Booked after today (%(today)s): import entries once they are booked.", today=self.today)
            )
        if row.errors:
            return row
        assert row.workshop is not None
        try:
            row.data = JournalEntryFields.model_validate(
                {
                    "booked_on": values["booked_on"],
                    "workshop_id": row.workshop.id,
                    "category": values["category"],
                    "amount_cny": values["amount"],
                    "reference": row.reference,
                    "description": values["description"],
                }
            )
        except ValidationError as error:
            fields = {"amount_cny": "amount", "booked_on": "booked_on", "description": "description"}
            for detail in error.errors():
                refuse(fields.get(str(detail["loc"][0]), "reference"), detail["msg"])
        return row

    def _check_reference(self, row: JournalRow, refuse: Any) -> None:
        """A voucher is booked once: not twice in the file, not again after an earlier import."""
        if not row.reference:
            return
        if row.reference in self.seen:
            message = _(
                "The voucher %(reference)s is already on row %(row)s.",
                reference=row.reference,
                row=self.seen[row.reference],
            )
            refuse("reference", message)
            return
        self.seen[row.reference] = row.row
        booked = self.booked.get(row.reference)
        if booked is not None:
            message = _(
                "The voucher %(reference)s was already imported on %(when)s (%(file)s).",
                reference=row.reference,
                when=format_datetime(booked.created_at, "short"),
                file=booked.source_file or _("entered by hand"),
            )
            refuse("reference", message)


def _parse(name: str, raw: Any) -> Any:
    if name == "booked_on":
        return parse_date(raw)
    if name == "category":
        return parse_choice(raw, _CATEGORIES, CostCategory)
    if name == "amount":
        return parse_signed_amount(raw)
    if name == "description":
        return free_text(raw)
    return cell_text(raw)


def parse_signed_amount(raw: Any) -> Decimal | None:
    """元 to the fen as :func:`parse_money` reads them, with a sign: a reversal (红冲) is written
    -1,200.00 or (1,200.00). Zero books nothing and is refused."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw < 0:
        amount = parse_money(-raw)
        return None if amount is None else _not_zero(-amount, raw)
    text = cell_text(raw)
    for opening, closing in _NEGATIVE_MARKS:
        if text.startswith(opening) and text.endswith(closing) and len(text) > len(opening) + len(closing):
            amount = parse_money(text[len(opening) : len(text) - len(closing)].strip())
            return None if amount is None else _not_zero(-amount, raw)
    amount = parse_money(raw)
    return None if amount is None else _not_zero(amount, raw)


def _not_zero(amount: Decimal, raw: Any) -> Decimal:
    if not amount:
        raise CellError(
            _("%(value)s is zero: a voucher line books an amount (negative for a reversal).", value=cell_text(raw))
        )
    return amount


# --- Writing --------------------------------------------------------------------------------


def import_entries(
    session: Session, content: bytes, filename: str, extension: str, *, actor: Actor, today: date
) -> JournalReport:
    """Book every row of the file, or nothing: raises :class:`JournalImportFailed` and writes
    nothing when a row has an error. Each entry keeps the file's name and the importer."""
    report = analyse(session, content, extension, actor=actor, today=today)
    if report.file_errors:
        raise JournalImportFailed(_("The file cannot be imported."), report)
    if report.invalid:
        message = _(
            "Nothing was imported: %(n)s rows have errors. Correct them and upload the file again.", n=report.invalid
        )
        raise JournalImportFailed(message, report)
    report.created = len(journal.create_entries(session, report.entries, source_file=filename, actor=actor))
    return report


# --- The template -----------------------------------------------------------------------------


def template_workbook() -> bytes:
    """The journal template: the Chinese headers, an entry and its reversal, and the categories."""
    examples = (
        ("2026-03-20", "SYN", "外委服务费", 120000.00, "记-2026-03-0158", "压缩机年度维保合同 一季度"),
        ("2026-03-28", "SYN", "外委服务费", -20000.00, "记-2026-03-0201", "红冲 记-2026-03-0158 多计部分"),
    )
    categories = [(category.value, category.zh, category.en) for category in CostCategory]
    return import_template(
        "财务凭证",
        COLUMNS,
        examples,
        value_lists=[ValueList("费用科目", ("代码", "名称", "Name"), categories)],
        widths={"description": 30},
    )
