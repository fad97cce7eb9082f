"""Where notifications come from: each topic's items, read live from its domain as of ``now``, in
a fixed number of queries whatever the rows. Each item has a key that stays the same while the
thing lasts (the alert, the order, the inspection's due date, the workshop's month), so a read
mark stays with it.

"My workshops" are those the user writes in (:func:`permissions.writable_workshop_ids`): an
engineer's own, every workshop for managers and admins.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, exists, func, literal, or_, select
from sqlmodel import Session, col

from maintenance.budget.rules import Variance
from maintenance.budget.service import BudgetReport, budget_year, plan_cells
from maintenance.config import get_settings
from maintenance.db import plant_day_start, plant_timezone
from maintenance.i18n import format_date, format_wan_cny
from maintenance.i18n import gettext as _
from maintenance.monitoring.alerts import FINISHED_ORDER_STATES
from maintenance.monitoring.choices import AlertState
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint
from maintenance.orders.choices import OPEN_STATES, OrderState
from maintenance.orders.costs import CostCells, actual_costs
from maintenance.orders.models import WorkOrder
from maintenance.orders.periods import Period
from maintenance.org.models import User, Workshop
from maintenance.scorecard.notifications.choices import Topic
from maintenance.scorecard.notifications.models import NotificationRead
from maintenance.special import due
from maintenance.special import service as special_service
from maintenance.web import ListFilters

# Special equipment is announced this many days before its inspection falls due.
SPECIAL_DUE_DAYS = 30


@dataclass(frozen=True)
class Notification:
    key: str
    topic: Topic
    at: datetime  # when it became news: newest first
    title: str
    detail: str
    href: str
    read: bool = False


@dataclass(frozen=True)
class Unread:
    """A topic's unread items as the bell counts them: ``counted`` in SQL already (read marks
    anti-joined), plus ``keys`` whose read marks are still to be looked up (one query for all
    topics)."""

    counted: int = 0
    keys: frozenset[str] = frozenset()


Workshops = Collection[int] | None  # None: every workshop
Source = Callable[[Session, User, datetime, Workshops], list[Notification]]
Counter = Callable[[Session, User, datetime, Workshops], Unread]


def _key_of(topic: Topic, item_id: Any) -> ColumnElement[str]:
    """The key :func:`_order_item` and :func:`alarms` give, in SQL (``alarm:12``)."""
    return literal(f"{topic.value}:").concat(cast(item_id, String))


def _count_unread(session: Session, user: User, stmt: Select[*tuple[Any, ...]], key: ColumnElement[str]) -> Unread:
    """How many rows of ``stmt`` (selecting their ids) ``user`` has not marked read: one query."""
    read = exists().where(col(NotificationRead.user_id) == user.id, col(NotificationRead.key) == key)
    rows = stmt.where(~read).subquery()
    return Unread(counted=session.scalar(select(func.count()).select_from(rows)) or 0)


def _alarms_query(workshops: Workshops) -> Select[*tuple[Any, ...]]:
    stmt: Select[*tuple[Any, ...]] = (
        select(ConditionAlert, MeasurementPoint)
        .join(MeasurementPoint, col(MeasurementPoint.id) == col(ConditionAlert.point_id))
        .join(WorkOrder, col(WorkOrder.id) == col(ConditionAlert.order_id))
        .where(col(ConditionAlert.state) == AlertState.OPEN, col(WorkOrder.state).not_in(FINISHED_ORDER_STATES))
    )
    if workshops is not None:
        stmt = stmt.where(col(MeasurementPoint.workshop_id).in_(list(workshops)))
    return stmt


def alarms(session: Session, user: User, now: datetime, workshops: Workshops) -> list[Notification]:
    """Points of my workshops in alarm whose condition order is still open: one query."""
    return [
        Notification(
            key=f"alarm:{alert.id}",
            topic=Topic.ALARM,
            at=alert.opened_at,
            title=_("Point %(point)s: %(state)s", point=point.code, state=alert.trigger_state.label),
            detail=point.name,
            href=f"/monitoring/points/{point.id}",
        )
        for alert, point in session.execute(_alarms_query(workshops))
    ]


def count_alarms(session: Session, user: User, now: datetime, workshops: Workshops) -> Unread:
    stmt = _alarms_query(workshops).with_only_columns(col(ConditionAlert.id))
    return _count_unread(session, user, stmt, _key_of(Topic.ALARM, col(ConditionAlert.id)))


def _order_item(order: WorkOrder, topic: Topic, title: str, detail: str) -> Notification:
    return Notification(
        key=f"{topic.value}:{order.id}",
        topic=topic,
        at=order.requested_at,
        title=title,
        detail=detail,
        href=f"/orders/{order.id}",
    )


def assigned(session: Session, user: User, now: datetime, workshops: Workshops) -> list[Notification]:
    """Open orders assigned to me (``WorkOrder.assignee_id``): one query."""
    return [
        _order_item(order, Topic.ASSIGNED, f"{order.number} {order.title}", order.state.label)
        for order in session.scalars(_assigned_query(user))
    ]


def _assigned_query(user: User) -> Select[WorkOrder]:
    return select(WorkOrder).where(col(WorkOrder.assignee_id) == user.id, col(WorkOrder.state).in_(OPEN_STATES))


def count_assigned(session: Session, user: User, now: datetime, workshops: Workshops) -> Unread:
    stmt = _assigned_query(user).with_only_columns(col(WorkOrder.id))
    return _count_unread(session, user, stmt, _key_of(Topic.ASSIGNED, col(WorkOrder.id)))


def _awaiting_approval() -> tuple[ColumnElement[bool], ...]:
    return (
        col(WorkOrder.state) == OrderState.DRAFT,
        col(WorkOrder.planned_cost_cny) > get_settings().order_approval_threshold_cny,
    )


def awaiting_my_approval_query(user: User) -> Select[WorkOrder]:
    """Draft orders planned above the approval threshold (:func:`order_service.needs_manager_approval`)
    that ``user`` may approve: not their own requests when four eyes are required
    (:func:`order_service.is_own_request`, in SQL). Oldest first."""
    stmt = select(WorkOrder).where(*_awaiting_approval())
    if get_settings().order_four_eyes and user.id is not None:
        requester = col(WorkOrder.requested_by_id)
        stmt = stmt.where(or_(requester.is_(None), requester != user.id))
    return stmt.order_by(col(WorkOrder.requested_at), col(WorkOrder.id))


# The approval queue's orders: by how long they have waited (``-age``, the default: the oldest
# request first) or by planned cost; the id breaks ties. Each key's column, and whether its
# ascending order is the column's descending one (a short wait is a late request).
APPROVAL_SORTS: dict[str, tuple[Any, bool]] = {
    "age": (col(WorkOrder.requested_at), True),
    "cost": (col(WorkOrder.planned_cost_cny), False),
}


class ApprovalFilters(ListFilters):
    sort_keys = APPROVAL_SORTS

    sort: str = "-age"


def approval_queue(user: User, filters: ApprovalFilters) -> Select[WorkOrder]:
    """The orders awaiting ``user``'s approval in the order ``filters`` choose."""
    column, inverted = APPROVAL_SORTS[filters.sort.lstrip("-")]
    descending = filters.sort.startswith("-") != inverted
    order = (column.desc(), col(WorkOrder.id).desc()) if descending else (column.asc(), col(WorkOrder.id).asc())
    return awaiting_my_approval_query(user).order_by(None).order_by(*order)


def awaiting_my_approval(session: Session, user: User) -> list[WorkOrder]:
    """The orders awaiting a manager's approval that ``user`` may give: one query."""
    return list(session.scalars(awaiting_my_approval_query(user)))


def count_approvals(session: Session, user: User, now: datetime, workshops: Workshops) -> Unread:
    stmt = awaiting_my_approval_query(user).order_by(None).with_only_columns(col(WorkOrder.id))
    return _count_unread(session, user, stmt, _key_of(Topic.APPROVAL, col(WorkOrder.id)))


def approvals(session: Session, user: User, now: datetime, workshops: Workshops) -> list[Notification]:
    return [
        _order_item(
            order,
            Topic.APPROVAL,
            _("%(number)s awaits your approval", number=order.number),
            _("%(title)s · planned %(cost)s", title=order.title, cost=format_wan_cny(order.planned_cost_cny)),
        )
        for order in awaiting_my_approval(session, user)
    ]


def special_due(session: Session, user: User, now: datetime, workshops: Workshops) -> list[Notification]:
    """Special equipment of my workshops whose inspection falls due within 30 days, or already
    stands badly (overdue, application overdue, must not operate): the register's six queries."""
    return _special_due(session, now, workshops)


def count_special_due(session: Session, user: User, now: datetime, workshops: Workshops) -> Unread:
    """The due dates follow the inspection rules in Python, so the keys are made as for the list
    (the register's six queries, whatever the orders, readings or cost lines) and their read marks
    looked up with the other topics'."""
    return Unread(keys=frozenset(item.key for item in _special_due(session, now, workshops)))


def _special_due(session: Session, now: datetime, workshops: Workshops) -> list[Notification]:
    today = now.astimezone(plant_timezone()).date()
    items = special_service.register_items(session, today, workshop_ids=None if workshops is None else list(workshops))
    notifications = []
    for entry in due.due_entries(items, today, SPECIAL_DUE_DAYS):
        asset, inspection = entry.item.asset, entry.inspection
        due_date = inspection.due_date
        announced = today if due_date is None else min(today, due_date - timedelta(days=SPECIAL_DUE_DAYS))
        notifications.append(
            Notification(
                key=f"special:{asset.id}:{inspection.rule.type_id}:{due_date.isoformat() if due_date else 'none'}",
                topic=Topic.SPECIAL_DUE,
                at=plant_day_start(announced),
                title=f"{asset.tag} {inspection.rule.inspection_type.name}",
                detail=_(
                    "%(standing)s · due %(date)s",
                    standing=inspection.standing.label,
                    date=format_date(due_date) if due_date else "—",
                ),
                href=f"/special-equipment/{asset.id}",
            )
        )
    return notifications


def _over_plan(session: Session, today: date, workshops: Workshops) -> dict[int, Variance]:
    """The workshops (of ``workshops``) whose actual cost to date exceeds their plan to date this
    year, with the variance, as the budget report reckons it (:meth:`BudgetReport.variance`) but
    with only what that needs: the year, its plan and the actual cost to date (four grouped
    queries; none but the first without a budget)."""
    budget = budget_year(session, today.year)
    if budget is None:
        return {}
    months = Period.for_year(today.year).months()
    report = BudgetReport(
        year=today.year,
        as_of=today,
        budget=budget,
        baselines=[],
        workshops=[],
        plan=plan_cells(session, today.year, budget, workshops),
        actual=actual_costs(session, Period.for_year(today.year), workshops, as_of=today),
        committed=CostCells(months),
    )
    spent = {workshop_id for (workshop_id, _category, _month) in report.actual.cells}
    variances = {workshop_id: report.variance(workshop_id=workshop_id) for workshop_id in spent}
    return {workshop_id: variance for workshop_id, variance in variances.items() if variance.amount > Decimal(0)}


def _budget_key(workshop_id: int, today: date) -> str:
    return f"budget:{workshop_id}:{today.year}-{today.month:02d}"


def budget_over(session: Session, user: User, now: datetime, workshops: Workshops) -> list[Notification]:
    """Workshops of mine whose actual cost to date exceeds their plan to date this year (once a
    year has a budget): :func:`_over_plan` and the workshops' names. One notification per
    workshop and month."""
    today = now.astimezone(plant_timezone()).date()
    over = _over_plan(session, today, workshops)
    if not over:
        return []
    month_start = plant_day_start(date(today.year, today.month, 1))
    names = session.execute(select(col(Workshop.id), col(Workshop.name)).where(col(Workshop.id).in_(list(over))))
    return [
        Notification(
            key=_budget_key(workshop_id, today),
            topic=Topic.BUDGET_OVER,
            at=month_start,
            title=_("%(workshop)s: cost over plan", workshop=name),
            detail=_(
                "Actual %(actual)s against %(plan)s planned to date",
                actual=format_wan_cny(over[workshop_id].actual),
                plan=format_wan_cny(over[workshop_id].plan),
            ),
            href=f"/budget?year={today.year}",
        )
        for workshop_id, name in names
    ]


def count_budget_over(session: Session, user: User, now: datetime, workshops: Workshops) -> Unread:
    today = now.astimezone(plant_timezone()).date()
    over = _over_plan(session, today, workshops)
    return Unread(keys=frozenset(_budget_key(workshop_id, today) for workshop_id in over))


SOURCES: dict[Topic, Source] = {
    Topic.ALARM: alarms,
    Topic.ASSIGNED: assigned,
    Topic.APPROVAL: approvals,
    Topic.SPECIAL_DUE: special_due,
    Topic.BUDGET_OVER: budget_over,
}

# The bell's count of each topic's unread items: the same items as SOURCES, never built.
COUNTERS: dict[Topic, Counter] = {
    Topic.ALARM: count_alarms,
    Topic.ASSIGNED: count_assigned,
    Topic.APPROVAL: count_approvals,
    Topic.SPECIAL_DUE: count_special_due,
    Topic.BUDGET_OVER: count_budget_over,
}


def _ids(keys: Collection[str], topic: Topic) -> dict[int, str]:
    """The ids in the keys of ``topic``'s row items (``alarm:12``), each with its key."""
    ids = {}
    for key in keys:
        prefix, _sep, rest = key.partition(":")
        if prefix == topic.value and rest.isdigit():
            ids[int(rest)] = key
    return ids


def live_keys(session: Session, now: datetime, keys: Collection[str]) -> set[str]:
    """Which of ``keys`` still name something that is news for someone as of ``now``: the alert
    still open, the order still open or awaiting approval, the inspection still due on that date,
    the workshop still over plan this month. One query per topic found among the keys (the
    register's and the budget's for those two)."""
    live: set[str] = set()
    rows: dict[Topic, Callable[[list[int]], Select[*tuple[Any, ...]]]] = {
        Topic.ALARM: lambda ids: (
            _alarms_query(None).with_only_columns(col(ConditionAlert.id)).where(col(ConditionAlert.id).in_(ids))
        ),
        Topic.ASSIGNED: lambda ids: select(col(WorkOrder.id)).where(
            col(WorkOrder.state).in_(OPEN_STATES), col(WorkOrder.id).in_(ids)
        ),
        Topic.APPROVAL: lambda ids: select(col(WorkOrder.id)).where(*_awaiting_approval(), col(WorkOrder.id).in_(ids)),
    }
    for topic, query in rows.items():
        ids = _ids(keys, topic)
        if ids:
            live |= {ids[item_id] for item_id in session.scalars(query(list(ids)))}
    if any(key.startswith("special:") for key in keys):
        live |= {item.key for item in _special_due(session, now, None)} & set(keys)
    if any(key.startswith("budget:") for key in keys):
        today = now.astimezone(plant_timezone()).date()
        live |= {_budget_key(workshop_id, today) for workshop_id in _over_plan(session, today, None)} & set(keys)
    return live
