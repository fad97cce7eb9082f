"""The due list: by workshop, the required inspections due within the horizon (90 days by
default) and everything that already stands badly; as a list, a calendar of month grids, or the
regulator's ledger (特种设备台账, ``/special-equipment/due.xlsx`` or ``?format=xlsx``)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from maintenance.db import SessionDep, plant_today
from maintenance.i18n import NP_
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser
from maintenance.special import due, service
from maintenance.special.exports import LedgerExport
from maintenance.special.filters import DueFilters, DueFiltersDep
from maintenance.special.routes import CATEGORIES, exported_by, workshop_names
from maintenance.web import render

router = APIRouter(include_in_schema=False)


def _due_list(request: Request, session: SessionDep, user: CurrentUser, filters: DueFilters, ledger: bool) -> Response:
    as_of = filters.as_of or plant_today()
    workshop_ids = filters.workshop_ids(session, user)
    items = service.register_items(session, as_of, workshop_ids=workshop_ids, category=filters.category)
    entries = due.due_entries([item for item in items if filters.matches(item)], as_of, filters.days)
    workshops = org_service.list_workshops(session)
    names = workshop_names(workshops)
    groups = due.by_workshop(entries, [w.id for w in workshops if w.id is not None])
    if ledger:
        scope = NP_("special ledger", "Due within %(days)s days, and overdue")
        export = LedgerExport.of_due(
            [entry for _workshop_id, group in groups for entry in group],  # as the page lists them
            session=session,
            exported_by=exported_by(user),
            as_of=as_of,
            scope=scope,
            scope_values={"days": filters.days},
            workshop_names=names,
        )
        return export.response("xlsx", request)
    calendar = due.due_calendar(entries, as_of, filters.days) if filters.view == "calendar" else None
    return render(
        request,
        "special/due.html",
        {
            "filters": filters,
            "as_of": as_of,
            "horizon": as_of + timedelta(days=filters.days),
            "entries": entries,
            "groups": groups,
            "calendar": calendar,
            "categories": CATEGORIES,
            "workshops": workshops,
            "workshop_names": names,
            "own_workshops": workshop_ids if filters.workshop_id is None and not filters.all_workshops else None,
        },
        block="results",
    )


@router.get("/special-equipment/due")
def due_list(request: Request, session: SessionDep, user: CurrentUser, filters: DueFiltersDep) -> Response:
    return _due_list(request, session, user, filters, ledger=request.query_params.get("format") == "xlsx")


@router.get("/special-equipment/due.xlsx")
def due_ledger(request: Request, session: SessionDep, user: CurrentUser, filters: DueFiltersDep) -> Response:
    return _due_list(request, session, user, filters, ledger=True)
