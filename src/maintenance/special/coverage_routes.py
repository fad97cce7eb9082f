"""Coverage (in-service special equipment whose every required inspection is in date and passed,
of all of it) on a reference date: overall against the plant's 80% target and 100%, per workshop
and per category, and the trend over the last twelve month-ends; plus the home page card's
figures. Plant-wide: the goal is the plant's."""

from __future__ import annotations

from fractions import Fraction

from fastapi import APIRouter, Request
from fastapi.responses import Response

from maintenance.db import SessionDep, plant_today
from maintenance.home import HomeCard
from maintenance.i18n import N_
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser
from maintenance.special import charts, rules, service
from maintenance.special.filters import RegisterFiltersDep
from maintenance.web import render

router = APIRouter(include_in_schema=False)

COVERAGE_CARD = "/special-equipment/coverage/card"
HOME_CARD = HomeCard(
    "/special-equipment/coverage",
    "bi-shield-check",
    N_("Special equipment"),
    N_("Statutory registrations and inspections, the due list and coverage."),
    fragment=COVERAGE_CARD,
)
TREND_MONTHS = 12
FULL = Fraction(1)


@router.get("/special-equipment/coverage")
def coverage_page(request: Request, session: SessionDep, user: CurrentUser, filters: RegisterFiltersDep) -> Response:
    as_of = filters.as_of or plant_today()
    facts = service.load_facts(session)
    report = service.coverage_report(facts.items_on(as_of), as_of)
    trend = service.coverage_trend(facts, as_of, TREND_MONTHS)
    workshops = org_service.list_workshops(session)
    return render(
        request,
        "special/coverage.html",
        {
            "filters": filters,
            "as_of": as_of,
            "report": report,
            "target": rules.COVERAGE_TARGET,
            "full": FULL,
            "by_workshop": [(w.name, report.by_workshop[w.id]) for w in workshops if w.id in report.by_workshop],
            "by_category": [(category.label, coverage) for category, coverage in report.by_category.items()],
            "trend_option": charts.coverage_trend_option(trend, rules.COVERAGE_TARGET),
        },
        block="results",
    )


@router.get(COVERAGE_CARD)
def coverage_card(request: Request, session: SessionDep, user: CurrentUser, filters: RegisterFiltersDep) -> Response:
    """The home page card's figures: coverage today (or on ``as_of``) and how many items must
    not operate."""
    as_of = filters.as_of or plant_today()
    counted = [item for item in service.register_items(session, as_of) if item.in_service]
    return render(
        request,
        "special/_coverage_card.html",
        {
            "coverage": rules.coverage_of(item.standing for item in counted),
            "must_not_operate": sum(1 for item in counted if item.standing.must_not_operate),
            "target": rules.COVERAGE_TARGET,
        },
        block=None,
    )
