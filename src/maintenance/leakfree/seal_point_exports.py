"""CSV and XLSX of the seal-point inventory: exactly the list's filtered query (same filters,
same order), the workshop, unit and asset named. How files are written is :mod:`maintenance.exports`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, String, type_coerce
from sqlmodel import col

from maintenance import exports as core
from maintenance.choices import Choice
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage
from maintenance.leakfree import seal_points
from maintenance.leakfree.choices import SealType
from maintenance.leakfree.models import SealPoint
from maintenance.leakfree.seal_points import SealPointFilters
from maintenance.org.models import Unit

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("code", NP_("seal point export", "Code"), width=16),
    ExportColumn("workshop", NP_("seal point export", "Workshop"), width=14),
    ExportColumn("unit", NP_("seal point export", "Unit"), width=12),
    ExportColumn("asset_tag", NP_("seal point export", "Asset tag"), width=14),
    ExportColumn("kind", NP_("seal point export", "Static / dynamic"), width=10),
    ExportColumn("seal_type", NP_("seal point export", "Seal type"), width=16),
    ExportColumn("location", NP_("seal point export", "Location"), width=30),
    ExportColumn("count", NP_("seal point export", "Count"), "int", 8),
    ExportColumn("active", NP_("seal point export", "In use"), width=8),
    ExportColumn("updated_at", NP_("seal point export", "Updated at"), "datetime", 17),
)
_CHOICES: dict[str, type[Choice]] = {"seal_type": SealType}


@dataclass(kw_only=True)
class SealPointExport(core.TableExport):
    columns = COLUMNS
    title = NP_("seal point export", "Seal-point inventory export")
    sheet_name = NP_("seal point export", "Seal points")
    file_stem = NP_("seal point export", "seal-points")
    temp_prefix = "seal-point-export-"

    filters: SealPointFilters
    workshop_ids: list[int] | None
    workshop_names: Mapping[int, str] = field(default_factory=dict)

    def select(self) -> Select[Any]:
        stmt = seal_points.list_seal_points(self.filters, self.workshop_ids)
        return stmt.with_only_columns(
            col(SealPoint.code),
            col(SealPoint.workshop_id),
            col(Unit.code),
            stmt.selected_columns.asset_tag,
            type_coerce(col(SealPoint.seal_type), String()).label("seal_type"),
            col(SealPoint.location),
            col(SealPoint.count),
            col(SealPoint.is_active),
            col(SealPoint.updated_at),
        )

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        yes, no = self.text("yes"), self.text("no")
        for code, workshop_id, unit_code, tag, seal_type, location, count, active, updated_at in result:
            kind = SealType(seal_type).kind
            yield (
                code,
                self.workshop_names.get(workshop_id, ""),
                unit_code or "",
                tag or "",
                kind.zh if self.zh else kind.en,
                labels["seal_type"].get(seal_type, seal_type),
                location,
                count,
                yes if active else no,
                core.plant_local(updated_at),
            )

    def filter_text(self) -> str:
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        filters = self.filters
        if filters.workshop_id is not None:
            add(NP_("seal point export", "workshop"), self.workshop_names.get(filters.workshop_id, "?"))
        elif self.workshop_ids is not None:
            names = ", ".join(self.workshop_names.get(i, "?") for i in self.workshop_ids)
            add(NP_("seal point export", "workshop"), names)
        if filters.unit_id is not None:
            add(NP_("seal point export", "unit"), f"#{filters.unit_id}")
        if filters.asset:
            add(NP_("seal point export", "asset"), filters.asset)
        if filters.kind is not None:
            add(NP_("seal point export", "kind"), filters.kind.zh if self.zh else filters.kind.en)
        if filters.seal_type is not None:
            add(NP_("seal point export", "seal type"), filters.seal_type.zh if self.zh else filters.seal_type.en)
        if filters.status != "all":
            in_use, retired = NP_("seal point export", "in use"), NP_("seal point export", "retired")
            add(NP_("seal point export", "status"), self.text(in_use if filters.status == "active" else retired))
        if filters.q:
            parts.append(self.text(NP_("export", 'search "%(q)s"'), q=filters.q))
        return self.join_filters(parts, NP_("seal point export", "all seal points"))
