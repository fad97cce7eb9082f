"""Large exports as background jobs (My exports, /exports): any list's export of more rows than the
threshold becomes a job of its user; small ones stay immediate downloads.

The jobs run here in the request's thread (an inline executor) on the test's session, so each test
sees the job's whole life without waiting; the threshold is set to a few rows."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from concurrent.futures import Executor, Future
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from maintenance import cli, export_jobs
from maintenance.assets import exports as asset_exports
from maintenance.config import get_settings
from maintenance.db import plant_day_start, plant_today, utcnow
from maintenance.export_jobs import ExportJob, ExportJobRunner, ExportJobState, InlineExecutor
from maintenance.i18n import LOCALE_COOKIE
from maintenance.org.models import Role, User
from tests import factories
from tests.conftest import login

THRESHOLD = 3


class RecordingRunner(ExportJobRunner):
    """Runs each job at once on the test's session, noting the progress it writes."""

    def __init__(self, session: Session) -> None:
        def sessions(_read_only: bool) -> AbstractContextManager[Session]:
            return nullcontext(session)

        super().__init__(sessions=sessions, executor=InlineExecutor())
        self.progress: list[dict[str, Any]] = []

    def _write(self, job_id: int, **values: Any) -> None:
        self.progress.append(values)
        super()._write(job_id, **values)


@pytest.fixture(autouse=True)
def exports_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Files of this test's jobs alone (job ids repeat from test to test)."""
    monkeypatch.setattr(get_settings(), "var_dir", tmp_path)
    return get_settings().exports_dir


@pytest.fixture
def runner(app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch) -> RecordingRunner:
    monkeypatch.setattr(get_settings(), "export_job_threshold_rows", THRESHOLD)
    runner = RecordingRunner(session)
    app.state.export_runner = runner
    return runner


@pytest.fixture
def english(english: None, client: TestClient) -> None:
    """English pages as well as English messages in the test (the pages follow the lang cookie)."""
    client.cookies.set(LOCALE_COOKIE, "en")


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def assets(session: Session) -> list[str]:
    workshop = factories.WorkshopFactory()
    return [factories.AssetFactory(workshop_id=workshop.id, tag=f"P-{n:03d}").tag for n in range(1, 6)]


def jobs_of(session: Session, user: User) -> list[ExportJob]:
    return list(session.scalars(select(ExportJob).where(ExportJob.user_id == user.id).order_by(ExportJob.id)))


def add_job(
    session: Session, user: User, key: str, *, now: datetime | None = None, state: ExportJobState | None = None
) -> ExportJob:
    """A job of ``user`` made directly (queued, unless ``state`` says otherwise)."""
    assert user.id is not None
    job, created = export_jobs.create_job(
        session,
        user_id=user.id,
        request_key=key,
        title=key,
        filter_text="",
        fmt="csv",
        file_name="x.csv",
        now=now or utcnow(),
    )
    assert created
    if state is not None:
        job.state = state
        session.flush()
    return job


def immediate_export(client: TestClient, monkeypatch: pytest.MonkeyPatch, fmt: str) -> bytes:
    """The asset list's export as a download, below the threshold."""
    with monkeypatch.context() as immediate:
        immediate.setattr(get_settings(), "export_job_threshold_rows", 1000)
        response = client.get("/assets", params={"export": fmt})
    assert response.status_code == 200
    return response.content


def test_a_small_export_is_still_an_immediate_download(
    client: TestClient, session: Session, runner: RecordingRunner, manager: User, assets: list[str]
) -> None:
    login(client, manager)

    response = client.get("/assets", params={"q": "P-001", "export": "csv"})

    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert jobs_of(session, manager) == []


def test_a_large_export_becomes_a_job_with_progress_and_the_same_file(
    client: TestClient,
    session: Session,
    runner: RecordingRunner,
    manager: User,
    assets: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login(client, manager)
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 2)
    expected = immediate_export(client, monkeypatch, "csv")

    response = client.get("/assets", params={"export": "csv"})

    assert response.status_code == 303
    assert response.headers["location"] == "/exports"
    [job] = jobs_of(session, manager)
    assert (job.state, job.rows_total, job.rows_done, job.format) == (ExportJobState.DONE, 5, 5, "csv")
    assert job.started_at is not None
    assert job.finished_at is not None
    assert job.file_name == f"设备台账_{plant_today()}.csv"
    states = [values.get("state") for values in runner.progress if "state" in values]
    assert states == [ExportJobState.RUNNING, ExportJobState.DONE]
    assert [values["rows_done"] for values in runner.progress if set(values) == {"rows_done"}] == [2, 4]
    page = client.get("/exports")
    assert f'data-job-id="{job.id}" data-state="done"' in page.text
    assert f"/exports/{job.id}/download" in page.text
    download = client.get(f"/exports/{job.id}/download")
    assert download.status_code == 200
    assert download.content == expected
    assert "filename*=UTF-8''" in download.headers["content-disposition"]


def test_an_xlsx_job_holds_the_same_rows_as_the_immediate_export(
    client: TestClient,
    session: Session,
    runner: RecordingRunner,
    manager: User,
    assets: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login(client, manager)
    expected = immediate_export(client, monkeypatch, "xlsx")

    client.get("/assets", params={"export": "xlsx"})

    [job] = jobs_of(session, manager)
    produced = client.get(f"/exports/{job.id}/download").content

    def data_sheet(content: bytes) -> pd.DataFrame:
        return pd.read_excel(io.BytesIO(content), sheet_name=1, engine="calamine")

    pd.testing.assert_frame_equal(data_sheet(produced), data_sheet(expected))
    assert list(data_sheet(produced)["位号"]) == assets


def test_only_the_owner_sees_downloads_or_deletes_a_job(
    client: TestClient, session: Session, runner: RecordingRunner, manager: User, assets: list[str]
) -> None:
    login(client, manager)
    client.get("/assets", params={"export": "csv"})
    [job] = jobs_of(session, manager)
    admin = factories.UserFactory(role=Role.ADMIN)
    client.cookies.clear()
    token = login(client, admin)

    assert client.get(f"/exports/{job.id}/download").status_code == 404
    assert client.post(f"/exports/{job.id}/delete", data={"csrf_token": token}).status_code == 404
    assert f'data-job-id="{job.id}"' not in client.get("/exports").text
    assert jobs_of(session, manager) == [job]


def test_asking_again_while_the_job_runs_creates_no_second_job(
    client: TestClient, session: Session, runner: RecordingRunner, manager: User, assets: list[str]
) -> None:
    login(client, manager)
    job = add_job(session, manager, export_jobs.request_key("/assets", [("export", "csv"), ("sort", "tag")]))

    response = client.get("/assets", params={"sort": "tag", "export": "csv"})

    assert response.status_code == 303
    assert jobs_of(session, manager) == [job], "the same list, query and format: the running job"


def test_a_user_may_have_two_exports_running_and_the_third_is_refused_naming_the_limit(
    client: TestClient,
    session: Session,
    runner: RecordingRunner,
    manager: User,
    assets: list[str],
    english: None,
) -> None:
    login(client, manager)
    for key in ("first", "second"):
        add_job(session, manager, key)

    response = client.get("/assets", params={"export": "xlsx"})

    assert response.status_code == 409
    assert "2 exports" in response.text
    assert len(jobs_of(session, manager)) == 2, "no job created"


def test_a_job_that_fails_shows_its_error_on_the_page(
    client: TestClient,
    session: Session,
    runner: RecordingRunner,
    manager: User,
    assets: list[str],
    monkeypatch: pytest.MonkeyPatch,
    english: None,
    exports_dir: Path,
) -> None:
    login(client, manager)

    def broken(self: Any, path: Any, rows: Any = None) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(asset_exports.AssetExport, "write_csv", broken)

    response = client.get("/assets", params={"export": "csv"})

    assert response.status_code == 303
    [job] = jobs_of(session, manager)
    assert job.state == ExportJobState.FAILED
    assert job.error == "The export could not be written (OSError)."
    page = client.get("/exports")
    assert page.status_code == 200
    assert "The export could not be written (OSError)." in page.text
    assert client.get(f"/exports/{job.id}/download").status_code == 404
    assert not export_jobs.job_path(job).exists()
    assert not list(exports_dir.glob("*")), "no partial file left"


def test_a_job_whose_heartbeat_stopped_shows_as_interrupted_and_frees_its_place(
    client: TestClient, session: Session, runner: RecordingRunner, manager: User, english: None
) -> None:
    login(client, manager)
    stale = get_settings().export_job_stale_minutes
    then = utcnow() - timedelta(minutes=stale + 1)
    for key in ("lost", "also lost"):
        add_job(session, manager, key, now=then)
    [lost, _also] = jobs_of(session, manager)

    page = client.get("/exports")

    assert f'data-job-id="{lost.id}" data-state="interrupted"' in page.text
    assert "Interrupted (the server restarted): start it again." in page.text
    assert 'data-live="no"' in page.text, "nothing to wait for: the page stops refreshing"
    assert add_job(session, manager, "new").state == ExportJobState.QUEUED, "interrupted jobs leave room"


class HeldExecutor(Executor):
    """Takes jobs and starts none: every job stays waiting for a worker."""

    def __init__(self) -> None:
        self.cancelled = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return Future()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.cancelled = cancel_futures


def test_at_the_apps_stop_a_job_still_waiting_for_a_worker_is_not_run_but_shown_interrupted(
    client: TestClient, session: Session, runner: RecordingRunner, manager: User, assets: list[str], english: None
) -> None:
    held = runner.executor = HeldExecutor()
    login(client, manager)
    assert client.get("/assets", params={"export": "csv"}, follow_redirects=False).status_code == 303
    [job] = jobs_of(session, manager)

    runner.shutdown()

    assert held.cancelled, "queued work is dropped, not waited for"
    session.refresh(job)
    assert job.state == ExportJobState.FAILED
    page = client.get("/exports")
    assert f'data-job-id="{job.id}" data-state="interrupted"' in page.text
    assert "Interrupted (the server restarted): start it again." in page.text
    assert add_job(session, manager, "new").state == ExportJobState.QUEUED, "it no longer counts"


def test_a_running_job_refreshes_the_page_with_its_progress(
    client: TestClient, session: Session, runner: RecordingRunner, manager: User
) -> None:
    login(client, manager)
    job = add_job(session, manager, "running")
    job.state, job.rows_total, job.rows_done = ExportJobState.RUNNING, 400, 100
    session.flush()

    page = client.get("/exports", headers={"HX-Request": "true"})

    assert 'hx-trigger="every 2s"' in page.text
    assert '<progress class="meter mt-2" max="100" value="25"' in page.text
    assert "<html" not in page.text, "htmx gets the list alone"


def test_jobs_and_files_older_than_a_day_are_removed(session: Session, manager: User) -> None:
    now = utcnow()
    keep = timedelta(hours=get_settings().export_job_keep_hours)
    made = {}
    for name, created_at in (("old", now - keep - timedelta(minutes=1)), ("recent", now - keep + timedelta(minutes=1))):
        job = add_job(session, manager, name, now=created_at)
        export_jobs.job_path(job).parent.mkdir(parents=True, exist_ok=True)
        export_jobs.job_path(job).write_bytes(b"x")
        made[name] = (job.id, export_jobs.job_path(job))

    assert export_jobs.purge_jobs(session, now) == 1
    assert made["old"][1].exists(), "the file stays until the removal is committed"
    session.commit()

    assert session.get(ExportJob, made["old"][0]) is None
    assert not made["old"][1].exists()
    assert session.get(ExportJob, made["recent"][0]) is not None
    assert made["recent"][1].exists()


def test_a_job_removal_rolled_back_keeps_its_file(session: Session, manager: User) -> None:
    job = add_job(session, manager, "kept", state=ExportJobState.DONE)
    path = export_jobs.job_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    session.commit()

    export_jobs.delete_job(session, job)
    session.rollback()

    assert session.get(ExportJob, job.id) is not None
    assert path.exists(), "the job is still there, and so is its download"


def test_a_deleted_jobs_id_is_never_given_to_another_job(session: Session, manager: User) -> None:
    """A deleted job's thread may still be writing the file and progress of its id: a new job of
    another user must not get that id (SQLite would hand out the largest id + 1 again)."""
    first = add_job(session, manager, "first")
    first_id = first.id
    export_jobs.delete_job(session, first)
    session.commit()

    assert add_job(session, factories.UserFactory(role=Role.MANAGER), "second").id != first_id


def test_the_file_of_a_job_deleted_while_it_ran_is_swept(session: Session, manager: User) -> None:
    kept = add_job(session, manager, "kept", state=ExportJobState.DONE)
    folder = export_jobs.job_path(kept).parent
    folder.mkdir(parents=True, exist_ok=True)
    export_jobs.job_path(kept).write_bytes(b"kept")
    orphan = folder / f"{kept.id + 1000}.csv"  # its job row is gone: deleted while it ran
    orphan.write_bytes(b"someone's rows")

    export_jobs.purge_jobs(session, utcnow())
    session.commit()

    assert not orphan.exists()
    assert export_jobs.job_path(kept).exists()


def test_the_page_costs_the_same_queries_for_one_job_or_many(
    client: TestClient, session: Session, manager: User, count_queries: list[str]
) -> None:
    login(client, manager)

    def add_jobs(n: int) -> None:
        for index in range(n):
            add_job(session, manager, f"k{index}-{n}", state=ExportJobState.DONE)

    def queries() -> int:
        count_queries.clear()
        assert client.get("/exports").status_code == 200
        return len(count_queries)

    add_jobs(1)
    one = queries()
    add_jobs(8)
    assert queries() == one


def test_the_scheduler_pass_removes_old_jobs_and_their_files(
    session: Session, manager: User, cli_in_test_session: CliRunner
) -> None:
    old = add_job(session, manager, "old", now=plant_day_start(date(2026, 3, 8)), state=ExportJobState.DONE)
    export_jobs.job_path(old).parent.mkdir(parents=True, exist_ok=True)
    export_jobs.job_path(old).write_bytes(b"x")
    recent = add_job(session, manager, "recent", now=plant_day_start(date(2026, 3, 9)) + timedelta(hours=1))

    result = cli_in_test_session.invoke(cli.app, ["scheduler", "--once", "--today", "2026-03-10"])

    assert result.exit_code == 0, result.output
    assert re.search(r"old export jobs removed\s+│\s+1", result.output), result.output
    assert jobs_of(session, manager) == [recent]
    assert not export_jobs.job_path(old).exists()
