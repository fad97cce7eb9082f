"""The leak-free read API (/api/v1/leakfree/workshops and /progress, scope ``leakfree:read``) on
the hand-computed plant of ``board_plant``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.audit.service import SystemActor
from maintenance.org import service as org_service
from maintenance.org.models import Role, User
from tests import factories
from tests.conftest import login
from tests.leakfree.board_plant import Board, board_fixture, more_workshops  # noqa: F401
from tests.leakfree.conftest import Certify, MakeSurvey

ACTOR = SystemActor(username="test")
PATHS = ["/api/v1/leakfree/workshops", "/api/v1/leakfree/progress"]


def token_for(session: Session, user: User, *scopes: str) -> dict[str, str]:
    _token, plaintext = org_service.create_api_token(session, user, name="erp", scopes=list(scopes), actor=ACTOR)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def reader(session: Session) -> dict[str, str]:
    return token_for(session, factories.UserFactory(role=Role.AUDITOR), "leakfree:read")


@pytest.mark.parametrize("path", PATHS)
def test_a_token_with_the_leakfree_read_scope_is_required(
    client: TestClient, session: Session, engineer: User, path: str
) -> None:
    login(client, engineer)
    assert client.get(path).status_code == 401  # a browser session is not enough
    response = client.get(path, headers=token_for(session, engineer, "assets:read"))
    assert response.status_code == 403
    assert "leakfree:read" in response.json()["detail"]


@pytest.mark.parametrize("path", PATHS)
def test_a_bad_date_is_a_problem(client: TestClient, reader: dict[str, str], path: str) -> None:
    response = client.get(path, params={"as_of": "2026-02-30"}, headers=reader)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_each_workshop_s_status(client: TestClient, reader: dict[str, str], board: Board) -> None:
    response = client.get("/api/v1/leakfree/workshops", params={"as_of": "2026-06-30"}, headers=reader)
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2026-06-30"
    by_code = {row["code"]: row for row in body["data"]}
    assert list(by_code) == ["W1", "W2", "W3", "W4", "W5"]
    assert by_code["W4"] == {
        "code": "W4",
        "name": "四车间",
        "static_points": 1000,
        "dynamic_points": 40,
        "latest_survey_date": "2026-06-10",
        "static_leaks": 1,
        "dynamic_leaks": 0,
        "static_per_mille": "1.00",
        "dynamic_per_mille": "0.00",
        "meets_thresholds": False,
        "open_leaks": 1,
        "certification_state": "at_risk",
        "certified_date": "2026-02-01",
        "valid_until": "2027-01-31",
    }
    assert by_code["W5"] == {
        "code": "W5",
        "name": "五车间",
        "static_points": 0,
        "dynamic_points": 0,
        "latest_survey_date": None,
        "static_leaks": None,
        "dynamic_leaks": None,
        "static_per_mille": None,
        "dynamic_per_mille": None,
        "meets_thresholds": None,
        "open_leaks": 0,
        "certification_state": "not_started",
        "certified_date": None,
        "valid_until": None,
    }
    assert (by_code["W3"]["certification_state"], by_code["W3"]["certified_date"]) == ("in_assessment", None)
    assert by_code["W1"]["valid_until"] == "2027-03-14"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-06-30", {"certified": 3, "percent": "60.00", "required": 3, "on_track": True}),
        ("2026-06-19", {"certified": 2, "percent": "40.00", "required": 3, "on_track": False}),
        ("2026-07-01", {"certified": 3, "percent": "60.00", "required": 5, "on_track": False}),
    ],
)
def test_progress_around_30_june(
    client: TestClient, reader: dict[str, str], board: Board, as_of: str, expected: dict[str, object]
) -> None:
    body = client.get("/api/v1/leakfree/progress", params={"as_of": as_of}, headers=reader).json()
    h1 = as_of <= "2026-06-30"
    assert body == {
        "as_of": as_of,
        "workshops": 5,
        "in_assessment": 1 if as_of != "2026-06-19" else 2,
        "not_started": 1,
        "at_risk": 1,
        "target_percent": "50.00" if h1 else "100.00",
        "target_date": "2026-06-30" if h1 else "2026-12-31",
        **expected,
    }


def test_the_api_runs_a_fixed_number_of_queries(
    client: TestClient,
    reader: dict[str, str],
    board: Board,
    make_survey: MakeSurvey,
    certify: Certify,
    count_queries: list[str],
) -> None:
    def queries() -> list[int]:
        found = []
        for path in PATHS:
            count_queries.clear()
            assert client.get(path, params={"as_of": "2026-06-30"}, headers=reader).status_code == 200
            found.append(len(count_queries))
        return found

    queries()  # the token's first use is recorded once
    with_five = queries()
    more_workshops(make_survey, certify, 4)
    assert queries() == with_five
