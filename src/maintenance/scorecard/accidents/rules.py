"""The accident rate against last year, as pure rules (no database): the spans compared and the
change with its verdict.

The plant counts equipment accidents (every class but the incident, 设备事件, which is recorded
and followed up apart) from 1 January through the day asked, and compares them with last year's
1 January through the same month and day (29 February, which last year had not, is 28 February).
The change is (this − last) ÷ last as a fraction (−0.1 = −10 %). A year without accidents meets
the target whatever last year had; the change against a last year without any is no number, and
then some accidents this year miss the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# The change as a fraction to four places (−0.3333 = −33.33 %).
PLACES = Decimal("0.0001")


def same_day_last_year(day: date) -> date:
    """The same month and day a year before; 29 February is 28 February of the year before."""
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def this_year_span(as_of: date) -> tuple[date, date]:
    """1 January through ``as_of``, both days included."""
    return date(as_of.year, 1, 1), as_of


def last_year_span(as_of: date) -> tuple[date, date]:
    """Last year's 1 January through the same month and day (both included)."""
    return date(as_of.year - 1, 1, 1), same_day_last_year(as_of)


@dataclass(frozen=True)
class AccidentRate:
    """This year's accidents to date against the same span of last year."""

    this_year: int
    last_year: int

    @property
    def change(self) -> Decimal | None:
        """(this − last) ÷ last, a fraction to four places; None when last year had none."""
        if self.last_year == 0:
            return None
        return (Decimal(self.this_year - self.last_year) / Decimal(self.last_year)).quantize(PLACES)

    def meets(self, target: Decimal | None) -> bool | None:
        """Whether the change is at or below ``target`` (e.g. −0.10: ten per cent fewer).

        No accidents this year meets any target; some against none last year meet none; with a
        change and no target there is nothing to judge (None)."""
        if self.this_year == 0:
            return True
        change = self.change
        if change is None:
            return False
        if target is None:
            return None
        return change <= target
