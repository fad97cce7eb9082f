"""A workshop's leak-free page: its figures on the reference date, the rates by survey against
the limits (chart), its last surveys and its certification history."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.as_of import AsOfDep
from maintenance.db import SessionDep
from maintenance.exceptions import NotFound
from maintenance.i18n import gettext as _
from maintenance.leakfree import charts, overview, service
from maintenance.leakfree.choices import SealKind
from maintenance.leakfree.models import Certification, LeakSurvey
from maintenance.leakfree.routes import limits
from maintenance.org.auth import CurrentUser
from maintenance.web import RecordId, render

router = APIRouter(include_in_schema=False)

SURVEYS_SHOWN = 24


def surveys_up_to(session: Session, workshop_id: int, as_of: date, limit: int = SURVEYS_SHOWN) -> list[LeakSurvey]:
    """The workshop's last ``limit`` surveys made by ``as_of``, oldest first."""
    query = (
        select(LeakSurvey)
        .where(col(LeakSurvey.workshop_id) == workshop_id, col(LeakSurvey.survey_date) <= as_of)
        .order_by(col(LeakSurvey.survey_date).desc())
        .limit(limit)
    )
    return list(reversed(session.scalars(query).all()))


def certification_history(session: Session, workshop_id: int) -> list[Certification]:
    """Every application of the workshop, newest first (a few a year)."""
    query = (
        select(Certification)
        .where(col(Certification.workshop_id) == workshop_id)
        .order_by(col(Certification.applied_date).desc(), col(Certification.id).desc())
    )
    return list(session.scalars(query))


@router.get("/leakfree/workshops/{workshop_id:int}")
def workshop_page(
    request: Request, session: SessionDep, user: CurrentUser, workshop_id: RecordId, as_of: AsOfDep
) -> Response:
    rows = overview.workshop_rows(session, as_of, [workshop_id])
    if not rows:
        raise NotFound(_("Workshop %(id)s does not exist.", id=workshop_id))
    (row,) = rows
    surveys = service.rates_of_surveys(session, surveys_up_to(session, workshop_id, as_of))
    return render(
        request,
        "leakfree/overview/workshop.html",
        {
            "row": row,
            "workshop": row.status.workshop,
            "as_of": as_of,
            "surveys": list(reversed(surveys)),  # newest first in the table
            "trend_option": charts.rates_trend_option(surveys),
            "certifications": certification_history(session, workshop_id),
            "decided_date": service.decided_date,
            "over_limit": overview.over_limit,
            "kinds": SealKind,
            "surveys_shown": SURVEYS_SHOWN,
            **limits(),
        },
        block="results",
    )
