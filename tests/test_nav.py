"""The navigation shows each role what it may use, as the permissions policy says."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.org.models import Role
from tests import factories
from tests.conftest import login

IMPORT_READINGS = 'href="/monitoring/import"'
ADMINISTRATION = 'href="/admin/users"'


@pytest.mark.parametrize(
    ("role", "sees_import", "sees_administration"),
    [
        (Role.ENGINEER, True, False),
        (Role.MANAGER, True, False),
        (Role.ADMIN, True, True),
        (Role.AUDITOR, False, False),
    ],
)
def test_the_menu_offers_reading_imports_to_writers_and_administration_to_admins(
    client: TestClient, session: Session, role: Role, sees_import: bool, sees_administration: bool
) -> None:
    login(client, factories.UserFactory(role=role))

    page = client.get("/")

    assert page.status_code == 200
    assert (IMPORT_READINGS in page.text) is sees_import
    assert (ADMINISTRATION in page.text) is sees_administration


SCORECARD = 'href="/scorecard"'
SAVINGS = 'href="/scorecard/savings"'


@pytest.mark.parametrize(
    ("role", "sees_scorecard"),
    [(Role.ENGINEER, False), (Role.MANAGER, True), (Role.ADMIN, True), (Role.AUDITOR, True)],
)
def test_the_programme_menu_offers_the_scorecard_to_those_who_read_plant_wide_figures(
    client: TestClient, session: Session, role: Role, sees_scorecard: bool
) -> None:
    login(client, factories.UserFactory(role=role))

    page = client.get("/")

    assert (SCORECARD in page.text) is sees_scorecard
    assert SAVINGS in page.text  # the ledgers are everyone's
