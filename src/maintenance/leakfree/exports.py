"""Exports of the managers' views: the overview (one row per workshop: inventory, latest rates,
open leaks, standing) and the certification board (standing, certificate, the programme's counts
and progress on the header sheet), CSV or XLSX.

Standings are computed, not stored, so the rows come from the workshop rows the page loaded (a
fixed number of queries), not from a query of their own (:class:`maintenance.exports.ComputedExport`). How
files are written and sent is :mod:`maintenance.exports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from maintenance import exports as core
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_
from maintenance.leakfree.overview import WorkshopRow
from maintenance.leakfree.service import Progress


@dataclass(kw_only=True)
class WorkshopRowsExport(core.ComputedExport):
    """A table of workshops on a reference date, each row from a :class:`WorkshopRow`."""

    as_of: date
    workshop_rows: Sequence[WorkshopRow] = ()

    def __post_init__(self) -> None:
        self.computed = [self.record(row) for row in self.workshop_rows]

    def record(self, row: WorkshopRow) -> tuple[Any, ...]:
        raise NotImplementedError

    def yes_no(self, value: bool | None) -> str:
        if value is None:
            return "—"
        return self.text(NP_("leakfree export", "Yes") if value else NP_("leakfree export", "No"))

    def filter_text(self) -> str:
        return self.text(NP_("leakfree export", "All workshops"))

    def scope_entries(self) -> list[tuple[str, Any]]:
        return [(self.text(NP_("leakfree export", "As of")), self.as_of), *super().scope_entries()]

    @property
    def file_day(self) -> date:
        return self.as_of


def _per_mille(value: Decimal | None) -> Decimal | str:
    return "—" if value is None else value


OVERVIEW_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("code", NP_("leakfree export", "Workshop code"), width=10),
    ExportColumn("name", NP_("leakfree export", "Workshop"), width=18),
    ExportColumn("total_points", NP_("leakfree export", "Seal points"), "int", 10),
    ExportColumn("static_points", NP_("leakfree export", "Static points"), "int", 10),
    ExportColumn("dynamic_points", NP_("leakfree export", "Dynamic points"), "int", 10),
    ExportColumn("survey_date", NP_("leakfree export", "Latest survey"), "date", 12),
    ExportColumn("static_leaks", NP_("leakfree export", "Static leaks"), "int", 10),
    ExportColumn("dynamic_leaks", NP_("leakfree export", "Dynamic leaks"), "int", 10),
    ExportColumn("static_per_mille", NP_("leakfree export", "Static ‰"), "number", 10),
    ExportColumn("dynamic_per_mille", NP_("leakfree export", "Dynamic ‰"), "number", 10),
    ExportColumn("meets", NP_("leakfree export", "Meets thresholds"), width=10),
    ExportColumn("open_leaks", NP_("leakfree export", "Open leaks"), "int", 10),
    ExportColumn("oldest_days", NP_("leakfree export", "Oldest open leak (days)"), "int", 12),
    ExportColumn("standing", NP_("leakfree export", "Certification"), width=16),
    ExportColumn("certified_date", NP_("leakfree export", "Certified on"), "date", 12),
    ExportColumn("valid_until", NP_("leakfree export", "Valid until"), "date", 12),
)


@dataclass(kw_only=True)
class OverviewExport(WorkshopRowsExport):
    columns = OVERVIEW_COLUMNS
    title = NP_("leakfree export", "Leak-free overview by workshop")
    sheet_name = NP_("leakfree export", "Workshops")
    file_stem = NP_("leakfree export", "leak-free-overview")
    temp_prefix = "leakfree-overview-"

    def record(self, row: WorkshopRow) -> tuple[Any, ...]:
        status, rates = row.status, row.status.latest_rates
        return (
            status.workshop.code,
            status.workshop.name,
            status.total_points,
            status.static_points,
            status.dynamic_points,
            status.latest_survey.survey_date if status.latest_survey else None,
            rates.static_leaks if rates else None,
            rates.dynamic_leaks if rates else None,
            _per_mille(rates.static_per_mille) if rates else "—",
            _per_mille(rates.dynamic_per_mille) if rates else "—",
            self.yes_no(status.meets_thresholds),
            status.open_leaks,
            status.oldest_open_leak_days,
            status.standing.zh if self.zh else status.standing.en,
            row.certified_date,
            row.valid_until,
        )


BOARD_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("code", NP_("leakfree export", "Workshop code"), width=10),
    ExportColumn("name", NP_("leakfree export", "Workshop"), width=18),
    ExportColumn("standing", NP_("leakfree export", "Standing"), width=16),
    ExportColumn("application", NP_("leakfree export", "Application on its way"), width=18),
    ExportColumn("applied_date", NP_("leakfree export", "Applied on"), "date", 12),
    ExportColumn("certified_date", NP_("leakfree export", "Certified on"), "date", 12),
    ExportColumn("valid_until", NP_("leakfree export", "Valid until"), "date", 12),
    ExportColumn("survey_date", NP_("leakfree export", "Latest survey"), "date", 12),
    ExportColumn("meets", NP_("leakfree export", "Meets thresholds"), width=10),
)


@dataclass(kw_only=True)
class BoardExport(WorkshopRowsExport):
    columns = BOARD_COLUMNS
    title = NP_("leakfree export", "Leak-free certification board")
    sheet_name = NP_("leakfree export", "Board")
    file_stem = NP_("leakfree export", "leak-free-board")
    temp_prefix = "leakfree-board-"

    progress: Progress

    def record(self, row: WorkshopRow) -> tuple[Any, ...]:
        status, application = row.status, row.open_application
        return (
            status.workshop.code,
            status.workshop.name,
            status.standing.zh if self.zh else status.standing.en,
            "" if application is None else (application.state.zh if self.zh else application.state.en),
            None if application is None else application.applied_date,
            row.certified_date,
            row.valid_until,
            status.latest_survey.survey_date if status.latest_survey else None,
            self.yes_no(status.meets_thresholds),
        )

    def scope_entries(self) -> list[tuple[str, Any]]:
        progress = self.progress
        percent = "—" if progress.percent is None else f"{progress.percent}%"
        return [
            *super().scope_entries(),
            (self.text(NP_("leakfree export", "Workshops")), progress.workshops),
            (self.text(NP_("leakfree export", "Certified")), progress.certified),
            (self.text(NP_("leakfree export", "Of which at risk")), progress.at_risk),
            (self.text(NP_("leakfree export", "In assessment")), progress.in_assessment),
            (self.text(NP_("leakfree export", "Not started")), progress.not_started),
            (self.text(NP_("leakfree export", "Certified share")), percent),
            (self.text(NP_("leakfree export", "Target date")), progress.target_date),
            (self.text(NP_("leakfree export", "Required by then")), progress.required),
            (self.text(NP_("leakfree export", "On track")), self.yes_no(progress.on_track)),
        ]
