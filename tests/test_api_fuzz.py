"""The JSON API fuzzed from its own OpenAPI description (schemathesis): whatever a client sends
within or around the schema, the answer is never a server error.

Each operation gets a few examples (bounded, so the whole run takes seconds), sent with an
admin's token carrying every scope to a small plant: an asset, a point with readings, an order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlmodel import Session

from maintenance.audit.service import SystemActor
from maintenance.db import get_session
from maintenance.main import create_app
from maintenance.monitoring import service as monitoring_service
from maintenance.monitoring.choices import Quantity, ReadingSource
from maintenance.monitoring.models import PointCreate
from maintenance.monitoring.readings.ingest import ReadingIn, ingest_readings
from maintenance.orders import service as order_service
from maintenance.orders.choices import OrderType
from maintenance.orders.models import WorkOrderCreate
from maintenance.org import service as org_service
from maintenance.org.models import Role, UserWorkshop
from maintenance.org.permissions import EVERY_CAPABILITY
from maintenance.security import API_SCOPES
from tests import factories

SYSTEM = SystemActor(username="test:fuzz", capabilities=EVERY_CAPABILITY)
# A deeper run by hand, with other examples each time: MAINTENANCE_FUZZ_EXAMPLES=500. CI keeps
# it short and the same on every run.
DEEP_RUN = os.environ.get("MAINTENANCE_FUZZ_EXAMPLES")
EXAMPLES_PER_OPERATION = int(DEEP_RUN or "15")


@pytest.fixture
def bearer(session: Session) -> dict[str, str]:
    """An admin's token with every scope, over a plant with something in each list."""
    workshop = factories.WorkshopFactory()
    asset = factories.AssetFactory(workshop_id=workshop.id, tag="P-101A")
    point = monitoring_service.create_point(
        session,
        PointCreate(code="P-101A-DE-V", asset_id=asset.id, name="驱动端振动", quantity=Quantity.VIBRATION),  # type: ignore[arg-type]
        actor=SYSTEM,
    )
    start = datetime(2026, 1, 5, tzinfo=UTC)
    readings = [ReadingIn(point.code, start + timedelta(hours=hour), 2.0 + hour, hour + 1) for hour in range(8)]
    ingest_readings(session, readings, source=ReadingSource.API, actor=SYSTEM)
    order_service.create_order(
        session, WorkOrderCreate(order_type=OrderType.CM, asset_id=asset.id, title="机封泄漏"), actor=SYSTEM
    )  # type: ignore[arg-type]
    admin = factories.UserFactory(role=Role.ADMIN)
    session.add(UserWorkshop(user_id=admin.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    _token, plaintext = org_service.create_api_token(session, admin, name="fuzz", scopes=list(API_SCOPES), actor=admin)
    # Kept through the rollback of every refused request (the test's transaction still ends).
    session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


# Loaded once, when the tests are collected: one test per operation of the API.
APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(autouse=True)
def _requests_use_the_tests_session(session: Session) -> Iterator[None]:
    def _test_session() -> Iterator[Session]:
        yield session

    APP.dependency_overrides[get_session] = _test_session
    yield
    APP.dependency_overrides.clear()


# A parameter of its own gives each operation's test its own id under pytest 9 (schemathesis
# names the tests by operation, which pytest 9 keeps only for parametrized ones).
@pytest.mark.parametrize("token_of", ["admin"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=not DEEP_RUN,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_request_is_a_server_error(case: schemathesis.Case, bearer: dict[str, str], token_of: str) -> None:
    case.call_and_validate(headers=bearer, checks=[not_a_server_error])
