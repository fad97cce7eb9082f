"""The demo plant's condition monitoring: points on the machines, vessels and piping, 90 days of
readings with a few developing faults, and the alerts and CBM orders those faults raised through
the ordinary ingest. Loaded on the org and registry parts only (the orders part takes long and is
not needed: without its runtime PM plans the runtime meters are simply stored)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from maintenance.config import get_settings
from maintenance.db import plant_timezone, plant_today, utcnow
from maintenance.demo import monitoring as monitoring_demo
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.monitoring import trend
from maintenance.monitoring.choices import AlertState, ConditionState, LimitPreset, Quantity, ReadingSource
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint, Reading
from maintenance.monitoring.readings.ingest import IngestReport
from maintenance.monitoring.service import limits_of
from maintenance.monitoring.thickness.routes import thickness_locations
from maintenance.orders.choices import OrderType
from maintenance.orders.models import WorkOrder

SEED_DIR = get_settings().seed_dir
# The points whose stories in faults.csv reach an order: alarm, or a warning held.
FAULTS_RAISING_ORDERS = {
    "P-1101A-DE-V",  # bearing wear: 2.0 → 7.5 mm/s in 30 days
    "C-1201-DE-T",  # compressor bearing temperature climbing past 80 and 95 °C
    "P-2201A-DE-V",  # alarm, then stopped for the repair the registry shows
    "BL-4103-DE-V",  # alarm, then stopped for the repair the registry shows
    "BL-3101B-DE-V",  # alarm, back to normal after balancing
    "C-3201A-DE-V",  # a warning held for several readings, alarm forecast within two weeks
    "5101-PL-001-CML01",  # below its required wall thickness
}


class Loaded:
    def __init__(self, session: Session, report: IngestReport) -> None:
        self.session = session
        self.report = report


@pytest.fixture(scope="module")
def demo(engine: Engine) -> Iterator[Loaded]:
    """Org, registry and monitoring loaded once for the module, rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    for name, part in PARTS:
        if name in ("org", "assets"):
            part.load(session, SEED_DIR, SEED_ACTOR, utcnow())
    assert not monitoring_demo.is_loaded(session, SEED_DIR)
    report = monitoring_demo.load(session, SEED_DIR, SEED_ACTOR, utcnow())
    yield Loaded(session, report)
    session.close()
    outer.rollback()
    connection.close()


def test_the_part_knows_it_is_loaded(demo: Loaded) -> None:
    assert monitoring_demo.is_loaded(demo.session, SEED_DIR)
    assert ("monitoring", monitoring_demo) in PARTS
    assert [name for name, _part in PARTS].index("monitoring") > [name for name, _part in PARTS].index("orders")


def test_the_readings_are_the_same_for_the_same_day() -> None:
    today = plant_today()
    until = datetime.combine(today, time(12), tzinfo=plant_timezone()).astimezone(UTC)
    first = list(monitoring_demo.demo_readings(SEED_DIR, today, until))
    second = list(monitoring_demo.demo_readings(SEED_DIR, today, until))
    assert first == second
    assert all(reading.taken_at <= until for reading in first)


def test_every_reading_went_in_through_ingest(demo: Loaded) -> None:
    session = demo.session
    stored = session.scalar(select(func.count()).select_from(Reading)) or 0
    assert demo.report.inserted == demo.report.received == stored
    assert demo.report.rejected == []
    sources = set(session.scalars(select(col(Reading.source)).distinct()))
    assert sources == {ReadingSource.IMPORT}


def test_points_cover_machines_vessels_piping_and_runtime_meters(demo: Loaded) -> None:
    points = list(demo.session.scalars(select(MeasurementPoint)))
    by_quantity = Counter(point.quantity for point in points)
    assert by_quantity[Quantity.VIBRATION] >= 60
    assert by_quantity[Quantity.BEARING_TEMPERATURE] >= 30
    assert by_quantity[Quantity.CURRENT] >= 5
    assert by_quantity[Quantity.PRESSURE] + by_quantity[Quantity.TEMPERATURE] >= 8
    assert by_quantity[Quantity.RUNTIME_HOURS] == 2
    assert by_quantity[Quantity.WALL_THICKNESS] >= 10
    presets = {point.preset for point in points if point.quantity == Quantity.VIBRATION}
    assert {LimitPreset.G1_RIGID, LimitPreset.G2_RIGID, LimitPreset.G2_FLEXIBLE} <= presets
    assert all(point.warning_high is not None for point in points if point.quantity == Quantity.VIBRATION)
    codes = {point.code: point for point in points}
    assert codes["P-1101A-DE-V"].preset == LimitPreset.G1_RIGID  # 355 kW motor: group 1
    assert (codes["P-1101A-DE-V"].warning_high, codes["P-1101A-DE-V"].alarm_high) == (4.5, 7.1)
    assert codes["C-1201-DE-T"].alarm_high == 95


def test_readings_span_ninety_days_daily_or_every_eight_hours(demo: Loaded) -> None:
    session = demo.session
    today = plant_today()
    per_point = dict(session.execute(select(col(Reading.point_id), func.count()).group_by(col(Reading.point_id))).all())
    codes = dict(session.execute(select(col(MeasurementPoint.code), col(MeasurementPoint.id))).all())
    assert 88 <= per_point[codes["P-1102A-DE-V"]] <= 91  # daily
    assert 3 * 89 <= per_point[codes["C-1201-DE-T"]] <= 3 * 91  # every 8 h
    assert 4 <= per_point[codes["1301-PL-001-CML01"]] <= 8  # yearly surveys
    assert per_point[codes["P-2201A-DE-V"]] < per_point[codes["P-2201B-DE-V"]]  # stopped for repair
    total = sum(per_point.values())
    assert 15_000 <= total <= 30_000
    oldest = session.scalar(
        select(func.min(col(Reading.taken_at))).where(col(Reading.point_id) == codes["P-1102A-DE-V"])
    )
    assert oldest is not None
    assert oldest.astimezone(plant_timezone()).date() == today - timedelta(days=90)


def test_developing_faults_raised_one_cbm_order_per_point(demo: Loaded) -> None:
    session = demo.session
    rows = session.execute(
        select(MeasurementPoint.code, ConditionAlert, WorkOrder)
        .join(ConditionAlert, col(ConditionAlert.point_id) == col(MeasurementPoint.id))
        .join(WorkOrder, col(WorkOrder.id) == col(ConditionAlert.order_id))
    ).all()
    codes = [code for code, _alert, _order in rows]
    assert sorted(codes) == sorted(FAULTS_RAISING_ORDERS)  # one each, no more
    assert sorted(demo.report.alerts_opened) == sorted(order.number for _code, _alert, order in rows)
    for code, alert, order in rows:
        assert order.order_type == OrderType.CBM
        assert order.title.startswith(f"{code} ")
        assert "/monitoring/points/" not in order.description  # the link is drawn from the alert
        assert alert.order_id == order.id
    states = {code: alert.state for code, alert, _order in rows}
    assert states["BL-3101B-DE-V"] == AlertState.BACK_TO_NORMAL
    assert all(state == AlertState.OPEN for code, state in states.items() if code != "BL-3101B-DE-V")


def test_the_alarm_board_has_points_in_alarm_and_the_rest_is_healthy(demo: Loaded) -> None:
    states = Counter(demo.session.scalars(select(col(MeasurementPoint.latest_state))))
    assert states[ConditionState.ALARM] + states[ConditionState.WARNING] >= 4
    assert states[ConditionState.NORMAL] > 0.9 * sum(states.values())
    p1101a = demo.session.scalar(select(MeasurementPoint).where(col(MeasurementPoint.code) == "P-1101A-DE-V"))
    assert p1101a is not None
    assert p1101a.latest_state == ConditionState.ALARM
    compressor = demo.session.scalar(select(MeasurementPoint).where(col(MeasurementPoint.code) == "C-3201A-DE-V"))
    assert compressor is not None
    assert compressor.latest_state == ConditionState.WARNING  # the board has a forecast to show
    fan = demo.session.scalar(select(MeasurementPoint).where(col(MeasurementPoint.code) == "BL-3101B-DE-V"))
    assert fan is not None
    assert fan.latest_state == ConditionState.NORMAL


def test_the_compressor_in_warning_is_forecast_to_reach_alarm_within_two_weeks(demo: Loaded) -> None:
    """Rising about 0.14 mm/s a day past 5 mm/s towards the 7.1 mm/s alarm (ISO 10816-3 group 1 rigid)."""
    point = demo.session.scalar(select(MeasurementPoint).where(col(MeasurementPoint.code) == "C-3201A-DE-V"))
    assert point is not None
    readings = trend.recent_readings(demo.session, [point])[point.id]  # type: ignore[index]
    days = trend.days_to_alarm(readings, limits_of(point), now=utcnow())
    assert days is not None
    assert 3 <= days <= 14


def test_thickness_locations_are_assessed(demo: Loaded) -> None:
    locations = thickness_locations(demo.session)
    today = plant_today()
    by_code = {location.point.code: location.assessment for location in locations}
    assert len(by_code) >= 10
    assert all(assessment.has_readings for assessment in by_code.values())
    assert [code for code, a in by_code.items() if a.below_required] == ["5101-PL-001-CML01"]
    assert locations[0].point.code == "5101-PL-001-CML01"  # remaining life 0 sorts first
    assert by_code["2201-PL-002-CML01"].is_overdue(today)
    assert by_code["2101-PL-002-CML01"].remaining_life_unlimited  # stainless: no corrosion
    fast = by_code["1101-PL-003-CML01"]
    assert fast.governing_basis == "short"
    assert fast.remaining_life_years is not None
    assert 3 < fast.remaining_life_years < 6
