"""A small plant for the accident register's tests: two workshops with a pump each, an engineer
of each, a manager and an auditor, and ``record(...)`` writing an accident as a row (the service
that records through the form is tested on its own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from maintenance.scorecard.accidents.models import Accident, AccidentAction, AccidentClass
from tests import factories


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory(code="SYN", name="合成车间")


@pytest.fixture
def other_workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory(code="UTL", name="公用工程车间")


@pytest.fixture
def pump(session: Session, workshop: Workshop) -> Asset:
    return factories.AssetFactory(workshop_id=workshop.id, tag="P-101", name="合成液泵")


@pytest.fixture
def other_pump(session: Session, other_workshop: Workshop) -> Asset:
    return factories.AssetFactory(workshop_id=other_workshop.id, tag="P-201", name="循环水泵")


def engineer_of(session: Session, workshop: Workshop) -> User:
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    return user


@pytest.fixture
def own_engineer(session: Session, workshop: Workshop) -> User:
    return engineer_of(session, workshop)


@pytest.fixture
def other_engineer(session: Session, other_workshop: Workshop) -> User:
    return engineer_of(session, other_workshop)


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def auditor(session: Session) -> User:
    return factories.UserFactory(role=Role.AUDITOR)


Record = Callable[..., Accident]


@pytest.fixture
def record(session: Session) -> Record:
    """``record(asset, "2026-03-05", AccidentClass.GENERAL, title=..., **fields)``: an accident in
    the asset's workshop."""

    def make(
        asset: Asset, occurred_on: str, accident_class: AccidentClass = AccidentClass.GENERAL, **fields: Any
    ) -> Accident:
        values: dict[str, Any] = {"title": f"{asset.tag} {occurred_on}", "downtime_hours": Decimal("0")} | fields
        accident = Accident(
            occurred_on=date.fromisoformat(occurred_on),
            asset_id=asset.id,  # type: ignore[arg-type]
            workshop_id=asset.workshop_id,
            accident_class=accident_class,
            **values,
        )
        session.add(accident)
        session.flush()
        return accident

    return make


@pytest.fixture
def add_action(session: Session) -> Callable[..., AccidentAction]:
    def make(accident: Accident, description: str, **fields: Any) -> AccidentAction:
        action = AccidentAction(accident_id=accident.id, description=description, **fields)  # type: ignore[arg-type]
        session.add(action)
        session.flush()
        return action

    return make
