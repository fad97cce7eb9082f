"""Importing the seal-point inventory from XLSX: upload → preview with every error → confirm.

The upload is kept in the content-addressed file store; the preview names it by its SHA-256 and
the confirmation imports exactly that file (in a savepoint, so a refused import leaves nothing).
Engineers import their own workshops' lines; managers and admins every workshop's.
"""

from __future__ import annotations

import io
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from maintenance import files
from maintenance.db import SessionDep
from maintenance.exports import content_disposition
from maintenance.i18n import gettext as _
from maintenance.leakfree import inventory_import
from maintenance.leakfree.inventory_import import InventoryImportFailed, InventoryReport, RowAction
from maintenance.org.auth import WriterUser
from maintenance.spreadsheets import ImportFileError
from maintenance.web import FormDep, add_toast, redirect, render

router = APIRouter(include_in_schema=False)

PAGE = "/leakfree/seal-points/import"
_TOKEN = re.compile(r"[0-9a-f]{64}")


def _page(
    request: Request,
    *,
    report: InventoryReport | None = None,
    token: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "leakfree/seal_points/import.html",
        {
            "report": report,
            "token": token,
            "error": error,
            "actions": RowAction,
            "columns": inventory_import.COLUMNS,
            "max_mb": inventory_import.MAX_UPLOAD_BYTES // 2**20,
        },
        status_code=status_code,
    )


@router.get(PAGE)
def import_page(request: Request, user: WriterUser) -> Response:
    return _page(request)


@router.get(PAGE + "/template.xlsx")
def import_template(user: WriterUser) -> Response:
    disposition = content_disposition("密封点台账导入模板.xlsx", "seal-point-inventory.xlsx")
    return Response(
        inventory_import.template_workbook(),
        media_type=inventory_import.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store", "Vary": "HX-Request"},
    )


@router.post(PAGE + "/preview")
def import_preview(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, error=_("Choose an XLSX file to upload."), status_code=422)
    limit = inventory_import.MAX_UPLOAD_BYTES
    content = upload.file.read(limit + 1)
    try:
        inventory_import.check_inventory_upload(upload.filename, len(content))
    except ImportFileError as error:
        return _page(request, error=error.message, status_code=413 if len(content) > limit else 422)
    report = inventory_import.analyse(session, content, actor=user)
    token = ""
    if report.importable:  # only a file the preview offers to import is kept for the confirmation
        token = files.store_upload(io.BytesIO(content), "seal-points.xlsx").sha256
    return _page(request, report=report, token=token, status_code=422 if report.errors else 200)


@router.post(PAGE + "/confirm")
def import_confirm(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    token = str(form.get("token", "")).strip().lower()
    path = files.blob_path(token) if _TOKEN.fullmatch(token) else None
    if path is None or not path.is_file():
        return _page(request, error=_("The uploaded file is no longer available. Upload it again."), status_code=404)
    try:
        with session.begin_nested():
            report = inventory_import.import_inventory(session, path.read_bytes(), actor=user)
    except InventoryImportFailed as failure:
        return _page(request, report=failure.report, error=failure.message, status_code=422)
    add_toast(
        request,
        _(
            "Seal-point inventory imported: %(created)s lines added, %(updated)s updated, %(unchanged)s unchanged.",
            created=report.created,
            updated=report.updated,
            unchanged=report.count(RowAction.UNCHANGED),
        ),
    )
    return redirect(request, "/leakfree/seal-points?status=all")
