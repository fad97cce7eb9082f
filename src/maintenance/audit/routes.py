"""The change-log page and the per-object history fragment other pages pull in with htmx."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from maintenance.audit import service
from maintenance.db import SessionDep
from maintenance.org.auth import CurrentUser
from maintenance.web import paginate, render

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def change_log_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
    page: int = 1,
) -> Response:
    filters = service.ChangeFilters(object_type or None, object_id or None, actor or None, date_from, date_to)
    changes = paginate(session, service.list_changes(filters), page)
    return render(
        request,
        "audit/page.html",
        {"page": changes, "filters": filters, "object_types": service.object_types(session)},
        block="results",
    )


@router.get("/audit/history/{object_type}/{object_id}")
def object_history(
    request: Request, session: SessionDep, user: CurrentUser, object_type: str, object_id: str, page: int = 1
) -> Response:
    """The history tab of any record: its change-log rows, newest first."""
    filters = service.ChangeFilters(object_type=object_type, object_id=object_id)
    changes = paginate(session, service.list_changes(filters), page, size=20)
    return render(
        request, "audit/history.html", {"page": changes, "object_type": object_type, "object_id": object_id}, block=None
    )
