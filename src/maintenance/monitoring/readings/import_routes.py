"""Importing readings from a file: upload with a mode → the report.

Readings are append-only and idempotent, so there is no preview step as for assets: a dry run
(checked through ingest, then rolled back) is one of the modes. Engineers import readings of
their workshops' points only; a row of another workshop's point is refused with the reason.
Included before the monitoring routes so ``/monitoring/import`` is not taken for a point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.datastructures import UploadFile

from maintenance.db import SessionDep
from maintenance.i18n import gettext as _
from maintenance.monitoring.models import MeasurementPoint
from maintenance.monitoring.readings import imports
from maintenance.monitoring.readings.imports import ReadingImportFailed, ReadingImportReport
from maintenance.monitoring.readings.ingest import IngestMode
from maintenance.orders.models import WorkOrder
from maintenance.org.auth import WriterUser
from maintenance.org.permissions import writable_workshop_ids
from maintenance.web import FormDep, render

router = APIRouter(include_in_schema=False)

# The form's modes: the two ingest modes and a dry run.
MODES = (
    ("all", IngestMode.ALL_OR_NOTHING, False),
    ("valid", IngestMode.VALID_ONLY, False),
    ("dry", IngestMode.VALID_ONLY, True),
)
SHOWN_ERRORS = 200


def _page(
    request: Request,
    *,
    report: ReadingImportReport | None = None,
    error: str | None = None,
    mode: str = "all",
    orders: list[tuple[str, int | None]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "monitoring/readings/import.html",
        {
            "report": report,
            "error": error,
            "mode": mode,
            "orders": orders or [],
            "columns": imports.COLUMNS,
            "shown_errors": SHOWN_ERRORS,
            "max_mb": imports.MAX_UPLOAD_BYTES // 2**20,
            "accept": ",".join(f".{extension}" for extension in imports.EXTENSIONS),
        },
        status_code=status_code,
    )


def _display_name(value: Any) -> str:
    """The name the user's file had, for messages only (never used as a path)."""
    return Path(str(value or "").replace("\\", "/")).name.strip()[:200]


@router.get("/monitoring/import")
def import_page(request: Request, user: WriterUser) -> Response:
    return _page(request)


@router.get("/monitoring/import/template.csv")
def import_template(session: SessionDep, user: WriterUser) -> Response:
    """A CSV with the headers and example rows, for a point the user may import readings of."""
    stmt = select(col(MeasurementPoint.code)).where(col(MeasurementPoint.is_active)).order_by(MeasurementPoint.code)
    allowed = writable_workshop_ids(session, user)
    if allowed is not None:
        stmt = stmt.where(col(MeasurementPoint.workshop_id).in_(allowed))
    example = session.scalar(stmt.limit(1))
    disposition = f"attachment; filename=\"readings-import-template.csv\"; filename*=UTF-8''{quote('读数导入模板.csv')}"
    return Response(
        imports.template_csv(example),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store", "Vary": "HX-Request"},
    )


@router.post("/monitoring/import")
def import_upload(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    mode_name = str(form.get("mode", "all"))
    mode, dry_run = next(((m, d) for name, m, d in MODES if name == mode_name), (IngestMode.ALL_OR_NOTHING, False))
    mode_name = mode_name if any(name == mode_name for name, _m, _d in MODES) else "all"
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, error=_("Choose a CSV or XLSX file to upload."), mode=mode_name, status_code=422)
    filename = _display_name(upload.filename) or "upload.csv"
    if upload.size is not None and upload.size > imports.MAX_UPLOAD_BYTES:
        message = _(
            "The file is larger than %(limit)s MB. Split it into smaller files.",
            limit=imports.MAX_UPLOAD_BYTES // 2**20,
        )
        return _page(request, error=message, mode=mode_name, status_code=413)
    try:
        report = imports.import_readings(session, upload.file, filename, actor=user, mode=mode, dry_run=dry_run)
    except ReadingImportFailed as failure:
        return _page(request, report=failure.report, error=failure.message, mode=mode_name, status_code=422)
    return _page(request, report=report, mode=mode_name, orders=_order_links(session, report))


def _order_links(session: Session, report: ReadingImportReport) -> list[tuple[str, int | None]]:
    """(number, id) of the CBM orders the import raised; no ids after a dry run (rolled back)."""
    if not report.alerts_opened or report.dry_run:
        return [(number, None) for number in report.alerts_opened]
    found = dict(
        session.execute(
            select(col(WorkOrder.number), col(WorkOrder.id)).where(col(WorkOrder.number).in_(report.alerts_opened))
        ).all()
    )
    return [(number, found.get(number)) for number in report.alerts_opened]
