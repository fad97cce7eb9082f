"""The budget overview as XLSX (or CSV) for auditors: the header sheet summarises the year as of
the reference date (target, baseline, plan to date, actual, committed, variance, forecast); the
data sheet has one row per workshop × category × month with plan, plan to date, actual,
committed and the variance in 元 and as a share.

The rows are computed from the one report the page loads (a fixed number of queries), so they
go through :class:`maintenance.exports.ComputedExport`; amounts stay ``Decimal`` in 元 and are
written as numbers with two decimals."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from maintenance import exports as core
from maintenance.budget import rules
from maintenance.budget.overview import BudgetOverview
from maintenance.budget.service import CATEGORIES
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("workshop_code", NP_("budget export", "Workshop code"), width=10),
    ExportColumn("workshop", NP_("budget export", "Workshop"), width=18),
    ExportColumn("category", NP_("budget export", "Cost category"), width=14),
    ExportColumn("month", NP_("budget export", "Month"), "int", 8),
    ExportColumn("plan", NP_("budget export", "Plan (CNY)"), "money", 14),
    ExportColumn("plan_to_date", NP_("budget export", "Plan to date (CNY)"), "money", 14),
    ExportColumn("actual", NP_("budget export", "Actual (CNY)"), "money", 14),
    ExportColumn("committed", NP_("budget export", "Committed (CNY)"), "money", 14),
    ExportColumn("variance", NP_("budget export", "Variance (CNY)"), "money", 14),
    ExportColumn("variance_share", NP_("budget export", "Variance share"), "rate", 10),
)


@dataclass(kw_only=True)
class BudgetExport(core.ComputedExport):
    columns = COLUMNS
    title = NP_("budget export", "Repair-cost budget: plan, actual, committed and variance")
    sheet_name = NP_("budget export", "By workshop, category and month")
    file_stem = NP_("budget export", "repair-cost-budget")
    temp_prefix = "budget-"

    overview: BudgetOverview

    def __post_init__(self) -> None:
        self.computed = list(self.records_of_cells())

    def records_of_cells(self) -> Iterator[tuple[Any, ...]]:
        """Every workshop × category × month, planned or not (a month not begun has no variance)."""
        report, view = self.overview.report, self.overview.view
        for workshop in self.overview.report.workshops:
            assert workshop.id is not None
            for category in CATEGORIES:
                for month in rules.MONTHS:
                    key = (workshop.id, category, month - 1)
                    plan = report.plan.cells.get(key, rules.ZERO)
                    actual = report.actual.cells.get(key, rules.ZERO)
                    variance = rules.month_variance(view.year, month, view.as_of, plan, actual)
                    yield (
                        workshop.code,
                        workshop.name,
                        category.zh if self.zh else category.en,
                        month,
                        plan,
                        None if variance is None else variance.plan,
                        actual,
                        report.committed.cells.get(key, rules.ZERO),
                        None if variance is None else variance.amount,
                        _share(variance),
                    )

    def filter_text(self) -> str:
        if self.overview.whole_plant:
            return self.text(NP_("budget export", "All workshops"))
        return ", ".join(workshop.code for workshop in self.overview.report.workshops)

    def scope_entries(self) -> list[tuple[str, Any]]:
        report, total = self.overview.report, self.overview.total
        variance = total.variance

        def line(label: ContextMessage, value: Any) -> tuple[str, Any]:
            return (self.text(label), "—" if value is None else value)

        per_cent = None if variance.share is None else rules.to_fen(variance.share * 100)
        return [
            line(NP_("budget export", "Year"), str(report.year)),
            line(NP_("budget export", "As of"), report.as_of),
            *super().scope_entries(),
            line(NP_("budget export", "Target (CNY)"), report.target),
            line(NP_("budget export", "Baseline (CNY)"), report.baseline),
            *[(str(baseline.year), baseline.actual_cny) for baseline in report.baselines],
            line(NP_("budget export", "Year plan (CNY)"), total.year_plan),
            line(NP_("budget export", "Plan to date (CNY)"), total.plan_to_date),
            line(NP_("budget export", "Actual to date (CNY)"), total.actual),
            line(NP_("budget export", "Committed (CNY)"), total.committed),
            line(NP_("budget export", "Variance to date (CNY)"), variance.amount),
            line(NP_("budget export", "Variance to date (per cent)"), per_cent),
            line(NP_("budget export", "Year-end forecast (CNY)"), total.forecast.value),
        ]

    @property
    def file_day(self) -> date:
        return self.overview.view.as_of


def _share(variance: rules.Variance | None) -> Decimal | None:
    return None if variance is None else variance.share
