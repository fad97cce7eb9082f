"""JSON API of condition monitoring for data collectors, DCS/historian exports and reporting.

- ``POST /readings`` (scope ``readings:write``) takes a JSON list of ``{point, taken_at, value}``,
  at most 10,000 per request. ``mode=all`` (the default) stores nothing if any item is refused and
  answers 422 listing every refused item; ``mode=valid`` stores the valid items and lists the
  refused ones. Re-sending a batch stores nothing twice (``inserted`` 0, ``duplicates`` N).
- ``GET /points`` lists points with their limits, latest value and state;
  ``GET /points/{code}/readings`` pages through one point's readings in time order (keyset:
  pass the last ``taken_at`` seen as ``after``); ``GET /alarms`` lists the active alerts.

Times are ISO 8601; a time without an offset is plant time. Values are in the point's unit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlmodel import Session, col
from typing_extensions import TypedDict

from maintenance.assets.models import Asset
from maintenance.db import SessionDep, plant_timezone
from maintenance.exceptions import FieldError, PermissionDenied, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.monitoring import service
from maintenance.monitoring.alerts import ACTIVE_ALERT_STATES, FINISHED_ORDER_STATES
from maintenance.monitoring.choices import AlertState, ConditionState, LimitPreset, Quantity, ReadingSource
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint, Reading
from maintenance.monitoring.readings.ingest import IngestMode, ReadingIn, ingest_readings, within_workshops
from maintenance.orders.api import _AUTH_RESPONSES
from maintenance.orders.choices import OrderState
from maintenance.orders.models import WorkOrder
from maintenance.org.auth import api_scope
from maintenance.org.models import User, Workshop
from maintenance.org.permissions import require_writer, writable_workshop_ids
from maintenance.web import RawBody

router = APIRouter(tags=["monitoring"])

ReadingsReader = api_scope("readings:read")
ReadingsWriter = api_scope("readings:write")
MAX_READINGS_PER_REQUEST = 10_000
MAX_PAGE_SIZE = 500
MAX_READINGS_PAGE = 5000


# --- Sending readings ---------------------------------------------------------------------


class ReadingItem(TypedDict):
    """One reading as sent. A TypedDict validated by a TypeAdapter straight from the JSON bytes:
    10,000 items parse in a few milliseconds."""

    point: Annotated[str, Field(min_length=1, max_length=60)]
    taken_at: datetime
    value: float


_BATCH = TypeAdapter(list[ReadingItem])
_new_tuple = tuple.__new__
_ITEM = TypeAdapter(ReadingItem)


class IngestReportRead(BaseModel):
    received: int = Field(description="Items in the request")
    inserted: int = Field(description="Readings stored now")
    duplicates: int = Field(description="Readings already stored (same point and time): not stored twice")
    rejected: list[dict[str, Any]] = Field(
        description="Refused items: row (position in the list, from 1), field, message"
    )
    alerts_opened: list[str] = Field(description="Numbers of the condition-based work orders raised")


_READINGS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "maxItems": MAX_READINGS_PER_REQUEST,
                    "items": {
                        "type": "object",
                        "required": ["point", "taken_at", "value"],
                        "properties": {
                            "point": {"type": "string", "minLength": 1, "maxLength": 60, "description": "Point code"},
                            "taken_at": {
                                "type": "string",
                                "format": "date-time",
                                "description": "ISO 8601; without an offset it is plant time",
                            },
                            "value": {"type": "number", "description": "In the point's unit"},
                        },
                    },
                }
            }
        },
    }
}


def _item_errors(error: ValidationError) -> dict[int, list[FieldError]]:
    """Pydantic's errors of a list, by item position (from 1)."""
    found: dict[int, list[FieldError]] = {}
    for detail in error.errors():
        loc = detail["loc"]
        if loc and isinstance(loc[0], int):
            row = loc[0] + 1
            field = ".".join(str(part) for part in loc[1:]) or "item"
        else:
            row, field = 0, "body"
        found.setdefault(row, []).append(FieldError(field, detail["msg"], row or None))
    return found


def _parse_batch(body: bytes) -> tuple[list[ReadingIn], list[FieldError]]:
    """The well-formed items as ReadingIn (row = position from 1) and the errors of the others."""
    try:
        items = _BATCH.validate_json(body)
    except ValidationError:
        pass
    else:
        if len(items) > MAX_READINGS_PER_REQUEST:
            raise _too_many(len(items))
        # tuple.__new__ skips the NamedTuple's Python-level __new__: half the cost of the list.
        return [
            _new_tuple(ReadingIn, (item["point"], item["taken_at"], item["value"], position))
            for position, item in enumerate(items, start=1)
        ], []
    # Slow path, only for a batch with bad items: find which, keep the others.
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed(_("Some input is not valid."), [FieldError("body", str(error))]) from None
    except RecursionError:  # nested deeper than Python parses: no list of readings is like that
        raise ValidationFailed(
            _("Some input is not valid."), [FieldError("body", _("Send a JSON list of readings."))]
        ) from None
    if not isinstance(raw, list):
        raise ValidationFailed(
            _("Some input is not valid."), [FieldError("body", _("Send a JSON list of readings."))]
        ) from None
    if len(raw) > MAX_READINGS_PER_REQUEST:
        raise _too_many(len(raw))
    readings: list[ReadingIn] = []
    errors: list[FieldError] = []
    for position, candidate in enumerate(raw, start=1):
        try:
            item = _ITEM.validate_python(candidate)
        except ValidationError as error:
            errors.extend(
                FieldError(".".join(str(part) for part in detail["loc"]) or "item", detail["msg"], position)
                for detail in error.errors()
            )
            continue
        readings.append(ReadingIn(item["point"], item["taken_at"], item["value"], position))
    return readings, errors


def _too_many(count: int) -> ValidationFailed:
    return ValidationFailed(
        _(
            "Send at most %(max)s readings per request (this one has %(count)s).",
            max=MAX_READINGS_PER_REQUEST,
            count=count,
        ),
        [FieldError("body", _("Too many items."))],
    )


def _ingest(session: Session, body: bytes, mode: IngestMode, user: User) -> IngestReportRead:
    # The rules of the reading form and the file import: auditors send nothing, engineers only
    # readings of their own workshops' points.
    require_writer(user)
    readings, malformed = _parse_batch(body)
    allowed = writable_workshop_ids(session, user)
    if allowed is not None:
        readings, refused = _within_workshops(session, readings, allowed)
        if refused and mode == IngestMode.ALL_OR_NOTHING:
            raise PermissionDenied(
                _(
                    "No readings were saved: %(refused)s of %(total)s readings are of points outside your workshops.",
                    refused=len(refused),
                    total=len(readings) + len(refused) + len(malformed),
                ),
                refused,
            )
        malformed = [*malformed, *refused]
    report = ingest_readings(
        session,
        readings,
        source=ReadingSource.API,
        actor=user,
        mode=mode,
        entered_by_id=user.id,
        rejected=malformed,
    )
    return IngestReportRead(
        received=report.received,
        inserted=report.inserted,
        duplicates=report.duplicates,
        rejected=[error.as_dict() for error in report.rejected],
        alerts_opened=report.alerts_opened,
    )


def _within_workshops(
    session: Session, readings: list[ReadingIn], allowed: set[int]
) -> tuple[list[ReadingIn], list[FieldError]]:
    """The readings of points in the ``allowed`` workshops, and the reasons the others are refused."""
    refused: list[FieldError] = []

    def refuse(reading: ReadingIn, workshop: str) -> None:
        message = _(
            "Point %(code)s belongs to workshop %(workshop)s: you can only send readings of your own workshops.",
            code=reading.point_code.strip(),
            workshop=workshop,
        )
        refused.append(FieldError("point", message, reading.row))

    kept = list(within_workshops(session, readings, allowed, refuse))
    return kept, refused


@router.post(
    "/readings",
    response_model=IngestReportRead,
    summary="Send readings",
    description=(
        "A JSON list of at most 10,000 `{point, taken_at, value}`. A reading already stored (same point "
        "and `taken_at`) is counted as a duplicate and not stored again, so a batch may safely be re-sent. "
        "Refused: unknown or inactive point, a value outside what the quantity can physically be, a time "
        "more than 5 minutes in the future, a malformed item. With `mode=all` (default) one refused item "
        "stores nothing and the answer is 422 naming every refused item (`row` = position in the list, "
        "from 1); with `mode=valid` the valid items are stored and the refused ones listed in `rejected`. "
        "An alarm (or a warning held for the point's number of readings) raises one condition-based work "
        "order per point, listed in `alerts_opened`. The readings are sent by the token's user, with the "
        "rules of the reading form: auditors send none (403); engineers only readings of points of their "
        "own workshops — with `mode=all` a reading of another workshop's point stores nothing and the "
        "answer is 403 naming those items, with `mode=valid` they are listed in `rejected`."
    ),
    responses=_AUTH_RESPONSES,
    openapi_extra=_READINGS_BODY,
)
async def post_readings(
    body: RawBody,
    session: SessionDep,
    user: ReadingsWriter,  # type: ignore[valid-type]
    mode: Annotated[IngestMode, Query(description="all: all-or-nothing; valid: store the valid items")] = (
        IngestMode.ALL_OR_NOTHING
    ),
) -> IngestReportRead:
    # Parsing and storing block: off the event loop, as FastAPI runs plain endpoints.
    return await run_in_threadpool(_ingest, session, body, mode, user)


# --- Reading points, readings and alarms --------------------------------------------------


class PointApiRead(BaseModel):
    code: str
    name: str
    asset_tag: str
    workshop_code: str
    quantity: Quantity
    unit: str
    preset: LimitPreset = Field(description="ISO 10816-3 machine group and foundation, or none")
    warning_high: float | None
    alarm_high: float | None
    warning_low: float | None
    alarm_low: float | None
    warnings_to_raise: int = Field(description="Consecutive warning readings that raise an order")
    is_active: bool
    latest_value: float | None
    latest_taken_at: datetime | None
    latest_state: ConditionState | None
    state_since: datetime | None
    zone: str | None = Field(description="ISO 10816-3 zone A-D of the latest value (vibration points with a preset)")


class PointApiPage(BaseModel):
    data: list[PointApiRead]
    count: int = Field(description="Points matching the filter, on all pages")
    page: int
    size: int


@router.get(
    "/points",
    response_model=PointApiPage,
    summary="List measurement points",
    description="Points ordered by code, each with its limits and its latest value and state.",
    responses=_AUTH_RESPONSES,
)
def list_points(
    session: SessionDep,
    user: ReadingsReader,  # type: ignore[valid-type]
    workshop: Annotated[str | None, Query(max_length=20, description="Workshop code")] = None,
    asset: Annotated[str | None, Query(max_length=50, description="Asset tag")] = None,
    quantity: Annotated[Quantity | None, Query(description="Quantity code")] = None,
    state: Annotated[ConditionState | None, Query(description="State of the latest reading")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PointApiPage:
    filters = service.PointFilters(workshop_code=workshop or "", asset_tag=asset or "", quantity=quantity, state=state)
    stmt = service.list_points(filters)
    count = service.count_points(session, stmt)
    rows = session.execute(stmt.limit(size).offset((page - 1) * size)).all()
    return PointApiPage(
        data=[_point_item(point, tag, workshop_code) for point, tag, _name, workshop_code in rows],
        count=count,
        page=page,
        size=size,
    )


def _point_item(point: MeasurementPoint, asset_tag: str, workshop_code: str) -> PointApiRead:
    return PointApiRead(
        code=point.code,
        name=point.name,
        asset_tag=asset_tag,
        workshop_code=workshop_code,
        quantity=point.quantity,
        unit=point.unit,
        preset=point.preset,
        warning_high=point.warning_high,
        alarm_high=point.alarm_high,
        warning_low=point.warning_low,
        alarm_low=point.alarm_low,
        warnings_to_raise=point.warnings_to_raise,
        is_active=point.is_active,
        latest_value=point.latest_value,
        latest_taken_at=point.latest_taken_at,
        latest_state=point.latest_state,
        state_since=point.state_since,
        zone=service.zone_of(point, point.latest_value),
    )


class ReadingApiRead(BaseModel):
    taken_at: datetime
    value: float
    state: ConditionState
    source: ReadingSource
    zone: str | None = Field(description="ISO 10816-3 zone A-D (vibration points with a preset)")


class ReadingApiPage(BaseModel):
    point: str
    unit: str
    data: list[ReadingApiRead]
    next_after: datetime | None = Field(description="Pass as `after` for the next page; null on the last page")


def _aware(value: datetime | None, name: str) -> datetime | None:
    """The query parameter ``name`` in UTC (a time without an offset is plant time); refused when
    it has no UTC equivalent (1 January of year 1 east of Greenwich)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=plant_timezone())
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(_("Some input is not valid."), [FieldError(name, _("Enter a date and time."))]) from None


@router.get(
    "/points/{code:path}/readings",
    response_model=ReadingApiPage,
    summary="Readings of one point",
    description=(
        "Readings in time order from `from` (inclusive) to `to` (exclusive), at most `size` per page. "
        "For the next page pass the answer's `next_after` as `after`."
    ),
    responses=_AUTH_RESPONSES,
)
def list_readings(
    code: str,
    session: SessionDep,
    user: ReadingsReader,  # type: ignore[valid-type]
    time_from: Annotated[datetime | None, Query(alias="from", description="Taken at or after (ISO 8601)")] = None,
    time_to: Annotated[datetime | None, Query(alias="to", description="Taken before (ISO 8601)")] = None,
    after: Annotated[datetime | None, Query(description="Taken after: the previous page's `next_after`")] = None,
    size: Annotated[int, Query(ge=1, le=MAX_READINGS_PAGE)] = 1000,
) -> ReadingApiPage:
    point = service.get_point_by_code_or_raise(session, code)
    time_from, time_to, after = _aware(time_from, "from"), _aware(time_to, "to"), _aware(after, "after")
    if time_from is not None and time_to is not None and time_to <= time_from:
        raise ValidationFailed(
            _("Some input is not valid."), [FieldError("to", _("The end of the range must come after its start."))]
        )
    stmt = select(col(Reading.taken_at), col(Reading.value), col(Reading.state), col(Reading.source)).where(
        col(Reading.point_id) == point.id
    )
    if time_from is not None:
        stmt = stmt.where(col(Reading.taken_at) >= time_from)
    if time_to is not None:
        stmt = stmt.where(col(Reading.taken_at) < time_to)
    if after is not None:
        stmt = stmt.where(col(Reading.taken_at) > after)
    rows = session.execute(stmt.order_by(col(Reading.taken_at)).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    zones = service.zone_of
    return ReadingApiPage(
        point=point.code,
        unit=point.unit,
        data=[
            ReadingApiRead(taken_at=taken_at, value=value, state=state, source=source, zone=zones(point, value))
            for taken_at, value, state, source in rows
        ],
        next_after=rows[-1][0] if more else None,
    )


class AlarmApiRead(BaseModel):
    point: str
    point_name: str
    asset_tag: str
    workshop_code: str
    quantity: Quantity
    unit: str
    state: AlertState = Field(description="open, or normal_again (back to normal, order still open)")
    point_state: ConditionState | None = Field(description="State of the point's latest reading")
    since: datetime = Field(description="When the alert was raised")
    latest_value: float | None
    latest_taken_at: datetime | None
    trigger_value: float
    trigger_taken_at: datetime
    normal_again_at: datetime | None
    readings_since: int
    order_number: str
    order_state: OrderState


class AlarmApiPage(BaseModel):
    data: list[AlarmApiRead]
    count: int
    page: int
    size: int


@router.get(
    "/alarms",
    response_model=AlarmApiPage,
    summary="Active alarms",
    description=(
        "Points with an active alert: open, or back to normal while its condition-based order is still "
        "open. Newest first."
    ),
    responses=_AUTH_RESPONSES,
)
def list_alarms(
    session: SessionDep,
    user: ReadingsReader,  # type: ignore[valid-type]
    workshop: Annotated[str | None, Query(max_length=20, description="Workshop code")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> AlarmApiPage:
    stmt = (
        select(
            ConditionAlert,
            MeasurementPoint,
            col(Asset.tag),
            col(Workshop.code),
            col(WorkOrder.number),
            col(WorkOrder.state),
        )
        .join(MeasurementPoint, col(MeasurementPoint.id) == col(ConditionAlert.point_id))
        .join(Asset, col(Asset.id) == col(MeasurementPoint.asset_id))
        .join(Workshop, col(Workshop.id) == col(MeasurementPoint.workshop_id))
        .join(WorkOrder, col(WorkOrder.id) == col(ConditionAlert.order_id))
        .where(
            col(ConditionAlert.state).in_(ACTIVE_ALERT_STATES),
            col(WorkOrder.state).not_in(FINISHED_ORDER_STATES),
        )
    )
    if workshop:
        stmt = stmt.where(col(Workshop.code) == workshop.strip())
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    stmt = stmt.order_by(col(ConditionAlert.opened_at).desc(), col(ConditionAlert.id).desc())
    rows = session.execute(stmt.limit(size).offset((page - 1) * size)).all()
    return AlarmApiPage(
        data=[
            AlarmApiRead(
                point=point.code,
                point_name=point.name,
                asset_tag=tag,
                workshop_code=workshop_code,
                quantity=point.quantity,
                unit=point.unit,
                state=alert.state,
                point_state=point.latest_state,
                since=alert.opened_at,
                latest_value=point.latest_value,
                latest_taken_at=point.latest_taken_at,
                trigger_value=alert.trigger_value,
                trigger_taken_at=alert.trigger_taken_at,
                normal_again_at=alert.normal_again_at,
                readings_since=alert.readings_since,
                order_number=number,
                order_state=order_state,
            )
            for alert, point, tag, workshop_code, number, order_state in rows
        ],
        count=count,
        page=page,
        size=size,
    )
