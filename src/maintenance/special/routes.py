"""The special-equipment register: one row per item with where it stands on the reference date
(page, htmx fragment, CSV/XLSX of the list and the regulator's ledger, from one view).

The register is computed whole (``service.register_items``, a fixed number of queries) and then
searched, sorted and paginated in Python: standings are computed, not stored, and a plant has
hundreds of items, not millions. ``/special-equipment/{asset_id:int}`` is the item page's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from maintenance import exports as core
from maintenance.assets.choices import SpecialCategory
from maintenance.config import get_settings
from maintenance.db import SessionDep, plant_today
from maintenance.i18n import NP_
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser
from maintenance.org.models import User, Workshop
from maintenance.special import service
from maintenance.special.choices import Standing
from maintenance.special.exports import LedgerExport, RegisterExport
from maintenance.special.filters import RegisterFilters, RegisterFiltersDep
from maintenance.web import Page, render

router = APIRouter(include_in_schema=False)

LEDGER = "ledger"  # ``?export=ledger``: the whole filtered register in the regulator's layout
CATEGORIES = [category for category in SpecialCategory if category != SpecialCategory.NONE]


def page_of(items: Sequence[object], number: int) -> Page:
    """A page of a list computed in Python (``web.paginate`` pages a query)."""
    size = get_settings().page_size
    pages = max(1, math.ceil(len(items) / size))
    number = min(max(1, number), pages)
    return Page(items=list(items[(number - 1) * size : number * size]), total=len(items), number=number, size=size)


def exported_by(user: User) -> str:
    return f"{user.display_name} ({user.username})"


def workshop_names(workshops: Sequence[Workshop]) -> dict[int, str]:
    return {workshop.id: workshop.name for workshop in workshops if workshop.id is not None}


def filtered_register(
    session: Session, filters: RegisterFilters, as_of: date, workshop_ids: list[int] | None
) -> tuple[list[service.RegisterItem], dict[Standing, int]]:
    """The items the filters leave, sorted, and how many of them stand where (before the
    standing filter: the chips)."""
    items = service.register_items(session, as_of, workshop_ids=workshop_ids, category=filters.category)
    shown, counts = filters.select(items)
    return shown, {standing: counts[standing] for standing in Standing}


@router.get("/special-equipment")
def register_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: RegisterFiltersDep, page: int = 1
) -> Response:
    as_of = filters.as_of or plant_today()
    workshop_ids = filters.workshop_ids(session, user)
    items, counts = filtered_register(session, filters, as_of, workshop_ids)
    workshops = org_service.list_workshops(session)
    names = workshop_names(workshops)
    export_format = request.query_params.get("export")
    if export_format == LEDGER:
        scope = NP_("special ledger", "All special equipment")
        ledger = LedgerExport.of_register(
            items, session=session, exported_by=exported_by(user), as_of=as_of, scope=scope, workshop_names=names
        )
        return ledger.response("xlsx", request)
    if export_format:
        export = RegisterExport.of(
            items, session=session, exported_by=exported_by(user), filters=filters, as_of=as_of, workshop_names=names
        )
        return export.response(core.check_format(export_format), request)
    return render(
        request,
        "special/register.html",
        {
            "page": page_of(items, page),
            "filters": filters,
            "as_of": as_of,
            "counts": counts,
            "standings": Standing,
            "categories": CATEGORIES,
            "workshops": workshops,
            "workshop_names": names,
            # The engineer's own workshops, shown because no workshop was chosen.
            "own_workshops": workshop_ids if filters.workshop_id is None and not filters.all_workshops else None,
        },
        block="results",
    )
