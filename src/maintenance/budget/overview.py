"""The rows of the budget overview, its export and its home card, built from one
:class:`~maintenance.budget.service.BudgetReport`: one row per workshop and per category (year plan,
plan to date, actual, variance, committed, forecast), a total, the months, and the drill-down link
of every figure.

Who sees what: managers, admins and auditors see the whole plant; an engineer sees the workshops
he belongs to, and what his workshops' forecast is judged against is their year plan (the plant's
target is not theirs alone)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode

from sqlmodel import Session

from maintenance.budget import rules
from maintenance.budget.drilldown import Measure
from maintenance.budget.period import BudgetView
from maintenance.budget.scope import readable_workshop_ids
from maintenance.budget.service import CATEGORIES, BudgetReport, budget_report
from maintenance.orders.choices import CostCategory
from maintenance.org.models import User

DRILL_PATH = "/budget/drill"


@dataclass(frozen=True)
class Drill:
    """Where a figure's drill-down is: the view, and the workshop, category or month it covers."""

    view: BudgetView
    workshop_id: int | None = None
    category: CostCategory | None = None
    month: int | None = None

    def href(self, measure: Measure) -> str:
        params: dict[str, object] = {"measure": measure}
        if self.workshop_id is not None:
            params["workshop"] = self.workshop_id
        if self.category is not None:
            params["category"] = self.category.value
        if self.month is not None:
            params["month"] = self.month
        return f"{DRILL_PATH}?{self.view.query()}&{urlencode(params)}"


@dataclass(frozen=True)
class FigureRow:
    """A workshop's, a category's or the total's figures for the year as of the reference date."""

    label: str
    code: str
    drill: Drill
    year_plan: Decimal
    variance: rules.Variance  # plan to date against actual to date
    forecast: rules.Forecast

    @property
    def plan_to_date(self) -> Decimal:
        return self.variance.plan

    @property
    def actual(self) -> Decimal:
        return self.variance.actual

    @property
    def committed(self) -> Decimal:
        return self.forecast.committed


@dataclass(frozen=True)
class MonthRow:
    """A month's plan, actual and committed; its variance is against the part of its plan that has
    passed (the whole of a past month, the current one pro rata), and None before it starts."""

    month: int
    drill: Drill
    plan: Decimal
    actual: Decimal
    committed: Decimal
    variance: rules.Variance | None


@dataclass(frozen=True)
class BudgetOverview:
    view: BudgetView
    report: BudgetReport
    whole_plant: bool

    @property
    def has_target(self) -> bool:
        return self.report.budget is not None

    @property
    def reference(self) -> Decimal | None:
        """What the year-end forecast is judged against: the target for the whole plant, the
        workshops' year plan for an engineer's."""
        return self.report.target if self.whole_plant else self.report.plan.total

    @property
    def over_allocated(self) -> bool:
        unallocated = self.report.unallocated
        return unallocated is not None and unallocated < 0

    @cached_property
    def total(self) -> FigureRow:
        return self._row("total", "", Drill(self.view))

    @property
    def forecast_against_reference(self) -> rules.Variance | None:
        """Forecast − reference (positive: the year lands over it)."""
        reference = self.reference
        return None if reference is None else rules.Variance(reference, self.total.forecast.value)

    def workshop_rows(self) -> list[FigureRow]:
        return [
            self._row(workshop.code, workshop.name, Drill(self.view, workshop_id=workshop.id), workshop_id=workshop.id)
            for workshop in self.report.workshops
        ]

    def category_rows(self) -> list[FigureRow]:
        return [
            self._row(category.value, category.label, Drill(self.view, category=category), category=category)
            for category in CATEGORIES
        ]

    def month_rows(self) -> list[MonthRow]:
        return [
            MonthRow(
                figures.month,
                Drill(self.view, month=figures.month),
                figures.plan,
                figures.actual,
                figures.committed,
                rules.month_variance(self.view.year, figures.month, self.view.as_of, figures.plan, figures.actual),
            )
            for figures in self.report.months()
        ]

    def _row(
        self,
        code: str,
        label: str,
        drill: Drill,
        *,
        workshop_id: int | None = None,
        category: CostCategory | None = None,
    ) -> FigureRow:
        report = self.report
        return FigureRow(
            label=label,
            code=code,
            drill=drill,
            year_plan=report.plan.sum(workshop_id=workshop_id, category=category),
            variance=report.variance(workshop_id=workshop_id, category=category),
            forecast=report.forecast(workshop_id=workshop_id, category=category),
        )


def budget_overview(session: Session, view: BudgetView, user: User) -> BudgetOverview:
    """The overview of ``view`` as ``user`` may see it, from one :func:`budget_report`."""
    workshop_ids = readable_workshop_ids(session, user)
    report = budget_report(session, view.year, view.as_of, workshop_ids=workshop_ids)
    return BudgetOverview(view, report, whole_plant=workshop_ids is None)
