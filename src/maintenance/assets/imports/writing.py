"""Writing checked rows through the asset service (validated, versioned, logged), parents
before their components; a row the service refuses is reported and the caller rolls back."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Session

from maintenance.assets import service
from maintenance.assets.imports.checks import merged_fields
from maintenance.assets.imports.report import ImportFailed, ImportReport, ImportRow
from maintenance.assets.models import Asset, AssetCreate, AssetUpdate
from maintenance.audit.service import Actor
from maintenance.exceptions import FieldError, MaintenanceError, ValidationFailed
from maintenance.i18n import gettext as _

# Rows written so far, of how many: (done, total).
ProgressCallback = Callable[[int, int], None]
# Service error fields → the import column they come from.
_SERVICE_FIELDS = {"workshop_id": "workshop", "unit_id": "unit", "parent_id": "parent_tag"}


def _write_order(rows: list[ImportRow]) -> list[ImportRow]:
    """Parents before their components, otherwise file order."""
    by_tag = {row.tag: row for row in rows}
    depth: dict[int, int] = {}

    def depth_of(row: ImportRow, seen: frozenset[int] = frozenset()) -> int:
        if row.row in depth:
            return depth[row.row]
        parent = by_tag.get(row.parent_tag)
        value = 0 if parent is None or parent.row in seen else depth_of(parent, seen | {row.row}) + 1
        depth[row.row] = value
        return value

    return sorted(rows, key=lambda row: (depth_of(row), row.row))


def write_rows(
    session: Session, report: ImportReport, *, actor: Actor, progress: ProgressCallback | None = None
) -> None:
    """Writes the report's rows without errors, parents first, and counts what was created and
    updated. Raises :class:`ImportFailed` when no row is free of errors or the service refuses a
    row; rows may already be flushed then, so the caller must roll back."""
    todo = _write_order(report.valid_rows)
    if not todo:
        raise ImportFailed(_("Nothing was imported: no row is free of errors."), report)
    written: dict[str, Asset] = {}
    for done, row in enumerate(todo, start=1):
        try:
            written[row.tag] = _write_row(session, row, written, actor)
        except MaintenanceError as error:
            report.write_errors.extend(_row_errors(report, row, error.errors or [FieldError("tag", error.message)]))
        except PydanticValidationError as error:
            details = [FieldError(str(e["loc"][0]) if e["loc"] else "tag", e["msg"]) for e in error.errors()]
            report.write_errors.extend(_row_errors(report, row, details))
        if progress is not None:
            progress(done, len(todo))
    if report.write_errors:
        raise ImportFailed(_("Nothing was imported: some rows were refused while saving."), report)
    report.written = True
    report.created = sum(1 for row in todo if row.action == "new")
    report.updated = sum(1 for row in todo if row.action == "update")


def _write_row(session: Session, row: ImportRow, written: dict[str, Asset], actor: Actor) -> Asset:
    data = merged_fields(row)
    if row.parent_tag:
        parent = written.get(row.parent_tag)
        if parent is None and row.workshop is not None:
            parent = service.get_asset_by_tag(session, row.parent_tag, site_id=row.workshop.site_id)
        if parent is None:
            message = _("No asset has the tag %(tag)s, in the registry or in this file.", tag=row.parent_tag)
            raise ValidationFailed(_("The asset was not saved."), [FieldError("parent_id", message)])
        data["parent_id"] = parent.id
    if row.existing is None:
        row.action = "new"
        return service.create_asset(
            session, AssetCreate.model_validate(data), actor=actor, allow_unknown_retirement=True
        )
    version = row.existing.version
    service.update_asset(
        session,
        row.existing,
        AssetUpdate.model_validate(data | {"version": version}),
        actor=actor,
        allow_unknown_retirement=True,
    )
    row.action = "update" if row.existing.version != version else "unchanged"
    return row.existing


def _row_errors(report: ImportReport, row: ImportRow, details: list[FieldError]) -> list[FieldError]:
    return [
        FieldError(report.header_for(_SERVICE_FIELDS.get(detail.field, detail.field)), detail.message, row.row)
        for detail in details
    ]
