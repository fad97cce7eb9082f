"""The change-log page, the per-object history fragment other pages pull in with htmx, and the
check of the hash chain, run when an auditor asks for it (it reads every row of the log).

Every route here needs a logged-in user: ``main.py`` includes this router with the login
dependency, because the user model belongs to ``org`` and audit imports no domain (design.md §2).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from maintenance.audit import service
from maintenance.audit.display import change_views
from maintenance.db import SessionDep
from maintenance.web import paginate, render

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def change_log_page(
    request: Request,
    session: SessionDep,
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
        {
            "page": changes,
            "views": change_views(session, changes.items),
            "filters": filters,
            "object_types": service.object_types(session),
        },
        block="results",
    )


@router.get("/audit/chain")
def chain_check(request: Request, session: SessionDep) -> Response:
    """Walk the whole chain (as ``maintenance audit verify`` does) and say whether it is intact."""
    return render(request, "audit/_chain.html", {"report": service.verify_chain(session)}, block=None)


@router.get("/audit/history/{object_type}/{object_id}")
def object_history(request: Request, session: SessionDep, object_type: str, object_id: str, page: int = 1) -> Response:
    """The history tab of any record: its change-log rows, newest first."""
    filters = service.ChangeFilters(object_type=object_type, object_id=object_id)
    changes = paginate(session, service.list_changes(filters), page, size=20)
    return render(
        request,
        "audit/history.html",
        {
            "page": changes,
            "views": change_views(session, changes.items),
            "object_type": object_type,
            "object_id": object_id,
        },
        block=None,
    )
