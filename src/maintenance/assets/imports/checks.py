"""Checking an asset list's rows before anything is written: each cell parsed for its column,
workshop and unit found by code or name, dates not in the future, then across rows: duplicate
tags, parents in the registry or the file, loops of parents, and what each row will do
(new, update, unchanged)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance import spreadsheets
from maintenance.assets import class_aliases
from maintenance.assets.choices import AssetClass, AssetStatus
from maintenance.assets.class_aliases import ClassWord
from maintenance.assets.imports.columns import COLUMN_BY_FIELD, REQUIRED, Column, parse_choice
from maintenance.assets.imports.reading import DataRows
from maintenance.assets.imports.report import Action, ImportReport, ImportRow
from maintenance.assets.models import Asset, AssetFields
from maintenance.choices import Choice
from maintenance.db import plant_today
from maintenance.exceptions import FieldError
from maintenance.i18n import gettext as _
from maintenance.org.models import Unit, Workshop
from maintenance.spreadsheets import CellError, cell_text, free_text, squash


@dataclass
class _Lookups:
    """Workshops, units and the assets the file names, loaded once (no query per row)."""

    workshops: dict[str, Workshop]
    units_by_workshop: dict[int, dict[str, Unit]]
    units: dict[str, list[Unit]]
    workshop_by_id: dict[int, Workshop]
    assets: dict[tuple[int, str], Asset]
    class_names: dict[str, Choice]  # codes, labels and aliases of equipment classes
    class_words: list[ClassWord]  # what an unknown class's error may suggest

    @classmethod
    def load(cls, session: Session, tags: Iterable[str]) -> _Lookups:
        workshops = list(session.scalars(select(Workshop)))
        units = list(session.scalars(select(Unit)))
        by_key: dict[str, Workshop] = {}
        for workshop in workshops:
            by_key.setdefault(squash(workshop.code), workshop)
        for workshop in workshops:
            by_key.setdefault(squash(workshop.name), workshop)
        units_by_workshop: dict[int, dict[str, Unit]] = {}
        all_units: dict[str, list[Unit]] = {}
        for unit in units:
            for key in (squash(unit.code), squash(unit.name)):
                units_by_workshop.setdefault(unit.workshop_id, {}).setdefault(key, unit)
                all_units.setdefault(key, [])
                if unit not in all_units[key]:
                    all_units[key].append(unit)
        wanted = sorted(set(tags))
        assets: dict[tuple[int, str], Asset] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for asset in session.scalars(select(Asset).where(col(Asset.tag).in_(chunk))):
                assets[(asset.site_id, asset.tag)] = asset
        aliases = class_aliases.list_aliases(session)
        return cls(
            by_key,
            units_by_workshop,
            all_units,
            {w.id: w for w in workshops if w.id is not None},
            assets,
            dict(class_aliases.names_of(aliases)),
            class_aliases.words_of(aliases),
        )


class _RowChecker:
    def __init__(self, report: ImportReport, lookups: _Lookups, scales: dict[str, Any]) -> None:
        self.report = report
        self.lookups = lookups
        self.scales = scales
        self.today = plant_today()

    def error(self, row: ImportRow, name: str, message: str) -> None:
        row.errors.append(FieldError(self.report.header_for(name), message, row.row))

    def warn(self, row: ImportRow, name: str, message: str) -> None:
        row.warnings.append(FieldError(self.report.header_for(name), message, row.row))

    def _has_error(self, row: ImportRow, name: str) -> bool:
        header = self.report.header_for(name)
        return any(error.field == header for error in row.errors)

    def check(self, number: int, cells: dict[str, Any]) -> ImportRow:
        row = ImportRow(row=number, tag=cell_text(cells.get("tag", "")))
        values = row.values
        for name, raw in cells.items():
            column = COLUMN_BY_FIELD[name]
            try:
                value = self._parse(column, raw)
            except CellError as error:
                self.error(row, name, str(error))
                row.display[name] = cell_text(raw)
                continue
            if value is None or value == "":
                continue
            values[name] = value
            row.display[name] = _display(value)
        for column in REQUIRED:
            if column.field != "workshop" and column.field not in values and not self._has_error(row, column.field):
                self.error(row, column.field, _("This field is required."))
        self._place(row)
        self._check_values(row)
        return row

    def _parse(self, column: Column, raw: Any) -> Any:
        match column.kind:
            case "date":
                return spreadsheets.parse_date(raw)
            case "money":
                return spreadsheets.parse_money(raw, scale=self.scales.get(column.field, Decimal(1)))
            case "int":
                return spreadsheets.parse_int(raw, low=1, high=100)  # a useful life is at least a year
            case "rate":
                return spreadsheets.parse_rate(raw, percent_header=bool(self.scales.get(column.field)))
            case "choice":
                assert column.choice is not None
                if column.choice is AssetClass:
                    return parse_choice(raw, AssetClass, names=self.lookups.class_names, words=self.lookups.class_words)
                return parse_choice(raw, column.choice)
            case "text" | "notes":
                text = free_text(raw)  # what a person wrote, as written
            case _:
                text = cell_text(raw)
        limit = column.max_length
        if limit is not None and len(text) > limit:
            raise CellError(_("Too long: %(n)s characters, at most %(max)s.", n=len(text), max=limit))
        return text

    def _place(self, row: ImportRow) -> None:
        """Workshop and unit by code or name; the unit must belong to the workshop. A unit
        that exists in one workshop only names that workshop when the workshop is left empty."""
        values, lookups = row.values, self.lookups
        workshop_text, unit_text = values.pop("workshop", ""), values.pop("unit", "")
        workshop = lookups.workshops.get(squash(workshop_text)) if workshop_text else None
        if workshop_text and workshop is None:
            message = _("There is no workshop %(value)s (give its code or name).", value=workshop_text)
            self.error(row, "workshop", message)
            return
        unit: Unit | None = None
        if unit_text:
            key = squash(unit_text)
            owners = lookups.units.get(key, [])
            if workshop is None and len(owners) == 1:
                workshop = lookups.workshop_by_id[owners[0].workshop_id]
            if workshop is not None and workshop.id is not None:
                unit = lookups.units_by_workshop.get(workshop.id, {}).get(key)
            if unit is None and workshop is not None and owners:
                message = _(
                    "Unit %(unit)s is not in workshop %(workshop)s (it belongs to %(owners)s).",
                    unit=unit_text,
                    workshop=workshop.code,
                    owners=", ".join(lookups.workshop_by_id[owner.workshop_id].code for owner in owners),
                )
                self.error(row, "unit", message)
            elif unit is None and not owners:
                self.error(row, "unit", _("There is no unit %(value)s (give its code or name).", value=unit_text))
        if workshop is None:
            self.error(row, "workshop", _("This field is required."))
            return
        row.workshop = workshop
        values["workshop_id"] = workshop.id
        row.display["workshop"] = workshop.code
        if unit is not None:
            values["unit_id"] = unit.id
            row.display["unit"] = unit.code

    def _check_values(self, row: ImportRow) -> None:
        values = row.values
        for name in ("install_date", "commission_date", "retired_date"):
            day = values.get(name)
            if day is not None and day > self.today:
                self.error(row, name, _("%(value)s is in the future.", value=day.isoformat()))
        parent = values.pop("parent_tag", "")
        row.parent_tag = parent
        if parent and parent == row.tag:
            self.error(row, "parent_tag", _("An asset cannot be its own parent."))


def _display(value: Any) -> str:
    if isinstance(value, Choice):
        return value.label
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value.as_tuple().exponent == -2 else f"{value * 100:g}%"
    return str(value)


def _scales(headers: dict[int, str], header_row: Sequence[Any]) -> dict[str, Any]:
    """Units written in headers: 原值(万元) scales amounts, 残值率(%) makes bare numbers percentages."""
    scales: dict[str, Any] = {}
    for index, name in headers.items():
        text = unicodedata.normalize("NFKC", str(header_row[index]))
        if name == "original_value_cny" and "万" in text:
            scales[name] = Decimal(10000)
        if name == "salvage_rate" and "%" in text:
            scales[name] = True
    return scales


def check_rows(session: Session, report: ImportReport, data: DataRows) -> None:
    """Checks every data row, then the rows against each other; fills ``report.rows``."""
    lookups = _Lookups.load(
        session, (cell_text(cells.get(k, "")) for _n, cells in data.rows for k in ("tag", "parent_tag"))
    )
    checker = _RowChecker(report, lookups, _scales(data.header_fields, data.header_cells))
    report.rows = [checker.check(number, cells) for number, cells in data.rows]
    _check_across_rows(report, lookups, checker)


def _check_across_rows(report: ImportReport, lookups: _Lookups, checker: _RowChecker) -> None:
    """Duplicates, parents (in the registry or anywhere in the file), loops, and what each row will do."""
    by_tag: dict[str, list[ImportRow]] = {}
    for row in report.rows:
        if row.tag:
            by_tag.setdefault(row.tag, []).append(row)
    for tag, rows in by_tag.items():
        if len(rows) > 1:
            numbers = ", ".join(str(row.row) for row in rows)
            for row in rows:
                checker.error(
                    row,
                    "tag",
                    _("Tag %(tag)s appears more than once in the file (rows %(rows)s).", tag=tag, rows=numbers),
                )
    for row in report.rows:
        if row.workshop is not None:
            row.existing = lookups.assets.get((row.workshop.site_id, row.tag))
        _check_merged(row, checker)
    # Parents: in the registry (same site) or defined by another row, above or below.
    for row in report.rows:
        if not row.parent_tag or row.parent_tag == row.tag:
            continue
        in_file = by_tag.get(row.parent_tag)
        site_id = row.workshop.site_id if row.workshop else None
        in_registry = site_id is not None and (site_id, row.parent_tag) in lookups.assets
        if not in_file and not in_registry:
            checker.error(
                row,
                "parent_tag",
                _("No asset has the tag %(tag)s, in the registry or in this file.", tag=row.parent_tag),
            )
    for cycle in _parent_cycles(report.rows, by_tag):
        chain = " → ".join([*(row.tag for row in cycle), cycle[0].tag])
        for row in cycle:
            checker.error(row, "parent_tag", _("The parent tags go round in a circle: %(chain)s.", chain=chain))
    # A row whose parent row is refused cannot be imported either (valid-only mode skips both).
    changed = True
    while changed:
        changed = False
        for row in report.rows:
            parent_rows = by_tag.get(row.parent_tag, []) if row.parent_tag else []
            if row.ok and parent_rows and not all(parent.ok for parent in parent_rows):
                checker.error(
                    row,
                    "parent_tag",
                    _(
                        "The parent %(tag)s (row %(row)s) has errors, so this row cannot be imported either.",
                        tag=row.parent_tag,
                        row=parent_rows[0].row,
                    ),
                )
                changed = True
    for row in report.rows:
        row.action = _action(row) if row.ok else "invalid"


def _check_merged(row: ImportRow, checker: _RowChecker) -> None:
    """Rules that span fields, on what the asset will hold (an update keeps stored values)."""
    merged = merged_fields(row)
    install, commission = merged.get("install_date"), merged.get("commission_date")
    if install and commission and commission < install:
        checker.error(row, "commission_date", _("Commissioning cannot come before installation."))
    if merged.get("status") == AssetStatus.RETIRED:
        # Old ledgers often never recorded when or why: imported as retired, the rest unknown.
        date_header, reason_header = (checker.report.header_for(name) for name in ("retired_date", "retire_reason"))
        no_date, no_reason = not merged.get("retired_date"), not merged.get("retire_reason")
        if no_date and no_reason:
            message = _(
                "Retired with no %(date)s and no %(reason)s: imported as retired, both marked unknown.",
                date=date_header,
                reason=reason_header,
            )
            checker.warn(row, "status", message)
        elif no_date or no_reason:
            missing = date_header if no_date else reason_header
            message = _("Retired with no %(field)s: imported as retired, %(field)s marked unknown.", field=missing)
            checker.warn(row, "status", message)


def _parent_cycles(rows: list[ImportRow], by_tag: dict[str, list[ImportRow]]) -> list[list[ImportRow]]:
    cycles: list[list[ImportRow]] = []
    state: dict[int, int] = {}  # row number → 1 visiting, 2 done
    for start in rows:
        path: list[ImportRow] = []
        current: ImportRow | None = start
        while current is not None and state.get(current.row) is None:
            state[current.row] = 1
            path.append(current)
            parents = by_tag.get(current.parent_tag, []) if current.parent_tag != current.tag else []
            current = parents[0] if len(parents) == 1 else None
        if current is not None and state.get(current.row) == 1:
            cycles.append(path[path.index(current) :])
        for row in path:
            state[row.row] = 2
    return cycles


def merged_fields(row: ImportRow) -> dict[str, Any]:
    """What the asset will hold: the stored asset with the file's non-empty cells on top.
    Empty cells and absent columns keep what is stored (a partial sheet never wipes data)."""
    data = row.existing.model_dump(include=set(AssetFields.model_fields)) if row.existing else {}
    data.update({name: value for name, value in row.values.items() if name in AssetFields.model_fields})
    return data


def _action(row: ImportRow) -> Action:
    if row.existing is None:
        return "new"
    merged = merged_fields(row)
    if row.parent_tag:
        return "update"  # the parent's id is only known when the file's rows are written
    stored = row.existing.model_dump(include=set(AssetFields.model_fields))
    return "unchanged" if all(stored.get(name) == value for name, value in merged.items()) else "update"
