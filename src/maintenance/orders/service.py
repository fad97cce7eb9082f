"""Work-order services: raise, edit, move through the state machine, cost, check and report
failures. They flush, never commit; every write is in the change log, every state change also
in ``order_transition``.

``actor`` is a user or a :class:`SystemActor` (the scheduler, the demo loader); what either may do
is checked here, through :mod:`maintenance.org.permissions`, so pages, API and CLI share the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.config import get_settings
from maintenance.db import plant_timezone, utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders import rules
from maintenance.orders.choices import ChecklistResult, CostKind, OrderState, OrderType, PlanBasis, Provider
from maintenance.orders.filters import OrderFilters
from maintenance.orders.models import (
    MAX_CNY,
    ChecklistItem,
    CostLine,
    CostLineCreate,
    FailureReport,
    FailureReportUpdate,
    OrderNumberCounter,
    OrderTransition,
    PmPlan,
    Turnaround,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderFields,
    WorkOrderUpdate,
)
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, require_write_in

CENT = Decimal("0.01")
NUMBER_FORMAT = "WO-{year}-{number:06d}"


# --- Who may do what ----------------------------------------------------------------------


def check_may_write(session: Session, actor: Actor, order: WorkOrder | None, workshop_id: int) -> None:
    require_write_in(session, actor, workshop_id)
    if order is not None and order.state not in rules.EDITABLE_STATES:
        raise Conflict(
            _(
                "Order %(number)s is %(state)s and can no longer be changed.",
                number=order.number,
                state=order.state.label,
            )
        )


def needs_manager_approval(order: WorkOrder) -> bool:
    return order.planned_cost_cny > get_settings().order_approval_threshold_cny


def is_own_request(actor: Actor, order: WorkOrder) -> bool:
    """Four eyes (``MAINTENANCE_ORDER_FOUR_EYES``): ``actor`` requested ``order`` and so may not
    approve it. An order raised by a system process (the PM scheduler, condition monitoring) has
    no requester, and a system process acting for nobody is nobody's requester."""
    return (
        get_settings().order_four_eyes
        and actor.id is not None
        and order.requested_by_id is not None
        and actor.id == order.requested_by_id
    )


# --- Reading ------------------------------------------------------------------------------


def get_order_or_raise(session: Session, order_id: int, *, for_update: bool = False) -> WorkOrder:
    stmt = select(WorkOrder).where(col(WorkOrder.id) == order_id)
    if for_update:
        stmt = stmt.with_for_update()
    order = session.scalar(stmt)
    if order is None:
        raise NotFound(_("Work order %(id)s does not exist.", id=order_id))
    return order


def get_order_by_number(session: Session, number: str) -> WorkOrder | None:
    return session.scalar(select(WorkOrder).where(col(WorkOrder.number) == number.strip().upper()))


def list_orders(filters: OrderFilters, user: User) -> Select[tuple[WorkOrder]]:
    """Orders matching ``filters`` in their order (``user`` is whose queue "mine" is): the one
    query of the list page, its fragment, its exports and the JSON API."""
    return filters.apply(select(WorkOrder), user)


def cost_lines_of(session: Session, order: WorkOrder) -> Sequence[CostLine]:
    return session.scalars(select(CostLine).where(col(CostLine.order_id) == order.id).order_by(col(CostLine.id))).all()


def checklist_of(session: Session, order: WorkOrder) -> Sequence[ChecklistItem]:
    return session.scalars(
        select(ChecklistItem).where(col(ChecklistItem.order_id) == order.id).order_by(col(ChecklistItem.position))
    ).all()


def transitions_of(session: Session, order: WorkOrder) -> Sequence[OrderTransition]:
    return session.scalars(
        select(OrderTransition).where(col(OrderTransition.order_id) == order.id).order_by(col(OrderTransition.id))
    ).all()


# --- Numbering ----------------------------------------------------------------------------


def next_order_number(session: Session, year: int) -> str:
    """The next readable number of ``year`` (WO-2026-000123).

    The year's counter row is created if missing (``INSERT … ON CONFLICT DO NOTHING``: of two
    first orders of a year raised at once, one inserts it, the other's insert waits for that
    transaction and then does nothing instead of failing on the primary key), then incremented
    in the database (``UPDATE … SET last_number = last_number + 1 RETURNING``), which locks the
    row until the transaction ends on PostgreSQL (SQLite transactions are exclusive already): two
    creators never draw the same number, and numbers are consecutive within committed work.
    """
    bumped = _bump_counter(session, year)
    if bumped is None:  # the year's first order
        insert = postgresql.insert if session.connection().dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert(OrderNumberCounter)
            .values(year=year, last_number=0)
            .on_conflict_do_nothing(index_elements=[col(OrderNumberCounter.year)])
        )
        bumped = _bump_counter(session, year)
    if bumped is None:  # pragma: no cover - the row was inserted or found just now
        raise RuntimeError(f"no order number counter for {year}")
    return NUMBER_FORMAT.format(year=year, number=bumped)


def _bump_counter(session: Session, year: int) -> int | None:
    return session.execute(
        update(OrderNumberCounter)
        .where(col(OrderNumberCounter.year) == year)
        .values(last_number=col(OrderNumberCounter.last_number) + 1)
        .returning(col(OrderNumberCounter.last_number))
        .execution_options(synchronize_session=False)
    ).scalar()


# --- Raising and editing ------------------------------------------------------------------


def _validate(session: Session, data: WorkOrderFields, order: WorkOrder | None) -> Asset:
    errors: list[FieldError] = []
    asset = session.get(Asset, data.asset_id)
    if asset is None:
        raise ValidationFailed(_("The work order was not saved."), [FieldError("asset_id", _("No such asset."))])
    if asset.status == AssetStatus.RETIRED and (order is None or order.asset_id != asset.id):
        errors.append(FieldError("asset_id", _("Asset %(tag)s is retired.", tag=asset.tag)))
    if data.planned_start_date and data.planned_finish_date and data.planned_finish_date < data.planned_start_date:
        errors.append(FieldError("planned_finish_date", _("The planned finish cannot come before the planned start.")))
    if data.turnaround_id is not None and session.get(Turnaround, data.turnaround_id) is None:
        errors.append(FieldError("turnaround_id", _("No such turnaround.")))
    if data.is_revamp_tie_in and data.turnaround_id is None:
        errors.append(FieldError("is_revamp_tie_in", _("A revamp tie-in belongs to a turnaround.")))
    if data.assignee_id is not None:
        assignee = session.get(User, data.assignee_id)
        if assignee is None or not assignee.is_active:
            errors.append(FieldError("assignee_id", _("Choose an active user.")))
    if errors:
        raise ValidationFailed(_("The work order was not saved."), errors)
    return asset


def create_order(
    session: Session,
    data: WorkOrderCreate,
    *,
    actor: Actor,
    at: datetime | None = None,
    pm_plan: PmPlan | None = None,
    plan_due_date: date | None = None,
    origin_order_id: int | None = None,
) -> WorkOrder:
    """Raise an order as a draft. ``at`` backdates it (demo history); the PM scheduler passes
    ``pm_plan`` and ``plan_due_date``, the order's natural key."""
    asset = _validate(session, data, None)
    check_may_write(session, actor, None, asset.workshop_id)
    now = at or utcnow()
    order = WorkOrder.model_validate(
        data,
        update={
            "number": next_order_number(session, now.astimezone(plant_timezone()).year),
            "workshop_id": asset.workshop_id,
            "requested_by_id": actor.id,
            "requested_at": now,
            "created_at": now,
            "updated_at": now,
            "pm_plan_id": pm_plan.id if pm_plan else None,
            "plan_due_date": plan_due_date,
            "origin_order_id": origin_order_id,
        },
    )
    session.add(order)
    session.flush()
    _log_transition(session, order, None, OrderState.DRAFT, actor=actor, at=now)
    audit.record_create(session, actor, order)
    return order


def _stale(order: WorkOrder) -> Conflict:
    return Conflict(
        _(
            "Someone else changed order %(number)s while you were editing it. Review their changes and edit again.",
            number=order.number,
        ),
        [FieldError("version", _("stale"))],
    )


def _save(session: Session, order: WorkOrder, changes: dict[str, Any], *, actor: Actor, at: datetime | None) -> None:
    """Every edit and move of an order: a new version, unless nothing changed; a conflict if the
    order was saved by someone else since this session loaded it (pages lock the row first)."""
    before = audit.snapshot(order)
    with versioned_write(session, order, lambda: _stale(order)):
        order.sqlmodel_update(changes)
        changed = audit.snapshot(order) != before
        if changed:
            order.version += 1
            order.updated_at = at or utcnow()
    if changed:
        audit.record_update(session, actor, order, before)


def update_order(session: Session, order: WorkOrder, data: WorkOrderUpdate, *, actor: Actor) -> WorkOrder:
    """Apply a full edit made from ``data.version``; a newer stored version is a conflict."""
    if data.version != order.version:
        raise _stale(order)
    check_may_write(session, actor, order, order.workshop_id)
    asset = _validate(session, data, order)
    check_may_write(session, actor, order, asset.workshop_id)
    _save(
        session, order, data.model_dump(exclude={"version"}) | {"workshop_id": asset.workshop_id}, actor=actor, at=None
    )
    return order


def set_turnaround(
    session: Session,
    order: WorkOrder,
    turnaround_id: int | None,
    tie_in: bool,
    *,
    actor: Actor,
    version: int | None = None,
) -> WorkOrder:
    """Tag an order to a turnaround's scope (``turnaround_id=None`` takes it out), as a revamp
    tie-in or not. Versioned and in the change log like any edit of the order."""
    if version is not None and version != order.version:
        raise _stale(order)
    check_may_write(session, actor, order, order.workshop_id)
    if turnaround_id is not None and session.get(Turnaround, turnaround_id) is None:
        raise ValidationFailed(
            _("The work order was not saved."), [FieldError("turnaround_id", _("No such turnaround."))]
        )
    changes = {"turnaround_id": turnaround_id, "is_revamp_tie_in": tie_in and turnaround_id is not None}
    _save(session, order, changes, actor=actor, at=None)
    return order


def record_failure(session: Session, order: WorkOrder, data: FailureReportUpdate, *, actor: Actor) -> WorkOrder:
    if data.version != order.version:
        raise _stale(order)
    check_may_write(session, actor, order, order.workshop_id)
    errors = _failure_errors(data)
    if errors:
        raise ValidationFailed(_("The failure report was not saved."), errors)
    _save(session, order, data.model_dump(exclude={"version"}), actor=actor, at=None)
    return order


def record_notes(
    session: Session, order: WorkOrder, *, findings: str, completion_notes: str, version: int, actor: Actor
) -> WorkOrder:
    """What was found and what was done (the sign-off text), made from ``version``."""
    if version != order.version:
        raise _stale(order)
    check_may_write(session, actor, order, order.workshop_id)
    errors = [
        FieldError(name, _("Enter at most %(n)s characters.", n=4000))
        for name, text in (("findings", findings), ("completion_notes", completion_notes))
        if len(text.strip()) > 4000
    ]
    if errors:
        raise ValidationFailed(_("The notes were not saved."), errors)
    _save(
        session,
        order,
        {"findings": findings.strip(), "completion_notes": completion_notes.strip()},
        actor=actor,
        at=None,
    )
    return order


def _failure_errors(report: FailureReport) -> list[FieldError]:
    errors: list[FieldError] = []
    start, end = report.downtime_start_at, report.downtime_end_at
    if end is not None and start is None:
        errors.append(FieldError("downtime_start_at", _("Enter when the downtime started.")))
    if start is not None and end is not None and end < start:
        errors.append(FieldError("downtime_end_at", _("The downtime cannot end before it starts.")))
    if start is not None and start > utcnow():
        errors.append(FieldError("downtime_start_at", _("The time cannot be in the future.")))
    return errors


# --- The state machine --------------------------------------------------------------------


def _log_transition(
    session: Session,
    order: WorkOrder,
    from_state: OrderState | None,
    to_state: OrderState,
    *,
    actor: Actor,
    at: datetime,
    note: str = "",
) -> None:
    session.add(
        OrderTransition(
            order_id=order.id,  # type: ignore[arg-type]
            from_state=from_state,
            to_state=to_state,
            at=at,
            actor_id=actor.id,
            actor_name=actor.username,
            note=note,
        )
    )


def perform(
    session: Session,
    order: WorkOrder,
    action_name: str,
    *,
    actor: Actor,
    note: str = "",
    version: int | None = None,
    at: datetime | None = None,
) -> WorkOrder:
    """Carry out one action (a button on the order page) if the state machine allows it here."""
    action = rules.ACTION_BY_NAME.get(action_name)
    if action is None or action not in rules.actions_from(order.state):
        raise Conflict(
            _(
                "Order %(number)s is %(state)s: it cannot be moved that way.",
                number=order.number,
                state=order.state.label,
            )
        )
    if version is not None and version != order.version:
        raise _stale(order)
    require_write_in(session, actor, order.workshop_id)
    note = note.strip()
    if action.needs_note and not note:
        raise ValidationFailed(_("Give a reason."), [FieldError("note", _("This field is required."))])
    now = at or utcnow()
    changes = _checks_and_changes(session, order, action, actor=actor, at=now)
    previous = order.state
    _save(session, order, changes | {"state": action.target}, actor=actor, at=now)
    _log_transition(session, order, previous, action.target, actor=actor, at=now, note=note)
    if action is rules.COMPLETE and order.pm_plan_id is not None:
        _plan_done(session, order, now, actor=actor)
    return order


def _checks_and_changes(
    session: Session, order: WorkOrder, action: rules.Action, *, actor: Actor, at: datetime
) -> dict[str, Any]:
    """What must hold before ``action``, and the fields it sets besides the state."""
    if action is rules.APPROVE:
        if is_own_request(actor, order):
            raise PermissionDenied(
                _(
                    "You requested order %(number)s: it must be approved by someone other than the requester "
                    "(another engineer of the workshop or a manager).",
                    number=order.number,
                )
            )
        if needs_manager_approval(order) and not can(actor, Capability.APPROVE):
            raise PermissionDenied(
                _(
                    "Orders planned above %(limit)s need a manager's approval.",
                    limit=f"{get_settings().order_approval_threshold_cny:,.0f} 元",
                )
            )
        return {"approved_by_id": actor.id, "approved_at": at}
    if action in (rules.SCHEDULE, rules.RESUME_SCHEDULED) and order.planned_start_date is None:
        raise ValidationFailed(
            _("Set a planned start date before scheduling."),
            [FieldError("planned_start_date", _("This field is required."))],
        )
    if action in (rules.START, rules.RESUME_WORK):
        # An order held before it was started may resume straight into work: it starts then.
        return {"actual_start_at": order.actual_start_at or at}
    if action is rules.COMPLETE:
        _check_complete(session, order)
        return {"actual_finish_at": at, "signed_off_by_id": actor.id, "signed_off_at": at}
    if action is rules.REOPEN:
        return {"actual_finish_at": None, "signed_off_by_id": None, "signed_off_at": None}
    if action is rules.CLOSE and not can(actor, Capability.APPROVE):
        raise PermissionDenied(_("Only a manager closes orders (their costs are then final)."))
    return {}


def _check_complete(session: Session, order: WorkOrder) -> None:
    errors: list[FieldError] = []
    if order.order_type == OrderType.CM and order.failure_mode is None:
        errors.append(FieldError("failure_mode", _("A corrective order needs a failure mode before completion.")))
    if order.downtime_start_at is not None and order.downtime_end_at is None:
        errors.append(FieldError("downtime_end_at", _("Enter when the downtime ended.")))
    unanswered = session.scalar(
        select(func.count())
        .select_from(ChecklistItem)
        .where(col(ChecklistItem.order_id) == order.id, col(ChecklistItem.result).is_(None))
    )
    if unanswered:
        errors.append(FieldError("checklist", _("%(n)s checks have no result yet.", n=unanswered)))
    if errors:
        raise ValidationFailed(_("Order %(number)s cannot be completed yet.", number=order.number), errors)


def _plan_done(session: Session, order: WorkOrder, at: datetime, *, actor: Actor) -> None:
    """A completed PM order restarts its plan's clock (floating and runtime plans)."""
    plan = session.get(PmPlan, order.pm_plan_id)
    if plan is None:
        return
    changes: dict[str, Any] = {}
    if plan.basis == PlanBasis.FLOATING:
        changes["last_done_date"] = at.astimezone(plant_timezone()).date()
    elif plan.basis == PlanBasis.RUNTIME:
        changes["last_done_meter_hours"] = plan.meter_hours
    if changes:
        before = audit.snapshot(plan)
        plan.sqlmodel_update(changes)
        plan.version += 1
        session.flush()
        audit.record_update(session, actor, plan, before)


# --- Cost lines ---------------------------------------------------------------------------


def _amounts(line: CostLine) -> None:
    """Planned, actual and saved amounts of a line, rounded to the fen."""
    line.planned_cny = (line.planned_quantity * line.planned_unit_price_cny).quantize(CENT)
    line.actual_cny = (line.quantity * line.unit_price_cny).quantize(CENT)
    saving = Decimal("0")
    if line.kind in (CostKind.REFURBISHED, CostKind.LOCALISED) and line.reference_price_cny is not None:
        saving = (line.reference_price_cny - line.unit_price_cny) * line.quantity
    line.saving_cny = saving.quantize(CENT)


def _line_errors(data: CostLineCreate) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.kind == CostKind.MATERIAL:
        used = data.used_quantity or Decimal("0")
        if used + data.returned_quantity > data.quantity:
            errors.append(
                FieldError("used_quantity", _("Used and returned together cannot exceed the quantity issued."))
            )
    if data.kind in (CostKind.REFURBISHED, CostKind.LOCALISED) and data.reference_price_cny is None:
        errors.append(FieldError("reference_price_cny", _("Enter the price of the new or imported part.")))
    if data.planned_quantity == 0 and data.quantity == 0:
        errors.append(FieldError("quantity", _("Enter a planned or an actual quantity.")))
    reference = data.reference_price_cny or Decimal("0")
    amounts = (
        data.planned_quantity * data.planned_unit_price_cny,
        data.quantity * data.unit_price_cny,
        (reference - data.unit_price_cny) * data.quantity,
    )
    if any(abs(amount) > MAX_CNY for amount in amounts):
        errors.append(FieldError("quantity", _("Quantity × price is too large an amount: check both.")))
    return errors


def refresh_totals(session: Session, order: WorkOrder) -> None:
    """Keep the order's planned/actual totals and labour hours equal to the sum of its lines."""
    planned, actual, hours = session.execute(
        select(
            func.coalesce(func.sum(col(CostLine.planned_cny)), 0),
            func.coalesce(func.sum(col(CostLine.actual_cny)), 0),
            func.coalesce(
                func.sum(col(CostLine.quantity)).filter(col(CostLine.kind) == CostKind.LABOUR),
                0,
            ),
        ).where(col(CostLine.order_id) == order.id)
    ).one()
    totals = (Decimal(planned).quantize(CENT), Decimal(actual).quantize(CENT), Decimal(hours))
    if totals != (order.planned_cost_cny, order.actual_cost_cny, order.labour_hours):
        order.planned_cost_cny, order.actual_cost_cny, order.labour_hours = totals
        order.updated_at = utcnow()  # the API's updated_since must see cost changes
    session.flush()


def add_cost_line(
    session: Session, order: WorkOrder, data: CostLineCreate, *, actor: Actor, at: datetime | None = None
) -> CostLine:
    """Add a line; ``at`` backdates it (demo history), as on :func:`create_order`."""
    check_may_write(session, actor, order, order.workshop_id)
    errors = _line_errors(data)
    if errors:
        raise ValidationFailed(_("The cost line was not saved."), errors)
    line = CostLine.model_validate(data, update={"order_id": order.id, "created_at": at or utcnow()})
    _amounts(line)
    session.add(line)
    session.flush()
    audit.record_create(session, actor, line)
    refresh_totals(session, order)
    return line


def add_cost_lines(
    session: Session, order: WorkOrder, lines: Sequence[CostLineCreate], *, actor: Actor, at: datetime | None = None
) -> list[CostLine]:
    """Add several lines at once (a plan's estimate, the demo history): all or none, each in the
    change log, the order's totals refreshed once. ``row`` of an error is the line's 1-based position."""
    check_may_write(session, actor, order, order.workshop_id)
    errors = [
        FieldError(error.field, error.message, row=row)
        for row, data in enumerate(lines, start=1)
        for error in _line_errors(data)
    ]
    if errors:
        raise ValidationFailed(_("The cost line was not saved."), errors)
    created = [
        CostLine.model_validate(data, update={"order_id": order.id, "created_at": at or utcnow()}) for data in lines
    ]
    for line in created:
        _amounts(line)
    session.add_all(created)
    session.flush()
    for line in created:
        audit.record_create(session, actor, line)
    refresh_totals(session, order)
    return created


def update_cost_line(
    session: Session, order: WorkOrder, line: CostLine, data: CostLineCreate, *, actor: Actor
) -> CostLine:
    """Record what was issued, used and returned (or correct the line)."""
    check_may_write(session, actor, order, order.workshop_id)
    errors = _line_errors(data)
    if errors:
        raise ValidationFailed(_("The cost line was not saved."), errors)
    before = audit.snapshot(line)
    line.sqlmodel_update(data.model_dump())
    _amounts(line)
    session.flush()
    audit.record_update(session, actor, line, before)
    refresh_totals(session, order)
    return line


def get_cost_line_or_raise(session: Session, order: WorkOrder, line_id: int) -> CostLine:
    line = session.get(CostLine, line_id)
    if line is None or line.order_id != order.id:
        raise NotFound(_("No such cost line on this order."))
    return line


def delete_cost_line(session: Session, order: WorkOrder, line: CostLine, *, actor: Actor) -> None:
    check_may_write(session, actor, order, order.workshop_id)
    audit.record_delete(session, actor, line)
    session.delete(line)
    session.flush()
    refresh_totals(session, order)


def copy_plan_cost_lines(session: Session, order: WorkOrder, lines: Sequence[Any], *, actor: Actor) -> None:
    """Estimated lines of a PM plan become the order's planned lines."""
    for estimate in lines:
        quantity = estimate.quantity
        add_cost_line(
            session,
            order,
            CostLineCreate(
                kind=estimate.kind,
                description=estimate.description,
                item_code=estimate.item_code,
                uom=estimate.uom,
                provider=estimate.provider,
                planned_quantity=quantity,
                planned_unit_price_cny=estimate.unit_price_cny,
            ),
            actor=actor,
        )


# --- Checklist ----------------------------------------------------------------------------


def parse_checklist_template(template: str) -> list[tuple[str, str]]:
    """One check per line: ``text`` (OK / not OK) or ``text | unit`` (records a value too)."""
    checks = []
    for line in template.splitlines():
        text, _sep, unit = line.partition("|")
        if text.strip():
            checks.append((text.strip()[:200], unit.strip()[:20]))
    return checks


def add_checks(session: Session, order: WorkOrder, checks: Sequence[tuple[str, str]], *, actor: Actor) -> None:
    check_may_write(session, actor, order, order.workshop_id)
    start = session.scalar(
        select(func.coalesce(func.max(col(ChecklistItem.position)), 0)).where(col(ChecklistItem.order_id) == order.id)
    )
    for offset, (text, unit) in enumerate(checks, start=1):
        item = ChecklistItem(order_id=order.id, position=(start or 0) + offset, text=text, value_unit=unit)  # type: ignore[arg-type]
        session.add(item)
        session.flush()
        audit.record_create(session, actor, item)


def get_check_or_raise(session: Session, order: WorkOrder, item_id: int) -> ChecklistItem:
    item = session.get(ChecklistItem, item_id)
    if item is None or item.order_id != order.id:
        raise NotFound(_("No such check on this order."))
    return item


def record_check(
    session: Session,
    order: WorkOrder,
    item: ChecklistItem,
    *,
    result: ChecklistResult,
    value: Decimal | None,
    note: str,
    actor: Actor,
) -> ChecklistItem:
    check_may_write(session, actor, order, order.workshop_id)
    if item.value_unit and value is None and result == ChecklistResult.OK:
        raise ValidationFailed(
            _("Enter the measured value."), [FieldError(f"value_{item.id}", _("This field is required."))]
        )
    before = audit.snapshot(item)
    item.result, item.value, item.note = result, value, note.strip()[:500]
    session.flush()
    audit.record_update(session, actor, item, before)
    return item


def raise_order_from_check(
    session: Session, order: WorkOrder, item: ChecklistItem, *, actor: Actor, at: datetime | None = None
) -> WorkOrder:
    """A failed check becomes a corrective order on the same asset, linked to its origin.
    ``at`` backdates it (demo history)."""
    if item.result != ChecklistResult.NOT_OK:
        raise Conflict(_("Only a check marked not OK raises a corrective order."))
    if item.raised_order_id is not None:
        raise Conflict(_("This check has raised an order already."))
    raised = create_order(
        session,
        WorkOrderCreate(
            order_type=OrderType.CM,
            asset_id=order.asset_id,
            title=_("%(check)s: not OK (found on %(number)s)", check=item.text, number=order.number)[:200],
            description=item.note,
            provider=Provider.IN_HOUSE,
        ),
        actor=actor,
        at=at,
        origin_order_id=order.id,
    )
    before = audit.snapshot(item)
    item.raised_order_id = raised.id
    session.flush()
    audit.record_update(session, actor, item, before)
    return raised
