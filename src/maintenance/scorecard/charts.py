"""The scorecard page's chart option (ECharts, drawn by static/charts.js): the condition-based
share of the orders raised in each month of the year to date against the target."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session

from maintenance.i18n import gettext as _
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.sources import monthly_cbm_shares


def _percent(share: Decimal | None) -> float | None:
    return None if share is None else round(float(share * 100), 1)


def cbm_trend_option(session: Session, scope: ScorecardScope, target: Decimal | None) -> dict[str, Any]:
    months = monthly_cbm_shares(session, scope)
    series: list[dict[str, Any]] = [
        {
            "name": _("Condition-based share"),
            "type": "line",
            "connectNulls": False,
            "data": [_percent(share) for _label, share in months],
        }
    ]
    if target is not None:
        series.append(
            {
                "name": _("Target"),
                "type": "line",
                "symbol": "none",
                "lineStyle": {"type": "dashed"},
                "data": [_percent(target)] * len(months),
            }
        )
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 40, "right": 10, "top": 10, "bottom": 40},
        "xAxis": {"type": "category", "data": [label for label, _share in months]},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value} %"}},
        "series": series,
    }
