"""A small plant for notifications: workshops A and B, an engineer of each, a manager and an
auditor; orders, alerts, special equipment and budget figures are added per test, on 10 March 2026."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.choices import AssetClass, SpecialCategory
from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.budget.models import Allocation, BudgetYear
from maintenance.monitoring import service as monitoring_service
from maintenance.monitoring.choices import AlertState, ConditionState, Quantity
from maintenance.monitoring.models import ConditionAlert, PointCreate
from maintenance.orders import service as order_service
from maintenance.orders.choices import CostCategory, CostKind, OrderType
from maintenance.orders.models import CostLineCreate, JournalEntry, WorkOrder, WorkOrderCreate
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from maintenance.org.permissions import EVERY_CAPABILITY
from maintenance.special.choices import InspectionResult
from maintenance.special.models import InspectionType, SpecialInspection
from tests import factories

SYSTEM = SystemActor(username="notifications-test", capabilities=EVERY_CAPABILITY)
PLANT = ZoneInfo("Asia/Shanghai")


def plant(month: int, day: int, hour: int = 12) -> datetime:
    """A 2026 plant wall-clock time as the UTC instant it is stored as."""
    return datetime(2026, month, day, hour, tzinfo=PLANT).astimezone(UTC)


NOW = plant(3, 10, 9)


@dataclass
class Plant:
    session: Session
    workshop_a: Workshop
    workshop_b: Workshop
    pump_a: Asset
    pump_b: Asset
    engineer_a: User
    engineer_b: User
    manager: User
    auditor: User

    def order(
        self, asset: Asset, *, planned_cny: str | None = None, raised: datetime | None = None, **fields: Any
    ) -> WorkOrder:
        """A draft CM order on ``asset`` raised by the system (``planned_cny``: one planned service line)."""
        data = {"order_type": OrderType.CM, "asset_id": asset.id, "title": "机封泄漏", **fields}
        order = order_service.create_order(
            self.session, WorkOrderCreate.model_validate(data), actor=SYSTEM, at=raised or plant(3, 1)
        )
        if planned_cny is not None:
            line = {
                "kind": CostKind.SERVICE,
                "description": "外委检修",
                "planned_quantity": Decimal(1),
                "planned_unit_price_cny": Decimal(planned_cny),
            }
            order_service.add_cost_line(self.session, order, CostLineCreate.model_validate(line), actor=SYSTEM)
        return order

    def alert(self, asset: Asset, code: str, opened: datetime, state: AlertState = AlertState.OPEN) -> ConditionAlert:
        """A point ``code`` on ``asset`` in alarm since ``opened``, with its condition order."""
        point = monitoring_service.create_point(
            self.session,
            PointCreate(code=code, asset_id=asset.id, name="驱动端水平振动", quantity=Quantity.VIBRATION),  # type: ignore[arg-type]
            actor=SYSTEM,
        )
        order = self.order(asset, order_type=OrderType.CBM, raised=opened)
        alert = ConditionAlert(
            point_id=point.id,  # type: ignore[arg-type]
            order_id=order.id,  # type: ignore[arg-type]
            state=state,
            trigger_state=ConditionState.ALARM,
            trigger_taken_at=opened,
            trigger_value=8.2,
            opened_at=opened,
        )
        self.session.add(alert)
        self.session.flush()
        return alert

    def vessel_checked(self, tag: str, checked: date, workshop: Workshop | None = None) -> Asset:
        """A pressure vessel (of workshop A unless said) whose annual check was on ``checked``: due
        a year later."""
        annual = self.session.scalar(select(InspectionType).where(col(InspectionType.code) == "PV-ANNUAL"))
        assert annual is not None
        vessel = factories.AssetFactory(
            tag=tag,
            name="反应釜",
            asset_class=AssetClass.VESSEL,
            special_category=SpecialCategory.PRESSURE_VESSEL,
            workshop_id=(workshop or self.workshop_a).id,
            commission_date=date(2024, 6, 15),
        )
        self.session.add(
            SpecialInspection(
                asset_id=vessel.id,
                inspection_type_id=annual.id,  # type: ignore[arg-type]
                inspected_date=checked,
                agency="市特检院",
                result=InspectionResult.PASS,
            )
        )
        self.session.flush()
        return vessel

    def budget(self, spent: list[tuple[Workshop, str]], year: int = 2026) -> None:
        """A budget for ``year`` planning 10,000 元 of services in January for each workshop of
        ``spent``, which booked the amount given in February."""
        budget = BudgetYear(year=year, target_cny=Decimal("1000000"))
        self.session.add(budget)
        self.session.flush()
        for workshop, amount in spent:
            self.session.add(
                Allocation(
                    budget_year_id=budget.id,  # type: ignore[arg-type]
                    workshop_id=workshop.id,  # type: ignore[arg-type]
                    category=CostCategory.SERVICES,
                    month=1,
                    amount_cny=Decimal("10000"),
                )
            )
            self.session.add(
                JournalEntry(
                    booked_on=date(year, 2, 15),
                    workshop_id=workshop.id,  # type: ignore[arg-type]
                    category=CostCategory.SERVICES,
                    amount_cny=Decimal(amount),
                    reference=f"V-{workshop.code}",
                )
            )
        self.session.flush()

    def one_of_each_for_the_manager(self, n: int) -> None:
        """An alarm, a draft awaiting approval and an order assigned to the manager: three more
        notifications of the manager's (``n`` makes the point code unique)."""
        self.alert(self.pump_a, f"P-101-V{n}", plant(3, 5))
        self.order(self.pump_b, planned_cny="60000")
        self.order(self.pump_a, assignee_id=self.manager.id)


def _member(session: Session, workshop: Workshop, **fields: Any) -> User:
    user = factories.UserFactory(**fields)
    session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    return user


@pytest.fixture
def world(session: Session) -> Plant:
    return build_world(session)


def build_world(session: Session) -> Plant:
    """The plant above in ``session`` (the factories bound to it)."""
    workshop_a = factories.WorkshopFactory(code="SYN", name="合成车间")
    workshop_b = factories.WorkshopFactory(code="UTL", name="公用工程车间")
    return Plant(
        session=session,
        workshop_a=workshop_a,
        workshop_b=workshop_b,
        pump_a=factories.AssetFactory(workshop_id=workshop_a.id, tag="P-101"),
        pump_b=factories.AssetFactory(workshop_id=workshop_b.id, tag="P-201"),
        engineer_a=_member(session, workshop_a, role=Role.ENGINEER, username="eng_a"),
        engineer_b=_member(session, workshop_b, role=Role.ENGINEER, username="eng_b"),
        manager=factories.UserFactory(role=Role.MANAGER, username="boss"),
        auditor=factories.UserFactory(role=Role.AUDITOR, username="audit"),
    )
