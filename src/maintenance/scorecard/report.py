"""The monthly report (设备管理月报) for the monthly meeting: the scorecard as of the month's last
day (today for the current month), printed on A4 or downloaded as a spreadsheet with one row per
indicator, its figure and target written as the page shows them (% or 万元).

``?year=2026&month=11``; both default to today's. A month after the current one has no figures
yet and is refused with a 422 naming the field, as is a malformed year or month."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import dates

from maintenance import exports as core
from maintenance.budget.period import parse_year
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, current_locale
from maintenance.i18n import gettext as _
from maintenance.scorecard.display import shown
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.service import NOT_BUILT_TEXT, Scorecard


@dataclass(frozen=True)
class ReportMonth:
    year: int
    month: int
    as_of: date  # the month's last day, or today for the current month

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def scope(self) -> ScorecardScope:
        return ScorecardScope(self.year, self.as_of)

    def query(self) -> str:
        return f"year={self.year}&month={self.month}"

    def title(self) -> str:
        """ "2026年11月" / "November 2026" in the page's language."""
        return str(dates.format_skeleton("yMMMM", self.first, locale=current_locale()))


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, [FieldError(field, message)])


def report_month(raw_year: str, raw_month: str, today: date) -> ReportMonth:
    """The month asked for (today's when a field is empty), as of its last day or ``today``."""
    year = parse_year(raw_year) if raw_year else today.year
    if not raw_month:
        month = today.month if year == today.year else 12
    elif re.fullmatch(r"[0-9]{1,2}", raw_month) and 1 <= int(raw_month) <= 12:
        month = int(raw_month)
    else:
        raise _refuse("month", _("Enter the month as a number from 1 to 12."))
    if (year, month) > (today.year, today.month):
        raise _refuse(
            "month",
            _(
                "The report for %(month)s cannot be drawn yet: choose a month up to %(current)s.",
                month=f"{year}-{month:02}",
                current=f"{today.year}-{today.month:02}",
            ),
        )
    last = date(year, month, calendar.monthrange(year, month)[1])
    return ReportMonth(year, month, min(last, today))


COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("group", NP_("scorecard report", "Group"), width=14),
    ExportColumn("indicator", NP_("scorecard report", "Indicator"), width=34),
    ExportColumn("value", NP_("scorecard report", "Figure"), width=16),
    ExportColumn("target", NP_("scorecard report", "Target"), width=16),
    ExportColumn("state", NP_("scorecard report", "State"), width=12),
    ExportColumn("detail", NP_("scorecard report", "Detail"), width=80),
)


@dataclass(kw_only=True)
class ScorecardReportExport(core.ComputedExport):
    """Every indicator of the month's report, group by group, as the page shows it."""

    columns = COLUMNS
    title = NP_("scorecard report", "Monthly equipment management report")
    sheet_name = NP_("scorecard report", "Scorecard")
    file_stem = NP_("scorecard report", "monthly-report")
    temp_prefix = "scorecard-report-"

    card: Scorecard
    period: ReportMonth

    def __post_init__(self) -> None:
        rows: list[tuple[Any, ...]] = []
        for group, tiles in self.card.groups:
            for tile in tiles:
                figure = tile.figure
                if figure is None:
                    value = target = "–"
                    detail = self.text(NOT_BUILT_TEXT)
                else:
                    value = shown(figure.value, tile.kind)
                    target = shown(figure.target, tile.kind) if figure.target is not None else self.text("none set")
                    detail = figure.detail
                rows.append(
                    (
                        self.text(group.title),
                        tile.indicator.zh if self.zh else tile.indicator.en,
                        value,
                        target,
                        tile.state.zh if self.zh else tile.state.en,
                        detail,
                    )
                )
        self.computed = rows

    def filter_text(self) -> str:
        return self.text(NP_("scorecard report", "Whole plant"))

    def scope_entries(self) -> list[tuple[str, Any]]:
        return [
            (self.text(NP_("scorecard report", "Month")), f"{self.period.year}-{self.period.month:02}"),
            (self.text(NP_("scorecard report", "As of")), self.period.as_of),
            *super().scope_entries(),
        ]

    def file_scope(self) -> str:
        return f"_{self.period.year}-{self.period.month:02}"

    @property
    def file_day(self) -> date:
        return self.period.as_of
