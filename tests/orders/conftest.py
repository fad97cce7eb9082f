"""Orders are raised through the service, as users raise them: validated, numbered, logged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.orders import service
from maintenance.orders.choices import OrderType
from maintenance.orders.models import Turnaround, TurnaroundCreate, WorkOrder, WorkOrderCreate
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from maintenance.org.permissions import EVERY_CAPABILITY
from tests import factories

SYSTEM = SystemActor(username="test", capabilities=EVERY_CAPABILITY)

MakeOrder = Callable[..., WorkOrder]


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory()


@pytest.fixture
def asset(session: Session, workshop: Workshop) -> Asset:
    return factories.AssetFactory(workshop_id=workshop.id)


@pytest.fixture
def workshop_engineer(session: Session, workshop: Workshop) -> User:
    """An engineer of the asset's workshop (may raise and work its orders)."""
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    return user


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def auditor(session: Session) -> User:
    return factories.UserFactory(role=Role.AUDITOR, full_name="陈审计")


@pytest.fixture
def turnaround(session: Session, workshop: Workshop) -> Turnaround:
    """September 2026's turnaround TA2026 on the workshop's site."""
    return turnarounds.create_turnaround(
        session,
        TurnaroundCreate(
            code="TA2026",
            name="2026年大修",
            start_date=date(2026, 9, 1),
            end_date=date(2026, 9, 30),
            site_id=workshop.site_id,
        ),
        actor=SYSTEM,
    )


@pytest.fixture
def make_order(session: Session, asset: Asset) -> MakeOrder:
    """``make_order(order_type=OrderType.PM, actor=..., **fields)``: a draft on ``asset`` by default."""

    def make(*, actor: Any = SYSTEM, **fields: Any) -> WorkOrder:
        data: dict[str, Any] = {"order_type": OrderType.CM, "asset_id": asset.id, "title": "泵体泄漏"}
        data.update(fields)
        return service.create_order(session, WorkOrderCreate.model_validate(data), actor=actor)

    return make
