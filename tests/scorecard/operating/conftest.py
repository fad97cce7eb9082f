"""A small plant for the operating log's tests: two workshops, a unit or two each, assets in
every status, CM orders raised, finished and cancelled at given plant times, log rows written
as rows (the month form's own service is tested on its own), and a user of each role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.orders import service as orders
from maintenance.orders.choices import FailureMode, OrderType
from maintenance.orders.models import WorkOrder, WorkOrderCreate
from maintenance.org.models import Role, Unit, User, UserWorkshop, Workshop
from maintenance.org.permissions import EVERY_CAPABILITY
from maintenance.scorecard.operating.models import OperatingMonth
from tests import factories

SYSTEM = SystemActor(username="operating-test", capabilities=EVERY_CAPABILITY)
PLANT = ZoneInfo("Asia/Shanghai")
YEAR = 2026


def plant(year: int, month: int, day: int, hour: int = 12) -> datetime:
    """A plant wall-clock time as the UTC instant it is stored as."""
    return datetime(year, month, day, hour, tzinfo=PLANT).astimezone(UTC)


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory(code="SYN", name="合成车间")


@pytest.fixture
def other_workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory(code="UTL", name="公用工程车间")


@pytest.fixture
def unit(session: Session, workshop: Workshop) -> Unit:
    return factories.UnitFactory(workshop_id=workshop.id, code="AMM", name="合成氨装置")


@pytest.fixture
def second_unit(session: Session, workshop: Workshop) -> Unit:
    return factories.UnitFactory(workshop_id=workshop.id, code="URE", name="尿素装置")


@pytest.fixture
def other_unit(session: Session, other_workshop: Workshop) -> Unit:
    return factories.UnitFactory(workshop_id=other_workshop.id, code="PWR", name="热电装置")


def _user(session: Session, role: Role, workshops: tuple[Workshop, ...] = ()) -> User:
    user = factories.UserFactory(role=role)
    for workshop in workshops:
        session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    return user


@pytest.fixture
def manager(session: Session) -> User:
    return _user(session, Role.MANAGER)


@pytest.fixture
def auditor(session: Session) -> User:
    return _user(session, Role.AUDITOR)


@pytest.fixture
def syn_engineer(session: Session, workshop: Workshop) -> User:
    return _user(session, Role.ENGINEER, (workshop,))


MakeAsset = Callable[..., Asset]


@pytest.fixture
def make_asset(session: Session) -> MakeAsset:
    """``make_asset(workshop, status)``: an asset in that status (set on the row: the registry's
    own rules for changing status are tested with the registry)."""

    def make(workshop: Workshop, status: AssetStatus = AssetStatus.IN_SERVICE, **fields: object) -> Asset:
        asset = factories.AssetFactory(workshop_id=workshop.id, **fields)
        asset.status = status
        session.add(asset)
        session.flush()
        return asset

    return make


MakeCm = Callable[..., WorkOrder]


@pytest.fixture
def make_cm(session: Session) -> MakeCm:
    """``make_cm(asset, raised=at, finished=at, cancelled=at, order_type=CM)``: an order raised at
    ``raised``, started and completed at ``finished`` or cancelled at ``cancelled``."""

    def make(
        asset: Asset,
        *,
        raised: datetime,
        finished: datetime | None = None,
        cancelled: datetime | None = None,
        order_type: OrderType = OrderType.CM,
    ) -> WorkOrder:
        data = {"order_type": order_type, "asset_id": asset.id, "title": "机封泄漏"}
        order = orders.create_order(session, WorkOrderCreate.model_validate(data), actor=SYSTEM, at=raised)
        if finished:
            order.failure_mode = FailureMode.ELP  # a CM order is completed with its failure named
            orders.perform(session, order, "approve", actor=SYSTEM, at=raised)
            orders.perform(session, order, "start", actor=SYSTEM, at=raised)
            orders.perform(session, order, "complete", actor=SYSTEM, at=finished)
        if cancelled:
            orders.perform(session, order, "cancel", actor=SYSTEM, note="误报", at=cancelled)
        return order

    return make


LogRow = Callable[..., OperatingMonth]


@pytest.fixture
def log_row(session: Session) -> LogRow:
    """``log_row(unit, month, hours_run, planned_hours, load_pct)``: one unit-month of the log, of 2026."""

    def make(
        unit: Unit, month: int, hours_run: str, planned_hours: str, load_pct: str, year: int = YEAR
    ) -> OperatingMonth:
        row = OperatingMonth(
            unit_id=unit.id,  # type: ignore[arg-type]
            month=date(year, month, 1),
            hours_run=Decimal(hours_run),
            planned_hours=Decimal(planned_hours),
            load_pct=Decimal(load_pct),
        )
        session.add(row)
        session.flush()
        return row

    return make
