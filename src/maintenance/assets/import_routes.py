"""Importing assets from a spreadsheet: upload → preview with every error → confirm.

The upload is stored under ``var/imports/<sha256>.<ext>``; the preview names it by that
hash, and the confirmation imports exactly that file. Included before the asset routes so
``/assets/import`` is not taken for ``/assets/{asset_id}``.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from maintenance.assets import imports
from maintenance.assets.imports import columns, reading, template
from maintenance.assets.imports.report import PREVIEW_ROWS, ImportFailed, ImportMode, ImportReport
from maintenance.config import get_settings
from maintenance.db import SessionDep
from maintenance.i18n import gettext as _
from maintenance.org.auth import ManagerUser
from maintenance.spreadsheets import ImportFileError
from maintenance.web import FormDep, add_toast, redirect, render

router = APIRouter(include_in_schema=False)

_TOKEN = re.compile(r"[0-9a-f]{64}")
# Uploaded files nobody confirmed are removed after a day.
_KEEP_SECONDS = 24 * 3600


def imports_dir() -> Path:
    return get_settings().var_dir / "imports"


def _store(content: bytes, extension: str) -> str:
    """Keep the upload under its SHA-256 (the same file uploaded twice is stored once)."""
    folder = imports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder)
    digest = hashlib.sha256(content).hexdigest()
    path = folder / f"{digest}.{extension}"
    if not path.exists():
        partial = folder / f".{digest}.{os.getpid()}.part"
        partial.write_bytes(content)
        partial.replace(path)
    return digest


def _prune(folder: Path) -> None:
    cutoff = time.time() - _KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue  # removed by another worker meanwhile


def stored_file(token: str) -> Path | None:
    if not _TOKEN.fullmatch(token):
        return None
    for extension in reading.EXTENSIONS:
        path = imports_dir() / f"{token}.{extension}"
        if path.is_file():
            return path
    return None


def _display_name(value: Any, fallback: str) -> str:
    """The name the user's file had, for messages only (never used as a path)."""
    name = Path(str(value or "").replace("\\", "/")).name.strip()
    return name[:200] or fallback


def _upload_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    return render(
        request,
        "assets/import.html",
        {
            "error": error,
            "columns": columns.COLUMNS,
            "max_mb": reading.MAX_UPLOAD_BYTES // 2**20,
            "accept": ",".join(f".{extension}" for extension in reading.EXTENSIONS),
        },
        status_code=status_code,
    )


def _preview_page(
    request: Request,
    report: ImportReport,
    token: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "assets/import_preview.html",
        {"report": report, "token": token, "error": error, "modes": ImportMode, "preview_size": PREVIEW_ROWS},
        status_code=status_code,
    )


@router.get("/assets/import")
def import_page(request: Request, user: ManagerUser) -> Response:
    return _upload_page(request)


@router.get("/assets/import/template.xlsx")
def import_template(session: SessionDep, user: ManagerUser) -> Response:
    filename = "设备台账导入模板.xlsx"
    disposition = f"attachment; filename=\"asset-import-template.xlsx\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        template.template_workbook(session),
        media_type=template.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store", "Vary": "HX-Request"},
    )


@router.post("/assets/import/preview")
def import_preview(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _upload_page(request, _("Choose an XLSX or CSV file to upload."), 422)
    limit = reading.MAX_UPLOAD_BYTES
    content = upload.file.read(limit + 1)
    try:
        extension = reading.check_upload(upload.filename, len(content), max_bytes=limit)
    except ImportFileError as error:
        too_large = len(content) > limit
        return _upload_page(request, error.message, 413 if too_large else 422)
    token = hashlib.sha256(content).hexdigest()
    report = imports.analyse(session, content, f"{token}.{extension}")
    report.filename = _display_name(upload.filename, report.filename)
    # Only a file the preview offers to import is kept for the confirmation; a refused one is not.
    if _importable(report):
        _store(content, extension)
    # A file that cannot be read as an asset list is shown with its reasons, as 422.
    return _preview_page(request, report, token, status_code=422 if report.file_errors else 200)


def _importable(report: ImportReport) -> bool:
    """Whether the preview offers to import the file (some row would create or change an asset)."""
    return not report.file_errors and report.new + report.updates > 0


@router.post("/assets/import/confirm")
def import_confirm(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    token = str(form.get("token", "")).strip().lower()
    path = stored_file(token)
    if path is None:
        return _upload_page(request, _("The uploaded file is no longer available. Upload it again."), 404)
    try:
        mode = ImportMode(str(form.get("mode", ImportMode.ALL_OR_NOTHING.value)))
    except ValueError:
        mode = ImportMode.ALL_OR_NOTHING
    display_name = _display_name(form.get("filename"), path.name)
    try:
        # A savepoint: a refused import leaves nothing behind, and the page can still show why.
        with session.begin_nested():
            report = imports.import_assets(session, path.read_bytes(), path.name, actor=user, mode=mode)
    except ImportFailed as failure:
        failure.report.filename = display_name
        if not _importable(failure.report):
            path.unlink(missing_ok=True)  # nothing in it can be imported: not kept for another try
        return _preview_page(request, failure.report, token, error=failure.message, status_code=422)
    if report.invalid:
        message = _(
            "Imported: %(created)s created, %(updated)s updated; %(n)s rows with errors skipped.",
            created=report.created,
            updated=report.updated,
            n=report.invalid,
        )
    else:
        message = _(
            "Imported: %(created)s created, %(updated)s updated.", created=report.created, updated=report.updated
        )
    add_toast(request, message)
    response = redirect(request, "/assets")
    # Removed once the answer is sent, which is after the commit: an import whose commit fails
    # (or whose server dies before it) can be confirmed again.
    response.background = BackgroundTask(path.unlink, missing_ok=True)
    return response
