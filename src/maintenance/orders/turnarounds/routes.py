"""Turnaround (大修) pages: the list with progress and cost vs budget, the create/edit forms
(managers), and the turnaround page with its tiles, Gantt chart and scope table, where orders are
added to the scope by number or taken out of it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, MaintenanceError, NotFound, PermissionDenied, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders import rules
from maintenance.orders import service as order_service
from maintenance.orders.choices import OrderState, OrderType
from maintenance.orders.models import Turnaround, TurnaroundCreate, TurnaroundUpdate
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, ManagerUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

# The scope table on the turnaround page stops here; the order list shows the whole scope.
SCOPE_TABLE_LIMIT = 100


@router.get("/turnarounds")
def turnaround_list(request: Request, session: SessionDep, user: CurrentUser, page: int = 1) -> Response:
    stmt = select(Turnaround).order_by(col(Turnaround.start_date).desc(), col(Turnaround.id).desc())
    listed = paginate(session, stmt, page)
    totals = turnarounds.scope_totals(session, [t.id for t in listed.items])
    return render(
        request,
        "orders/turnarounds/page.html",
        {
            "page": listed,
            "totals": totals,
            "empty_totals": turnarounds.ScopeTotals(),
            "today": plant_today(),
            "can_manage": can(user, Capability.MANAGE),
        },
        block="results",
    )


# --- Create and edit ----------------------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    turnaround: Turnaround | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "orders/turnarounds/form.html",
        {
            "turnaround": turnaround,
            "values": values,
            "errors": errors,
            "sites": org_service.list_sites(session),
        },
        status_code=status_code,
    )


def _form_values(form: FormDep) -> dict[str, Any]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.get("/turnarounds/new")
def new_turnaround_page(request: Request, session: SessionDep, user: ManagerUser) -> Response:
    sites = org_service.list_sites(session)
    values: dict[str, Any] = {"budget_cny": "0.00"}
    if len(sites) == 1:
        values["site_id"] = sites[0].id
    return _form_page(request, session, None, values, {})


@router.post("/turnarounds/new")
def create_turnaround(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    values = _form_values(form)
    data, errors = validate_form(TurnaroundCreate, values)
    if data is not None:
        try:
            turnaround = turnarounds.create_turnaround(session, data, actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Turnaround %(code)s created.", code=turnaround.code))
            return redirect(request, f"/turnarounds/{turnaround.id}")
    return _form_page(request, session, None, values, errors, status_code=422)


@router.get("/turnarounds/{turnaround_id:int}/edit")
def edit_turnaround_page(request: Request, session: SessionDep, user: ManagerUser, turnaround_id: RecordId) -> Response:
    turnaround = turnarounds.get_turnaround_or_raise(session, turnaround_id)
    return _form_page(request, session, turnaround, turnaround.model_dump(mode="json"), {})


@router.post("/turnarounds/{turnaround_id:int}/edit")
def update_turnaround(
    request: Request, session: SessionDep, user: ManagerUser, turnaround_id: RecordId, form: FormDep
) -> Response:
    turnaround = turnarounds.get_turnaround_or_raise(session, turnaround_id)
    values = _form_values(form)
    data, errors = validate_form(TurnaroundUpdate, values)
    if data is not None:
        try:
            turnarounds.update_turnaround(session, turnaround, data, actor=user)
        except Conflict:
            return conflict_response(
                request,
                heading=_("Someone else changed turnaround %(code)s while you were editing it.", code=turnaround.code),
                changes=differences(turnaround, data),
                audit=("turnaround", turnaround.id),
                edit_url=f"/turnarounds/{turnaround.id}/edit",
            )
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Turnaround %(code)s saved.", code=turnaround.code))
            return redirect(request, f"/turnarounds/{turnaround.id}")
    return _form_page(request, session, turnaround, values, errors, status_code=422)


# --- The turnaround page ------------------------------------------------------------------


def _detail_page(
    request: Request,
    session: Session,
    user: User,
    turnaround: Turnaround,
    *,
    scope_values: dict[str, Any] | None = None,
    scope_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rows = turnarounds.scope_rows(session, turnaround)
    gantt = turnarounds.gantt_rows(session, turnaround, rows)
    return render(
        request,
        "orders/turnarounds/detail.html",
        {
            "turnaround": turnaround,
            "summary": turnarounds.scope_summary(session, turnaround),
            "rows": rows[:SCOPE_TABLE_LIMIT],
            "row_count": len(rows),
            "gantt": {
                "rows": gantt,
                "start": turnaround.start_date.isoformat(),
                "end": turnaround.end_date.isoformat(),
                "labels": {
                    "planned": _("Planned"),
                    "actual": _("Actual"),
                    "today": _("Today"),
                    "tie_in": _("Revamp tie-in"),
                    "in_progress": _("still in progress"),
                    "asset": _("Asset"),
                    "workshop": _("Workshop"),
                    "window": _("Turnaround window"),
                },
            },
            "order_types": OrderType,
            "cancelled": OrderState.CANCELLED,
            "editable_states": rules.EDITABLE_STATES,
            "today": plant_today(),
            "can_manage": can(user, Capability.MANAGE),
            "can_write": can(user, Capability.WRITE),
            "scope_values": scope_values or {},
            "scope_errors": scope_errors or {},
        },
        status_code=status_code,
    )


@router.get("/turnarounds/{turnaround_id:int}")
def turnaround_page(request: Request, session: SessionDep, user: CurrentUser, turnaround_id: RecordId) -> Response:
    turnaround = turnarounds.get_turnaround_or_raise(session, turnaround_id)
    return _detail_page(request, session, user, turnaround)


@router.post("/turnarounds/{turnaround_id:int}/scope")
def add_to_scope(
    request: Request, session: SessionDep, user: WriterUser, turnaround_id: RecordId, form: FormDep
) -> Response:
    """Add an existing order, named by its number, to the scope (or change its tie-in flag)."""
    turnaround = turnarounds.get_turnaround_or_raise(session, turnaround_id)
    number = str(form.get("number", "")).strip()
    tie_in = form.get("tie_in") == "yes"
    values = {"number": number, "tie_in": tie_in}
    if not number:
        errors = {"number": _("Enter an order number, e.g. WO-2026-000123.")}
        return _detail_page(
            request, session, user, turnaround, scope_values=values, scope_errors=errors, status_code=422
        )
    order = order_service.get_order_by_number(session, number)
    if order is None:
        errors = {"number": _("No work order has the number %(number)s.", number=number)}
        return _detail_page(
            request, session, user, turnaround, scope_values=values, scope_errors=errors, status_code=422
        )
    try:
        turnarounds.add_to_scope(session, turnaround, order, tie_in=tie_in, actor=user)
    except PermissionDenied:
        raise
    except MaintenanceError as error:
        errors = {"number": " ".join([error.message, *(e.message for e in error.errors)])}
        return _detail_page(
            request, session, user, turnaround, scope_values=values, scope_errors=errors, status_code=error.status_code
        )
    if order.is_revamp_tie_in:
        add_toast(request, _("Order %(number)s is in the scope as a revamp tie-in.", number=order.number))
    else:
        add_toast(request, _("Order %(number)s is in the scope.", number=order.number))
    return redirect(request, f"/turnarounds/{turnaround.id}")


@router.post("/turnarounds/{turnaround_id:int}/scope/{order_id:int}/remove")
def remove_from_scope(
    request: Request, session: SessionDep, user: WriterUser, turnaround_id: RecordId, order_id: RecordId, form: FormDep
) -> Response:
    turnaround = turnarounds.get_turnaround_or_raise(session, turnaround_id)
    order = order_service.get_order_or_raise(session, order_id, for_update=True)
    version = str(form.get("version", "")).strip()
    try:
        turnarounds.remove_from_scope(
            session, turnaround, order, actor=user, version=int(version) if version.isdigit() else None
        )
    except (PermissionDenied, NotFound):
        raise
    except MaintenanceError as error:
        add_toast(request, error.message, "danger")
    else:
        add_toast(request, _("Order %(number)s was taken out of the scope.", number=order.number))
    return redirect(request, f"/turnarounds/{turnaround.id}")
