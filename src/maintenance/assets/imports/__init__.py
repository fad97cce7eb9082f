"""Importing the asset registry from the spreadsheets plants actually keep.

The pipeline: :mod:`reading` reads the file through the one spreadsheet reader
(:func:`maintenance.spreadsheets.read_tables`: XLSX and XLS through python-calamine, CSV as
UTF-8 with or without BOM or, failing that, GB18030, the encodings Chinese Excel writes) and
finds the table; :mod:`checks` checks every row; :mod:`writing` writes them; :mod:`template`
is the workbook users fill in; :mod:`columns` and :mod:`report` are what they share.

The header row is found by its column names (Chinese or English, with aliases), wherever it sits
under a title row; blank rows, repeated header rows and 合计/小计/总计 rows are skipped. Cells holding
a code, a number, a date or a choice are normalised where the meaning is unambiguous (full-width
characters, 2024年3月5日, Excel serials, 12.5万, 5%) and refused with a reason where it is not
(03/05/24); free text — names, specifications, manufacturers, custodians, reasons, notes — is
stored as written, only trimmed (原料泵（备） and 5000m³ stay as they are). Equipment classes are
given by code, label or any alias in the class alias table (离心泵, 叉车, 工业管道…); an unknown word is
refused naming the closest classes.

A retired row without its retirement date or reason (an old ledger that never recorded them)
is imported as retired with them unknown, and listed as a warning, apart from the errors.

Every row is checked before anything is written, and every problem is reported with the
Excel row number, the column as the user named it and what to do about it. Writes go
through :func:`service.create_asset` / :func:`service.update_asset` (validated, versioned,
logged); an existing tag updates that asset. The import never commits: the caller's
transaction does, so a failure anywhere leaves nothing behind (:class:`ImportFailed`).
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from maintenance.assets.imports import checks, reading, writing
from maintenance.assets.imports.reading import MAX_UPLOAD_BYTES
from maintenance.assets.imports.report import ImportFailed, ImportMode, ImportReport
from maintenance.assets.imports.writing import ProgressCallback
from maintenance.audit.service import Actor
from maintenance.i18n import gettext as _

logger = logging.getLogger("maintenance.imports")


def analyse(
    session: Session, content: bytes, filename: str, *, max_bytes: int | None = MAX_UPLOAD_BYTES
) -> ImportReport:
    """Read and check a file against the registry; writes nothing."""
    report = ImportReport(filename=filename)
    data = reading.read_data_rows(report, content, filename, max_bytes=max_bytes)
    if data is not None:
        checks.check_rows(session, report, data)
    return report


def import_assets(
    session: Session,
    content: bytes,
    filename: str,
    *,
    actor: Actor,
    mode: ImportMode = ImportMode.ALL_OR_NOTHING,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    max_bytes: int | None = MAX_UPLOAD_BYTES,
) -> ImportReport:
    """Check the file and, unless ``dry_run``, write it through the asset service.

    All-or-nothing (the default) writes nothing when any row has an error; ``VALID_ONLY``
    writes the rows without errors and reports the others. Raises :class:`ImportFailed`
    when nothing can be written, or when the service refuses a row during the write —
    rows may already be flushed then, so the caller must roll back (the request and the
    CLI command do). Never commits.
    """
    report = analyse(session, content, filename, max_bytes=max_bytes)
    report.mode, report.dry_run = mode, dry_run
    if dry_run:
        return report
    if report.file_errors:
        raise ImportFailed(_("Nothing was imported: the file cannot be read as an asset list."), report)
    if report.invalid and mode == ImportMode.ALL_OR_NOTHING:
        raise ImportFailed(
            _("Nothing was imported: %(n)s of %(total)s rows have errors.", n=report.invalid, total=len(report.rows)),
            report,
        )
    writing.write_rows(session, report, actor=actor, progress=progress)
    logger.info(
        "asset import %s by %s: %s created, %s updated, %s unchanged, %s rows skipped",
        filename,
        actor.username,
        report.created,
        report.updated,
        report.unchanged,
        report.invalid,
    )
    return report
