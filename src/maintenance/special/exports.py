"""Exports of the special-equipment register.

- ``RegisterExport``: the register list as shown (same filters, same order), CSV or XLSX.
- ``LedgerExport``: the regulator's ledger layout (特种设备台账), one row per required inspection
  of each item, a title row and the reference date above the header; of the due list or of the
  whole register. The regulator reads it in Chinese, so its headers are always zh_CN.

Standings are computed, not stored, so the rows come from the items the page loaded (in a fixed
number of queries), not from a query of their own (:class:`maintenance.exports.ComputedExport`). How files
are written and sent is :mod:`maintenance.exports`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from maintenance import exports as core
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage
from maintenance.special.due import DueEntry
from maintenance.special.filters import RegisterFilters
from maintenance.special.rules import TypeStanding
from maintenance.special.service import RegisterItem

LEDGER_LOCALE = "zh_CN"


def certificate_of(item: RegisterItem) -> str:
    """The use registration's certificate; before one is recorded in the register, the number
    the asset registry carries."""
    return item.registration.certificate_number if item.registration else item.asset.registration_number


# --- The register list ------------------------------------------------------------------


REGISTER_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("tag", NP_("special export", "Tag"), width=14),
    ExportColumn("name", NP_("special export", "Name"), width=20),
    ExportColumn("workshop", NP_("special export", "Workshop"), width=14),
    ExportColumn("category", NP_("special export", "Category"), width=14),
    ExportColumn("certificate", NP_("special export", "Registration certificate"), width=20),
    ExportColumn("next_inspection", NP_("special export", "Next inspection"), width=18),
    ExportColumn("last_inspected", NP_("special export", "Last inspected"), "date", 12),
    ExportColumn("due_date", NP_("special export", "Next due"), "date", 12),
    ExportColumn("application_deadline", NP_("special export", "Apply by"), "date", 12),
    ExportColumn("standing", NP_("special export", "Standing"), width=14),
    ExportColumn("registration_missing", NP_("special export", "Registration missing"), width=10),
)


@dataclass(kw_only=True)
class RegisterExport(core.ComputedExport):
    columns = REGISTER_COLUMNS
    title = NP_("special export", "Special-equipment register")
    sheet_name = NP_("special export", "Register")
    file_stem = NP_("special export", "special-equipment")
    temp_prefix = "special-export-"

    filters: RegisterFilters
    as_of: date
    workshop_names: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, items: Sequence[RegisterItem], **fields: Any) -> RegisterExport:
        export = cls(**fields)
        export.computed = [export.record(item) for item in items]
        return export

    def record(self, item: RegisterItem) -> tuple[Any, ...]:
        asset, standing = item.asset, item.standing
        next_due = standing.next_due
        inspection_type = next_due.rule.inspection_type if next_due else None
        return (
            asset.tag,
            asset.name,
            self.workshop_names.get(asset.workshop_id, ""),
            asset.special_category.zh if self.zh else asset.special_category.en,
            certificate_of(item),
            (inspection_type.name if self.zh else inspection_type.name_en) if inspection_type else "",
            next_due.last.inspected_date if next_due and next_due.last else None,
            next_due.due_date if next_due else None,
            next_due.application_deadline if next_due else None,
            standing.standing.zh if self.zh else standing.standing.en,
            self.text("yes") if standing.registration_missing else "",
        )

    def filter_text(self) -> str:
        filters = self.filters
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        if filters.workshop_id is not None:
            add(NP_("special export", "workshop"), self.workshop_names.get(filters.workshop_id, "?"))
        if filters.category is not None:
            add(NP_("special export", "category"), filters.category.zh if self.zh else filters.category.en)
        if filters.standing is not None:
            add(NP_("special export", "standing"), filters.standing.zh if self.zh else filters.standing.en)
        if filters.q:
            parts.append(self.text(NP_("export", 'search "%(q)s"'), q=filters.q))
        return self.join_filters(parts, NP_("special export", "all special equipment"))

    def scope_entries(self) -> list[tuple[str, Any]]:
        return [(self.text(NP_("special export", "As of")), self.as_of), *super().scope_entries()]


# --- The regulator's ledger (特种设备台账) --------------------------------------------------


LEDGER_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("number", NP_("special ledger", "No."), "int", 6),
    ExportColumn("workshop", NP_("special ledger", "User (workshop)"), width=14),
    ExportColumn("name", NP_("special ledger", "Equipment name"), width=18),
    ExportColumn("category", NP_("special ledger", "Equipment category"), width=12),
    ExportColumn("sub_category", NP_("special ledger", "Equipment variety"), width=14),
    ExportColumn("tag", NP_("special ledger", "Tag"), width=12),
    ExportColumn("certificate", NP_("special ledger", "Use registration certificate no."), width=20),
    ExportColumn("equipment_code", NP_("special ledger", "Equipment code"), width=20),
    ExportColumn("manufacturer", NP_("special ledger", "Manufacturer"), width=18),
    ExportColumn("spec", NP_("special ledger", "Model and specification"), width=16),
    ExportColumn("serial_number", NP_("special ledger", "Serial number"), width=14),
    ExportColumn("commission_date", NP_("special ledger", "In service since"), "date", 12),
    ExportColumn("inspection", NP_("special ledger", "Inspection type"), width=16),
    ExportColumn("last_inspected", NP_("special ledger", "Last inspected"), "date", 12),
    ExportColumn("agency", NP_("special ledger", "Inspection agency"), width=16),
    ExportColumn("result", NP_("special ledger", "Conclusion"), width=14),
    ExportColumn("safety_grade", NP_("special ledger", "Safety grade"), "int", 8),
    ExportColumn("due_date", NP_("special ledger", "Next inspection"), "date", 12),
    ExportColumn("application_deadline", NP_("special ledger", "Apply by"), "date", 12),
    ExportColumn("standing", NP_("special ledger", "Status"), width=12),
    ExportColumn("notes", NP_("special ledger", "Remarks"), width=30),
)


@dataclass(kw_only=True)
class LedgerExport(core.ComputedExport):
    """The ledger of ``entries``: (item, one of its required inspections or None when its
    category requires none), in the order given."""

    columns = LEDGER_COLUMNS
    title = NP_("special ledger", "Special equipment ledger")
    sheet_name = NP_("special ledger", "Ledger")
    file_stem = NP_("special ledger", "special-equipment-ledger")
    temp_prefix = "special-ledger-"

    locale: str = LEDGER_LOCALE
    as_of: date
    scope: ContextMessage  # what the ledger holds, in words (its variables in ``scope_values``)
    scope_values: Mapping[str, object] = field(default_factory=dict)
    workshop_names: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Sequence[tuple[RegisterItem, TypeStanding | None]], **fields: Any) -> LedgerExport:
        export = cls(**fields)
        export.computed = [export.record(number, *entry) for number, entry in enumerate(entries, start=1)]
        return export

    @classmethod
    def of_due(cls, entries: Sequence[DueEntry], **fields: Any) -> LedgerExport:
        return cls.of([(entry.item, entry.inspection) for entry in entries], **fields)

    @classmethod
    def of_register(cls, items: Sequence[RegisterItem], **fields: Any) -> LedgerExport:
        return cls.of([(item, inspection) for item in items for inspection in item.standing.types or (None,)], **fields)

    def record(self, number: int, item: RegisterItem, inspection: TypeStanding | None) -> tuple[Any, ...]:
        asset, registration = item.asset, item.registration
        last = inspection.last if inspection else None
        notes = []
        if item.standing.registration_missing:
            notes.append(self.text(NP_("special ledger", "Not registered for use")))
        if inspection and inspection.application:
            application = inspection.application
            notes.append(
                self.text(
                    NP_("special ledger", "Applied on %(date)s to %(agency)s"),
                    date=application.applied_date.isoformat(),
                    agency=application.agency,
                )
            )
        standing = inspection.standing if inspection else item.standing.standing
        return (
            number,
            self.workshop_names.get(asset.workshop_id, ""),
            asset.name,
            asset.special_category.zh,
            registration.sub_category if registration else "",
            asset.tag,
            certificate_of(item),
            registration.equipment_code if registration else "",
            asset.manufacturer,
            asset.spec,
            asset.serial_number,
            asset.commission_date,
            inspection.rule.inspection_type.name if inspection else "",
            last.inspected_date if last else None,
            last.agency if last else "",
            last.result.zh if last else "",
            last.safety_grade if last else None,
            inspection.due_date if inspection else None,
            inspection.application_deadline if inspection else None,
            standing.zh,
            "；".join(notes),
        )

    def filter_text(self) -> str:
        return self.text(self.scope, **self.scope_values)

    def write_xlsx(self, path: Any, rows: Any = None) -> int:
        """One sheet as the regulator's form has it: the title, the reference date and scope,
        then the header and the rows."""
        workbook = core.open_workbook(path)
        try:
            sheet = workbook.add_worksheet(self.text(self.sheet_name))
            title = workbook.add_format({"bold": True, "font_size": 16, "align": "center"})
            header = workbook.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1, "text_wrap": True})
            day = workbook.add_format({"num_format": "yyyy-mm-dd"})
            last_column = len(self.columns) - 1
            sheet.merge_range(0, 0, 0, last_column, self.text(self.title), title)
            sheet.write_string(1, 0, self.text(NP_("special ledger", "As of")))
            sheet.write_datetime(1, 1, self.as_of, day)
            sheet.write_string(1, 3, self.filter_text())
            for index, column in enumerate(self.columns):
                sheet.set_column(index, index, column.width)
            sheet.write_row(2, 0, self.headers(), header)
            sheet.freeze_panes(3, 0)
            for row_index, row in enumerate(self.rows() if rows is None else rows, start=3):
                for index, value in enumerate(row):
                    if isinstance(value, date):
                        sheet.write_datetime(row_index, index, value, day)
                    elif isinstance(value, int):
                        sheet.write_number(row_index, index, value)
                    elif value:
                        sheet.write_string(row_index, index, str(value))
        finally:
            workbook.close()
        return self.row_count
