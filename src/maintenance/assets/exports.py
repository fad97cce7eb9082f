"""Exports of the asset registry: CSV and XLSX of the list's filtered query, current or as of a date.

One row producer (:meth:`AssetExport.rows`) feeds the web download, the XLSX writer and the
CLI (``maintenance export assets``), so the three can never disagree about a column.

- **As of a date** the rows come from ``AssetVersion`` (the versions valid at the end of that
  plant-local day), so status, location and values are exactly what the registry held then, and
  accumulated depreciation and net book value are computed as of that date. Exporting the same
  date later gives the same file (the CSV byte for byte).
- **CSV** is a clean table (UTF-8 with BOM so Excel shows Chinese; no comment lines, so pandas
  and other tools read it directly). It is streamed in chunks while the rows are fetched in
  batches (``yield_per``: a server-side cursor on PostgreSQL), never the whole table at once.
  What the table is (as-of date, book-value date) travels in response headers:
  ``X-Export-As-Of`` (``YYYY-MM-DD`` or ``current``) and ``X-Export-Book-Value-Date``.
- **XLSX** is written by XlsxWriter in constant-memory mode to a temporary file that is deleted
  once sent. Cells are typed (dates, money ``#,##0.00``, integers, rates as percentages) and
  text is always written as a string, never a formula. The first sheet (说明 / About) names the
  as-of date, the filter in words, who exported it and when, and the row count (also sent as
  ``X-Export-Rows``).
- Text cells starting with ``= + - @`` (or a tab / carriage return) are prefixed with ``'`` in
  the CSV (OWASP "CSV injection"), so a spreadsheet never runs them as formulas.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import ColumnElement, Select, String, and_, func, inspect, select, type_coerce
from sqlalchemy.orm import aliased
from sqlalchemy.sql.util import ClauseAdapter
from sqlmodel import Session, col

from maintenance import exports as core
from maintenance.assets import service
from maintenance.assets.choices import AssetClass, AssetStatus, Criticality, SpecialCategory
from maintenance.assets.depreciation import book_value
from maintenance.assets.filters import AssetFilters
from maintenance.assets.models import Asset, AssetVersion
from maintenance.choices import Choice
from maintenance.db import plant_timezone, plant_today
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.exports import EXPORT_COOKIE as EXPORT_COOKIE
from maintenance.exports import FORMATS as FORMATS
from maintenance.exports import XLSX_MEDIA_TYPE as XLSX_MEDIA_TYPE
from maintenance.exports import ExportColumn, ExportFormat
from maintenance.i18n import NP_, ContextMessage, current_locale
from maintenance.i18n import gettext as _
from maintenance.org import service as org_service
from maintenance.org.models import Unit, User, Workshop

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("tag", NP_("asset export", "Tag"), width=14),
    ExportColumn("name", NP_("asset export", "Name"), width=22),
    ExportColumn("asset_class", NP_("asset export", "Class"), width=12),
    ExportColumn("workshop", NP_("asset export", "Workshop"), width=14),
    ExportColumn("unit", NP_("asset export", "Unit"), width=14),
    ExportColumn("parent_tag", NP_("asset export", "Parent tag"), width=14),
    ExportColumn("manufacturer", NP_("asset export", "Manufacturer"), width=20),
    ExportColumn("spec", NP_("asset export", "Model / spec"), width=20),
    ExportColumn("serial_number", NP_("asset export", "Serial no."), width=14),
    ExportColumn("install_date", NP_("asset export", "Install date"), "date", 12),
    ExportColumn("commission_date", NP_("asset export", "Commission date"), "date", 12),
    ExportColumn("criticality", NP_("asset export", "Criticality"), width=12),
    ExportColumn("status", NP_("asset export", "Status"), width=10),
    ExportColumn("fixed_asset_number", NP_("asset export", "Fixed-asset no."), width=16),
    ExportColumn("original_value_cny", NP_("asset export", "Original value (CNY)"), "money", 16),
    ExportColumn("useful_life_years", NP_("asset export", "Useful life (years)"), "int", 10),
    ExportColumn("salvage_rate", NP_("asset export", "Salvage rate"), "rate", 10),
    ExportColumn("accumulated_depreciation_cny", NP_("asset export", "Accumulated depreciation (CNY)"), "money", 16),
    ExportColumn("net_book_value_cny", NP_("asset export", "Net book value (CNY)"), "money", 16),
    ExportColumn("special_category", NP_("asset export", "Special equipment category"), width=16),
    ExportColumn("registration_number", NP_("asset export", "Registration no."), width=18),
    ExportColumn("custodian", NP_("asset export", "Custodian"), width=10),
    ExportColumn("retired_date", NP_("asset export", "Retired date"), "date", 12),
    ExportColumn("retire_reason", NP_("asset export", "Retire reason"), width=24),
)

# Columns read from Asset / AssetVersion (the same names on both), in the order rows() unpacks them.
_FIELDS = (
    "tag",
    "name",
    "asset_class",
    "workshop_id",
    "unit_id",
    "manufacturer",
    "spec",
    "serial_number",
    "install_date",
    "commission_date",
    "criticality",
    "status",
    "fixed_asset_number",
    "original_value_cny",
    "useful_life_years",
    "salvage_rate",
    "special_category",
    "registration_number",
    "custodian",
    "retired_date",
    "retire_reason",
)
# Choice columns are read as their stored codes and labelled through a dict (no enum per cell).
_CHOICES: dict[str, type[Choice]] = {
    "asset_class": AssetClass,
    "criticality": Criticality,
    "status": AssetStatus,
    "special_category": SpecialCategory,
}

# --- Queries ------------------------------------------------------------------------------


def check_as_of(as_of: date | None) -> None:
    """An as-of date is a day that has begun at the plant: the future has no registry yet."""
    if as_of is not None and as_of > plant_today():
        raise ValidationFailed(
            _("The as-of date cannot be in the future."), [FieldError("as_of", _("The date cannot be in the future."))]
        )


def with_parent_tag(stmt: Select[Any], as_of: date | None) -> Select[Any]:
    """Add the parent's tag (as it was at ``as_of``, or now) as a ``parent_tag`` column: one join,
    so a list or an export never looks parents up row by row."""
    parent: Any
    onclause: ColumnElement[bool]
    if as_of is None:
        parent = aliased(Asset, name="parent_asset")
        onclause = col(parent.id) == col(Asset.parent_id)
    else:
        parent = aliased(AssetVersion, name="parent_asset")
        adapter = ClauseAdapter(inspect(parent).selectable)
        onclause = and_(
            col(parent.asset_id) == col(AssetVersion.parent_id),
            *(adapter.traverse(condition) for condition in service.as_of_condition(as_of)),
        )
    return stmt.outerjoin(parent, onclause).add_columns(col(parent.tag).label("parent_tag"))


def export_select(filters: AssetFilters) -> Select[Any]:
    """The list's query (same filters, same order), reduced to the exported columns."""
    table: Any = AssetVersion if filters.as_of is not None else Asset
    columns = [
        type_coerce(getattr(table, name), String()).label(name) if name in _CHOICES else getattr(table, name)
        for name in _FIELDS
    ]
    return with_parent_tag(service.list_assets(filters).with_only_columns(*columns), filters.as_of)


def count_rows(session: Session, filters: AssetFilters) -> int:
    stmt = service.list_assets(filters).order_by(None)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


# --- The export ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class AssetExport(core.TableExport):
    """One export: its filter, its dates, and the lookups its rows need (loaded once)."""

    columns = COLUMNS
    title = NP_("asset export", "Asset registry export")
    sheet_name = NP_("asset export", "Assets")
    file_stem = NP_("asset export", "assets")
    temp_prefix = "asset-export-"

    filters: AssetFilters
    workshops: dict[int, Workshop] = field(default_factory=dict)
    units: dict[int, Unit] = field(default_factory=dict)

    @classmethod
    def start(
        cls, session: Session, filters: AssetFilters, *, exported_by: str, locale: str | None = None
    ) -> AssetExport:
        check_as_of(filters.as_of)
        return cls(
            session=session,
            filters=filters,
            locale=locale or current_locale(),
            exported_by=exported_by,
            workshops={w.id: w for w in org_service.list_workshops(session) if w.id is not None},
            units={u.id: u for u in org_service.list_units(session) if u.id is not None},
        )

    @property
    def book_value_date(self) -> date:
        """Depreciation is computed as of the as-of date, or as of today for the current registry."""
        return self.filters.as_of or self.exported_at.astimezone(plant_timezone()).date()

    @property
    def file_day(self) -> date:
        return self.book_value_date

    def select(self) -> Select[Any]:
        return export_select(self.filters)

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        """Typed values in :data:`COLUMNS` order (str, date | None, Decimal, int). A retired
        asset's missing retirement date or reason is the word 未知 / unknown."""
        value_date = self.book_value_date
        workshop_names = {key: workshop.name for key, workshop in self.workshops.items()}
        unit_names = {key: unit.name for key, unit in self.units.items()}
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        class_label, criticality_label = labels["asset_class"], labels["criticality"]
        status_label, special_label = labels["status"], labels["special_category"]
        # A retirement imported from an old ledger without its date or reason: said so, not left blank.
        unknown, retired = self.text("unknown"), AssetStatus.RETIRED.value
        for (
            tag, name, asset_class, workshop_id, unit_id, manufacturer, spec, serial_number, install_date,
            commission_date, criticality, status, fixed_asset_number, original_value, useful_life, salvage_rate,
            special_category, registration_number, custodian, retired_date, retire_reason, parent_tag,
        ) in result:  # fmt: skip
            book = book_value(
                original_value_cny=original_value,
                salvage_rate=salvage_rate,
                useful_life_years=useful_life,
                commission_date=commission_date,
                retired_date=retired_date,
                as_of=value_date,
            )
            yield (
                tag,
                name,
                class_label.get(asset_class, asset_class),
                workshop_names.get(workshop_id, ""),
                unit_names.get(unit_id, "") if unit_id is not None else "",
                parent_tag or "",
                manufacturer,
                spec,
                serial_number,
                install_date,
                commission_date,
                criticality_label.get(criticality, criticality),
                status_label.get(status, status),
                fixed_asset_number,
                original_value,
                useful_life,
                salvage_rate,
                book.accumulated_depreciation_cny,
                book.net_book_value_cny,
                special_label.get(special_category, special_category),
                registration_number,
                custodian,
                (retired_date or unknown) if status == retired else retired_date,
                (retire_reason or unknown) if status == retired else retire_reason,
            )

    # --- What the file says about itself ---------------------------------------------------

    def as_of_text(self) -> str:
        if self.filters.as_of is None:
            return self.text(NP_("asset export", "current"))
        return self.text(
            NP_("asset export", "end of %(day)s (reconstructed from history)"), day=self.filters.as_of.isoformat()
        )

    def filter_text(self) -> str:
        """The filter in words, as the header sheet states it: 车间=合成车间；状态=在用 …"""
        filters = self.filters
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        if filters.workshop_id is not None:
            workshop = self.workshops.get(filters.workshop_id)
            add(NP_("asset export", "workshop"), workshop.name if workshop else f"#{filters.workshop_id}")
        if filters.unit_id is not None:
            unit = self.units.get(filters.unit_id)
            add(NP_("asset export", "unit"), unit.name if unit else f"#{filters.unit_id}")
        named_choices: Sequence[tuple[ContextMessage, Choice | None]] = (
            (NP_("asset export", "class"), filters.asset_class),
            (NP_("asset export", "status"), filters.status),
            (NP_("asset export", "criticality"), filters.criticality),
            (NP_("asset export", "special category"), filters.special_category),
        )
        for name, choice in named_choices:
            if choice is not None:
                add(name, choice.zh if self.zh else choice.en)
        if filters.special_only:
            parts.append(self.text(NP_("asset export", "special equipment only")))
        if not filters.include_retired:
            parts.append(self.text(NP_("asset export", "retired assets excluded")))
        if filters.q:
            parts.append(self.text(NP_("export", 'search "%(q)s"'), q=filters.q))
        return self.join_filters(parts, NP_("asset export", "all assets"))

    def scope_entries(self) -> list[tuple[str, Any]]:
        return [
            (self.text(NP_("asset export", "As of")), self.as_of_text()),
            (self.text(NP_("asset export", "Book values as of")), self.book_value_date),
            *super().scope_entries(),
        ]

    def response_headers(self, fmt: ExportFormat) -> dict[str, str]:
        """What the table is travels in headers too: ``X-Export-As-Of`` (``YYYY-MM-DD`` or
        ``current``) and ``X-Export-Book-Value-Date``."""
        return super().response_headers(fmt) | {
            "X-Export-As-Of": self.filters.as_of.isoformat() if self.filters.as_of else "current",
            "X-Export-Book-Value-Date": self.book_value_date.isoformat(),
        }


# --- The web download ---------------------------------------------------------------------


def export_response(session: Session, request: Request, filters: AssetFilters, fmt: str, *, user: User) -> Response:
    """The list's filtered query as a CSV (streamed) or XLSX (constant memory) download."""
    checked = core.check_format(fmt)
    exported_by = f"{user.display_name} ({user.username})"
    return AssetExport.start(session, filters, exported_by=exported_by).response(checked, request)
