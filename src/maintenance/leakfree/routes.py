"""The per-workshop overview (/leakfree): one row per workshop on the reference date (inventory,
the latest survey's rates against 0.5‰ / 2‰, open leaks and the oldest's age, certification),
as a page, its htmx fragment and CSV/XLSX; and the home page card's figures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from maintenance import exports as core
from maintenance.as_of import AsOfDep
from maintenance.db import SessionDep
from maintenance.home import HomeCard
from maintenance.i18n import N_
from maintenance.leakfree import overview, rules
from maintenance.leakfree.charts import limit_per_mille
from maintenance.leakfree.exports import OverviewExport
from maintenance.org.auth import CurrentUser
from maintenance.org.models import User
from maintenance.web import render

router = APIRouter(include_in_schema=False)

OVERVIEW_CARD = "/leakfree/card"
# Wired into the home page by main.py (the domain declares it, main.py hands the cards out).
HOME_CARD = HomeCard(
    "/leakfree",
    "bi-droplet-half",
    N_("Leak-free plant"),
    N_("Seal points, leak rates by workshop and the certification board."),
    fragment=OVERVIEW_CARD,
)


def exported_by(user: User) -> str:
    return f"{user.display_name} ({user.username})"


def limits() -> dict[str, object]:
    return {
        "static_limit": limit_per_mille(rules.STATIC_LIMIT),
        "dynamic_limit": limit_per_mille(rules.DYNAMIC_LIMIT),
    }


@router.get("/leakfree")
def overview_page(request: Request, session: SessionDep, user: CurrentUser, as_of: AsOfDep) -> Response:
    rows = overview.workshop_rows(session, as_of)
    export_format = request.query_params.get("export")
    if export_format:
        export = OverviewExport(session=session, exported_by=exported_by(user), as_of=as_of, workshop_rows=rows)
        return export.response(core.check_format(export_format), request)
    return render(
        request,
        "leakfree/overview/overview.html",
        {"rows": rows, "as_of": as_of, "progress": overview.progress_of_rows(rows, as_of), **limits()},
        block="results",
    )


@router.get(OVERVIEW_CARD)
def overview_card(request: Request, session: SessionDep, user: CurrentUser, as_of: AsOfDep) -> Response:
    """The home card's figures: certified workshops against the current target, and how many
    workshops' latest survey exceeds a threshold."""
    rows = overview.workshop_rows(session, as_of)
    return render(
        request,
        "leakfree/overview/_card.html",
        {
            "progress": overview.progress_of_rows(rows, as_of),
            "over_threshold": sum(1 for row in rows if row.status.meets_thresholds is False),
        },
        block=None,
    )
