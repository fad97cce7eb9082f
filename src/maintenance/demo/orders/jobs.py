"""An order's whole life as the demo history plans it, before it is replayed through the services:
its timed steps (the buttons on the order page) and its cost lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from maintenance.audit.service import Actor
from maintenance.orders.choices import ChecklistResult, CostKind, Provider
from maintenance.orders.models import CostLineCreate, PmPlan, WorkOrder, WorkOrderCreate

ZERO = Decimal("0")


@dataclass
class Line:
    """A cost line as it stands today (planned and actual), added when its order is raised."""

    kind: CostKind
    description: str
    item_code: str = ""
    uom: str = ""
    provider: Provider = Provider.IN_HOUSE
    planned_quantity: Decimal = ZERO
    planned_price: Decimal = ZERO
    quantity: Decimal = ZERO
    price: Decimal = ZERO
    used: Decimal | None = None
    returned: Decimal = ZERO
    reference: Decimal | None = None

    @property
    def actual_cny(self) -> Decimal:
        return self.quantity * self.price

    def create(self) -> CostLineCreate:
        return CostLineCreate(
            kind=self.kind,
            description=self.description[:200],
            item_code=self.item_code,
            uom=self.uom,
            provider=self.provider,
            planned_quantity=self.planned_quantity.quantize(Decimal("0.001")),
            planned_unit_price_cny=self.planned_price.quantize(Decimal("0.01")),
            quantity=self.quantity.quantize(Decimal("0.001")),
            unit_price_cny=self.price.quantize(Decimal("0.01")),
            used_quantity=None if self.used is None else self.used.quantize(Decimal("0.001")),
            returned_quantity=self.returned.quantize(Decimal("0.001")),
            reference_price_cny=None if self.reference is None else self.reference.quantize(Decimal("0.01")),
        )


@dataclass
class Step:
    """One action (a button on the order page) taken at ``at`` by ``actor``."""

    at: datetime
    action: str
    actor: Actor
    note: str = ""


@dataclass
class Job:
    """One order's whole life, planned before anything is written."""

    data: WorkOrderCreate
    requested_at: datetime
    requested_by: Actor
    worker: Actor  # who records checks and failure data
    steps: list[Step] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)
    results: list[tuple[ChecklistResult, Decimal | None, str]] = field(default_factory=list)
    failure: dict[str, object] | None = None
    plan: PmPlan | None = None
    due: date | None = None
    raises: Job | None = None  # the corrective order a failed check raises
    checked: bool = False
    order: WorkOrder | None = None

    def add(self, at: datetime, action: str, actor: Actor, note: str = "") -> datetime:
        """Append a step, never before the previous one; returns its time."""
        last = self.steps[-1].at if self.steps else self.requested_at
        at = max(at, last + timedelta(minutes=5))
        self.steps.append(Step(at, action, actor, note))
        return at

    @property
    def actual_cny(self) -> Decimal:
        return sum((line.actual_cny for line in self.lines), ZERO)
