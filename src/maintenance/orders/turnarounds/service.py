"""Turnarounds (大修): the shutdown overhaul event whose scope is the orders tagged to it.

Its scope is the work orders whose ``turnaround_id`` names it (revamp tie-ins flagged with
``is_revamp_tie_in``); progress, costs and the Gantt rows are read from those orders in a fixed
number of queries whatever the size of the scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import plant_timezone, plant_today, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders import service as order_service
from maintenance.orders.choices import DONE_STATES, OrderState, OrderType
from maintenance.orders.models import (
    Turnaround,
    TurnaroundCreate,
    TurnaroundFields,
    TurnaroundUpdate,
    WorkOrder,
)
from maintenance.org.models import Site, Workshop

CENT = Decimal("0.01")


def list_turnarounds(session: Session) -> Sequence[Turnaround]:
    return session.scalars(select(Turnaround).order_by(col(Turnaround.start_date).desc())).all()


def get_turnaround_or_raise(session: Session, turnaround_id: int) -> Turnaround:
    turnaround = session.get(Turnaround, turnaround_id)
    if turnaround is None:
        raise NotFound(_("Turnaround %(id)s does not exist.", id=turnaround_id))
    return turnaround


def _errors(session: Session, data: TurnaroundFields, turnaround: Turnaround | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.end_date < data.start_date:
        errors.append(FieldError("end_date", _("The end cannot come before the start.")))
    clash = session.scalar(select(col(Turnaround.id)).where(col(Turnaround.code) == data.code))
    if clash is not None and (turnaround is None or clash != turnaround.id):
        errors.append(FieldError("code", _("Code %(code)s is taken.", code=data.code)))
    return errors


def create_turnaround(session: Session, data: TurnaroundCreate, *, actor: Actor) -> Turnaround:
    errors = _errors(session, data, None)
    if session.get(Site, data.site_id) is None:
        errors.append(FieldError("site_id", _("No such site.")))
    if errors:
        raise ValidationFailed(_("The turnaround was not saved."), errors)
    turnaround = Turnaround.model_validate(data)
    session.add(turnaround)
    session.flush()
    audit.record_create(session, actor, turnaround)
    return turnaround


def _stale() -> Conflict:
    return Conflict(
        _("Someone else changed this turnaround while you were editing it. Review and edit again."),
        [FieldError("version", _("stale"))],
    )


def update_turnaround(session: Session, turnaround: Turnaround, data: TurnaroundUpdate, *, actor: Actor) -> Turnaround:
    """Apply a full edit made from ``data.version``; a newer stored version is a conflict, here
    or (saved meanwhile by someone else) in the UPDATE."""
    if data.version != turnaround.version:
        raise _stale()
    errors = _errors(session, data, turnaround)
    if errors:
        raise ValidationFailed(_("The turnaround was not saved."), errors)
    before = audit.snapshot(turnaround)
    with versioned_write(session, turnaround, _stale):
        turnaround.sqlmodel_update(data.model_dump(exclude={"version"}))
        changed = audit.snapshot(turnaround) != before
        if changed:
            turnaround.version += 1
    if changed:
        audit.record_update(session, actor, turnaround, before)
    return turnaround


# --- Scope: which orders the turnaround holds ------------------------------------------------


def add_to_scope(
    session: Session,
    turnaround: Turnaround,
    order: WorkOrder,
    *,
    tie_in: bool,
    actor: Actor,
    version: int | None = None,
) -> WorkOrder:
    """Tag ``order`` to the turnaround (again: just sets its tie-in flag). An order belongs to
    one turnaround at a time, of its own site."""
    if order.turnaround_id not in (None, turnaround.id):
        other = session.get(Turnaround, order.turnaround_id)
        raise Conflict(
            _(
                "Order %(number)s is in the scope of turnaround %(code)s already. Remove it there first.",
                number=order.number,
                code=other.code if other else order.turnaround_id,
            )
        )
    workshop = session.get(Workshop, order.workshop_id)
    if workshop is not None and workshop.site_id != turnaround.site_id:
        raise ValidationFailed(
            _("The order was not added."),
            [FieldError("number", _("Order %(number)s belongs to another site.", number=order.number))],
        )
    return order_service.set_turnaround(session, order, turnaround.id, tie_in, actor=actor, version=version)


def remove_from_scope(
    session: Session, turnaround: Turnaround, order: WorkOrder, *, actor: Actor, version: int | None = None
) -> WorkOrder:
    if order.turnaround_id != turnaround.id:
        raise NotFound(
            _("Order %(number)s is not in the scope of turnaround %(code)s.", number=order.number, code=turnaround.code)
        )
    return order_service.set_turnaround(session, order, None, False, actor=actor, version=version)


# --- Scope summary: progress, tie-ins, cost vs budget ---------------------------------------


def _percent(part: Decimal | int, whole: Decimal | int) -> float | None:
    """``part`` ÷ ``whole`` in per cent (one decimal); None when there is no whole."""
    if not whole:
        return None
    return round(float(Decimal(part) * 100 / Decimal(whole)), 1)


def _money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


@dataclass(frozen=True)
class StateShare:
    """One segment of the progress bar."""

    state: OrderState
    count: int
    percent: float


@dataclass(frozen=True)
class WorkshopScope:
    workshop_id: int
    name: str
    orders: int
    done: int
    tie_ins: int
    planned_cny: Decimal
    actual_cny: Decimal

    @property
    def progress_pct(self) -> float | None:
        return _percent(self.done, self.orders)


@dataclass(frozen=True)
class ScopeSummary:
    """What the turnaround page shows in its tiles.

    The scope is the orders tagged to the turnaround except cancelled ones: progress is
    (completed + closed) ÷ scope, costs are the scope's planned and actual totals, and the budget
    use is actual ÷ budget.
    """

    budget_cny: Decimal
    by_state: dict[OrderState, int]
    scope: int
    done: int
    cancelled: int
    tie_ins: int
    tie_ins_done: int
    planned_cny: Decimal
    actual_cny: Decimal
    tie_in_planned_cny: Decimal
    tie_in_actual_cny: Decimal
    by_workshop: list[WorkshopScope] = field(default_factory=list)

    @property
    def progress_pct(self) -> float | None:
        return _percent(self.done, self.scope)

    @property
    def tie_in_progress_pct(self) -> float | None:
        return _percent(self.tie_ins_done, self.tie_ins)

    @property
    def remaining_cny(self) -> Decimal:
        return self.budget_cny - self.actual_cny

    @property
    def used_pct(self) -> float | None:
        """Actual cost ÷ budget."""
        return _percent(self.actual_cny, self.budget_cny)

    @property
    def planned_pct(self) -> float | None:
        """Planned cost ÷ budget: above 100 the plan itself overruns."""
        return _percent(self.planned_cny, self.budget_cny)

    @property
    def over_budget(self) -> bool:
        return self.actual_cny > self.budget_cny

    @property
    def state_shares(self) -> list[StateShare]:
        """The scope's states in workflow order (cancelled left out), for a stacked bar."""
        return [
            StateShare(state, self.by_state[state], _percent(self.by_state[state], self.scope) or 0.0)
            for state in OrderState
            if state != OrderState.CANCELLED and self.by_state.get(state)
        ]


def scope_summary(session: Session, turnaround: Turnaround) -> ScopeSummary:
    """Two aggregate queries whatever the size of the scope: by state (and tie-in), by workshop."""
    in_scope = col(WorkOrder.turnaround_id) == turnaround.id
    by_state: dict[OrderState, int] = {}
    done = cancelled = tie_ins = tie_ins_done = 0
    planned = actual = tie_planned = tie_actual = Decimal("0")
    rows = session.execute(
        select(
            col(WorkOrder.state),
            col(WorkOrder.is_revamp_tie_in),
            func.count(),
            func.coalesce(func.sum(col(WorkOrder.planned_cost_cny)), 0),
            func.coalesce(func.sum(col(WorkOrder.actual_cost_cny)), 0),
        )
        .where(in_scope)
        .group_by(col(WorkOrder.state), col(WorkOrder.is_revamp_tie_in))
    ).all()
    for state, tie_in, count, planned_sum, actual_sum in rows:
        by_state[state] = by_state.get(state, 0) + count
        if state == OrderState.CANCELLED:
            cancelled += count
            continue
        is_done = state in DONE_STATES
        done += count if is_done else 0
        planned += _money(planned_sum)
        actual += _money(actual_sum)
        if tie_in:
            tie_ins += count
            tie_ins_done += count if is_done else 0
            tie_planned += _money(planned_sum)
            tie_actual += _money(actual_sum)
    return ScopeSummary(
        budget_cny=turnaround.budget_cny,
        by_state=by_state,
        scope=sum(by_state.values()) - cancelled,
        done=done,
        cancelled=cancelled,
        tie_ins=tie_ins,
        tie_ins_done=tie_ins_done,
        planned_cny=planned,
        actual_cny=actual,
        tie_in_planned_cny=tie_planned,
        tie_in_actual_cny=tie_actual,
        by_workshop=_by_workshop(session, turnaround),
    )


def _by_workshop(session: Session, turnaround: Turnaround) -> list[WorkshopScope]:
    is_done = col(WorkOrder.state).in_(DONE_STATES)
    rows = session.execute(
        select(
            col(Workshop.id),
            col(Workshop.name),
            func.count(),
            func.count().filter(is_done),
            func.count().filter(col(WorkOrder.is_revamp_tie_in)),
            func.coalesce(func.sum(col(WorkOrder.planned_cost_cny)), 0),
            func.coalesce(func.sum(col(WorkOrder.actual_cost_cny)), 0),
        )
        .join(Workshop, col(Workshop.id) == col(WorkOrder.workshop_id))
        .where(col(WorkOrder.turnaround_id) == turnaround.id, col(WorkOrder.state) != OrderState.CANCELLED)
        .group_by(col(Workshop.id), col(Workshop.name))
        .order_by(col(Workshop.name))
    ).all()
    return [
        WorkshopScope(
            workshop_id=workshop_id,
            name=name,
            orders=orders,
            done=done,
            tie_ins=tie_ins,
            planned_cny=_money(planned),
            actual_cny=_money(actual),
        )
        for workshop_id, name, orders, done, tie_ins, planned, actual in rows
    ]


@dataclass(frozen=True)
class ScopeTotals:
    """One turnaround's line on the list page."""

    orders: int = 0
    done: int = 0
    tie_ins: int = 0
    planned_cny: Decimal = Decimal("0.00")
    actual_cny: Decimal = Decimal("0.00")

    @property
    def progress_pct(self) -> float | None:
        return _percent(self.done, self.orders)

    def used_pct(self, budget_cny: Decimal) -> float | None:
        return _percent(self.actual_cny, budget_cny)


def scope_totals(session: Session, turnaround_ids: Sequence[int]) -> dict[int, ScopeTotals]:
    """Scope size, progress and costs of several turnarounds in one query (cancelled excluded)."""
    if not turnaround_ids:
        return {}
    rows = session.execute(
        select(
            col(WorkOrder.turnaround_id),
            func.count(),
            func.count().filter(col(WorkOrder.state).in_(DONE_STATES)),
            func.count().filter(col(WorkOrder.is_revamp_tie_in)),
            func.coalesce(func.sum(col(WorkOrder.planned_cost_cny)), 0),
            func.coalesce(func.sum(col(WorkOrder.actual_cost_cny)), 0),
        )
        .where(col(WorkOrder.turnaround_id).in_(turnaround_ids), col(WorkOrder.state) != OrderState.CANCELLED)
        .group_by(col(WorkOrder.turnaround_id))
    ).all()
    return {
        turnaround_id: ScopeTotals(orders, done, tie_ins, _money(planned), _money(actual))
        for turnaround_id, orders, done, tie_ins, planned, actual in rows
    }


# --- Scope rows: the table and the Gantt chart ----------------------------------------------


@dataclass(frozen=True)
class ScopeRow:
    id: int
    number: str
    title: str
    order_type: OrderType
    state: OrderState
    is_revamp_tie_in: bool
    asset_id: int
    asset_tag: str
    workshop: str
    planned_start_date: date | None
    planned_finish_date: date | None
    actual_start_at: datetime | None
    actual_finish_at: datetime | None
    planned_cost_cny: Decimal
    actual_cost_cny: Decimal
    version: int


def scope_rows(session: Session, turnaround: Turnaround, *, include_cancelled: bool = True) -> list[ScopeRow]:
    """The scope's orders with their asset tag and workshop, in one query, ordered by planned
    start (orders without one at the turnaround's start), then number."""
    stmt = (
        select(
            col(WorkOrder.id),
            col(WorkOrder.number),
            col(WorkOrder.title),
            col(WorkOrder.order_type),
            col(WorkOrder.state),
            col(WorkOrder.is_revamp_tie_in),
            col(WorkOrder.asset_id),
            col(Asset.tag),
            col(Workshop.name),
            col(WorkOrder.planned_start_date),
            col(WorkOrder.planned_finish_date),
            col(WorkOrder.actual_start_at),
            col(WorkOrder.actual_finish_at),
            col(WorkOrder.planned_cost_cny),
            col(WorkOrder.actual_cost_cny),
            col(WorkOrder.version),
        )
        .join(Asset, col(Asset.id) == col(WorkOrder.asset_id))
        .join(Workshop, col(Workshop.id) == col(WorkOrder.workshop_id))
        .where(col(WorkOrder.turnaround_id) == turnaround.id)
        .order_by(
            func.coalesce(col(WorkOrder.planned_start_date), turnaround.start_date),
            col(WorkOrder.number),
        )
    )
    if not include_cancelled:
        stmt = stmt.where(col(WorkOrder.state) != OrderState.CANCELLED)
    return [ScopeRow(*row) for row in session.execute(stmt).all()]


def _local_date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(plant_timezone()).date()


def gantt_rows(
    session: Session, turnaround: Turnaround, rows: Sequence[ScopeRow] | None = None
) -> list[dict[str, Any]]:
    """One JSON-ready row per scope order (cancelled ones left out) for the Gantt chart.

    The planned bar runs from the order's planned start to its planned finish, each falling back
    to the turnaround's dates; the actual bar from the start of work to its finish, or to today
    while the work goes on (``actual_open``). Dates are ISO strings; a bar's finish day is
    included in it.
    """
    if rows is None:
        rows = scope_rows(session, turnaround, include_cancelled=False)
    today = plant_today()
    result = []
    for row in rows:
        if row.state == OrderState.CANCELLED:
            continue
        planned_start = row.planned_start_date or turnaround.start_date
        planned_finish = row.planned_finish_date or max(turnaround.end_date, planned_start)
        actual_start = _local_date(row.actual_start_at)
        actual_finish = _local_date(row.actual_finish_at)
        actual_open = False
        if actual_start is not None and actual_finish is None:
            actual_open, actual_finish = True, max(today, actual_start)
        result.append(
            {
                "id": row.id,
                "number": row.number,
                "title": row.title,
                "type": row.order_type.value,
                "type_label": row.order_type.label,
                "colour": row.order_type.colour,
                "state": row.state.value,
                "state_label": row.state.label,
                "tie_in": row.is_revamp_tie_in,
                "asset_tag": row.asset_tag,
                "workshop": row.workshop,
                "planned_start": planned_start.isoformat(),
                "planned_finish": planned_finish.isoformat(),
                "actual_start": actual_start.isoformat() if actual_start else None,
                "actual_finish": actual_finish.isoformat() if actual_finish else None,
                "actual_open": actual_open,
                "url": f"/orders/{row.id}",
            }
        )
    return result
