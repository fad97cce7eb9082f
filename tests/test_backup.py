"""``maintenance db backup`` and ``db restore``: one archive with the database, the uploaded files
and a manifest; a restore checks all of it before it changes anything.

The round trip runs the CLI as operators do (a separate process on a SQLite file of its own);
the refusals call :mod:`maintenance.backup` in-process on the same kind of file. With
``MAINTENANCE_TEST_DATABASE_URL`` on PostgreSQL the round trip also runs through pg_dump and
pg_restore.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlmodel import Session

from maintenance import backup
from maintenance.audit.service import SystemActor
from maintenance.cli import alembic_config
from maintenance.db import build_engine, metadata, partition_names
from maintenance.monitoring import service as monitoring
from maintenance.monitoring.choices import ConditionState, Quantity, ReadingSource
from maintenance.monitoring.models import PointCreate, Reading
from maintenance.monitoring.readings.partitions import ensure_reading_partitions
from maintenance.orders.models import PmPlanCreate
from maintenance.orders.pm import service as pm
from maintenance.org.permissions import EVERY_CAPABILITY
from tests import factories
from tests.conftest import scratch_postgresql_database

CLI = [sys.executable, "-m", "maintenance.cli"]
SRC = str(Path(__file__).resolve().parents[1] / "src")
NOW = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n% report\n" + bytes(range(256)) * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"photo" * 100


def one_line(value: str) -> str:
    return " ".join(value.split())


@dataclass
class Plant:
    """A SQLite file, its uploaded files and the environment that points the CLI at them."""

    path: Path
    var_dir: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def files_dir(self) -> Path:
        return self.var_dir / "files"

    def env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAINTENANCE_")}
        env.update({key: value for key, value in os.environ.items() if key == "MAINTENANCE_CLOCK_START"})
        env.update(
            PYTHONPATH=SRC,
            MAINTENANCE_DATABASE_URL=self.url,
            MAINTENANCE_VAR_DIR=str(self.var_dir),
            MAINTENANCE_ENVIRONMENT="test",
            MAINTENANCE_SECRET_KEY=secrets.token_urlsafe(32),
            COLUMNS="200",
        )
        env.update(extra)
        return env

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        # A new machine's plant folder exists before its first command (it is the working directory).
        self.var_dir.parent.mkdir(parents=True, exist_ok=True)
        return subprocess.run(
            [*CLI, *args], capture_output=True, text=True, env=self.env(**extra), cwd=self.var_dir.parent, timeout=300
        )

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.path)) as connection:
            return connection.execute(sql).fetchall()

    def row_counts(self) -> dict[str, int]:
        # SQLite's own tables (sqlite_sequence, kept for AUTOINCREMENT ids) are not the plant's.
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        tables = [name for (name,) in self.rows(query)]
        return {name: self.rows(f'SELECT count(*) FROM "{name}"')[0][0] for name in sorted(tables)}  # noqa: S608

    def dump(self) -> list[str]:
        with closing(sqlite3.connect(self.path)) as connection:
            return list(connection.iterdump())

    def files(self) -> dict[str, bytes]:
        if not self.files_dir.exists():
            return {}
        return {
            path.relative_to(self.files_dir).as_posix(): path.read_bytes()
            for path in sorted(self.files_dir.rglob("*"))
            if path.is_file() and "tmp" not in path.relative_to(self.files_dir).parts
        }

    def restore(self, archive: Path, *, force: bool = False) -> backup.RestoreReport:
        return backup.restore_backup(
            archive, database_url=self.url, files_dir=self.files_dir, alembic_config=alembic_config(), force=force
        )

    def backup(self, archive: Path) -> backup.Manifest:
        return backup.create_backup(archive, database_url=self.url, files_dir=self.files_dir, now=NOW)


def _migrate(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _add_records(engine: Engine, title: str = "月度润滑") -> None:
    """An asset and a PM plan created through the service, so the change log has rows."""
    with Session(engine, expire_on_commit=False) as session:
        factories.bind(session)
        asset = factories.AssetFactory()
        pm.create_plan(
            session,
            PmPlanCreate.model_validate(
                {"asset_id": asset.id, "title": title, "interval": 1, "start_date": date(2026, 3, 10)}
            ),
            actor=SystemActor(username="test", capabilities=EVERY_CAPABILITY),
        )
        session.commit()


def _store(files_dir: Path, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    (files_dir / digest[:2]).mkdir(parents=True, exist_ok=True)
    (files_dir / digest[:2] / digest).write_bytes(content)
    return digest


@pytest.fixture
def plant(tmp_path: Path) -> Plant:
    """A migrated file with records, a change log and two uploaded files (and an upload in progress
    under files/tmp, which is no stored file)."""
    plant = Plant(tmp_path / "plant" / "maintenance.db", tmp_path / "plant" / "var")
    engine = build_engine(plant.url)
    try:
        _migrate(engine)
        _add_records(engine)
    finally:
        engine.dispose()
    _store(plant.files_dir, PDF)
    _store(plant.files_dir, PNG)
    (plant.files_dir / "tmp").mkdir()
    (plant.files_dir / "tmp" / "upload-in-progress").write_bytes(b"half")
    return plant


@pytest.fixture
def empty(tmp_path: Path) -> Plant:
    """Where a restore goes on a new machine: no database file, no files yet."""
    return Plant(tmp_path / "new" / "maintenance.db", tmp_path / "new" / "var")


# --- The round trip, as operators run it ----------------------------------------------------


def test_backup_wipe_restore_gives_back_the_same_rows_files_and_a_verified_change_log(
    plant: Plant, tmp_path: Path
) -> None:
    counts, dump, files = plant.row_counts(), plant.dump(), plant.files()
    assert counts["object_change"] >= 2
    assert len(files) == 2
    archive = tmp_path / "nightly.tar.gz"

    made = plant.run("db", "backup", str(archive))

    assert made.returncode == 0, made.stderr
    assert "2 uploaded files" in one_line(made.stdout)
    with tarfile.open(archive) as opened:
        names = opened.getnames()
        manifest = json.loads(opened.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert sorted(names) == sorted(["database.sqlite", "manifest.json", *(f"files/{name}" for name in files)])
    assert manifest["engine"] == "sqlite"
    assert manifest["format_version"] == backup.FORMAT_VERSION
    assert manifest["alembic_revision"] == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert manifest["tables"] == counts
    assert {name: entry["sha256"] for name, entry in manifest["members"].items() if name.startswith("files/")} == {
        f"files/{name}": hashlib.sha256(content).hexdigest() for name, content in files.items()
    }
    assert not list(tmp_path.glob(".*")), "no partial archive or staging folder is left behind"

    plant.path.unlink()
    shutil.rmtree(plant.files_dir)
    restored = plant.run("db", "restore", str(archive))

    assert restored.returncode == 0, restored.stderr
    assert "match the manifest" in one_line(restored.stdout)
    assert plant.row_counts() == counts
    assert plant.dump() == dump
    assert plant.files() == files
    verified = plant.run("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert f"{counts['object_change']} rows verified" in one_line(verified.stdout)


def test_a_plain_tar_backup_restores_into_a_new_machine(plant: Plant, empty: Plant, tmp_path: Path) -> None:
    archive = tmp_path / "copy.tar"
    manifest = plant.backup(archive)

    report = empty.restore(archive)

    assert manifest.tables == plant.row_counts() == empty.row_counts() == report.tables
    assert report.upgraded_to is None
    assert empty.files() == plant.files()
    assert empty.run("audit", "verify").returncode == 0


def test_a_backup_runs_while_a_writer_holds_the_database_and_takes_what_is_committed(
    plant: Plant, empty: Plant, tmp_path: Path
) -> None:
    """The app is not stopped: a transaction writing meanwhile neither blocks the backup nor
    lands half in it."""
    committed = plant.row_counts()
    with closing(sqlite3.connect(plant.path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE pm_plan SET title = 'uncommitted'")
        writer.execute("DELETE FROM object_change")
        archive = tmp_path / "online.tar"

        manifest = plant.backup(archive)

        writer.execute("ROLLBACK")
    assert manifest.tables == committed
    empty.restore(archive)
    assert empty.rows("SELECT title FROM pm_plan") == [("月度润滑",)]


def test_restore_refuses_a_database_holding_data_unless_forced(plant: Plant, tmp_path: Path) -> None:
    archive = tmp_path / "before.tar"
    plant.backup(archive)
    engine = build_engine(plant.url)
    try:
        _add_records(engine, title="密封冲洗")
    finally:
        engine.dispose()
    after_edit = plant.dump()

    refused = plant.run("db", "restore", str(archive))

    assert refused.returncode == 1
    message = one_line(refused.stderr)
    assert "not empty" in message
    assert "--force" in message
    assert "nothing was changed" in message
    assert plant.dump() == after_edit

    forced = plant.run("db", "restore", "--force", str(archive))

    assert forced.returncode == 0, forced.stderr
    assert plant.rows("SELECT title FROM pm_plan") == [("月度润滑",)]
    assert plant.run("audit", "verify").returncode == 0


def test_the_archive_is_readable_by_its_owner_only(plant: Plant, tmp_path: Path) -> None:
    """It holds the password and token hashes: not world-readable whatever the umask, even over a
    crashed run's leftover."""
    archive = tmp_path / "private.tar.gz"
    leftover = tmp_path / ".private.tar.gz.part"
    leftover.write_bytes(b"half")
    leftover.chmod(0o644)
    umask = os.umask(0o022)
    try:
        plant.backup(archive)
    finally:
        os.umask(umask)
    assert archive.stat().st_mode & 0o777 == 0o600
    assert not leftover.exists()


def test_restore_is_refused_while_another_process_has_the_database_open(plant: Plant, tmp_path: Path) -> None:
    """The app, the scheduler or the ingest still connected (even idle) would write on into the
    replaced file: the restore says to stop them and changes nothing."""
    archive = tmp_path / "before.tar"
    plant.backup(archive)
    before = plant.dump()
    with closing(sqlite3.connect(plant.path)) as app:
        assert app.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        app.execute("SELECT count(*) FROM pm_plan").fetchall()  # connected, idle

        refused = plant.run("db", "restore", "--force", str(archive))

        assert refused.returncode == 1
        message = one_line(refused.stderr)
        assert "is in use" in message
        assert "stop the app, the scheduler and the MQTT ingest first" in message
        assert app.execute("SELECT count(*) FROM pm_plan").fetchone() == (1,)
        app.execute("UPDATE pm_plan SET title = 'still written'")
        app.commit()
    assert plant.rows("SELECT title FROM pm_plan") == [("still written",)]
    assert plant.dump() != before

    restored = plant.run("db", "restore", "--force", str(archive))  # everything stopped

    assert restored.returncode == 0, restored.stderr
    assert plant.dump() == before


def test_the_restored_file_keeps_the_live_files_owner_and_mode(plant: Plant, tmp_path: Path) -> None:
    archive = tmp_path / "before.tar"
    plant.backup(archive)
    plant.path.chmod(0o640)
    owner = (4321, 4321) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(plant.path, *owner)
    umask = os.umask(0o022)
    try:
        plant.restore(archive, force=True)
    finally:
        os.umask(umask)
    status = plant.path.stat()
    assert (status.st_mode & 0o777, status.st_uid, status.st_gid) == (0o640, *owner)
    assert plant.rows("SELECT title FROM pm_plan") == [("月度润滑",)]


def test_a_freshly_migrated_database_counts_as_empty(plant: Plant, empty: Plant, tmp_path: Path) -> None:
    """`db upgrade` before a restore writes only the migrations' reference rows: no --force needed."""
    archive = tmp_path / "b.tar"
    plant.backup(archive)
    engine = build_engine(empty.url)
    try:
        _migrate(engine)
    finally:
        engine.dispose()

    empty.restore(archive)

    assert empty.row_counts() == plant.row_counts()


def test_an_older_backup_is_restored_and_migrated_to_head(empty: Plant, tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    old = Plant(tmp_path / "old" / "maintenance.db", tmp_path / "old" / "var")
    engine = build_engine(old.url)
    try:
        _migrate(engine, previous)
    finally:
        engine.dispose()
    archive = tmp_path / "old.tar"
    assert old.backup(archive).revision == previous

    report = empty.restore(archive)

    assert report.upgraded_to == head
    assert empty.rows("SELECT version_num FROM alembic_version") == [(head,)]


# --- Refusals: a damaged or foreign archive changes nothing ---------------------------------


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as opened:
        return {info.name: opened.extractfile(info).read() for info in opened if info.isfile()}  # type: ignore[union-attr]


def _write(archive: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(archive, "w") as opened:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            opened.addfile(info, io.BytesIO(content))


def _rewritten(source: Path, target: Path, edit: Callable[[dict[str, Any], dict[str, bytes]], None]) -> Path:
    """The archive with its manifest (and members) edited, hashes kept consistent."""
    members = _members(source)
    manifest = json.loads(members.pop("manifest.json"))
    edit(manifest, members)
    manifest["members"] = {
        name: {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()} for name, content in members.items()
    }
    _write(target, {**members, "manifest.json": json.dumps(manifest).encode()})
    return target


@pytest.fixture
def archive(plant: Plant, tmp_path: Path) -> Path:
    path = tmp_path / "good.tar"
    plant.backup(path)
    return path


def _refused(target: Plant, archive: Path, *, force: bool = False) -> str:
    """The refusal's message, after checking that the target was left as it was."""
    before = (target.dump() if target.path.exists() else None, target.files())
    with pytest.raises(backup.BackupFailed) as refused:
        target.restore(archive, force=force)
    after = (target.dump() if target.path.exists() else None, target.files())
    assert after == before, "a refused restore changes nothing"
    leftovers = [path for path in target.path.parent.rglob("*") if path.name.lstrip(".").startswith("restore-")]
    assert leftovers == [], "no staging file is left behind"
    return str(refused.value)


def test_a_damaged_member_is_refused_before_anything_changes(archive: Path, empty: Plant, plant: Plant) -> None:
    members = _members(archive)
    damaged = bytearray(members["database.sqlite"])
    damaged[len(damaged) // 2] ^= 0xFF
    _write(archive, {**members, "database.sqlite": bytes(damaged)})

    assert "database.sqlite in the archive is damaged" in _refused(empty, archive)
    assert not empty.path.exists()
    assert "database.sqlite in the archive is damaged" in _refused(plant, archive, force=True)


@pytest.mark.parametrize("suffix", [".tar", ".tar.gz"])
def test_a_truncated_or_foreign_file_is_refused(suffix: str, plant: Plant, empty: Plant, tmp_path: Path) -> None:
    archive = tmp_path / f"cut{suffix}"
    plant.backup(archive)
    content = archive.read_bytes()
    archive.write_bytes(content[: len(content) // 2])
    for target, force in ((empty, False), (plant, True)):
        message = _refused(target, archive, force=force)
        assert "the archive has no manifest.json" in message or "is damaged" in message

    foreign = tmp_path / f"notes{suffix}"
    foreign.write_bytes(b"not an archive at all")
    assert "is not a readable backup archive" in _refused(empty, foreign)


def test_a_member_the_manifest_does_not_list_is_refused(archive: Path, empty: Plant, tmp_path: Path) -> None:
    members = _members(archive)
    _write(archive, {"../../outside": b"x", **members})

    assert "'../../outside', which its manifest does not list" in _refused(empty, archive)
    assert not (tmp_path / "outside").exists()


def test_a_backup_of_another_engine_is_refused(archive: Path, empty: Plant, tmp_path: Path) -> None:
    def as_postgresql(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["engine"] = "postgresql"
        members["database.pgdump"] = members.pop("database.sqlite")

    foreign = _rewritten(archive, tmp_path / "pg.tar", as_postgresql)

    assert "the backup is of a postgresql database and the configured database is sqlite" in _refused(empty, foreign)


def test_a_backup_of_a_newer_schema_is_refused(archive: Path, empty: Plant, tmp_path: Path) -> None:
    def newer(manifest: dict[str, Any], _members: dict[str, bytes]) -> None:
        manifest["alembic_revision"] = "ffffffffffff"

    message = _refused(empty, _rewritten(archive, tmp_path / "newer.tar", newer))

    assert "revision ffffffffffff" in message
    assert "newer than this version" in message


def test_row_counts_that_differ_from_the_manifest_are_refused(archive: Path, plant: Plant, tmp_path: Path) -> None:
    def one_plan_more(manifest: dict[str, Any], _members: dict[str, bytes]) -> None:
        manifest["tables"]["pm_plan"] += 1

    message = _refused(plant, _rewritten(archive, tmp_path / "counts.tar", one_plan_more), force=True)

    assert "pm_plan: 2 in the manifest, 1 restored" in message


def test_a_newer_archive_format_is_refused(archive: Path, empty: Plant, tmp_path: Path) -> None:
    def future(manifest: dict[str, Any], _members: dict[str, bytes]) -> None:
        manifest["format_version"] = backup.FORMAT_VERSION + 1

    assert "backup format 2" in _refused(empty, _rewritten(archive, tmp_path / "future.tar", future))


def test_backup_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(backup.BackupFailed, match="no database file"):
        backup.create_backup(
            tmp_path / "b.tar", database_url=f"sqlite:///{tmp_path / 'none.db'}", files_dir=tmp_path, now=NOW
        )
    with pytest.raises(backup.BackupFailed, match="does not exist"):
        backup.create_backup(
            tmp_path / "no" / "b.tar", database_url=f"sqlite:///{tmp_path / 'none.db'}", files_dir=tmp_path, now=NOW
        )
    assert not (tmp_path / "b.tar").exists()


def test_pg_dump_missing_from_path_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(backup.BackupFailed, match="pg_dump is not on PATH"):
        backup.create_backup(
            tmp_path / "b.tar", database_url="postgresql+psycopg://u:p@127.0.0.1:1/x", files_dir=tmp_path, now=NOW
        )


def test_the_password_goes_to_pg_tools_by_environment_not_argument() -> None:
    conninfo, environment = backup.libpq_connection(
        "postgresql+psycopg://plant:s3cret@db.local:5433/mnt?sslmode=require"
    )

    assert conninfo == "postgresql://plant@db.local:5433/mnt?sslmode=require"
    assert environment["PGPASSWORD"] == "s3cret"


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def empty_postgresql() -> Iterator[str]:
    """A new, empty database on the test server, as `createdb` gives."""
    with scratch_postgresql_database("mt_restore") as url:
        yield url


def _pg_counts(url: str) -> dict[str, int]:
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return backup._table_counts(connection)
    finally:
        engine.dispose()


def _pg_readings(url: str) -> tuple[set[str], list[tuple[Any, ...]]]:
    """The readings' partitions and rows (each with the partition it is in)."""
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT tableoid::regclass::text, point_id, taken_at, value FROM reading ORDER BY point_id, taken_at"
            )
            return partition_names(connection), [tuple(row) for row in rows]
    finally:
        engine.dispose()


def _partitions_ahead(url: str, today: date) -> list[str]:
    """The readings' partitions of the years to come, as of ``today`` (those created)."""
    engine = build_engine(url)
    try:
        with Session(engine) as session:
            created = ensure_reading_partitions(session, today).created
            session.commit()
            return created
    finally:
        engine.dispose()


def _add_readings(engine: Engine) -> None:
    """Readings of 2025 and 2026 (in the DEFAULT partition of a database just migrated)."""
    with Session(engine) as session:
        factories.bind(session)
        data = {"code": "P-1", "asset_id": factories.AssetFactory().id, "name": "振动", "quantity": Quantity.VIBRATION}
        point = monitoring.create_point(
            session, PointCreate.model_validate(data), actor=SystemActor(username="test", capabilities=EVERY_CAPABILITY)
        )
        for taken_at in (datetime(2025, 3, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)):
            session.add(
                Reading(
                    point_id=point.id,
                    taken_at=taken_at,
                    value=2.5,
                    state=ConditionState.NORMAL,
                    source=ReadingSource.API,
                )
            )
        session.commit()


def test_postgresql_round_trip_through_pg_dump_and_pg_restore(
    committed_postgresql: Engine, empty_postgresql: str, tmp_path: Path
) -> None:
    """With the readings partitioned by year: the same partitions and rows come back."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not on PATH")
    _add_records(committed_postgresql)
    _add_readings(committed_postgresql)
    source_url = committed_postgresql.url.render_as_string(hide_password=False)
    source = Plant(tmp_path / "unused.db", tmp_path / "source" / "var")
    assert _partitions_ahead(source_url, date(2025, 6, 1)) == ["reading_2025", "reading_2026", "reading_2027"]
    counts = _pg_counts(source_url)
    assert set(counts) == {*metadata.tables, "alembic_version"}, "the partitioned table counts for its partitions"
    readings = _pg_readings(source_url)
    _store(source.files_dir, PDF)
    archive = tmp_path / "pg.tar.gz"

    made = source.run("db", "backup", str(archive), MAINTENANCE_DATABASE_URL=source_url)
    assert made.returncode == 0, made.stderr

    target = Plant(tmp_path / "unused.db", tmp_path / "target" / "var")
    restored = target.run("db", "restore", str(archive), MAINTENANCE_DATABASE_URL=empty_postgresql)
    assert restored.returncode == 0, restored.stderr
    assert _pg_counts(empty_postgresql) == counts
    assert _pg_readings(empty_postgresql) == readings
    assert target.files() == source.files()
    verified = target.run("audit", "verify", MAINTENANCE_DATABASE_URL=empty_postgresql)
    assert verified.returncode == 0, verified.stderr

    again = target.run("db", "restore", str(archive), MAINTENANCE_DATABASE_URL=empty_postgresql)
    assert again.returncode == 1
    assert "--force" in one_line(again.stderr)
    # Meanwhile the target made the partitions of later years, which the backup does not have.
    assert "reading_2033" in _partitions_ahead(empty_postgresql, date(2031, 6, 1))
    forced = target.run("db", "restore", "--force", str(archive), MAINTENANCE_DATABASE_URL=empty_postgresql)
    assert forced.returncode == 0, forced.stderr
    assert _pg_counts(empty_postgresql) == counts
    assert _pg_readings(empty_postgresql) == readings
