"""JSON API of work orders and PM plans for integrators (ERP, reporting).

- ``GET /orders`` lists orders with the filters an ERP needs (type, state, workshop, asset,
  turnaround, requested-date range, ``updated_since`` for incremental sync), a page at a time;
- ``GET /orders/{number}`` is one order with its cost lines, checklist and state history;
- ``POST /orders`` raises an order (a draft) as the token's user, whose workshops and role apply
  exactly as on the order form;
- ``GET /pm-plans`` lists PM plans with the next due date of calendar plans.

Money and quantities are decimal strings (元, hours); codes are the choice codes (``PM``, ``draft``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders import service
from maintenance.orders.choices import (
    ChecklistResult,
    CostKind,
    DetectionMethod,
    FailureCause,
    FailureMechanism,
    FailureMode,
    IntervalUnit,
    OrderState,
    OrderType,
    PlanBasis,
    Priority,
    Provider,
)
from maintenance.orders.filters import DEFAULT_SORT, OrderFilters
from maintenance.orders.models import (
    ChecklistItem,
    PmPlan,
    PmPlanCostLine,
    Turnaround,
    WorkOrder,
    WorkOrderCreate,
)
from maintenance.orders.pm import scheduler
from maintenance.org.auth import api_scope
from maintenance.org.models import User, Workshop
from maintenance.security import NUL

router = APIRouter(tags=["orders"])

OrdersReader = api_scope("orders:read")
OrdersWriter = api_scope("orders:write")
MAX_PAGE_SIZE = 500

Assignee = aliased(User, name="assignee")


def _to_cents(value: Decimal) -> Decimal:
    return value.quantize(service.CENT)


# Amounts in 元 always carry two decimals ("1200.50"), however they were entered.
Money = Annotated[Decimal, AfterValidator(_to_cents)]
OriginOrder = aliased(WorkOrder, name="origin_order")


# --- Error responses as documented in the schema ------------------------------------------

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` names each refused field and why.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "row": {"type": ["integer", "null"]},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}}}


_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid bearer token"),
    403: _problem("The token lacks the scope, or its user may not do this"),
    422: _problem("A parameter or field is not valid (named in `errors`)"),
}


# --- Response and request models ----------------------------------------------------------


class OrderApiRead(BaseModel):
    """A work order. Dates are plant-local days, times are UTC; money is a decimal string in 元."""

    number: str = Field(description="WO-YYYY-NNNNNN, unique")
    type: OrderType
    state: OrderState
    priority: Priority = Field(description="1 urgent … 4 low")
    asset_tag: str
    workshop_code: str
    title: str
    description: str
    provider: Provider = Field(description="In-house team or contractor")
    assignee_name: str = Field(description="The team or contractor doing the work")
    assignee_username: str | None = Field(description="The engineer who owns the order")
    requested_at: datetime
    planned_start_date: date | None
    planned_finish_date: date | None
    due_date: date | None
    approved_at: datetime | None
    actual_start_at: datetime | None
    actual_finish_at: datetime | None
    signed_off_at: datetime | None
    planned_cost_cny: Money = Field(description="Sum of the cost lines' planned amounts")
    actual_cost_cny: Money = Field(description="Sum of the cost lines' actual amounts")
    labour_hours: Decimal
    failure_mode: FailureMode | None = Field(description="ISO 14224 failure mode")
    failure_mechanism: FailureMechanism | None
    failure_cause: FailureCause | None
    detection_method: DetectionMethod | None
    downtime_start_at: datetime | None
    downtime_end_at: datetime | None
    production_loss_t: Decimal | None
    production_loss_cny: Money | None
    findings: str
    completion_notes: str
    turnaround_code: str | None
    is_revamp_tie_in: bool = Field(description="A phase-II revamp tie-in item of the turnaround")
    pm_plan_id: int | None = Field(description="The PM plan that generated the order")
    plan_due_date: date | None = Field(description="The plan's due date the order was generated for")
    version: int = Field(description="Increases with every change of the order's fields or state")
    created_at: datetime
    updated_at: datetime = Field(description="Last change of the order's fields, state or cost totals")


class CostLineApiRead(BaseModel):
    id: int
    kind: CostKind
    description: str
    item_code: str
    uom: str
    provider: Provider
    planned_quantity: Decimal
    planned_unit_price_cny: Money
    quantity: Decimal = Field(description="Hours (labour), quantity issued (materials) or done")
    unit_price_cny: Money
    used_quantity: Decimal | None
    returned_quantity: Decimal
    reference_price_cny: Money | None = Field(description="Refurbished: price new; localised: import price")
    planned_cny: Money
    actual_cny: Money
    saving_cny: Money


class ChecklistItemApiRead(BaseModel):
    position: int
    text: str
    value_unit: str
    result: ChecklistResult | None = Field(description="null while the check has no result")
    value: Decimal | None
    note: str
    raised_order_number: str | None = Field(description="The corrective order this failed check raised")


class TransitionApiRead(BaseModel):
    from_state: OrderState | None = Field(description="null for the order being raised")
    to_state: OrderState
    at: datetime
    actor: str = Field(description="Username (or system process) that made the change")
    note: str


class OrderApiDetail(OrderApiRead):
    origin_order_number: str | None = Field(description="The order whose failed check raised this one")
    cost_lines: list[CostLineApiRead]
    checklist: list[ChecklistItemApiRead]
    transitions: list[TransitionApiRead] = Field(description="Every state change, oldest first")


class OrderApiPage(BaseModel):
    data: list[OrderApiRead]
    count: int = Field(description="Orders matching the filter, on all pages")
    page: int
    size: int


class OrderApiCreate(BaseModel):
    """A new order; it is raised as a draft by the token's user."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: OrderType
    asset_tag: str = Field(min_length=1, max_length=50)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    priority: Priority = Priority.NORMAL
    planned_start_date: date | None = None
    planned_finish_date: date | None = None
    due_date: date | None = None
    provider: Provider = Provider.IN_HOUSE
    assignee_name: str = Field(default="", max_length=100, description="In-house team or contractor")

    @field_validator("asset_tag", "title", "description", "assignee_name")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if NUL in value:  # PostgreSQL can neither store nor compare it
            raise ValueError(_("Remove the NUL character (\\0)."))
        return value


class PmPlanApiRead(BaseModel):
    id: int
    asset_tag: str
    workshop_code: str
    title: str
    basis: PlanBasis
    interval: int = Field(description="Calendar plans: every N interval units")
    interval_unit: IntervalUnit
    interval_hours: int | None = Field(description="Runtime plans: every N running hours")
    start_date: date
    lead_days: int
    priority: Priority
    provider: Provider
    assignee_name: str
    checklist_template: str
    is_active: bool
    last_done_date: date | None
    meter_hours: Decimal | None
    last_done_meter_hours: Decimal | None
    next_due_date: date | None = Field(
        description=(
            "Calendar plans only: fixed schedule, the first date of the plan's series from today on; "
            "floating, the interval after the last completion (the start date if never done; may be "
            "past, i.e. overdue). null for runtime plans, which fall due by meter hours, and for "
            "inactive plans."
        )
    )
    next_due_meter_hours: Decimal | None = Field(
        description="Runtime plans only: the meter reading at which the plan falls due; null otherwise"
    )
    estimated_cost_cny: Money = Field(description="Sum of the plan's estimated cost lines")
    version: int
    created_at: datetime
    updated_at: datetime


class PmPlanApiPage(BaseModel):
    data: list[PmPlanApiRead]
    count: int = Field(description="Plans matching the filter, on all pages")
    page: int
    size: int


# --- Orders -------------------------------------------------------------------------------

_ORDER_FIELDS = [name for name in OrderApiRead.model_fields if hasattr(WorkOrder, name)]


def _with_codes(stmt: Select[Any]) -> Select[Any]:
    """A select over WorkOrder with the codes and names the items show, in one statement."""
    return (
        stmt.add_columns(
            col(Asset.tag).label("asset_tag"),
            col(Workshop.code).label("workshop_code"),
            col(Turnaround.code).label("turnaround_code"),
            col(Assignee.username).label("assignee_username"),
        )
        .join(Asset, col(Asset.id) == col(WorkOrder.asset_id))
        .join(Workshop, col(Workshop.id) == col(WorkOrder.workshop_id))
        .outerjoin(Turnaround, col(Turnaround.id) == col(WorkOrder.turnaround_id))
        .outerjoin(Assignee, col(Assignee.id) == col(WorkOrder.assignee_id))
    )


def _order_item(row: Any, model: type[OrderApiRead] = OrderApiRead, **extra: Any) -> Any:
    order: WorkOrder = row[0]
    data = {name: getattr(order, name) for name in _ORDER_FIELDS}
    return model.model_validate(
        data
        | {
            "type": order.order_type,
            "asset_tag": row.asset_tag,
            "workshop_code": row.workshop_code,
            "turnaround_code": row.turnaround_code,
            "assignee_username": row.assignee_username,
        }
        | extra
    )


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(
            _("Some input is not valid."),
            [FieldError(field, _("Give the time with a UTC offset, e.g. 2026-03-01T08:00:00+08:00."))],
        )
    return value


@router.get(
    "/orders",
    response_model=OrderApiPage,
    summary="List work orders",
    description=(
        "Filters combine with AND; `type` and `state` may be repeated (any of them). `from`/`to` select "
        "orders by the plant-local day they were requested on (both inclusive). Orders come newest "
        "first; with `updated_since` they come oldest change first, so an ERP can page through "
        "everything changed since its last sync and remember the last `updated_at` it saw."
    ),
    responses=_AUTH_RESPONSES,
)
def list_orders(
    session: SessionDep,
    user: OrdersReader,  # type: ignore[valid-type]
    order_types: Annotated[list[OrderType] | None, Query(alias="type", description="Order type code")] = None,
    states: Annotated[list[OrderState] | None, Query(alias="state", description="State code")] = None,
    workshop: Annotated[str | None, Query(max_length=20, description="Workshop code")] = None,
    asset: Annotated[str | None, Query(max_length=50, description="Asset tag")] = None,
    turnaround: Annotated[str | None, Query(max_length=20, description="Turnaround code")] = None,
    date_from: Annotated[date | None, Query(alias="from", description="Requested on or after this day")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Requested on or before this day")] = None,
    updated_since: Annotated[
        datetime | None, Query(description="Changed at or after this instant (ISO 8601 with offset)")
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> OrderApiPage:
    _aware(updated_since, "updated_since")
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ValidationFailed(
            _("Some input is not valid."), [FieldError("to", _("The end of the range cannot come before its start."))]
        )
    filters = OrderFilters(
        order_types=order_types or [],
        states=states or [],
        workshop_code=workshop.strip() if workshop else None,
        asset_tag=asset.strip() if asset else None,
        turnaround_code=turnaround.strip() if turnaround else None,
        date_from=date_from,
        date_to=date_to,
        updated_since=updated_since,
        # An ERP syncing changes pages oldest change first, so it can remember where it stopped.
        sort="updated" if updated_since is not None else DEFAULT_SORT,
    )
    stmt = service.list_orders(filters, user)
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(_with_codes(stmt).limit(size).offset((page - 1) * size)).all()
    return OrderApiPage(data=[_order_item(row) for row in rows], count=count, page=page, size=size)


def _detail(session: Session, order: WorkOrder) -> OrderApiDetail:
    row = session.execute(
        _with_codes(select(WorkOrder))
        .add_columns(col(OriginOrder.number).label("origin_order_number"))
        .outerjoin(OriginOrder, col(OriginOrder.id) == col(WorkOrder.origin_order_id))
        .where(col(WorkOrder.id) == order.id)
    ).one()
    raised = aliased(WorkOrder, name="raised")
    checks = session.execute(
        select(ChecklistItem, col(raised.number).label("raised_order_number"))
        .outerjoin(raised, col(raised.id) == col(ChecklistItem.raised_order_id))
        .where(col(ChecklistItem.order_id) == order.id)
        .order_by(col(ChecklistItem.position))
    ).all()
    return _order_item(  # type: ignore[no-any-return]
        row,
        OrderApiDetail,
        origin_order_number=row.origin_order_number,
        cost_lines=[
            CostLineApiRead.model_validate(line, from_attributes=True) for line in service.cost_lines_of(session, order)
        ],
        checklist=[
            ChecklistItemApiRead.model_validate(
                {name: getattr(item, name) for name in ("position", "text", "value_unit", "result", "value", "note")}
                | {"raised_order_number": number}
            )
            for item, number in checks
        ],
        transitions=[
            TransitionApiRead(
                from_state=step.from_state, to_state=step.to_state, at=step.at, actor=step.actor_name, note=step.note
            )
            for step in service.transitions_of(session, order)
        ],
    )


@router.get(
    "/orders/{number}",
    response_model=OrderApiDetail,
    summary="One work order with its cost lines, checklist and state history",
    responses={**_AUTH_RESPONSES, 404: _problem("No order has this number")},
)
def read_order(session: SessionDep, user: OrdersReader, number: str) -> OrderApiDetail:  # type: ignore[valid-type]
    order = service.get_order_by_number(session, number)
    if order is None:
        raise NotFound(_("No work order has the number %(number)s.", number=number))
    return _detail(session, order)


# The service names the order's own fields; the API body names the asset by tag and the type as "type".
_API_FIELD_NAMES = {"asset_id": "asset_tag", "order_type": "type"}


def _asset_by_tag(session: Session, tag: str) -> Asset:
    found = session.scalars(select(Asset).where(col(Asset.tag) == tag).limit(2)).all()
    if len(found) != 1:
        message = (
            _("No asset has the tag %(tag)s.", tag=tag)
            if not found
            else _("Several sites have an asset tagged %(tag)s.", tag=tag)
        )
        raise ValidationFailed(_("The work order was not saved."), [FieldError("asset_tag", message)])
    return found[0]


@router.post(
    "/orders",
    response_model=OrderApiDetail,
    status_code=201,
    summary="Raise a work order (as a draft)",
    description=(
        "The order is raised by the token's user: engineers only on assets of their own workshops, "
        "auditors never. The response is the new order; `Location` is its URL."
    ),
    responses={
        **_AUTH_RESPONSES,
        201: {"description": "The order was raised", "headers": {"Location": {"schema": {"type": "string"}}}},
    },
)
def create_order(
    session: SessionDep,
    user: OrdersWriter,  # type: ignore[valid-type]
    body: OrderApiCreate,
    response: Response,
) -> OrderApiDetail:
    asset = _asset_by_tag(session, body.asset_tag)
    data = WorkOrderCreate.model_validate(
        body.model_dump(exclude={"type", "asset_tag"}) | {"order_type": body.type, "asset_id": asset.id}
    )
    try:
        order = service.create_order(session, data, actor=user)
    except ValidationFailed as refused:
        for error in refused.errors:
            error.field = _API_FIELD_NAMES.get(error.field, error.field)
        raise
    response.headers["Location"] = f"/api/v1/orders/{order.number}"
    return _detail(session, order)


# --- PM plans -----------------------------------------------------------------------------


def _next_due(plan: PmPlan, today: date) -> dict[str, Any]:
    """When an active plan next falls due: a date for calendar plans (the scheduler's rule),
    meter hours for runtime plans."""
    if not plan.is_active:
        return {"next_due_date": None, "next_due_meter_hours": None}
    meter = None
    if plan.basis == PlanBasis.RUNTIME and plan.interval_hours is not None:
        meter = (plan.last_done_meter_hours or Decimal("0")) + plan.interval_hours
    return {"next_due_date": scheduler.next_due_date(plan, today), "next_due_meter_hours": meter}


@router.get(
    "/pm-plans",
    response_model=PmPlanApiPage,
    summary="List PM plans",
    description="Filters combine with AND. Plans come ordered by asset tag, then id.",
    responses=_AUTH_RESPONSES,
)
def list_pm_plans(
    session: SessionDep,
    user: OrdersReader,  # type: ignore[valid-type]
    workshop: Annotated[str | None, Query(max_length=20, description="Workshop code")] = None,
    asset: Annotated[str | None, Query(max_length=50, description="Asset tag")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false) plans")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PmPlanApiPage:
    estimated = (
        select(func.coalesce(func.sum(col(PmPlanCostLine.quantity) * col(PmPlanCostLine.unit_price_cny)), 0))
        .where(col(PmPlanCostLine.plan_id) == col(PmPlan.id))
        .correlate(PmPlan)
        .scalar_subquery()
    )
    columns: list[Any] = [
        PmPlan,
        col(Asset.tag).label("asset_tag"),
        col(Workshop.code).label("workshop_code"),
        estimated.label("estimated_cost_cny"),
    ]
    stmt = (
        select(*columns)
        .join(Asset, col(Asset.id) == col(PmPlan.asset_id))
        .join(Workshop, col(Workshop.id) == col(PmPlan.workshop_id))
    )
    if workshop:
        stmt = stmt.where(col(Workshop.code) == workshop.strip())
    if asset:
        stmt = stmt.where(col(Asset.tag) == asset.strip())
    if active is not None:
        stmt = stmt.where(col(PmPlan.is_active) == active)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(col(Asset.tag), col(PmPlan.id)).limit(size).offset((page - 1) * size)).all()
    today = plant_today()
    fields = [name for name in PmPlanApiRead.model_fields if hasattr(PmPlan, name)]
    return PmPlanApiPage(
        data=[
            PmPlanApiRead.model_validate(
                {name: getattr(plan, name) for name in fields}
                | {
                    "asset_tag": tag,
                    "workshop_code": code,
                    **_next_due(plan, today),
                    "estimated_cost_cny": Decimal(str(cost)).quantize(service.CENT),
                }
            )
            for plan, tag, code, cost in rows
        ],
        count=count,
        page=page,
        size=size,
    )
