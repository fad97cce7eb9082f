"""My exports (/exports), each user's own page beside their API tokens: their export jobs with the
progress (refreshed by htmx while one is queued or running), the download when done, the error
when failed, and delete. Only the owner sees a job: for anyone else it does not exist (404)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from maintenance import export_jobs
from maintenance.config import get_settings
from maintenance.db import SessionDep, utcnow
from maintenance.exceptions import NotFound
from maintenance.export_jobs import ExportJob, ExportJobState
from maintenance.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, content_disposition
from maintenance.i18n import gettext as _
from maintenance.org.auth import CurrentUser
from maintenance.org.models import User
from maintenance.web import RecordId, add_toast, redirect, render

router = APIRouter(include_in_schema=False)
# Seconds between refreshes of the page while a job is queued or running.
REFRESH_SECONDS = 2


def _own_job(session: SessionDep, user: User, job_id: int) -> ExportJob:
    assert user.id is not None
    job = export_jobs.get_job(session, user.id, job_id)
    if job is None:
        raise NotFound(_("This export does not exist (any more)."))
    return job


@router.get("/exports")
def export_jobs_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    assert user.id is not None
    now = utcnow()
    jobs = export_jobs.list_jobs(session, user.id, now)
    interrupted = {job.id for job in jobs if export_jobs.is_interrupted(job, now)}
    live = any(job.state in export_jobs.ACTIVE_STATES and job.id not in interrupted for job in jobs)
    return render(
        request,
        "org/exports.html",
        {
            "jobs": jobs,
            "interrupted": interrupted,
            "live": live,
            "refresh_seconds": REFRESH_SECONDS,
            "keep_hours": get_settings().export_job_keep_hours,
            "states": ExportJobState,
        },
        block="results",
    )


@router.get("/exports/{job_id}/download")
def download_export(session: SessionDep, user: CurrentUser, job_id: RecordId) -> Response:
    job = _own_job(session, user, job_id)
    path = export_jobs.job_path(job)
    if job.state != ExportJobState.DONE or not path.is_file():
        raise NotFound(_("This export has no file (yet): see its state on My exports."))
    return FileResponse(
        path,
        media_type=CSV_MEDIA_TYPE if job.format == "csv" else XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": content_disposition(job.file_name, f"export-{job.id}.{job.format}"),
            "Cache-Control": "no-store",
        },
    )


@router.post("/exports/{job_id}/delete")
def delete_export(request: Request, session: SessionDep, user: CurrentUser, job_id: RecordId) -> Response:
    export_jobs.delete_job(session, _own_job(session, user, job_id))
    add_toast(request, _("Export deleted."))
    return redirect(request, "/exports")
