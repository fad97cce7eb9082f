"""The ECharts option of a point's trend chart, built as a plain dict (serialised into the page
with ``|tojson`` in a ``<template>`` and drawn by ``static/charts.js``).

The chart shows the readings over the chosen window, the warning and alarm limits as marked
lines, the ISO 10816-3 zones A–D as bands for vibration points with a preset, and — when the
recent trend heads for an alarm limit — the fitted line dashed up to where it reaches the limit.
Times travel as epoch milliseconds of the plant's wall-clock reading, and the chart draws in UTC
(``useUTC``): the axis and tooltip show plant time whatever zone the viewer's browser is in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from maintenance.choices import BOOTSTRAP_HEX
from maintenance.i18n import gettext as _
from maintenance.i18n import plant_time
from maintenance.monitoring.models import MeasurementPoint
from maintenance.monitoring.rules import Limits, VibrationZones
from maintenance.monitoring.trend import Forecast, Sample

WARNING_COLOUR = "#fd7e14"  # Bootstrap orange: readable on white where warning yellow is not
ALARM_COLOUR = BOOTSTRAP_HEX["danger"]
VALUE_COLOUR = BOOTSTRAP_HEX["primary"]
TREND_COLOUR = BOOTSTRAP_HEX["secondary"]
ZONE_COLOURS = {
    "A": "rgba(25, 135, 84, 0.10)",
    "B": "rgba(13, 202, 240, 0.10)",
    "C": "rgba(255, 193, 7, 0.14)",
    "D": "rgba(220, 53, 69, 0.12)",
}


def _ms(moment: datetime) -> int:
    """The plant's wall-clock reading of ``moment`` as if it were UTC, in epoch milliseconds."""
    wall_clock = plant_time(moment).replace(tzinfo=UTC)
    return int(wall_clock.timestamp() * 1000)


def _limit_line(value: float, name: str, colour: str) -> dict[str, Any]:
    return {
        "yAxis": value,
        "name": name,
        "lineStyle": {"color": colour, "type": "dashed", "width": 1.5},
        "label": {"formatter": f"{name} {value:g}", "position": "insideEndTop", "color": colour},
    }


def limit_lines(limits: Limits) -> list[dict[str, Any]]:
    lines = []
    for value, name, colour in (
        (limits.alarm_high, _("Alarm"), ALARM_COLOUR),
        (limits.warning_high, _("Warning"), WARNING_COLOUR),
        (limits.warning_low, _("Warning (low)"), WARNING_COLOUR),
        (limits.alarm_low, _("Alarm (low)"), ALARM_COLOUR),
    ):
        if value is not None:
            lines.append(_limit_line(value, name, colour))
    return lines


def zone_bands(zones: VibrationZones, top: float) -> list[list[dict[str, Any]]]:
    """ISO 10816-3 zones A (0–A/B), B, C, D (C/D up to ``top``) as markArea pairs."""
    bounds = [("A", 0.0, zones.ab), ("B", zones.ab, zones.bc), ("C", zones.bc, zones.cd), ("D", zones.cd, top)]
    return [
        [
            {
                "name": _("Zone %(zone)s", zone=zone),
                "yAxis": low,
                "itemStyle": {"color": ZONE_COLOURS[zone]},
                "label": {"position": "insideLeft", "color": "#6c757d"},
            },
            {"yAxis": high},
        ]
        for zone, low, high in bounds
    ]


def trend_option(
    point: MeasurementPoint,
    readings: Sequence[Sample],
    limits: Limits,
    *,
    zones: VibrationZones | None = None,
    forecast: Forecast | None = None,
) -> dict[str, Any]:
    """The trend chart of ``point``: ``readings`` oldest first."""
    unit = point.unit
    values = [value for _, value in readings]
    limit_values = [
        v for v in (limits.alarm_high, limits.warning_high, limits.warning_low, limits.alarm_low) if v is not None
    ]
    series: list[dict[str, Any]] = [
        {
            "name": point.name,
            "type": "line",
            "showSymbol": len(readings) <= 120,
            "symbolSize": 5,
            "sampling": "lttb",
            "itemStyle": {"color": VALUE_COLOUR},
            "data": [[_ms(moment), value] for moment, value in readings],
            "markLine": {"symbol": "none", "silent": True, "data": limit_lines(limits)},
        }
    ]
    if zones is not None:
        top = max([zones.cd * 1.4, *values, *limit_values]) * 1.05
        series[0]["markArea"] = {"silent": True, "data": zone_bands(zones, top)}
    if forecast is not None and forecast.crossing_at is not None and forecast.limit is not None:
        fit = forecast.fit
        series.append(
            {
                "name": _("Trend"),
                "type": "line",
                "showSymbol": False,
                "lineStyle": {"type": "dotted", "color": TREND_COLOUR, "width": 2},
                "itemStyle": {"color": TREND_COLOUR},
                "data": [
                    [_ms(forecast.window_start), round(fit.value_at(forecast.window_start), 4)],
                    [_ms(forecast.crossing_at), forecast.limit],
                ],
            }
        )
    return {
        "useUTC": True,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 16, "top": 28, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "time"},
        "yAxis": {"type": "value", "name": unit, "scale": zones is None},
        "dataZoom": [{"type": "inside"}],
        "series": series,
    }
