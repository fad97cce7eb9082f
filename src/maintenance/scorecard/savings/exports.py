"""CSV and XLSX of the savings ledgers: exactly the list's filtered rows (same filters, same
order), the ledger, source and workshop named, money in 元 to the fen; the header sheet gives
each ledger's totals (from orders, entered, total) and the filtered rows' total. How files are
written is :mod:`maintenance.exports`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select

from maintenance import exports as core
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage
from maintenance.scorecard.savings import ledger
from maintenance.scorecard.savings.ledger import LedgerTotal, SavingsFilters
from maintenance.scorecard.savings.models import SavingsKind

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("day", NP_("savings export", "Date"), "date", 12),
    ExportColumn("kind", NP_("savings export", "Ledger"), width=14),
    ExportColumn("source", NP_("savings export", "Source"), width=12),
    ExportColumn("workshop", NP_("savings export", "Workshop"), width=14),
    ExportColumn("description", NP_("savings export", "Description"), width=36),
    ExportColumn("reference", NP_("savings export", "Part, tender or order number"), width=20),
    ExportColumn("quantity", NP_("savings export", "Quantity"), "number", 10),
    ExportColumn("reference_price_cny", NP_("savings export", "Reference price (CNY)"), "money", 16),
    ExportColumn("actual_price_cny", NP_("savings export", "Actual price (CNY)"), "money", 16),
    ExportColumn("saving_cny", NP_("savings export", "Saving (CNY)"), "money", 16),
)
SOURCES = {"entry": NP_("savings export", "Entered"), "order": NP_("savings export", "Work order")}


@dataclass(kw_only=True)
class SavingsExport(core.TableExport):
    columns = COLUMNS
    title = NP_("savings export", "Savings ledger export")
    sheet_name = NP_("savings export", "Savings")
    file_stem = NP_("savings export", "savings-ledger")
    temp_prefix = "savings-export-"

    filters: SavingsFilters
    workshop_names: Mapping[int, str] = field(default_factory=dict)
    totals: Mapping[SavingsKind, LedgerTotal] = field(default_factory=dict)
    total: Decimal = Decimal("0.00")

    def select(self) -> Select[Any]:
        return ledger.list_rows(self.session, self.filters)

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        sources = {code: self.text(label) for code, label in SOURCES.items()}
        for row in result:
            kind = SavingsKind(row.kind)
            yield (
                row.day,
                kind.zh if self.zh else kind.en,
                sources[row.source],
                self.workshop_names.get(row.workshop_id, ""),
                row.description,
                row.reference,
                Decimal(row.quantity),
                None if row.reference_price_cny is None else Decimal(row.reference_price_cny),
                Decimal(row.actual_price_cny),
                Decimal(row.saving_cny),
            )

    def scope_entries(self) -> list[tuple[str, Any]]:
        entries = super().scope_entries()
        for kind, total in self.totals.items():
            label = kind.zh if self.zh else kind.en
            entries += [
                (self.text(NP_("savings export", "%(ledger)s from orders (CNY)"), ledger=label), total.from_orders_cny),
                (self.text(NP_("savings export", "%(ledger)s entered (CNY)"), ledger=label), total.entered_cny),
                (self.text(NP_("savings export", "%(ledger)s total (CNY)"), ledger=label), total.total_cny),
            ]
        return [*entries, (self.text(NP_("savings export", "Total of the rows (CNY)")), self.total)]

    def filter_text(self) -> str:
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        filters = self.filters
        period = filters.period()
        add(NP_("savings export", "year"), str(filters.year))
        if period is not None and (filters.date_from or filters.date_to):
            add(NP_("savings export", "from"), period.start.isoformat())
            add(NP_("savings export", "to"), period.end.isoformat())
        if filters.kind is not None:
            add(NP_("savings export", "ledger"), filters.kind.zh if self.zh else filters.kind.en)
        if filters.workshop_id is not None:
            add(NP_("savings export", "workshop"), self.workshop_names.get(filters.workshop_id, "?"))
        if filters.q:
            parts.append(self.text(NP_("export", 'search "%(q)s"'), q=filters.q))
        return self.join_filters(parts, NP_("savings export", "all savings"))
