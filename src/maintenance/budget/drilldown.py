"""What lies behind a figure of the budget: the cost lines and journal entries of an actual, the
orders of a commitment, the allocation cells of a plan.

A figure is a measure narrowed by workshop, category and month, as of a day. Its rows come from
the query builders of :mod:`maintenance.orders.costs` (the definitions :func:`budget_report` sums),
narrowed the same way the report narrows its cells, so the total listed here is the figure on the
overview to the fen. A listing is two queries whatever the number of rows: its count and total,
and one page of rows.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.budget.models import Allocation
from maintenance.budget.period import BudgetView
from maintenance.budget.service import budget_year, end_of_day, still_to_spend
from maintenance.i18n import N_, gettext
from maintenance.orders import costs
from maintenance.orders.choices import CostCategory
from maintenance.orders.periods import Period, sql_decimal
from maintenance.org.models import Workshop
from maintenance.web import Page


class Measure(StrEnum):
    ACTUAL = "actual"
    COMMITTED = "committed"
    PLAN = "plan"

    @property
    def label(self) -> str:
        return gettext(MEASURE_LABELS[self])


MEASURE_LABELS = {
    Measure.ACTUAL: N_("Actual"),
    Measure.COMMITTED: N_("Committed"),
    Measure.PLAN: N_("Budget plan"),
}


@dataclass(frozen=True)
class Figure:
    """One figure of the budget view: ``measure`` of ``workshop_ids`` (None: all), of one category
    and one month when given."""

    view: BudgetView
    measure: Measure
    workshop_ids: Collection[int] | None
    category: CostCategory | None = None
    month: int | None = None

    @property
    def period(self) -> Period:
        """The days the figure covers: its month, else the budget year."""
        if self.month is None:
            return Period.for_year(self.view.year)
        last_day = monthrange(self.view.year, self.month)[1]
        return Period(date(self.view.year, self.month, 1), date(self.view.year, self.month, last_day))


@dataclass
class Listing:
    """One page of the rows behind a figure, and the amount of all of them."""

    page: Page
    amount: Decimal


def listing(session: Session, stmt: Any, number: int, size: int) -> Listing:
    """Page ``number`` of ``stmt``'s rows (the last when past it) and the sum of its ``amount``."""
    rows = stmt.order_by(None).subquery()
    total, amount = session.execute(select(func.count(), func.sum(rows.c.amount))).one()
    pages = max(1, -(-int(total) // size))
    number = min(max(1, number), pages)
    items = list(session.execute(stmt.limit(size).offset((number - 1) * size)).all())
    return Listing(Page(items=items, total=int(total), number=number, size=size), sql_decimal(amount))


def _empty(size: int) -> Listing:
    return Listing(Page(items=[], total=0, number=1, size=size), sql_decimal(None))


def actual_lines(session: Session, figure: Figure, number: int, size: int) -> Listing:
    """Completed orders' cost lines in the figure, known by the end of the reference day."""
    before = Period(figure.view.as_of, figure.view.as_of).end_at
    stmt = costs.actual_line_rows(figure.period, figure.workshop_ids, before=before, category=figure.category)
    return listing(session, stmt, number, size)


def journal_entries(session: Session, figure: Figure, number: int, size: int) -> Listing:
    """Finance journal entries in the figure, booked by the reference day."""
    stmt = costs.journal_entry_rows(
        figure.period, figure.workshop_ids, until=figure.view.as_of, category=figure.category
    )
    return listing(session, stmt, number, size)


def committed_orders(session: Session, figure: Figure, number: int, size: int) -> Listing:
    """Orders committed at the end of the reference day, over the rest of the year from its month
    (as the report places them: one planned in a month already past counts in the reference day's)."""
    view = figure.view
    rest = still_to_spend(view.year, view.as_of)
    month_index = None if figure.month is None or rest is None else figure.month - rest.start.month
    if rest is None or (month_index is not None and month_index < 0):
        return _empty(size)  # a month already past has nothing still to spend
    stmt = costs.committed_order_rows(
        rest,
        figure.workshop_ids,
        moment=end_of_day(view.as_of),
        category=figure.category,
        month_index=month_index,
    )
    return listing(session, stmt, number, size)


def plan_cells(session: Session, figure: Figure, number: int, size: int) -> Listing:
    """The allocation cells in the figure, by workshop, category and month."""
    budget = budget_year(session, figure.view.year)
    if budget is None:
        return _empty(size)
    stmt: Any = select(Allocation, col(Allocation.amount_cny).label("amount")).where(
        col(Allocation.budget_year_id) == budget.id
    )
    if figure.workshop_ids is not None:
        stmt = stmt.where(col(Allocation.workshop_id).in_(list(figure.workshop_ids)))
    if figure.category is not None:
        stmt = stmt.where(col(Allocation.category) == figure.category)
    if figure.month is not None:
        stmt = stmt.where(col(Allocation.month) == figure.month)
    stmt = stmt.order_by(col(Allocation.workshop_id), col(Allocation.category), col(Allocation.month))
    return listing(session, stmt, number, size)


def workshops_by_id(session: Session) -> dict[int, Workshop]:
    return {w.id: w for w in session.scalars(select(Workshop).order_by(col(Workshop.code))) if w.id is not None}
