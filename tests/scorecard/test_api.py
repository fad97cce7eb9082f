"""The scorecard's read API (/api/v1/scorecard/{year}, scope ``scorecard:read``): the same tiles
as the page, money as strings with two decimals, fractions with four."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.budget.models import BudgetYear
from maintenance.org import service as org_service
from maintenance.org.models import Role, User
from tests import factories
from tests.budget.conftest import MakeOrder, plant

ACTOR = SystemActor(username="test")
PATH = "/api/v1/scorecard/2026"
END_OF_MARCH = {"as_of": "2026-03-31"}


def token_for(session: Session, user: User, *scopes: str) -> dict[str, str]:
    _token, plaintext = org_service.create_api_token(session, user, name="erp", scopes=list(scopes), actor=ACTOR)
    return {"Authorization": f"Bearer {plaintext}"}


def indicator(body: dict[str, Any], code: str) -> dict[str, Any]:
    [found] = [row for row in body["indicators"] if row["indicator"] == code]
    return found


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.MANAGER, Role.ADMIN])
def test_every_indicator_with_figure_target_state_and_page(
    client: TestClient, session: Session, budget: BudgetYear, pump: Asset, make_order: MakeOrder, role: Role
) -> None:
    make_order(pump, lines=[], due_date=date(2026, 3, 10), finished=plant(2026, 3, 9))
    make_order(pump, lines=[], due_date=date(2026, 3, 20))
    headers = token_for(session, factories.UserFactory(role=role), "scorecard:read")

    response = client.get(PATH, params=END_OF_MARCH, headers=headers | {"Accept-Language": "en"})

    assert response.status_code == 200
    body = response.json()
    assert (body["year"], body["as_of"]) == (2026, "2026-03-31")
    assert len(body["indicators"]) == 15
    assert indicator(body, "repair_cost") | {"detail": ""} == {
        "indicator": "repair_cost",
        "group": "target",
        "name": indicator(body, "repair_cost")["name"],
        "kind": "money",
        "value": "0.00",
        "target": "15600000.00",
        "state": "green",
        "detail": "",
        "link": "/budget?year=2026&as_of=2026-03-31",
    }
    pm = indicator(body, "pm_compliance")
    assert (pm["value"], pm["target"], pm["state"]) == ("0.5000", "0.9000", "red")  # 1 of 2 due
    # No accident this year nor last: the change is no number, and the target is met.
    accidents = indicator(body, "accident_rate")
    assert (accidents["value"], accidents["state"]) == (None, "green")
    assert accidents["link"] == "/scorecard/accidents?year=2026"
    # Nothing saved by 31 March against 100万 × 90/365 = 246,575.34 due by then.
    refurbish = indicator(body, "refurbish_savings")
    assert (refurbish["value"], refurbish["target"], refurbish["state"]) == ("0.00", "246575.34", "red")
    # Orders raised this year: two PM, no CBM: 0 % against 30 %.
    assert indicator(body, "cbm_share")["value"] == "0.0000"
    # Green: the cost, the accidents and 完好率 (the one pump in service, no corrective order
    # open: 1 of 1). Red: the CBM share, PM compliance, leak-free (no workshop of the plant
    # certified against 50 %) and refurbish-and-reuse. The rest have no data or no target.
    assert body["counts"] == {"green": 3, "amber": 0, "red": 4}


def test_a_day_outside_the_year_is_kept_inside_it(client: TestClient, session: Session) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.AUDITOR), "scorecard:read")
    response = client.get("/api/v1/scorecard/2025", params=END_OF_MARCH, headers=headers)
    assert response.json()["as_of"] == "2025-12-31"


def test_an_engineer_token_is_refused_though_it_carries_the_scope(
    client: TestClient, session: Session, engineer: User
) -> None:
    response = client.get(PATH, headers=token_for(session, engineer, "scorecard:read"))
    assert response.status_code == 403


def test_a_token_needs_the_scorecard_read_scope(client: TestClient, session: Session) -> None:
    response = client.get(PATH, headers=token_for(session, factories.UserFactory(role=Role.AUDITOR), "budget:read"))
    assert response.status_code == 403
    assert "scorecard:read" in response.json()["detail"]
    assert client.get(PATH).status_code == 401


@pytest.mark.parametrize("params", [{"as_of": "2026-02-30"}, {"as_of": "soon"}])
def test_a_bad_date_is_a_422(client: TestClient, session: Session, params: dict[str, str]) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.AUDITOR), "scorecard:read")
    assert client.get(PATH, params=params, headers=headers).status_code == 422


def test_the_endpoint_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/scorecard/{year}"]["get"]
    assert operation["tags"] == ["scorecard"]
    assert "403" in operation["responses"]
