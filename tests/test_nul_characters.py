"""A NUL character (\\0) in what a client sends is refused as invalid input, never a 500.

No text of the plant contains one and PostgreSQL can neither store nor compare it: a NUL in an
address, a query, a form field or a JSON body reached the database and failed there (found by
the API fuzz test on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.monitoring.models import Reading
from maintenance.orders.models import WorkOrder
from maintenance.org import service as org_service
from maintenance.org.models import Role, User
from maintenance.security import API_SCOPES
from tests import factories
from tests.conftest import login


@pytest.fixture
def bearer(session: Session, admin: User) -> dict[str, str]:
    _token, plaintext = org_service.create_api_token(session, admin, name="nul", scopes=list(API_SCOPES), actor=admin)
    session.commit()  # kept through the refused requests' rollbacks
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/alarms", {"workshop": "W\x001"}),
        ("/api/v1/points", {"asset": "P-\x00"}),
        ("/api/v1/orders", {"turnaround": "TA\x00"}),
        ("/api/v1/pm-plans", {"workshop": "\x00"}),
        ("/api/v1/assets", {"q": "泵\x00"}),
        ("/api/v1/assets/P-101%00", {}),
        ("/api/v1/orders/WO-%00", {}),
        ("/api/v1/points/P%00/readings", {}),
    ],
)
def test_a_nul_in_an_api_address_or_query_is_a_422_problem(
    client: TestClient, bearer: dict[str, str], path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params, headers=bearer)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_nul_in_an_order_body_is_a_422_problem(client: TestClient, session: Session, bearer: dict[str, str]) -> None:
    asset = factories.AssetFactory()

    for body in (
        {"type": "CM", "asset_tag": "P-\x00", "title": "泄漏"},
        {"type": "CM", "asset_tag": asset.tag, "title": "泄\x00漏"},
    ):
        response = client.post("/api/v1/orders", json=body, headers=bearer)
        assert response.status_code == 422, response.text
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_a_reading_of_a_point_code_with_a_nul_is_refused_as_unknown(
    client: TestClient, session: Session, bearer: dict[str, str]
) -> None:
    taken_at = datetime(2026, 1, 5, tzinfo=UTC).isoformat()
    body = [{"point": "P-1\x00", "taken_at": taken_at, "value": 1.0}]

    response = client.post("/api/v1/readings", params={"mode": "valid"}, json=body, headers=bearer)

    assert response.status_code == 200, response.text
    assert [(error["row"], error["field"]) for error in response.json()["rejected"]] == [(1, "point")]
    assert session.scalar(select(func.count()).select_from(Reading)) == 0


def test_a_nul_in_a_page_address_query_or_form_is_refused(client: TestClient, session: Session) -> None:
    csrf = login(client, factories.UserFactory(role=Role.MANAGER))

    assert client.get("/assets", params={"q": "泵\x00"}).status_code == 422
    assert client.get("/assets/labels", params={"workshop": "\x00"}).status_code == 422
    response = client.post("/orders/new", data={"asset_tag": "P-\x00", "title": "泄漏", "csrf_token": csrf})
    assert response.status_code == 422
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 0
