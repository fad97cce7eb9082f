"""Special-equipment items for the tests: a workshop's pressure vessel commissioned on a known day,
the migration's inspection types looked up by code, and reports and applications written
straight into the register (the recording services are tested on their own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from maintenance.assets.choices import AssetClass, SpecialCategory
from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from maintenance.org.permissions import EVERY_CAPABILITY
from maintenance.special.choices import InspectionResult
from maintenance.special.models import InspectionApplication, InspectionType, SpecialInspection
from tests import factories

SYSTEM = SystemActor(username="test", capabilities=EVERY_CAPABILITY)
COMMISSIONED = date(2022, 6, 15)

MakeItem = Callable[..., Asset]
Report = Callable[..., SpecialInspection]
Apply = Callable[..., InspectionApplication]


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory()


@pytest.fixture
def workshop_engineer(session: Session, workshop: Workshop) -> User:
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))
    session.flush()
    return user


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def auditor(session: Session) -> User:
    return factories.UserFactory(role=Role.AUDITOR)


@pytest.fixture
def inspection_type(session: Session) -> Callable[[str], InspectionType]:
    """The seeded inspection type with this code (PV-ANNUAL, PV-PERIODIC, SV-CALIBRATION, …)."""

    def find(code: str) -> InspectionType:
        found = session.scalar(select(InspectionType).where(InspectionType.code == code))
        assert found is not None, code
        return found

    return find


@pytest.fixture
def make_item(session: Session, workshop: Workshop) -> MakeItem:
    """A special-equipment asset of ``workshop`` (a pressure vessel commissioned on 2022-06-15
    unless told otherwise)."""

    def make(**fields: Any) -> Asset:
        values: dict[str, Any] = {
            "name": "反应釜",
            "asset_class": AssetClass.VESSEL,
            "special_category": SpecialCategory.PRESSURE_VESSEL,
            "workshop_id": workshop.id,
            "commission_date": COMMISSIONED,
        } | fields
        return factories.AssetFactory(**values)

    return make


@pytest.fixture
def report(session: Session, inspection_type: Callable[[str], InspectionType]) -> Report:
    """An inspection report of ``asset`` of the type with ``code``, passed unless told otherwise."""

    def add(asset: Asset, code: str, inspected: date, **fields: Any) -> SpecialInspection:
        values: dict[str, Any] = {"agency": "市特检院", "result": InspectionResult.PASS} | fields
        row = SpecialInspection(
            asset_id=asset.id, inspection_type_id=inspection_type(code).id, inspected_date=inspected, **values
        )
        session.add(row)
        session.flush()
        return row

    return add


@pytest.fixture
def apply(session: Session, inspection_type: Callable[[str], InspectionType]) -> Apply:
    """An application for the inspection of type ``code`` due on ``due``, made on ``applied``."""

    def add(asset: Asset, code: str, due: date, applied: date) -> InspectionApplication:
        row = InspectionApplication(
            asset_id=asset.id,
            inspection_type_id=inspection_type(code).id,
            due_date=due,
            applied_date=applied,
            agency="市特检院",
        )
        session.add(row)
        session.flush()
        return row

    return add
