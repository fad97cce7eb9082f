"""CSV and XLSX of the accident register: exactly the list's filtered query (same filters, same
order), the workshop and class named, the loss in 元 to the fen. How files are written is
:mod:`maintenance.exports`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, String, type_coerce
from sqlmodel import col

from maintenance import exports as core
from maintenance.choices import Choice
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage
from maintenance.scorecard.accidents import service
from maintenance.scorecard.accidents.models import Accident, AccidentClass
from maintenance.scorecard.accidents.service import AccidentFilters

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("occurred_on", NP_("accident export", "Date"), "date", 12),
    ExportColumn("workshop", NP_("accident export", "Workshop"), width=14),
    ExportColumn("asset_tag", NP_("accident export", "Asset tag"), width=14),
    ExportColumn("asset_name", NP_("accident export", "Asset"), width=18),
    ExportColumn("accident_class", NP_("accident export", "Class"), width=14),
    ExportColumn("title", NP_("accident export", "Title"), width=30),
    ExportColumn("downtime_hours", NP_("accident export", "Downtime (h)"), "number", 12),
    ExportColumn("loss_cny", NP_("accident export", "Loss (CNY)"), "money", 16),
    ExportColumn("description", NP_("accident export", "What happened"), width=36),
    ExportColumn("cause", NP_("accident export", "Cause"), width=36),
    ExportColumn("open_actions", NP_("accident export", "Open actions"), "int", 10),
)
_CHOICES: dict[str, type[Choice]] = {"accident_class": AccidentClass}


@dataclass(kw_only=True)
class AccidentExport(core.TableExport):
    columns = COLUMNS
    title = NP_("accident export", "Equipment accident register export")
    sheet_name = NP_("accident export", "Accidents")
    file_stem = NP_("accident export", "accidents")
    temp_prefix = "accident-export-"

    filters: AccidentFilters
    workshop_names: Mapping[int, str] = field(default_factory=dict)

    def select(self) -> Select[Any]:
        stmt = service.list_accidents(self.filters)
        selected = stmt.selected_columns
        return stmt.with_only_columns(
            col(Accident.occurred_on),
            col(Accident.workshop_id),
            selected.asset_tag,
            selected.asset_name,
            type_coerce(col(Accident.accident_class), String()).label("accident_class"),
            col(Accident.title),
            col(Accident.downtime_hours),
            col(Accident.loss_cny),
            col(Accident.description),
            col(Accident.cause),
            selected.open_actions,
        )

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        labels = core.choice_labels(_CHOICES, zh=self.zh)["accident_class"]
        for day, workshop_id, tag, name, kind, title, downtime, loss, description, cause, open_actions in result:
            yield (
                day,
                self.workshop_names.get(workshop_id, ""),
                tag,
                name,
                labels.get(kind, kind),
                title,
                Decimal(downtime),
                Decimal(loss),
                description,
                cause,
                int(open_actions or 0),
            )

    def filter_text(self) -> str:
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        filters = self.filters
        if filters.year is not None:
            add(NP_("accident export", "year"), str(filters.year))
        if filters.accident_class is not None:
            add(NP_("accident export", "class"), filters.accident_class.zh if self.zh else filters.accident_class.en)
        if filters.workshop_id is not None:
            add(NP_("accident export", "workshop"), self.workshop_names.get(filters.workshop_id, "?"))
        if filters.q:
            parts.append(self.text(NP_("export", 'search "%(q)s"'), q=filters.q))
        return self.join_filters(parts, NP_("accident export", "all accidents"))
