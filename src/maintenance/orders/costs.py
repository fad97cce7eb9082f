"""The repair cost: actual and committed, by workshop × budget category × month.

One definition serves the KPI page and the budget (which reads it, never the other way), so the
two show the same actual to the fen:

- **actual** = the actual amounts of the cost lines of orders completed or closed in the period,
  on the plant-local day the order finished (``actual_finish_at``), plus the finance journal's
  entries booked in the period (costs without a work order). An order reopened after completion
  leaves the actual until it completes again (its cost is not final: a past day's figure changes
  with it); a cancelled order never counts.
- **committed** (as of a moment) = the planned amounts of the cost lines of orders approved before
  it, not finished by it and not cancelled by it: money the plant has agreed to spend and not yet
  booked. Completing an order moves it from committed to actual; cancelling it drops it from then
  on (the order's transitions say when). A
  commitment falls in the month the order is planned to finish (else to start); one planned in a
  month already past, or not planned at all, falls in the first month asked for.

The category of a cost line is :class:`CostCategory`'s mapping (every line of a turnaround order
is turnaround cost). Each function is one grouped query whatever the number of lines; the actual
reads completed orders' lines through the order index, which holds their amounts, never scanning
the cost-line table.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, exists, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from maintenance.orders.choices import DONE_STATES, CostCategory, CostKind, OrderState, OrderType
from maintenance.orders.models import CostLine, JournalEntry, OrderTransition, WorkOrder
from maintenance.orders.periods import Month, Period, month_bucket, sql_decimal

ZERO = Decimal("0.00")

CostKey = tuple[int, CostCategory, int]
"""(workshop id, category, index of the month in the period's months)."""


@dataclass
class CostCells:
    """Amounts in 元 by (workshop, category, month index); absent cells are zero."""

    months: list[Month]
    cells: dict[CostKey, Decimal] = field(default_factory=dict)

    def add(self, key: CostKey, amount: Decimal) -> None:
        self.cells[key] = self.cells.get(key, ZERO) + amount

    def merged(self, other: CostCells) -> CostCells:
        result = CostCells(self.months, dict(self.cells))
        for key, amount in other.cells.items():
            result.add(key, amount)
        return result

    def sum(
        self,
        *,
        workshop_id: int | None = None,
        category: CostCategory | None = None,
        months: Iterable[int] | None = None,
    ) -> Decimal:
        """The total of the cells matching every given coordinate (all of them when none is)."""
        wanted_months = None if months is None else set(months)
        return sum(
            (
                amount
                for (workshop, cat, month), amount in self.cells.items()
                if (workshop_id is None or workshop == workshop_id)
                and (category is None or cat == category)
                and (wanted_months is None or month in wanted_months)
            ),
            ZERO,
        )

    @property
    def total(self) -> Decimal:
        return self.sum()


def line_category() -> ColumnElement[str]:
    """A cost line's budget category in SQL (the line joined with its order)."""
    kind = col(CostLine.kind)
    return case(
        (col(WorkOrder.order_type) == OrderType.TA, literal(CostCategory.TURNAROUND.value)),
        (kind == CostKind.LABOUR, literal(CostCategory.LABOUR.value)),
        (kind == CostKind.MATERIAL, literal(CostCategory.MATERIALS.value)),
        (kind == CostKind.SERVICE, literal(CostCategory.SERVICES.value)),
        else_=literal(CostCategory.SPARES.value),
    )


def _in_workshops(column: Any, workshop_ids: Collection[int] | None) -> list[ColumnElement[bool]]:
    return [] if workshop_ids is None else [column.in_(list(workshop_ids))]


def finished_in(period: Period, *, before: datetime | None = None) -> list[ColumnElement[bool]]:
    """Orders whose cost is actual in ``period`` (finished in it, and before ``before``)."""
    end_at = period.end_at if before is None else min(period.end_at, before)
    return [
        col(WorkOrder.state).in_(list(DONE_STATES)),
        col(WorkOrder.actual_finish_at) >= period.start_at,
        col(WorkOrder.actual_finish_at) < end_at,
    ]


def unfinished_at(moment: datetime) -> list[ColumnElement[bool]]:
    """Orders not finished by ``moment`` and not cancelled by it (an order cancelled later was
    still open then, so a figure "as of" a past day does not change when an order is cancelled
    afterwards)."""
    cancelled_by_then = exists().where(
        col(OrderTransition.order_id) == col(WorkOrder.id),
        col(OrderTransition.to_state) == OrderState.CANCELLED,
        col(OrderTransition.at) < moment,
    )
    return [
        or_(col(WorkOrder.state) != OrderState.CANCELLED, ~cancelled_by_then),
        or_(col(WorkOrder.actual_finish_at).is_(None), col(WorkOrder.actual_finish_at) >= moment),
    ]


def committed_at(moment: datetime) -> list[ColumnElement[bool]]:
    """Orders whose planned cost is committed at ``moment``: approved before it and
    :func:`unfinished_at` it."""
    return [col(WorkOrder.approved_at) < moment, *unfinished_at(moment)]


def _cells(session: Session, stmt: Any, months: list[Month]) -> CostCells:
    rows = stmt.subquery()
    grouped = select(rows.c.workshop_id, rows.c.category, rows.c.bucket, func.sum(rows.c.amount)).group_by(
        rows.c.workshop_id, rows.c.category, rows.c.bucket
    )
    cells = CostCells(months)
    for workshop_id, category, bucket, amount in session.execute(grouped):
        cells.add((int(workshop_id), CostCategory(category), int(bucket)), sql_decimal(amount))
    return cells


def _actual_order_lines(
    *columns: Any, period: Period, workshop_ids: Collection[int] | None, before: datetime | None
) -> Any:
    """``columns`` of the cost lines whose actual amount is in ``period``, joined with their orders."""
    return (
        select(*columns)
        .select_from(WorkOrder)
        .join(CostLine, col(CostLine.order_id) == col(WorkOrder.id))
        .where(*finished_in(period, before=before), *_in_workshops(col(WorkOrder.workshop_id), workshop_ids))
    )


def order_actuals(
    session: Session, period: Period, workshop_ids: Collection[int] | None = None, *, before: datetime | None = None
) -> CostCells:
    """The actual cost of completed orders' lines in ``period`` (finished before ``before``)."""
    months = period.months()
    stmt = _actual_order_lines(
        col(WorkOrder.workshop_id).label("workshop_id"),
        line_category().label("category"),
        month_bucket(col(WorkOrder.actual_finish_at), months).label("bucket"),
        col(CostLine.actual_cny).label("amount"),
        period=period,
        workshop_ids=workshop_ids,
        before=before,
    )
    return _cells(session, stmt, months)


def actual_line_rows(
    period: Period,
    workshop_ids: Collection[int] | None = None,
    *,
    before: datetime | None = None,
    category: CostCategory | None = None,
) -> Any:
    """The cost lines behind :func:`order_actuals`' figure (optionally one category's), each with
    its order and category, the latest finished first: what a drill-down lists. Its ``amount``
    column is the line's part of the figure."""
    stmt = _actual_order_lines(
        CostLine,
        WorkOrder,
        line_category().label("category"),
        col(CostLine.actual_cny).label("amount"),
        period=period,
        workshop_ids=workshop_ids,
        before=before,
    )
    if category is not None:
        stmt = stmt.where(line_category() == category.value)
    return stmt.order_by(col(WorkOrder.actual_finish_at).desc(), col(WorkOrder.id).desc(), col(CostLine.id))


def _date_bucket(day: Any, months: list[Month]) -> ColumnElement[int]:
    """The index in ``months`` of the month a date column inside them falls in."""
    whens = [(day < _first_of_next(m), index) for index, m in enumerate(months[:-1])]
    return case(*whens, else_=len(months) - 1) if whens else literal(0)


def _first_of_next(month: Month) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _booked_entries(*columns: Any, period: Period, workshop_ids: Collection[int] | None, until: date | None) -> Any:
    """``columns`` of the finance journal's entries booked in ``period`` (on or before ``until``)."""
    last = period.end if until is None else min(period.end, until)
    booked = col(JournalEntry.booked_on)
    return select(*columns).where(
        booked >= period.start, booked <= last, *_in_workshops(col(JournalEntry.workshop_id), workshop_ids)
    )


def journal_actuals(
    session: Session, period: Period, workshop_ids: Collection[int] | None = None, *, until: date | None = None
) -> CostCells:
    """The finance journal's entries booked in ``period`` (on or before ``until``)."""
    months = period.months()
    stmt = _booked_entries(
        col(JournalEntry.workshop_id).label("workshop_id"),
        col(JournalEntry.category).label("category"),
        _date_bucket(col(JournalEntry.booked_on), months).label("bucket"),
        col(JournalEntry.amount_cny).label("amount"),
        period=period,
        workshop_ids=workshop_ids,
        until=until,
    )
    return _cells(session, stmt, months)


def journal_entry_rows(
    period: Period,
    workshop_ids: Collection[int] | None = None,
    *,
    until: date | None = None,
    category: CostCategory | None = None,
) -> Any:
    """The journal entries behind :func:`journal_actuals`' figure (optionally one category's), the
    latest booked first; ``amount`` is each entry's part of the figure."""
    stmt = _booked_entries(
        JournalEntry,
        col(JournalEntry.amount_cny).label("amount"),
        period=period,
        workshop_ids=workshop_ids,
        until=until,
    )
    if category is not None:
        stmt = stmt.where(col(JournalEntry.category) == category)
    return stmt.order_by(col(JournalEntry.booked_on).desc(), col(JournalEntry.id).desc())


@dataclass
class ActualCost:
    """The actual repair cost in its two parts: completed orders' lines and the finance journal."""

    orders: CostCells
    journal: CostCells

    @property
    def cells(self) -> CostCells:
        return self.orders.merged(self.journal)


def actual_cost(
    session: Session, period: Period, workshop_ids: Collection[int] | None = None, *, as_of: date | None = None
) -> ActualCost:
    """The actual repair cost in ``period`` as known at the end of ``as_of`` (all of it when None),
    by its source (the KPI page shows both parts)."""
    before = None if as_of is None else Period(as_of, as_of).end_at
    return ActualCost(
        order_actuals(session, period, workshop_ids, before=before),
        journal_actuals(session, period, workshop_ids, until=as_of),
    )


def actual_costs(
    session: Session, period: Period, workshop_ids: Collection[int] | None = None, *, as_of: date | None = None
) -> CostCells:
    """The actual repair cost in ``period`` as known at the end of ``as_of`` (all of it when None):
    completed orders' lines plus the finance journal. The KPI page and the budget both show it."""
    return actual_cost(session, period, workshop_ids, as_of=as_of).cells


def commitment_day(order: WorkOrder) -> date | None:
    """The day an order's commitment is planned for (its planned finish, else start): the month
    :func:`committed_costs` puts it in, unless that month is already past."""
    return order.planned_finish_date or order.planned_start_date


def _planned_day() -> ColumnElement[date]:
    """:func:`commitment_day` in SQL."""
    return func.coalesce(col(WorkOrder.planned_finish_date), col(WorkOrder.planned_start_date))


def _committed_lines(*columns: Any, period: Period, workshop_ids: Collection[int] | None, moment: datetime) -> Any:
    """``columns`` of the cost lines of orders committed at ``moment`` and planned for ``period``
    (or before it, or not at all), joined with their orders."""
    planned = _planned_day()
    return (
        select(*columns)
        .select_from(WorkOrder)
        .join(CostLine, col(CostLine.order_id) == col(WorkOrder.id))
        .where(
            *committed_at(moment),
            or_(planned.is_(None), planned <= period.end),
            *_in_workshops(col(WorkOrder.workshop_id), workshop_ids),
        )
    )


def _commitment_bucket(period: Period) -> ColumnElement[int]:
    """The month of ``period`` a commitment falls in: its planned day's, the first for any earlier."""
    return _date_bucket(func.coalesce(_planned_day(), period.start), period.months())


def committed_costs(
    session: Session, period: Period, workshop_ids: Collection[int] | None = None, *, moment: datetime
) -> CostCells:
    """The planned cost of orders committed at ``moment``, by the month in ``period`` each is
    planned to finish; orders planned after the period are not in it."""
    stmt = _committed_lines(
        col(WorkOrder.workshop_id).label("workshop_id"),
        line_category().label("category"),
        _commitment_bucket(period).label("bucket"),
        col(CostLine.planned_cny).label("amount"),
        period=period,
        workshop_ids=workshop_ids,
        moment=moment,
    )
    return _cells(session, stmt, period.months())


def committed_order_rows(
    period: Period,
    workshop_ids: Collection[int] | None = None,
    *,
    moment: datetime,
    category: CostCategory | None = None,
    month_index: int | None = None,
) -> Any:
    """The orders behind :func:`committed_costs`' figure (optionally one category's, one month's
    by its index in ``period``), each with ``amount``: the planned cost of its lines in the
    figure. Ordered by the day they are planned for."""
    amount = func.sum(col(CostLine.planned_cny)).label("amount")
    stmt = _committed_lines(WorkOrder, amount, period=period, workshop_ids=workshop_ids, moment=moment)
    if category is not None:
        stmt = stmt.where(line_category() == category.value)
    if month_index is not None:
        stmt = stmt.where(_commitment_bucket(period) == month_index)
    return stmt.group_by(col(WorkOrder.id)).order_by(_planned_day(), col(WorkOrder.id))
