"""Points are created through the service (validated, logged); readings go in through ingest."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.monitoring import service
from maintenance.monitoring.choices import Quantity, ReadingSource
from maintenance.monitoring.models import MeasurementPoint, PointCreate
from maintenance.monitoring.readings.ingest import IngestMode, IngestReport, ReadingIn, ingest_readings
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from maintenance.org.permissions import EVERY_CAPABILITY
from tests import factories

SYSTEM = SystemActor(username="test", capabilities=EVERY_CAPABILITY)
# Readings of the tests start here (in the past, so none is "in the future").
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

MakePoint = Callable[..., MeasurementPoint]
Ingest = Callable[..., IngestReport]
_codes = count(1)


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory()


@pytest.fixture
def asset(session: Session, workshop: Workshop) -> Asset:
    return factories.AssetFactory(workshop_id=workshop.id)


def engineer_of(session: Session, workshop: Workshop) -> User:
    """A new engineer who works in ``workshop``."""
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    return user


@pytest.fixture
def workshop_engineer(session: Session, workshop: Workshop) -> User:
    return engineer_of(session, workshop)


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def auditor(session: Session) -> User:
    return factories.UserFactory(role=Role.AUDITOR)


@pytest.fixture
def make_point(session: Session, asset: Asset) -> MakePoint:
    """``make_point(code=..., quantity=..., warning_high=..., ...)``: a vibration point on ``asset``
    with warning 4.5 / alarm 7.1 mm/s by default."""

    def make(*, actor: Any = SYSTEM, **fields: Any) -> MeasurementPoint:
        data: dict[str, Any] = {
            "code": f"PT-{next(_codes):04d}",
            "asset_id": asset.id,
            "name": "驱动端水平振动",
            "quantity": Quantity.VIBRATION,
            "warning_high": 4.5,
            "alarm_high": 7.1,
        }
        data.update(fields)
        return service.create_point(session, PointCreate.model_validate(data), actor=actor)

    return make


def series(
    code: str, values: Iterable[float], *, start: datetime = T0, step: timedelta = timedelta(hours=1)
) -> list[ReadingIn]:
    """Readings of ``code`` one ``step`` apart from ``start``, numbered from row 1."""
    return [
        ReadingIn(point_code=code, taken_at=start + i * step, value=value, row=i + 1) for i, value in enumerate(values)
    ]


@pytest.fixture
def ingest(session: Session) -> Ingest:
    """``ingest(rows, mode=..., source=...)`` as an import would call it."""

    def run(rows: Iterable[ReadingIn], **options: Any) -> IngestReport:
        options.setdefault("source", ReadingSource.API)
        options.setdefault("actor", SYSTEM)
        options.setdefault("mode", IngestMode.ALL_OR_NOTHING)
        return ingest_readings(session, rows, **options)

    return run
