"""Plant-local periods (days, months, years as UTC instants) and the SQL that sorts timestamps into
their months: what the KPIs and the repair cost (:mod:`maintenance.orders.costs`) count over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, literal
from sqlalchemy.sql.elements import ColumnElement

from maintenance.db import UTCDateTime, plant_day_start

CENT = Decimal("0.01")
ZERO = Decimal("0")


@dataclass(frozen=True)
class Month:
    """One month of a period (the first and last may be partial), as UTC instants."""

    year: int
    month: int
    start_at: datetime
    end_at: datetime

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"


@dataclass(frozen=True)
class Period:
    """Plant-local days ``start`` … ``end`` (both included)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    @classmethod
    def for_year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @property
    def start_at(self) -> datetime:
        """The UTC instant the first day begins at the plant."""
        return plant_day_start(self.start)

    @property
    def end_at(self) -> datetime:
        """The UTC instant the day after the last one begins (exclusive bound)."""
        return plant_day_start(self.end + timedelta(days=1))

    @property
    def hours(self) -> float:
        return (self.end_at - self.start_at).total_seconds() / 3600

    def hours_until(self, now: datetime) -> float:
        """Hours of the period that have passed by ``now`` (all of them once it is over)."""
        end = min(self.end_at, max(self.start_at, now))
        return (end - self.start_at).total_seconds() / 3600

    def months(self) -> list[Month]:
        months = []
        year, month = self.start.year, self.start.month
        while date(year, month, 1) <= self.end:
            following = (year + month // 12, month % 12 + 1)
            first = max(self.start, date(year, month, 1))
            last = min(self.end, date(*following, 1) - timedelta(days=1))
            months.append(Month(year, month, plant_day_start(first), plant_day_start(last + timedelta(days=1))))
            year, month = following
        return months


def month_bucket(instant: Any, months: list[Month]) -> ColumnElement[int]:
    """The index in ``months`` of the month a UTC timestamp inside them falls in, as SQL: "before
    the next month starts" picks the month (a CASE over the months' UTC boundaries)."""
    whens = [(instant < literal(m.end_at, UTCDateTime), index) for index, m in enumerate(months[:-1])]
    return case(*whens, else_=len(months) - 1) if whens else literal(0)


def sql_decimal(value: Any, quantum: Decimal = CENT) -> Decimal:
    """SUMs come back as Decimal, float (SQLite arithmetic) or None."""
    return ZERO.quantize(quantum) if value is None else Decimal(str(value)).quantize(quantum)
