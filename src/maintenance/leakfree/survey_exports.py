"""CSV/XLSX exports of the survey list and the leak register: exactly the page's filtered query
(same filters, same order). A survey's rates come from ``rules.SurveyRates`` over its leak counts,
counted by the database in the same query. How files are written is :mod:`maintenance.exports`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Select, String, func, select, type_coerce
from sqlmodel import col

from maintenance import exports as core
from maintenance.choices import Choice
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage
from maintenance.leakfree import leaks as leak_service
from maintenance.leakfree import surveys as survey_service
from maintenance.leakfree.choices import LeakSeverity, LeakStatus, SealKind
from maintenance.leakfree.leaks import LeakFilters
from maintenance.leakfree.models import Leak, LeakSurvey, SealPoint
from maintenance.leakfree.rules import SurveyRates
from maintenance.leakfree.surveys import SurveyFilters
from maintenance.org.models import Workshop


def _workshop_name(workshops: dict[int, Workshop], workshop_id: int | None) -> str:
    workshop = workshops.get(workshop_id) if workshop_id is not None else None
    return workshop.name if workshop else ""


@dataclass(kw_only=True)
class SurveyExport(core.TableExport):
    columns = (
        ExportColumn("survey_date", NP_("leak survey export", "Survey date"), "date", 12),
        ExportColumn("workshop", NP_("leak survey export", "Workshop"), width=14),
        ExportColumn("surveyed_by", NP_("leak survey export", "Surveyed by"), width=14),
        ExportColumn("static_points", NP_("leak survey export", "Static points"), "int", 10),
        ExportColumn("dynamic_points", NP_("leak survey export", "Dynamic points"), "int", 10),
        ExportColumn("static_leaks", NP_("leak survey export", "Static leaks"), "int", 10),
        ExportColumn("dynamic_leaks", NP_("leak survey export", "Dynamic leaks"), "int", 10),
        ExportColumn("static_per_mille", NP_("leak survey export", "Static ‰"), width=10),
        ExportColumn("dynamic_per_mille", NP_("leak survey export", "Dynamic ‰"), width=10),
        ExportColumn("meets", NP_("leak survey export", "Meets thresholds"), width=10),
    )
    title = NP_("leak survey export", "Leak surveys export")
    sheet_name = NP_("leak survey export", "Surveys")
    file_stem = NP_("leak survey export", "leak-surveys")
    temp_prefix = "leak-survey-export-"

    filters: SurveyFilters
    workshops: dict[int, Workshop]

    def select(self) -> Select[Any]:
        def leaks_of(kind: SealKind) -> Any:
            return (
                select(func.count())
                .where(col(Leak.survey_id) == col(LeakSurvey.id), col(Leak.kind) == kind)
                .scalar_subquery()
            )

        return survey_service.list_surveys(self.filters).with_only_columns(
            col(LeakSurvey.survey_date),
            col(LeakSurvey.workshop_id),
            col(LeakSurvey.surveyed_by),
            col(LeakSurvey.static_points),
            col(LeakSurvey.dynamic_points),
            leaks_of(SealKind.STATIC),
            leaks_of(SealKind.DYNAMIC),
        )

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        yes, no = self.text("yes"), self.text("no")
        for day, workshop_id, by, static_points, dynamic_points, static_leaks, dynamic_leaks in result:
            rates = SurveyRates(static_points, dynamic_points, int(static_leaks), int(dynamic_leaks))
            yield (
                day,
                _workshop_name(self.workshops, workshop_id),
                by,
                static_points,
                dynamic_points,
                rates.static_leaks,
                rates.dynamic_leaks,
                str(rates.static_per_mille) if rates.static_per_mille is not None else "",
                str(rates.dynamic_per_mille) if rates.dynamic_per_mille is not None else "",
                yes if rates.meets() else no,
            )

    def filter_text(self) -> str:
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        if self.filters.workshop_id is not None:
            add(NP_("leak survey export", "workshop"), _workshop_name(self.workshops, self.filters.workshop_id))
        if self.filters.date_from is not None:
            add(NP_("leak survey export", "from"), self.filters.date_from.isoformat())
        if self.filters.date_to is not None:
            add(NP_("leak survey export", "to"), self.filters.date_to.isoformat())
        return self.join_filters(parts, NP_("leak survey export", "all surveys"))


_CHOICES: dict[str, type[Choice]] = {"kind": SealKind, "severity": LeakSeverity, "status": LeakStatus}


@dataclass(kw_only=True)
class LeakExport(core.TableExport):
    columns = (
        ExportColumn("found_date", NP_("leak export", "Found on"), "date", 12),
        ExportColumn("workshop", NP_("leak export", "Workshop"), width=14),
        ExportColumn("seal_point", NP_("leak export", "Seal point"), width=14),
        ExportColumn("location", NP_("leak export", "Location"), width=24),
        ExportColumn("kind", NP_("leak export", "Static / dynamic"), width=10),
        ExportColumn("severity", NP_("leak export", "Severity"), width=8),
        ExportColumn("status", NP_("leak export", "Status"), width=14),
        ExportColumn("age_days", NP_("leak export", "Days open"), "int", 10),
        ExportColumn("repaired_date", NP_("leak export", "Repaired on"), "date", 12),
        ExportColumn("rechecked_date", NP_("leak export", "Re-checked on"), "date", 12),
        ExportColumn("description", NP_("leak export", "Description"), width=40),
    )
    title = NP_("leak export", "Leak register export")
    sheet_name = NP_("leak export", "Leaks")
    file_stem = NP_("leak export", "leak-register")
    temp_prefix = "leak-export-"

    filters: LeakFilters
    today: date
    workshops: dict[int, Workshop]

    def select(self) -> Select[Any]:
        stmt = leak_service.list_leaks(self.filters).with_only_columns(
            col(Leak.found_date),
            col(Leak.workshop_id),
            col(SealPoint.code),
            col(SealPoint.location),
            type_coerce(col(Leak.kind), String()).label("kind"),
            type_coerce(col(Leak.severity), String()).label("severity"),
            type_coerce(col(Leak.status), String()).label("status"),
            col(Leak.repaired_date),
            col(Leak.rechecked_date),
            col(Leak.description),
        )
        return cast("Select[Any]", stmt.outerjoin(SealPoint, col(SealPoint.id) == col(Leak.seal_point_id)))

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        for found, workshop_id, code, location, kind, severity, status, repaired, rechecked, description in result:
            age = (self.today - found).days if status == LeakStatus.OPEN.value else None
            yield (
                found,
                _workshop_name(self.workshops, workshop_id),
                code or "",
                location or "",
                labels["kind"].get(kind, kind),
                labels["severity"].get(severity, severity),
                labels["status"].get(status, status),
                age,
                repaired,
                rechecked,
                description,
            )

    def filter_text(self) -> str:
        parts: list[str] = []
        filters = self.filters

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        def label(choice: Choice) -> str:
            return choice.zh if self.zh else choice.en

        if filters.workshop_id is not None:
            add(NP_("leak export", "workshop"), _workshop_name(self.workshops, filters.workshop_id))
        if filters.status is not None:
            add(NP_("leak export", "status"), label(filters.status))
        if filters.severity is not None:
            add(NP_("leak export", "severity"), label(filters.severity))
        if filters.kind is not None:
            add(NP_("leak export", "kind"), label(filters.kind))
        return self.join_filters(parts, NP_("leak export", "all leaks"))

    def scope_entries(self) -> list[tuple[str, Any]]:
        return [*super().scope_entries(), (self.text(NP_("leak export", "Days open as of")), self.today)]
