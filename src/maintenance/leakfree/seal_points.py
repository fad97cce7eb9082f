"""The seal-point inventory (密封点台账): its filters, the filtered list and its totals by kind,
and writing a line (create, edit from a version, retire and return to service), each in the
change log.

A line is never deleted: leaks keep pointing at it, so retiring sets ``is_active`` false.
Engineers write the lines of their own workshops; managers and admins every workshop's.
The unit and the asset of a line must belong to its workshop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from pydantic import Field, field_validator, model_validator
from sqlalchemy import ColumnElement, Select, func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import contains_text, utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.leakfree.choices import SealKind, SealType
from maintenance.leakfree.models import SealPoint, SealPointCreate, SealPointFields, SealPointUpdate
from maintenance.org.models import Unit, User, Workshop
from maintenance.org.permissions import require_write_in, writable_workshop_ids
from maintenance.web import ListFilters, RecordId, filters_from_query

ALL_WORKSHOPS = "all"
DEFAULT_SORT = "code"
# Sort keys → the column they order by (the code breaks ties).
SORTABLE: dict[str, Any] = {
    "code": col(SealPoint.code),
    "type": col(SealPoint.seal_type),
    "location": col(SealPoint.location),
    "count": col(SealPoint.count),
    "updated": col(SealPoint.updated_at),
}
STATUSES = ("active", "retired", "all")


# --- Reading ------------------------------------------------------------------------------


class SealPointFilters(ListFilters):
    """The list's filters, parsed once from the query and used by the page, its fragment, the
    totals and the exports. ``status`` is active (default), retired or all."""

    sort_keys = SORTABLE
    # The asset's tag is typed like the search text: trimmed, blank is no filter.
    trimmed = frozenset({"q", "asset"})

    q: str | None = Field(default=None, max_length=100)
    workshop_id: RecordId | None = None
    all_workshops: bool = False
    unit_id: RecordId | None = None
    asset: str | None = Field(default=None, max_length=40)
    kind: SealKind | None = None
    seal_type: SealType | None = None
    status: str = "active"
    sort: str = DEFAULT_SORT

    @model_validator(mode="before")
    @classmethod
    def _all_is_a_choice_of_workshop(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("workshop_id") == ALL_WORKSHOPS:
            return {**data, "workshop_id": None, "all_workshops": True}
        return data

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        return value if value in STATUSES else "active"

    def workshop_ids(self, session: Session, user: User) -> list[int] | None:
        """The workshops listed (None: all): the one chosen, else an engineer's own."""
        if self.workshop_id is not None:
            return [self.workshop_id]
        if self.all_workshops:
            return None
        own = writable_workshop_ids(session, user)
        return sorted(own) if own else None

    def query_params(self) -> dict[str, str]:
        """The filters as URL parameters, "all workshops" as the workshop's choice."""
        params = super().query_params()
        if params.pop("all_workshops", None):
            params["workshop_id"] = ALL_WORKSHOPS
        return params


SealPointFiltersDep = Annotated[SealPointFilters, Depends(filters_from_query(SealPointFilters))]


def _conditions(filters: SealPointFilters, workshop_ids: list[int] | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if workshop_ids is not None:
        conditions.append(col(SealPoint.workshop_id).in_(workshop_ids))
    if filters.unit_id is not None:
        conditions.append(col(SealPoint.unit_id) == filters.unit_id)
    if filters.asset:
        conditions.append(contains_text(col(Asset.tag), filters.asset))
    if filters.kind is not None:
        conditions.append(col(SealPoint.seal_type).in_([t for t in SealType if t.kind == filters.kind]))
    if filters.seal_type is not None:
        conditions.append(col(SealPoint.seal_type) == filters.seal_type)
    if filters.status != "all":
        conditions.append(col(SealPoint.is_active).is_(filters.status == "active"))
    if filters.q:
        conditions.append(
            contains_text(col(SealPoint.code), filters.q) | contains_text(col(SealPoint.location), filters.q)
        )
    return conditions


def list_seal_points(filters: SealPointFilters, workshop_ids: list[int] | None) -> Select[Any]:
    """Rows of (line, unit code, asset tag), filtered and sorted."""
    key = SORTABLE[filters.sort.lstrip("-")]
    order = key.desc() if filters.sort.startswith("-") else key.asc()
    columns: tuple[Any, ...] = (SealPoint, col(Unit.code).label("unit_code"), col(Asset.tag).label("asset_tag"))
    return (
        select(*columns)
        .outerjoin(Unit, col(Unit.id) == col(SealPoint.unit_id))
        .outerjoin(Asset, col(Asset.id) == col(SealPoint.asset_id))
        .where(*_conditions(filters, workshop_ids))
        .order_by(order, col(SealPoint.code))
    )


def totals_by_kind(session: Session, filters: SealPointFilters, workshop_ids: list[int] | None) -> dict[SealKind, int]:
    """The points the filtered lines count, static and dynamic (one aggregate query)."""
    stmt = (
        select(col(SealPoint.seal_type), func.coalesce(func.sum(col(SealPoint.count)), 0))
        .outerjoin(Asset, col(Asset.id) == col(SealPoint.asset_id))
        .where(*_conditions(filters, workshop_ids))
        .group_by(col(SealPoint.seal_type))
    )
    totals = dict.fromkeys(SealKind, 0)
    for seal_type, points in session.execute(stmt):
        totals[SealType(seal_type).kind] += int(points)
    return totals


def get_seal_point_or_raise(session: Session, seal_point_id: int, *, for_update: bool = False) -> SealPoint:
    stmt = select(SealPoint).where(col(SealPoint.id) == seal_point_id)
    if for_update:
        stmt = stmt.with_for_update()
    point = session.scalar(stmt)
    if point is None:
        raise NotFound(_("Seal-point line %(id)s does not exist.", id=seal_point_id))
    return point


# --- Writing ------------------------------------------------------------------------------


def check_line(session: Session, data: SealPointFields, *, seal_point_id: int | None = None) -> list[FieldError]:
    """What is wrong with ``data`` against the tables: the workshop, the unit and asset of that
    workshop, a code no other line has."""
    errors: list[FieldError] = []
    if session.get(Workshop, data.workshop_id) is None:
        errors.append(FieldError("workshop_id", _("No such workshop.")))
    if data.unit_id is not None:
        unit = session.get(Unit, data.unit_id)
        if unit is None:
            errors.append(FieldError("unit_id", _("No such unit.")))
        elif unit.workshop_id != data.workshop_id:
            errors.append(FieldError("unit_id", _("Unit %(code)s belongs to another workshop.", code=unit.code)))
    if data.asset_id is not None:
        asset = session.get(Asset, data.asset_id)
        if asset is None:
            errors.append(FieldError("asset_id", _("No such asset.")))
        elif asset.workshop_id != data.workshop_id:
            errors.append(FieldError("asset_id", _("Asset %(tag)s belongs to another workshop.", tag=asset.tag)))
    same_code = select(col(SealPoint.id)).where(col(SealPoint.code) == data.code)
    if seal_point_id is not None:
        same_code = same_code.where(col(SealPoint.id) != seal_point_id)
    if session.scalar(same_code.limit(1)) is not None:
        errors.append(FieldError("code", _("Another seal-point line has the code %(code)s.", code=data.code)))
    return errors


def _refuse_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(_("The seal-point line was not saved."), errors)


def create_seal_point(session: Session, data: SealPointCreate, *, actor: Actor) -> SealPoint:
    """A new line of the inventory (the engineers of its workshop, managers, admins)."""
    require_write_in(session, actor, data.workshop_id)
    _refuse_if(check_line(session, data))
    point = SealPoint.model_validate(data)
    session.add(point)
    session.flush()
    audit.record_create(session, actor, point)
    return point


def _stale() -> Conflict:
    return Conflict(
        _("Someone else changed this seal-point line while you were editing it. Review their changes and edit again."),
        [FieldError("version", _("stale"))],
    )


def _write(session: Session, point: SealPoint, changes: dict[str, Any], *, actor: Actor) -> bool:
    """Apply ``changes`` in a versioned write; logged when something changed."""
    before = audit.snapshot(point)
    with versioned_write(session, point, _stale):
        point.sqlmodel_update(changes)
        changed = audit.snapshot(point) != before
        if changed:
            point.version += 1
            point.updated_at = utcnow()
    if changed:
        audit.record_update(session, actor, point, before)
    return changed


def update_seal_point(session: Session, point: SealPoint, data: SealPointUpdate, *, actor: Actor) -> SealPoint:
    """Edit a line from ``data.version``; a newer stored version is a conflict. Moving a line to
    another workshop needs the right to write in both."""
    if data.version != point.version:
        raise _stale()
    require_write_in(session, actor, point.workshop_id)
    require_write_in(session, actor, data.workshop_id)
    assert point.id is not None
    _refuse_if(check_line(session, data, seal_point_id=point.id))
    _write(session, point, data.model_dump(exclude={"version"}), actor=actor)
    return point


def set_active(session: Session, point: SealPoint, active: bool, *, version: int, actor: Actor) -> SealPoint:
    """Retire a line (``active`` false: it no longer counts in the inventory) or return it to
    service; never deleted."""
    if version != point.version:
        raise _stale()
    require_write_in(session, actor, point.workshop_id)
    _write(session, point, {"is_active": active}, actor=actor)
    return point


def apply_import(
    session: Session, point: SealPoint | None, data: SealPointCreate, *, actor: Actor
) -> tuple[SealPoint, bool]:
    """An imported line: created, or the existing line of that code given the row's type,
    location, count (and unit and asset when the row names them), back in service if it was
    retired: the file is the inventory. Returns (line, changed)."""
    if point is None:
        return create_seal_point(session, data, actor=actor), True
    require_write_in(session, actor, point.workshop_id)
    changes: dict[str, Any] = {
        "seal_type": data.seal_type,
        "location": data.location,
        "count": data.count,
        "is_active": True,
    }
    if data.unit_id is not None:
        changes["unit_id"] = data.unit_id
    if data.asset_id is not None:
        changes["asset_id"] = data.asset_id
    return point, _write(session, point, changes, actor=actor)
