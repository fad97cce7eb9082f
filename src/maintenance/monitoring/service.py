"""Measurement points: create, edit, look up and list. Readings come in through :mod:`ingest`.

Services flush, never commit; every create and edit of a point is in the change log. ``actor`` is
a user (engineers write in their workshops, managers and admins everywhere, auditors nowhere) or
a :class:`SystemActor` (the demo loader) with the capabilities it was given (org.permissions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.monitoring import rules
from maintenance.monitoring.choices import ConditionState, LimitPreset, Quantity
from maintenance.monitoring.models import MeasurementPoint, PointCreate, PointFields, PointUpdate
from maintenance.org.models import Workshop
from maintenance.org.permissions import require_write_in


def limits_of(point: PointFields) -> rules.Limits:
    return rules.Limits(
        warning_high=point.warning_high,
        alarm_high=point.alarm_high,
        warning_low=point.warning_low,
        alarm_low=point.alarm_low,
    )


def zone_of(point: MeasurementPoint, value: float | None) -> str | None:
    """The ISO 10816-3 zone (A–D) of ``value`` on a vibration point with a preset, else None."""
    zones = rules.ISO_10816_3.get(point.preset)
    if zones is None or value is None or point.quantity != Quantity.VIBRATION:
        return None
    return zones.zone(value)


# --- Reading ------------------------------------------------------------------------------


def get_point_or_raise(session: Session, point_id: int) -> MeasurementPoint:
    point = session.get(MeasurementPoint, point_id)
    if point is None:
        raise NotFound(_("Measurement point %(id)s does not exist.", id=point_id))
    return point


def get_point_by_code(session: Session, code: str) -> MeasurementPoint | None:
    return session.scalar(select(MeasurementPoint).where(col(MeasurementPoint.code) == code.strip()))


def get_point_by_code_or_raise(session: Session, code: str) -> MeasurementPoint:
    point = get_point_by_code(session, code)
    if point is None:
        raise NotFound(_("Measurement point %(code)s does not exist.", code=code))
    return point


@dataclass
class PointFilters:
    """What the point list and ``GET /api/v1/points`` filter on; empty means any."""

    q: str = ""
    workshop_id: int | None = None
    workshop_code: str = ""
    asset_id: int | None = None
    asset_tag: str = ""
    quantity: Quantity | None = None
    state: ConditionState | None = None
    active_only: bool = False


def list_points(filters: PointFilters) -> Select[MeasurementPoint, str, str, str]:
    """(point, asset tag, asset name, workshop code) rows, ordered by point code."""
    stmt = (
        select(MeasurementPoint, col(Asset.tag), col(Asset.name), col(Workshop.code))
        .join(Asset, col(Asset.id) == col(MeasurementPoint.asset_id))
        .join(Workshop, col(Workshop.id) == col(MeasurementPoint.workshop_id))
    )
    if filters.q.strip():
        like = f"%{filters.q.strip()}%"
        stmt = stmt.where(
            col(MeasurementPoint.code).ilike(like) | col(MeasurementPoint.name).ilike(like) | col(Asset.tag).ilike(like)
        )
    if filters.workshop_id is not None:
        stmt = stmt.where(col(MeasurementPoint.workshop_id) == filters.workshop_id)
    if filters.workshop_code.strip():
        stmt = stmt.where(col(Workshop.code) == filters.workshop_code.strip())
    if filters.asset_id is not None:
        stmt = stmt.where(col(MeasurementPoint.asset_id) == filters.asset_id)
    if filters.asset_tag.strip():
        stmt = stmt.where(col(Asset.tag) == filters.asset_tag.strip())
    if filters.quantity is not None:
        stmt = stmt.where(col(MeasurementPoint.quantity) == filters.quantity)
    if filters.state is not None:
        stmt = stmt.where(col(MeasurementPoint.latest_state) == filters.state)
    if filters.active_only:
        stmt = stmt.where(col(MeasurementPoint.is_active).is_(True))
    return stmt.order_by(col(MeasurementPoint.code))


def count_points(session: Session, stmt: Select[*tuple[Any, ...]]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


# --- Writing ------------------------------------------------------------------------------


def _validate(session: Session, data: PointFields, point: MeasurementPoint | None) -> tuple[Asset, dict[str, Any]]:
    """Check what the model cannot; return the asset and the derived fields (workshop, unit,
    preset limits)."""
    asset = session.get(Asset, data.asset_id)
    if asset is None:
        raise ValidationFailed(_("The measurement point was not saved."), [FieldError("asset_id", _("No such asset."))])
    errors: list[FieldError] = []
    derived: dict[str, Any] = {"workshop_id": asset.workshop_id}
    clash = session.scalar(select(col(MeasurementPoint.id)).where(col(MeasurementPoint.code) == data.code))
    if clash is not None and (point is None or clash != point.id):
        errors.append(FieldError("code", _("Point code %(code)s already exists.", code=data.code)))
    if not data.unit:
        derived["unit"] = rules.QUANTITIES[data.quantity].unit
    warning_high, alarm_high = data.warning_high, data.alarm_high
    if data.preset != LimitPreset.NONE:
        if data.quantity != Quantity.VIBRATION:
            errors.append(FieldError("preset", _("ISO 10816-3 presets apply to vibration velocity points only.")))
        else:
            preset_limits = rules.Limits.from_preset(data.preset)
            if preset_limits is not None:
                warning_high, alarm_high = preset_limits.warning_high, preset_limits.alarm_high
                derived |= {"warning_high": warning_high, "alarm_high": alarm_high}
    if warning_high is not None and alarm_high is not None and warning_high >= alarm_high:
        errors.append(FieldError("warning_high", _("The high warning limit must be below the high alarm limit.")))
    if data.warning_low is not None and data.alarm_low is not None and data.warning_low <= data.alarm_low:
        errors.append(FieldError("warning_low", _("The low warning limit must be above the low alarm limit.")))
    spec = rules.QUANTITIES[data.quantity]
    for name in ("warning_high", "alarm_high", "warning_low", "alarm_low"):
        value = derived.get(name, getattr(data, name))
        if value is not None and not spec.minimum <= value <= spec.maximum:
            errors.append(
                FieldError(
                    name,
                    _(
                        "Must be within %(minimum)s…%(maximum)s %(unit)s.",
                        minimum=f"{spec.minimum:g}",
                        maximum=f"{spec.maximum:g}",
                        unit=spec.unit,
                    ),
                )
            )
    if (
        data.initial_thickness_mm is not None
        and data.required_thickness_mm is not None
        and data.required_thickness_mm >= data.initial_thickness_mm
    ):
        errors.append(
            FieldError("required_thickness_mm", _("The required thickness must be below the initial thickness."))
        )
    if errors:
        raise ValidationFailed(_("The measurement point was not saved."), errors)
    return asset, derived


def check_may_write(session: Session, actor: Actor, workshop_id: int) -> None:
    require_write_in(session, actor, workshop_id)


def create_point(session: Session, data: PointCreate, *, actor: Actor) -> MeasurementPoint:
    asset, derived = _validate(session, data, None)
    check_may_write(session, actor, asset.workshop_id)
    point = MeasurementPoint.model_validate(data, update=derived)
    point.created_at = point.updated_at = utcnow()
    session.add(point)
    session.flush()
    audit.record_create(session, actor, point)
    return point


def _stale(point: MeasurementPoint) -> Conflict:
    return Conflict(
        _(
            "Someone else changed point %(code)s while you were editing it. Review their changes and edit again.",
            code=point.code,
        ),
        [FieldError("version", _("stale"))],
    )


def update_point(session: Session, point: MeasurementPoint, data: PointUpdate, *, actor: Actor) -> MeasurementPoint:
    """Apply a full edit made from ``data.version``; a newer stored version is a conflict, here
    or (saved meanwhile by someone else) in the UPDATE. New limits apply to readings from now on
    (stored readings keep the state they were given)."""
    if data.version != point.version:
        raise _stale(point)
    check_may_write(session, actor, point.workshop_id)
    asset, derived = _validate(session, data, point)
    check_may_write(session, actor, asset.workshop_id)
    changes = data.model_dump(exclude={"version"}) | derived
    before = audit.snapshot(point)
    with versioned_write(session, point, lambda: _stale(point)):
        point.sqlmodel_update(changes)
        changed = audit.snapshot(point) != before
        if changed:
            point.version += 1
            point.updated_at = utcnow()
    if changed:
        audit.record_update(session, actor, point, before)
    return point
