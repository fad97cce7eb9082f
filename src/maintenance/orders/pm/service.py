"""PM plans (预防性维修计划): create and edit. The scheduler that turns plans into orders is
:mod:`maintenance.orders.pm.scheduler`."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import field_validator
from sqlalchemy import Select, or_, select
from sqlmodel import Field, Session, SQLModel, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import strip_text, utcnow
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostKind, PlanBasis, Provider
from maintenance.orders.models import PmPlan, PmPlanCostLine, PmPlanCreate, PmPlanFields, PmPlanUpdate, WorkOrder
from maintenance.orders.service import CENT, check_may_write
from maintenance.web import ListFilters, RecordId


def get_plan_or_raise(session: Session, plan_id: int, *, for_update: bool = False) -> PmPlan:
    stmt = select(PmPlan).where(col(PmPlan.id) == plan_id)
    if for_update:
        stmt = stmt.with_for_update()
    plan = session.scalar(stmt)
    if plan is None:
        raise NotFound(_("PM plan %(id)s does not exist.", id=plan_id))
    return plan


def estimated_lines_of(session: Session, plan: PmPlan) -> Sequence[PmPlanCostLine]:
    return session.scalars(
        select(PmPlanCostLine).where(col(PmPlanCostLine.plan_id) == plan.id).order_by(col(PmPlanCostLine.id))
    ).all()


def _validate(session: Session, data: PmPlanFields) -> Asset:
    asset = session.get(Asset, data.asset_id)
    if asset is None:
        raise ValidationFailed(_("The PM plan was not saved."), [FieldError("asset_id", _("No such asset."))])
    errors: list[FieldError] = []
    if asset.status == AssetStatus.RETIRED and data.is_active:
        errors.append(FieldError("asset_id", _("Asset %(tag)s is retired.", tag=asset.tag)))
    if data.basis == PlanBasis.RUNTIME and data.interval_hours is None:
        errors.append(FieldError("interval_hours", _("A runtime plan needs an interval in hours.")))
    if errors:
        raise ValidationFailed(_("The PM plan was not saved."), errors)
    return asset


def create_plan(session: Session, data: PmPlanCreate, *, actor: Actor) -> PmPlan:
    asset = _validate(session, data)
    check_may_write(session, actor, None, asset.workshop_id)
    plan = PmPlan.model_validate(data, update={"workshop_id": asset.workshop_id})
    session.add(plan)
    session.flush()
    audit.record_create(session, actor, plan)
    return plan


def update_plan(session: Session, plan: PmPlan, data: PmPlanUpdate, *, actor: Actor) -> PmPlan:
    if data.version != plan.version:
        raise Conflict(
            _("Someone else changed this PM plan while you were editing it. Review and edit again."),
            [FieldError("version", _("stale"))],
        )
    check_may_write(session, actor, None, plan.workshop_id)
    asset = _validate(session, data)
    check_may_write(session, actor, None, asset.workshop_id)
    before = audit.snapshot(plan)
    plan.sqlmodel_update(data.model_dump(exclude={"version"}) | {"workshop_id": asset.workshop_id})
    if audit.snapshot(plan) != before:
        plan.version += 1
        plan.updated_at = utcnow()
        session.flush()
        audit.record_update(session, actor, plan, before)
    return plan


def add_estimated_line(session: Session, plan: PmPlan, line: PmPlanCostLine, *, actor: Actor) -> PmPlanCostLine:
    check_may_write(session, actor, None, plan.workshop_id)
    line.plan_id = plan.id  # type: ignore[assignment]
    session.add(line)
    session.flush()
    audit.record_create(session, actor, line)
    return line


class EstimatedLineCreate(SQLModel):
    """An estimated cost line as entered on the plan page (validated like an order's line)."""

    kind: CostKind
    description: str = Field(min_length=1, max_length=200)
    item_code: str = Field(default="", max_length=40)
    uom: str = Field(default="", max_length=20)
    provider: Provider = Provider.IN_HOUSE
    quantity: Decimal = Field(default=Decimal("1"), gt=0, max_digits=14, decimal_places=3)
    unit_price_cny: Decimal = Field(default=Decimal("0"), ge=0, max_digits=16, decimal_places=2)

    _strip_text = field_validator("description", "item_code", "uom", mode="before")(strip_text)


def add_estimated_line_from(
    session: Session, plan: PmPlan, data: EstimatedLineCreate, *, actor: Actor
) -> PmPlanCostLine:
    return add_estimated_line(
        session, plan, PmPlanCostLine.model_validate(data, update={"plan_id": plan.id}), actor=actor
    )


def get_estimated_line_or_raise(session: Session, plan: PmPlan, line_id: int) -> PmPlanCostLine:
    line = session.get(PmPlanCostLine, line_id)
    if line is None or line.plan_id != plan.id:
        raise NotFound(_("No such estimated cost line on this PM plan."))
    return line


def delete_estimated_line(session: Session, plan: PmPlan, line: PmPlanCostLine, *, actor: Actor) -> None:
    check_may_write(session, actor, None, plan.workshop_id)
    audit.record_delete(session, actor, line)
    session.delete(line)
    session.flush()


def estimated_total(lines: Sequence[PmPlanCostLine]) -> Decimal:
    """What each order of the plan is planned to cost (the sum of its estimated lines)."""
    return sum(((line.quantity * line.unit_price_cny).quantize(CENT) for line in lines), Decimal("0.00"))


# --- Lists --------------------------------------------------------------------------------

# Sort keys users may ask for (``-`` prefix for descending).
SORTABLE = {
    "title": col(PmPlan.title),
    "asset": col(Asset.tag),
    "basis": col(PmPlan.basis),
    "workshop": col(PmPlan.workshop_id),
    "start": col(PmPlan.start_date),
    "last_done": col(PmPlan.last_done_date),
    "updated": col(PmPlan.updated_at),
}


class PlanFilters(ListFilters):
    """The PM plan list's filters, parsed from query parameters."""

    sort_keys = SORTABLE

    q: str | None = Field(default=None, max_length=100)
    workshop_id: RecordId | None = None
    asset_id: RecordId | None = None
    basis: PlanBasis | None = None
    active: Literal["yes", "no", "all"] = "yes"
    sort: str = "asset"

    # A blank (or None) ``active`` is the default, not a bad value: the base makes a blank None
    # only on fields that admit None.
    @field_validator("active", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        return "yes" if value in ("", None) else value


def list_plans(filters: PlanFilters) -> Select[Any]:
    """Rows of (plan, asset tag, asset name, asset status), filtered and sorted: one query."""
    stmt: Select[Any] = select(  # type: ignore[assignment]
        PmPlan, col(Asset.tag), col(Asset.name), col(Asset.status)
    ).join(Asset, col(Asset.id) == col(PmPlan.asset_id))
    if filters.q:
        pattern = f"%{filters.q}%"
        stmt = stmt.where(
            or_(col(Asset.tag).ilike(pattern), col(Asset.name).ilike(pattern), col(PmPlan.title).ilike(pattern))
        )
    if filters.workshop_id is not None:
        stmt = stmt.where(col(PmPlan.workshop_id) == filters.workshop_id)
    if filters.asset_id is not None:
        stmt = stmt.where(col(PmPlan.asset_id) == filters.asset_id)
    if filters.basis is not None:
        stmt = stmt.where(col(PmPlan.basis) == filters.basis)
    if filters.active != "all":
        stmt = stmt.where(col(PmPlan.is_active).is_(filters.active == "yes"))
    column = SORTABLE[filters.sort.lstrip("-")]
    ordering = column.desc() if filters.sort.startswith("-") else column.asc()
    return stmt.order_by(ordering, col(Asset.tag).asc(), col(PmPlan.id).asc())


def orders_of_plan(session: Session, plan: PmPlan, limit: int = 20) -> Sequence[WorkOrder]:
    """The latest orders raised from ``plan``, newest due date first."""
    return session.scalars(
        select(WorkOrder)
        .where(col(WorkOrder.pm_plan_id) == plan.id)
        .order_by(col(WorkOrder.plan_due_date).desc(), col(WorkOrder.id).desc())
        .limit(limit)
    ).all()
