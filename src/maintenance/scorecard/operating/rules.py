"""The operating log's rules, on plain numbers (no database): the hours a month has, what a
month's entry may hold, and the rates over a set of unit-months.

- 连运率 (continuous-run rate) = Σ hours run ÷ Σ planned hours; None when nothing was planned.
- 负荷率 (load rate) = Σ (load % × hours run) ÷ Σ hours run ÷ 100, the load weighted by the hours
  run; None when nothing ran.
- 完好率 (intactness) = intact assets ÷ assets in service; None when none is in service.

A unit-month without an entry is not reported and is left out of every sum: it is never a zero.
Rates are fractions (0.95 = 95 %) rounded half-up to four places.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from maintenance.i18n import gettext as _

RATE_PLACES = Decimal("0.0001")
ZERO = Decimal(0)


@dataclass(frozen=True)
class MonthEntry:
    """One unit's reported month: hours run, hours planned to run and the average load (%)."""

    hours_run: Decimal
    planned_hours: Decimal
    load_pct: Decimal


def hours_in_month(month: date) -> Decimal:
    """The hours of ``month``'s calendar: days × 24 (744 in a 31-day month, 672 in February)."""
    return Decimal(calendar.monthrange(month.year, month.month)[1] * 24)


def month_problems(entry: MonthEntry, month: date) -> dict[str, str]:
    """Why ``entry`` cannot be ``month``'s, by field: planned hours or hours run beyond the
    month's hours. (The model's own limits — not negative, one decimal, load 0–200 % — are
    checked where the form is read.)"""
    limit = hours_in_month(month)
    problems: dict[str, str] = {}
    for name, value in (("hours_run", entry.hours_run), ("planned_hours", entry.planned_hours)):
        if value > limit:
            problems[name] = _(
                "%(month)s has %(limit)s hours: enter at most %(limit)s.", month=month.strftime("%Y-%m"), limit=limit
            )
    return problems


def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def continuous_run_rate(entries: Iterable[MonthEntry]) -> Decimal | None:
    """连运率 over the entries: Σ hours run ÷ Σ planned hours; None when nothing was planned."""
    rows = list(entries)
    return _rate(sum((e.hours_run for e in rows), ZERO), sum((e.planned_hours for e in rows), ZERO))


def load_rate(entries: Iterable[MonthEntry]) -> Decimal | None:
    """负荷率 over the entries: the load weighted by hours run, as a fraction; None when nothing ran."""
    rows = list(entries)
    weighted = sum((e.load_pct * e.hours_run for e in rows), ZERO)
    return _rate(weighted / 100, sum((e.hours_run for e in rows), ZERO))


def intactness_rate(intact: int, in_service: int) -> Decimal | None:
    """完好率: intact assets ÷ assets in service; None when no asset is in service."""
    return _rate(Decimal(intact), Decimal(in_service))
