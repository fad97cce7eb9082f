"""The key projects' list: its filters (year, workshop, state, search, sort), applied to the
year's rows with their standing on a day, and its CSV/XLSX export of the same rows in the same
order. A year holds a few dozen projects at most: the rows are read in two queries and their
computed standing (state, slippage, progress) filtered, sorted and paged in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from pydantic import Field

from maintenance import exports as core
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage
from maintenance.scorecard.projects.rules import ProjectState
from maintenance.scorecard.projects.service import ProjectRow
from maintenance.web import ListFilters, Page, RecordId, filters_from_query

DEFAULT_SORT = "due"
PAGE_SIZE = 50


# Sort keys → what a row is ordered by; rows equal on it stay in code order, either way.
SORTABLE: dict[str, Callable[[ProjectRow], Any]] = {
    "code": lambda row: row.project.code,
    "name": lambda row: row.project.name,
    "due": lambda row: row.project.due_date,
    "owner": lambda row: row.project.owner,
    # a project without milestones has no progress: below 0 %
    "progress": lambda row: -1.0 if row.standing.progress_pct is None else row.standing.progress_pct,
    "state": lambda row: list(ProjectState).index(row.standing.state),
    "slippage": lambda row: row.standing.slippage_days,
}


class ProjectFilters(ListFilters):
    sort_keys = SORTABLE

    year: int | None = Field(default=None, ge=2000, le=2100)
    workshop_id: RecordId | None = None
    state: ProjectState | None = None
    q: str | None = Field(default=None, max_length=100)
    sort: str = DEFAULT_SORT

    def of_year(self, today: date) -> ProjectFilters:
        """These filters with the year left open set to ``today``'s."""
        return self if self.year is not None else self.model_copy(update={"year": today.year})

    def apply(self, rows: Sequence[ProjectRow]) -> list[ProjectRow]:
        """The rows this filter keeps (state, search in code, name and owner), sorted."""
        kept = [row for row in rows if self.state is None or row.standing.state == self.state]
        if self.q:
            needle = self.q.casefold()
            kept = [
                row
                for row in kept
                if needle in f"{row.project.code}\n{row.project.name}\n{row.project.owner}".casefold()
            ]
        by_code = sorted(kept, key=lambda row: row.project.code)
        return sorted(by_code, key=SORTABLE[self.sort.lstrip("-")], reverse=self.sort.startswith("-"))


ProjectFiltersDep = Annotated[ProjectFilters, Depends(filters_from_query(ProjectFilters))]


def page_of(rows: Sequence[ProjectRow], number: int, size: int = PAGE_SIZE) -> Page:
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, number), pages)
    return Page(items=list(rows[(number - 1) * size : number * size]), total=len(rows), number=number, size=size)


COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("code", NP_("projects export", "Code"), width=12),
    ExportColumn("name", NP_("projects export", "Project"), width=30),
    ExportColumn("workshop", NP_("projects export", "Workshop"), width=14),
    ExportColumn("owner", NP_("projects export", "Owner"), width=12),
    ExportColumn("start_date", NP_("projects export", "Start"), "date", 12),
    ExportColumn("due_date", NP_("projects export", "Due"), "date", 12),
    ExportColumn("aim_date", NP_("projects export", "Aim"), "date", 12),
    ExportColumn("done", NP_("projects export", "Milestones done"), "int", 10),
    ExportColumn("milestones", NP_("projects export", "Milestones"), "int", 10),
    ExportColumn("state", NP_("projects export", "State"), width=10),
    ExportColumn("forecast_end", NP_("projects export", "Forecast end"), "date", 12),
    ExportColumn("slippage", NP_("projects export", "Slippage (days)"), "int", 10),
    ExportColumn("next", NP_("projects export", "Next milestone"), width=26),
    ExportColumn("next_due", NP_("projects export", "Next milestone due"), "date", 12),
)


@dataclass(kw_only=True)
class ProjectExport(core.ComputedExport):
    """The list's rows, as filtered and sorted on the page, on the day it was asked."""

    columns = COLUMNS
    title = NP_("projects export", "Key projects export")
    sheet_name = NP_("projects export", "Key projects")
    file_stem = NP_("projects export", "key-projects")
    temp_prefix = "projects-export-"

    filters: ProjectFilters
    today: date
    workshop_names: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[ProjectRow], **fields: Any) -> ProjectExport:
        export = cls(**fields)
        export.computed = [export.record(row) for row in rows]
        return export

    def record(self, row: ProjectRow) -> tuple[Any, ...]:
        project, standing, following = row.project, row.standing, row.next_milestone
        return (
            project.code,
            project.name,
            row.workshop,
            project.owner,
            project.start_date,
            project.due_date,
            project.aim_date,
            standing.done,
            standing.milestones,
            standing.state.zh if self.zh else standing.state.en,
            standing.forecast_end,
            standing.slippage_days,
            following.name if following else "",
            following.due_date if following else None,
        )

    def file_scope(self) -> str:
        return f"_{self.filters.year}"

    def scope_entries(self) -> list[tuple[str, Any]]:
        return [*super().scope_entries(), (self.text(NP_("projects export", "As of")), self.today)]

    def filter_text(self) -> str:
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        if self.filters.year is not None:
            add(NP_("projects export", "year"), str(self.filters.year))
        if self.filters.workshop_id is not None:
            add(NP_("projects export", "workshop"), self.workshop_names.get(self.filters.workshop_id, "?"))
        if self.filters.state is not None:
            add(NP_("projects export", "state"), self.filters.state.zh if self.zh else self.filters.state.en)
        if self.filters.q:
            parts.append(self.text(NP_("export", 'search "%(q)s"'), q=self.filters.q))
        return self.join_filters(parts, NP_("projects export", "all projects"))
