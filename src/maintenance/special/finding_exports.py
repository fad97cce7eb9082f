"""Exports of the regulator findings register: CSV and XLSX of exactly the list's filtered query
(same filters, same order), the workshop and asset joined in, with an "overdue" column on the
as-of date the page used. How files are written is :mod:`maintenance.exports`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Select, String, type_coerce
from sqlmodel import Session, col

from maintenance import exports as core
from maintenance.assets.models import Asset
from maintenance.choices import Choice
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage, current_locale
from maintenance.org.models import User, Workshop
from maintenance.special import findings
from maintenance.special.choices import FindingKind, FindingStatus
from maintenance.special.findings import FindingFilters
from maintenance.special.models import Finding

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("kind", NP_("finding export", "Kind"), width=12),
    ExportColumn("reference", NP_("finding export", "Reference"), width=16),
    ExportColumn("issued_date", NP_("finding export", "Issued on"), "date", 12),
    ExportColumn("issued_by", NP_("finding export", "Issued by"), width=18),
    ExportColumn("workshop", NP_("finding export", "Workshop"), width=14),
    ExportColumn("asset_tag", NP_("finding export", "Asset tag"), width=14),
    ExportColumn("description", NP_("finding export", "Description"), width=40),
    ExportColumn("deadline_date", NP_("finding export", "Rectification deadline"), "date", 12),
    ExportColumn("owner", NP_("finding export", "Owner"), width=12),
    ExportColumn("status", NP_("finding export", "Status"), width=10),
    ExportColumn("overdue", NP_("finding export", "Overdue"), width=8),
    ExportColumn("closed_date", NP_("finding export", "Closed on"), "date", 12),
    ExportColumn("rectification", NP_("finding export", "Rectification"), width=40),
    ExportColumn("evidence", NP_("finding export", "Evidence"), width=20),
)
_CHOICES: dict[str, type[Choice]] = {"kind": FindingKind, "status": FindingStatus}


@dataclass(kw_only=True)
class FindingExport(core.TableExport):
    columns = COLUMNS
    title = NP_("finding export", "Regulator findings export")
    sheet_name = NP_("finding export", "Findings")
    file_stem = NP_("finding export", "regulator-findings")
    temp_prefix = "finding-export-"

    filters: FindingFilters
    as_of: date
    workshops: dict[int, Workshop]

    def select(self) -> Select[Any]:
        columns: list[Any] = [
            type_coerce(col(Finding.kind), String()).label("kind"),
            col(Finding.reference),
            col(Finding.issued_date),
            col(Finding.issued_by),
            col(Finding.workshop_id),
            col(Asset.tag),
            col(Finding.description),
            col(Finding.deadline_date),
            col(Finding.owner),
            type_coerce(col(Finding.status), String()).label("status"),
            col(Finding.closed_date),
            col(Finding.rectification),
            col(Finding.evidence_filename),
        ]
        stmt = findings.list_findings(self.filters).with_only_columns(*columns)
        return stmt.outerjoin(Asset, col(Asset.id) == col(Finding.asset_id))

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        yes, no = self.text("yes"), self.text("no")
        for (
            kind, reference, issued, issued_by, workshop_id, tag, description, deadline, owner, status, closed,
            rectification, evidence,
        ) in result:  # fmt: skip
            overdue = status != FindingStatus.CLOSED.value and deadline is not None and deadline < self.as_of
            workshop = self.workshops.get(workshop_id)
            yield (
                labels["kind"].get(kind, kind),
                reference,
                issued,
                issued_by,
                workshop.name if workshop else "",
                tag or "",
                description,
                deadline,
                owner,
                labels["status"].get(status, status),
                yes if overdue else no,
                closed,
                rectification,
                evidence,
            )

    def filter_text(self) -> str:
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        filters = self.filters
        if filters.year is not None:
            add(NP_("finding export", "year"), str(filters.year))
        if filters.workshop_id is not None:
            workshop = self.workshops.get(filters.workshop_id)
            add(NP_("finding export", "workshop"), workshop.name if workshop else f"#{filters.workshop_id}")
        if filters.kind is not None:
            add(NP_("finding export", "kind"), filters.kind.zh if self.zh else filters.kind.en)
        if filters.status is not None:
            add(NP_("finding export", "status"), filters.status.zh if self.zh else filters.status.en)
        return self.join_filters(parts, NP_("finding export", "all findings"))

    def scope_entries(self) -> list[tuple[str, Any]]:
        return [*super().scope_entries(), (self.text(NP_("finding export", "Overdue as of")), self.as_of)]


def export_response(
    session: Session,
    request: Request,
    filters: FindingFilters,
    fmt: str,
    *,
    as_of: date,
    workshops: Iterable[Workshop],
    user: User,
) -> Response:
    """The register's filtered query as a CSV (streamed) or XLSX (constant memory) download."""
    checked = core.check_format(fmt)
    export = FindingExport(
        session=session,
        filters=filters,
        as_of=as_of,
        workshops={w.id: w for w in workshops if w.id is not None},
        locale=current_locale(),
        exported_by=f"{user.display_name} ({user.username})",
    )
    return export.response(checked, request)
