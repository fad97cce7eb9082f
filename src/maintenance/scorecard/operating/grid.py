"""The year's operating log as the page reads it: units grouped by workshop × the twelve months,
each unit's, workshop's, month's and the plant's 连运率 and 负荷率 over the months reported up to
the reference day's month, and each workshop's 完好率 on the reference day. Four queries whatever
the number of units or months: the workshops, the units, the year's entries and the 完好率 counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.org import service as org_service
from maintenance.org.models import Workshop
from maintenance.scorecard.operating import rules, service
from maintenance.scorecard.operating.models import OperatingMonth
from maintenance.scorecard.operating.rules import MonthEntry
from maintenance.scorecard.operating.service import Intactness, LogUnit

MONTHS = tuple(range(1, 13))


@dataclass(frozen=True)
class Rates:
    """连运率 and 负荷率 over some unit-months (None: nothing to measure)."""

    continuous_run: Decimal | None
    load: Decimal | None
    reported: int

    @classmethod
    def of(cls, rows: Iterable[OperatingMonth]) -> Rates:
        entries = [service.entry_of(row) for row in rows]
        return cls(rules.continuous_run_rate(entries), rules.load_rate(entries), len(entries))


@dataclass
class UnitRow:
    unit: LogUnit
    cells: dict[int, OperatingMonth] = field(default_factory=dict)

    @property
    def rates(self) -> Rates:
        return Rates.of(self.cells.values())


@dataclass
class WorkshopGroup:
    workshop: Workshop
    rows: list[UnitRow]
    intactness: Intactness

    @property
    def rates(self) -> Rates:
        return Rates.of(cell for row in self.rows for cell in row.cells.values())

    @property
    def intactness_rate(self) -> Decimal | None:
        return rules.intactness_rate(self.intactness.intact, self.intactness.in_service)


@dataclass
class OperatingGrid:
    year: int
    as_of: date
    last_month: int  # the last month counted: the reference day's
    workshops: Sequence[Workshop]  # every workshop (the filter and the 完好率 table)
    groups: list[WorkshopGroup]  # the workshops with units listed, in order

    @property
    def rows(self) -> list[UnitRow]:
        return [row for group in self.groups for row in group.rows]

    def month_rates(self, month: int) -> Rates:
        return Rates.of(row.cells[month] for row in self.rows if month in row.cells)

    @property
    def rates(self) -> Rates:
        return Rates.of(cell for row in self.rows for cell in row.cells.values())

    @property
    def intactness(self) -> Intactness:
        return service.plant_intactness([group.intactness for group in self.groups])

    @property
    def intactness_rate(self) -> Decimal | None:
        total = self.intactness
        return rules.intactness_rate(total.intact, total.in_service)


def _matches(unit: LogUnit, q: str | None) -> bool:
    if not q:
        return True
    needle = q.casefold()
    return needle in unit.code.casefold() or needle in unit.name.casefold()


def operating_grid(
    session: Session, year: int, as_of: date, *, workshop_id: int | None = None, q: str | None = None
) -> OperatingGrid:
    """The log of ``year`` up to ``as_of``'s month (all of it for a past year), of one workshop or
    all, its units narrowed to those whose code or name contains ``q``; 完好率 at ``as_of``'s end."""
    last_month = as_of.month if as_of.year == year else 12
    workshops = org_service.list_workshops(session)
    units = [unit for unit in service.log_units(session, workshop_id) if _matches(unit, q)]
    narrowed = workshop_id is not None or bool(q)
    entries = service.year_entries(session, year, [u.id for u in units] if narrowed else None, last_month=last_month)
    counts = service.intactness_by_workshop(session, as_of, workshop_id)
    rows_by_workshop: dict[int, list[UnitRow]] = {}
    for unit in units:
        cells = {month: entries[(unit.id, month)] for month in MONTHS if (unit.id, month) in entries}
        rows_by_workshop.setdefault(unit.workshop_id, []).append(UnitRow(unit, cells))
    shown = [w for w in workshops if workshop_id is None or w.id == workshop_id]
    groups = [
        WorkshopGroup(w, rows_by_workshop.get(w.id, []), counts.get(w.id, Intactness()))  # type: ignore[arg-type]
        for w in shown
        if w.id in rows_by_workshop or w.id in counts
    ]
    return OperatingGrid(year, as_of, last_month, workshops, groups)


def entry_text(entry: MonthEntry | None) -> str:
    """A row's values as the month form remembers them (to notice someone saved meanwhile)."""
    if entry is None:
        return ""
    return f"{entry.hours_run}/{entry.planned_hours}/{entry.load_pct}"
