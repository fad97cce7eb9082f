"""CSV and XLSX of the year's operating log: one row per unit-month reported (the page's grid,
same filter), with the month's 连运率 and 负荷率; the header sheet gives the plant's rates and
完好率. The rows come from the grid the page loaded (:class:`maintenance.exports.ComputedExport`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from maintenance import exports as core
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_
from maintenance.scorecard.operating import rules
from maintenance.scorecard.operating.grid import OperatingGrid
from maintenance.scorecard.operating.service import entry_of

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("workshop", NP_("operating export", "Workshop"), width=16),
    ExportColumn("unit_code", NP_("operating export", "Unit code"), width=10),
    ExportColumn("unit", NP_("operating export", "Unit"), width=18),
    ExportColumn("month", NP_("operating export", "Month"), width=9),
    ExportColumn("hours_run", NP_("operating export", "Hours run"), "number", 10),
    ExportColumn("planned_hours", NP_("operating export", "Planned hours"), "number", 10),
    ExportColumn("load_pct", NP_("operating export", "Average load, percent"), "number", 10),
    ExportColumn("continuous_run", NP_("operating export", "Continuous-run rate"), "rate", 10),
    ExportColumn("load", NP_("operating export", "Load rate"), "rate", 10),
)


def _rate(value: Decimal | None) -> Decimal | str:
    return "—" if value is None else value


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


@dataclass(kw_only=True)
class OperatingLogExport(core.ComputedExport):
    columns = COLUMNS
    title = NP_("operating export", "Operating log export")
    sheet_name = NP_("operating export", "Operating log")
    file_stem = NP_("operating export", "operating-log")
    temp_prefix = "operating-export-"

    grid: OperatingGrid
    workshop_name: str | None = None
    q: str | None = None

    def __post_init__(self) -> None:
        rows: list[tuple[Any, ...]] = []
        for group in self.grid.groups:
            for row in group.rows:
                for month, cell in sorted(row.cells.items()):
                    entry = entry_of(cell)
                    rows.append(
                        (
                            group.workshop.name,
                            row.unit.code,
                            row.unit.name,
                            f"{self.grid.year}-{month:02}",
                            entry.hours_run,
                            entry.planned_hours,
                            entry.load_pct,
                            _rate(rules.continuous_run_rate([entry])),
                            _rate(rules.load_rate([entry])),
                        )
                    )
        self.computed = rows

    def filter_text(self) -> str:
        parts: list[str] = []
        if self.workshop_name is not None:
            parts.append(f"{self.text(NP_('operating export', 'workshop'))}={self.workshop_name}")
        if self.q:
            parts.append(self.text(NP_("export", 'search "%(q)s"'), q=self.q))
        return self.join_filters(parts, NP_("operating export", "All units"))

    def scope_entries(self) -> list[tuple[str, Any]]:
        grid = self.grid
        return [
            (self.text(NP_("operating export", "Year")), grid.year),
            (self.text(NP_("operating export", "As of")), grid.as_of),
            *super().scope_entries(),
            (self.text(NP_("operating export", "Continuous-run rate")), _percent(grid.rates.continuous_run)),
            (self.text(NP_("operating export", "Load rate")), _percent(grid.rates.load)),
            (self.text(NP_("operating export", "Intactness")), _percent(grid.intactness_rate)),
        ]

    @property
    def file_day(self) -> date:
        return self.grid.as_of
