"""Shared fixtures of the scorecard's tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.i18n import LOCALE_COOKIE
from maintenance.org.models import Role, User
from tests import factories


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def in_english(client: TestClient, english: None) -> TestClient:
    """Pages in English (the words the tests look for), whatever the catalogs hold."""
    client.cookies.set(LOCALE_COOKIE, "en")
    return client
