"""A budget year's figures as of a date, in a fixed number of queries whatever the number of
workshops, orders or cost lines: the target and baseline, the plan by workshop × category ×
month, and the actual and committed cost from :mod:`maintenance.orders.costs` (the KPI page's
definition). Every page, export and the API read :func:`budget_report`; the arithmetic is
:mod:`maintenance.budget.rules`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from maintenance.budget import rules
from maintenance.budget.models import Allocation, BaselineYear, BudgetYear
from maintenance.orders.choices import CostCategory
from maintenance.orders.costs import CostCells, actual_costs, committed_costs
from maintenance.orders.periods import Period
from maintenance.org.models import Workshop

CATEGORIES = list(CostCategory)


def budget_year(session: Session, year: int) -> BudgetYear | None:
    return session.exec(select(BudgetYear).where(col(BudgetYear.year) == year)).first()


def baselines_of(session: Session, year: int) -> list[BaselineYear]:
    """The baseline years of ``year`` that are recorded, oldest first."""
    years = rules.baseline_years(year)
    return list(
        session.exec(select(BaselineYear).where(col(BaselineYear.year).in_(years)).order_by(col(BaselineYear.year)))
    )


def plan_cells(
    session: Session, year: int, budget: BudgetYear | None, workshop_ids: Collection[int] | None = None
) -> CostCells:
    """The allocation of ``year`` as cells over its twelve months (index = month − 1)."""
    cells = CostCells(Period.for_year(year).months())
    if budget is None:
        return cells
    stmt = select(Allocation).where(col(Allocation.budget_year_id) == budget.id)
    if workshop_ids is not None:
        stmt = stmt.where(col(Allocation.workshop_id).in_(list(workshop_ids)))
    for cell in session.exec(stmt):
        cells.add((cell.workshop_id, cell.category, cell.month - 1), cell.amount_cny)
    return cells


def still_to_spend(year: int, as_of: date) -> Period | None:
    """The days of ``year`` whose commitments the report counts at the end of ``as_of``: from its
    day (or the year's start) to the year's end; None once the year is over."""
    if as_of.year > year:
        return None
    return Period(max(date(year, 1, 1), as_of), date(year, 12, 31))


def end_of_day(day: date) -> datetime:
    """The moment a commitment is judged at: the end of the plant-local ``day``."""
    return Period(day, day).end_at


def committed_in_year(
    session: Session, year: int, as_of: date, workshop_ids: Collection[int] | None = None
) -> CostCells:
    """The cost committed at the end of ``as_of`` that falls in ``year``, over its twelve months."""
    months = Period.for_year(year).months()
    rest = still_to_spend(year, as_of)
    if rest is None:
        return CostCells(months)  # the year is over: nothing is still to be spent in it
    committed = committed_costs(session, rest, workshop_ids, moment=end_of_day(as_of))
    offset = rest.start.month - 1
    return CostCells(months, {(w, c, m + offset): amount for (w, c, m), amount in committed.cells.items()})


@dataclass(frozen=True)
class MonthFigures:
    month: int
    plan: Decimal
    actual: Decimal
    committed: Decimal


@dataclass
class BudgetReport:
    year: int
    as_of: date
    budget: BudgetYear | None
    baselines: list[BaselineYear]
    workshops: list[Workshop]
    plan: CostCells
    actual: CostCells
    committed: CostCells

    @property
    def target(self) -> Decimal | None:
        return self.budget.target_cny if self.budget else None

    @property
    def baseline(self) -> Decimal | None:
        return rules.baseline([b.actual_cny for b in self.baselines])

    @property
    def change(self) -> Decimal | None:
        return None if self.target is None else rules.change_against(self.target, self.baseline)

    @property
    def unallocated(self) -> Decimal | None:
        """The part of the target not yet allocated (negative when the grid exceeds it)."""
        return None if self.target is None else self.target - self.plan.total

    def plan_to_date(self, *, workshop_id: int | None = None, category: CostCategory | None = None) -> Decimal:
        monthly = {m: self.plan.sum(workshop_id=workshop_id, category=category, months=[m - 1]) for m in rules.MONTHS}
        return rules.plan_to_date(monthly, self.year, self.as_of)

    def variance(self, *, workshop_id: int | None = None, category: CostCategory | None = None) -> rules.Variance:
        """Plan to date against actual to date."""
        return rules.Variance(
            self.plan_to_date(workshop_id=workshop_id, category=category),
            self.actual.sum(workshop_id=workshop_id, category=category),
        )

    def forecast(self, *, workshop_id: int | None = None, category: CostCategory | None = None) -> rules.Forecast:
        return rules.Forecast(
            self.year,
            self.as_of,
            self.actual.sum(workshop_id=workshop_id, category=category),
            self.committed.sum(workshop_id=workshop_id, category=category),
        )

    def months(self, *, workshop_id: int | None = None, category: CostCategory | None = None) -> list[MonthFigures]:
        def of(cells: CostCells, month: int) -> Decimal:
            return cells.sum(workshop_id=workshop_id, category=category, months=[month - 1])

        return [MonthFigures(m, of(self.plan, m), of(self.actual, m), of(self.committed, m)) for m in rules.MONTHS]


def budget_report(
    session: Session, year: int, as_of: date, *, workshop_ids: Collection[int] | None = None
) -> BudgetReport:
    """Seven queries: the year, its baselines, the workshops, the plan, the orders' actual, the
    journal's actual and the commitments. ``workshop_ids`` narrows it (an engineer's workshops)."""
    budget = budget_year(session, year)
    workshops = select(Workshop).order_by(col(Workshop.code))
    if workshop_ids is not None:
        workshops = workshops.where(col(Workshop.id).in_(list(workshop_ids)))
    year_period = Period.for_year(year)
    actual = (
        actual_costs(session, year_period, workshop_ids, as_of=as_of)
        if as_of >= year_period.start
        else CostCells(year_period.months())
    )
    return BudgetReport(
        year=year,
        as_of=as_of,
        budget=budget,
        baselines=baselines_of(session, year),
        workshops=list(session.exec(workshops)),
        plan=plan_cells(session, year, budget, workshop_ids),
        actual=actual,
        committed=committed_in_year(session, year, as_of, workshop_ids),
    )
