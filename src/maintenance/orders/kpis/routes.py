"""The work-order KPI page: order mix, PM compliance, backlog, MTBF/MTTR, material KPIs, in-house
share and savings for a year (or a date range) and optionally one workshop. Every logged-in role
reads it; the filter form swaps the results with htmx and ``static/charts.js`` redraws the charts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from maintenance.db import SessionDep, plant_today
from maintenance.i18n import gettext as _
from maintenance.orders import costs
from maintenance.orders.choices import CostKind, OrderType, Provider
from maintenance.orders.kpis import charts
from maintenance.orders.kpis import service as kpis
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser
from maintenance.web import RecordId, filters_from_query, render

router = APIRouter(include_in_schema=False)

MAX_RANGE_DAYS = 5 * 366  # the monthly mix of a longer range would not be readable anyway


class KpiFilters(BaseModel):
    year: int | None = Field(default=None, ge=2000, le=2100)
    workshop_id: RecordId | None = None
    start_date: date | None = None
    end_date: date | None = None


KpiFiltersDep = Annotated[KpiFilters, Depends(filters_from_query(KpiFilters))]


def year_choices(today: date) -> list[int]:
    """The years the picker offers, newest first: this plant year and the five before it (a year
    that has not begun has no orders to count)."""
    return list(range(today.year, today.year - 6, -1))


def period_of(filters: KpiFilters, today: date) -> tuple[kpis.Period, str | None]:
    """A date range when both ends are given and in order, else the year (``today``'s by default);
    with a note when the range given was not usable."""
    year = filters.year or today.year
    if filters.start_date and filters.end_date:
        if filters.end_date < filters.start_date:
            return kpis.Period.for_year(year), _("The end date comes before the start date: showing the year instead.")
        if (filters.end_date - filters.start_date).days >= MAX_RANGE_DAYS:
            return kpis.Period.for_year(year), _("Choose at most five years: showing the year instead.")
        return kpis.Period(filters.start_date, filters.end_date), None
    if filters.start_date or filters.end_date:
        return kpis.Period.for_year(year), _("Give both a start and an end date: showing the year instead.")
    return kpis.Period.for_year(year), None


@router.get("/orders/kpis")
def kpi_page(request: Request, session: SessionDep, user: CurrentUser, filters: KpiFiltersDep) -> Response:
    today = plant_today()
    period, note = period_of(filters, today)
    workshops = org_service.list_workshops(session)
    workshop_ids = {w.id for w in workshops}
    workshop_id = filters.workshop_id if filters.workshop_id in workshop_ids else None
    report = kpis.kpi_report(session, period, workshop_id)
    # The budget's actual, by the one definition the budget reads (orders.costs), not the mix's cost.
    repair_cost = costs.actual_cost(session, period, None if workshop_id is None else [workshop_id])
    chart_options = {
        **{f"kpi-mix-{measure}": charts.order_mix_option(report.mix, measure) for measure in charts.MIX_MEASURES},
        "kpi-backlog": charts.backlog_option(report.backlog),
        "kpi-reliability": charts.reliability_option(report.reliability),
        "kpi-provider": charts.provider_option(report.costs.in_house_cny, report.costs.outsourced_cny),
    }
    return render(
        request,
        "orders/kpis/page.html",
        {
            "report": report,
            "repair_cost": repair_cost,
            "period": period,
            "note": note,
            "filters": filters,
            "year": filters.year or today.year,
            "years": year_choices(today),
            "workshops": workshops,
            "workshop_id": workshop_id,
            "charts": chart_options,
            "order_types": list(OrderType),
            "ages": list(kpis.BacklogAge),
            "providers": list(Provider),
            "cost_kinds": [CostKind.LABOUR, CostKind.SERVICE],
            "pm_target": kpis.PM_COMPLIANCE_TARGET,
            "planned_target": kpis.PLANNED_WORK_TARGET,
        },
        block="results",
    )
