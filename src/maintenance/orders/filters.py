"""The work-order list's filters, parsed once from query parameters and used by the page, its
htmx fragment and the CSV/XLSX exports (a turnaround's scope export is
``/orders?turnaround_id=N&export=xlsx``).

Queues are the tabs engineers work from:

- ``open``: every order not yet completed, closed or cancelled;
- ``mine``: orders assigned to me or raised by me;
- ``my_workshops``: orders of the workshops I belong to;
- ``overdue``: open orders whose planned finish (or, without one, due date) is before today.

``mine`` and ``my_workshops`` show open orders unless a state is chosen explicitly, so a queue
is the work still to do while "my completed orders" stays one click away.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends
from pydantic import Field
from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlmodel import col

from maintenance.assets.models import Asset
from maintenance.db import plant_day_start, plant_today
from maintenance.orders.choices import OPEN_STATES, OrderState, OrderType
from maintenance.orders.models import Turnaround, WorkOrder
from maintenance.org.models import User, UserWorkshop, Workshop
from maintenance.web import ListFilters, RecordId, filters_from_query

Queue = Literal["open", "mine", "my_workshops", "overdue"]
QUEUES: tuple[Queue, ...] = ("open", "mine", "my_workshops", "overdue")
DEFAULT_SORT = "-created"


def asset_tag_of_order() -> Any:
    """The order's asset tag as a correlated subquery (sorting by asset needs no join)."""
    return select(col(Asset.tag)).where(col(Asset.id) == col(WorkOrder.asset_id)).correlate(WorkOrder).scalar_subquery()


def finish_by() -> Any:
    """When an order should be done: its planned finish, else its due date."""
    return func.coalesce(col(WorkOrder.planned_finish_date), col(WorkOrder.due_date))


def overdue_condition(today: date) -> ColumnElement[bool]:
    return col(WorkOrder.state).in_(OPEN_STATES) & (finish_by() < today)


def _day_start(day: date) -> datetime | None:
    """When ``day`` begins at the plant, in UTC; None for 1 January of year 1, which begins before
    year 1 in UTC (a range bound there leaves that end of the range open)."""
    try:
        return plant_day_start(day)
    except OverflowError:
        return None


def in_declared_order(column: Any, choice: Any) -> Any:
    """Sort a choice column in the order its members are declared (draft before approved …)."""
    return case({member.value: index for index, member in enumerate(choice)}, value=column, else_=len(choice))


# Sort keys users may ask for (``-`` prefix for descending) → column expressions.
SORTABLE: dict[str, Any] = {
    "number": lambda: col(WorkOrder.number),
    "type": lambda: in_declared_order(col(WorkOrder.order_type), OrderType),
    "state": lambda: in_declared_order(col(WorkOrder.state), OrderState),
    "priority": lambda: col(WorkOrder.priority),
    "asset": asset_tag_of_order,
    "planned_start": lambda: col(WorkOrder.planned_start_date),
    "due": finish_by,
    "cost": lambda: col(WorkOrder.actual_cost_cny),
    "created": lambda: col(WorkOrder.requested_at),
    "updated": lambda: col(WorkOrder.updated_at),
}


class OrderFilters(ListFilters):
    sort_keys = SORTABLE
    # A code given blank (the list's ``workshop_code=``, the API's ``workshop=`` of spaces) is a
    # code no record has: it matches nothing rather than every order.
    blank_kept = frozenset({"workshop_code", "asset_tag", "turnaround_code"})

    q: str | None = Field(default=None, max_length=100)
    queue: Queue | None = None
    order_type: OrderType | None = None
    state: OrderState | None = None
    workshop_id: RecordId | None = None
    asset_id: RecordId | None = None
    turnaround_id: RecordId | None = None
    date_from: date | None = None
    date_to: date | None = None
    # What the JSON API filters on besides: several types or states (any of them), records by
    # their codes, and changes since an instant (an ERP's incremental sync).
    order_types: list[OrderType] = Field(default_factory=list)
    states: list[OrderState] = Field(default_factory=list)
    workshop_code: str | None = None
    asset_tag: str | None = None
    turnaround_code: str | None = None
    updated_since: datetime | None = None
    sort: str = DEFAULT_SORT

    def conditions(self, user: User, today: date | None = None) -> list[ColumnElement[bool]]:
        today = today or plant_today()
        conditions: list[ColumnElement[bool]] = []
        if self.q:
            pattern = f"%{self.q}%"
            tagged = select(col(Asset.id)).where(col(Asset.tag).ilike(pattern)).correlate(None)
            conditions.append(
                or_(
                    col(WorkOrder.number).ilike(pattern),
                    col(WorkOrder.title).ilike(pattern),
                    col(WorkOrder.asset_id).in_(tagged),
                )
            )
        for name in ("order_type", "state", "workshop_id", "asset_id", "turnaround_id"):
            value = getattr(self, name)
            if value is not None:
                conditions.append(getattr(WorkOrder, name) == value)
        if self.order_types:
            conditions.append(col(WorkOrder.order_type).in_(self.order_types))
        if self.states:
            conditions.append(col(WorkOrder.state).in_(self.states))
        # Records named by their codes (the API's): a subquery, so an unknown code matches nothing.
        by_code = (
            (self.workshop_code, WorkOrder.workshop_id, Workshop.id, Workshop.code),
            (self.asset_tag, WorkOrder.asset_id, Asset.id, Asset.tag),
            (self.turnaround_code, WorkOrder.turnaround_id, Turnaround.id, Turnaround.code),
        )
        for code, reference, key, code_column in by_code:
            if code is not None:
                named = select(col(key)).where(col(code_column) == code).correlate(None)
                conditions.append(col(reference).in_(named))
        if self.date_from is not None and (start := _day_start(self.date_from)) is not None:
            conditions.append(col(WorkOrder.requested_at) >= start)
        if self.date_to is not None and self.date_to < date.max:  # the day after the last does not exist
            conditions.append(col(WorkOrder.requested_at) < plant_day_start(self.date_to + timedelta(days=1)))
        if self.updated_since is not None:
            conditions.append(col(WorkOrder.updated_at) >= self.updated_since)
        if self.queue == "open" or (self.queue in ("mine", "my_workshops") and self.state is None):
            conditions.append(col(WorkOrder.state).in_(OPEN_STATES))
        if self.queue == "mine":
            conditions.append(or_(col(WorkOrder.assignee_id) == user.id, col(WorkOrder.requested_by_id) == user.id))
        elif self.queue == "my_workshops":
            mine = select(col(UserWorkshop.workshop_id)).where(col(UserWorkshop.user_id) == user.id).correlate(None)
            conditions.append(col(WorkOrder.workshop_id).in_(mine))
        elif self.queue == "overdue":
            conditions.append(overdue_condition(today))
        return conditions

    def apply(self, stmt: Select[Any], user: User, today: date | None = None) -> Select[Any]:
        """Add these filters (``user`` is whose queue "mine" is) and the sort to a select over
        WorkOrder."""
        conditions = self.conditions(user, today)
        if conditions:
            stmt = stmt.where(*conditions)
        column = SORTABLE[self.sort.lstrip("-")]()
        # NULLs (no date, no plan) go last whichever way the list is sorted.
        ordering = column.desc().nulls_last() if self.sort.startswith("-") else column.asc().nulls_last()
        # The number breaks ties so pages are stable.
        return stmt.order_by(ordering, col(WorkOrder.number).desc())


OrderFiltersDep = Annotated[OrderFilters, Depends(filters_from_query(OrderFilters))]
