"""The budget's arithmetic, pure and exact (``Decimal`` in 元; the reference date is an argument).

- baseline = the average actual repair cost of the three years before the budget year; the
  target's change against it = (target − baseline) ÷ baseline (the plant's 2026 target, 1560万, is
  −50 %);
- plan to date = the plan of the months before the reference date's month, plus the current
  month's plan pro rata by day (so a manager on the 10th is not told the month is under plan);
- variance = actual − plan (positive is over plan), and ÷ plan as a share;
- a workshop or category is **over plan** when its variance to date is positive and **drifting**
  when it is more than 5 % over (the page marks the first amber, the second red);
- forecast for the year = actual to date + committed + run-rate × days left, where run-rate =
  actual to date ÷ days elapsed (the method the page shows beside the figure).

Amounts are rounded to the fen (half up) only where a figure is produced.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
BASELINE_YEARS = 3
DRIFT_SHARE = Decimal("0.05")
MONTHS = range(1, 13)


def to_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def baseline_years(year: int) -> list[int]:
    """The years whose average the target of ``year`` is judged against, oldest first."""
    return list(range(year - BASELINE_YEARS, year))


def baseline(actuals: Sequence[Decimal]) -> Decimal | None:
    """The average of the baseline years' actual cost; None until all of them are known."""
    if len(actuals) < BASELINE_YEARS:
        return None
    return to_fen(sum(actuals, ZERO) / len(actuals))


def change_against(target: Decimal, base: Decimal | None) -> Decimal | None:
    """(target − baseline) ÷ baseline, as a share (−0.5 is a 50 % cut); None without a baseline."""
    if not base:
        return None
    return (target - base) / base


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def days_elapsed(year: int, as_of: date) -> int:
    """Days of ``year`` up to and including ``as_of`` (0 before it starts, all after it ends)."""
    if as_of.year < year:
        return 0
    if as_of.year > year:
        return days_in_year(year)
    return as_of.timetuple().tm_yday


def month_share(year: int, month: int, as_of: date) -> Decimal:
    """The part of a month of ``year`` that has passed by the end of ``as_of``: 0, a share, or 1."""
    if (as_of.year, as_of.month) < (year, month):
        return Decimal(0)
    if (as_of.year, as_of.month) > (year, month):
        return Decimal(1)
    return Decimal(as_of.day) / Decimal(calendar.monthrange(year, month)[1])


def plan_to_date(monthly_plan: Mapping[int, Decimal], year: int, as_of: date) -> Decimal:
    """The plan of the months of ``year`` that have passed by ``as_of`` (the current one pro rata)."""
    return to_fen(sum((amount * month_share(year, month, as_of) for month, amount in monthly_plan.items()), ZERO))


@dataclass(frozen=True)
class Variance:
    plan: Decimal
    actual: Decimal

    @property
    def amount(self) -> Decimal:
        """Actual − plan: positive is over plan."""
        return self.actual - self.plan

    @property
    def share(self) -> Decimal | None:
        """The variance ÷ the plan; None where nothing was planned."""
        return self.amount / self.plan if self.plan else None

    @property
    def over_plan(self) -> bool:
        return self.amount > 0

    @property
    def drifting(self) -> bool:
        """Over plan by more than :data:`DRIFT_SHARE` (or over a plan of nothing)."""
        if not self.over_plan:
            return False
        return self.share is None or self.share > DRIFT_SHARE


def month_variance(year: int, month: int, as_of: date, plan: Decimal, actual: Decimal) -> Variance | None:
    """A month's actual against the part of its plan passed by ``as_of``; None before it starts."""
    if not month_share(year, month, as_of):
        return None
    return Variance(plan_to_date({month: plan}, year, as_of), actual)


@dataclass(frozen=True)
class Forecast:
    """The year-end forecast: run-rate plus commitments."""

    year: int
    as_of: date
    actual: Decimal
    committed: Decimal

    @property
    def days_elapsed(self) -> int:
        return days_elapsed(self.year, self.as_of)

    @property
    def days_left(self) -> int:
        return days_in_year(self.year) - self.days_elapsed

    @property
    def run_rate_per_day(self) -> Decimal:
        """Actual to date ÷ days elapsed (0 before the year starts)."""
        return self.actual / self.days_elapsed if self.days_elapsed else ZERO

    @property
    def run_rate_rest(self) -> Decimal:
        """What the run-rate adds over the days left."""
        return to_fen(self.run_rate_per_day * self.days_left)

    @property
    def value(self) -> Decimal:
        return self.actual + self.committed + self.run_rate_rest
