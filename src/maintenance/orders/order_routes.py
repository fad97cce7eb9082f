"""The work-order page and its forms: raise, edit (optimistic locking), the state-machine
buttons, cost lines, checklist, failure report, notes and attachments.

One view serves the order page and its parts: ``GET /orders/{id}?part=costs`` (with
``HX-Request``) returns just the cost section, and so on for the header, checklist and
attachments, so htmx forms swap their own section and plain posts fall back to the page.
Routes are thin: every write goes through :mod:`maintenance.orders.service` (or
:mod:`maintenance.orders.attachments`), which checks the user's workshop and the order's state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.datastructures import UploadFile

from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.choices import Choice
from maintenance.config import get_settings
from maintenance.db import SessionDep, parse_plant_datetime, plant_timezone
from maintenance.exceptions import Conflict, FieldError, MaintenanceError, PermissionDenied, ValidationFailed
from maintenance.files import ACCEPT_ATTRIBUTE, ALLOWED, MAX_BYTES, stored_file_response
from maintenance.i18n import gettext as _
from maintenance.orders import attachments, rules, service
from maintenance.orders.choices import (
    ChecklistResult,
    CostKind,
    DetectionMethod,
    FailureCause,
    FailureMechanism,
    FailureMode,
    OrderState,
    OrderType,
    Priority,
    Provider,
)
from maintenance.orders.forms import on_asset_tag, resolve_asset_tag
from maintenance.orders.models import (
    ChecklistItem,
    CostLine,
    CostLineCreate,
    FailureReportUpdate,
    Turnaround,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderFields,
    WorkOrderUpdate,
)
from maintenance.orders.turnarounds.service import list_turnarounds
from maintenance.org.auth import CurrentUser, WriterUser
from maintenance.org.models import Role, User, Workshop
from maintenance.org.permissions import Capability, can, can_write_in
from maintenance.web import (
    Difference,
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    is_htmx,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

CHOICES = {
    "order_types": OrderType,
    "states": OrderState,
    "priorities": Priority,
    "providers": Provider,
    "cost_kinds": CostKind,
    "check_results": ChecklistResult,
    "failure_modes": FailureMode,
    "failure_mechanisms": FailureMechanism,
    "failure_causes": FailureCause,
    "detection_methods": DetectionMethod,
}

# Parts of the order page that htmx asks for on their own (blocks of orders/detail.html).
PARTS = ("header", "costs", "checklist", "attachments")
# Cost-line changes move the order's totals: announced to the page (the header itself is sent out of band).
COSTS_CHANGED = {"HX-Trigger": "order-costs-changed"}
FAILURE_TYPES = frozenset({OrderType.CM, OrderType.CBM})
DOWNTIME_FIELDS = ("downtime_start_at", "downtime_end_at")


def field_labels() -> dict[str, str]:
    """Names of the order's fields as users read them (conflict page, completion errors)."""
    return {
        "order_type": _("Type"),
        "asset_id": _("Asset"),
        "asset_tag": _("Asset"),
        "title": _("Title"),
        "description": _("Description"),
        "priority": _("Priority"),
        "planned_start_date": _("Planned start"),
        "planned_finish_date": _("Planned finish"),
        "due_date": _("Due date"),
        "provider": _("Done by"),
        "assignee_name": _("Team or contractor"),
        "assignee_id": _("Responsible engineer"),
        "turnaround_id": _("Turnaround"),
        "is_revamp_tie_in": _("Revamp tie-in"),
        "failure_mode": _("Failure mode"),
        "failure_mechanism": _("Failure mechanism"),
        "failure_cause": _("Failure cause"),
        "detection_method": _("Detection method"),
        "downtime_start_at": _("Downtime start"),
        "downtime_end_at": _("Downtime end"),
        "production_loss_t": _("Production loss (t)"),
        "production_loss_cny": _("Production loss (CNY)"),
        "findings": _("Findings"),
        "completion_notes": _("Completion notes"),
        "checklist": _("Checklist"),
        "note": _("Reason"),
        "version": _("Version"),
    }


# --- Lookups ------------------------------------------------------------------------------


def users_by_id(session: Session, user_ids: set[int | None]) -> dict[int, User]:
    ids = [user_id for user_id in user_ids if user_id is not None]
    if not ids:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(col(User.id).in_(ids)))}  # type: ignore[misc]


def active_engineers(session: Session, keep: int | None = None) -> list[User]:
    """Who an order can be assigned to (plus the current assignee, whatever their role now)."""
    engineers = list(
        session.scalars(
            select(User).where(col(User.role) == Role.ENGINEER, col(User.is_active)).order_by(col(User.username))
        )
    )
    if keep is not None and all(user.id != keep for user in engineers):
        current = session.get(User, keep)
        if current is not None:
            engineers.append(current)
    return engineers


def get_order(session: Session, order_id: int, *, for_update: bool = False) -> WorkOrder:
    return service.get_order_or_raise(session, order_id, for_update=for_update)


def text_values(form: Mapping[str, Any]) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}


def form_version(form: Mapping[str, Any]) -> int | None:
    try:
        return int(str(form.get("version", "")))
    except ValueError:
        return None


# --- Plant time in forms ------------------------------------------------------------------


def local_input(value: datetime | None) -> str:
    """A UTC instant as a datetime-local input value on the plant's wall clock."""
    return value.astimezone(plant_timezone()).strftime("%Y-%m-%dT%H:%M") if value else ""


def parse_local(text: str) -> datetime | None:
    """A datetime-local value typed on the plant's wall clock, as an aware UTC datetime."""
    return parse_plant_datetime(text) if text.strip() else None


# --- Raising and editing ------------------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    order: WorkOrder | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    assignee = values.get("assignee_id")
    keep = int(assignee) if isinstance(assignee, int | str) and str(assignee).isdigit() else None
    return render(
        request,
        "orders/form.html",
        {
            "order": order,
            "values": values,
            "errors": errors,
            "engineers": active_engineers(session, keep),
            "turnarounds": list_turnarounds(session),
            **CHOICES,
        },
        status_code=status_code,
    )


def _with_asset(session: Session, form: FormDep) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = text_values(form)
    return values, resolve_asset_tag(session, values)


@router.get("/orders/new")
def new_order_page(
    request: Request, session: SessionDep, user: WriterUser, asset_id: RecordId | None = None
) -> Response:
    values: dict[str, Any] = {
        "order_type": "",
        "priority": Priority.NORMAL.value,
        "provider": Provider.IN_HOUSE.value,
    }
    if asset_id is not None:
        asset = asset_service.get_asset_or_raise(session, asset_id)
        # Raised from an asset (its page or its QR label): usually something is wrong with it.
        values |= {"asset_tag": asset.tag, "order_type": OrderType.CM.value}
        if user.role == Role.ENGINEER:
            values["assignee_id"] = str(user.id)
    return _form_page(request, session, None, values, {})


@router.post("/orders/new")
def create_order(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    values, errors = _with_asset(session, form)
    data, form_errors = validate_form(WorkOrderCreate, values)
    errors = on_asset_tag(form_errors) | errors
    status_code = 422
    if data is not None and not errors:
        try:
            order = service.create_order(session, data, actor=user)
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        except PermissionDenied as error:
            errors = {"asset_tag": error.message, "__all__": error.message}
            status_code = 403
        else:
            add_toast(request, _("Work order %(number)s raised.", number=order.number))
            return redirect(request, f"/orders/{order.id}")
    return _form_page(request, session, None, values, errors, status_code=status_code)


@router.get("/orders/{order_id:int}/edit")
def edit_order_page(request: Request, session: SessionDep, user: WriterUser, order_id: RecordId) -> Response:
    order = get_order(session, order_id)
    service.check_may_write(session, user, order, order.workshop_id)
    asset = session.get(Asset, order.asset_id)
    values = order.model_dump(mode="json") | {"asset_tag": asset.tag if asset else ""}
    return _form_page(request, session, order, values, {})


@router.post("/orders/{order_id:int}/edit")
def update_order(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, form: FormDep
) -> Response:
    order = get_order(session, order_id, for_update=True)
    values, errors = _with_asset(session, form)
    data, form_errors = validate_form(WorkOrderUpdate, values)
    errors = on_asset_tag(form_errors) | errors
    if data is not None and not errors:
        if data.version != order.version:
            return _conflict_page(request, session, order, _differences(session, order, data), edit=True)
        try:
            service.update_order(session, order, data, actor=user)
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        else:
            add_toast(request, _("Work order %(number)s saved.", number=order.number))
            return redirect(request, f"/orders/{order.id}")
    return _form_page(request, session, order, values, errors, status_code=422)


# --- The 409 page -------------------------------------------------------------------------


def _display(session: Session, name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Choice):
        return f"{value.value} {value.label}"
    if name == "asset_id":
        asset = session.get(Asset, value)
        return f"{asset.tag} {asset.name}" if asset else str(value)
    if name == "assignee_id":
        user = session.get(User, value)
        return user.display_name if user else str(value)
    if name == "turnaround_id":
        turnaround = session.get(Turnaround, value)
        return turnaround.audit_repr if turnaround else str(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return value.astimezone(plant_timezone()).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _differences(session: Session, stored: WorkOrder, mine: WorkOrderFields | FailureReportUpdate) -> list[Difference]:
    """Per field, what is stored now and what the user submitted, where they differ."""
    return differences(stored, mine, labels=field_labels(), display=lambda name, value: _display(session, name, value))


def _conflict_page(
    request: Request, session: Session, order: WorkOrder, changes: list[Difference] | None, *, edit: bool = False
) -> Response:
    return conflict_response(
        request,
        heading=_("Someone else changed order %(number)s while you were working on it.", number=order.number),
        advice=_("Nothing of yours was saved. Compare, then make your change again on the current version."),
        changes=changes,
        note=_("The order is now %(state)s (version %(version)s).", state=order.state.label, version=order.version),
        audit=("work_order", order.id),
        edit_url=f"/orders/{order.id}/edit" if edit else None,
        back=(f"/orders/{order.id}", _("Back to the order")),
    )


# --- The order page -----------------------------------------------------------------------


@dataclass
class CostGroup:
    kind: CostKind
    lines: list[CostLine] = field(default_factory=list)
    planned: Decimal = Decimal("0.00")
    actual: Decimal = Decimal("0.00")
    saving: Decimal = Decimal("0.00")


def cost_groups(lines: Sequence[CostLine]) -> list[CostGroup]:
    """Lines grouped by kind (in the kinds' order) with their planned, actual and saved sums."""
    groups = {kind: CostGroup(kind) for kind in CostKind}
    for line in lines:
        group = groups[line.kind]
        group.lines.append(line)
        group.planned += line.planned_cny
        group.actual += line.actual_cny
        group.saving += line.saving_cny
    return [group for group in groups.values() if group.lines]


def visible_actions(session: Session, user: User, order: WorkOrder) -> tuple[list[rules.Action], str]:
    """The buttons this user may press now, and why an expected one is missing (if it is)."""
    if not can_write_in(session, user, order.workshop_id):
        return [], ""
    manager = can(user, Capability.APPROVE)
    shown: list[rules.Action] = []
    notes: list[str] = []
    for action in rules.actions_from(order.state):
        if action is rules.CLOSE and not manager:
            continue
        if action is rules.APPROVE:
            if service.is_own_request(user, order):
                notes.append(_("Approval by someone other than the requester: another engineer or a manager."))
            if not manager and service.needs_manager_approval(order):
                notes.append(
                    _(
                        "Planned cost is above %(limit)s: a manager approves this order.",
                        limit=f"{get_settings().order_approval_threshold_cny:,.0f} 元",
                    )
                )
            if notes:
                continue
        shown.append(action)
    return shown, " ".join(notes)


def failure_values(order: WorkOrder) -> dict[str, str]:
    return {
        "failure_mode": order.failure_mode.value if order.failure_mode else "",
        "failure_mechanism": order.failure_mechanism.value if order.failure_mechanism else "",
        "failure_cause": order.failure_cause.value if order.failure_cause else "",
        "detection_method": order.detection_method.value if order.detection_method else "",
        "downtime_start_at": local_input(order.downtime_start_at),
        "downtime_end_at": local_input(order.downtime_end_at),
        "production_loss_t": "" if order.production_loss_t is None else str(order.production_loss_t),
        "production_loss_cny": "" if order.production_loss_cny is None else str(order.production_loss_cny),
    }


def line_values(line: CostLine) -> dict[str, str]:
    return {key: "" if value is None else str(value) for key, value in line.model_dump(mode="json").items()}


def page_context(session: Session, user: User, order: WorkOrder) -> dict[str, Any]:
    lines = service.cost_lines_of(session, order)
    checks = service.checklist_of(session, order)
    files = attachments.attachments_of(session, order)
    raised = list(
        session.scalars(select(WorkOrder).where(col(WorkOrder.origin_order_id) == order.id).order_by(col(WorkOrder.id)))
    )
    actions, approval_note = visible_actions(session, user, order)
    may_write = can_write_in(session, user, order.workshop_id)
    return {
        "order": order,
        "asset": session.get(Asset, order.asset_id),
        "workshop": session.get(Workshop, order.workshop_id),
        "turnaround": session.get(Turnaround, order.turnaround_id) if order.turnaround_id else None,
        "origin": session.get(WorkOrder, order.origin_order_id) if order.origin_order_id else None,
        "raised_orders": raised,
        "raised_by_id": {o.id: o for o in raised},
        "groups": cost_groups(lines),
        "saving_total": sum((line.saving_cny for line in lines), Decimal("0.00")),
        "checks": checks,
        "transitions": service.transitions_of(session, order),
        "attachments": files,
        "is_image": attachments.is_image,
        "people": users_by_id(
            session,
            {
                order.requested_by_id,
                order.approved_by_id,
                order.signed_off_by_id,
                order.assignee_id,
                *(item.uploaded_by_id for item in files),
            },
        ),
        "actions": actions,
        "approval_note": approval_note,
        "can_edit": may_write and order.state in rules.EDITABLE_STATES,
        "has_failure": order.order_type in FAILURE_TYPES,
        "failure_values": failure_values(order),
        "failure_errors": {},
        "notes_values": {"findings": order.findings, "completion_notes": order.completion_notes},
        "notes_errors": {},
        "cost_values": {"kind": CostKind.LABOUR.value, "provider": Provider.IN_HOUSE.value},
        "cost_errors": {},
        "editing_line_id": None,
        "edit_values": {},
        "edit_errors": {},
        "check_errors": {},
        "attachment_error": "",
        "action_error": None,
        "labels": field_labels(),
        "accept": ACCEPT_ATTRIBUTE,
        "allowed": ", ".join(ALLOWED),
        "max_mb": MAX_BYTES // (1024 * 1024),
        **CHOICES,
    }


def order_page(
    request: Request,
    session: Session,
    user: User,
    order: WorkOrder,
    *,
    block: str = "content",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    context = page_context(session, user, order) | extra
    return render(request, "orders/detail.html", context, block=block, status_code=status_code, headers=headers)


@router.get("/orders/{order_id:int}")
def order_detail(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    order_id: RecordId,
    part: Annotated[str, Query()] = "",
    edit_line: RecordId | None = None,
) -> Response:
    order = get_order(session, order_id)
    extra: dict[str, Any] = {}
    if edit_line is not None:
        line = service.get_cost_line_or_raise(session, order, edit_line)
        extra = {"editing_line_id": line.id, "edit_values": line_values(line)}
    return order_page(request, session, user, order, block=part if part in PARTS else "content", **extra)


# --- State-machine buttons ----------------------------------------------------------------


@router.post("/orders/{order_id:int}/actions/{name}")
def perform_action(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, name: str, form: FormDep
) -> Response:
    order = get_order(session, order_id, for_update=True)
    version = form_version(form)
    if version is not None and version != order.version:
        return _conflict_page(request, session, order, None)
    action = rules.ACTION_BY_NAME.get(name)
    try:
        service.perform(session, order, name, actor=user, note=str(form.get("note", "")), version=version)
    except MaintenanceError as error:
        if isinstance(error, Conflict) and any(e.field == "version" for e in error.errors):
            return _conflict_page(request, session, order, None)
        return order_page(
            request,
            session,
            user,
            order,
            status_code=error.status_code,
            action_error={"message": error.message, "errors": error.errors, "action": name},
        )
    label = _(action.label) if action else name
    add_toast(
        request,
        _("%(number)s: %(action)s — now %(state)s.", number=order.number, action=label, state=order.state.label),
    )
    return redirect(request, f"/orders/{order.id}")


# --- Failure report and notes -------------------------------------------------------------


@router.post("/orders/{order_id:int}/failure")
def record_failure(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, form: FormDep
) -> Response:
    order = get_order(session, order_id, for_update=True)
    values = text_values(form)
    data_in: dict[str, Any] = dict(values)
    errors: dict[str, str] = {}
    for name in DOWNTIME_FIELDS:
        try:
            data_in[name] = parse_local(values.get(name, ""))
        except ValueError:
            errors[name] = _("Enter a date and time.")
    data, form_errors = validate_form(FailureReportUpdate, {k: v for k, v in data_in.items() if v is not None})
    errors = form_errors | errors
    if data is not None and not errors:
        if data.version != order.version:
            return _conflict_page(request, session, order, _differences(session, order, data))
        try:
            service.record_failure(session, order, data, actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Failure report of %(number)s saved.", number=order.number))
            return redirect(request, f"/orders/{order.id}#failure")
    return order_page(request, session, user, order, status_code=422, failure_values=values, failure_errors=errors)


@router.post("/orders/{order_id:int}/notes")
def record_notes(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, form: FormDep
) -> Response:
    order = get_order(session, order_id, for_update=True)
    values = text_values(form)
    version = form_version(form)
    if version is None:
        raise ValidationFailed(_("Reload the page and try again."), [FieldError("version", _("missing"))])
    if version != order.version:
        return _conflict_page(request, session, order, None)
    try:
        service.record_notes(
            session,
            order,
            findings=values.get("findings", ""),
            completion_notes=values.get("completion_notes", ""),
            version=version,
            actor=user,
        )
    except ValidationFailed as error:
        errors = field_errors(error.errors) | {"__all__": error.message}
        return order_page(request, session, user, order, status_code=422, notes_values=values, notes_errors=errors)
    add_toast(request, _("Notes of %(number)s saved.", number=order.number))
    return redirect(request, f"/orders/{order.id}#notes")


# --- Cost lines ---------------------------------------------------------------------------


def _after_cost_change(request: Request, session: Session, user: User, order: WorkOrder) -> Response:
    if is_htmx(request):
        # The header (totals, approval buttons) goes along out of band: a request of its own
        # could run before this one's transaction is committed and show the old totals.
        costs = order_page(request, session, user, order, block="costs")
        header = order_page(request, session, user, order, block="header", oob=True)
        return HTMLResponse(bytes(costs.body) + bytes(header.body), headers={**COSTS_CHANGED, "Vary": "HX-Request"})
    return redirect(request, f"/orders/{order.id}#costs")


@router.post("/orders/{order_id:int}/costs")
def add_cost_line(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, form: FormDep
) -> Response:
    order = get_order(session, order_id, for_update=True)
    values = text_values(form)
    data, errors = validate_form(CostLineCreate, values)
    if data is not None:
        try:
            line = service.add_cost_line(session, order, data, actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Cost line “%(line)s” added.", line=line.description))
            return _after_cost_change(request, session, user, order)
    return order_page(
        request, session, user, order, block="costs", status_code=422, cost_values=values, cost_errors=errors
    )


@router.post("/orders/{order_id:int}/costs/{line_id:int}")
def update_cost_line(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, line_id: RecordId, form: FormDep
) -> Response:
    order = get_order(session, order_id, for_update=True)
    line = service.get_cost_line_or_raise(session, order, line_id)
    values = text_values(form)
    data, errors = validate_form(CostLineCreate, values)
    if data is not None:
        try:
            service.update_cost_line(session, order, line, data, actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Cost line “%(line)s” saved.", line=line.description))
            return _after_cost_change(request, session, user, order)
    return order_page(
        request,
        session,
        user,
        order,
        block="costs",
        status_code=422,
        editing_line_id=line.id,
        edit_values=values,
        edit_errors=errors,
    )


@router.post("/orders/{order_id:int}/costs/{line_id:int}/delete")
def delete_cost_line(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, line_id: RecordId
) -> Response:
    order = get_order(session, order_id, for_update=True)
    line = service.get_cost_line_or_raise(session, order, line_id)
    service.delete_cost_line(session, order, line, actor=user)
    add_toast(request, _("Cost line “%(line)s” deleted.", line=line.description))
    return _after_cost_change(request, session, user, order)


# --- Checklist ----------------------------------------------------------------------------


def _check_row(
    request: Request,
    session: Session,
    user: User,
    order: WorkOrder,
    item: ChecklistItem,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    if not is_htmx(request):
        if errors:
            return order_page(request, session, user, order, status_code=status_code, check_errors={item.id: errors})
        return redirect(request, f"/orders/{order.id}#check-{item.id}")
    raised = session.get(WorkOrder, item.raised_order_id) if item.raised_order_id else None
    may_write = can_write_in(session, user, order.workshop_id)
    return render(
        request,
        "orders/_check.html",
        {
            "order": order,
            "item": item,
            "raised_by_id": {raised.id: raised} if raised else {},
            "can_edit": may_write and order.state in rules.EDITABLE_STATES,
            "check_errors": {item.id: errors or {}},
            "check_values": {item.id: values} if values else {},
            "check_results": ChecklistResult,
        },
        block=None,
        status_code=status_code,
    )


@router.post("/orders/{order_id:int}/checks")
def add_check(request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, form: FormDep) -> Response:
    order = get_order(session, order_id, for_update=True)
    checks = service.parse_checklist_template(str(form.get("text", "")))
    if not checks:
        raise ValidationFailed(_("Describe the check."), [FieldError("text", _("This field is required."))])
    service.add_checks(session, order, checks, actor=user)
    add_toast(request, _("Check added."))
    if is_htmx(request):
        return order_page(request, session, user, order, block="checklist")
    return redirect(request, f"/orders/{order.id}#checklist")


@router.post("/orders/{order_id:int}/checks/{item_id:int}")
def record_check(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, item_id: RecordId, form: FormDep
) -> Response:
    order = get_order(session, order_id, for_update=True)
    item = service.get_check_or_raise(session, order, item_id)
    values = text_values(form)
    errors: dict[str, str] = {}
    try:
        result = ChecklistResult(values.get("result", ""))
    except ValueError:
        result = None
        errors["result"] = _("Choose OK or not OK.")
    value: Decimal | None = None
    raw_value = values.get("value", "").strip().replace(",", ".")
    if raw_value:
        try:
            value = Decimal(raw_value)
            if not value.is_finite():
                raise ArithmeticError
        except ArithmeticError:
            errors["value"] = _("Enter a number.")
    if result is not None and not errors:
        try:
            service.record_check(
                session, order, item, result=result, value=value, note=values.get("note", ""), actor=user
            )
        except ValidationFailed as error:
            errors = {"value": error.message}
        else:
            return _check_row(request, session, user, order, item)
    return _check_row(request, session, user, order, item, errors=errors, values=values, status_code=422)


@router.post("/orders/{order_id:int}/checks/{item_id:int}/raise")
def raise_from_check(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, item_id: RecordId
) -> Response:
    order = get_order(session, order_id, for_update=True)
    item = service.get_check_or_raise(session, order, item_id)
    raised = service.raise_order_from_check(session, order, item, actor=user)
    add_toast(request, _("Corrective order %(number)s raised.", number=raised.number))
    return _check_row(request, session, user, order, item)


# --- Attachments --------------------------------------------------------------------------


def _after_attachment_change(
    request: Request, session: Session, user: User, order: WorkOrder, *, error: str = "", status_code: int = 200
) -> Response:
    if is_htmx(request):
        return order_page(
            request, session, user, order, block="attachments", attachment_error=error, status_code=status_code
        )
    if error:
        add_toast(request, error, "danger")
    return redirect(request, f"/orders/{order.id}#attachments")


@router.post("/orders/{order_id:int}/attachments")
def upload_attachment(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, form: FormDep
) -> Response:
    order = get_order(session, order_id)
    uploads = [item for item in form.getlist("file") if isinstance(item, UploadFile) and item.filename]
    try:
        if not uploads:
            raise ValidationFailed(_("Choose a file to upload."))
        names = [
            attachments.attach_file(session, order, item.file, item.filename or "", actor=user).filename
            for item in uploads
        ]
    except MaintenanceError as error:
        if isinstance(error, PermissionDenied):
            raise
        return _after_attachment_change(
            request, session, user, order, error=error.message, status_code=error.status_code
        )
    add_toast(request, _("%(name)s attached to %(number)s.", name=", ".join(names), number=order.number))
    return _after_attachment_change(request, session, user, order)


@router.get("/orders/{order_id:int}/attachments/{attachment_id:int}")
def download_attachment(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    order_id: RecordId,
    attachment_id: RecordId,
    inline: bool = False,
) -> Response:
    order = get_order(session, order_id)
    attachment = attachments.get_attachment_or_raise(session, order, attachment_id)
    # Photos are shown in the page; everything else is downloaded. The type comes from our own
    # list of allowed files, never from the uploading browser.
    return stored_file_response(
        attachment.sha256,
        attachment.filename,
        attachment.content_type,
        inline=inline and attachments.is_image(attachment),
    )


@router.post("/orders/{order_id:int}/attachments/{attachment_id:int}/delete")
def delete_attachment(
    request: Request, session: SessionDep, user: WriterUser, order_id: RecordId, attachment_id: RecordId
) -> Response:
    order = get_order(session, order_id)
    attachment = attachments.get_attachment_or_raise(session, order, attachment_id)
    attachments.delete_attachment(session, order, attachment, actor=user)
    add_toast(request, _("%(name)s deleted.", name=attachment.filename))
    return _after_attachment_change(request, session, user, order)
