"""The monitoring queries that grow with the plant read through indexes, never a whole table: a
point's trend and readings tab, the alarm board, the active alarms (API) and the alarm count of
the notification bell. ``reading`` holds millions of rows, ``measurement_point`` thousands and
``condition_alert`` every alert ever raised. The statements checked are the ones the pages and
the API really send, caught on their way to the database, then explained (SQLite ``EXPLAIN QUERY
PLAN``; PostgreSQL ``EXPLAIN`` with sequential scans priced out, see tests/query_plans.py).

Fixtures ``workshop``, ``make_point`` and ``ingest`` come from tests/monitoring/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.db import utcnow
from maintenance.monitoring.models import MeasurementPoint
from maintenance.org.models import Role, User, Workshop
from maintenance.scorecard.notifications.sources import count_alarms
from tests import factories
from tests.conftest import login
from tests.monitoring.conftest import Ingest, MakePoint, series
from tests.monitoring.test_api import token_for
from tests.query_plans import Statement, full_scans, statements_of

TABLES = ("reading", "measurement_point", "condition_alert")
Scanned = Callable[[list[Statement]], list[tuple[str, str]]]


@pytest.fixture
def scanned(session: Session) -> Iterator[Scanned]:
    """The (table, statement) pairs among ``statements`` whose plan passes over a whole table of
    :data:`TABLES`."""
    with full_scans(session) as scans:
        yield lambda statements: [
            (table, sql) for sql, parameters in statements for table in TABLES if scans((sql, parameters), table)
        ]


@pytest.fixture
def plant(session: Session, make_point: MakePoint, ingest: Ingest) -> list[MeasurementPoint]:
    """A point in alarm with its CBM order, one in warning, one normal, each with readings."""
    start = utcnow().replace(microsecond=0) - timedelta(days=3)
    points = [make_point() for _ in range(3)]
    for point, values in zip(points, ([1.0, 2.0, 8.0], [1.0, 4.6], [1.0, 1.1]), strict=True):
        ingest(series(point.code, values, start=start))
    session.flush()
    return points


def test_the_plan_check_sees_a_full_scan(session: Session, scanned: Scanned) -> None:
    # The check itself: readings picked by a column no index starts with are a scan; by their key not.
    assert scanned([("SELECT taken_at FROM reading WHERE value > 1", ())]) != []
    assert scanned([("SELECT taken_at FROM reading WHERE point_id = 1 AND taken_at > '2026-01-01 00:00:00'", ())]) == []


def test_the_point_page_trend_and_readings_read_through_the_key(
    client: TestClient, session: Session, engineer: User, plant: list[MeasurementPoint], scanned: Scanned
) -> None:
    login(client, engineer)
    point = plant[1]

    def pages() -> None:
        for params in ({}, {"days": 365}, {"last": "true"}):
            assert client.get(f"/monitoring/points/{point.id}", params=params).status_code == 200

    statements = statements_of(session, pages)

    assert any("FROM reading" in sql for sql, _ in statements)
    assert scanned(statements) == []


@pytest.mark.parametrize("one_workshop", [False, True], ids=["all workshops", "one workshop"])
def test_the_alarm_board_reads_the_points_in_warning_or_alarm_through_an_index(
    client: TestClient,
    session: Session,
    workshop: Workshop,
    plant: list[MeasurementPoint],
    scanned: Scanned,
    one_workshop: bool,
) -> None:
    login(client, factories.UserFactory(role=Role.MANAGER))
    params = {"workshop_id": workshop.id} if one_workshop else {}

    def board() -> None:
        response = client.get("/monitoring/alarms", params=params)
        assert response.status_code == 200
        assert plant[0].code in response.text
        assert plant[1].code in response.text

    statements = statements_of(session, board)

    assert scanned(statements) == []


def test_the_active_alarms_and_the_bells_alarm_count_read_open_alerts_through_an_index(
    client: TestClient, session: Session, workshop: Workshop, plant: list[MeasurementPoint], scanned: Scanned
) -> None:
    manager = factories.UserFactory(role=Role.MANAGER)
    reader = token_for(session, manager, "readings:read")
    counts = []

    def alarms() -> None:
        response = client.get("/api/v1/alarms", headers=reader)
        assert [alarm["point"] for alarm in response.json()["data"]] == [plant[0].code]
        for workshops in (None, {workshop.id}):
            counts.append(count_alarms(session, manager, utcnow(), workshops).counted)

    statements = statements_of(session, alarms)

    assert counts == [1, 1]
    assert scanned(statements) == []
