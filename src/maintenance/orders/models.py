"""Work orders (工单), their cost lines, checklist, transitions and attachments; PM plans and
turnarounds (大修).

Money is ``Decimal`` in 元. Each cost line stores its planned and actual amounts (and any saving),
computed by the service when the line is written, so budgets and KPIs sum them in SQL.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import field_validator
from sqlalchemy import Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from maintenance.choices import ChoiceType
from maintenance.db import UTCDateTime, VersionChecked, fk_column, strip_text, utcnow
from maintenance.orders.choices import (
    ChecklistResult,
    CostCategory,
    CostKind,
    DetectionMethod,
    FailureCause,
    FailureMechanism,
    FailureMode,
    IntervalUnit,
    OrderState,
    OrderType,
    PlanBasis,
    Priority,
    Provider,
)

MONEY = Numeric(16, 2)
# The largest amount MONEY holds: a product of valid quantities and prices may exceed it, and is
# refused with a field error before it reaches the database.
MAX_CNY = Decimal(10) ** 14 - Decimal("0.01")
QUANTITY = Numeric(14, 3)


def _money(*, ge: float | None = None) -> Decimal:
    return Field(default=Decimal("0.00"), ge=ge, max_digits=16, decimal_places=2, sa_type=MONEY)  # type: ignore[no-any-return]


# --- Work orders --------------------------------------------------------------------------


class WorkOrderFields(SQLModel):
    """What a user enters for an order (form and API)."""

    order_type: OrderType = Field(sa_type=ChoiceType(OrderType))
    asset_id: int
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    priority: Priority = Field(default=Priority.NORMAL, sa_type=ChoiceType(Priority))
    planned_start_date: date | None = None
    planned_finish_date: date | None = None
    due_date: date | None = Field(default=None, description="PM: when the plan falls due")
    provider: Provider = Field(default=Provider.IN_HOUSE, sa_type=ChoiceType(Provider))
    assignee_name: str = Field(default="", max_length=100, description="In-house team or contractor")
    assignee_id: int | None = Field(default=None, description="The engineer who owns the order")
    turnaround_id: int | None = None
    is_revamp_tie_in: bool = Field(default=False, description="Phase-II revamp tie-in item (技改碰头)")

    _strip_text = field_validator("title", "description", "assignee_name", mode="before")(strip_text)


class FailureReport(SQLModel):
    """ISO 14224 failure data and downtime, recorded on CM/CBM orders."""

    failure_mode: FailureMode | None = Field(default=None, sa_type=ChoiceType(FailureMode))
    failure_mechanism: FailureMechanism | None = Field(default=None, sa_type=ChoiceType(FailureMechanism))
    failure_cause: FailureCause | None = Field(default=None, sa_type=ChoiceType(FailureCause))
    detection_method: DetectionMethod | None = Field(default=None, sa_type=ChoiceType(DetectionMethod))
    downtime_start_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    downtime_end_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    production_loss_t: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=3, sa_type=QUANTITY)
    production_loss_cny: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2, sa_type=MONEY)


class WorkOrder(WorkOrderFields, FailureReport, VersionChecked, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        # The scheduler's idempotency key: one order per plan and due date, whoever runs it.
        UniqueConstraint("pm_plan_id", "plan_due_date"),
        Index("ix_work_order_workshop_state", "workshop_id", "state"),
        Index("ix_work_order_type_created", "order_type", "created_at"),
        Index("ix_work_order_asset_created", "asset_id", "created_at"),
        # The repair cost's actual counts completed orders by the day they finished.
        Index("ix_work_order_finished", "actual_finish_at"),
        # The order mix (KPIs, the scorecard's CBM share) sums a period's orders by the time they
        # were raised, read from this index alone (bench/bench_scorecard.py).
        Index(
            "ix_work_order_requested_mix",
            "requested_at",
            "state",
            "workshop_id",
            "order_type",
            "labour_hours",
            "actual_cost_cny",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True, description="WO-YYYY-NNNNNN")
    state: OrderState = Field(default=OrderState.DRAFT, sa_type=ChoiceType(OrderState), index=True)
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False, index=False))
    # Copied from the asset when the order is raised: lists filter by it, permissions check it.
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    assignee_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True))
    turnaround_id: int | None = Field(default=None, sa_column=fk_column("turnaround.id", nullable=True))
    pm_plan_id: int | None = Field(default=None, sa_column=fk_column("pm_plan.id", nullable=True, index=False))
    plan_due_date: date | None = None
    origin_order_id: int | None = Field(
        default=None,
        sa_column=fk_column("work_order.id", nullable=True),
        description="The order whose check raised this one",
    )
    requested_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    approved_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    actual_start_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    actual_finish_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    findings: str = Field(default="", max_length=4000)
    completion_notes: str = Field(default="", max_length=4000)
    signed_off_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    signed_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Sums of the cost lines, kept by the service (list pages and KPIs read them without joins).
    planned_cost_cny: Decimal = _money()
    actual_cost_cny: Decimal = _money()
    labour_hours: Decimal = Field(default=Decimal("0"), max_digits=14, decimal_places=3, sa_type=QUANTITY)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def downtime_hours(self) -> float | None:
        if self.downtime_start_at is None or self.downtime_end_at is None:
            return None
        return (self.downtime_end_at - self.downtime_start_at).total_seconds() / 3600


class WorkOrderCreate(WorkOrderFields):
    pass


class WorkOrderUpdate(WorkOrderFields):
    """A full edit from the form; ``version`` is the one the user started from."""

    version: int


class FailureReportUpdate(FailureReport):
    version: int


class OrderNumberCounter(SQLModel, table=True):
    """Last number issued per year. Incrementing this row serialises concurrent creators, so
    numbers are gap-free within committed work and never duplicated."""

    __tablename__ = "order_number_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_number: int = 0


class OrderTransition(SQLModel, table=True):
    """Every state change: who, when, from, to, and why."""

    __tablename__ = "order_transition"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=fk_column("work_order.id", nullable=False, ondelete="CASCADE"))
    from_state: OrderState | None = Field(default=None, sa_type=ChoiceType(OrderState))
    to_state: OrderState = Field(sa_type=ChoiceType(OrderState))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    actor_name: str = Field(max_length=100)
    note: str = Field(default="", max_length=1000)


class CostLineFields(SQLModel):
    """One cost line. By kind:

    - labour: ``quantity`` hours × ``unit_price_cny`` rate; ``provider`` in-house or contractor;
    - material: ``item_code``/``uom``; planned quantity × planned price; ``quantity`` issued at
      ``unit_price_cny``; ``used_quantity`` and ``returned_quantity`` (the rest stays in stock);
    - service: outsourced work, ``quantity`` (usually 1) × ``unit_price_cny``;
    - refurbished (修旧利废): ``unit_price_cny`` is the repair cost, ``reference_price_cny`` the price
      of a new part; saving = (new − repair) × quantity;
    - localised (国产化): ``unit_price_cny`` is the domestic price, ``reference_price_cny`` the import
      price; saving = (import − domestic) × quantity.
    """

    kind: CostKind = Field(sa_type=ChoiceType(CostKind))
    description: str = Field(min_length=1, max_length=200)
    item_code: str = Field(default="", max_length=40)
    uom: str = Field(default="", max_length=20, description="Unit of measure")
    provider: Provider = Field(default=Provider.IN_HOUSE, sa_type=ChoiceType(Provider))
    planned_quantity: Decimal = Field(default=Decimal("0"), ge=0, max_digits=14, decimal_places=3, sa_type=QUANTITY)
    planned_unit_price_cny: Decimal = _money(ge=0)
    quantity: Decimal = Field(default=Decimal("0"), ge=0, max_digits=14, decimal_places=3, sa_type=QUANTITY)
    unit_price_cny: Decimal = _money(ge=0)
    used_quantity: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=3, sa_type=QUANTITY)
    returned_quantity: Decimal = Field(default=Decimal("0"), ge=0, max_digits=14, decimal_places=3, sa_type=QUANTITY)
    reference_price_cny: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2, sa_type=MONEY)

    _strip_text = field_validator("description", "item_code", "uom", mode="before")(strip_text)


class CostLine(CostLineFields, table=True):
    __tablename__ = "cost_line"
    # The repair cost sums a year's lines of completed orders (orders.costs): the amounts in the
    # index let it read them from the index alone, without visiting a million table rows.
    __table_args__ = (Index("ix_cost_line_order_amounts", "order_id", "kind", "actual_cny", "planned_cny"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=fk_column("work_order.id", nullable=False, ondelete="CASCADE", index=False))
    planned_cny: Decimal = _money()
    actual_cny: Decimal = _money()
    saving_cny: Decimal = _money()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.kind.value} {self.description}"


class CostLineCreate(CostLineFields):
    pass


# --- Costs booked outside work orders ----------------------------------------------------


class JournalEntryFields(SQLModel):
    """A repair cost booked in the finance journal without a work order (an annual service
    contract, a framework agreement's invoice). It counts in the actual repair cost on its booking
    date, beside the cost lines of completed orders (:mod:`maintenance.orders.costs`)."""

    booked_on: date
    workshop_id: int
    category: CostCategory = Field(sa_type=ChoiceType(CostCategory))
    amount_cny: Decimal = Field(max_digits=16, decimal_places=2, sa_type=MONEY)
    reference: str = Field(min_length=1, max_length=60, description="The finance voucher number (凭证号)")
    description: str = Field(default="", max_length=200)

    _strip_text = field_validator("reference", "description", mode="before")(strip_text)


class JournalEntry(JournalEntryFields, table=True):
    __tablename__ = "journal_entry"
    __table_args__ = (Index("ix_journal_entry_booked_workshop", "booked_on", "workshop_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    # A voucher is booked once: importing a file twice, or two files naming it, is refused.
    reference: str = Field(max_length=60, unique=True)
    source_file: str = Field(default="", max_length=200)
    imported_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.reference} {self.amount_cny}"


class ChecklistItem(SQLModel, table=True):
    """A check on an order, copied from its PM plan's template (or added by hand)."""

    __tablename__ = "checklist_item"
    __table_args__ = (UniqueConstraint("order_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=fk_column("work_order.id", nullable=False, ondelete="CASCADE", index=False))
    position: int
    text: str = Field(max_length=200)
    value_unit: str = Field(default="", max_length=20, description="Set for checks that record a value")
    result: ChecklistResult | None = Field(default=None, sa_type=ChoiceType(ChecklistResult))
    value: Decimal | None = Field(default=None, max_digits=14, decimal_places=3, sa_type=QUANTITY)
    note: str = Field(default="", max_length=500)
    raised_order_id: int | None = Field(default=None, sa_column=fk_column("work_order.id", nullable=True, index=False))

    @property
    def audit_repr(self) -> str:
        return self.text


class OrderAttachment(SQLModel, table=True):
    """A photo or file on an order; the bytes are stored like asset documents (by SHA-256)."""

    __tablename__ = "order_attachment"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=fk_column("work_order.id", nullable=False, ondelete="CASCADE"))
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64, index=True)
    uploaded_by_id: int = Field(sa_column=fk_column("app_user.id", nullable=False, index=False))
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return self.filename


# --- PM plans -----------------------------------------------------------------------------


class PmPlanFields(SQLModel):
    asset_id: int
    title: str = Field(min_length=1, max_length=200)
    basis: PlanBasis = Field(default=PlanBasis.FIXED, sa_type=ChoiceType(PlanBasis))
    interval: int = Field(default=1, ge=1, le=10_000, description="Calendar plans: every N units")
    interval_unit: IntervalUnit = Field(default=IntervalUnit.MONTH, sa_type=ChoiceType(IntervalUnit))
    interval_hours: int | None = Field(default=None, ge=1, le=1_000_000, description="Runtime plans: every N hours")
    start_date: date = Field(description="Fixed plans: the first due date; floating: due if never done")
    lead_days: int = Field(default=7, ge=0, le=365, description="Raise the order this many days before it is due")
    priority: Priority = Field(default=Priority.NORMAL, sa_type=ChoiceType(Priority))
    provider: Provider = Field(default=Provider.IN_HOUSE, sa_type=ChoiceType(Provider))
    assignee_name: str = Field(default="", max_length=100)
    checklist_template: str = Field(
        default="", max_length=4000, description="One check per line; 'text | unit' records a value"
    )
    is_active: bool = True

    _strip_text = field_validator("title", "assignee_name", "checklist_template", mode="before")(strip_text)


class PmPlan(PmPlanFields, table=True):
    __tablename__ = "pm_plan"

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False))
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False))
    last_done_date: date | None = Field(default=None, description="Completion of the last order (floating plans)")
    # Runtime counter: the meter reading now, and at the last completion. Readings of the asset's
    # runtime-hours measurement point update it (the monitoring domain calls record_runtime).
    meter_hours: Decimal | None = Field(default=None, max_digits=14, decimal_places=1, sa_type=Numeric(14, 1))
    meter_read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_done_meter_hours: Decimal | None = Field(default=None, max_digits=14, decimal_places=1, sa_type=Numeric(14, 1))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return self.title


class PmPlanCreate(PmPlanFields):
    pass


class PmPlanUpdate(PmPlanFields):
    version: int


class PmPlanCostLine(SQLModel, table=True):
    """An estimated cost line of a plan, copied to each order as its planned line."""

    __tablename__ = "pm_plan_cost_line"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(sa_column=fk_column("pm_plan.id", nullable=False, ondelete="CASCADE"))
    kind: CostKind = Field(sa_type=ChoiceType(CostKind))
    description: str = Field(min_length=1, max_length=200)
    item_code: str = Field(default="", max_length=40)
    uom: str = Field(default="", max_length=20)
    provider: Provider = Field(default=Provider.IN_HOUSE, sa_type=ChoiceType(Provider))
    quantity: Decimal = Field(default=Decimal("1"), ge=0, max_digits=14, decimal_places=3, sa_type=QUANTITY)
    unit_price_cny: Decimal = _money(ge=0)

    @property
    def audit_repr(self) -> str:
        return self.description


# --- Turnarounds --------------------------------------------------------------------------


class TurnaroundFields(SQLModel):
    code: str = Field(min_length=1, max_length=20, schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"})
    name: str = Field(min_length=1, max_length=100)
    start_date: date
    end_date: date
    budget_cny: Decimal = _money(ge=0)
    notes: str = Field(default="", max_length=2000)

    _strip_text = field_validator("code", "name", "notes", mode="before")(strip_text)


class Turnaround(TurnaroundFields, VersionChecked, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    site_id: int = Field(sa_column=fk_column("site.id", nullable=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.code} {self.name}"


class TurnaroundCreate(TurnaroundFields):
    site_id: int


class TurnaroundUpdate(TurnaroundFields):
    version: int
