"""Importing the plant's existing special-equipment ledger (特种设备台账) from XLSX.

One row per item × inspection type: the tag of an existing special-equipment asset, the
inspection type (code or Chinese/English name, of the asset's category), the last inspection's
date, conclusion (符合要求 / 基本符合要求 / 不符合要求, or 合格 / 不合格), safety grade, the next
due date the report states (optional: the rules compute it otherwise), agency and report number;
optionally the use registration (certificate number, date, authority), created when the asset
has none.

:func:`analyse` checks every row and says what would happen to it; :func:`import_ledger` writes
the valid rows — all or nothing by default, or only the valid ones — through
:func:`record_inspection`, which audits each record. A row whose (asset, type, date) is already
in the register, or earlier in the same file, is skipped, never duplicated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, SQLModel, col

from maintenance.assets.imports.reading import sheet_limits
from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.exceptions import FieldError
from maintenance.i18n import gettext as _
from maintenance.special.choices import InspectionResult
from maintenance.special.models import (
    InspectionCreate,
    InspectionType,
    Registration,
    RegistrationCreate,
    SpecialInspection,
)
from maintenance.special.service import special_assets_query
from maintenance.spreadsheets import (
    CellError,
    ImportColumn,
    ImportFileError,
    ImportRow,
    RowImportFailed,
    RowImportReport,
    cell_text,
    cells_below_header,
    check_upload,
    choice_names,
    column_header,
    column_matcher,
    find_header_row,
    first_sheet_rows,
    free_text,
    import_template,
    parse_columns,
    parse_date,
    parse_int,
    squash,
)

MAX_UPLOAD_BYTES = 5 * 2**20
EXTENSIONS = ("xlsx",)
M = TypeVar("M", bound=SQLModel)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


COLUMNS = (
    ImportColumn("tag", "位号", "Tag", ("设备位号", "tag"), required=True),
    ImportColumn("inspection_type", "检验类别", "Inspection type", ("检验类型", "inspection type"), required=True),
    ImportColumn(
        "inspected_date",
        "上次检验日期",
        "Last inspection date",
        ("检验日期", "last inspection date"),
        required=True,
    ),
    ImportColumn("result", "检验结论", "Conclusion", ("结论", "result", "conclusion"), required=True),
    ImportColumn("safety_grade", "安全状况等级", "Safety grade", ("安全等级", "safety grade")),
    ImportColumn("report_next_due_date", "下次检验日期", "Next inspection date", ("next due date",)),
    ImportColumn("agency", "检验机构", "Inspection agency", ("agency",), required=True),
    ImportColumn("report_number", "报告编号", "Report number", ("report number",)),
    ImportColumn(
        "certificate_number",
        "使用登记证编号",
        "Registration certificate number",
        ("登记证编号", "certificate number"),
    ),
    ImportColumn("registration_date", "登记日期", "Registration date", ("registration date",)),
    ImportColumn("authority", "登记机关", "Registration authority", ("authority",)),
)
_MATCHER = column_matcher(COLUMNS)
_RESULTS = choice_names(InspectionResult, extra={"合格": "pass", "不合格": "fail", "基本合格": "conditional"})


class ImportMode(StrEnum):
    ALL_OR_NOTHING = "all"
    VALID_ONLY = "valid_only"


@dataclass
class LedgerRow(ImportRow):
    """One data row: what it says and what would happen to it."""

    tag: str
    asset: Asset | None = None
    inspection: InspectionCreate | None = None
    registration: RegistrationCreate | None = None
    duplicate: bool = False  # the register (or an earlier row) already holds this inspection


@dataclass
class LedgerReport(RowImportReport[LedgerRow]):
    inspections_created: int = 0
    registrations_created: int = 0

    @property
    def new(self) -> int:
        return sum(1 for row in self.rows if row.ok and not row.duplicate)

    @property
    def duplicates(self) -> int:
        return sum(1 for row in self.rows if row.ok and row.duplicate)

    @property
    def importable(self) -> bool:
        """A file that can be read, with at least one row not yet in the register."""
        return not self.file_errors and self.new > 0


class LedgerImportFailed(RowImportFailed[LedgerReport]):
    """Nothing was written; ``report`` says why, row by row."""


def check_ledger_upload(filename: str, size: int) -> str:
    return check_upload(
        filename,
        size,
        extensions=EXTENSIONS,
        max_bytes=MAX_UPLOAD_BYTES,
        wrong_type=lambda kind: _("%(kind)s files cannot be imported: save the ledger as .xlsx.", kind=kind),
    )


# --- Reading and checking ------------------------------------------------------------------


def analyse(session: Session, content: bytes) -> LedgerReport:
    """Every row of the ledger in ``content`` (XLSX) checked against the register; nothing written."""
    report = LedgerReport()
    try:
        rows = first_sheet_rows(content, sheet_limits())
    except ImportFileError as error:
        report.file_errors = error.errors
        return report
    header_at = find_header_row(rows, _is_header)
    if header_at is None:
        missing = ", ".join(c.zh for c in COLUMNS if c.required)
        report.file_errors = [
            FieldError(_("File"), _("No header row found: the ledger needs the columns %(names)s.", names=missing))
        ]
        return report
    data = cells_below_header(rows, header_at, _MATCHER)
    context = _Context.load(session, {cell_text(cells.get("tag")) for _n, cells in data})
    report.rows = [context.check(number, cells) for number, cells in data]
    return report


def _is_header(cells: Any) -> bool:
    found = set(_MATCHER.fields_in(cells).values())
    return {"tag", "inspection_type"} <= found


@dataclass
class _Context:
    """What the rows are checked against, loaded in four queries whatever the file's length."""

    assets: dict[str, Asset]
    types: dict[str, InspectionType]  # by squashed code and names
    registered: set[int]  # asset ids with a registration
    existing: set[tuple[int, int, date]]  # (asset, type, date) already in the register

    @classmethod
    def load(cls, session: Session, tags: set[str]) -> _Context:
        assets = {a.tag: a for a in session.scalars(special_assets_query().where(col(Asset.tag).in_(tags)))}
        ids = [a.id for a in assets.values()]
        types: dict[str, InspectionType] = {}
        for kind in session.scalars(select(InspectionType).where(col(InspectionType.is_active).is_(True))):
            for name in (kind.code, kind.name, kind.name_en):
                types.setdefault(squash(name), kind)
        registered = set(session.scalars(select(col(Registration.asset_id)).where(col(Registration.asset_id).in_(ids))))
        rows = session.execute(
            select(
                col(SpecialInspection.asset_id),
                col(SpecialInspection.inspection_type_id),
                col(SpecialInspection.inspected_date),
            ).where(col(SpecialInspection.asset_id).in_(ids))
        )
        existing = {(asset_id, type_id, day) for asset_id, type_id, day in rows}
        return cls(assets, types, registered, existing)

    def check(self, number: int, cells: dict[str, Any]) -> LedgerRow:
        row = LedgerRow(row=number, tag=cell_text(cells.get("tag")))

        def refuse(name: str, message: str) -> None:
            row.errors.append(FieldError(column_header(COLUMNS, name), message, number))

        values = parse_columns(COLUMNS, cells, _parse, refuse)
        row.asset = self.assets.get(row.tag)
        if row.tag and row.asset is None:
            refuse("tag", _("No special-equipment asset has the tag %(tag)s.", tag=row.tag))
        kind = self.types.get(squash(values.get("inspection_type") or ""))
        if values.get("inspection_type") and kind is None:
            refuse("inspection_type", _("%(value)s is not an inspection type.", value=values["inspection_type"]))
        elif kind is not None and row.asset is not None and kind.category != row.asset.special_category:
            refuse(
                "inspection_type",
                _(
                    "%(type)s is not an inspection of %(category)s.",
                    type=kind.name,
                    category=row.asset.special_category.label,
                ),
            )
        if row.errors:
            return row
        assert row.asset is not None
        assert row.asset.id is not None
        assert kind is not None
        assert kind.id is not None
        row.inspection = self._inspection(kind, values, refuse)
        row.registration = self._registration(row.asset, values, refuse)
        key = (row.asset.id, kind.id, values["inspected_date"])
        row.duplicate = key in self.existing
        self.existing.add(key)
        return row

    def _inspection(
        self, kind: InspectionType, values: dict[str, Any], refuse: Callable[[str, str], None]
    ) -> InspectionCreate | None:
        due = values["report_next_due_date"]
        if due is not None and due <= values["inspected_date"]:
            refuse("report_next_due_date", _("The next inspection date must come after the inspection."))
            return None
        fields = ("inspected_date", "agency", "result", "safety_grade", "report_number", "report_next_due_date")
        return _validated(InspectionCreate, {"inspection_type_id": kind.id} | {n: values[n] for n in fields}, refuse)

    def _registration(
        self, asset: Asset, values: dict[str, Any], refuse: Callable[[str, str], None]
    ) -> RegistrationCreate | None:
        """The registration the row gives, when the asset has none yet (an existing one is kept)."""
        if not values["certificate_number"] or asset.id in self.registered:
            return None
        for name in ("registration_date", "authority"):
            if not values[name]:
                refuse(name, _("Required with a registration certificate number."))
        if values["registration_date"] is None or not values["authority"]:
            return None
        self.registered.add(asset.id)  # type: ignore[arg-type]
        fields = ("certificate_number", "registration_date", "authority")
        return _validated(RegistrationCreate, {n: values[n] for n in fields}, refuse)


def _validated(model: type[M], data: dict[str, Any], refuse: Callable[[str, str], None]) -> M | None:
    """``model`` from the row's values, or None with the model's reasons (a text too long) refused."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            refuse(str(detail["loc"][0]), detail["msg"])
        return None


def _parse(name: str, raw: Any) -> Any:
    if name in ("inspected_date", "report_next_due_date", "registration_date"):
        return parse_date(raw)
    if name == "result":
        text = cell_text(raw)
        if not text:
            return None
        if (result := _RESULTS.get(squash(text))) is None:
            raise CellError(_("%(value)s is not a conclusion: write 符合要求, 基本符合要求 or 不符合要求.", value=text))
        return result
    if name == "safety_grade":
        return parse_int(cell_text(raw).removesuffix("级"), low=1, high=5)
    return free_text(raw)


# --- Writing --------------------------------------------------------------------------------


def import_ledger(session: Session, content: bytes, *, actor: Actor, mode: ImportMode) -> LedgerReport:
    """Write the ledger's rows (all or nothing unless ``mode`` says valid rows only); raises
    :class:`LedgerImportFailed` and writes nothing when that cannot be done."""
    report = analyse(session, content)
    if report.file_errors:
        raise LedgerImportFailed(_("The file cannot be imported."), report)
    if report.invalid and mode == ImportMode.ALL_OR_NOTHING:
        raise LedgerImportFailed(
            _(
                "Nothing was imported: %(n)s rows have errors. Correct them, or import the valid rows only.",
                n=report.invalid,
            ),
            report,
        )
    if report.new == 0:
        raise LedgerImportFailed(_("Nothing to import: every valid row is already in the register."), report)
    for row in report.rows:
        if not row.ok or row.duplicate:
            continue
        assert row.asset is not None
        assert row.inspection is not None
        if row.registration is not None:
            create_registration(session, row.asset, row.registration, actor=actor)
            report.registrations_created += 1
        record_inspection(session, row.asset, row.inspection, actor=actor)
        report.inspections_created += 1
    return report


def record_inspection(session: Session, asset: Asset, data: InspectionCreate, *, actor: Actor) -> SpecialInspection:
    """Store one inspection report of ``asset`` and log it in the change log."""
    assert asset.id is not None
    inspection = SpecialInspection(**data.model_dump(), asset_id=asset.id, recorded_by_id=actor.id)
    session.add(inspection)
    session.flush()
    audit.record_create(session, actor, inspection, asset_tag=asset.tag)
    return inspection


def create_registration(session: Session, asset: Asset, data: RegistrationCreate, *, actor: Actor) -> Registration:
    assert asset.id is not None
    registration = Registration(**data.model_dump(), asset_id=asset.id)
    session.add(registration)
    session.flush()
    audit.record_create(session, actor, registration, asset_tag=asset.tag)
    return registration


# --- The template -----------------------------------------------------------------------------


def template_workbook() -> bytes:
    """The ledger template: the Chinese headers and one example row."""
    example = (
        "V-101",
        "PV-PERIODIC",
        "2024-05-20",
        "符合要求",
        2,
        "2030-05-19",
        "市特种设备检验研究院",
        "DJ-2024-007",
        "容31GD0001",
        "2022-07-01",
        "市场监督管理局",
    )
    return import_template("特种设备台账", COLUMNS, [example])
