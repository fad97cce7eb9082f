"""PM plans (预防性维修计划): create and edit. The scheduler that turns plans into orders is
:mod:`maintenance.orders.scheduler`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import utcnow
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders.choices import PlanBasis
from maintenance.orders.models import PmPlan, PmPlanCostLine, PmPlanCreate, PmPlanFields, PmPlanUpdate
from maintenance.orders.service import check_may_write


def get_plan_or_raise(session: Session, plan_id: int) -> PmPlan:
    plan = session.get(PmPlan, plan_id)
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
