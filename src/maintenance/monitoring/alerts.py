"""From readings to condition-based work orders.

A point whose reading reaches its alarm limit — or whose warning holds for
``warnings_to_raise`` consecutive readings — gets one :class:`ConditionAlert` and one CBM work
order. While that order is open, later readings of the point attach to the alert (its
``readings_since`` counts them): a burst of alarm readings raises one order, not one per reading.
A return to normal is shown (``BACK_TO_NORMAL``, ``normal_again_at``) but does not close the
order: somebody decides that. A new alarm while the order is still open re-opens the same alert.
When the order is completed, closed or cancelled the alert is closed; the next alarm raises a new
order.

The orders domain does not know monitoring (design.md §2), so it cannot close alerts when an order
finishes; :func:`close_alerts_of_finished_orders` does it lazily, at the start of each ingest for
the points concerned (and wherever a page wants the current picture).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.audit.service import SystemActor
from maintenance.db import utcnow
from maintenance.exceptions import ValidationFailed
from maintenance.monitoring import rules
from maintenance.monitoring.choices import AlertState, ConditionState
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint
from maintenance.monitoring.service import limits_of
from maintenance.orders import service as order_service
from maintenance.orders.choices import OrderState, OrderType, Priority
from maintenance.orders.models import WorkOrder, WorkOrderCreate
from maintenance.org.permissions import Capability

# Orders are raised by the monitoring process, not by whoever sent the readings: the readings come
# from a form, a round, a file, a collector's token or a system process, and the order is the
# condition's, raised the same way whichever it was (who sent each reading is on the reading).
MONITORING_ACTOR = SystemActor(
    username="system:monitoring", capabilities=frozenset({Capability.WRITE_EVERYWHERE})
)  # raises work in any workshop
FINISHED_ORDER_STATES = frozenset({OrderState.COMPLETED, OrderState.CLOSED, OrderState.CANCELLED})
ACTIVE_ALERT_STATES = (AlertState.OPEN, AlertState.BACK_TO_NORMAL)


def close_alerts_of_finished_orders(
    session: Session, point_ids: Collection[int] | None = None, *, at: datetime | None = None
) -> dict[int, ConditionAlert]:
    """Close the active alerts (of ``point_ids``, or of every point) whose order is finished, in
    one query; return the alerts still active, by point id."""
    stmt = (
        select(ConditionAlert, col(WorkOrder.state), col(WorkOrder.actual_finish_at))
        .join(WorkOrder, col(WorkOrder.id) == col(ConditionAlert.order_id))
        .where(col(ConditionAlert.state).in_(ACTIVE_ALERT_STATES))
        .order_by(col(ConditionAlert.id))
    )
    if point_ids is not None:
        if not point_ids:
            return {}
        stmt = stmt.where(col(ConditionAlert.point_id).in_(list(point_ids)))
    active: dict[int, ConditionAlert] = {}
    now = at or utcnow()
    for alert, order_state, finished_at in session.execute(stmt).all():
        if order_state in FINISHED_ORDER_STATES:
            before = audit.snapshot(alert)
            alert.state = AlertState.CLOSED
            alert.closed_at = finished_at or now
            session.flush()
            audit.record_update(session, MONITORING_ACTOR, alert, before)
        else:
            active[alert.point_id] = alert
    return active


def alert_title(point: MeasurementPoint, state: ConditionState, value: float) -> str:
    """The CBM order's title, the same in every language: the point's code and name as entered,
    the value with its unit and the limit it reached ("P-101A-DE-V 驱动端轴承振动 7.4 mm/s ≥ 7.1").
    It is stored on the order; whatever is said about it in words (raised by condition monitoring,
    alarm or warning, the trend) is drawn on the order page in the reader's language from the alert
    (:func:`maintenance.monitoring.routes.order_condition`)."""
    unit = point.unit or rules.QUANTITIES[point.quantity].unit
    title = " ".join(part for part in (point.code, point.name.strip(), f"{value:g}", unit) if part)
    breach = rules.breached_limit(value, state, limits_of(point))
    if breach is not None:
        title += f" {breach.sign} {breach.limit:g}"
    return title


def raise_alert(
    session: Session, point: MeasurementPoint, taken_at: datetime, value: float, state: ConditionState
) -> tuple[ConditionAlert, str] | None:
    """Raise the CBM order for ``point`` and the alert that links it to the triggering reading;
    return the alert and the order's number.

    The order stores no system text in a language (its description is left to the engineers): the
    order page shows the alert — point, reading, state, a link to the trend — in the reader's
    language. Returns None when no order can be raised (the asset is retired): the readings are
    kept and the point's state shows the alarm all the same."""
    data = WorkOrderCreate(
        order_type=OrderType.CBM,
        asset_id=point.asset_id,
        title=alert_title(point, state, value)[:200],
        priority=Priority.URGENT if state == ConditionState.ALARM else Priority.HIGH,
    )
    try:
        order = order_service.create_order(session, data, actor=MONITORING_ACTOR)
    except ValidationFailed:
        return None
    now = utcnow()
    alert = ConditionAlert(
        point_id=point.id,  # type: ignore[arg-type]
        order_id=order.id,  # type: ignore[arg-type]
        state=AlertState.OPEN,
        trigger_state=state,
        trigger_taken_at=taken_at,
        trigger_value=value,
        opened_at=now,
        readings_since=1,
    )
    session.add(alert)
    session.flush()
    audit.record_create(session, MONITORING_ACTOR, alert, order_number=order.number)
    return alert, order.number


@dataclass
class PointOutcome:
    """What new readings did to one point."""

    alert: ConditionAlert | None
    opened_orders: list[str]  # numbers of the CBM orders raised


def _raises(state: ConditionState, consecutive: int, needed: int) -> bool:
    return state == ConditionState.ALARM or (state == ConditionState.WARNING and consecutive >= needed)


def apply_readings(
    session: Session,
    point: MeasurementPoint,
    readings: Sequence[tuple[datetime, float, ConditionState]],
    alert: ConditionAlert | None,
) -> PointOutcome:
    """Walk ``point``'s new readings in time order (``readings`` sorted by time): keep the point's
    latest value/state/streak, attach to, re-open or raise its alert. Readings not newer than the
    point's stored latest reading (late or back-filled) are stored by the caller but change nothing
    here: "latest" and the warning streak follow the newest reading."""
    opened: list[str] = []
    latest_at = point.latest_taken_at
    if latest_at is not None and readings and readings[0][0] <= latest_at:
        readings = [reading for reading in readings if reading[0] > latest_at]
    if not readings:
        return PointOutcome(alert=alert, opened_orders=opened)
    if all(reading[2] is ConditionState.NORMAL for reading in readings):
        # The common case, without the per-reading walk: nothing to raise, the streak is broken.
        first_at = readings[0][0]
        if point.latest_state != ConditionState.NORMAL:
            point.latest_state, point.state_since = ConditionState.NORMAL, first_at
        point.latest_taken_at, point.latest_value = readings[-1][0], readings[-1][1]
        point.consecutive_warnings = 0
        if alert is not None:
            alert.readings_since += len(readings)
            if alert.state == AlertState.OPEN:
                alert.state, alert.normal_again_at = AlertState.BACK_TO_NORMAL, first_at
        return PointOutcome(alert=alert, opened_orders=opened)
    state = point.latest_state
    since = point.state_since
    streak = point.consecutive_warnings
    needed = point.warnings_to_raise
    value = point.latest_value
    for taken_at, reading_value, reading_state in readings:
        latest_at, value = taken_at, reading_value
        if reading_state != state:
            state, since = reading_state, taken_at
        # The streak counts readings at or above the warning limit (an alarm is beyond it too).
        streak = 0 if reading_state == ConditionState.NORMAL else streak + 1
        if alert is not None:
            alert.readings_since += 1
            if alert.state == AlertState.OPEN and reading_state == ConditionState.NORMAL:
                alert.state, alert.normal_again_at = AlertState.BACK_TO_NORMAL, taken_at
            elif alert.state == AlertState.BACK_TO_NORMAL and _raises(reading_state, streak, needed):
                alert.state, alert.normal_again_at = AlertState.OPEN, None
        elif _raises(reading_state, streak, needed):
            raised = raise_alert(session, point, taken_at, reading_value, reading_state)
            if raised is not None:
                alert = raised[0]
                opened.append(raised[1])
    point.latest_taken_at = latest_at
    point.latest_value = value
    point.latest_state = state
    point.state_since = since
    point.consecutive_warnings = streak
    return PointOutcome(alert=alert, opened_orders=opened)
