"""Work-order lists: the list (page, htmx fragment and CSV/XLSX export from one view), the
week/month calendar, and the orders tab of an asset page (the asset domain pulls it in with
htmx; it never imports orders).

Every view runs a fixed number of queries whatever the number of orders: assets, users,
workshops and turnarounds of the rows shown are loaded in one query each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.db import SessionDep, plant_today
from maintenance.home import HomeCard
from maintenance.i18n import N_
from maintenance.orders import service
from maintenance.orders.calendar import CalendarKind, grid_for, orders_between
from maintenance.orders.choices import OPEN_STATES, OrderState, OrderType, Priority
from maintenance.orders.filters import QUEUES, OrderFilters, OrderFiltersDep
from maintenance.orders.models import WorkOrder
from maintenance.orders.turnarounds import service as turnaround_service
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, can_write_in
from maintenance.web import RecordId, paginate, render

router = APIRouter(include_in_schema=False)
HOME_CARD = HomeCard(
    "/orders", "bi-tools", N_("Work orders"), N_("Planned, condition-based and corrective work, costs and failures.")
)

ASSET_TAB_SIZE = 20

CHOICES = {"order_types": OrderType, "states": OrderState, "priorities": Priority}


def _ids(values: Iterable[int | None]) -> list[int]:
    return sorted({value for value in values if value is not None})


def assets_by_id(session: Session, orders: Sequence[WorkOrder]) -> dict[int, Asset]:
    ids = _ids(order.asset_id for order in orders)
    if not ids:
        return {}
    return {asset.id: asset for asset in session.scalars(select(Asset).where(col(Asset.id).in_(ids)))}  # type: ignore[misc]


def users_by_id(session: Session, orders: Sequence[WorkOrder]) -> dict[int, User]:
    ids = _ids(order.assignee_id for order in orders)
    if not ids:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(col(User.id).in_(ids)))}  # type: ignore[misc]


def is_overdue(order: WorkOrder, today: date) -> bool:
    finish = order.planned_finish_date or order.due_date
    return order.state in OPEN_STATES and finish is not None and finish < today


def queue_counts(session: Session, filters: OrderFilters, user: User) -> dict[str, int]:
    """How many orders each queue tab holds under the other filters: one query for all tabs."""
    today = plant_today()
    sums = []
    for queue in QUEUES:
        conditions = filters.model_copy(update={"queue": queue}).conditions(user, today)
        sums.append(func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0).label(queue))
    row = session.execute(select(*sums).select_from(WorkOrder)).one()
    return dict(zip(QUEUES, row, strict=True))


# --- The list -----------------------------------------------------------------------------


@router.get("/orders")
def order_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: OrderFiltersDep, page: int = 1
) -> Response:
    export_format = request.query_params.get("export")
    if export_format:
        from maintenance.orders import exports  # one filtered query feeds page and files alike

        return exports.export_response(session, request, filters, export_format, user=user)
    orders = paginate(session, service.list_orders(filters, user), page)
    workshops = org_service.list_workshops(session)
    turnarounds = turnaround_service.list_turnarounds(session)
    return render(
        request,
        "orders/page.html",
        {
            "page": orders,
            "filters": filters,
            "queues": QUEUES,
            "queue_counts": queue_counts(session, filters, user),
            "assets": assets_by_id(session, orders.items),
            "assignees": users_by_id(session, orders.items),
            "workshops": workshops,
            "workshop_by_id": {w.id: w for w in workshops},
            "turnarounds": turnarounds,
            "turnaround_by_id": {t.id: t for t in turnarounds},
            "filtered_asset": session.get(Asset, filters.asset_id) if filters.asset_id else None,
            "today": plant_today(),
            "is_overdue": is_overdue,
            "can_raise": can(user, Capability.WRITE),
            **CHOICES,
        },
        block="results",
    )


# --- The calendar -------------------------------------------------------------------------


@router.get("/orders/calendar")
def order_calendar(request: Request, session: SessionDep, user: CurrentUser, filters: OrderFiltersDep) -> Response:
    """Of the list's filters, only workshop_id and order_type apply here."""
    params = request.query_params
    view: CalendarKind = "month" if params.get("view") == "month" else "week"
    try:
        anchor = date.fromisoformat(params.get("date", ""))
    except ValueError:
        anchor = plant_today()
    grid = grid_for(view, anchor)
    orders = list(
        session.scalars(
            orders_between(
                grid.first_day, grid.last_day, workshop_id=filters.workshop_id, order_type=filters.order_type
            )
        )
    )
    grid.place(orders)
    workshops = org_service.list_workshops(session)
    return render(
        request,
        "orders/calendar.html",
        {
            "grid": grid,
            "filters": filters,
            "assets": assets_by_id(session, orders),
            "workshops": workshops,
            "workshop_by_id": {w.id: w for w in workshops},
            "today": plant_today(),
            "is_overdue": is_overdue,
            "order_count": len(orders),
            **CHOICES,
        },
        block="results",
    )


# --- The asset page's orders tab ----------------------------------------------------------


@router.get("/assets/{asset_id:int}/orders")
def asset_orders(request: Request, session: SessionDep, user: CurrentUser, asset_id: RecordId) -> Response:
    asset = asset_service.get_asset_or_raise(session, asset_id)
    by_asset = select(WorkOrder).where(col(WorkOrder.asset_id) == asset.id)
    orders = list(
        session.scalars(
            by_asset.order_by(col(WorkOrder.requested_at).desc(), col(WorkOrder.id).desc()).limit(ASSET_TAB_SIZE)
        )
    )
    total = session.scalar(select(func.count()).select_from(by_asset.subquery())) or 0
    return render(
        request,
        "orders/_asset_orders.html",
        {
            "asset": asset,
            "orders": orders,
            "total": total,
            "assignees": users_by_id(session, orders),
            "today": plant_today(),
            "is_overdue": is_overdue,
            "can_raise": can_write_in(session, user, asset.workshop_id),
        },
        block=None,
    )
