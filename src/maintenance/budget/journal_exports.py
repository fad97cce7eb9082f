"""CSV and XLSX of the finance journal: exactly the list's filtered query (same filters, same
order), the workshop and category named, the amount in 元 to the fen; the header sheet gives the
filtered total. How files are written is :mod:`maintenance.exports`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, String, type_coerce
from sqlmodel import col

from maintenance import exports as core
from maintenance.budget import journal
from maintenance.budget.journal import JournalFilters
from maintenance.choices import Choice
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage
from maintenance.orders.choices import CostCategory
from maintenance.orders.models import JournalEntry

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("booked_on", NP_("journal export", "Booked on"), "date", 12),
    ExportColumn("workshop", NP_("journal export", "Workshop"), width=14),
    ExportColumn("category", NP_("journal export", "Category"), width=14),
    ExportColumn("amount_cny", NP_("journal export", "Amount (CNY)"), "money", 16),
    ExportColumn("reference", NP_("journal export", "Voucher"), width=20),
    ExportColumn("description", NP_("journal export", "Description"), width=36),
    ExportColumn("source_file", NP_("journal export", "Imported from"), width=24),
    ExportColumn("imported_by", NP_("journal export", "Imported by"), width=14),
    ExportColumn("created_at", NP_("journal export", "Imported at"), "datetime", 17),
)
_CHOICES: dict[str, type[Choice]] = {"category": CostCategory}


@dataclass(kw_only=True)
class JournalExport(core.TableExport):
    columns = COLUMNS
    title = NP_("journal export", "Finance journal export")
    sheet_name = NP_("journal export", "Finance journal")
    file_stem = NP_("journal export", "finance-journal")
    temp_prefix = "journal-export-"

    filters: JournalFilters
    workshop_ids: list[int] | None
    workshop_names: Mapping[int, str] = field(default_factory=dict)
    total: Decimal = Decimal("0.00")

    def select(self) -> Select[Any]:
        stmt = journal.list_entries(self.filters, self.workshop_ids)
        return stmt.with_only_columns(
            col(JournalEntry.booked_on),
            col(JournalEntry.workshop_id),
            type_coerce(col(JournalEntry.category), String()).label("category"),
            col(JournalEntry.amount_cny),
            col(JournalEntry.reference),
            col(JournalEntry.description),
            col(JournalEntry.source_file),
            stmt.selected_columns.imported_by,
            col(JournalEntry.created_at),
        )

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        labels = core.choice_labels(_CHOICES, zh=self.zh)["category"]
        for booked_on, workshop_id, category, amount, reference, description, source, importer, at in result:
            yield (
                booked_on,
                self.workshop_names.get(workshop_id, ""),
                labels.get(category, category),
                Decimal(amount),
                reference,
                description,
                source,
                importer or "",
                core.plant_local(at),
            )

    def scope_entries(self) -> list[tuple[str, Any]]:
        return [*super().scope_entries(), (self.text(NP_("journal export", "Total (CNY)")), self.total)]

    def filter_text(self) -> str:
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        filters = self.filters
        if filters.date_from is not None:
            add(NP_("journal export", "from"), filters.date_from.isoformat())
        if filters.date_to is not None:
            add(NP_("journal export", "to"), filters.date_to.isoformat())
        if self.workshop_ids is not None:
            add(
                NP_("journal export", "workshop"), ", ".join(self.workshop_names.get(i, "?") for i in self.workshop_ids)
            )
        if filters.category is not None:
            add(NP_("journal export", "category"), filters.category.zh if self.zh else filters.category.en)
        if filters.q:
            parts.append(self.text(NP_("export", 'search "%(q)s"'), q=filters.q))
        return self.join_filters(parts, NP_("journal export", "all entries"))
