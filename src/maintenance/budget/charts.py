"""The budget's burn-up chart as an ECharts option (a plain dict serialised into the page with
``|tojson`` and drawn by ``static/charts.js``), in 万元: the cumulative plan by month, the
cumulative actual up to the reference date's month, the actual plus the commitments by the month
they are planned to finish in, the forecast from the reference date to the year end, and the
target (an engineer's view: his workshops' year plan) as a horizontal line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import accumulate
from typing import Any

from maintenance.budget.overview import BudgetOverview
from maintenance.choices import BOOTSTRAP_HEX
from maintenance.i18n import format_wan_cny
from maintenance.i18n import gettext as _

TEN_THOUSAND = Decimal(10000)


def wan(amount: Decimal) -> float:
    """元 → 万元 for the chart (display only: sums stay Decimal elsewhere)."""
    return round(float(amount / TEN_THOUSAND), 2)


def cumulative(amounts: Iterable[Decimal]) -> list[Decimal]:
    return list(accumulate(amounts))


def burn_up_option(overview: BudgetOverview) -> dict[str, Any]:
    report = overview.report
    months = report.months()
    current = overview.view.as_of.month - 1  # the reference date's month, as an index
    plan = cumulative(m.plan for m in months)
    actual = cumulative(m.actual for m in months)
    committed = cumulative(m.committed for m in months)
    forecast_end = overview.total.forecast.value
    reference = overview.reference
    reference_label = _("Target") if overview.whole_plant else _("Year plan of your workshops")

    def from_current(values: Sequence[Decimal | None]) -> list[float | None]:
        return [None if i < current or value is None else wan(value) for i, value in enumerate(values)]

    forecast_line: list[Decimal | None] = [None] * len(months)
    forecast_line[current] = actual[current]
    forecast_line[-1] = forecast_end
    series: list[dict[str, Any]] = [
        {
            "name": _("Plan (cumulative)"),
            "type": "line",
            "itemStyle": {"color": BOOTSTRAP_HEX["secondary"]},
            "data": [wan(value) for value in plan],
        },
        {
            "name": _("Actual (cumulative)"),
            "type": "line",
            "itemStyle": {"color": BOOTSTRAP_HEX["primary"]},
            "data": [wan(value) if i <= current else None for i, value in enumerate(actual)],
        },
        {
            "name": _("Actual + committed"),
            "type": "line",
            "lineStyle": {"type": "dotted"},
            "itemStyle": {"color": BOOTSTRAP_HEX["warning"]},
            "data": from_current([actual[current] + value for value in committed]),
        },
        {
            "name": _("Forecast"),
            "type": "line",
            "connectNulls": True,
            "lineStyle": {"type": "dashed"},
            "itemStyle": {"color": BOOTSTRAP_HEX["danger"]},
            "data": from_current(forecast_line),
        },
    ]
    if reference is not None:
        series[0]["markLine"] = {
            "symbol": "none",
            "lineStyle": {"type": "solid", "color": BOOTSTRAP_HEX["success"]},
            "label": {"formatter": f"{reference_label} {format_wan_cny(reference)}", "position": "insideEndTop"},
            "data": [{"yAxis": wan(reference)}],
        }
    return {
        "title": {"text": _("Burn-up (10k CNY)"), "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll"},
        "grid": {"left": 48, "right": 48, "top": 40, "bottom": 56, "containLabel": True},
        "xAxis": {"type": "category", "data": [month.label for month in report.plan.months]},
        "yAxis": {"type": "value", "min": 0},
        "series": series,
    }
