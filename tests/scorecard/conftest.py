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


# The budget's small plant (two workshops with a pump each, orders made through the order
# service at plant times, the 2026 budget of 1560万): the scorecard reads the same figures.
from tests.budget.conftest import (  # noqa: E402
    allocate as allocate,
)
from tests.budget.conftest import (  # noqa: E402
    budget as budget,
)
from tests.budget.conftest import (  # noqa: E402
    make_order as make_order,
)
from tests.budget.conftest import (  # noqa: E402
    other_pump as other_pump,
)
from tests.budget.conftest import (  # noqa: E402
    other_workshop as other_workshop,
)
from tests.budget.conftest import (  # noqa: E402
    pump as pump,
)
from tests.budget.conftest import (  # noqa: E402
    workshop as workshop,
)
