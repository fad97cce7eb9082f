"""The readings API: POST /api/v1/readings for collectors, GET points, readings and alarms."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.db import utcnow
from maintenance.monitoring.choices import LimitPreset, Quantity
from maintenance.monitoring.models import Reading
from maintenance.orders.choices import IntervalUnit, PlanBasis
from maintenance.orders.models import PmPlanCreate, WorkOrder
from maintenance.orders.pm import service as pm
from maintenance.org import permissions
from maintenance.org import service as org_service
from maintenance.org.models import ApiToken, Role, User
from maintenance.security import new_api_token
from tests import factories
from tests.monitoring.conftest import SYSTEM, T0, Ingest, MakePoint, engineer_of, series


def token_for(session: Session, user: User, *scopes: str) -> dict[str, str]:
    _token, plaintext = org_service.create_api_token(session, user, name="dcs", scopes=list(scopes), actor=SYSTEM)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def collector(session: Session, workshop_engineer: User) -> dict[str, str]:
    """A vibration data collector's token: its user is an engineer of the points' workshop."""
    return token_for(session, workshop_engineer, "readings:write", "readings:read")


@pytest.fixture
def reader(session: Session) -> dict[str, str]:
    return token_for(session, factories.UserFactory(role=Role.AUDITOR), "readings:read")


def batch(code: str, values: list[float], start: Any = T0) -> list[dict[str, Any]]:
    return [
        {"point": code, "taken_at": (start + timedelta(hours=i)).isoformat(), "value": v} for i, v in enumerate(values)
    ]


def stored(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Reading)) or 0


def test_a_collector_sends_readings_and_re_sending_stores_nothing_twice(
    client: TestClient, session: Session, collector: dict[str, str], make_point: MakePoint
) -> None:
    point = make_point()
    body = batch(point.code, [1.0, 2.0, 8.0])

    first = client.post("/api/v1/readings", json=body, headers=collector)
    again = client.post("/api/v1/readings", json=body, headers=collector)

    assert first.status_code == 200, first.text
    assert first.json() | {"alerts_opened": None} == {
        "received": 3,
        "inserted": 3,
        "duplicates": 0,
        "rejected": [],
        "alerts_opened": None,
    }
    assert len(first.json()["alerts_opened"]) == 1
    assert again.json() == {"received": 3, "inserted": 0, "duplicates": 3, "rejected": [], "alerts_opened": []}
    assert stored(session) == 3


def test_a_bad_item_stores_nothing_and_the_problem_names_every_bad_item(
    client: TestClient, session: Session, collector: dict[str, str], make_point: MakePoint
) -> None:
    point = make_point()
    body = [
        *batch(point.code, [1.0, 2.0]),
        {"point": "NO-SUCH", "taken_at": T0.isoformat(), "value": 1.0},
        {"point": point.code, "taken_at": "yesterday", "value": 1.0},
        {"point": point.code, "taken_at": T0.isoformat(), "value": 500},
        {"point": point.code, "taken_at": T0.isoformat()},
    ]

    response = client.post("/api/v1/readings", json=body, headers=collector)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = [(e["row"], e["field"]) for e in response.json()["errors"]]
    assert errors == [(3, "point"), (4, "taken_at"), (5, "value"), (6, "value")]
    assert stored(session) == 0


def test_mode_valid_stores_the_valid_items_and_lists_the_others(
    client: TestClient, session: Session, collector: dict[str, str], make_point: MakePoint
) -> None:
    point = make_point()
    body = [*batch(point.code, [1.0, 2.0]), {"point": "NO-SUCH", "taken_at": T0.isoformat(), "value": 1.0}]

    response = client.post("/api/v1/readings", params={"mode": "valid"}, json=body, headers=collector)

    assert response.status_code == 200
    report = response.json()
    assert (report["inserted"], [(e["row"], e["field"]) for e in report["rejected"]]) == (2, [(3, "point")])
    assert stored(session) == 2


def test_a_time_without_offset_is_plant_time(
    client: TestClient, session: Session, collector: dict[str, str], make_point: MakePoint
) -> None:
    point = make_point()
    client.post(
        "/api/v1/readings",
        json=[{"point": point.code, "taken_at": "2026-01-05T16:00:00", "value": 1}],
        headers=collector,
    )
    assert point.latest_taken_at == T0


def test_sending_needs_the_write_scope_and_a_body_that_is_a_list(
    client: TestClient, session: Session, make_point: MakePoint, reader: dict[str, str], collector: dict[str, str]
) -> None:
    point = make_point()
    session.commit()  # keep the tokens and point through the refused requests' rollbacks
    assert client.post("/api/v1/readings", json=batch(point.code, [1.0])).status_code == 401
    assert client.post("/api/v1/readings", json=batch(point.code, [1.0]), headers=reader).status_code == 403
    not_a_list = client.post("/api/v1/readings", json={"point": point.code}, headers=collector)
    assert not_a_list.status_code == 422
    assert not_a_list.json()["errors"][0]["field"] == "body"
    garbage = client.post(
        "/api/v1/readings", content=b"{oops", headers=collector | {"content-type": "application/json"}
    )
    assert garbage.status_code == 422


def test_at_most_10000_readings_per_request(
    client: TestClient, make_point: MakePoint, collector: dict[str, str]
) -> None:
    point = make_point()
    body = [{"point": point.code, "taken_at": T0.isoformat(), "value": 1.0}] * 10_001
    response = client.post("/api/v1/readings", json=body, headers=collector)
    assert response.status_code == 422
    assert "10000" in response.json()["detail"].replace(",", "")


# --- Who may send what: the role and workshop rules of the pages ---------------------------


def stored_token(session: Session, user: User, *scopes: str) -> dict[str, str]:
    """A token row written straight to the table, as tokens created before their scopes were
    checked against the user's role are stored."""
    plaintext, digest = new_api_token()
    session.add(
        ApiToken(
            user_id=user.id,
            name="old",
            scopes=" ".join(scopes),
            prefix=plaintext[:10],
            token_hash=digest,
            expires_at=utcnow() + timedelta(days=30),
        )
    )
    session.flush()
    return {"Authorization": f"Bearer {plaintext}"}


def orders_raised(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(WorkOrder)) or 0


def test_an_auditors_token_writes_no_readings_and_raises_no_orders(
    client: TestClient, session: Session, auditor: User, make_point: MakePoint
) -> None:
    point = make_point()
    headers = stored_token(session, auditor, "readings:write", "readings:read")

    response = client.post("/api/v1/readings", json=batch(point.code, [1.0, 9.0]), headers=headers)

    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (stored(session), orders_raised(session)) == (0, 0)


def test_a_token_loses_the_write_scope_when_its_user_becomes_an_auditor(
    client: TestClient, session: Session, workshop_engineer: User, make_point: MakePoint
) -> None:
    point = make_point()
    headers = token_for(session, workshop_engineer, "readings:write")
    workshop_engineer.role = Role.AUDITOR
    session.flush()

    response = client.post("/api/v1/readings", json=batch(point.code, [9.0]), headers=headers)

    assert response.status_code == 403, response.text
    assert "readings:write" in response.json()["detail"]
    assert (stored(session), orders_raised(session)) == (0, 0)


@pytest.fixture
def other_workshops_engineer(session: Session) -> User:
    return engineer_of(session, factories.WorkshopFactory())


def test_an_engineer_sends_no_readings_of_another_workshop(
    client: TestClient, session: Session, other_workshops_engineer: User, make_point: MakePoint
) -> None:
    point = make_point()
    headers = token_for(session, other_workshops_engineer, "readings:write")

    response = client.post("/api/v1/readings", json=batch(point.code, [1.0, 9.0]), headers=headers)

    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [(error["row"], error["field"]) for error in response.json()["errors"]] == [(1, "point"), (2, "point")]
    assert (stored(session), orders_raised(session)) == (0, 0)


def test_mode_valid_refuses_the_rows_of_another_workshop_and_keeps_the_others(
    client: TestClient, session: Session, other_workshops_engineer: User, make_point: MakePoint
) -> None:
    foreign = make_point()
    own_asset = factories.AssetFactory(workshop_id=permissions.workshop_ids_of(session, other_workshops_engineer)[0])
    own = make_point(asset_id=own_asset.id)
    headers = token_for(session, other_workshops_engineer, "readings:write")
    body = [*batch(own.code, [1.0]), *batch(foreign.code, [9.0]), *batch(own.code, [2.0], start=T0 + timedelta(days=1))]

    response = client.post("/api/v1/readings", params={"mode": "valid"}, json=body, headers=headers)

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["received"], report["inserted"], report["alerts_opened"]) == (3, 2, [])
    [refused] = report["rejected"]
    assert (refused["row"], refused["field"]) == (2, "point")
    assert foreign.code in refused["message"]
    assert stored(session) == 2
    assert session.scalar(select(func.count()).select_from(Reading).where(Reading.point_id == foreign.id)) == 0


def test_readings_and_the_changes_they_make_name_the_tokens_user(
    client: TestClient,
    session: Session,
    workshop_engineer: User,
    collector: dict[str, str],
    make_point: MakePoint,
    asset: Asset,
) -> None:
    """The reading's "entered by" and the change log of the PM plan meter it moves are the token's
    user (the CBM orders readings raise are raised by the monitoring process, as for every source)."""
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

    response = client.post("/api/v1/readings", json=batch(point.code, [1200.0]), headers=collector)

    assert response.status_code == 200, response.text
    assert session.scalars(select(Reading.entered_by_id)).all() == [workshop_engineer.id]
    [meter_moved] = session.scalars(
        select(ObjectChange).where(
            ObjectChange.object_type == "pm_plan",
            ObjectChange.object_id == str(plan.id),
            ObjectChange.action == ChangeAction.UPDATE,
        )
    ).all()
    assert (meter_moved.actor_id, meter_moved.actor_name) == (workshop_engineer.id, workshop_engineer.username)


# --- Reading ------------------------------------------------------------------------------


def test_points_come_with_their_limits_latest_value_state_and_zone(
    client: TestClient, reader: dict[str, str], make_point: MakePoint, ingest: Ingest, asset: Asset
) -> None:
    point = make_point(code="P-101A/DE.V", preset=LimitPreset.G1_RIGID)
    other = make_point(warning_high=None, alarm_high=None)
    ingest(series(point.code, [2.0, 5.0]))
    ingest(series(other.code, [1.0]))

    response = client.get("/api/v1/points", params={"state": "warning"}, headers=reader)

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 1
    [item] = page["data"]
    assert item["code"] == "P-101A/DE.V"
    assert item["asset_tag"] == asset.tag
    assert (item["unit"], item["warning_high"], item["alarm_high"]) == ("mm/s", 4.5, 7.1)
    assert (item["latest_value"], item["latest_state"], item["zone"]) == (5.0, "warning", "C")
    by_asset = client.get("/api/v1/points", params={"asset": asset.tag, "quantity": "vibration"}, headers=reader)
    assert by_asset.json()["count"] == 2


def test_readings_of_a_point_page_by_time_and_codes_may_contain_slashes(
    client: TestClient, reader: dict[str, str], make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point(code="E-201/TI.3", warning_high=None, alarm_high=None)
    ingest(series(point.code, [float(i) for i in range(7)]))
    url = f"/api/v1/points/{point.code}/readings"

    first = client.get(url, params={"size": 3, "from": (T0 + timedelta(hours=1)).isoformat()}, headers=reader).json()
    second = client.get(url, params={"size": 3, "after": first["next_after"]}, headers=reader).json()

    assert [r["value"] for r in first["data"]] == [1.0, 2.0, 3.0]
    assert [r["value"] for r in second["data"]] == [4.0, 5.0, 6.0]
    assert second["next_after"] is None
    assert client.get("/api/v1/points/NOPE/readings", headers=reader).status_code == 404
    assert client.get(url, params={"size": 5001}, headers=reader).status_code == 422


def test_alarms_list_active_alerts_with_their_orders(
    client: TestClient, reader: dict[str, str], make_point: MakePoint, ingest: Ingest
) -> None:
    alarming = make_point()
    recovered = make_point()
    quiet = make_point()
    ingest(series(alarming.code, [8.0]))
    ingest(series(recovered.code, [8.0, 1.0]))
    ingest(series(quiet.code, [1.0]))

    data = client.get("/api/v1/alarms", headers=reader).json()["data"]

    assert {(a["point"], a["state"]) for a in data} == {(alarming.code, "open"), (recovered.code, "normal_again")}
    assert all(a["order_number"].startswith("WO-") for a in data)


def test_reading_needs_the_read_scope(client: TestClient, session: Session) -> None:
    wrong = token_for(session, factories.UserFactory(role=Role.AUDITOR), "orders:read")
    session.commit()  # keep the token through the refused requests' rollbacks
    for url in ("/api/v1/points", "/api/v1/alarms", "/api/v1/points/X/readings"):
        assert client.get(url, headers=wrong).status_code == 403


@pytest.mark.parametrize("url", ["/api/v1/points", "/api/v1/alarms"])
def test_lists_run_a_fixed_number_of_queries(
    client: TestClient,
    reader: dict[str, str],
    make_point: MakePoint,
    ingest: Ingest,
    count_queries: list[str],
    url: str,
) -> None:
    client.get(url, headers=reader)  # the token's first use records it (then at most once a minute)

    def queries_for(count: int) -> int:
        for _ in range(count):
            point = make_point()
            ingest(series(point.code, [8.0]))
        count_queries.clear()
        response = client.get(url, params={"size": 500}, headers=reader)
        assert response.status_code == 200
        return len(count_queries)

    assert queries_for(2) == queries_for(20)


# --- Malformed input is a 422 problem, never a 500 ----------------------------------------


def test_deeply_nested_json_is_refused_as_a_problem(
    client: TestClient, session: Session, collector: dict[str, str]
) -> None:
    """Nesting deeper than Python's recursion limit is not a batch of readings (it was a 500)."""
    depth = 100_000
    body = "[" * depth + "]" * depth

    response = client.post("/api/v1/readings", content=body, headers={**collector, "Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body"
    assert stored(session) == 0


@pytest.mark.parametrize(
    "taken_at",
    ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59-14:00"],
    ids=["before year 1 in UTC", "before year 1 in plant time", "after year 9999 in UTC"],
)
def test_a_time_outside_the_calendar_in_utc_is_refused_as_a_problem(
    client: TestClient, session: Session, collector: dict[str, str], make_point: MakePoint, taken_at: str
) -> None:
    """The time is valid as written but not in UTC (or in plant time without an offset): it was a 500."""
    point = make_point()

    response = client.post(
        "/api/v1/readings", json=[{"point": point.code, "taken_at": taken_at, "value": 1.0}], headers=collector
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [(error["row"], error["field"]) for error in response.json()["errors"]] == [(1, "taken_at")]
    assert stored(session) == 0


@pytest.mark.parametrize("bound", ["from", "to", "after"])
def test_a_range_bound_outside_the_calendar_in_utc_is_refused_as_a_problem(
    client: TestClient, reader: dict[str, str], make_point: MakePoint, bound: str
) -> None:
    point = make_point()

    response = client.get(
        f"/api/v1/points/{point.code}/readings", params={bound: "0001-01-01T00:00:00+14:00"}, headers=reader
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [bound]
