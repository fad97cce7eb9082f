"""The scorecard page (/scorecard) and its home card, through the served app."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.org.models import Role, User
from tests import factories
from tests.conftest import login

PAGE = "/scorecard?year=2026&as_of=2026-03-31"


def tile(page: str, code: str) -> str:
    match = re.search(rf'data-testid="tile-{code}" data-state="(\w+)">(.*?)</div>\s*</div>', page, re.S)
    assert match, f"no tile {code}"
    return f"{match[1]} {match[2]}"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN, Role.AUDITOR])
def test_managers_admins_and_auditors_read_the_scorecard(client: TestClient, session: Session, role: Role) -> None:
    login(client, factories.UserFactory(role=role))
    response = client.get(PAGE)
    assert response.status_code == 200
    assert 'data-testid="tile-repair_cost"' in response.text


def test_an_engineer_is_refused_with_the_reason(client: TestClient, engineer: User, in_english: TestClient) -> None:
    login(client, engineer)
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "monthly assessment" in response.text
    assert client.get("/scorecard/card").status_code == 403


def test_an_indicator_without_a_source_says_it_is_not_built_never_zero(
    client: TestClient, manager: User, in_english: TestClient
) -> None:
    login(client, manager)
    page = client.get(PAGE).text
    accidents = tile(page, "accident_rate")
    assert accidents.startswith("not_built ")
    assert "Not built yet" in accidents
    assert "0.0 %" not in accidents
    assert 'data-testid="value"' not in accidents
