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

from sqlalchemy import Select, select
from sqlmodel import Session, col

from maintenance.budget.service import budget_report
from maintenance.config import get_settings
from maintenance.db import plant_day_start, plant_timezone
from maintenance.i18n import format_date, format_wan_cny
from maintenance.i18n import gettext as _
from maintenance.monitoring.alerts import FINISHED_ORDER_STATES
from maintenance.monitoring.choices import AlertState
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint
from maintenance.orders import service as order_service
from maintenance.orders.choices import OPEN_STATES, OrderState
from maintenance.orders.models import WorkOrder
from maintenance.org.models import User
from maintenance.scorecard.notifications.choices import Topic
from maintenance.special import due
from maintenance.special import service as special_service

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


Workshops = Collection[int] | None  # None: every workshop
Source = Callable[[Session, User, datetime, Workshops], list[Notification]]


def alarms(session: Session, user: User, now: datetime, workshops: Workshops) -> list[Notification]:
    """Points of my workshops in alarm whose condition order is still open: one query."""
    stmt = (
        select(ConditionAlert, MeasurementPoint)
        .join(MeasurementPoint, col(MeasurementPoint.id) == col(ConditionAlert.point_id))
        .join(WorkOrder, col(WorkOrder.id) == col(ConditionAlert.order_id))
        .where(col(ConditionAlert.state) == AlertState.OPEN, col(WorkOrder.state).not_in(FINISHED_ORDER_STATES))
    )
    if workshops is not None:
        stmt = stmt.where(col(MeasurementPoint.workshop_id).in_(list(workshops)))
    return [
        Notification(
            key=f"alarm:{alert.id}",
            topic=Topic.ALARM,
            at=alert.opened_at,
            title=_("Point %(point)s: %(state)s", point=point.code, state=alert.trigger_state.label),
            detail=point.name,
            href=f"/monitoring/points/{point.id}",
        )
        for alert, point in session.execute(stmt)
    ]


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
    stmt = select(WorkOrder).where(col(WorkOrder.assignee_id) == user.id, col(WorkOrder.state).in_(OPEN_STATES))
    return [
        _order_item(order, Topic.ASSIGNED, f"{order.number} {order.title}", order.state.label)
        for order in session.scalars(stmt)
    ]


def awaiting_approval_query() -> Select[WorkOrder]:
    """Draft orders planned above the approval threshold (:func:`order_service.needs_manager_approval`),
    oldest first: they wait for a manager."""
    return (
        select(WorkOrder)
        .where(
            col(WorkOrder.state) == OrderState.DRAFT,
            col(WorkOrder.planned_cost_cny) > get_settings().order_approval_threshold_cny,
        )
        .order_by(col(WorkOrder.requested_at), col(WorkOrder.id))
    )


def awaiting_my_approval(session: Session, user: User) -> list[WorkOrder]:
    """The orders awaiting a manager's approval that ``user`` may give (not their own requests when
    four eyes are required): one query."""
    return [
        order for order in session.scalars(awaiting_approval_query()) if not order_service.is_own_request(user, order)
    ]


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


def budget_over(session: Session, user: User, now: datetime, workshops: Workshops) -> list[Notification]:
    """Workshops of mine whose actual cost to date exceeds their plan to date this year (once a
    year has a budget): the budget report's seven queries. One notification per workshop and month."""
    today = now.astimezone(plant_timezone()).date()
    report = budget_report(session, today.year, today, workshop_ids=workshops)
    if report.budget is None:
        return []
    month_start = plant_day_start(date(today.year, today.month, 1))
    notifications = []
    for workshop in report.workshops:
        variance = report.variance(workshop_id=workshop.id)
        if variance.amount > Decimal(0):
            notifications.append(
                Notification(
                    key=f"budget:{workshop.id}:{today.year}-{today.month:02d}",
                    topic=Topic.BUDGET_OVER,
                    at=month_start,
                    title=_("%(workshop)s: cost over plan", workshop=workshop.name),
                    detail=_(
                        "Actual %(actual)s against %(plan)s planned to date",
                        actual=format_wan_cny(variance.actual),
                        plan=format_wan_cny(variance.plan),
                    ),
                    href=f"/budget?year={today.year}",
                )
            )
    return notifications


SOURCES: dict[Topic, Source] = {
    Topic.ALARM: alarms,
    Topic.ASSIGNED: assigned,
    Topic.APPROVAL: approvals,
    Topic.SPECIAL_DUE: special_due,
    Topic.BUDGET_OVER: budget_over,
}
