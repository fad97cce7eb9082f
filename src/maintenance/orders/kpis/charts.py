"""ECharts options for the KPI page, built as plain dicts (serialised into the page with
``|tojson`` and drawn by ``static/charts.js``). Series take their names from the choices' labels
in the user's language and their colours from the choices' badge colours."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from maintenance.choices import BOOTSTRAP_HEX, colour_of
from maintenance.i18n import gettext as _
from maintenance.orders.choices import OrderType, Provider
from maintenance.orders.kpis.service import Backlog, BacklogAge, MixCell, OrderMix, Reliability


def _number(value: Decimal | float | int | None, digits: int = 2) -> float | None:
    """JSON has no Decimal: charts get floats (display only, sums stay Decimal elsewhere)."""
    return None if value is None else round(float(value), digits)


def _base(title: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"bottom": 0, "type": "scroll"},
        "grid": {"left": 48, "right": 16, "top": 40, "bottom": 56, "containLabel": True},
    }


MIX_MEASURES = ("count", "hours", "cost")


def order_mix_option(mix: OrderMix, measure: str) -> dict[str, Any]:
    """Stacked bars per month, one series per order type: ``measure`` is count, hours or cost."""
    titles = {
        "count": _("Orders per month by type"),
        "hours": _("Labour hours per month by type"),
        "cost": _("Actual cost of orders raised, per month of request by type (CNY)"),
    }

    def value(cell: MixCell) -> float | int | None:
        if measure == "count":
            return cell.count
        return _number(cell.hours if measure == "hours" else cell.cost_cny)

    option = _base(titles[measure])
    option["xAxis"] = {"type": "category", "data": [month.label for month in mix.months]}
    option["yAxis"] = {"type": "value"}
    option["series"] = [
        {
            "name": order_type.label,
            "type": "bar",
            "stack": "mix",
            "emphasis": {"focus": "series"},
            "itemStyle": {"color": colour_of(order_type)},
            "data": [value(month.by_type[order_type]) for month in mix.months],
        }
        for order_type in OrderType
    ]
    return option


def backlog_option(backlog: Backlog) -> dict[str, Any]:
    """Open orders by age, stacked by type."""
    option = _base(_("Open orders by age"))
    option["xAxis"] = {"type": "category", "data": [age.label for age in BacklogAge]}
    option["yAxis"] = {"type": "value", "minInterval": 1}
    option["series"] = [
        {
            "name": order_type.label,
            "type": "bar",
            "stack": "backlog",
            "itemStyle": {"color": colour_of(order_type)},
            "data": [backlog.by_type[order_type].by_age[age] for age in BacklogAge],
        }
        for order_type in OrderType
    ]
    return option


def reliability_option(reliability: Reliability) -> dict[str, Any]:
    """MTBF (left axis) and MTTR (right axis) in hours per asset class that had failures."""
    rows = [row for row in reliability.by_class if row.failures]
    option = _base(_("MTBF and MTTR by asset class (hours)"))
    option["xAxis"] = {
        "type": "category",
        "data": [row.asset_class.label for row in rows],
        "axisLabel": {"interval": 0, "rotate": 30 if len(rows) > 8 else 0},
    }
    option["yAxis"] = [
        {"type": "value", "name": _("MTBF (h)")},
        {"type": "value", "name": _("MTTR (h)"), "splitLine": {"show": False}},
    ]
    option["series"] = [
        {
            "name": _("MTBF (h)"),
            "type": "bar",
            "itemStyle": {"color": BOOTSTRAP_HEX["success"]},
            "data": [_number(row.mtbf_hours, 1) for row in rows],
        },
        {
            "name": _("MTTR (h)"),
            "type": "bar",
            "yAxisIndex": 1,
            "itemStyle": {"color": BOOTSTRAP_HEX["danger"]},
            "data": [_number(row.mttr_hours, 1) for row in rows],
        },
    ]
    return option


def provider_option(in_house_cny: Decimal, outsourced_cny: Decimal) -> dict[str, Any]:
    """In-house vs outsourced labour and service cost (pie)."""
    return {
        "title": {"text": _("In-house vs outsourced cost"), "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
        "legend": {"bottom": 0},
        "series": [
            {
                "type": "pie",
                "radius": ["35%", "65%"],
                "data": [
                    {
                        "name": provider.label,
                        "value": _number(amount),
                        "itemStyle": {"color": colour_of(provider)},
                    }
                    for provider, amount in ((Provider.IN_HOUSE, in_house_cny), (Provider.CONTRACTOR, outsourced_cny))
                ],
            }
        ],
    }
