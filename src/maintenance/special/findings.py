"""Regulator findings (整改通知) and shutdown orders (停用通知): the register, its filters, the
"no shutdown orders this year" indicator, and recording a finding and its rectification.

Managers and admins record a finding when the regulator issues it; the engineers of its
workshop then report the rectification (progress, evidence, closing). A finding is **closed**
exactly when it has a closed date; it is **overdue** on a date when its rectification deadline
has passed and it is not closed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends
from pydantic import Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.files import StoredFile
from maintenance.i18n import gettext as _
from maintenance.org.models import Workshop
from maintenance.org.permissions import Capability, require, require_write_in
from maintenance.special.choices import FindingKind, FindingStatus
from maintenance.special.models import Finding, FindingCreate, FindingFields, FindingUpdate
from maintenance.web import ListFilters, RecordId, filters_from_query

# --- Reading ------------------------------------------------------------------------------


class FindingFilters(ListFilters):
    year: int | None = Field(default=None, ge=2000, le=2100)
    workshop_id: RecordId | None = None
    kind: FindingKind | None = None
    status: FindingStatus | None = None


FindingFiltersDep = Annotated[FindingFilters, Depends(filters_from_query(FindingFilters))]


def issued_in(year: int) -> ColumnElement[bool]:
    """Issued in the calendar ``year`` (a date range, so the issued-date index serves it)."""
    return col(Finding.issued_date).between(date(year, 1, 1), date(year, 12, 31))


def list_findings(filters: FindingFilters) -> Select[Finding]:
    """The register, latest issued first."""
    stmt = select(Finding)
    if filters.year is not None:
        stmt = stmt.where(issued_in(filters.year))
    if filters.workshop_id is not None:
        stmt = stmt.where(col(Finding.workshop_id) == filters.workshop_id)
    if filters.kind is not None:
        stmt = stmt.where(col(Finding.kind) == filters.kind)
    if filters.status is not None:
        stmt = stmt.where(col(Finding.status) == filters.status)
    return stmt.order_by(col(Finding.issued_date).desc(), col(Finding.id).desc())


def is_overdue(finding: Finding, as_of: date) -> bool:
    """The rectification deadline has passed (the deadline day itself is still in time)."""
    deadline = finding.deadline_date
    return finding.status != FindingStatus.CLOSED and deadline is not None and deadline < as_of


def shutdown_orders_in(session: Session, year: int) -> int:
    """How many shutdown orders the regulator issued in ``year`` (rectification notices do not count)."""
    stmt = select(func.count()).where(col(Finding.kind) == FindingKind.SHUTDOWN, issued_in(year))
    return session.scalar(stmt) or 0


def get_finding_or_raise(session: Session, finding_id: int, *, for_update: bool = False) -> Finding:
    stmt = select(Finding).where(col(Finding.id) == finding_id)
    if for_update:
        stmt = stmt.with_for_update()
    finding = session.scalar(stmt)
    if finding is None:
        raise NotFound(_("Regulator finding %(id)s does not exist.", id=finding_id))
    return finding


# --- Writing ------------------------------------------------------------------------------


def _validate(session: Session, data: FindingFields) -> None:
    errors: list[FieldError] = []
    if session.get(Workshop, data.workshop_id) is None:
        errors.append(FieldError("workshop_id", _("No such workshop.")))
    if data.asset_id is not None:
        asset = session.get(Asset, data.asset_id)
        if asset is None:
            errors.append(FieldError("asset_id", _("No such asset.")))
        elif asset.workshop_id != data.workshop_id:
            errors.append(FieldError("asset_id", _("Asset %(tag)s belongs to another workshop.", tag=asset.tag)))
    if data.deadline_date is not None and data.deadline_date < data.issued_date:
        errors.append(FieldError("deadline_date", _("The deadline cannot be before the date issued.")))
    if data.status == FindingStatus.CLOSED and data.closed_date is None:
        errors.append(FieldError("closed_date", _("Enter the date the finding was closed.")))
    elif data.status != FindingStatus.CLOSED and data.closed_date is not None:
        message = _("Only a closed finding has a closed date; close it or clear the date.")
        errors.append(FieldError("closed_date", message))
    elif data.closed_date is not None and data.closed_date < data.issued_date:
        errors.append(FieldError("closed_date", _("A finding cannot be closed before it was issued.")))
    if errors:
        raise ValidationFailed(_("The finding was not saved."), errors)


def _set_evidence(finding: Finding, evidence: tuple[str, StoredFile] | None) -> None:
    if evidence is not None:
        name, stored = evidence
        finding.evidence_filename = name
        finding.evidence_sha256 = stored.sha256
        finding.evidence_content_type = stored.content_type


def create_finding(
    session: Session, data: FindingCreate, *, evidence: tuple[str, StoredFile] | None = None, actor: Actor
) -> Finding:
    """Record a finding as issued (managers and admins)."""
    require(actor, Capability.MANAGE, _("Only managers record regulator findings."))
    _validate(session, data)
    finding = Finding.model_validate(data)
    _set_evidence(finding, evidence)
    session.add(finding)
    session.flush()
    audit.record_create(session, actor, finding)
    return finding


def _stale(finding: Finding) -> Conflict:
    return Conflict(
        _("Someone else changed this finding while you were editing it. Review their changes and edit again."),
        [FieldError("version", _("stale"))],
    )


def update_finding(
    session: Session,
    finding: Finding,
    data: FindingUpdate,
    *,
    evidence: tuple[str, StoredFile] | None = None,
    actor: Actor,
) -> Finding:
    """Edit a finding from ``data.version``: its rectification, status and evidence (the engineers
    of its workshop, managers, admins); a newer stored version is a conflict."""
    if data.version != finding.version:
        raise _stale(finding)
    require_write_in(session, actor, finding.workshop_id)
    require_write_in(session, actor, data.workshop_id)
    _validate(session, data)
    before = audit.snapshot(finding)
    with versioned_write(session, finding, lambda: _stale(finding)):
        finding.sqlmodel_update(data.model_dump(exclude={"version"}))
        _set_evidence(finding, evidence)
        changed = audit.snapshot(finding) != before
        if changed:
            finding.version += 1
            finding.updated_at = utcnow()
    if changed:
        audit.record_update(session, actor, finding, before)
    return finding
