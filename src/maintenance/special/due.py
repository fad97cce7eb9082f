"""The due list: the required inspections that need doing soon or should have been done.

An inspection is on the list when it falls due within the horizon ([as_of, as_of + days]) or
already stands badly (application overdue, overdue, must not operate) whatever its date. Only
items in service count: idle equipment is reported to the regulator as stopped and needs no
inspection until it returns (``RegisterItem.in_service``). The standing is always the status
function's (``rules.standing_on``), never re-derived here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from maintenance.orders.calendar import CalendarGrid, grid_for
from maintenance.special.choices import Standing
from maintenance.special.rules import TypeStanding
from maintenance.special.service import RegisterItem

ALWAYS_LISTED = frozenset({Standing.APPLICATION_OVERDUE, Standing.OVERDUE, Standing.MUST_NOT_OPERATE})


@dataclass(frozen=True)
class DueEntry:
    """One required inspection of one item on the due list."""

    item: RegisterItem
    inspection: TypeStanding

    @property
    def sort_key(self) -> tuple[bool, date, str]:
        """Undated (never inspected, no commissioning date) first, then by due date and tag."""
        due = self.inspection.due_date
        return (due is not None, due or date.min, self.item.asset.tag)


def is_due(inspection: TypeStanding, as_of: date, days: int) -> bool:
    if inspection.standing in ALWAYS_LISTED:
        return True
    due = inspection.due_date
    return due is not None and as_of <= due <= as_of + timedelta(days=days)


def due_entries(items: Iterable[RegisterItem], as_of: date, days: int) -> list[DueEntry]:
    """The due list of ``items`` on ``as_of`` looking ``days`` ahead, soonest first."""
    entries = [
        DueEntry(item, inspection)
        for item in items
        if item.in_service
        for inspection in item.standing.types
        if is_due(inspection, as_of, days)
    ]
    return sorted(entries, key=lambda entry: entry.sort_key)


def by_workshop(entries: Sequence[DueEntry], workshop_order: Sequence[int]) -> list[tuple[int, list[DueEntry]]]:
    """The entries grouped per workshop id, workshops in ``workshop_order`` (entries keep theirs)."""
    groups: dict[int, list[DueEntry]] = defaultdict(list)
    for entry in entries:
        groups[entry.item.asset.workshop_id].append(entry)
    rank = {workshop_id: index for index, workshop_id in enumerate(workshop_order)}
    return sorted(groups.items(), key=lambda group: rank.get(group[0], len(rank)))


# --- The calendar -------------------------------------------------------------------------


@dataclass(frozen=True)
class DueCalendar:
    """Month grids from the reference date's month to the horizon's, each inspection on its due
    day; what fell due before the reference date (or has no date) is listed above the grids."""

    months: list[CalendarGrid]
    by_day: dict[date, list[DueEntry]]
    earlier: list[DueEntry]


def due_calendar(entries: Sequence[DueEntry], as_of: date, days: int) -> DueCalendar:
    by_day: dict[date, list[DueEntry]] = defaultdict(list)
    earlier = []
    for entry in entries:
        due = entry.inspection.due_date
        if due is None or due < as_of:
            earlier.append(entry)
        else:
            by_day[due].append(entry)
    last_month = (as_of + timedelta(days=days)).replace(day=1)
    months = []
    month = as_of.replace(day=1)
    while month <= last_month:
        months.append(grid_for("month", month))
        month += relativedelta(months=1)
    return DueCalendar(months, dict(by_day), earlier)
