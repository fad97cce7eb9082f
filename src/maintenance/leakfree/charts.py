"""The managers' charts as ECharts options (plain dicts serialised into the page with ``|tojson``
and drawn by ``static/charts.js``): a workshop's rates by survey against the limits, and the
certified workshops at each month's end against the programme's targets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from maintenance.choices import BOOTSTRAP_HEX
from maintenance.i18n import gettext as _
from maintenance.leakfree import rules
from maintenance.leakfree.models import LeakSurvey
from maintenance.leakfree.rules import SurveyRates


def limit_per_mille(limit: Fraction) -> Decimal:
    """A limit in ‰ as people write it: 0.5, 2."""
    value = rules.per_mille(limit)
    assert value is not None
    return value.normalize()


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _limit_line(value: Decimal, label: str, colour: str) -> dict[str, Any]:
    return {
        "symbol": "none",
        "lineStyle": {"type": "dashed", "color": colour},
        "label": {"formatter": label, "position": "insideEndTop"},
        "data": [{"yAxis": float(value)}],
    }


def rates_trend_option(surveys: Sequence[tuple[LeakSurvey, SurveyRates]]) -> dict[str, Any]:
    """Static and dynamic ‰ of each survey, oldest first, with the 0.5‰ and 2‰ limits dashed
    (a kind without points in a survey has no point)."""
    static_limit = limit_per_mille(rules.STATIC_LIMIT)
    dynamic_limit = limit_per_mille(rules.DYNAMIC_LIMIT)
    static_colour, dynamic_colour = BOOTSTRAP_HEX["secondary"], BOOTSTRAP_HEX["primary"]
    return {
        "title": {"text": _("Leak rates by survey (‰)"), "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 48, "right": 48, "top": 40, "bottom": 48, "containLabel": True},
        "xAxis": {"type": "category", "data": [survey.survey_date.isoformat() for survey, _rates in surveys]},
        "yAxis": {"type": "value", "min": 0, "axisLabel": {"formatter": "{value}‰"}},
        "series": [
            {
                "name": _("Static ‰"),
                "type": "line",
                "itemStyle": {"color": static_colour},
                "data": [_number(rates.static_per_mille) for _survey, rates in surveys],
                "markLine": _limit_line(
                    static_limit, _("Static limit %(limit)s‰", limit=static_limit), BOOTSTRAP_HEX["warning"]
                ),
            },
            {
                "name": _("Dynamic ‰"),
                "type": "line",
                "itemStyle": {"color": dynamic_colour},
                "data": [_number(rates.dynamic_per_mille) for _survey, rates in surveys],
                "markLine": _limit_line(
                    dynamic_limit, _("Dynamic limit %(limit)s‰", limit=dynamic_limit), BOOTSTRAP_HEX["danger"]
                ),
            },
        ],
    }


def certified_by_month_option(points: Sequence[tuple[date, int]], workshops: int, year: int) -> dict[str, Any]:
    """Workshops with a certificate in force at each month's end (the last point is the reference
    date), with the workshops the 50% (30 June) and 100% (31 December) targets require."""
    lines = []
    for _day, share in rules.milestones(year):
        required = rules.required_count(workshops, share)
        lines.append(
            {
                "yAxis": required,
                "label": {
                    "formatter": _(
                        "%(percent)s%%: %(required)s workshops", percent=f"{float(share * 100):g}", required=required
                    )
                },
            }
        )
    return {
        "title": {
            "text": _("Certified workshops at each month's end"),
            "left": "center",
            "textStyle": {"fontSize": 14},
        },
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 48, "top": 64, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "category", "data": [day.isoformat() for day, _count in points]},
        "yAxis": {"type": "value", "min": 0, "max": max(workshops, 1), "minInterval": 1},
        "series": [
            {
                "name": _("Certified"),
                "type": "bar",
                "itemStyle": {"color": BOOTSTRAP_HEX["success"]},
                "data": [count for _day, count in points],
                "markLine": {
                    "symbol": "none",
                    "lineStyle": {"type": "dashed", "color": BOOTSTRAP_HEX["danger"]},
                    "label": {"position": "insideEndTop"},
                    "data": lines,
                },
            }
        ],
    }
