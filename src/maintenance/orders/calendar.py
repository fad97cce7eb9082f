"""The work-order calendar: a week or a month of days (Monday first), each with the orders
placed on it, i.e. on their planned start date or, without one, their due date.

Cancelled orders are left off; an order with neither date has no place on a calendar.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from babel.dates import format_skeleton
from dateutil.relativedelta import relativedelta
from sqlalchemy import Select, func, select
from sqlmodel import col

from maintenance.i18n import current_locale
from maintenance.orders.choices import OrderState, OrderType
from maintenance.orders.models import WorkOrder

CalendarKind = Literal["week", "month"]


def placed_on() -> Any:
    """The day an order sits on in the calendar."""
    return func.coalesce(col(WorkOrder.planned_start_date), col(WorkOrder.due_date))


@dataclass
class CalendarGrid:
    view: CalendarKind
    anchor: date
    weeks: list[list[date]]
    previous: date
    next: date
    orders_by_day: dict[date, list[WorkOrder]] = field(default_factory=dict)

    @property
    def first_day(self) -> date:
        return self.weeks[0][0]

    @property
    def last_day(self) -> date:
        return self.weeks[-1][-1]

    def in_period(self, day: date) -> bool:
        """Month view: days of the neighbouring months fill the first and last week."""
        return self.view == "week" or day.month == self.anchor.month

    @property
    def title(self) -> str:
        locale = current_locale()
        if self.view == "month":
            return format_skeleton("yMMMM", self.anchor, locale=locale)
        start, end = self.first_day, self.last_day
        return f"{format_skeleton('yMMMd', start, locale=locale)} – {format_skeleton('yMMMd', end, locale=locale)}"

    def place(self, orders: Sequence[WorkOrder]) -> None:
        by_day: dict[date, list[WorkOrder]] = defaultdict(list)
        for order in orders:
            day = order.planned_start_date or order.due_date
            if day is not None:
                by_day[day].append(order)
        self.orders_by_day = dict(by_day)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def grid_for(view: CalendarKind, anchor: date) -> CalendarGrid:
    if view == "week":
        start = _monday(anchor)
        days = [start + timedelta(days=offset) for offset in range(7)]
        return CalendarGrid(view, anchor, [days], previous=start - timedelta(days=7), next=start + timedelta(days=7))
    first = anchor.replace(day=1)
    following = first + relativedelta(months=1)
    start = _monday(first)
    weeks: list[list[date]] = []
    while start < following:
        weeks.append([start + timedelta(days=offset) for offset in range(7)])
        start += timedelta(days=7)
    return CalendarGrid(view, first, weeks, previous=first - relativedelta(months=1), next=following)


def orders_between(
    first_day: date, last_day: date, *, workshop_id: int | None = None, order_type: OrderType | None = None
) -> Select[Any]:
    """Orders placed on a day of [first_day, last_day], in day and priority order."""
    day = placed_on()
    stmt = select(WorkOrder).where(day >= first_day, day <= last_day, col(WorkOrder.state) != OrderState.CANCELLED)
    if workshop_id is not None:
        stmt = stmt.where(col(WorkOrder.workshop_id) == workshop_id)
    if order_type is not None:
        stmt = stmt.where(col(WorkOrder.order_type) == order_type)
    return stmt.order_by(day, col(WorkOrder.priority), col(WorkOrder.number))
