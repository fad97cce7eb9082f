"""The finance journal: costs booked outside work orders. The list (page, htmx fragment and
CSV/XLSX export from one view, with the filtered total), the import from XLSX or CSV (upload →
preview with every error → confirm) and deleting an entry imported by mistake.

The list runs a fixed number of queries whatever the number of entries: the user's workshops
(engineers), the workshops, the count, the page's rows (importer joined in) and the total.
The upload is kept in the content-addressed file store; the preview names it by its SHA-256 and
the confirmation imports exactly that file, in a savepoint, so a refused import leaves nothing.
"""

from __future__ import annotations

import io
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from maintenance import exports as core
from maintenance import files
from maintenance.budget import journal, journal_import
from maintenance.budget.journal import JournalFiltersDep
from maintenance.budget.journal_exports import JournalExport
from maintenance.budget.journal_import import JournalImportFailed, JournalReport
from maintenance.budget.scope import readable_workshop_ids
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.i18n import current_locale, format_number
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostCategory
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, ManagerUser
from maintenance.org.permissions import Capability, can
from maintenance.spreadsheets import ImportFileError
from maintenance.web import FormDep, RecordId, add_toast, paginate, redirect, render

router = APIRouter(include_in_schema=False)

LIST = "/budget/journal"
IMPORT = LIST + "/import"
_TOKEN = re.compile(r"[0-9a-f]{64}")
# The stored copy's name only says what kind of file it is (the store checks it looks like one).
_STORED_AS = {"xlsx": "journal.xlsx", "csv": "journal.txt"}


# --- The list -------------------------------------------------------------------------------


@router.get(LIST)
def journal_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: JournalFiltersDep, page: int = 1
) -> Response:
    filters = filters.within_year_of(plant_today())
    readable = readable_workshop_ids(session, user)
    workshop_ids = journal.listed_workshop_ids(readable, filters.workshop_id)
    workshops = [w for w in org_service.list_workshops(session) if readable is None or w.id in readable]
    names = {w.id: w.name for w in workshops if w.id is not None}
    total = journal.total_of(session, filters, workshop_ids)
    export_format = request.query_params.get("export")
    if export_format:
        export = JournalExport(
            session=session,
            filters=filters,
            workshop_ids=workshop_ids,
            workshop_names=names,
            total=total,
            locale=current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
        )
        return export.response(core.check_format(export_format), request)
    rows = paginate(session, journal.list_entries(filters, workshop_ids), page, scalars=False)
    return render(
        request,
        "budget/journal.html",
        {
            "page": rows,
            "filters": filters,
            "total": total,
            "workshops": workshops,
            "workshop_names": names,
            "categories": CostCategory,
            "can_manage": can(user, Capability.MANAGE),
        },
        block="results",
    )


@router.post(LIST + "/{entry_id:int}/delete")
def journal_delete(request: Request, session: SessionDep, user: ManagerUser, entry_id: RecordId) -> Response:
    entry = journal.get_entry_or_raise(session, entry_id)
    reference = entry.reference
    journal.delete_entry(session, entry, actor=user)
    add_toast(request, _("Finance journal entry %(reference)s deleted.", reference=reference))
    return redirect(request, LIST)


# --- The import -----------------------------------------------------------------------------


def _import_page(
    request: Request,
    *,
    report: JournalReport | None = None,
    token: str = "",
    filename: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "budget/journal_import.html",
        {
            "report": report,
            "token": token,
            "filename": filename,
            "error": error,
            "columns": journal_import.COLUMNS,
            "max_mb": journal_import.MAX_UPLOAD_BYTES // 2**20,
        },
        status_code=status_code,
    )


@router.get(IMPORT)
def journal_import_page(request: Request, user: ManagerUser) -> Response:
    return _import_page(request)


@router.get(IMPORT + "/template.xlsx")
def journal_import_template(user: ManagerUser) -> Response:
    disposition = core.content_disposition("财务凭证导入模板.xlsx", "finance-journal.xlsx")
    return Response(
        journal_import.template_workbook(),
        media_type=journal_import.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store", "Vary": "HX-Request"},
    )


@router.post(IMPORT + "/preview")
def journal_import_preview(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(request, error=_("Choose an XLSX or CSV file to upload."), status_code=422)
    limit = journal_import.MAX_UPLOAD_BYTES
    content = upload.file.read(limit + 1)
    try:
        extension = journal_import.check_journal_upload(upload.filename, len(content))
    except ImportFileError as error:
        return _import_page(request, error=error.message, status_code=413 if len(content) > limit else 422)
    report = journal_import.analyse(session, content, extension, actor=user, today=plant_today())
    token = ""
    if report.importable:  # only a file the preview offers to import is kept for the confirmation
        try:
            token = files.store_upload(io.BytesIO(content), _STORED_AS[extension]).sha256
        except ValidationFailed as error:
            return _import_page(request, report=report, error=error.message, status_code=422)
    return _import_page(
        request, report=report, token=token, filename=upload.filename, status_code=422 if report.errors else 200
    )


@router.post(IMPORT + "/confirm")
def journal_import_confirm(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    token = str(form.get("token", "")).strip().lower()
    filename = str(form.get("filename", "")).strip()
    path = files.blob_path(token) if _TOKEN.fullmatch(token) else None
    if path is None or not path.is_file():
        return _import_page(
            request, error=_("The uploaded file is no longer available. Upload it again."), status_code=404
        )
    content = path.read_bytes()
    try:
        extension = journal_import.check_journal_upload(filename, len(content))
    except ImportFileError as error:
        return _import_page(request, error=error.message, status_code=422)
    try:
        with session.begin_nested():
            report = journal_import.import_entries(
                session, content, filename, extension, actor=user, today=plant_today()
            )
    except JournalImportFailed as failure:
        return _import_page(request, report=failure.report, error=failure.message, status_code=422)
    except Conflict as conflict:
        return _import_page(request, error=conflict.message, status_code=409)
    add_toast(
        request,
        _(
            "Finance journal imported: %(n)s entries, %(total)s CNY.",
            n=report.created,
            total=format_number(report.total, 2),
        ),
    )
    return redirect(request, LIST)
