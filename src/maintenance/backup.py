"""Backups of the database and the uploaded files in one archive, and their restore.

An archive (``.tar``, or ``.tar.gz``/``.tgz`` compressed) holds:

- the database: ``database.sqlite``, a copy taken with SQLite's online backup API (the app keeps
  running; in WAL mode the copy reads one snapshot and blocks no writer), or ``database.pgdump``,
  ``pg_dump --format=custom`` of one exported snapshot;
- ``files/ab/abcdef…``: the uploaded files (:mod:`maintenance.files`), copied *after* the database
  snapshot. Stored files are named by their SHA-256 and never rewritten or removed, so every file
  the snapshot's rows name is there; a file uploaded meanwhile is carried along unreferenced;
- ``manifest.json`` (last): format version, engine, Alembic revision, creation time, the row count
  of every table in the snapshot, and the size and SHA-256 of every other member.

A restore reads and checks the whole archive before it changes anything: the manifest, every
member against its hash, the engine, the revision (the code's head or older; a newer one is
refused), and that the target holds no data unless forced. On SQLite the database is rebuilt in
a temporary file beside the live one (checked, counted against the manifest, migrated to head)
and renamed over it; on PostgreSQL ``pg_restore --single-transaction`` replaces it all or nothing,
then the counts are checked and the schema migrated. Stop the app and the scheduler first.

Nothing here reads the clock: the caller passes ``now``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, table
from sqlalchemy.engine import URL, make_url

from maintenance.db import build_engine, partition_names

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

FORMAT = "maintenance-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
_BLOB = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}")
_BLOB_MEMBER = re.compile(r"files/([0-9a-f]{2})/([0-9a-f]{64})")
# Every create, update and delete of a business record writes a change-log row, so a database
# whose change log is empty holds no business data (the reference rows the migrations insert aside).
CHANGE_LOG_TABLE = "object_change"
_CHUNK = 1024 * 1024

EngineName = Literal["sqlite", "postgresql"]
# (what is being done, units done, units in all or None when unknown)
Progress = Callable[[str, int, int | None], None]


class BackupFailed(Exception):
    """A backup or restore that could not be done; the message says why. ``changed`` says whether
    the database was changed before the failure (only a PostgreSQL restore whose row counts then
    disagree with the manifest: ``pg_restore`` had committed)."""

    def __init__(self, message: str, *, changed: bool = False) -> None:
        super().__init__(message)
        self.changed = changed


@dataclass(frozen=True)
class Member:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    engine: EngineName
    revision: str
    created_at: str
    tables: dict[str, int]
    members: dict[str, Member]

    def as_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "engine": self.engine,
            "alembic_revision": self.revision,
            "created_at": self.created_at,
            "tables": self.tables,
            "members": {name: {"size": m.size, "sha256": m.sha256} for name, m in self.members.items()},
        }
        return json.dumps(document, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            document = json.loads(data)
            if document.get("format") != FORMAT:
                raise BackupFailed("the archive's manifest is not a maintenance backup's")
            version = document["format_version"]
            if not isinstance(version, int) or version > FORMAT_VERSION:
                raise BackupFailed(
                    f"the archive has backup format {version}; this version of the application reads "
                    f"up to {FORMAT_VERSION}: restore it with the version that wrote it"
                )
            engine = document["engine"]
            if engine not in DATABASE_MEMBERS:
                raise BackupFailed(f"the archive holds an unknown database engine {engine!r}")
            return cls(
                engine=engine,
                revision=str(document["alembic_revision"]),
                created_at=str(document["created_at"]),
                tables={str(name): int(count) for name, count in document["tables"].items()},
                members={
                    str(name): Member(int(entry["size"]), str(entry["sha256"]))
                    for name, entry in document["members"].items()
                },
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupFailed(f"the archive's manifest is damaged ({error})") from None

    @property
    def database_member(self) -> str:
        return DATABASE_MEMBERS[self.engine]

    @property
    def file_count(self) -> int:
        return sum(1 for name in self.members if name.startswith("files/"))


@dataclass
class RestoreReport:
    manifest: Manifest
    upgraded_to: str | None  # the head, when the backup's revision was older
    tables: dict[str, int] = field(default_factory=dict)


def engine_of(database_url: str) -> EngineName:
    backend = make_url(database_url).get_backend_name()
    if backend not in DATABASE_MEMBERS:
        raise BackupFailed(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend  # type: ignore[return-value]


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupFailed("the SQLite database must be a file to back it up or restore it")
    return Path(database)


def _compressed(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz"))


def _noop(_what: str, _done: int, _total: int | None) -> None:
    return None


# --- Backup ------------------------------------------------------------------------------


def create_backup(
    target: Path, *, database_url: str, files_dir: Path, now: datetime, progress: Progress = _noop
) -> Manifest:
    """Write the database and the uploaded files to the archive ``target`` (through a temporary
    name, renamed when complete) and return its manifest."""
    if not target.parent.is_dir():
        raise BackupFailed(f"directory {str(target.parent)!r} does not exist")
    if not target.name.endswith((".tar", ".tar.gz", ".tgz")):
        raise BackupFailed("name the backup FILE.tar or FILE.tar.gz")
    engine = engine_of(database_url)
    member = DATABASE_MEMBERS[engine]
    partial = target.with_name(f".{target.name}.part")
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=target.parent) as staging:
        dump = Path(staging) / member
        if engine == "sqlite":
            revision, tables = _snapshot_sqlite(_sqlite_path(database_url), dump, progress)
        else:
            revision, tables = _dump_postgresql(database_url, dump, progress)
        blobs = sorted(_stored_blobs(files_dir))
        partial.unlink(missing_ok=True)  # a crashed run's leftover: created anew, private
        try:
            # Only its owner may read it: the database holds password and token hashes.
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with (
                os.fdopen(descriptor, "wb") as written,
                tarfile.open(fileobj=written, mode="w:gz" if _compressed(target) else "w") as archive,
            ):
                members = {member: _add(archive, dump, member)}
                for index, (name, path) in enumerate(blobs, start=1):
                    members[name] = _add(archive, path, name)
                    progress("archiving uploaded files", index, len(blobs))
                manifest = Manifest(engine, revision, now.isoformat(), tables, members)
                data = manifest.as_json()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                archive.addfile(info, io.BytesIO(data))
            with partial.open("rb") as complete:
                os.fsync(complete.fileno())
            partial.replace(target)  # all or nothing: no half-written archive under the real name
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _snapshot_sqlite(source: Path, copy: Path, progress: Progress) -> tuple[str, dict[str, int]]:
    if not source.is_file():
        raise BackupFailed(f"there is no database file at {source}")
    progress("copying the database", 0, None)
    # One step (pages=-1): the copy reads a single snapshot; in WAL mode writers go on meanwhile.
    with closing(sqlite3.connect(source, timeout=30)) as live, closing(sqlite3.connect(copy)) as snapshot:
        live.backup(snapshot, pages=-1)
        snapshot.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    with _plain_engine(f"sqlite:///{copy}") as engine, engine.connect() as connection:
        return _revision(connection), _table_counts(connection)


def _dump_postgresql(database_url: str, dump: Path, progress: Progress) -> tuple[str, dict[str, int]]:
    """``pg_dump`` of a snapshot exported by a transaction that counts the rows of the same
    snapshot, so the manifest describes exactly what was dumped."""
    pg_dump = _tool("pg_dump")
    progress("dumping the database", 0, None)
    with (
        _plain_engine(database_url) as engine,
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection,
    ):
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        _run_tool(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dump}", "--no-password"],
            database_url,
        )
        result = _revision(connection), _table_counts(connection)
        connection.rollback()
    return result


def _stored_blobs(files_dir: Path) -> Iterator[tuple[str, Path]]:
    """(member name, path) of every stored upload; temporary files of uploads in progress aside."""
    if not files_dir.is_dir():
        return
    for path in files_dir.glob("??/*"):
        relative = path.relative_to(files_dir).as_posix()
        if _BLOB.fullmatch(relative) and path.is_file() and not path.is_symlink():
            yield f"files/{relative}", path


class _HashingReader:
    """Reads a file for tarfile while hashing what it reads."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.digest.update(chunk)
        return chunk


def _add(archive: tarfile.TarFile, path: Path, name: str) -> Member:
    info = archive.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as handle:
        reader = _HashingReader(handle)
        archive.addfile(info, reader)  # type: ignore[arg-type]
    return Member(info.size, reader.digest.hexdigest())


# --- Restore -----------------------------------------------------------------------------


def restore_backup(
    source: Path,
    *,
    database_url: str,
    files_dir: Path,
    alembic_config: AlembicConfig,
    force: bool = False,
    progress: Progress = _noop,
) -> RestoreReport:
    """Replace the database and add the uploaded files from the archive ``source``. Raises
    :class:`BackupFailed`, having changed nothing, when the archive is damaged or does not fit."""
    engine = engine_of(database_url)
    if not source.is_file():
        raise BackupFailed(f"no such file: {source}")
    with _open_archive(source) as archive:
        manifest = _read_manifest(archive)
        if manifest.engine != engine:
            raise BackupFailed(
                f"the backup is of a {manifest.engine} database and the configured database is {engine}: "
                "restore it into the same kind of database"
            )
        head = _check_revision(manifest.revision, alembic_config)
        _check_target(database_url, engine, manifest, force)
        files_dir.mkdir(parents=True, exist_ok=True)
        (files_dir / "tmp").mkdir(exist_ok=True)
        database_dir = _sqlite_path(database_url).parent if engine == "sqlite" else files_dir / "tmp"
        database_dir.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix="restore-", dir=files_dir / "tmp") as blob_staging,
            tempfile.TemporaryDirectory(prefix=".restore-", dir=database_dir) as database_staging,
        ):
            staged = _extract_verified(archive, manifest, Path(blob_staging), Path(database_staging), progress)
            upgraded_to = None if manifest.revision == head else head
            if engine == "sqlite":
                tables = _restore_sqlite(staged, manifest, alembic_config, upgraded_to, progress)
                live = _sqlite_path(database_url)
                with _sqlite_taken(live, staged):
                    _place_blobs(Path(blob_staging), files_dir, progress)
                    os.replace(staged, live)
            else:
                _place_blobs(Path(blob_staging), files_dir, progress)
                tables = _restore_postgresql(staged, manifest, database_url, alembic_config, upgraded_to, progress)
    return RestoreReport(manifest, upgraded_to, tables)


@contextmanager
def _open_archive(source: Path) -> Iterator[tarfile.TarFile]:
    try:
        archive = tarfile.open(source, "r:*")  # noqa: SIM115 (closed below: opening is what may fail)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise BackupFailed(f"{source} is not a readable backup archive ({error})") from None
    with archive:
        try:
            yield archive
        except (tarfile.TarError, EOFError, zlib.error) as error:
            raise BackupFailed(f"{source} is damaged ({error or type(error).__name__})") from None


def _read_manifest(archive: tarfile.TarFile) -> Manifest:
    try:
        info = archive.getmember(MANIFEST)
    except KeyError:
        raise BackupFailed(f"the archive has no {MANIFEST}: it is not a complete backup") from None
    handle = archive.extractfile(info)
    if handle is None:
        raise BackupFailed(f"the archive's {MANIFEST} is not a file")
    manifest = Manifest.from_json(handle.read())
    if manifest.database_member not in manifest.members:
        raise BackupFailed("the archive's manifest lists no database")
    for name in manifest.members:
        if name != manifest.database_member and not _BLOB_MEMBER.fullmatch(name):
            raise BackupFailed(f"the archive's manifest lists an unexpected member {name!r}")
    return manifest


def _check_revision(revision: str, config: AlembicConfig) -> str:
    """The code's head; refuses a revision this code does not know (a newer schema)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    assert head is not None
    known = {entry.revision for entry in script.walk_revisions("base", head)}
    if revision not in known:
        raise BackupFailed(
            f"the backup's schema (revision {revision}) is newer than this version of the application "
            f"knows (head {head}): restore it with the version that wrote it, or upgrade the application first"
        )
    return head


def _check_target(database_url: str, engine: EngineName, manifest: Manifest, force: bool) -> None:
    if engine == "sqlite" and not _sqlite_path(database_url).exists():
        return
    with _plain_engine(database_url) as target, target.connect() as connection:
        names = _tables(connection)
        if CHANGE_LOG_TABLE in names:
            rows = _count(connection, CHANGE_LOG_TABLE)
        else:
            rows = sum(_count(connection, name) for name in names if name != "alembic_version")
        if engine == "postgresql":
            extra = sorted(names - set(manifest.tables))
            if extra:
                raise BackupFailed(
                    f"the database has tables the backup does not ({', '.join(extra[:5])}…: a newer schema); "
                    "restore into an empty database (dropdb and createdb)"
                )
    if rows and not force:
        raise BackupFailed(
            f"the database is not empty ({rows:,} rows of change log or data): pass --force to replace it "
            "with the backup (take a backup of it first)"
        )


def _extract_verified(
    archive: tarfile.TarFile, manifest: Manifest, blobs: Path, database_dir: Path, progress: Progress
) -> Path:
    """Every member written to the staging folders and checked against the manifest (size and
    SHA-256); the staged database's path. Only regular files with expected names are read:
    nothing in the archive chooses where a byte is written."""
    seen: set[str] = set()
    total = len(manifest.members)
    database = database_dir / manifest.database_member
    for info in archive:
        if info.name == MANIFEST:
            continue
        expected = manifest.members.get(info.name)
        if expected is None or not info.isfile() or info.name in seen:
            raise BackupFailed(f"the archive holds {info.name!r}, which its manifest does not list")
        match = _BLOB_MEMBER.fullmatch(info.name)
        if match:
            (blobs / match[1]).mkdir(exist_ok=True)
            destination = blobs / match[1] / match[2]
        else:
            destination = database
        handle = archive.extractfile(info)
        assert handle is not None
        digest = hashlib.sha256()
        size = 0
        with destination.open("wb") as target:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        if size != expected.size or digest.hexdigest() != expected.sha256:
            raise BackupFailed(f"{info.name} in the archive is damaged: its content does not match the manifest")
        if match and match[2] != expected.sha256:
            raise BackupFailed(f"{info.name} in the archive is not the file its name says")
        seen.add(info.name)
        progress("checking the archive", len(seen), total)
    missing = sorted(set(manifest.members) - seen)
    if missing:
        raise BackupFailed(f"the archive is incomplete: {len(missing)} members missing, e.g. {missing[0]}")
    return database


def _place_blobs(staging: Path, files_dir: Path, progress: Progress) -> None:
    """Move the staged uploads into the store (each by an atomic rename); files already there
    are the same bytes (named by their hash) and stay."""
    staged = [path for path in staging.glob("??/*") if path.is_file()]
    for index, path in enumerate(staged, start=1):
        target = files_dir / path.parent.name / path.name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        progress("restoring uploaded files", index, len(staged))


def _restore_sqlite(
    staged: Path, manifest: Manifest, config: AlembicConfig, upgrade_to: str | None, progress: Progress
) -> dict[str, int]:
    """Check the staged copy (integrity, row counts) and migrate it; the live file is untouched."""
    progress("checking the database", 0, None)
    try:
        with closing(sqlite3.connect(staged)) as connection:
            [(verdict,)] = connection.execute("PRAGMA integrity_check(1)").fetchall()
    except sqlite3.DatabaseError as error:
        raise BackupFailed(f"the database in the archive is damaged ({error})") from None
    if verdict != "ok":
        raise BackupFailed(f"the database in the archive is damaged ({verdict})")
    with _plain_engine(f"sqlite:///{staged}") as engine, engine.connect() as connection:
        tables = _table_counts(connection)
    _compare_counts(manifest.tables, tables)
    if upgrade_to is not None:
        progress(f"upgrading the schema to {upgrade_to}", 0, None)
        _upgrade(build_engine(f"sqlite:///{staged}"), config)
    return tables


@contextmanager
def _sqlite_taken(live: Path, staged: Path) -> Iterator[None]:
    """The live file, held for the rebuilt one to be renamed over it in the block: the staged file
    gets the live one's owner and mode, and the live one's write-ahead log is checkpointed into it
    and removed (left beside the new file it would be replayed into it). Refused, with nothing
    changed, while another process (the app, the scheduler, the MQTT ingest) has the database
    open: its writes would go on into the replaced file, and be lost."""
    if not live.exists():
        yield
        return
    _take_owner_and_mode(staged, live)
    in_use = BackupFailed(
        f"the database {live} is in use: stop the app, the scheduler and the MQTT ingest first, "
        "then restore again (nothing was changed)"
    )
    with closing(sqlite3.connect(live, timeout=5, isolation_level=None)) as connection:
        try:
            [(busy, _log, _moved)] = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            if busy:
                raise in_use
            # Leaving WAL mode needs every other connection closed, even an idle one; it removes
            # the -wal and -shm files. The exclusive lock then keeps newcomers out until the swap.
            [(mode,)] = connection.execute("PRAGMA journal_mode=DELETE").fetchall()
            if mode != "delete":
                raise in_use
            connection.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError:
            raise in_use from None
        for suffix in ("-wal", "-shm"):
            with suppress(FileNotFoundError):
                os.remove(f"{live}{suffix}")
        yield


def _take_owner_and_mode(staged: Path, live: Path) -> None:
    """The rebuilt file as the live one was: the same owner, group and permissions (not the
    restoring user's and umask), so the app can still write it and no one else read it."""
    status, current = live.stat(), staged.stat()
    if (status.st_uid, status.st_gid) != (current.st_uid, current.st_gid):
        try:
            os.chown(staged, status.st_uid, status.st_gid)
        except PermissionError:
            raise BackupFailed(
                f"the database {live} belongs to user id {status.st_uid}, group id {status.st_gid}: restore as "
                "that user (or root), so that the app can still write it (nothing was changed)"
            ) from None
    os.chmod(staged, stat.S_IMODE(status.st_mode))


def _restore_postgresql(
    staged: Path,
    manifest: Manifest,
    database_url: str,
    config: AlembicConfig,
    upgrade_to: str | None,
    progress: Progress,
) -> dict[str, int]:
    pg_restore = _tool("pg_restore")
    progress("restoring the database", 0, None)
    order = staged.with_name("restore-order.list")
    order.write_text(_restore_order(_run_tool([pg_restore, "--list", str(staged)], None)), encoding="utf-8")
    _run_tool(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            "--no-password",
            f"--use-list={order}",
            str(staged),
        ],
        database_url,
    )
    with _plain_engine(database_url) as engine:
        with engine.connect() as connection:
            tables = _table_counts(connection)
        _compare_counts(manifest.tables, tables, changed=True)
        if upgrade_to is not None:
            progress(f"upgrading the schema to {upgrade_to}", 0, None)
            _upgrade(engine, config)
    return tables


_CONSTRAINT_ENTRY = re.compile(r"\d+; \d+ \d+ CONSTRAINT (\S+ \S+) ")
_PARTITION_ENTRY = re.compile(r"\d+; \d+ \d+ TABLE ATTACH (\S+ \S+) ")


def _restore_order(listing: str) -> str:
    """The dump's table of contents (``pg_restore --list``) with the constraints of partitions
    moved before every other constraint. With ``--clean`` pg_restore drops the objects in the
    reverse of this order, and PostgreSQL refuses to drop a partition's primary key while it is
    attached to its table's (``reading_2026_pkey`` to ``pk_reading``): dropped after the table's,
    it has gone with it (the drop is IF EXISTS). Created in this order all is as valid: each
    partition's key alone, then the table's (ONLY), then the attaching (INDEX ATTACH entries)."""
    lines = listing.splitlines()
    partitions = {match[1] for line in lines if (match := _PARTITION_ENTRY.match(line))}

    def of_a_partition(line: str) -> bool:
        match = _CONSTRAINT_ENTRY.match(line)
        return match is not None and match[1] in partitions

    moved = [line for line in lines if of_a_partition(line)]
    rest = [line for line in lines if not of_a_partition(line)]
    first = next((i for i, line in enumerate(rest) if _CONSTRAINT_ENTRY.match(line)), len(rest))
    return "\n".join([*rest[:first], *moved, *rest[first:]]) + "\n"


def _upgrade(engine: Engine, config: AlembicConfig) -> None:
    from alembic import command

    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        config.attributes.pop("connection", None)
        engine.dispose()


def _compare_counts(expected: dict[str, int], found: dict[str, int], *, changed: bool = False) -> None:
    differences = [
        f"{name}: {expected.get(name, 'no table')} in the manifest, {found.get(name, 'no table')} restored"
        for name in sorted(set(expected) | set(found))
        if expected.get(name) != found.get(name)
    ]
    if differences:
        raise BackupFailed(
            "the restored rows do not match the manifest: " + "; ".join(differences[:10]), changed=changed
        )


# --- Shared ------------------------------------------------------------------------------


@contextmanager
def _plain_engine(url: str) -> Iterator[Engine]:
    """An engine without the application's connection set-up (no WAL switch on a copy)."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _count(connection: Connection, name: str) -> int:
    return int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())


def _tables(connection: Connection) -> set[str]:
    """The database's tables, a partitioned table standing for its partitions: a database that made
    the readings' partitions of later years than the backup's is still the same schema, and
    ``pg_restore --clean`` drops them with the table."""
    return set(inspect(connection).get_table_names()) - partition_names(connection)


def _table_counts(connection: Connection) -> dict[str, int]:
    return {name: _count(connection, name) for name in sorted(_tables(connection))}


def _revision(connection: Connection) -> str:
    if "alembic_version" not in inspect(connection).get_table_names():
        raise BackupFailed("the database has never been migrated (no alembic_version): run `maintenance db upgrade`")
    revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    if revision is None:
        raise BackupFailed("the database has no schema revision (alembic_version is empty)")
    return str(revision)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(
            f"{name} is not on PATH: install the PostgreSQL client tools of the server's major version "
            "(Debian: apt install postgresql-client) or add their bin directory to PATH"
        )
    return found


def libpq_connection(database_url: str) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as a libpq connection string without the password, and the environment
    that carries the password (``PGPASSWORD``), so it never shows in the process list."""
    url: URL = make_url(database_url)
    environment = {**os.environ}
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    plain = url._replace(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _run_tool(arguments: list[str], database_url: str | None) -> str:
    """Run pg_dump or pg_restore on the database (None: on the archive alone); its output."""
    environment = {**os.environ}
    if database_url is not None:
        conninfo, environment = libpq_connection(database_url)
        arguments = [*arguments, f"--dbname={conninfo}"]
    # The program is pg_dump or pg_restore found on PATH; the arguments are ours, not a shell's.
    result = subprocess.run(arguments, capture_output=True, text=True, env=environment, check=False)  # noqa: S603
    if result.returncode != 0:
        tool = Path(arguments[0]).name
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupFailed(f"{tool} failed (exit {result.returncode}): {' / '.join(detail[-3:]) or 'no output'}")
    return result.stdout
