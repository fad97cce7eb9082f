"""Exports of the management rules register: every version of the list's filtered query (same
order: by code, then effective date), with where it stands on the page's date (current, upcoming,
superseded). How files are written is :mod:`maintenance.exports`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Select, String, type_coerce
from sqlmodel import Session, col

from maintenance import exports as core
from maintenance.choices import Choice
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, current_locale
from maintenance.leakfree import rule_documents
from maintenance.leakfree.choices import RuleDocumentKind
from maintenance.leakfree.models import RuleDocument
from maintenance.leakfree.rule_documents import RuleFilters, VersionStanding
from maintenance.org.models import User

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("kind", NP_("rule export", "Kind"), width=14),
    ExportColumn("code", NP_("rule export", "Document number"), width=16),
    ExportColumn("title", NP_("rule export", "Title"), width=30),
    ExportColumn("version_label", NP_("rule export", "Version"), width=10),
    ExportColumn("effective_date", NP_("rule export", "Effective from"), "date", 12),
    ExportColumn("standing", NP_("rule export", "Standing"), width=10),
    ExportColumn("filename", NP_("rule export", "File"), width=30),
    ExportColumn("note", NP_("rule export", "Note"), width=40),
)
_CHOICES: dict[str, type[Choice]] = {"kind": RuleDocumentKind, "standing": VersionStanding}


@dataclass(kw_only=True)
class RuleExport(core.TableExport):
    columns = COLUMNS
    title = NP_("rule export", "Management rules export")
    sheet_name = NP_("rule export", "Rules")
    file_stem = NP_("rule export", "management-rules")
    temp_prefix = "rule-export-"

    filters: RuleFilters
    as_of: date

    def select(self) -> Select[Any]:
        columns: list[Any] = [
            type_coerce(col(RuleDocument.kind), String()).label("kind"),
            col(RuleDocument.code),
            col(RuleDocument.title),
            col(RuleDocument.version_label),
            col(RuleDocument.effective_date),
            col(RuleDocument.filename),
            col(RuleDocument.note),
        ]
        return rule_documents.list_rule_documents(self.filters).with_only_columns(*columns)

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        for _code, group in groupby(result, key=lambda row: row[1]):
            versions = list(group)  # a rule's few versions, oldest first
            in_effect = [index for index, row in enumerate(versions) if row[4] <= self.as_of]
            current = in_effect[-1] if in_effect else None
            for index, (kind, code, title, version, effective, filename, note) in enumerate(versions):
                if effective > self.as_of:
                    standing = VersionStanding.UPCOMING
                else:
                    standing = VersionStanding.CURRENT if index == current else VersionStanding.SUPERSEDED
                yield (
                    labels["kind"].get(kind, kind),
                    code,
                    title,
                    version,
                    effective,
                    labels["standing"][standing.value],
                    filename,
                    note,
                )

    def filter_text(self) -> str:
        if self.filters.kind is None:
            return self.text(NP_("rule export", "all rules"))
        kind = self.filters.kind.zh if self.zh else self.filters.kind.en
        return f"{self.text(NP_('rule export', 'kind'))}={kind}"

    def scope_entries(self) -> list[tuple[str, Any]]:
        return [*super().scope_entries(), (self.text(NP_("rule export", "In effect on")), self.as_of)]


def export_response(
    session: Session, request: Request, filters: RuleFilters, fmt: str, *, as_of: date, user: User
) -> Response:
    checked = core.check_format(fmt)
    export = RuleExport(
        session=session,
        filters=filters,
        as_of=as_of,
        locale=current_locale(),
        exported_by=f"{user.display_name} ({user.username})",
    )
    return export.response(checked, request)
