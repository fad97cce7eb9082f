"""The coverage trend chart: an ECharts option built as a plain dict (serialised into the page
with ``|tojson`` and drawn by ``static/charts.js``)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from maintenance.choices import BOOTSTRAP_HEX
from maintenance.i18n import gettext as _
from maintenance.special.rules import Coverage


def coverage_trend_option(trend: list[tuple[date, Coverage]], target: Fraction) -> dict[str, Any]:
    """Overall coverage in percent at each month's end, with the target as a dashed line
    (a month without items in service has no point)."""
    target_percent = float(target * 100)
    return {
        "title": {"text": _("Coverage at each month's end"), "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 24, "top": 40, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "category", "data": [month_end.isoformat() for month_end, _coverage in trend]},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {
                "name": _("Coverage"),
                "type": "line",
                "itemStyle": {"color": BOOTSTRAP_HEX["primary"]},
                "data": [
                    None if coverage.percent is None else float(coverage.percent) for _month_end, coverage in trend
                ],
                "markLine": {
                    "symbol": "none",
                    "lineStyle": {"type": "dashed", "color": BOOTSTRAP_HEX["danger"]},
                    "label": {"formatter": _("Target %(percent)s%%", percent=f"{target_percent:g}")},
                    "data": [{"yAxis": target_percent}],
                },
            }
        ],
    }
