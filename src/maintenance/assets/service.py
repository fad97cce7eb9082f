"""Asset registry services. They flush, never commit; every write logs the change
and records a new version so the registry can be read as of any instant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlalchemy import Select, func, select, update
from sqlmodel import Session, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.filters import AssetFilters
from maintenance.assets.models import Asset, AssetCreate, AssetFields, AssetUpdate, AssetVersion
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import plant_day_start, plant_today, utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.models import Unit, Workshop

# Fields copied from the asset into each of its versions.
_VERSIONED = (*AssetFields.model_fields, "site_id", "name_initials", "version")


def name_initials(name: str) -> str:
    """Pinyin initials of a Chinese name (循环水泵 → xhsb); other characters are kept lower-cased."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors=lambda chars: chars.lower())).lower()[:100]


# --- Reading ------------------------------------------------------------------------------


def get_asset(session: Session, asset_id: int) -> Asset | None:
    return session.get(Asset, asset_id)


def get_asset_or_raise(session: Session, asset_id: int, *, for_update: bool = False) -> Asset:
    stmt = select(Asset).where(col(Asset.id) == asset_id)
    if for_update:
        stmt = stmt.with_for_update()  # PostgreSQL row lock; SQLite transactions are already exclusive
    asset = session.scalar(stmt)
    if asset is None:
        raise NotFound(_("Asset %(id)s does not exist.", id=asset_id))
    return asset


def get_asset_by_tag(session: Session, tag: str, *, site_id: int | None = None) -> Asset | None:
    stmt = select(Asset).where(col(Asset.tag) == tag.strip())
    if site_id is not None:
        stmt = stmt.where(col(Asset.site_id) == site_id)
    return session.scalars(stmt.limit(1)).first()


def list_assets(filters: AssetFilters) -> Select[Any]:
    """Current assets (or, with ``as_of``, their versions valid then), filtered and sorted."""
    if filters.as_of is not None:
        return filters.apply(select(AssetVersion).where(*as_of_condition(filters.as_of)), AssetVersion)
    return filters.apply(select(Asset), Asset)


def listed_table(filters: AssetFilters) -> type[Asset] | type[AssetVersion]:
    """The table :func:`list_assets` reads (its sort columns, for keyset paging)."""
    return AssetVersion if filters.as_of is not None else Asset


def as_of_condition(as_of: date) -> tuple[Any, ...]:
    """Versions valid at the end of ``as_of`` (plant time)."""
    instant = plant_day_start(date.fromordinal(as_of.toordinal() + 1))
    return (
        col(AssetVersion.valid_from) < instant,
        (col(AssetVersion.valid_to).is_(None)) | (col(AssetVersion.valid_to) >= instant),
    )


def components_of(session: Session, asset: Asset) -> Sequence[Asset]:
    return session.scalars(select(Asset).where(col(Asset.parent_id) == asset.id).order_by(Asset.tag)).all()


def component_counts(session: Session, asset_ids: Sequence[int]) -> dict[int, int]:
    """How many components each asset has, in one query (list pages)."""
    if not asset_ids:
        return {}
    rows = session.execute(
        select(col(Asset.parent_id), func.count())
        .where(col(Asset.parent_id).in_(asset_ids))
        .group_by(col(Asset.parent_id))
    ).all()
    return {parent_id: number for parent_id, number in rows if parent_id is not None}


def versions_of(session: Session, asset: Asset) -> Sequence[AssetVersion]:
    return session.scalars(
        select(AssetVersion)
        .where(col(AssetVersion.asset_id) == asset.id)
        .order_by(col(AssetVersion.valid_from).desc())
        .execution_options(populate_existing=True)
    ).all()


# --- Validation ---------------------------------------------------------------------------


def retirement_unknown(asset: AssetFields) -> bool:
    """Retired, but when or why is not known (imported so from an old ledger): shown as unknown."""
    return asset.status == AssetStatus.RETIRED and (asset.retired_date is None or not asset.retire_reason.strip())


def _validate(
    session: Session, data: AssetFields, asset: Asset | None, *, allow_unknown_retirement: bool = False
) -> tuple[Workshop, list[FieldError]]:
    """Everything that needs the database or spans fields; field formats were checked by the model.

    A retired asset needs its retirement date and reason, except from an import of an old ledger
    (``allow_unknown_retirement``) or when it was stored without them already (so such an asset
    can still be edited). A useful life is at least a year; one stored shorter before the rule
    (0) is kept until someone changes it."""
    errors: list[FieldError] = []
    workshop = session.get(Workshop, data.workshop_id)
    if workshop is None:
        raise ValidationFailed(_("Choose an existing workshop."), [FieldError("workshop_id", _("does not exist"))])
    if data.unit_id is not None:
        unit = session.get(Unit, data.unit_id)
        if unit is None or unit.workshop_id != workshop.id:
            errors.append(FieldError("unit_id", _("The unit must belong to the chosen workshop.")))
    clash = session.scalar(
        select(col(Asset.id)).where(col(Asset.site_id) == workshop.site_id, col(Asset.tag) == data.tag)
    )
    if clash is not None and (asset is None or clash != asset.id):
        errors.append(FieldError("tag", _("Tag %(tag)s already exists in this site.", tag=data.tag)))
    if data.parent_id is not None:
        errors.extend(_parent_errors(session, data.parent_id, asset, workshop.site_id))
    today = plant_today()
    for name in ("install_date", "commission_date", "retired_date"):
        value = getattr(data, name)
        if value is not None and value > today:
            errors.append(FieldError(name, _("The date cannot be in the future.")))
    if data.install_date and data.commission_date and data.commission_date < data.install_date:
        errors.append(FieldError("commission_date", _("Commissioning cannot come before installation.")))
    if retirement_unknown(data) and not (allow_unknown_retirement or (asset is not None and retirement_unknown(asset))):
        errors.append(FieldError("retire_reason", _("A retired asset needs a retirement date and reason.")))
    if data.useful_life_years < 1 and (asset is None or data.useful_life_years != asset.useful_life_years):
        errors.append(FieldError("useful_life_years", _("A useful life is at least 1 year.")))
    return workshop, errors


def _parent_errors(session: Session, parent_id: int, asset: Asset | None, site_id: int) -> list[FieldError]:
    parent = session.get(Asset, parent_id)
    if parent is None or parent.site_id != site_id:
        return [FieldError("parent_id", _("The parent asset does not exist in this site."))]
    if asset is not None:
        # Walk up from the parent: meeting the asset itself would make a loop.
        seen: set[int] = set()
        current: Asset | None = parent
        while current is not None and current.id not in seen:
            if current.id == asset.id:
                return [
                    FieldError("parent_id", _("An asset cannot be a component of itself or of its own components."))
                ]
            seen.add(current.id)  # type: ignore[arg-type]
            current = session.get(Asset, current.parent_id) if current.parent_id else None
    return []


# --- Writing ------------------------------------------------------------------------------


def _open_version(session: Session, asset: Asset, at: datetime) -> None:
    session.execute(
        update(AssetVersion)
        .where(col(AssetVersion.asset_id) == asset.id, col(AssetVersion.valid_to).is_(None))
        .values(valid_to=at)
        # Not matched against every object in the session (slow in big imports); readers of
        # versions refresh them with populate_existing (see versions_of).
        .execution_options(synchronize_session=False)
    )
    session.add(AssetVersion(asset_id=asset.id, valid_from=at, **{name: getattr(asset, name) for name in _VERSIONED}))  # type: ignore[arg-type]


def create_asset(
    session: Session,
    data: AssetCreate,
    *,
    actor: Actor,
    at: datetime | None = None,
    allow_unknown_retirement: bool = False,
) -> Asset:
    """``at`` lets the demo loader and imports of history place the first version in the past;
    ``allow_unknown_retirement`` lets an import of an old ledger retire it without date or reason."""
    workshop, errors = _validate(session, data, None, allow_unknown_retirement=allow_unknown_retirement)
    if errors:
        raise ValidationFailed(_("The asset was not saved."), errors)
    asset = Asset.model_validate(data, update={"site_id": workshop.site_id, "name_initials": name_initials(data.name)})
    asset.created_at = asset.updated_at = at or utcnow()
    session.add(asset)
    session.flush()
    _open_version(session, asset, asset.created_at)
    audit.record_create(session, actor, asset)
    return asset


def update_asset(
    session: Session,
    asset: Asset,
    data: AssetUpdate,
    *,
    actor: Actor,
    cascade_status: bool = False,
    at: datetime | None = None,
    allow_unknown_retirement: bool = False,
) -> Asset:
    """Apply a full edit made from ``data.version``; a newer stored version is a conflict.
    ``at`` (default now) dates the new version, for loaders of past history;
    ``allow_unknown_retirement`` as for :func:`create_asset`."""

    def stale() -> Conflict:
        return Conflict(
            _(
                "Someone else changed asset %(tag)s while you were editing it. Review their changes and edit again.",
                tag=asset.tag,
            ),
            [FieldError("version", _("stale"))],
        )

    if data.version != asset.version:
        raise stale()
    workshop, errors = _validate(session, data, asset, allow_unknown_retirement=allow_unknown_retirement)
    if errors:
        raise ValidationFailed(_("The asset was not saved."), errors)
    changes = data.model_dump(exclude={"version"})
    previous_status = asset.status
    # The asset and the components its status is carried to: all saved, or none (a component
    # saved meanwhile by someone else is a conflict too).
    with versioned_write(session, asset, stale):
        _apply(
            session,
            asset,
            changes | {"site_id": workshop.site_id, "name_initials": name_initials(data.name)},
            actor=actor,
            at=at,
        )
        if cascade_status and asset.status != previous_status:
            _cascade_status(session, asset, actor=actor, at=at)
    return asset


def _apply(
    session: Session, asset: Asset, changes: dict[str, Any], *, actor: Actor, at: datetime | None = None
) -> None:
    if at is not None:
        # History is written in order: a past change may not start before the asset's current version.
        current_from = session.scalar(
            select(col(AssetVersion.valid_from)).where(
                col(AssetVersion.asset_id) == asset.id, col(AssetVersion.valid_to).is_(None)
            )
        )
        if current_from is not None and at < current_from:
            raise ValueError(f"{asset.tag}: a change dated {at.isoformat()} would precede its current version")
    before = audit.snapshot(asset)
    asset.sqlmodel_update(changes)
    if audit.snapshot(asset) == before:
        return
    asset.version += 1
    asset.updated_at = at or utcnow()
    session.flush()
    _open_version(session, asset, asset.updated_at)
    audit.record_update(session, actor, asset, before)


def _cascade_status(session: Session, parent: Asset, *, actor: Actor, at: datetime | None = None) -> None:
    """Give every component (recursively) the parent's status, retirement details included."""
    carried = {"status": parent.status, "retired_date": parent.retired_date, "retire_reason": parent.retire_reason}
    for component in components_of(session, parent):
        _apply(session, component, carried, actor=actor, at=at)
        _cascade_status(session, component, actor=actor, at=at)


def set_status(
    session: Session,
    asset: Asset,
    status: AssetStatus,
    *,
    actor: Actor,
    cascade: bool,
    retired_date: date | None = None,
    retire_reason: str = "",
    at: datetime | None = None,
) -> Asset:
    """Change status (retiring needs a date and reason); ``cascade`` carries it to the components."""
    data = AssetUpdate.model_validate(
        asset.model_dump()
        | {
            "status": status,
            "retired_date": retired_date if status == AssetStatus.RETIRED else None,
            "retire_reason": retire_reason.strip() if status == AssetStatus.RETIRED else "",
        }
    )
    return update_asset(session, asset, data, actor=actor, cascade_status=cascade, at=at)
