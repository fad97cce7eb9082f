"""Condition-monitoring pages: the point list (page, htmx fragment and CSV/XLSX export from one
view), the point page (trend chart with limits and ISO 10816 zones, days-to-alarm forecast,
readings, the open alert and the reading form), the point create/edit forms (409 on a stale
version), the managers' alarm board, and the readings tab of an asset page (the asset domain
pulls it in with htmx; it never imports monitoring).

Routes are thin: points are written by :mod:`maintenance.monitoring.service`, readings by
:func:`maintenance.monitoring.readings.ingest.ingest_readings` (the same path as file imports and the API),
so a value typed in raises the same CBM order a data collector's would. Every list runs a fixed
number of queries whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import case, select
from sqlmodel import Session, col

from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.db import SessionDep, parse_plant_datetime, plant_now, utcnow
from maintenance.exceptions import Conflict, FieldError, ValidationFailed
from maintenance.home import HomeCard
from maintenance.i18n import N_, ngettext
from maintenance.i18n import gettext as _
from maintenance.monitoring import charts, service, trend
from maintenance.monitoring.alerts import ACTIVE_ALERT_STATES, FINISHED_ORDER_STATES
from maintenance.monitoring.choices import ConditionState, LimitPreset, Quantity, ReadingSource
from maintenance.monitoring.filters import PointFiltersDep, list_points
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint, PointCreate, PointUpdate, Reading
from maintenance.monitoring.readings.ingest import IngestMode, IngestReport, ReadingIn, ingest_readings
from maintenance.monitoring.rules import ISO_10816_3, QUANTITIES, Limits, VibrationZones, breached_limit
from maintenance.orders.forms import on_asset_tag, resolve_asset_tag
from maintenance.orders.models import WorkOrder
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, can_write_in, require_write_in
from maintenance.web import (
    Difference,
    FormDep,
    RecordId,
    SeekColumn,
    SeekOrder,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    form_values,
    paginate,
    redirect,
    render,
    seek_page,
    validate_form,
)

router = APIRouter(include_in_schema=False)
HOME_CARD = HomeCard(
    "/monitoring", "bi-activity", N_("Condition monitoring"), N_("Readings, rounds, limits and alarms.")
)

TREND_DAYS = (30, 90, 365)
DEFAULT_TREND_DAYS = 90
# The chart draws at most this many readings (the newest of the window; ECharts thins them
# further with LTTB sampling): a point logged every minute for a year would be 500,000.
CHART_MAX_READINGS = 5000
READINGS_PAGE_SIZE = 25
# The point page's readings, newest first, paged by keyset as the API pages them with ``after``:
# a point's times are unique (the key of ``reading``), so the time alone places a reading, and a
# page deep in ten years of readings is one range of that key.
NEWEST_READINGS_FIRST = SeekOrder("-taken_at", (SeekColumn("taken_at", datetime),), descending=True)
ALARM_STATES = (ConditionState.WARNING, ConditionState.ALARM)

CHOICES = {"quantities": Quantity, "states": ConditionState, "presets": LimitPreset}


# --- Shared helpers -----------------------------------------------------------------------


def zones_of(point: MeasurementPoint) -> VibrationZones | None:
    """The ISO 10816-3 zones of a vibration point with a preset (else None)."""
    return ISO_10816_3.get(point.preset) if point.quantity == Quantity.VIBRATION else None


def unit_of(point: MeasurementPoint) -> str:
    return point.unit or QUANTITIES[point.quantity].unit


def duration_text(since: datetime | None, now: datetime | None = None) -> str:
    """How long ago, coarsely: "3 d 4 h", "5 h 10 min", "12 min"."""
    if since is None:
        return ""
    seconds = max(0, int(((now or utcnow()) - since).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return _("%(d)s d %(h)s h", d=days, h=hours)
    if hours:
        return _("%(h)s h %(m)s min", h=hours, m=minutes)
    return _("%(m)s min", m=minutes)


def forecast_text(days: float | None) -> str:
    """The forecast as users read it, "predicted alarm in 12 days" (empty without one)."""
    if days is None:
        return ""
    if days < 1:
        return _("predicted alarm within a day")
    whole = int(days)
    return ngettext("predicted alarm in %(num)s day", "predicted alarm in %(num)s days", whole)


@dataclass(frozen=True)
class OpenOrder:
    """A point's active alert and its CBM order (not yet completed, closed or cancelled)."""

    alert: ConditionAlert
    order_id: int
    number: str


def open_orders_by_point(session: Session, point_ids: Iterable[int | None]) -> dict[int, OpenOrder]:
    """The open CBM order of each point, in one query (read-only: pages do not close alerts)."""
    ids = sorted({point_id for point_id in point_ids if point_id is not None})
    if not ids:
        return {}
    stmt = (
        select(ConditionAlert, col(WorkOrder.id), col(WorkOrder.number))
        .join(WorkOrder, col(WorkOrder.id) == col(ConditionAlert.order_id))
        .where(
            col(ConditionAlert.point_id).in_(ids),
            col(ConditionAlert.state).in_(ACTIVE_ALERT_STATES),
            col(WorkOrder.state).not_in(FINISHED_ORDER_STATES),
        )
        .order_by(col(ConditionAlert.id))
    )
    return {alert.point_id: OpenOrder(alert, order_id, number) for alert, order_id, number in session.execute(stmt)}


def _template_helpers() -> dict[str, Any]:
    return {
        "zone_of": service.zone_of,
        "unit_of": unit_of,
        "duration_text": duration_text,
        "forecast_text": forecast_text,
        "now": utcnow(),
        **CHOICES,
    }


def _workshops(session: Session) -> dict[str, Any]:
    workshops = org_service.list_workshops(session)
    return {"workshops": workshops, "workshop_by_id": {w.id: w for w in workshops}}


# --- The list -----------------------------------------------------------------------------


@router.get("/monitoring")
def point_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: PointFiltersDep, page: int = 1
) -> Response:
    """Count, rows (points with their asset), workshops, units and open orders: five queries
    (six with an asset filter) whatever the page holds."""
    export_format = request.query_params.get("export")
    if export_format:
        from maintenance.monitoring import exports

        return exports.export_response(session, request, filters, export_format, user=user)
    points = paginate(session, list_points(filters), page, scalars=False)
    units = org_service.list_units(session, filters.workshop_id)
    return render(
        request,
        "monitoring/page.html",
        {
            "page": points,
            "filters": filters,
            "units": units,
            "open_orders": open_orders_by_point(session, (row[0].id for row in points.items)),
            "filtered_asset": session.get(Asset, filters.asset_id) if filters.asset_id else None,
            "can_create": can(user, Capability.WRITE),
            **_workshops(session),
            **_template_helpers(),
        },
        block="results",
    )


# --- The point page -----------------------------------------------------------------------


def _now_local_minute() -> str:
    """The datetime-local value of now at the plant, to the minute (the form's default)."""
    now = plant_now()
    return datetime.combine(now.date(), time(now.hour, now.minute)).isoformat(timespec="minutes")


def chart_readings(session: Session, point: MeasurementPoint, days: int) -> list[trend.Sample]:
    """The readings of the last ``days`` days, oldest first (the newest CHART_MAX_READINGS)."""
    start = utcnow() - timedelta(days=days)
    rows = session.execute(
        select(col(Reading.taken_at), col(Reading.value))
        .where(col(Reading.point_id) == point.id, col(Reading.taken_at) >= start)
        .order_by(col(Reading.taken_at).desc())
        .limit(CHART_MAX_READINGS)
    ).all()
    return [(taken_at, value) for taken_at, value in reversed(rows)]


@dataclass
class EntryResult:
    """What a reading typed into the form did (shown at once under the form)."""

    report: IngestReport
    taken_at: datetime
    value: float
    state: ConditionState | None
    orders: list[WorkOrder]

    @property
    def duplicate(self) -> bool:
        return self.report.duplicates > 0 and self.report.inserted == 0


def _point_context(
    request: Request,
    session: Session,
    user: User,
    point: MeasurementPoint,
    *,
    days: int = DEFAULT_TREND_DAYS,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    page: int = 1,
    entry_values: dict[str, Any] | None = None,
    entry_errors: dict[str, str] | None = None,
    entry_result: EntryResult | None = None,
) -> dict[str, Any]:
    asset = asset_service.get_asset_or_raise(session, point.asset_id)
    limits = service.limits_of(point)
    zones = zones_of(point)
    now = utcnow()
    recent = trend.recent_readings(session, [point]).get(point.id or 0, [])
    forecast = trend.forecast(recent, limits, now=now)
    readings = chart_readings(session, point, days)
    of_point = select(Reading).where(col(Reading.point_id) == point.id)
    open_order = open_orders_by_point(session, [point.id]).get(point.id or 0)
    workshop = org_service.get_workshop_or_raise(session, point.workshop_id)
    return {
        "point": point,
        "point_url": f"/monitoring/points/{point.id}",
        "asset": asset,
        "workshop": workshop,
        "limits": limits,
        "zones": zones,
        "days": days,
        "trend_days": TREND_DAYS,
        "chart_option": charts.trend_option(point, readings, limits, zones=zones, forecast=forecast),
        "chart_count": len(readings),
        "forecast": forecast,
        "readings": seek_page(
            request,
            session,
            of_point,
            Reading,
            NEWEST_READINGS_FIRST,
            after=after,
            before=before,
            last=last,
            page=page,
            size=READINGS_PAGE_SIZE,
        ),
        "open_order": open_order,
        "can_write": can_write_in(session, user, point.workshop_id),
        "entry_values": entry_values or {"taken_at": _now_local_minute()},
        "entry_errors": entry_errors or {},
        "entry_result": entry_result,
        "is_thickness": point.quantity == Quantity.WALL_THICKNESS,
        **_template_helpers(),
        "now": now,
    }


# Which block an htmx request gets, by the element it targets.
_POINT_BLOCKS = {"trend": "trend", "readings": "readings"}


@router.get("/monitoring/points/{point_id:int}")
def point_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    point_id: RecordId,
    days: int = DEFAULT_TREND_DAYS,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    page: int = 1,
) -> Response:
    """The readings tab pages by keyset: ``after``/``before`` carry the cursor of the reading the
    page starts after (ends before), ``last`` reads from the oldest; ``page=N`` (links from
    before) is served as the asset list serves it."""
    point = service.get_point_or_raise(session, point_id)
    days = days if days in TREND_DAYS else DEFAULT_TREND_DAYS
    context = _point_context(request, session, user, point, days=days, after=after, before=before, last=last, page=page)
    block = _POINT_BLOCKS.get(request.headers.get("HX-Target", ""), "content")
    return render(request, "monitoring/point.html", context, block=block)


def parse_reading_form(form: FormDep) -> tuple[float | None, datetime | None, dict[str, str]]:
    """The value (a finite number) and the time (datetime-local in plant time → aware UTC;
    empty: now, to the minute, so a double-clicked form is one reading)."""
    errors: dict[str, str] = {}
    raw_value = str(form.get("value", "")).strip().replace(",", ".")
    value: float | None = None
    if not raw_value:
        errors["value"] = _("Enter the value read.")
    else:
        try:
            value = float(raw_value)
        except ValueError:
            errors["value"] = _("Enter a number.")
        else:
            if value != value or value in (float("inf"), float("-inf")):
                errors["value"] = _("Enter a number.")
                value = None
    raw_at = str(form.get("taken_at", "")).strip()
    taken_at: datetime | None = None
    if not raw_at:
        now = plant_now()
        taken_at = now.replace(second=0, microsecond=0).astimezone(UTC)
    else:
        try:
            taken_at = parse_plant_datetime(raw_at)
        except ValueError:
            errors["taken_at"] = _("Enter a date and time.")
    return value, taken_at, errors


def _entry_errors(errors: Sequence[FieldError]) -> dict[str, str]:
    """The ingest's reasons on the form's inputs (anything else on the form as a whole)."""
    result: dict[str, str] = {}
    for error in errors:
        key = error.field if error.field in ("value", "taken_at") else "__all__"
        result[key] = f"{result[key]} {error.message}" if key in result else error.message
    return result


@router.post("/monitoring/points/{point_id:int}/readings")
def enter_reading(
    request: Request, session: SessionDep, user: WriterUser, point_id: RecordId, form: FormDep
) -> Response:
    """A value typed in on the point page: the same ingest as imports and the API (source form,
    all-or-nothing), idempotent by (point, taken_at) — a re-submitted form is not a second
    reading. The page comes back with the result under the form."""
    point = service.get_point_or_raise(session, point_id)
    require_write_in(session, user, point.workshop_id)
    values = {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}
    value, taken_at, errors = parse_reading_form(form)
    result: EntryResult | None = None
    if value is not None and taken_at is not None and not errors:
        try:
            report = ingest_readings(
                session,
                [ReadingIn(point_code=point.code, taken_at=taken_at, value=value, row=1)],
                source=ReadingSource.FORM,
                actor=user,
                mode=IngestMode.ALL_OR_NOTHING,
                entered_by_id=user.id,
            )
        except ValidationFailed as error:
            errors = _entry_errors(error.errors) or {"__all__": error.message}
        else:
            result = _entry_result(session, point, report, taken_at, value)
    if errors:
        errors.setdefault("__all__", _("The reading was not saved."))
    context = _point_context(
        request,
        session,
        user,
        point,
        entry_values=values if errors else None,
        entry_errors=errors,
        entry_result=result,
    )
    return render(request, "monitoring/point.html", context, status_code=422 if errors else 200)


def _entry_result(
    session: Session, point: MeasurementPoint, report: IngestReport, taken_at: datetime, value: float
) -> EntryResult:
    stored = session.get(Reading, (point.id, taken_at))
    orders = (
        list(session.scalars(select(WorkOrder).where(col(WorkOrder.number).in_(report.alerts_opened))))
        if report.alerts_opened
        else []
    )
    return EntryResult(
        report=report,
        taken_at=taken_at,
        value=stored.value if stored else value,
        state=stored.state if stored else None,
        orders=orders,
    )


# --- Create and edit ----------------------------------------------------------------------


def _field_labels() -> dict[str, str]:
    return {
        "code": _("Point code"),
        "asset_id": _("Asset"),
        "name": _("Name"),
        "quantity": _("Measured quantity"),
        "unit": _("Unit"),
        "preset": _("Limit preset"),
        "warning_high": _("Warning high"),
        "alarm_high": _("Alarm high"),
        "warning_low": _("Warning low"),
        "alarm_low": _("Alarm low"),
        "warnings_to_raise": _("Warnings in a row that raise an order"),
        "initial_thickness_mm": _("Initial thickness (mm)"),
        "initial_date": _("Initial thickness measured on"),
        "required_thickness_mm": _("Required thickness (mm)"),
        "is_active": _("Active"),
    }


def _preset_limits() -> list[dict[str, Any]]:
    """Each ISO 10816-3 preset with its boundaries (the form shows the chosen one's limits)."""
    return [{"preset": preset, "ab": zones.ab, "bc": zones.bc, "cd": zones.cd} for preset, zones in ISO_10816_3.items()]


def _form_page(
    request: Request,
    point: MeasurementPoint | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "monitoring/point_form.html",
        {
            "point": point,
            "values": values,
            "errors": errors,
            "preset_limits": _preset_limits(),
            "quantity_units": {quantity.value: spec.unit for quantity, spec in QUANTITIES.items()},
            **CHOICES,
        },
        status_code=status_code,
    )


def _form_values(session: Session, form: FormDep) -> tuple[dict[str, Any], dict[str, str]]:
    """The form names the asset by tag, has an "active" checkbox, and leaves the unit to the
    quantity when blank; limits that a preset sets are ignored for other presets' points."""
    values = form_values(form)
    quantity = Quantity.from_label(str(values.get("quantity", "")))
    if not str(values.get("unit", "")).strip() and quantity is not None:
        values["unit"] = QUANTITIES[quantity].unit
    if quantity is not None and quantity != Quantity.VIBRATION and not values.get("preset"):
        values["preset"] = LimitPreset.NONE.value
    return values, resolve_asset_tag(session, values)


def _service_errors(error: ValidationFailed) -> dict[str, str]:
    return on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}


@router.get("/monitoring/points/new")
def new_point_page(
    request: Request, session: SessionDep, user: WriterUser, asset_id: RecordId | None = None
) -> Response:
    values: dict[str, Any] = {
        "quantity": Quantity.VIBRATION.value,
        "unit": QUANTITIES[Quantity.VIBRATION].unit,
        "preset": LimitPreset.NONE.value,
        "warnings_to_raise": 3,
        "is_active": True,
    }
    if asset_id is not None:
        asset = asset_service.get_asset_or_raise(session, asset_id)
        require_write_in(session, user, asset.workshop_id)
        values["asset_tag"] = asset.tag
    return _form_page(request, None, values, {})


@router.post("/monitoring/points/new")
def create_point(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    values, errors = _form_values(session, form)
    data, form_errors = validate_form(PointCreate, values)
    errors = form_errors | errors
    if data is not None and not errors:
        try:
            point = service.create_point(session, data, actor=user)
        except ValidationFailed as error:
            errors = _service_errors(error)
        else:
            add_toast(request, _("Measurement point %(code)s created.", code=point.code))
            return redirect(request, f"/monitoring/points/{point.id}")
    return _form_page(request, None, values, errors, status_code=422)


@router.get("/monitoring/points/{point_id:int}/edit")
def edit_point_page(request: Request, session: SessionDep, user: WriterUser, point_id: RecordId) -> Response:
    point = service.get_point_or_raise(session, point_id)
    require_write_in(session, user, point.workshop_id)
    asset = asset_service.get_asset_or_raise(session, point.asset_id)
    values = point.model_dump(mode="json") | {"asset_tag": asset.tag}
    return _form_page(request, point, values, {})


@router.post("/monitoring/points/{point_id:int}/edit")
def update_point(
    request: Request, session: SessionDep, user: WriterUser, point_id: RecordId, form: FormDep
) -> Response:
    point = service.get_point_or_raise(session, point_id)
    require_write_in(session, user, point.workshop_id)
    values, errors = _form_values(session, form)
    data, form_errors = validate_form(PointUpdate, values)
    errors = form_errors | errors
    if data is not None and not errors:
        try:
            service.update_point(session, point, data, actor=user)
        except Conflict:
            return conflict_response(
                request,
                heading=_("Someone else changed point %(code)s while you were editing it.", code=point.code),
                changes=_differences(session, point, data),
                audit=("measurement_point", point.id),
                edit_url=f"/monitoring/points/{point.id}/edit",
                back=(f"/monitoring/points/{point.id}", _("Back to the point")),
            )
        except ValidationFailed as error:
            errors = _service_errors(error)
        else:
            add_toast(request, _("Measurement point %(code)s saved.", code=point.code))
            return redirect(request, f"/monitoring/points/{point.id}")
    return _form_page(request, point, values, errors, status_code=422)


def _differences(session: Session, stored: MeasurementPoint, mine: PointUpdate) -> list[Difference]:
    """The edited fields; the asset shown by its tag, choices by their labels."""

    def display(name: str, value: Any) -> Any:
        if name == "asset_id":
            asset = session.get(Asset, value) if value else None
            return asset.tag if asset else ""
        choice = {"quantity": Quantity, "preset": LimitPreset}.get(name)
        if choice is not None and value is not None:
            return choice(value).label
        return value

    return differences(stored, mine, labels=_field_labels(), display=display)


# --- The alarm board ----------------------------------------------------------------------


@dataclass
class BoardRow:
    point: MeasurementPoint
    tag: str
    asset_name: str
    limit: float | None
    forecast: trend.Forecast | None  # of a point in warning (None: too few recent readings)
    open_order: OpenOrder | None

    @property
    def in_alarm(self) -> bool:
        return self.point.latest_state == ConditionState.ALARM

    @property
    def days_to_alarm(self) -> float | None:
        return None if self.forecast is None else self.forecast.days_to_alarm

    @property
    def needs_order(self) -> bool:
        """In alarm with no open CBM order: somebody must act (the board flags it)."""
        return self.point.latest_state == ConditionState.ALARM and self.open_order is None


def _breached_limit(point: MeasurementPoint, limits: Limits) -> float | None:
    """The limit the latest value is beyond (alarm before warning, high before low)."""
    if point.latest_value is None or point.latest_state is None:
        return None
    breach = breached_limit(point.latest_value, point.latest_state, limits)
    return None if breach is None else breach.limit


@router.get("/monitoring/alarms")
def alarm_board(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Active points in warning or alarm, by workshop, most severe and longest first. Queries:
    points (with their asset), open orders, the recent readings of all warning points (one
    query, for the forecasts) and workshops — whatever the number of points."""
    workshop_id = request.query_params.get("workshop_id", "")
    severity = case(
        {ConditionState.ALARM.value: 0, ConditionState.WARNING.value: 1}, value=col(MeasurementPoint.latest_state)
    )
    stmt = (
        select(MeasurementPoint, col(Asset.tag), col(Asset.name))
        .join(Asset, col(Asset.id) == col(MeasurementPoint.asset_id))
        .where(col(MeasurementPoint.is_active).is_(True), col(MeasurementPoint.latest_state).in_(ALARM_STATES))
        .order_by(
            col(MeasurementPoint.workshop_id), severity, col(MeasurementPoint.state_since), col(MeasurementPoint.code)
        )
    )
    selected_workshop = int(workshop_id) if workshop_id.isdigit() else None
    if selected_workshop is not None:
        stmt = stmt.where(col(MeasurementPoint.workshop_id) == selected_workshop)
    found = session.execute(stmt).all()
    points = [row[0] for row in found]
    open_orders = open_orders_by_point(session, (point.id for point in points))
    warnings = [point for point in points if point.latest_state == ConditionState.WARNING]
    series = trend.recent_readings(session, warnings)
    now = utcnow()
    groups: dict[int, list[BoardRow]] = defaultdict(list)
    for point, tag, asset_name in found:
        limits = service.limits_of(point)
        # A point in alarm is there already; the trend forecasts when a warning becomes one.
        forecast = (
            trend.forecast(series.get(point.id or 0, []), limits, now=now)
            if point.latest_state == ConditionState.WARNING
            else None
        )
        groups[point.workshop_id].append(
            BoardRow(point, tag, asset_name, _breached_limit(point, limits), forecast, open_orders.get(point.id or 0))
        )
    rows = [row for group in groups.values() for row in group]
    return render(
        request,
        "monitoring/alarms.html",
        {
            "groups": groups,
            "selected_workshop": selected_workshop,
            "alarm_count": sum(1 for row in rows if row.point.latest_state == ConditionState.ALARM),
            "warning_count": sum(1 for row in rows if row.point.latest_state == ConditionState.WARNING),
            "unattended": [row for row in rows if row.needs_order],
            **_workshops(session),
            **_template_helpers(),
            "now": now,
        },
        block="results",
    )


# --- The condition-based order's alert (on the order page) ---------------------------------


@router.get("/orders/{order_id:int}/condition")
def order_condition(request: Request, session: SessionDep, user: CurrentUser, order_id: RecordId) -> Response:
    """What raised a condition-based order, in the reader's language: the point, the reading, its
    state and a link to the point's trend. The order page pulls it in with htmx (the orders domain
    does not know monitoring); an order no alert raised gets nothing."""
    found = session.execute(
        select(ConditionAlert, MeasurementPoint)
        .join(MeasurementPoint, col(MeasurementPoint.id) == col(ConditionAlert.point_id))
        .where(col(ConditionAlert.order_id) == order_id)
        .order_by(col(ConditionAlert.id))
    ).all()
    return render(
        request,
        "monitoring/_order_condition.html",
        {"alerts": [(alert, point) for alert, point in found], **_template_helpers()},
        block=None,
    )


# --- The asset page's readings tab --------------------------------------------------------


@router.get("/assets/{asset_id:int}/readings")
def asset_points(request: Request, session: SessionDep, user: CurrentUser, asset_id: RecordId) -> Response:
    asset = asset_service.get_asset_or_raise(session, asset_id)
    points = list(
        session.scalars(
            select(MeasurementPoint)
            .where(col(MeasurementPoint.asset_id) == asset.id)
            .order_by(col(MeasurementPoint.is_active).desc(), col(MeasurementPoint.code))
        )
    )
    return render(
        request,
        "monitoring/_asset_points.html",
        {
            "asset": asset,
            "points": points,
            "open_orders": open_orders_by_point(session, (point.id for point in points)),
            "can_add": can_write_in(session, user, asset.workshop_id),
            **_template_helpers(),
        },
        block=None,
    )
