"""The scorecard page (/scorecard?year=&as_of=): every figure of the year's programme with its
target, state and the page behind it, grouped as the programme is; and the home page card with
the red/amber/green counts. Managers, admins and auditors read it (plant-wide figures, the cost
among them); an engineer is refused with the reason."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from maintenance import exports as core
from maintenance.budget.period import FIRST_YEAR, LAST_YEAR, BudgetViewDep
from maintenance.db import SessionDep, plant_today, utcnow
from maintenance.exceptions import PermissionDenied
from maintenance.home import HomeCard
from maintenance.i18n import N_
from maintenance.i18n import gettext as _
from maintenance.org.auth import CurrentUser
from maintenance.org.models import User
from maintenance.org.permissions import workshop_ids_of
from maintenance.scorecard import assessment, assessment_rules, charts, report, service, target_routes
from maintenance.scorecard.display import shown
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.states import JUDGED, Kind, State
from maintenance.web import render

router = APIRouter(include_in_schema=False)
router.include_router(target_routes.router)

CARD = "/scorecard/card"
# Wired into the home page by main.py, first among the cards of those who may read it.
HOME_CARD = HomeCard(
    "/scorecard",
    "bi-speedometer2",
    N_("The year's scorecard"),
    N_("Every figure of the year's programme against its target."),
    fragment=CARD,
    shown_to=service.may_read_scorecard,
)


def require_reader(user: User) -> None:
    if not service.may_read_scorecard(user):
        raise PermissionDenied(
            _(
                "The scorecard shows the whole plant's figures, the repair cost among them: managers, admins and "
                "auditors read it. Your workshop's figures will come with the monthly assessment."
            )
        )


@router.get("/scorecard")
def scorecard_page(request: Request, session: SessionDep, user: CurrentUser, view: BudgetViewDep) -> Response:
    require_reader(user)
    scope = ScorecardScope(view.year, view.as_of)
    card = service.scorecard(session, scope)
    cbm = next(tile for tile in card.tiles if tile.indicator is Indicator.CBM_SHARE)
    trend = charts.cbm_trend_option(session, scope, cbm.figure.target if cbm.figure else None)
    today = plant_today()
    # The monthly report of the day's month, once the month has begun.
    reported = (view.as_of.year, view.as_of.month) <= (today.year, today.month)
    return render(
        request,
        "scorecard/page.html",
        {
            "view": view,
            "card": card,
            "shown": shown,
            "Kind": Kind,
            "State": State,
            "judged": JUDGED,
            "not_built_text": service.NOT_BUILT_TEXT,
            "cbm_trend": trend,
            "previous_year": view.year - 1 if view.year > FIRST_YEAR else None,
            "next_year": view.year + 1 if view.year < LAST_YEAR else None,
            "report_query": f"year={view.as_of.year}&month={view.as_of.month}" if reported else None,
        },
        block="results",
    )


@router.get("/scorecard/report")
def monthly_report(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """The monthly report (?year=&month=): the scorecard as of the month's last day (today for the
    current month), a page to print on A4, or with ``&export=xlsx|csv`` a spreadsheet."""
    require_reader(user)
    params = request.query_params
    period = report.report_month(params.get("year", "").strip(), params.get("month", "").strip(), plant_today())
    export_format = params.get("export")
    fmt = core.check_format(export_format) if export_format is not None else None
    card = service.scorecard(session, period.scope)
    if fmt is not None:
        export = report.ScorecardReportExport(
            session=session, exported_by=f"{user.display_name} ({user.username})", card=card, period=period
        )
        return export.response(fmt, request)
    return render(
        request,
        "scorecard/report.html",
        {
            "period": period,
            "card": card,
            "shown": shown,
            "State": State,
            "not_built_text": service.NOT_BUILT_TEXT,
            "printed_at": utcnow(),
        },
    )


@router.get("/scorecard/assessment")
def workshop_assessment(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """The monthly workshop assessment (?year=&month=, the monthly report's month): every
    workshop's figures, points, score and rank, or with ``&export=xlsx|csv`` a spreadsheet.
    Everyone reads the ranking; an engineer sees the indicator cells of their own workshops only
    (the others' say "—"), managers, admins and auditors every cell."""
    params = request.query_params
    period = report.report_month(params.get("year", "").strip(), params.get("month", "").strip(), plant_today())
    export_format = params.get("export")
    fmt = core.check_format(export_format) if export_format is not None else None
    shown_cells = None if service.may_read_scorecard(user) else set(workshop_ids_of(session, user))
    if fmt is not None and shown_cells is not None:
        raise PermissionDenied(
            _("The assessment's spreadsheet holds every workshop's figures: managers, admins and auditors export it.")
        )
    result = assessment.assess(session, period)
    if fmt is not None:
        export = assessment.AssessmentExport(
            session=session, exported_by=f"{user.display_name} ({user.username})", assessment=result
        )
        return export.response(fmt, request)
    return render(
        request,
        "scorecard/assessment.html",
        {
            "period": period,
            "result": result,
            "indicators": assessment.INDICATORS,
            "weights": assessment_rules.WEIGHTS,
            "shown_cells": shown_cells,
            "reason_text": assessment.reason_text,
            "may_export": shown_cells is None,
            "reads_plant": shown_cells is None,
        },
    )


@router.get(CARD)
def scorecard_card(request: Request, session: SessionDep, user: CurrentUser, view: BudgetViewDep) -> Response:
    """The home card's figures: how many tiles are green, amber and red today."""
    require_reader(user)
    card = service.scorecard(session, ScorecardScope(view.year, view.as_of))
    return render(request, "scorecard/_card.html", {"card": card, "judged": JUDGED}, block=None)
