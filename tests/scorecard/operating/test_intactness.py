"""完好率 counts from the registry and the orders as of a day: who is in service, who is intact."""

from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from maintenance.assets.choices import AssetStatus
from maintenance.orders.choices import OrderType
from maintenance.org.models import Workshop
from maintenance.scorecard.operating.service import Intactness, intactness_by_workshop, plant_intactness
from tests.scorecard.operating.conftest import MakeAsset, MakeCm, plant

MARCH_10 = date(2026, 3, 10)


def test_each_status_and_order_counts_as_the_rule_says(
    session: Session, workshop: Workshop, other_workshop: Workshop, make_asset: MakeAsset, make_cm: MakeCm
) -> None:
    make_asset(workshop)  # in service, no order: intact
    standby_failed = make_asset(workshop, AssetStatus.STANDBY)
    make_cm(standby_failed, raised=plant(2026, 3, 1))  # open CM: in service, not intact
    broken = make_asset(workshop, AssetStatus.UNDER_REPAIR)
    make_cm(broken, raised=plant(2026, 3, 1))  # under repair for a breakdown: in service, not intact
    make_asset(workshop, AssetStatus.UNDER_REPAIR)  # under repair without a CM order: planned repair, left out
    make_asset(workshop, AssetStatus.IDLE)  # left out
    make_asset(workshop, AssetStatus.RETIRED)  # left out
    repaired = make_asset(workshop)
    make_cm(repaired, raised=plant(2026, 3, 1), finished=plant(2026, 3, 5))  # finished before D: intact
    false_alarm = make_asset(workshop)
    make_cm(false_alarm, raised=plant(2026, 3, 1), cancelled=plant(2026, 3, 5))  # cancelled before D: intact
    later = make_asset(workshop)
    make_cm(later, raised=plant(2026, 3, 11, 0))  # raised after D: intact on D
    planned_work = make_asset(workshop)
    make_cm(planned_work, raised=plant(2026, 3, 1), order_type=OrderType.PM)  # a PM order is no failure: intact
    make_asset(other_workshop)

    counts = intactness_by_workshop(session, MARCH_10)

    # SYN in service: the five in service, the standby and the broken one = 7; intact: the five.
    assert counts == {workshop.id: Intactness(in_service=7, intact=5), other_workshop.id: Intactness(1, 1)}
    assert plant_intactness(counts) == Intactness(8, 6)


def test_an_order_is_open_until_the_end_of_the_day_it_is_asked_on(
    session: Session, workshop: Workshop, make_asset: MakeAsset, make_cm: MakeCm
) -> None:
    late_failure = make_asset(workshop)
    make_cm(late_failure, raised=plant(2026, 3, 10, 23))  # raised late on D: open at D's end
    fixed_on_the_day = make_asset(workshop)
    make_cm(fixed_on_the_day, raised=plant(2026, 3, 9), finished=plant(2026, 3, 10, 22))  # finished on D
    fixed_next_day = make_asset(workshop)
    make_cm(fixed_next_day, raised=plant(2026, 3, 9), finished=plant(2026, 3, 11, 1))  # still open at D's end
    cancelled_next_day = make_asset(workshop)
    make_cm(cancelled_next_day, raised=plant(2026, 3, 9), cancelled=plant(2026, 3, 11, 1))

    assert intactness_by_workshop(session, MARCH_10) == {workshop.id: Intactness(in_service=4, intact=1)}
    assert intactness_by_workshop(session, date(2026, 3, 11)) == {workshop.id: Intactness(in_service=4, intact=3)}
    # The day before anything was raised: every one intact.
    assert intactness_by_workshop(session, date(2026, 3, 8)) == {workshop.id: Intactness(in_service=4, intact=4)}


def test_a_broken_asset_under_repair_leaves_service_when_its_order_is_finished(
    session: Session, workshop: Workshop, make_asset: MakeAsset, make_cm: MakeCm
) -> None:
    """Under repair with the CM order finished: no longer a breakdown, so planned repair (left out)."""
    make_asset(workshop)
    still_down = make_asset(workshop, AssetStatus.UNDER_REPAIR)
    make_cm(still_down, raised=plant(2026, 3, 1), finished=plant(2026, 3, 5))

    assert intactness_by_workshop(session, MARCH_10) == {workshop.id: Intactness(in_service=1, intact=1)}
    assert intactness_by_workshop(session, date(2026, 3, 2)) == {workshop.id: Intactness(in_service=2, intact=1)}


def test_one_workshop_and_a_plant_without_assets(
    session: Session, workshop: Workshop, other_workshop: Workshop, make_asset: MakeAsset
) -> None:
    make_asset(workshop)
    make_asset(other_workshop, AssetStatus.IDLE)

    # A workshop with no asset that could be in service has no counts at all.
    assert intactness_by_workshop(session, MARCH_10, workshop_id=other_workshop.id) == {}
    assert intactness_by_workshop(session, MARCH_10, workshop_id=workshop.id) == {workshop.id: Intactness(1, 1)}
    assert plant_intactness({}) == Intactness(0, 0)


def test_the_counts_are_one_query_reaching_the_orders_through_an_index(session: Session) -> None:
    """Over a plant of 100,000 assets and a million orders the orders are searched by type, once
    (a list subquery), never scanned, and the assets are read once, grouped: not a loop per asset."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    caught: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        caught.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", catch)
    try:
        intactness_by_workshop(session, MARCH_10)
    finally:
        event.remove(connection, "before_cursor_execute", catch)

    assert len(caught) == 1
    plan = [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + caught[0][0], caught[0][1])]
    assert not [step for step in plan if step.startswith("SCAN work_order")], plan
    assert any(step.startswith("SEARCH work_order USING INDEX") for step in plan), plan
    assert not [step for step in plan if "CORRELATED" in step and "work_order" in step], plan
