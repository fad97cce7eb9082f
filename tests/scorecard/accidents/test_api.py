"""The accident register's read API (GET /api/v1/scorecard/accidents, scope ``scorecard:read``):
a year's accidents and incidents newest first, each with its actions and the order an action
raised; filters by workshop code and class; every role's token reads it; pages in a fixed number
of queries."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.org import service as org_service
from maintenance.org.models import Role, User, Workshop
from maintenance.org.permissions import EVERY_CAPABILITY
from maintenance.scorecard.accidents import service
from maintenance.scorecard.accidents.models import AccidentAction, AccidentClass
from tests import factories
from tests.budget.conftest import plant
from tests.scorecard.accidents.conftest import Record

PATH = "/api/v1/scorecard/accidents"
SYSTEM = SystemActor(username="test", capabilities=EVERY_CAPABILITY)


def token_for(session: Session, user: User, *scopes: str) -> dict[str, str]:
    _token, plaintext = org_service.create_api_token(
        session, user, name="hse", scopes=list(scopes), actor=SystemActor(username="test")
    )
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def register(
    session: Session, pump: Asset, other_pump: Asset, record: Record, add_action: Callable[..., AccidentAction]
) -> str:
    """2026: an accident with two actions, one of which raised an order (its number returned), and
    an incident; 2025: a serious accident."""
    fire = record(
        pump,
        "2026-03-05",
        AccidentClass.GENERAL,
        title="合成液泵机封泄漏着火",
        downtime_hours=Decimal("18.5"),
        loss_cny=Decimal("86000"),
        cause="冲洗管线堵塞",
    )
    record(other_pump, "2026-04-11", AccidentClass.INCIDENT, title="循环水泵振动高")
    record(pump, "2025-06-01", AccidentClass.SERIOUS, title="去年反应器超温")
    replace = add_action(fire, "更换机封冲洗管线", owner="张工")
    add_action(fire, "巡检加查冲洗压力")
    order = service.raise_order(session, fire, replace, actor=SYSTEM, at=plant(2026, 3, 6))
    return order.order.number


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR, Role.MANAGER])
def test_a_year_newest_first_with_actions_and_their_orders(
    client: TestClient, session: Session, register: str, workshop: Workshop, role: Role
) -> None:
    headers = token_for(session, factories.UserFactory(role=role), "scorecard:read")

    response = client.get(PATH, params={"year": 2026}, headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["size"]) == (2, 1, 50)
    assert [item["title"] for item in body["data"]] == ["循环水泵振动高", "合成液泵机封泄漏着火"]
    fire = body["data"][1]
    assert fire | {"id": 0} == {
        "id": 0,
        "occurred_on": "2026-03-05",
        "accident_class": "general",
        "title": "合成液泵机封泄漏着火",
        "asset_tag": "P-101",
        "workshop_code": workshop.code,
        "downtime_hours": "18.5",
        "loss_cny": "86000.00",
        "description": "",
        "cause": "冲洗管线堵塞",
        "actions": [
            {
                "description": "更换机封冲洗管线",
                "owner": "张工",
                "due_date": None,
                "done_on": None,
                "order_number": register,
            },
            {"description": "巡检加查冲洗压力", "owner": "", "due_date": None, "done_on": None, "order_number": None},
        ],
    }


def test_filters_by_workshop_code_and_class(
    client: TestClient, session: Session, register: str, other_workshop: Workshop
) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.AUDITOR), "scorecard:read")

    by_workshop = client.get(PATH, params={"year": 2026, "workshop": other_workshop.code}, headers=headers)
    by_class = client.get(PATH, params={"year": 2025, "class": "serious"}, headers=headers)

    assert [item["title"] for item in by_workshop.json()["data"]] == ["循环水泵振动高"]
    assert [item["title"] for item in by_class.json()["data"]] == ["去年反应器超温"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"workshop": "NOPE"}, "workshop"), ({"class": "fatal"}, "class"), ({"year": "1999"}, "year")],
)
def test_a_bad_filter_is_a_422_naming_it(
    client: TestClient, session: Session, params: dict[str, str], field: str
) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.AUDITOR), "scorecard:read")

    response = client.get(PATH, params=params, headers=headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.text


def test_a_token_without_the_scope_is_refused(client: TestClient, session: Session) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.MANAGER), "orders:read")

    assert client.get(PATH, headers=headers).status_code == 403


def test_a_page_runs_the_same_queries_for_two_accidents_as_for_twenty(
    client: TestClient,
    session: Session,
    pump: Asset,
    record: Record,
    add_action: Callable[..., AccidentAction],
    count_queries: list[str],
) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.AUDITOR), "scorecard:read")

    def add(count: int) -> None:
        for n in range(count):
            accident = record(pump, f"2026-02-{n + 1:02}")
            add_action(accident, "整改")

    def queries() -> int:
        count_queries.clear()
        assert client.get(PATH, params={"year": 2026}, headers=headers).status_code == 200
        return len(count_queries)

    add(2)
    queries()  # the token's first use of the day is recorded once
    with_two = queries()
    add(18)

    assert queries() == with_two
