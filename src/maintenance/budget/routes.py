"""The budget overview (/budget): a year's target, plan, actual, committed, variance and forecast
by workshop, category and month, with the burn-up chart, as a page, its htmx fragment (the
results block, when the reference date changes) and XLSX/CSV; and the home page card's figures.
Every figure comes from one :func:`maintenance.budget.service.budget_report`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from maintenance import exports as core
from maintenance.budget.charts import burn_up_option
from maintenance.budget.exports import BudgetExport
from maintenance.budget.overview import budget_overview
from maintenance.budget.period import FIRST_YEAR, LAST_YEAR, BudgetViewDep
from maintenance.db import SessionDep
from maintenance.home import HomeCard
from maintenance.i18n import N_
from maintenance.org.auth import CurrentUser
from maintenance.web import render

router = APIRouter(include_in_schema=False)

OVERVIEW_CARD = "/budget/card"
# Wired into the home page by main.py (the domain declares it, main.py hands the cards out).
HOME_CARD = HomeCard(
    "/budget",
    "bi-cash-coin",
    N_("Repair-cost budget"),
    N_("The year's target against actual, committed and the year-end forecast."),
    fragment=OVERVIEW_CARD,
)


@router.get("/budget")
def overview_page(request: Request, session: SessionDep, user: CurrentUser, view: BudgetViewDep) -> Response:
    overview = budget_overview(session, view, user)
    export_format = request.query_params.get("export")
    if export_format:
        export = BudgetExport(session=session, exported_by=f"{user.display_name} ({user.username})", overview=overview)
        return export.response(core.check_format(export_format), request)
    return render(
        request,
        "budget/overview.html",
        {
            "view": view,
            "overview": overview,
            "burn_up": burn_up_option(overview),
            "previous_year": view.year - 1 if view.year > FIRST_YEAR else None,
            "next_year": view.year + 1 if view.year < LAST_YEAR else None,
        },
        block="results",
    )


@router.get(OVERVIEW_CARD)
def overview_card(request: Request, session: SessionDep, user: CurrentUser, view: BudgetViewDep) -> Response:
    """The home card's figures: the target, the actual to date and the forecast against the target."""
    return render(request, "budget/_overview_card.html", {"overview": budget_overview(session, view, user)}, block=None)
