"""Readings in: checked, evaluated, stored once, and turned into one condition-based order per point."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.db import UTCDateTime, utcnow
from maintenance.exceptions import ValidationFailed
from maintenance.monitoring.alerts import close_alerts_of_finished_orders
from maintenance.monitoring.choices import AlertState, ConditionState, Quantity, ReadingSource
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint, Reading
from maintenance.monitoring.readings.ingest import IngestMode, ReadingIn
from maintenance.orders import service as orders
from maintenance.orders.choices import IntervalUnit, OrderState, OrderType, PlanBasis, Priority
from maintenance.orders.models import PmPlanCreate, WorkOrder
from maintenance.orders.pm import service as pm
from tests.monitoring.conftest import SYSTEM, T0, Ingest, MakePoint, series

HOUR = timedelta(hours=1)


def readings_of(session: Session, point: MeasurementPoint) -> list[tuple[datetime, float, ConditionState]]:
    return [
        (r.taken_at, r.value, r.state)
        for r in session.scalars(
            select(Reading).where(col(Reading.point_id) == point.id).order_by(col(Reading.taken_at))
        )
    ]


def cbm_orders(session: Session, asset: Asset) -> list[WorkOrder]:
    return list(
        session.scalars(
            select(WorkOrder).where(col(WorkOrder.asset_id) == asset.id, col(WorkOrder.order_type) == OrderType.CBM)
        )
    )


def alerts_of(session: Session, point: MeasurementPoint) -> list[ConditionAlert]:
    return list(
        session.scalars(
            select(ConditionAlert).where(col(ConditionAlert.point_id) == point.id).order_by(col(ConditionAlert.id))
        )
    )


def finish(session: Session, order: WorkOrder) -> None:
    for action in ("approve", "start", "complete"):
        orders.perform(session, order, action, actor=SYSTEM)


# --- Storing ------------------------------------------------------------------------------


def test_readings_are_stored_with_their_state_and_source(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point(warning_high=4.5, alarm_high=7.1)

    report = ingest(series(point.code, [2.0, 4.5, 7.1]), source=ReadingSource.IMPORT)

    assert (report.received, report.inserted, report.duplicates, report.rejected) == (3, 3, 0, [])
    assert readings_of(session, point) == [
        (T0, 2.0, ConditionState.NORMAL),
        (T0 + HOUR, 4.5, ConditionState.WARNING),
        (T0 + 2 * HOUR, 7.1, ConditionState.ALARM),
    ]
    assert {r.source for r in session.scalars(select(Reading))} == {ReadingSource.IMPORT}


def test_readings_move_the_latest_value_but_leave_the_points_version_alone(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    # An engineer editing the point's limits while readings stream in must not get a 409.
    point = make_point(warning_high=4.5, alarm_high=7.1)
    version, updated_at = point.version, point.updated_at

    ingest(series(point.code, [2.0, 3.0]))
    session.expire_all()
    stored = session.get(MeasurementPoint, point.id)

    assert stored is not None
    assert (stored.latest_value, stored.latest_taken_at) == (3.0, T0 + HOUR)
    assert (stored.version, stored.updated_at) == (version, updated_at)


def test_re_sent_readings_are_counted_as_duplicates_and_never_stored_twice(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    batch = series(point.code, [1.0, 2.0, 3.0])
    ingest(batch)

    again = ingest(batch)
    overlapping = ingest(series(point.code, [2.0, 3.0, 3.5, 3.6], start=T0 + HOUR))

    assert (again.inserted, again.duplicates) == (0, 3)
    assert (overlapping.inserted, overlapping.duplicates) == (2, 2)
    assert len(readings_of(session, point)) == 5


def test_a_reading_given_twice_in_one_batch_is_stored_once_the_first_value_kept(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    report = ingest([ReadingIn(point.code, T0, 1.0, 1), ReadingIn(point.code, T0, 9.0, 2)])
    assert (report.inserted, report.duplicates) == (1, 1)
    assert readings_of(session, point) == [(T0, 1.0, ConditionState.NORMAL)]


def test_the_same_instant_in_another_offset_is_the_same_reading(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    ingest([ReadingIn(point.code, T0, 1.0, 1)])
    shanghai = T0.astimezone(ZoneInfo("Asia/Shanghai"))
    report = ingest([ReadingIn(point.code, shanghai, 1.0, 1)])
    assert (report.inserted, report.duplicates) == (0, 1)


def test_a_naive_time_is_plant_time(session: Session, make_point: MakePoint, ingest: Ingest) -> None:
    point = make_point()
    ingest([ReadingIn(point.code, datetime(2026, 1, 5, 16, 0), 1.0, 1)])  # noqa: DTZ001  # 16:00 in Shanghai = 08:00 UTC
    assert readings_of(session, point)[0][0] == T0


def test_times_are_stored_as_the_orm_stores_them(session: Session, make_point: MakePoint, ingest: Ingest) -> None:
    """Ingest writes SQLite's datetime text itself (for speed): it must be the very text the
    UTCDateTime column writes, or the primary key would not see a re-sent reading."""
    point = make_point()
    at = datetime(2026, 1, 5, 8, 0, 0, 123456, tzinfo=UTC)
    ingest([ReadingIn(point.code, at, 1.0, 1), ReadingIn(point.code, at + timedelta(seconds=1), 1.0, 2)])
    session.add(
        Reading(
            point_id=point.id, taken_at=at + HOUR, value=2.0, state=ConditionState.NORMAL, source=ReadingSource.FORM
        )
    )  # type: ignore[arg-type]
    session.flush()
    dialect = session.get_bind().dialect
    stored = (
        session.execute(text("select taken_at from reading where point_id = :p order by taken_at"), {"p": point.id})
        .scalars()
        .all()
    )
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    expected = [at, at + timedelta(seconds=1), at + HOUR]
    if process is not None and isinstance(stored[0], str):
        assert stored == [process(UTCDateTime().process_bind_param(t, dialect)) for t in expected]
    assert [t for t, _v, _s in readings_of(session, point)] == expected


def test_rows_are_consumed_lazily_in_chunks(session: Session, make_point: MakePoint, ingest: Ingest) -> None:
    point = make_point()
    consumed = 0

    def rows() -> Iterator[ReadingIn]:
        nonlocal consumed
        for i in range(25):
            consumed += 1
            yield ReadingIn(point.code, T0 + i * HOUR, 1.0, i + 1)

    report = ingest(rows(), chunk_size=10)
    assert (consumed, report.received, report.inserted) == (25, 25, 25)


# --- Refusing -----------------------------------------------------------------------------


def test_unknown_points_impossible_values_and_future_times_are_refused_with_their_rows(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    inactive = make_point(is_active=False)
    rows = [
        ReadingIn(point.code, T0, 1.0, 2),
        ReadingIn("NO-SUCH-POINT", T0, 1.0, 3),
        ReadingIn(point.code, T0 + HOUR, 250.0, 4),
        ReadingIn(point.code, utcnow() + timedelta(hours=1), 1.0, 5),
        ReadingIn(inactive.code, T0, 1.0, 6),
        ReadingIn(point.code, T0 + 2 * HOUR, float("nan"), 7),
    ]

    with pytest.raises(ValidationFailed) as refused:
        ingest(rows)

    errors = [(e.row, e.field) for e in refused.value.errors]
    assert errors == [(3, "point"), (4, "value"), (5, "taken_at"), (6, "point"), (7, "value")]
    messages = {e.row: e.message for e in refused.value.errors}
    assert "NO-SUCH-POINT" in messages[3]
    assert "250" in messages[4]
    assert "100" in messages[4]
    assert "6 行中有 5 行被拒绝" in refused.value.message  # 5 of 6 rows refused


def test_all_or_nothing_stores_nothing_when_one_row_is_refused(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    rows = [*series(point.code, [1.0] * 12), ReadingIn("NO-SUCH-POINT", T0, 1.0, 13)]
    with pytest.raises(ValidationFailed) as refused:
        ingest(rows, chunk_size=5)  # the bad row is in the last chunk: earlier chunks were flushed
    session.rollback()  # as the request or CLI command does on the error
    assert [e.row for e in refused.value.errors] == [13]
    assert session.scalar(select(func.count()).select_from(Reading)) == 0


def test_valid_only_stores_the_valid_rows_and_lists_the_others(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    rows = [
        *series(point.code, [1.0, 2.0]),
        ReadingIn("NO-SUCH-POINT", T0, 1.0, 3),
        ReadingIn(point.code, T0 + 5 * HOUR, -1.0, 4),
    ]

    report = ingest(rows, mode=IngestMode.VALID_ONLY)

    assert (report.received, report.inserted, report.rejected_count) == (4, 2, 2)
    assert [(e.row, e.field) for e in report.rejected] == [(3, "point"), (4, "value")]
    assert len(readings_of(session, point)) == 2


# --- Latest value and state ---------------------------------------------------------------


def test_the_point_keeps_its_latest_value_and_since_when_its_state_holds(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point(warnings_to_raise=10)
    ingest(series(point.code, [1.0, 5.0, 5.2, 5.1]))
    assert (point.latest_value, point.latest_taken_at, point.latest_state) == (
        5.1,
        T0 + 3 * HOUR,
        ConditionState.WARNING,
    )
    assert point.state_since == T0 + HOUR
    assert point.consecutive_warnings == 3


def test_late_readings_are_stored_but_do_not_move_the_latest(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    ingest(series(point.code, [1.0, 1.5], start=T0 + 10 * HOUR))
    report = ingest(series(point.code, [6.0, 9.0]))  # earlier in time, arriving later

    assert report.inserted == 2
    assert (point.latest_value, point.latest_taken_at, point.latest_state) == (
        1.5,
        T0 + 11 * HOUR,
        ConditionState.NORMAL,
    )
    assert len(readings_of(session, point)) == 4
    assert report.alerts_opened == []  # an old alarm found in back-filled data raises nothing now


def test_readings_out_of_order_in_one_batch_are_taken_in_time_order(
    session: Session, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    ingest([ReadingIn(point.code, T0 + 2 * HOUR, 1.0, 1), ReadingIn(point.code, T0, 3.0, 2)])
    assert (point.latest_value, point.latest_taken_at) == (1.0, T0 + 2 * HOUR)


# --- Alerts and condition-based orders ----------------------------------------------------


def test_an_alarm_raises_an_urgent_cbm_order_linked_to_the_reading_and_the_trend(
    session: Session, make_point: MakePoint, ingest: Ingest, asset: Asset
) -> None:
    point = make_point(code="P-101A-DE-V", warning_high=4.5, alarm_high=7.1)

    report = ingest(series(point.code, [2.0, 7.4]))

    [order] = cbm_orders(session, asset)
    assert report.alerts_opened == [order.number]
    assert order.priority == Priority.URGENT
    assert order.state == OrderState.DRAFT
    assert order.title == "P-101A-DE-V 驱动端水平振动 7.4 mm/s ≥ 7.1"  # the same in every language
    assert order.description == ""  # the alert is shown from the alert, in the reader's language
    [alert] = alerts_of(session, point)
    assert (alert.state, alert.order_id, alert.trigger_state) == (AlertState.OPEN, order.id, ConditionState.ALARM)
    assert (alert.trigger_taken_at, alert.trigger_value, alert.readings_since) == (T0 + HOUR, 7.4, 1)


@pytest.mark.parametrize("batches", [1, 5])
def test_a_burst_of_alarm_readings_raises_one_order_per_point(
    session: Session, make_point: MakePoint, ingest: Ingest, asset: Asset, batches: int
) -> None:
    points = [make_point(), make_point()]
    rows = [r for p in points for r in series(p.code, [8.0 + i / 10 for i in range(50)])]
    per_batch = len(rows) // batches
    opened = []
    for b in range(batches):
        opened += ingest(rows[b * per_batch : (b + 1) * per_batch]).alerts_opened

    assert len(opened) == 2
    assert len(cbm_orders(session, asset)) == 2
    for point in points:
        [alert] = alerts_of(session, point)
        assert alert.readings_since == 50
        assert alert.trigger_taken_at == T0


def test_a_warning_held_for_n_readings_raises_one_high_priority_order(
    session: Session, make_point: MakePoint, ingest: Ingest, asset: Asset
) -> None:
    point = make_point(warnings_to_raise=3)

    assert ingest(series(point.code, [5.0, 5.0, 1.0, 5.0, 5.0])).alerts_opened == []  # broken by a normal reading
    report = ingest(series(point.code, [5.5, 5.6, 5.7], start=T0 + 5 * HOUR))

    [order] = cbm_orders(session, asset)
    assert report.alerts_opened == [order.number]
    assert order.priority == Priority.HIGH
    [alert] = alerts_of(session, point)
    assert (alert.trigger_state, alert.trigger_taken_at, alert.trigger_value) == (
        ConditionState.WARNING,
        T0 + 5 * HOUR,
        5.5,
    )
    ingest(series(point.code, [5.8] * 10, start=T0 + 8 * HOUR))
    assert len(cbm_orders(session, asset)) == 1


def test_a_return_to_normal_is_shown_and_does_not_close_the_order(
    session: Session, make_point: MakePoint, ingest: Ingest, asset: Asset
) -> None:
    point = make_point()
    ingest(series(point.code, [8.0, 8.1]))
    ingest(series(point.code, [2.0, 2.1], start=T0 + 2 * HOUR))

    [alert] = alerts_of(session, point)
    assert (alert.state, alert.normal_again_at, alert.readings_since) == (AlertState.BACK_TO_NORMAL, T0 + 2 * HOUR, 4)
    [order] = cbm_orders(session, asset)
    assert order.state == OrderState.DRAFT
    assert point.latest_state == ConditionState.NORMAL

    report = ingest(series(point.code, [9.0], start=T0 + 4 * HOUR))  # alarms again, order still open
    assert report.alerts_opened == []
    assert (alert.state, alert.normal_again_at) == (AlertState.OPEN, None)
    assert len(cbm_orders(session, asset)) == 1


@pytest.mark.parametrize("ending", ["complete", "cancel"])
def test_when_the_order_is_finished_the_alert_closes_and_a_new_alarm_raises_a_new_order(
    session: Session, make_point: MakePoint, ingest: Ingest, asset: Asset, ending: str
) -> None:
    point = make_point()
    ingest(series(point.code, [8.0]))
    [first] = cbm_orders(session, asset)
    if ending == "complete":
        finish(session, first)
    else:
        orders.perform(session, first, "cancel", actor=SYSTEM, note="误报")

    report = ingest(series(point.code, [8.5], start=T0 + HOUR))

    old, new = alerts_of(session, point)
    assert old.state == AlertState.CLOSED
    assert old.closed_at is not None
    assert new.state == AlertState.OPEN
    assert len(report.alerts_opened) == 1
    assert report.alerts_opened[0] != first.number


def test_closing_alerts_of_finished_orders_on_its_own(
    session: Session, make_point: MakePoint, ingest: Ingest, asset: Asset
) -> None:
    point = make_point()
    ingest(series(point.code, [8.0]))
    [order] = cbm_orders(session, asset)
    assert set(close_alerts_of_finished_orders(session, [point.id])) == {point.id}  # type: ignore[list-item]
    finish(session, order)
    assert close_alerts_of_finished_orders(session) == {}
    [alert] = alerts_of(session, point)
    assert alert.state == AlertState.CLOSED
    assert alert.closed_at == order.actual_finish_at


def test_an_order_is_raised_whoever_sends_the_readings(
    session: Session, make_point: MakePoint, ingest: Ingest, asset: Asset
) -> None:
    from maintenance.org.models import Role
    from tests import factories

    outsider = factories.UserFactory(role=Role.ENGINEER)  # not of the asset's workshop
    point = make_point()
    report = ingest(series(point.code, [8.0]), actor=outsider, entered_by_id=outsider.id)
    [order] = cbm_orders(session, asset)
    assert report.alerts_opened == [order.number]
    assert order.requested_by_id is None  # raised by the monitoring process


# --- Runtime meters -----------------------------------------------------------------------


def test_runtime_readings_move_the_assets_runtime_pm_plan_meters(
    session: Session, make_point: MakePoint, ingest: Ingest, asset: Asset
) -> None:
    plan = pm.create_plan(
        session,
        PmPlanCreate.model_validate(
            {
                "asset_id": asset.id,
                "title": "大修",
                "basis": PlanBasis.RUNTIME,
                "interval_hours": 2000,
                "interval": 1,
                "interval_unit": IntervalUnit.MONTH,
                "start_date": date(2026, 1, 1),
                "lead_days": 7,
            }
        ),
        actor=SYSTEM,
    )
    point = make_point(quantity=Quantity.RUNTIME_HOURS, warning_high=None, alarm_high=None)

    ingest(series(point.code, [1200.0, 1212.5, 1224.0]))
    assert (plan.meter_hours, plan.meter_read_at) == (Decimal("1224.0"), T0 + 2 * HOUR)

    ingest(series(point.code, [1100.0], start=T0 - HOUR))  # a late reading: the meter stays
    assert plan.meter_hours == Decimal("1224.0")
