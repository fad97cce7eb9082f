"""Importing the seal-point inventory (密封点台账) from XLSX.

One row per inventory line: 编号 (code), 车间 (workshop code), 装置 (unit code, optional),
设备位号 (asset tag, optional), 密封点类型 (seal type: code or Chinese/English label), 部位
(location), 数量 (count). A new code adds a line; an existing code updates that line's type,
location and count (and unit and asset when the row names them) and is reported as updated.

:func:`analyse` checks every row and says what would happen to it; :func:`import_inventory`
writes all rows or, when any row has an error, nothing. Managers and admins import every
workshop's lines; an engineer only their own workshops' (other rows are errors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.imports.reading import sheet_limits
from maintenance.assets.models import Asset
from maintenance.audit.service import Actor
from maintenance.exceptions import FieldError
from maintenance.i18n import gettext as _
from maintenance.leakfree import seal_points
from maintenance.leakfree.choices import SealType
from maintenance.leakfree.models import SealPoint, SealPointCreate
from maintenance.org.models import Unit, Workshop
from maintenance.org.permissions import require_writer, writable_workshop_ids
from maintenance.spreadsheets import (
    ImportColumn,
    ImportFileError,
    ImportRow,
    RowImportFailed,
    RowImportReport,
    ValueList,
    cell_text,
    check_upload,
    choice_names,
    column_header,
    column_matcher,
    data_below_header,
    first_sheet_rows,
    free_text,
    import_template,
    parse_choice,
    parse_columns,
    parse_int,
)

MAX_UPLOAD_BYTES = 5 * 2**20
EXTENSIONS = ("xlsx",)
MAX_COUNT = 100_000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


COLUMNS = (
    ImportColumn("code", "编号", "Code", ("密封点编号", "code"), required=True),
    ImportColumn("workshop", "车间", "Workshop", ("车间代码", "workshop code"), required=True),
    ImportColumn("unit", "装置", "Unit", ("装置代码", "unit code")),
    ImportColumn("asset", "设备位号", "Asset tag", ("位号", "tag")),
    ImportColumn("seal_type", "密封点类型", "Seal type", ("类型", "type"), required=True),
    ImportColumn("location", "部位", "Location", ("位置",)),
    ImportColumn("count", "数量", "Count", ("密封点数", "点数"), required=True),
)
_MATCHER = column_matcher(COLUMNS)
_SEAL_TYPES = choice_names(SealType)


class RowAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass
class InventoryRow(ImportRow):
    """One data row: what it says and what would happen to it."""

    code: str
    data: SealPointCreate | None = None
    existing: SealPoint | None = None
    action: RowAction | None = None


@dataclass
class InventoryReport(RowImportReport[InventoryRow]):
    created: int = 0
    updated: int = 0

    def count(self, action: RowAction) -> int:
        return sum(1 for row in self.rows if row.ok and row.action == action)

    @property
    def importable(self) -> bool:
        """Nothing wrong, and something to write."""
        return not self.errors and any(row.action != RowAction.UNCHANGED for row in self.rows)


class InventoryImportFailed(RowImportFailed[InventoryReport]):
    """Nothing was written; ``report`` says why, row by row."""


def check_inventory_upload(filename: str, size: int) -> str:
    return check_upload(
        filename,
        size,
        extensions=EXTENSIONS,
        max_bytes=MAX_UPLOAD_BYTES,
        wrong_type=lambda kind: _("%(kind)s files cannot be imported: save the inventory as .xlsx.", kind=kind),
    )


# --- Reading and checking ------------------------------------------------------------------


def analyse(session: Session, content: bytes, *, actor: Actor) -> InventoryReport:
    """Every row of the inventory in ``content`` (XLSX) checked; nothing written."""
    require_writer(actor)
    report = InventoryReport()
    missing = ", ".join(c.zh for c in COLUMNS if c.required)
    try:
        rows = first_sheet_rows(content, sheet_limits())
        no_header = _("No header row found: the inventory needs the columns %(names)s.", names=missing)
        data = data_below_header(rows, _MATCHER, _is_header, no_header)
    except ImportFileError as error:
        report.file_errors = error.errors
        return report
    context = _Context.load(session, actor, data)
    report.rows = [context.check(number, cells) for number, cells in data]
    return report


def _is_header(cells: Any) -> bool:
    found = set(_MATCHER.fields_in(cells).values())
    return {"code", "seal_type"} <= found


@dataclass
class _Context:
    """What the rows are checked against, loaded in a fixed number of queries whatever the
    file's length: the workshops, units and assets the file names, the lines of its codes."""

    writable: set[int] | None
    workshops: dict[str, Workshop]
    units: dict[tuple[int, str], Unit]
    assets: dict[str, Asset]
    existing: dict[str, SealPoint]
    seen: dict[str, int] = field(default_factory=dict)  # code → the row that gave it first

    @classmethod
    def load(cls, session: Session, actor: Actor, data: list[tuple[int, dict[str, Any]]]) -> _Context:
        def texts(name: str) -> set[str]:
            return {text for _n, cells in data if (text := cell_text(cells.get(name)))}

        workshops = {
            w.code: w for w in session.scalars(select(Workshop).where(col(Workshop.code).in_(texts("workshop"))))
        }
        ids = [w.id for w in workshops.values()]
        units = {
            (u.workshop_id, u.code): u
            for u in session.scalars(
                select(Unit).where(col(Unit.workshop_id).in_(ids), col(Unit.code).in_(texts("unit")))
            )
        }
        assets = {a.tag: a for a in session.scalars(select(Asset).where(col(Asset.tag).in_(texts("asset"))))}
        existing = {p.code: p for p in session.scalars(select(SealPoint).where(col(SealPoint.code).in_(texts("code"))))}
        return cls(writable_workshop_ids(session, actor), workshops, units, assets, existing)

    def check(self, number: int, cells: dict[str, Any]) -> InventoryRow:
        row = InventoryRow(row=number, code=cell_text(cells.get("code")))

        def refuse(name: str, message: str) -> None:
            row.errors.append(FieldError(column_header(COLUMNS, name), message, number))

        values = parse_columns(COLUMNS, cells, _parse, refuse)
        workshop = self.workshops.get(values.get("workshop") or "")
        if values.get("workshop") and workshop is None:
            refuse("workshop", _("No workshop has the code %(code)s.", code=values["workshop"]))
        elif workshop is not None and self.writable is not None and workshop.id not in self.writable:
            refuse("workshop", _("You can only import the seal points of your own workshops."))
        if row.code in self.seen:
            refuse("code", _("The code %(code)s is already on row %(row)s.", code=row.code, row=self.seen[row.code]))
        elif row.code:
            self.seen[row.code] = number
        existing = self.existing.get(row.code)
        if existing is not None and workshop is not None and existing.workshop_id != workshop.id:
            refuse("code", _("The line %(code)s belongs to another workshop.", code=row.code))
        unit_id = asset_id = None
        if workshop is not None and values.get("unit"):
            unit = self.units.get((workshop.id, values["unit"]))  # type: ignore[arg-type]
            if unit is None:
                refuse(
                    "unit",
                    _("Workshop %(workshop)s has no unit %(code)s.", workshop=workshop.code, code=values["unit"]),
                )
            else:
                unit_id = unit.id
        if workshop is not None and values.get("asset"):
            asset = self.assets.get(values["asset"])
            if asset is None:
                refuse("asset", _("No asset has the tag %(tag)s.", tag=values["asset"]))
            elif asset.workshop_id != workshop.id:
                refuse("asset", _("Asset %(tag)s belongs to another workshop.", tag=asset.tag))
            else:
                asset_id = asset.id
        if row.errors:
            return row
        assert workshop is not None
        try:
            row.data = SealPointCreate.model_validate(
                {
                    "code": row.code,
                    "workshop_id": workshop.id,
                    "unit_id": unit_id,
                    "asset_id": asset_id,
                    "seal_type": values["seal_type"],
                    "location": values["location"],
                    "count": values["count"],
                }
            )
        except ValidationError as error:
            for detail in error.errors():
                name = str(detail["loc"][0])
                refuse(name if name in {c.field for c in COLUMNS} else "code", detail["msg"])
            return row
        row.existing = existing
        row.action = RowAction.CREATE if existing is None else _update_action(existing, row.data)
        return row


def _update_action(point: SealPoint, data: SealPointCreate) -> RowAction:
    """A line the file names is in the inventory: a retired one comes back into service."""
    same = (
        point.is_active
        and (point.seal_type, point.location, point.count) == (data.seal_type, data.location, data.count)
        and (data.unit_id in (None, point.unit_id) and data.asset_id in (None, point.asset_id))
    )
    return RowAction.UNCHANGED if same else RowAction.UPDATE


def _parse(name: str, raw: Any) -> Any:
    if name == "seal_type":
        return parse_choice(raw, _SEAL_TYPES, SealType)
    if name == "count":
        return parse_int(raw, low=1, high=MAX_COUNT)
    if name == "location":
        return free_text(raw)
    return cell_text(raw)


# --- Writing --------------------------------------------------------------------------------


def import_inventory(session: Session, content: bytes, *, actor: Actor) -> InventoryReport:
    """Write every row of the file, or nothing: raises :class:`InventoryImportFailed` and writes
    nothing when a row has an error or nothing would change. Run it in a savepoint."""
    report = analyse(session, content, actor=actor)
    if report.file_errors:
        raise InventoryImportFailed(_("The file cannot be imported."), report)
    if report.invalid:
        message = _(
            "Nothing was imported: %(n)s rows have errors. Correct them and upload the file again.", n=report.invalid
        )
        raise InventoryImportFailed(message, report)
    if not report.importable:
        raise InventoryImportFailed(
            _("Nothing to import: every line is already in the inventory as the file has it."), report
        )
    for row in report.rows:
        assert row.data is not None
        if row.action == RowAction.UNCHANGED:
            continue
        _point, changed = seal_points.apply_import(session, row.existing, row.data, actor=actor)
        if row.action == RowAction.CREATE:
            report.created += 1
        elif changed:
            report.updated += 1
    return report


# --- The template -----------------------------------------------------------------------------


def template_workbook() -> bytes:
    """The inventory template: the Chinese headers, one example row, and the seal types."""
    return import_template(
        "密封点台账",
        COLUMNS,
        [("W1-P101A-F01", "W1", "U1", "P-101A", "法兰", "P-101A 出口法兰", 12)],
        value_lists=[
            ValueList(
                "密封点类型",
                ("代码", "名称", "Name", "动/静"),
                [(seal_type.value, seal_type.zh, seal_type.en, seal_type.kind.zh) for seal_type in SealType],
            )
        ],
        widths={column.field: 18 for column in COLUMNS},
    )
