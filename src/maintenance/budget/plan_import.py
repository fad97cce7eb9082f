"""Importing a budget year's plan (the allocation) from XLSX (managers).

One row per cell of the grid: 车间 (workshop code), 费用科目 (category: code or Chinese/English
label), 月份 (month, 1–12), 金额(元) (amount in 元, to the fen). The file **replaces** the year's
whole allocation: a cell it does not name plans nothing afterwards.

:func:`analyse` checks every row (unknown workshop or category, month out of range, bad amount, a
workshop × category × month given twice) and totals the plan by workshop against the target;
:func:`import_plan` writes the whole plan or, when any row has an error, nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from maintenance.assets.imports.reading import sheet_limits
from maintenance.audit.service import Actor
from maintenance.budget import allocations, service
from maintenance.budget.allocations import CellKey, PlanChanges
from maintenance.budget.models import BudgetYear
from maintenance.exceptions import FieldError
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostCategory
from maintenance.org.models import Workshop
from maintenance.org.permissions import Capability, require
from maintenance.spreadsheets import (
    ImportColumn,
    ImportFileError,
    ImportRow,
    RowImportFailed,
    RowImportReport,
    ValueList,
    cell_text,
    cells_below_header,
    check_upload,
    choice_names,
    column_header,
    column_matcher,
    find_header_row,
    first_sheet_rows,
    import_template,
    parse_choice,
    parse_columns,
    parse_int,
    parse_money,
)

MAX_UPLOAD_BYTES = 2 * 2**20
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS = (
    ImportColumn("workshop", "车间", "Workshop", ("车间代码", "workshop code"), required=True),
    ImportColumn("category", "费用科目", "Category", ("科目", "预算科目", "cost category"), required=True),
    ImportColumn("month", "月份", "Month", ("月",), required=True),
    ImportColumn("amount", "金额(元)", "Amount (CNY)", ("金额", "预算金额", "amount"), required=True),
)
_MATCHER = column_matcher(COLUMNS)
_CATEGORIES = choice_names(CostCategory)


@dataclass
class PlanRow(ImportRow):
    """One data row: the cell it plans and how much, or why it cannot."""

    workshop: Workshop | None = None
    key: CellKey | None = None
    amount_cny: Decimal | None = None


@dataclass
class PlanReport(RowImportReport[PlanRow]):
    target_cny: Decimal | None = None
    changes: PlanChanges | None = None

    @property
    def plan(self) -> dict[CellKey, Decimal]:
        return {row.key: row.amount_cny for row in self.rows if row.ok and row.key and row.amount_cny is not None}

    @property
    def total_cny(self) -> Decimal:
        return sum(self.plan.values(), Decimal("0.00"))

    def totals_by_workshop(self) -> list[tuple[Workshop, Decimal]]:
        """Each workshop's planned year, in the order of its code."""
        workshops = {row.workshop.id: row.workshop for row in self.rows if row.ok and row.workshop}
        totals = {
            workshop_id: sum((a for k, a in self.plan.items() if k.workshop_id == workshop_id), Decimal("0.00"))
            for workshop_id in workshops
        }
        return sorted(((workshops[w], total) for w, total in totals.items()), key=lambda pair: pair[0].code)

    @property
    def unallocated_cny(self) -> Decimal | None:
        return None if self.target_cny is None else self.target_cny - self.total_cny

    @property
    def importable(self) -> bool:
        return not self.errors and bool(self.rows)


class PlanImportFailed(RowImportFailed[PlanReport]):
    """Nothing was written; ``report`` says why, row by row."""


def check_plan_upload(filename: str, size: int) -> None:
    check_upload(
        filename,
        size,
        extensions=("xlsx",),
        max_bytes=MAX_UPLOAD_BYTES,
        wrong_type=lambda kind: _("%(kind)s files cannot be imported: save the plan as .xlsx.", kind=kind),
    )


def analyse(session: Session, year: int, content: bytes, *, actor: Actor) -> PlanReport:
    """Every row of the plan in ``content`` (XLSX) checked against the workshops and the year's
    target; nothing written."""
    require(actor, Capability.MANAGE)
    budget = service.budget_year(session, year)
    report = PlanReport(target_cny=budget.target_cny if budget else None)
    if budget is None:
        report.file_errors = [FieldError(_("File"), _("Set the year's target before importing its allocation."))]
        return report
    try:
        rows = first_sheet_rows(content, sheet_limits())
    except ImportFileError as error:
        report.file_errors = error.errors
        return report
    header_at = find_header_row(rows, lambda cells: len(set(_MATCHER.fields_in(cells).values())) == len(COLUMNS))
    if header_at is None:
        names = ", ".join(c.zh for c in COLUMNS)
        report.file_errors = [
            FieldError(_("File"), _("No header row found: the plan needs the columns %(names)s.", names=names))
        ]
        return report
    data = cells_below_header(rows, header_at, _MATCHER)
    codes = {text for _number, cells in data if (text := cell_text(cells.get("workshop")))}
    workshops = {w.code: w for w in session.exec(select(Workshop).where(col(Workshop.code).in_(codes)))}
    seen: dict[CellKey, int] = {}
    report.rows = [_check(number, cells, workshops, seen) for number, cells in data]
    if not report.rows:
        report.file_errors = [FieldError(_("File"), _("The file has a header row but no rows below it."))]
    return report


def _check(
    number: int, cells: Mapping[str, Any], workshops: Mapping[str, Workshop], seen: dict[CellKey, int]
) -> PlanRow:
    row = PlanRow(row=number)

    def refuse(name: str, message: str) -> None:
        row.errors.append(FieldError(column_header(COLUMNS, name), message, number))

    values = parse_columns(COLUMNS, cells, _parse, refuse)
    code = values.get("workshop")
    row.workshop = workshops.get(code or "")
    if code and row.workshop is None:
        refuse("workshop", _("No workshop has the code %(code)s.", code=code))
    if row.errors or row.workshop is None:
        return row
    assert row.workshop.id is not None
    row.key = CellKey(row.workshop.id, values["category"], values["month"])
    row.amount_cny = values["amount"]
    if row.key in seen:
        message = _(
            "%(workshop)s, %(category)s, month %(month)s is already on row %(row)s.",
            workshop=code,
            category=row.key.category.label,
            month=row.key.month,
            row=seen[row.key],
        )
        refuse("month", message)
    else:
        seen[row.key] = number
    return row


def _parse(name: str, raw: Any) -> Any:
    if name == "category":
        return parse_choice(raw, _CATEGORIES, CostCategory)
    if name == "month":
        return parse_int(raw, low=1, high=12)
    if name == "amount":
        return parse_money(raw)
    return cell_text(raw)


def import_plan(session: Session, year: int, content: bytes, *, actor: Actor) -> PlanReport:
    """Replace the year's allocation with the file's plan, or write nothing: raises
    :class:`PlanImportFailed` when the file or a row has an error. Run it in a savepoint."""
    report = analyse(session, year, content, actor=actor)
    if report.file_errors:
        raise PlanImportFailed(_("The file cannot be imported."), report)
    if report.invalid:
        message = _(
            "Nothing was imported: %(n)s rows have errors. Correct them and upload the file again.", n=report.invalid
        )
        raise PlanImportFailed(message, report)
    budget: BudgetYear | None = service.budget_year(session, year)
    report.changes = allocations.replace_allocation(session, budget, report.plan, actor=actor)
    return report


def template_workbook(workshop_codes: list[str]) -> bytes:
    """The plan template: the headers, one example row per category, and the categories and
    workshop codes it accepts on a second sheet."""
    example = workshop_codes[0] if workshop_codes else "SYN"
    categories = [(category.value, category.zh, category.en) for category in CostCategory]
    return import_template(
        "预算分解",
        COLUMNS,
        [(example, category.zh, 1, 10000) for category in CostCategory],
        value_lists=[
            ValueList("费用科目", ("科目代码", "费用科目", "Category"), categories),
            ValueList("车间", ("车间",), [(code,) for code in workshop_codes]),
        ],
    )
