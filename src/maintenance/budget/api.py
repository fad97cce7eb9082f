"""Read API of the repair-cost budget (scope ``budget:read``).

``GET /budget/{year}`` is a budget year as of ``as_of`` (default: today, kept inside the year as
the pages keep it): the target against the baseline years, the totals (plan, plan to date,
actual, committed, variance, the year-end forecast with its parts), every workshop × category ×
month cell and every workshop × category forecast. It reads
:func:`maintenance.budget.service.budget_report`, so it says what the pages say, in the same
fixed number of queries. Money is 元 as a string with two decimals (exact, never a float);
shares are percentages with two decimals. An engineer's token sees the engineer's workshops only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from maintenance.budget import rules
from maintenance.budget.period import YearPath, within
from maintenance.budget.scope import readable_workshop_ids
from maintenance.budget.service import CATEGORIES, BudgetReport, budget_report
from maintenance.db import SessionDep, plant_today
from maintenance.orders.api import _AUTH_RESPONSES
from maintenance.orders.choices import CostCategory
from maintenance.org.auth import api_scope

router = APIRouter(prefix="/budget", tags=["budget"])

BudgetReader = api_scope("budget:read")
AsOf = Annotated[
    date | None,
    Query(
        description="YYYY-MM-DD: the reference date (default: today); kept inside the year",
        ge=date(1950, 1, 1),
        le=date(2999, 12, 31),
    ),
]
MONEY = "元, two decimals"


class BaselineRead(BaseModel):
    year: int
    actual: str = Field(description=f"The year's actual repair cost as the finance books have it ({MONEY})")


class ForecastRead(BaseModel):
    """Year end = actual to date + committed + run-rate × days left."""

    value: str = Field(description=f"The year-end forecast ({MONEY})")
    actual: str = Field(description=f"Actual to date ({MONEY})")
    committed: str = Field(description=f"Approved, unfinished orders' planned cost falling in the year ({MONEY})")
    run_rate_per_day: str = Field(description=f"Actual to date ÷ days elapsed ({MONEY})")
    run_rate_rest: str = Field(description=f"The run-rate over the days left ({MONEY})")
    days_elapsed: int
    days_left: int


class TotalsRead(BaseModel):
    plan: str = Field(description=f"The year's allocation ({MONEY})")
    plan_to_date: str = Field(description=f"Months past plus the current one pro rata by day ({MONEY})")
    actual: str = Field(description=f"Completed orders' cost lines and the finance journal to as_of ({MONEY})")
    committed: str = Field(description=f"Committed at the end of as_of, falling in the year ({MONEY})")
    variance: str = Field(description=f"Actual − plan to date; positive is over plan ({MONEY})")
    variance_percent: str | None = Field(description="The variance ÷ plan to date in %, two decimals; None: no plan")
    forecast: ForecastRead


class CellRead(BaseModel):
    workshop_code: str
    category: CostCategory
    month: int = Field(ge=1, le=12)
    plan: str = Field(description=f"The month's allocation ({MONEY})")
    actual: str = Field(description=f"The month's actual to as_of ({MONEY})")
    committed: str = Field(description=f"Committed, planned to finish in the month ({MONEY})")
    variance: str | None = Field(
        description=f"The month's actual − the part of its plan passed by as_of, pro rata by day ({MONEY}); "
        "null for a month not begun"
    )


class CategoryForecastRead(BaseModel):
    workshop_code: str
    category: CostCategory
    forecast: ForecastRead


class BudgetRead(BaseModel):
    year: int
    as_of: date = Field(description="The reference date, inside the year")
    target: str | None = Field(description=f"The year's repair-cost target ({MONEY}); None: not set")
    note: str = Field(description="Why the target is what it is")
    baseline: str | None = Field(description=f"The baseline years' average ({MONEY}); None until all are recorded")
    baseline_years: list[BaselineRead] = Field(description="The recorded years of the three before, oldest first")
    change_percent: str | None = Field(description="(target − baseline) ÷ baseline in %, two decimals")
    unallocated: str | None = Field(description=f"Target − the year's allocation ({MONEY})")
    totals: TotalsRead
    cells: list[CellRead] = Field(description="One per workshop × category × month (workshops by code)")
    forecasts: list[CategoryForecastRead] = Field(description="One per workshop × category: its year end")


def _money(amount: Decimal) -> str:
    return str(rules.to_fen(amount))


def _optional_money(amount: Decimal | None) -> str | None:
    return None if amount is None else _money(amount)


def _percent(share: Decimal | None) -> str | None:
    return None if share is None else _money(share * 100)


def _forecast(forecast: rules.Forecast) -> ForecastRead:
    return ForecastRead(
        value=_money(forecast.value),
        actual=_money(forecast.actual),
        committed=_money(forecast.committed),
        run_rate_per_day=_money(forecast.run_rate_per_day),
        run_rate_rest=_money(forecast.run_rate_rest),
        days_elapsed=forecast.days_elapsed,
        days_left=forecast.days_left,
    )


def _totals(report: BudgetReport) -> TotalsRead:
    variance = report.variance()
    return TotalsRead(
        plan=_money(report.plan.total),
        plan_to_date=_money(variance.plan),
        actual=_money(variance.actual),
        committed=_money(report.committed.total),
        variance=_money(variance.amount),
        variance_percent=_percent(variance.share),
        forecast=_forecast(report.forecast()),
    )


def _cells(report: BudgetReport) -> list[CellRead]:
    def at(cells: dict[tuple[int, CostCategory, int], Decimal], key: tuple[int, CostCategory, int]) -> Decimal:
        return cells.get(key, rules.ZERO)

    rows = []
    for workshop in report.workshops:
        for category in CATEGORIES:
            for month in rules.MONTHS:
                key = (workshop.id or 0, category, month - 1)
                plan, actual = at(report.plan.cells, key), at(report.actual.cells, key)
                variance = rules.month_variance(report.year, month, report.as_of, plan, actual)
                rows.append(
                    CellRead(
                        workshop_code=workshop.code,
                        category=category,
                        month=month,
                        plan=_money(plan),
                        actual=_money(actual),
                        committed=_money(at(report.committed.cells, key)),
                        variance=_optional_money(variance.amount if variance else None),
                    )
                )
    return rows


def _forecasts(report: BudgetReport) -> list[CategoryForecastRead]:
    return [
        CategoryForecastRead(
            workshop_code=workshop.code,
            category=category,
            forecast=_forecast(report.forecast(workshop_id=workshop.id, category=category)),
        )
        for workshop in report.workshops
        for category in CATEGORIES
    ]


@router.get(
    "/{year}",
    response_model=BudgetRead,
    summary="A budget year as of a date: plan, actual, committed, variance and forecast by workshop × category × month",
    responses=_AUTH_RESPONSES,
)
def read_budget(
    session: SessionDep,
    user: BudgetReader,  # type: ignore[valid-type]
    year: YearPath,
    as_of: AsOf = None,
) -> BudgetRead:
    day = within(year, as_of or plant_today())
    workshop_ids = readable_workshop_ids(session, user)
    whole_plant = workshop_ids is None
    report = budget_report(session, year, day, workshop_ids=workshop_ids)
    return BudgetRead(
        year=year,
        as_of=day,
        target=_optional_money(report.target),
        note=report.budget.note if report.budget else "",
        baseline=_optional_money(report.baseline),
        baseline_years=[BaselineRead(year=b.year, actual=_money(b.actual_cny)) for b in report.baselines],
        change_percent=_percent(report.change),
        # Only the whole plant's allocation can be set against the plant's target.
        unallocated=_optional_money(report.unallocated) if whole_plant else None,
        totals=_totals(report),
        cells=_cells(report),
        forecasts=_forecasts(report),
    )
