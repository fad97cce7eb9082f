"""PM plan pages: the list (page and htmx fragment), the plan page with its estimated cost
lines, checklist, upcoming due dates, runtime meter and orders, the create/edit forms (409 on a
stale version) and the manager's "generate due orders now".

Routes are thin: writes go through :mod:`maintenance.orders.pm.service` and
:mod:`maintenance.orders.pm.scheduler`, which check the user's workshop.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.config import get_settings
from maintenance.db import SessionDep, parse_plant_datetime, plant_now, plant_today, utcnow
from maintenance.exceptions import Conflict, FieldError, MaintenanceError, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostKind, IntervalUnit, PlanBasis, Priority, Provider
from maintenance.orders.forms import on_asset_tag, resolve_asset_tag
from maintenance.orders.models import PmPlan, PmPlanCreate, PmPlanUpdate
from maintenance.orders.pm import scheduler
from maintenance.orders.pm import service as pm
from maintenance.orders.service import check_may_write, parse_checklist_template
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, ManagerUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, can_write_in
from maintenance.web import (
    Difference,
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    filters_from_query,
    form_values,
    is_htmx,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

CHOICES = {
    "bases": PlanBasis,
    "interval_units": IntervalUnit,
    "priorities": Priority,
    "providers": Provider,
    "cost_kinds": CostKind,
}


def _field_labels() -> dict[str, str]:
    return {
        "asset_id": _("Asset"),
        "title": _("Title"),
        "basis": _("Basis"),
        "interval": _("Interval"),
        "interval_unit": _("Interval unit"),
        "interval_hours": _("Interval (running hours)"),
        "start_date": _("Start date"),
        "lead_days": _("Lead time (days)"),
        "priority": _("Priority"),
        "provider": _("Done by"),
        "assignee_name": _("Team or contractor"),
        "checklist_template": _("Checklist"),
        "is_active": _("Active"),
    }


PlanFiltersDep = Annotated[pm.PlanFilters, Depends(filters_from_query(pm.PlanFilters))]


def _workshops(session: Session) -> dict[str, Any]:
    workshops = org_service.list_workshops(session)
    return {"workshops": workshops, "workshop_by_id": {w.id: w for w in workshops}}


# --- The list -----------------------------------------------------------------------------


@router.get("/pm-plans")
def plan_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: PlanFiltersDep, page: int = 1
) -> Response:
    """Four queries whatever the page holds: count, rows (plans with their asset), workshops,
    and the filtered asset when there is one. Next due dates come from each plan's own fields."""
    plans = paginate(session, pm.list_plans(filters), page, scalars=False)
    today = plant_today()
    next_due = {row[0].id: scheduler.next_due_date(row[0], today) for row in plans.items}
    hours_run = {row[0].id: scheduler.runtime_hours_run(row[0]) for row in plans.items}
    filtered_asset = session.get(Asset, filters.asset_id) if filters.asset_id else None
    return render(
        request,
        "orders/pm/page.html",
        {
            "page": plans,
            "filters": filters,
            "today": today,
            "next_due": next_due,
            "hours_run": hours_run,
            "filtered_asset": filtered_asset,
            "can_create": user.role.value != "auditor",
            "can_generate": can(user, Capability.MANAGE),
            **_workshops(session),
            **CHOICES,
        },
        block="results",
    )


@router.post("/pm-plans/generate")
def generate_all(request: Request, session: SessionDep, user: ManagerUser) -> Response:
    report = scheduler.generate_orders(session, plant_today(), get_settings().scheduler_horizon_days, user)
    _report_toast(request, report)
    return redirect(request, "/pm-plans")


def _report_toast(request: Request, report: scheduler.SchedulerReport) -> None:
    add_toast(
        request,
        _(
            "%(checked)s plans checked: %(created)s orders created (%(drafts)s awaiting approval), "
            "%(existing)s already existed, %(open)s plans wait for their open order.",
            checked=report.plans_checked,
            created=report.orders_created,
            drafts=report.awaiting_approval,
            existing=report.skipped_existing,
            open=report.skipped_open,
        ),
        "success" if report.orders_created else "info",
    )


# --- Create and edit ----------------------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    plan: PmPlan | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "orders/pm/form.html",
        {"plan": plan, "values": values, "errors": errors, **CHOICES},
        status_code=status_code,
    )


def _form_values(session: Session, form: FormDep) -> tuple[dict[str, Any], dict[str, str]]:
    """The form names the asset by tag and has an "active" checkbox."""
    values = form_values(form)
    return values, resolve_asset_tag(session, values)


@router.get("/pm-plans/new")
def new_plan_page(
    request: Request, session: SessionDep, user: WriterUser, asset_id: RecordId | None = None
) -> Response:
    values: dict[str, Any] = {
        "basis": PlanBasis.FIXED.value,
        "interval": 1,
        "interval_unit": IntervalUnit.MONTH.value,
        "lead_days": 7,
        "start_date": plant_today().isoformat(),
        "priority": Priority.NORMAL.value,
        "provider": Provider.IN_HOUSE.value,
        "is_active": True,
    }
    if asset_id is not None:
        asset = asset_service.get_asset_or_raise(session, asset_id)
        values["asset_tag"] = asset.tag
    return _form_page(request, session, None, values, {})


@router.post("/pm-plans/new")
def create_plan(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    values, errors = _form_values(session, form)
    data, form_errors = validate_form(PmPlanCreate, values)
    errors = form_errors | errors
    if data is not None and not errors:
        try:
            plan = pm.create_plan(session, data, actor=user)
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        else:
            add_toast(request, _("PM plan %(title)s created.", title=plan.title))
            return redirect(request, f"/pm-plans/{plan.id}")
    return _form_page(request, session, None, values, errors, status_code=422)


@router.get("/pm-plans/{plan_id:int}/edit")
def edit_plan_page(request: Request, session: SessionDep, user: WriterUser, plan_id: RecordId) -> Response:
    plan = pm.get_plan_or_raise(session, plan_id)
    check_may_write(session, user, None, plan.workshop_id)
    asset = asset_service.get_asset_or_raise(session, plan.asset_id)
    values = plan.model_dump(mode="json") | {"asset_tag": asset.tag}
    return _form_page(request, session, plan, values, {})


@router.post("/pm-plans/{plan_id:int}/edit")
def update_plan(request: Request, session: SessionDep, user: WriterUser, plan_id: RecordId, form: FormDep) -> Response:
    plan = pm.get_plan_or_raise(session, plan_id, for_update=True)
    values, errors = _form_values(session, form)
    data, form_errors = validate_form(PmPlanUpdate, values)
    errors = form_errors | errors
    if data is not None and not errors:
        try:
            pm.update_plan(session, plan, data, actor=user)
        except Conflict:
            return conflict_response(
                request,
                heading=_("Someone else changed PM plan %(title)s while you were editing it.", title=plan.title),
                changes=_differences(session, plan, data),
                audit=("pm_plan", plan.id),
                edit_url=f"/pm-plans/{plan.id}/edit",
                back=(f"/pm-plans/{plan.id}", _("Back to the plan")),
            )
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        else:
            add_toast(request, _("PM plan %(title)s saved.", title=plan.title))
            return redirect(request, f"/pm-plans/{plan.id}")
    return _form_page(request, session, plan, values, errors, status_code=422)


def _differences(session: Session, stored: PmPlan, mine: PmPlanUpdate) -> list[Difference]:
    """The edited fields, the plan's asset shown by its tag."""

    def display(name: str, value: Any) -> Any:
        return _asset_tag(session, value) if name == "asset_id" else value

    return differences(stored, mine, labels=_field_labels(), display=display)


def _asset_tag(session: Session, asset_id: int | None) -> str:
    asset = session.get(Asset, asset_id) if asset_id else None
    return asset.tag if asset else ""


# --- The plan page ------------------------------------------------------------------------


def _detail_context(session: Session, user: User, plan: PmPlan) -> dict[str, Any]:
    lines = pm.estimated_lines_of(session, plan)
    today = plant_today()
    hours_run = scheduler.runtime_hours_run(plan)
    hours_left = Decimal(plan.interval_hours) - hours_run if plan.interval_hours and hours_run is not None else None
    return {
        "plan": plan,
        "asset": asset_service.get_asset_or_raise(session, plan.asset_id),
        "lines": lines,
        "estimated_total": pm.estimated_total(lines),
        "approval_limit": get_settings().order_approval_threshold_cny,
        "checks": parse_checklist_template(plan.checklist_template),
        "upcoming": scheduler.upcoming_due_dates(plan, today, 5),
        "today": today,
        "orders": pm.orders_of_plan(session, plan, 20),
        "hours_run": hours_run,
        "hours_left": hours_left,
        "lead_hours": scheduler.runtime_lead_hours(plan),
        "runtime_due": scheduler.runtime_is_due(plan),
        "can_write": can_write_in(session, user, plan.workshop_id) and user.role.value != "auditor",
        "can_generate": can(user, Capability.MANAGE),
        "line_values": {"kind": CostKind.LABOUR.value, "quantity": "1", "provider": Provider.IN_HOUSE.value},
        "line_errors": {},
        "meter_now": meter_now_value(),
        **_workshops(session),
        **CHOICES,
    }


@router.get("/pm-plans/{plan_id:int}")
def plan_page(request: Request, session: SessionDep, user: CurrentUser, plan_id: RecordId) -> Response:
    plan = pm.get_plan_or_raise(session, plan_id)
    return render(request, "orders/pm/detail.html", _detail_context(session, user, plan))


def _lines_fragment(
    request: Request, session: Session, user: User, plan: PmPlan, *, status_code: int = 200, **overrides: Any
) -> Response:
    context = _detail_context(session, user, plan) | overrides
    return render(request, "orders/pm/detail.html", context, block="lines", status_code=status_code)


@router.post("/pm-plans/{plan_id:int}/lines")
def add_line(request: Request, session: SessionDep, user: WriterUser, plan_id: RecordId, form: FormDep) -> Response:
    plan = pm.get_plan_or_raise(session, plan_id)
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    data, errors = validate_form(pm.EstimatedLineCreate, values)
    if data is None:
        if not is_htmx(request):
            add_toast(request, _("The cost line was not saved: %(why)s", why="; ".join(errors.values())), "danger")
            return redirect(request, f"/pm-plans/{plan.id}")
        return _lines_fragment(request, session, user, plan, status_code=422, line_values=values, line_errors=errors)
    line = pm.add_estimated_line_from(session, plan, data, actor=user)
    add_toast(request, _("Estimated line %(description)s added.", description=line.description))
    if not is_htmx(request):
        return redirect(request, f"/pm-plans/{plan.id}")
    return _lines_fragment(request, session, user, plan)


@router.post("/pm-plans/{plan_id:int}/lines/{line_id:int}/delete")
def delete_line(
    request: Request, session: SessionDep, user: WriterUser, plan_id: RecordId, line_id: RecordId
) -> Response:
    plan = pm.get_plan_or_raise(session, plan_id)
    line = pm.get_estimated_line_or_raise(session, plan, line_id)
    pm.delete_estimated_line(session, plan, line, actor=user)
    add_toast(request, _("Estimated line %(description)s deleted.", description=line.description))
    if not is_htmx(request):
        return redirect(request, f"/pm-plans/{plan.id}")
    return _lines_fragment(request, session, user, plan)


@router.post("/pm-plans/{plan_id:int}/meter")
def record_meter(request: Request, session: SessionDep, user: WriterUser, plan_id: RecordId, form: FormDep) -> Response:
    """A runtime-hours reading typed in: moves the meter of every runtime plan of the asset."""
    plan = pm.get_plan_or_raise(session, plan_id)
    check_may_write(session, user, None, plan.workshop_id)
    try:
        hours, at = _meter_input(form)
        moved = scheduler.record_runtime(session, plan.asset_id, hours, at, actor=user)
    except MaintenanceError as error:
        add_toast(request, " ".join([error.message, *(e.message for e in error.errors)]), "danger")
        return redirect(request, f"/pm-plans/{plan.id}")
    if moved:
        add_toast(request, _("Meter reading %(hours)s h recorded.", hours=f"{hours:,.1f}"))
    else:
        add_toast(request, _("A newer meter reading is recorded already; this one was not applied."), "warning")
    return redirect(request, f"/pm-plans/{plan.id}")


def _meter_input(form: FormDep) -> tuple[Decimal, datetime]:
    raw = str(form.get("hours", "")).strip().replace(",", "")
    try:
        hours = Decimal(raw)
    except InvalidOperation:
        raise ValidationFailed(
            _("The meter reading was not saved."), [FieldError("hours", _("Enter a number."))]
        ) from None
    if not hours.is_finite() or hours < 0 or hours >= Decimal("1e13"):
        raise ValidationFailed(
            _("The meter reading was not saved."), [FieldError("hours", _("Enter the hours on the meter (0 or more)."))]
        )
    raw_at = str(form.get("read_at", "")).strip()
    if not raw_at:
        return hours, utcnow()
    try:
        at = parse_plant_datetime(raw_at)
    except ValueError:
        raise ValidationFailed(
            _("The meter reading was not saved."), [FieldError("read_at", _("Enter a date and time."))]
        ) from None
    if at > utcnow():
        raise ValidationFailed(
            _("The meter reading was not saved."), [FieldError("read_at", _("The time cannot be in the future."))]
        )
    return hours, at


@router.post("/pm-plans/{plan_id:int}/generate")
def generate_for_plan(request: Request, session: SessionDep, user: ManagerUser, plan_id: RecordId) -> Response:
    plan = pm.get_plan_or_raise(session, plan_id)
    report = scheduler.generate_orders(
        session,
        plant_today(),
        get_settings().scheduler_horizon_days,
        user,
        plan_ids=[plan.id],  # type: ignore[list-item]
    )
    if report.plans_checked == 0:
        add_toast(request, _("This plan is inactive or its asset is retired: no orders are raised."), "warning")
    else:
        _report_toast(request, report)
    return redirect(request, f"/pm-plans/{plan.id}")


def meter_now_value() -> str:
    """The datetime-local value of now at the plant (the meter form's default)."""
    now = plant_now()
    return datetime.combine(now.date(), time(now.hour, now.minute)).isoformat(timespec="minutes")
