"""Drill-down: the orders, cost lines and journal entries behind a figure of the budget
(``/budget/drill``, linked from every figure of the overview with the same parameter names), and
the budget card of the order page (``/budget/orders/{id}/impact``, an htmx fragment)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from maintenance.budget import drilldown
from maintenance.budget.drilldown import Figure, Measure
from maintenance.budget.order_impact import order_impact
from maintenance.budget.period import BudgetViewDep
from maintenance.budget.scope import readable_workshop_ids
from maintenance.config import get_settings
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import FieldError, PermissionDenied, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostCategory
from maintenance.orders.service import get_order_or_raise
from maintenance.org.auth import CurrentUser
from maintenance.web import MAX_RECORD_ID, RecordId, render

router = APIRouter(include_in_schema=False)

PageNumber = Annotated[int, Query(ge=1, le=MAX_RECORD_ID)]


@router.get("/budget/drill")
def drill_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    view: BudgetViewDep,
    measure: Measure = Measure.ACTUAL,
    workshop: Annotated[RecordId | None, Query()] = None,
    category: CostCategory | None = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    page: PageNumber = 1,
    journal_page: PageNumber = 1,
) -> Response:
    workshops = drilldown.workshops_by_id(session)
    scope = readable_workshop_ids(session, user)
    if workshop is not None:
        if workshop not in workshops:
            message = _("There is no workshop with this id.")
            raise ValidationFailed(message, [FieldError("workshop", message)])
        if scope is not None and workshop not in scope:
            raise PermissionDenied(_("You can only see the budget of your own workshops."))
        scope = [workshop]
    figure = Figure(view, measure, scope, category, month)
    size = get_settings().page_size
    context: dict[str, object] = {
        "figure": figure,
        "workshop": workshops.get(workshop) if workshop is not None else None,
        "workshops": workshops,
        "own_workshops_only": workshop is None and scope is not None,
        "category_of": CostCategory,
    }
    if measure is Measure.ACTUAL:
        lines = drilldown.actual_lines(session, figure, page, size)
        journal = drilldown.journal_entries(session, figure, journal_page, size)
        context |= {"lines": lines, "journal": journal, "total": lines.amount + journal.amount}
    else:
        rows = (drilldown.committed_orders if measure is Measure.COMMITTED else drilldown.plan_cells)(
            session, figure, page, size
        )
        context |= {"rows": rows, "total": rows.amount}
    return render(request, "budget/drill.html", context, block="results")


@router.get("/budget/orders/{order_id:int}/impact")
def order_impact_card(request: Request, session: SessionDep, user: CurrentUser, order_id: RecordId) -> Response:
    order = get_order_or_raise(session, order_id)
    readable = readable_workshop_ids(session, user)
    if readable is not None and order.workshop_id not in readable:
        # Anyone may open any order; its workshop's budget is for that workshop's engineers.
        return render(request, "budget/_order_impact.html", {"impact": None}, block=None)
    impact = order_impact(session, order, plant_today())
    return render(request, "budget/_order_impact.html", {"impact": impact}, block=None)
