"""The PM scheduler: when each plan falls due, and the orders it raises ahead of time.

Due dates by basis (:class:`~maintenance.orders.choices.PlanBasis`):

- **fixed**: ``start_date + k × interval`` (k = 0, 1, 2, …) whatever happened to earlier orders.
  Months are calendar months counted from the start date and clamped to the month's end, so a
  plan starting on 31 January falls due on 28/29 February, 31 March, 30 April, …
- **floating**: ``last_done_date + interval`` (the completion of the last order restarts the
  clock), or ``start_date`` while the plan has never been done. One open order at a time: while
  an order of the plan is open (not completed, closed or cancelled) nothing new is raised. A due
  date that already has an order (a cancelled one, or one done early) is stepped over.
- **runtime**: hours run since the last completion = ``meter_hours − (last_done_meter_hours or
  0)``. The plan is due when that reaches ``interval_hours − lead hours``, where the lead in
  hours is ``lead_days × 24`` — a process plant runs round the clock, so that is the most the
  machine can run within the lead time — but never more than half the interval (a 7-day lead on
  a 100-hour plan would otherwise raise the next order the moment the last one is done). The
  order's ``plan_due_date`` is the plant date on which it was raised; one open order at a time.
  The meter is fed by :func:`record_runtime`, which the monitoring domain calls whenever a
  runtime-hours reading of the asset arrives (and the PM plan page calls for a reading typed in).

:func:`generate_orders` raises, for each active plan of an asset that is not retired, an order
for every due date within ``[today, today + horizon_days + plan.lead_days]`` (floating plans
also for an overdue date, since the work is still to do). Each order is type PM, titled after
the plan, ``due_date`` = ``plan_due_date`` = the due date, planned from ``max(today, due −
lead_days)`` to the due date, with the plan's estimated cost lines as planned lines and its
checklist template as checks. It is **approved** at once when its planned cost is within
``order_approval_threshold_cny`` (the approval is logged as a transition by the scheduler's
actor) and otherwise left as a **draft** for a manager to approve (检修项目审批).

Idempotency: ``work_order`` has a unique key ``(pm_plan_id, plan_due_date)``. Existing keys are
read first; each order is then inserted inside a SAVEPOINT, and a unique violation on that key
means another scheduler made the order meanwhile: the savepoint is rolled back and the date
skipped. Two schedulers running at once on PostgreSQL therefore never duplicate an order and
never fail (the order-number counter row serialises them; see ``service.next_order_number``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor, SystemActor
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders import service
from maintenance.orders.choices import OPEN_STATES, IntervalUnit, OrderState, OrderType, PlanBasis
from maintenance.orders.models import PmPlan, PmPlanCostLine, WorkOrder, WorkOrderCreate
from maintenance.org.permissions import Capability

HOURS_PER_DAY = 24
# Stepping over already-used floating dates: a safety bound, never reached in practice.
_MAX_STEPS = 1000
# They raise, cost and approve (within the approval limit) orders in every workshop; approving
# above the limit and closing are left to managers.
METER_ACTOR = SystemActor(username="system:runtime-meter", capabilities=frozenset({Capability.WRITE_EVERYWHERE}))
SCHEDULER_ACTOR = SystemActor(username="system:scheduler", capabilities=frozenset({Capability.WRITE_EVERYWHERE}))


# --- Calendar arithmetic ------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the end of a shorter month (31 January
    + 1 month is 28 or 29 February)."""
    moved: date = day + relativedelta(months=months)
    return moved


def shift(day: date, count: int, unit: IntervalUnit) -> date:
    """``day`` + ``count`` days, weeks or months."""
    if unit == IntervalUnit.MONTH:
        return add_months(day, count)
    if unit == IntervalUnit.WEEK:
        return day + timedelta(weeks=count)
    return day + timedelta(days=count)


def _approx_days(plan: PmPlan) -> float:
    return (
        plan.interval * {IntervalUnit.DAY: 1, IntervalUnit.WEEK: 7, IntervalUnit.MONTH: 30.436875}[plan.interval_unit]
    )


# --- Due dates ----------------------------------------------------------------------------


def fixed_due_dates(plan: PmPlan, first: date, last: date) -> list[date]:
    """The fixed schedule's due dates within ``[first, last]``."""
    if last < first or last < plan.start_date:
        return []
    # Start a step or two before the estimate; each date is computed from the start date
    # (never from the previous date), so month-end clamping does not drift.
    k = max(0, int((first - plan.start_date).days / _approx_days(plan)) - 2)
    dates: list[date] = []
    while True:
        due = shift(plan.start_date, k * plan.interval, plan.interval_unit)
        if due > last:
            return dates
        if due >= first:
            dates.append(due)
        k += 1


def floating_due_dates(plan: PmPlan) -> Iterator[date]:
    """Floating plan: the next due date, then the ones after it (if each were done on its date)."""
    base, k = (plan.last_done_date, 1) if plan.last_done_date is not None else (plan.start_date, 0)
    while True:
        yield shift(base, k * plan.interval, plan.interval_unit)
        k += 1


def runtime_hours_run(plan: PmPlan) -> Decimal | None:
    """Hours run since the last completion (None before the first meter reading)."""
    if plan.meter_hours is None:
        return None
    return max(Decimal("0"), plan.meter_hours - (plan.last_done_meter_hours or Decimal("0")))


def runtime_lead_hours(plan: PmPlan) -> Decimal:
    """How many hours before the interval runs out the order is raised (see the module doc)."""
    interval = Decimal(plan.interval_hours or 0)
    return min(Decimal(plan.lead_days * HOURS_PER_DAY), interval / 2)


def runtime_is_due(plan: PmPlan) -> bool:
    run = runtime_hours_run(plan)
    if run is None or plan.interval_hours is None:
        return False
    return run >= Decimal(plan.interval_hours) - runtime_lead_hours(plan)


def next_due_date(plan: PmPlan, today: date) -> date | None:
    """When the plan falls due next, from the plan's own fields (no queries): the first fixed
    date from ``today`` on, the floating date (possibly overdue), or None for runtime plans."""
    if plan.basis == PlanBasis.FIXED:
        dates = fixed_due_dates(plan, max(today, plan.start_date), _far_enough(plan, today))
        return dates[0] if dates else None
    if plan.basis == PlanBasis.FLOATING:
        return next(iter(floating_due_dates(plan)))
    return None


def upcoming_due_dates(plan: PmPlan, today: date, count: int = 5) -> list[date]:
    """The next ``count`` due dates of a calendar plan (floating: assuming each is done on time)."""
    if plan.basis == PlanBasis.FIXED:
        return fixed_due_dates(plan, max(today, plan.start_date), _far_enough(plan, today, count))[:count]
    if plan.basis == PlanBasis.FLOATING:
        dates = floating_due_dates(plan)
        return [next(dates) for _i in range(count)]
    return []


def _far_enough(plan: PmPlan, today: date, count: int = 1) -> date:
    """A date by which ``count`` fixed due dates from ``today`` have surely passed."""
    return max(today, plan.start_date) + timedelta(days=int(_approx_days(plan) * (count + 1)) + 31)


# --- Runtime meter ------------------------------------------------------------------------


def record_runtime(
    session: Session, asset_id: int, hours: Decimal, at: datetime, *, actor: Actor = METER_ACTOR
) -> list[PmPlan]:
    """A runtime-hours reading of ``asset_id``: move the meter of every runtime plan of the asset.

    The monitoring domain calls this whenever a reading of an asset's runtime-hours measurement
    point arrives; the PM plan page calls it for a reading typed in. A reading older than the
    one a plan already has is ignored (readings may arrive out of order). The meter is not an
    edit of the plan, so its ``version`` stays (nobody's open edit form goes stale); the change
    is in the change log all the same. Returns the plans whose meter moved.
    """
    if hours < 0:
        raise ValidationFailed(_("The meter reading was not saved."), [FieldError("hours", _("Must be at least 0."))])
    if at.tzinfo is None:
        raise ValueError("naive datetime given where UTC is required")
    plans = session.scalars(
        select(PmPlan)
        .where(col(PmPlan.asset_id) == asset_id, col(PmPlan.basis) == PlanBasis.RUNTIME)
        .order_by(col(PmPlan.id))
    ).all()
    reading = Decimal(hours).quantize(Decimal("0.1"))
    moved = []
    for plan in plans:
        if plan.meter_read_at is not None and at < plan.meter_read_at:
            continue
        if plan.meter_hours == reading and plan.meter_read_at == at:
            continue
        before = audit.snapshot(plan)
        plan.meter_hours, plan.meter_read_at = reading, at
        session.flush()
        audit.record_update(session, actor, plan, before)
        moved.append(plan)
    return moved


# --- Generating orders --------------------------------------------------------------------


@dataclass
class SchedulerReport:
    """What one pass did."""

    today: date
    horizon_days: int
    plans_checked: int = 0
    created: list[WorkOrder] = field(default_factory=list)
    skipped_existing: int = 0  # the (plan, due date) order exists already (made earlier or by another scheduler)
    skipped_open: int = 0  # floating/runtime plans still waiting for their open order

    @property
    def orders_created(self) -> int:
        return len(self.created)

    @property
    def awaiting_approval(self) -> int:
        return sum(1 for order in self.created if order.state == OrderState.DRAFT)


def _plans_to_check(session: Session, plan_ids: Sequence[int] | None) -> Sequence[PmPlan]:
    stmt = (
        select(PmPlan)
        .join(Asset, col(Asset.id) == col(PmPlan.asset_id))
        .where(col(PmPlan.is_active).is_(True), col(Asset.status) != AssetStatus.RETIRED)
        .order_by(col(PmPlan.id))
    )
    if plan_ids is not None:
        stmt = stmt.where(col(PmPlan.id).in_(list(plan_ids)))
    return session.scalars(stmt).all()


def _due_dates(
    plan: PmPlan, today: date, horizon_days: int, existing: set[date], has_open: bool, report: SchedulerReport
) -> list[date]:
    """The due dates of ``plan`` that need an order now (counting the ones skipped)."""
    last = today + timedelta(days=horizon_days + plan.lead_days)
    if plan.basis == PlanBasis.FIXED:
        wanted = fixed_due_dates(plan, today, last)
        report.skipped_existing += sum(1 for due in wanted if due in existing)
        return [due for due in wanted if due not in existing]
    if has_open:
        report.skipped_open += 1
        return []
    if plan.basis == PlanBasis.FLOATING:
        for steps, due in enumerate(floating_due_dates(plan)):
            if due not in existing or steps >= _MAX_STEPS:
                return [due] if due <= last else []
        return []  # pragma: no cover - the generator never ends
    if not runtime_is_due(plan):
        return []
    if today in existing:
        report.skipped_existing += 1
        return []
    return [today]


def generate_orders(
    session: Session,
    today: date,
    horizon_days: int,
    actor: Actor = SCHEDULER_ACTOR,
    *,
    plan_ids: Sequence[int] | None = None,
) -> SchedulerReport:
    """Raise every PM order falling due within the horizon (all plans, or ``plan_ids``).

    Safe to run any number of times and from several processes at once (module doc). Flushes,
    never commits: the caller's transaction keeps the orders it made.
    """
    report = SchedulerReport(today=today, horizon_days=horizon_days)
    plans = _plans_to_check(session, plan_ids)
    report.plans_checked = len(plans)
    if not plans:
        return report
    ids = [plan.id for plan in plans]
    # Orders already raised, per plan: their due dates, and which plans have one open. Only
    # dates from the earliest date any plan could want now are read (floating plans may be
    # overdue), so this stays small however long the history.
    earliest = min([today, *(next(iter(floating_due_dates(p))) for p in plans if p.basis == PlanBasis.FLOATING)])
    existing: dict[int, set[date]] = defaultdict(set)
    for plan_id, due in session.execute(
        select(col(WorkOrder.pm_plan_id), col(WorkOrder.plan_due_date)).where(
            col(WorkOrder.pm_plan_id).in_(ids), col(WorkOrder.plan_due_date) >= earliest
        )
    ):
        existing[plan_id].add(due)
    open_plans = set(
        session.scalars(
            select(col(WorkOrder.pm_plan_id))
            # Open orders block a new order of a floating or runtime plan.
            .where(col(WorkOrder.pm_plan_id).in_(ids), col(WorkOrder.state).in_(OPEN_STATES))
            .distinct()
        )
    )
    todo = [
        (plan, due)
        for plan in plans
        for due in _due_dates(plan, today, horizon_days, existing[plan.id], plan.id in open_plans, report)  # type: ignore[index]
    ]
    if not todo:
        return report
    lines: dict[int, list[PmPlanCostLine]] = defaultdict(list)
    for line in session.scalars(
        select(PmPlanCostLine)
        .where(col(PmPlanCostLine.plan_id).in_({plan.id for plan, _due in todo}))
        .order_by(col(PmPlanCostLine.id))
    ):
        lines[line.plan_id].append(line)
    for plan, due in todo:
        order = _create_once(session, plan, due, today, lines[plan.id], actor=actor)  # type: ignore[index]
        if order is None:
            report.skipped_existing += 1
        else:
            report.created.append(order)
    return report


def _create_once(
    session: Session, plan: PmPlan, due: date, today: date, lines: Sequence[PmPlanCostLine], *, actor: Actor
) -> WorkOrder | None:
    """Raise the order of (plan, due) in a savepoint; None if another scheduler made it first."""
    try:
        with session.begin_nested():
            return _raise_order(session, plan, due, today, lines, actor=actor)
    except IntegrityError:
        if _order_exists(session, plan, due):
            return None
        raise


def _order_exists(session: Session, plan: PmPlan, due: date) -> bool:
    return (
        session.scalar(
            select(col(WorkOrder.id)).where(col(WorkOrder.pm_plan_id) == plan.id, col(WorkOrder.plan_due_date) == due)
        )
        is not None
    )


def _raise_order(
    session: Session, plan: PmPlan, due: date, today: date, lines: Sequence[PmPlanCostLine], *, actor: Actor
) -> WorkOrder:
    start = min(due, max(today, due - timedelta(days=plan.lead_days)))
    order = service.create_order(
        session,
        WorkOrderCreate(
            order_type=OrderType.PM,
            asset_id=plan.asset_id,
            title=plan.title,
            description=_("Raised by PM plan %(title)s.", title=plan.title)[:4000],
            priority=plan.priority,
            provider=plan.provider,
            assignee_name=plan.assignee_name,
            due_date=due,
            planned_start_date=start,
            planned_finish_date=due,
        ),
        actor=actor,
        pm_plan=plan,
        plan_due_date=due,
    )
    service.copy_plan_cost_lines(session, order, lines, actor=actor)
    service.add_checks(session, order, service.parse_checklist_template(plan.checklist_template), actor=actor)
    if not service.needs_manager_approval(order):
        # The plan's standing approval. A manager pressing "generate" is the order's requester and
        # may not approve it himself (four eyes): the scheduler does, as on its own runs.
        approver = SCHEDULER_ACTOR if service.is_own_request(actor, order) else actor
        note = _("Approved by the PM scheduler: within the approval limit.")
        service.perform(session, order, "approve", actor=approver, note=note)
    return order
