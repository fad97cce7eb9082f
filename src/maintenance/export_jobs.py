"""Large exports as background jobs: a list's export of more rows than
``MAINTENANCE_EXPORT_JOB_THRESHOLD_ROWS`` is not built inside the request (holding a worker and a
transaction for a minute) but queued here and written by a small thread pool of the app process
into ``var/exports``; the user follows it on "My exports" (/exports) and downloads it when done.

- **One job per export asked for.** The export links are GETs, which browsers and prefetchers may
  repeat: while a job of the same user for the same list, query and format is queued or running,
  asking again leads to that job instead of a new one.
- **A limit per user**: at most ``MAINTENANCE_EXPORT_JOBS_PER_USER`` queued or running jobs; the
  next one is refused naming the limit, and no job is created.
- **Its own sessions.** A job reads its rows in a read-only transaction of its own and writes its
  progress (every few hundred rows) and heartbeat in short transactions of another session.
- **A heartbeat.** A queued or running job whose heartbeat is older than
  ``MAINTENANCE_EXPORT_JOB_STALE_MINUTES`` was lost with its process (a restart): it is shown as
  failed, "interrupted", and no longer counts against the limit.
- **Kept a day.** Jobs and their files older than ``MAINTENANCE_EXPORT_JOB_KEEP_HOURS`` are
  removed when a new job is created and by the scheduler's pass.
- Jobs are not business records: the change log does not record them (the export itself is
  logged, as every export is, and the file's header sheet names who exported it and when).

No domain is imported here; the export is any object with the small :class:`JobExport` surface
(:class:`maintenance.exports.TableExport`).
"""

from __future__ import annotations

import contextvars
import copy
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, Session, SQLModel, col

from maintenance.choices import Choice, ChoiceType
from maintenance.config import get_settings
from maintenance.db import READ_ONLY, UTCDateTime, fk_column, get_engine, transaction, utcnow
from maintenance.exceptions import Conflict, MaintenanceError
from maintenance.i18n import gettext as _
from maintenance.web import add_toast, redirect

logger = logging.getLogger("maintenance.exports")

# Progress (and the heartbeat) is written every this many rows.
PROGRESS_EVERY = 500
# With the user's id, keys the lock that makes one user's job requests wait for each other (PostgreSQL).
_USER_LOCK_KEY = 0x4558_504F  # "EXPO"
_USER_LOCK = text("SELECT pg_advisory_xact_lock(:key, :user_id)")
ERROR_LENGTH = 1000


class ExportJobState(Choice):
    QUEUED = ("queued", "排队中", "Queued", "secondary")
    RUNNING = ("running", "生成中", "Running", "primary")
    DONE = ("done", "已完成", "Done", "success")
    FAILED = ("failed", "失败", "Failed", "danger")


ACTIVE_STATES = (ExportJobState.QUEUED, ExportJobState.RUNNING)


class ExportJob(SQLModel, table=True):
    """One export run in the background for its user."""

    __tablename__ = "export_job"
    # Ids never come back after a delete (SQLite would otherwise hand out the largest + 1 again):
    # the file and a running job's writes are keyed by it, so a deleted job's still-running
    # thread must not write into another user's new job of the same id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=fk_column("app_user.id", nullable=False, ondelete="CASCADE"))
    # SHA-256 of the list's path, query and format: the same export asked for again.
    request_key: str = Field(max_length=64)
    title: str = Field(max_length=200)  # the list, in the user's language
    filter_text: str = Field(max_length=2000)  # the filter in words
    format: str = Field(max_length=8)
    state: ExportJobState = Field(sa_type=ChoiceType(ExportJobState), default=ExportJobState.QUEUED)
    rows_done: int = 0
    rows_total: int | None = None
    file_name: str = Field(max_length=255)  # the download's name
    # Why it failed; a failed job without one was interrupted by the app's stop before it started.
    error: str | None = Field(default=None, max_length=ERROR_LENGTH)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(sa_type=UTCDateTime, nullable=False)

    @property
    def percent(self) -> int:
        if self.state == ExportJobState.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)


def job_path(job: ExportJob) -> Path:
    return get_settings().exports_dir / f"{job.id}.{job.format}"


def stale_before(now: datetime) -> datetime:
    return now - timedelta(minutes=get_settings().export_job_stale_minutes)


def is_interrupted(job: ExportJob, now: datetime) -> bool:
    """Queued or running, but its heartbeat stopped: its process is gone; or failed without an
    error: its process stopped before a worker took it (:meth:`ExportJobRunner.shutdown`)."""
    if job.state == ExportJobState.FAILED:
        return job.error is None
    return job.state in ACTIVE_STATES and job.heartbeat_at < stale_before(now)


def _live(now: datetime) -> Any:
    return col(ExportJob.state).in_(ACTIVE_STATES) & (col(ExportJob.heartbeat_at) >= stale_before(now))


def list_jobs(session: Session, user_id: int, now: datetime) -> list[ExportJob]:
    """The user's jobs of the keeping period, newest first."""
    kept_since = now - timedelta(hours=get_settings().export_job_keep_hours)
    stmt = (
        select(ExportJob)
        .where(col(ExportJob.user_id) == user_id, col(ExportJob.created_at) >= kept_since)
        .order_by(col(ExportJob.created_at).desc(), col(ExportJob.id).desc())
    )
    return list(session.scalars(stmt))


def get_job(session: Session, user_id: int, job_id: int) -> ExportJob | None:
    """The job if it is the user's (another user's job does not exist for them)."""
    job = session.get(ExportJob, job_id)
    return job if job is not None and job.user_id == user_id else None


def create_job(
    session: Session,
    *,
    user_id: int,
    request_key: str,
    title: str,
    filter_text: str,
    fmt: str,
    file_name: str,
    now: datetime,
) -> tuple[ExportJob, bool]:
    """The user's live job for the same export, or a new queued one (True): refused (Conflict)
    when the user has as many live jobs as the limit allows."""
    if session.get_bind().dialect.name == "postgresql":
        # Two requests of the user at once (a double click, a prefetch) would both pass the checks
        # below: one at a time per user, to the transaction's end. SQLite's writers already are.
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key, :user_id)"), {"key": _USER_LOCK_KEY, "user_id": user_id}
        )
    live = select(ExportJob).where(col(ExportJob.user_id) == user_id, _live(now))
    same = session.scalars(live.where(col(ExportJob.request_key) == request_key).limit(1)).first()
    if same is not None:
        return same, False
    limit = get_settings().export_jobs_per_user
    running = session.scalar(select(func.count()).select_from(live.subquery())) or 0
    if running >= limit:
        raise Conflict(
            _(
                "You already have %(n)s exports being prepared, the most allowed at once: wait until one is "
                "done (My exports) and ask again.",
                n=limit,
            )
        )
    job = ExportJob(
        user_id=user_id,
        request_key=request_key,
        title=title[:200],
        filter_text=filter_text[:2000],
        format=fmt,
        file_name=file_name,
        created_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    session.flush()
    return job, True


def delete_job(session: Session, job: ExportJob) -> None:
    """The job, and its file once that is committed (a running job's file is removed when it
    finishes: see :meth:`ExportJobRunner.run`)."""
    _remove_after_commit(session, [job_path(job)])
    session.delete(job)
    session.flush()


def purge_jobs(session: Session, now: datetime) -> int:
    """Jobs (every user's) older than the keeping period, and, once that is committed, their files
    and any file of a job that no longer exists (one deleted while it ran); how many jobs."""
    kept_since = now - timedelta(hours=get_settings().export_job_keep_hours)
    old = list(session.scalars(select(ExportJob).where(col(ExportJob.created_at) < kept_since)))
    if old:
        session.execute(delete(ExportJob).where(col(ExportJob.id).in_([job.id for job in old])))
    folder = get_settings().exports_dir
    if folder.is_dir():
        existing = set(session.scalars(select(col(ExportJob.id))))
        # A job's file is "<id>.<format>"; a job still writing has a hidden ".<id>.<format>.partial".
        files = [path for path in folder.iterdir() if path.stem.isdigit() and int(path.stem) not in existing]
        _remove_after_commit(session, files)
    return len(old)


# Files to remove when the session's transaction commits (a rollback keeps the rows naming them).
_FILES_TO_REMOVE = "export_files_to_remove"


def _remove_after_commit(session: Session, paths: Iterable[Path]) -> None:
    session.info.setdefault(_FILES_TO_REMOVE, []).extend(paths)


@event.listens_for(OrmSession, "after_commit")
def _remove_files(session: OrmSession) -> None:
    for path in session.info.pop(_FILES_TO_REMOVE, []):
        path.unlink(missing_ok=True)


@event.listens_for(OrmSession, "after_rollback")
def _keep_files(session: OrmSession) -> None:
    session.info.pop(_FILES_TO_REMOVE, None)


# --- Running a job ------------------------------------------------------------------------


class JobExport(Protocol):
    """What a job needs of an export (:class:`maintenance.exports.TableExport`)."""

    session: Session
    row_count: int

    def count_rows(self, cap: int | None = None) -> int: ...

    def rows(self, batch_size: int | None = None) -> Iterator[tuple[Any, ...]]: ...

    def write_csv(self, path: str | os.PathLike[str], rows: Any = None) -> int: ...

    def write_xlsx(self, path: str | os.PathLike[str], rows: Any = None) -> int: ...


Sessions = Callable[[bool], AbstractContextManager[Session]]


@contextmanager
def own_session(read_only: bool) -> Iterator[Session]:
    """A session of the job's own (read-only ones take no write lock on SQLite)."""
    bind = get_engine().execution_options(**{READ_ONLY: True}) if read_only else get_engine()
    with Session(bind, expire_on_commit=False) as session:
        yield session


class InlineExecutor(Executor):
    """Runs each job at once, in the caller's thread (tests)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@dataclass
class ExportJobRunner:
    """The app process's export workers. ``sessions(read_only)`` opens the sessions a job uses."""

    sessions: Sessions = own_session
    executor: Executor | None = None
    clock: Callable[[], datetime] = utcnow
    queued: set[int] = field(default_factory=set)  # this process's jobs waiting for a worker
    _lock: Lock = field(default_factory=Lock)

    def submit(self, job_id: int, export: JobExport, fmt: str) -> None:
        with self._lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(get_settings().export_job_workers, "export-job")
            self.queued.add(job_id)
        # In the asker's context: its language for the job's error messages, its request id in the log.
        self.executor.submit(contextvars.copy_context().run, self.run, job_id, export, fmt)

    def shutdown(self) -> None:
        """At the app's stop: the jobs still waiting for a worker are not started (a restart would
        otherwise wait for every one of them) but failed at once with no error, which
        :func:`is_interrupted` reads as interrupted; the running ones finish (the interpreter waits
        for their threads)."""
        with self._lock:
            executor, self.executor = self.executor, None
            waiting, self.queued = list(self.queued), set()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        if waiting:
            with self.sessions(False) as session, transaction(session):
                session.execute(
                    update(ExportJob)
                    .where(col(ExportJob.id).in_(waiting), col(ExportJob.state) == ExportJobState.QUEUED)
                    .values(state=ExportJobState.FAILED, error=None, finished_at=self.clock())
                )

    def _write(self, job_id: int, **values: Any) -> None:
        """A short transaction: the job's values and the heartbeat of this process's queued jobs."""
        now = self.clock()
        with self.sessions(False) as session, transaction(session):
            session.execute(update(ExportJob).where(col(ExportJob.id) == job_id).values(heartbeat_at=now, **values))
            waiting = list(self.queued)
            if waiting:
                session.execute(update(ExportJob).where(col(ExportJob.id).in_(waiting)).values(heartbeat_at=now))

    def run(self, job_id: int, export: JobExport, fmt: str) -> None:
        """Write the file of ``export`` for the job, with progress; a failure is kept as the
        job's error (never raised: nobody waits for a job)."""
        with self._lock:
            self.queued.discard(job_id)
        final = get_settings().exports_dir / f"{job_id}.{fmt}"
        partial = final.with_name(f".{final.name}.partial")
        try:
            self._write(job_id, state=ExportJobState.RUNNING, started_at=self.clock())
            with self.sessions(True) as reader:
                job_export = copy.copy(export)
                job_export.session = reader
                total = job_export.count_rows()
                self._write(job_id, rows_total=total)
                final.parent.mkdir(parents=True, exist_ok=True)
                rows = self._with_progress(job_id, job_export.rows())
                writer = job_export.write_csv if fmt == "csv" else job_export.write_xlsx
                done = writer(partial, rows)
            partial.replace(final)
            self._write(job_id, state=ExportJobState.DONE, rows_done=done, finished_at=self.clock())
            self._drop_if_deleted(job_id, final)
        except Exception as error:
            logger.exception("export job %s failed", job_id)
            partial.unlink(missing_ok=True)
            final.unlink(missing_ok=True)  # a failed job has no file, whatever lay there before
            message = (
                error.message
                if isinstance(error, MaintenanceError)
                else _("The export could not be written (%(error)s).", error=type(error).__name__)
            )
            try:
                self._write(job_id, state=ExportJobState.FAILED, error=message[:ERROR_LENGTH], finished_at=self.clock())
            except Exception:
                # Nobody waits for the job to raise to: it stays running until its heartbeat is
                # stale, then shows as interrupted.
                logger.exception("export job %s: its failure could not be recorded", job_id)

    def _with_progress(self, job_id: int, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        for done, row in enumerate(rows, start=1):
            yield row
            if done % PROGRESS_EVERY == 0:
                self._write(job_id, rows_done=done)

    def _drop_if_deleted(self, job_id: int, path: Path) -> None:
        """A job deleted while it ran leaves no file behind."""
        with self.sessions(True) as session, transaction(session, read_only=True):
            if session.get(ExportJob, job_id) is None:
                path.unlink(missing_ok=True)


_default_runner = ExportJobRunner()


def stop_default_runner() -> None:
    """The served app's stop (its lifespan)."""
    _default_runner.shutdown()


def runner_of(request: Request) -> ExportJobRunner:
    """The app's runner (tests give theirs as ``app.state.export_runner``)."""
    runner = getattr(request.app.state, "export_runner", None)
    return runner if isinstance(runner, ExportJobRunner) else _default_runner


def request_key(path: str, query: Iterable[tuple[str, str]]) -> str:
    """What names an export asked for: the list's path and query (its filter and format), in
    any order of the parameters."""
    return hashlib.sha256(repr((path, sorted(query))).encode()).hexdigest()


def start_export_job(
    request: Request, export: JobExport, fmt: str, *, title: str, filter_text: str, file_name: str
) -> Response:
    """Queue ``export`` (or find the user's same export already queued or running) and send the
    user to "My exports"."""
    user = request.state.user
    runner = runner_of(request)
    now = runner.clock()
    with runner.sessions(False) as session, transaction(session):
        purge_jobs(session, now)
        job, created = create_job(
            session,
            user_id=user.id,
            request_key=request_key(request.url.path, request.query_params.multi_items()),
            title=title,
            filter_text=filter_text,
            fmt=fmt,
            file_name=file_name,
            now=now,
        )
        job_id = job.id
    assert job_id is not None
    if created:
        logger.info("export job %s queued for %s: %s (%s)", job_id, user.username, title, filter_text)
        runner.submit(job_id, export, fmt)
        add_toast(
            request,
            _(
                "This export has more than %(n)s rows: it is being prepared in the background. Download it here "
                "when it is done.",
                n=get_settings().export_job_threshold_rows,
            ),
            "info",
        )
    else:
        add_toast(request, _("This export is already being prepared."), "info")
    return redirect(request, "/exports")
