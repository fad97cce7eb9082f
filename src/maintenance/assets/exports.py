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

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

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
from maintenance.db import plant_timezone, plant_today, utcnow
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.exports import BATCH_SIZE as BATCH_SIZE
from maintenance.exports import EXPORT_COOKIE as EXPORT_COOKIE
from maintenance.exports import FORMATS as FORMATS
from maintenance.exports import XLSX_MEDIA_TYPE as XLSX_MEDIA_TYPE
from maintenance.exports import ExportColumn, ExportFormat
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.org import service as org_service
from maintenance.org.models import Unit, User, Workshop

logger = logging.getLogger("maintenance.exports")

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("tag", "位号", "Tag", width=14),
    ExportColumn("name", "设备名称", "Name", width=22),
    ExportColumn("asset_class", "设备类别", "Class", width=12),
    ExportColumn("workshop", "车间", "Workshop", width=14),
    ExportColumn("unit", "装置", "Unit", width=14),
    ExportColumn("parent_tag", "上级设备位号", "Parent tag", width=14),
    ExportColumn("manufacturer", "制造厂", "Manufacturer", width=20),
    ExportColumn("spec", "规格型号", "Model / spec", width=20),
    ExportColumn("serial_number", "出厂编号", "Serial no.", width=14),
    ExportColumn("install_date", "安装日期", "Install date", "date", 12),
    ExportColumn("commission_date", "投用日期", "Commission date", "date", 12),
    ExportColumn("criticality", "重要度", "Criticality", width=12),
    ExportColumn("status", "状态", "Status", width=10),
    ExportColumn("fixed_asset_number", "固定资产编号", "Fixed-asset no.", width=16),
    ExportColumn("original_value_cny", "原值(元)", "Original value (CNY)", "money", 16),
    ExportColumn("useful_life_years", "折旧年限(年)", "Useful life (years)", "int", 10),
    ExportColumn("salvage_rate", "残值率", "Salvage rate", "rate", 10),
    ExportColumn("accumulated_depreciation_cny", "累计折旧(元)", "Accumulated depreciation (CNY)", "money", 16),
    ExportColumn("net_book_value_cny", "净值(元)", "Net book value (CNY)", "money", 16),
    ExportColumn("special_category", "特种设备类别", "Special equipment category", width=16),
    ExportColumn("registration_number", "使用登记证编号", "Registration no.", width=18),
    ExportColumn("custodian", "保管人", "Custodian", width=10),
    ExportColumn("retired_date", "报废日期", "Retired date", "date", 12),
    ExportColumn("retire_reason", "报废原因", "Retire reason", width=24),
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


@dataclass
class AssetExport:
    """One export: its filter, its dates, who asked, and the lookups its rows need (loaded once)."""

    session: Session
    filters: AssetFilters
    zh: bool
    exported_by: str
    exported_at: datetime
    workshops: dict[int, Workshop] = field(default_factory=dict)
    units: dict[int, Unit] = field(default_factory=dict)
    row_count: int = 0

    @classmethod
    def start(cls, session: Session, filters: AssetFilters, *, exported_by: str, zh: bool | None = None) -> AssetExport:
        check_as_of(filters.as_of)
        return cls(
            session=session,
            filters=filters,
            zh=current_locale() == "zh_CN" if zh is None else zh,
            exported_by=exported_by,
            exported_at=utcnow(),
            workshops={w.id: w for w in org_service.list_workshops(session) if w.id is not None},
            units={u.id: u for u in org_service.list_units(session) if u.id is not None},
        )

    @property
    def book_value_date(self) -> date:
        """Depreciation is computed as of the as-of date, or as of today for the current registry."""
        return self.filters.as_of or self.exported_at.astimezone(plant_timezone()).date()

    @property
    def file_stem(self) -> str:
        return f"{'设备台账' if self.zh else 'assets'}_{self.book_value_date.isoformat()}"

    def headers(self) -> list[str]:
        return [column.header(self.zh) for column in COLUMNS]

    def rows(self, batch_size: int | None = None) -> Iterator[tuple[Any, ...]]:
        """Typed values in :data:`COLUMNS` order (str, date | None, Decimal, int), fetched in batches
        of ``batch_size`` rows (a server-side cursor on PostgreSQL). A retired asset's missing
        retirement date or reason is the word 未知 / unknown."""
        value_date = self.book_value_date
        workshop_names = {key: workshop.name for key, workshop in self.workshops.items()}
        unit_names = {key: unit.name for key, unit in self.units.items()}
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        class_label, criticality_label = labels["asset_class"], labels["criticality"]
        status_label, special_label = labels["status"], labels["special_category"]
        # A retirement imported from an old ledger without its date or reason: said so, not left blank.
        unknown, retired = ("未知" if self.zh else "unknown"), AssetStatus.RETIRED.value
        stmt = export_select(self.filters).execution_options(yield_per=batch_size or BATCH_SIZE)
        # Core rows (plain tuples): the ORM adds nothing to a read-only table of columns.
        self.session.flush()
        result = self.session.connection().execute(stmt)
        self.row_count = 0
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
            self.row_count += 1
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
            return "当前" if self.zh else "current"
        day = self.filters.as_of.isoformat()
        return f"{day} 日终(按历史版本还原)" if self.zh else f"end of {day} (reconstructed from history)"

    def filter_text(self) -> str:
        return describe_filters(self.filters, self.workshops, self.units, zh=self.zh)

    def response_headers(self, fmt: ExportFormat) -> dict[str, str]:
        return {
            "Content-Disposition": core.content_disposition(
                f"{self.file_stem}.{fmt}", f"assets_{self.book_value_date}.{fmt}"
            ),
            "X-Export-As-Of": self.filters.as_of.isoformat() if self.filters.as_of else "current",
            "X-Export-Book-Value-Date": self.book_value_date.isoformat(),
            "Cache-Control": "no-store",
        }

    # --- Writers ---------------------------------------------------------------------------

    def csv_chunks(self, rows: Iterable[tuple[Any, ...]] | None = None, rows_per_chunk: int = 500) -> Iterator[bytes]:
        """The CSV as UTF-8 (with BOM) chunks of a few hundred rows each."""
        return core.csv_chunks(COLUMNS, self.headers(), self.rows() if rows is None else rows, rows_per_chunk)

    def write_csv(self, path: str | os.PathLike[str], rows: Iterable[tuple[Any, ...]] | None = None) -> int:
        core.write_csv_file(path, self.csv_chunks(rows))
        return self.row_count

    def write_xlsx(self, path: str | os.PathLike[str], rows: Iterable[tuple[Any, ...]] | None = None) -> int:
        """Write the workbook: the header sheet first, then the data (constant memory)."""
        workbook = core.open_workbook(path)
        try:
            about = workbook.add_worksheet("说明" if self.zh else "About")
            data_name = "设备台账" if self.zh else "Assets"
            self.row_count = core.write_table(
                workbook, data_name, COLUMNS, self.headers(), self.rows() if rows is None else rows
            )
            zh = self.zh
            core.write_about(
                about,
                workbook,
                "设备台账导出" if zh else "Asset registry export",
                [
                    ("数据时点" if zh else "As of", self.as_of_text()),
                    ("净值计算日期" if zh else "Book values as of", self.book_value_date),
                    ("筛选条件" if zh else "Filter", self.filter_text()),
                    ("导出人" if zh else "Exported by", self.exported_by),
                    (
                        "导出时间" if zh else "Exported at",
                        self.exported_at.astimezone(plant_timezone()).replace(tzinfo=None),
                    ),
                    ("时区" if zh else "Time zone", str(plant_timezone())),
                    ("行数" if zh else "Rows", self.row_count),
                    ("数据工作表" if zh else "Data sheet", data_name),
                ],
            )
        finally:
            workbook.close()
        return self.row_count


def describe_filters(filters: AssetFilters, workshops: dict[int, Workshop], units: dict[int, Unit], *, zh: bool) -> str:
    """The filter in words, as the header sheet states it: 车间=合成车间; 状态=在用 …"""

    def label(choice: Choice) -> str:
        return choice.zh if zh else choice.en

    parts: list[str] = []
    if filters.workshop_id is not None:
        workshop = workshops.get(filters.workshop_id)
        parts.append(f"{'车间' if zh else 'workshop'}={workshop.name if workshop else f'#{filters.workshop_id}'}")
    if filters.unit_id is not None:
        unit = units.get(filters.unit_id)
        parts.append(f"{'装置' if zh else 'unit'}={unit.name if unit else f'#{filters.unit_id}'}")
    named_choices: Sequence[tuple[str, str, Choice | None]] = (
        ("设备类别", "class", filters.asset_class),
        ("状态", "status", filters.status),
        ("重要度", "criticality", filters.criticality),
        ("特种设备类别", "special category", filters.special_category),
    )
    for zh_name, en_name, choice in named_choices:
        if choice is not None:
            parts.append(f"{zh_name if zh else en_name}={label(choice)}")
    if filters.special_only:
        parts.append("仅特种设备" if zh else "special equipment only")
    if not filters.include_retired:
        parts.append("不含报废设备" if zh else "retired assets excluded")
    if filters.q:
        parts.append(f"关键字“{filters.q}”" if zh else f'search "{filters.q}"')
    if not parts:
        return "全部设备" if zh else "all assets"
    return ("；" if zh else "; ").join(parts)


# --- The web download ---------------------------------------------------------------------


def export_response(session: Session, filters: AssetFilters, fmt: str, *, user: User) -> Response:
    """The list's filtered query as a CSV (streamed) or XLSX (constant memory) download."""
    checked = core.check_format(fmt)
    export = AssetExport.start(session, filters, exported_by=f"{user.display_name} ({user.username})")
    headers = export.response_headers(checked)
    logger.info("asset export %s by %s as of %s", checked, user.username, headers["X-Export-As-Of"])
    return core.download_response(
        checked,
        headers=headers,
        csv_chunks=export.csv_chunks,
        write_xlsx=export.write_xlsx,
        temp_prefix="asset-export-",
    )
