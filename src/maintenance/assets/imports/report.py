"""What an asset import found and did: each data row (normalised values, errors, warnings, what
will happen to it) and the file as a whole; :class:`ImportFailed` carries the report when
nothing was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from maintenance.assets.imports.columns import COLUMN_BY_FIELD, COLUMNS
from maintenance.assets.models import Asset
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.org.models import Workshop

PREVIEW_ROWS = 20


class ImportMode(StrEnum):
    ALL_OR_NOTHING = "all"
    VALID_ONLY = "valid_only"


# --- The report ---------------------------------------------------------------------------

Action = Literal["new", "update", "unchanged", "invalid"]


@dataclass
class ImportRow:
    """One data row: where it is, what it says (normalised), what would happen to it."""

    row: int
    tag: str
    values: dict[str, Any] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    # Imported all the same, but the user should know (a retirement of unknown date).
    warnings: list[FieldError] = field(default_factory=list)
    parent_tag: str = ""
    existing: Asset | None = None
    workshop: Workshop | None = None
    action: Action = "new"

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportReport:
    filename: str
    file_format: str = ""
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    # (header as the user wrote it, field) in sheet order
    columns: list[tuple[str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[FieldError] = field(default_factory=list)
    write_errors: list[FieldError] = field(default_factory=list)
    skipped_blank: int = 0
    skipped_totals: list[int] = field(default_factory=list)
    skipped_headers: list[int] = field(default_factory=list)
    mode: ImportMode = ImportMode.ALL_OR_NOTHING
    dry_run: bool = True
    written: bool = False
    created: int = 0
    updated: int = 0

    @property
    def errors(self) -> list[FieldError]:
        """Every problem, file-level first, then by row."""
        by_row = sorted(
            (error for row in self.rows for error in row.errors), key=lambda e: (e.row or 0, self._order(e.field))
        )
        return [*self.file_errors, *by_row, *self.write_errors]

    @property
    def warnings(self) -> list[FieldError]:
        """What rows will be imported with and the user should know, by row."""
        return sorted(
            (warning for row in self.rows if row.ok for warning in row.warnings),
            key=lambda w: (w.row or 0, self._order(w.field)),
        )

    def _order(self, header: str) -> int:
        for index, (name, _field) in enumerate(self.columns):
            if name == header:
                return index
        return len(self.columns)

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def new(self) -> int:
        return self.count("new")

    @property
    def updates(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def invalid(self) -> int:
        return self.count("invalid")

    @property
    def valid_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.ok]

    @property
    def preview(self) -> list[ImportRow]:
        return self.rows[:PREVIEW_ROWS]

    @property
    def preview_fields(self) -> list[tuple[str, str]]:
        """(field, header) of the columns the file has, in the template's order."""
        present = {name: header for header, name in self.columns}
        return [(column.field, present[column.field]) for column in COLUMNS if column.field in present]

    def header_for(self, name: str) -> str:
        for header, field_name in self.columns:
            if field_name == name:
                return header
        column = COLUMN_BY_FIELD.get(name)
        return column.label if column else name


class ImportFailed(ValidationFailed):
    """Nothing was (or may be) written; ``report`` says why, row by row."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message, report.errors)
        self.report = report
