"""Wall thickness of a thickness monitoring location (CML) assessed as API 570 asks (design.md §6).

- long-term corrosion rate = (t_initial − t_actual) / years from the initial date to the latest reading;
- short-term corrosion rate = (t_previous − t_actual) / years between the previous and the latest reading;
- governing rate = the larger of the two;
- remaining life = (t_actual − t_required) / governing rate (None — unlimited — when the rate ≤ 0);
- next thickness inspection = latest reading date + min(½ remaining life, 10 years);
- below the required thickness: remaining life 0 and the next inspection is due now (inspect or repair);
- at the required thickness (equal to it, to within float noise): no margin left, so remaining life 0
  and due now as well, whatever the rate — a status of its own ("at minimum"), flagged like below.

Pure functions, no database. Numbers are floats throughout: readings are stored as floats and a
point's initial and required thickness (``Numeric(8, 2)``, Decimal) are converted with ``float()``.
Nothing is rounded here — pages round for display (rates to 3 decimals, remaining life to 1 decimal).
Years are days / 365.25; the next inspection date counts half the remaining life in whole days,
rounded down (the earlier, safer date; float noise is rounded off at 6 decimals first), and the
10-year cap is ten calendar years (29 February → 28 February). Dates are plant-local dates of the
readings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

DAYS_PER_YEAR = 365.25
MAX_INTERVAL_YEARS = 10  # API 570: never longer than 10 years between thickness inspections
# Thicknesses closer than this (mm) are equal: readings are floats, the required thickness Numeric(8, 2).
SAME_THICKNESS_MM = 1e-6

Thickness = float | Decimal


@dataclass(frozen=True)
class ThicknessReading:
    taken_on: date  # plant-local date
    thickness_mm: float


@dataclass(frozen=True)
class ThicknessAssessment:
    initial_mm: float | None
    initial_date: date | None
    required_mm: float | None
    previous: ThicknessReading | None
    actual: ThicknessReading | None
    long_term_rate: float | None  # mm/year; None without initial thickness/date or with no time elapsed
    short_term_rate: float | None  # mm/year; None with fewer than two readings
    governing_rate: float | None  # the larger of the two (may be ≤ 0: no measurable corrosion)
    remaining_life_years: float | None  # None: unlimited (rate ≤ 0) or unknown (no required thickness / rate)
    next_inspection_date: date | None
    below_required: bool
    at_required: bool = False  # the latest thickness is the required one: no remaining life

    @property
    def at_or_below_required(self) -> bool:
        """No margin left: inspect or repair now."""
        return self.below_required or self.at_required

    @property
    def has_readings(self) -> bool:
        return self.actual is not None

    @property
    def remaining_life_unlimited(self) -> bool:
        """No measurable corrosion: the wall does not get thinner, so it never reaches t_required."""
        return (
            self.actual is not None
            and self.required_mm is not None
            and not self.at_or_below_required
            and self.governing_rate is not None
            and self.governing_rate <= 0
        )

    @property
    def governing_basis(self) -> str | None:
        """``long`` or ``short``: which rate governs (long-term when they are equal)."""
        if self.governing_rate is None:
            return None
        if self.short_term_rate is not None and (
            self.long_term_rate is None or self.short_term_rate > self.long_term_rate
        ):
            return "short"
        return "long"

    def is_overdue(self, today: date) -> bool:
        """The next inspection date has passed (a location below required thickness is due at once)."""
        return self.next_inspection_date is not None and self.next_inspection_date < today

    def sort_key(self) -> tuple[int, float, int]:
        """Shortest remaining life first (below the required thickness before at it); unknown after
        the known ones, unlimited last."""
        if self.remaining_life_years is not None:
            return (0, self.remaining_life_years, 0 if self.below_required else 1)
        if self.remaining_life_unlimited:
            return (2, math.inf, 1)
        return (1, math.inf, 1)


def _years(start: date, end: date) -> float:
    return (end - start).days / DAYS_PER_YEAR


def _rate(before: float, after: float, start: date, end: date) -> float | None:
    """Metal loss per year between two dates; None when no time passed between them."""
    if end <= start:
        return None
    return (before - after) / _years(start, end)


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes 28 February in a year without one."""
    moved: date = day + relativedelta(years=years)
    return moved


def assess(
    *,
    initial_mm: Thickness | None,
    initial_date: date | None,
    required_mm: Thickness | None,
    readings: list[ThicknessReading],
) -> ThicknessAssessment:
    """Assess a location from its initial and required thickness and its readings (any order;
    only the latest two are used)."""
    ordered = sorted(readings, key=lambda reading: reading.taken_on)
    actual = ordered[-1] if ordered else None
    previous = ordered[-2] if len(ordered) >= 2 else None
    initial = float(initial_mm) if initial_mm is not None else None
    required = float(required_mm) if required_mm is not None else None

    if actual is None:
        return ThicknessAssessment(
            initial, initial_date, required, None, None, None, None, None, None, None, below_required=False
        )

    long_term = (
        _rate(initial, actual.thickness_mm, initial_date, actual.taken_on)
        if initial is not None and initial_date is not None
        else None
    )
    short_term = (
        _rate(previous.thickness_mm, actual.thickness_mm, previous.taken_on, actual.taken_on)
        if previous is not None
        else None
    )
    rates = [rate for rate in (long_term, short_term) if rate is not None]
    governing = max(rates) if rates else None
    below = required is not None and actual.thickness_mm < required - SAME_THICKNESS_MM
    at_required = required is not None and not below and actual.thickness_mm <= required + SAME_THICKNESS_MM

    remaining: float | None = None
    next_date: date | None = None
    cap = add_years(actual.taken_on, MAX_INTERVAL_YEARS)
    if below or at_required:
        remaining, next_date = 0.0, actual.taken_on
    elif required is not None and governing is not None:
        margin = actual.thickness_mm - required
        if governing > 0:
            remaining = margin / governing
            half_life_days = math.floor(round(remaining * DAYS_PER_YEAR / 2, 6))  # round off float noise first
            next_date = min(actual.taken_on + timedelta(days=half_life_days), cap)
        else:
            next_date = cap  # no measurable corrosion: the 10-year maximum interval applies
    return ThicknessAssessment(
        initial_mm=initial,
        initial_date=initial_date,
        required_mm=required,
        previous=previous,
        actual=actual,
        long_term_rate=long_term,
        short_term_rate=short_term,
        governing_rate=governing,
        remaining_life_years=remaining,
        next_inspection_date=next_date,
        below_required=below,
        at_required=at_required,
    )
