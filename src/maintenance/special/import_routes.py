"""Importing the special-equipment ledger: upload → preview with every error → confirm.

The upload is kept in the content-addressed file store; the preview names it by its SHA-256 and
the confirmation imports exactly that file (in a savepoint, so a refused import leaves nothing).
Managers and admins only.
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from maintenance import files
from maintenance.db import SessionDep
from maintenance.i18n import gettext as _
from maintenance.org.auth import ManagerUser
from maintenance.special import ledger_import
from maintenance.special.ledger_import import ImportMode, LedgerImportFailed, LedgerReport
from maintenance.spreadsheets import ImportFileError
from maintenance.web import FormDep, add_toast, redirect, render

router = APIRouter(include_in_schema=False)

_TOKEN = re.compile(r"[0-9a-f]{64}")


def _page(
    request: Request,
    *,
    report: LedgerReport | None = None,
    token: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "special/import.html",
        {
            "report": report,
            "token": token,
            "error": error,
            "modes": ImportMode,
            "columns": ledger_import.COLUMNS,
            "max_mb": ledger_import.MAX_UPLOAD_BYTES // 2**20,
        },
        status_code=status_code,
    )


@router.get("/special-equipment/import")
def import_page(request: Request, user: ManagerUser) -> Response:
    return _page(request)


@router.get("/special-equipment/import/template.xlsx")
def import_template(user: ManagerUser) -> Response:
    disposition = (
        f"attachment; filename=\"special-equipment-ledger.xlsx\"; filename*=UTF-8''{quote('特种设备台账导入模板.xlsx')}"
    )
    return Response(
        ledger_import.template_workbook(),
        media_type=ledger_import.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store", "Vary": "HX-Request"},
    )


@router.post("/special-equipment/import/preview")
def import_preview(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, error=_("Choose an XLSX file to upload."), status_code=422)
    limit = ledger_import.MAX_UPLOAD_BYTES
    content = upload.file.read(limit + 1)
    try:
        ledger_import.check_ledger_upload(upload.filename, len(content))
    except ImportFileError as error:
        return _page(request, error=error.message, status_code=413 if len(content) > limit else 422)
    report = ledger_import.analyse(session, content)
    token = ""
    if report.importable:  # only a file the preview offers to import is kept for the confirmation
        token = files.store_upload(io.BytesIO(content), "ledger.xlsx").sha256
    return _page(request, report=report, token=token, status_code=422 if report.file_errors else 200)


@router.post("/special-equipment/import/confirm")
def import_confirm(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    token = str(form.get("token", "")).strip().lower()
    path = files.blob_path(token) if _TOKEN.fullmatch(token) else None
    if path is None or not path.is_file():
        return _page(request, error=_("The uploaded file is no longer available. Upload it again."), status_code=404)
    try:
        mode = ImportMode(str(form.get("mode", ImportMode.ALL_OR_NOTHING.value)))
    except ValueError:
        mode = ImportMode.ALL_OR_NOTHING
    try:
        with session.begin_nested():
            report = ledger_import.import_ledger(session, path.read_bytes(), actor=user, mode=mode)
    except LedgerImportFailed as failure:
        return _page(request, report=failure.report, token=token, error=failure.message, status_code=422)
    add_toast(
        request,
        _(
            "Ledger imported: %(inspections)s inspections and %(registrations)s registrations recorded; "
            "%(duplicates)s already recorded and %(invalid)s with errors skipped.",
            inspections=report.inspections_created,
            registrations=report.registrations_created,
            duplicates=report.duplicates,
            invalid=report.invalid,
        ),
    )
    return redirect(request, "/special-equipment")
