"""The ``maintenance`` command for operators. Each command owns one transaction:
it commits when it succeeds and writes nothing when it fails (exit code 1).

Starting is cheap: this module imports only typer and rich, and each command imports the
settings, the database and the domains it uses when it runs, so ``maintenance --help`` and the
light commands do not load the web app, SQLAlchemy or pandas. Typer reads every command's
parameters (their annotations) to build the help, so a value shown there is written out below
(``ROLE_CODES``, ``API_SCOPE_NAMES``, ``TOKEN_DAYS``); tests/test_cli_startup.py checks them
against their sources and that importing this module loads nothing heavy."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    import logging
    from datetime import date

    from alembic.config import Config as AlembicConfig
    from rich.progress import Progress, ProgressColumn, TaskID
    from sqlmodel import Session

    from maintenance.assets.imports.report import ImportReport
    from maintenance.audit import service as audit_service
    from maintenance.audit.service import SystemActor
    from maintenance.config import Settings
    from maintenance.exceptions import FieldError, ValidationFailed
    from maintenance.inspections.rounds import RoundsReport
    from maintenance.monitoring.mqtt.consumer import Broker
    from maintenance.monitoring.readings.imports import ReadingImportReport
    from maintenance.orders.pm.scheduler import SchedulerReport
    from maintenance.scorecard.notifications.digest import DigestReport
    from maintenance.special.reminders import ReminderReport
else:

    class _ImportedOnFirstUse:
        """A module imported when one of its names is first read, for module-level names the
        commands use (``audit_service.verify_chain(...)``)."""

        def __init__(self, name: str) -> None:
            self._name = name

        def __getattr__(self, attribute: str) -> Any:
            return getattr(importlib.import_module(self._name), attribute)

    audit_service = _ImportedOnFirstUse("maintenance.audit.service")

# Shown in the help, so known before any domain is imported (checked against Role, API_SCOPES
# and org.service's limits by tests/test_cli_startup.py).
ROLE_CODES = ("engineer", "manager", "auditor", "admin")
RoleCode = Enum("RoleCode", {code: code for code in ROLE_CODES}, type=str)  # type: ignore[misc]
API_SCOPE_NAMES = (
    "assets:read",
    "assets:write",
    "orders:read",
    "orders:write",
    "readings:read",
    "readings:write",
    "special:read",
    "leakfree:read",
    "budget:read",
    "scorecard:read",
)
TOKEN_DAYS = (90, 366)  # default, at most

app = typer.Typer(help="Equipment maintenance management: operator commands.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema and data.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for /api/v1.", no_args_is_help=True)
audit_app = typer.Typer(help="The change log.", no_args_is_help=True)
notify_app = typer.Typer(help="Notifications by e-mail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(notify_app, name="notify")

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")
F = TypeVar("F", bound="ValidationFailed")


@contextmanager
def session_scope(*, read_only: bool = False) -> Iterator[Session]:
    """:func:`maintenance.db.session_scope`, imported when a command opens its transaction."""
    from maintenance.db import session_scope as database_session_scope

    with database_session_scope(read_only=read_only) as session:
        yield session


@contextmanager
def command_transaction(name: str) -> Iterator[Session]:
    """One transaction per command, with the command's name as its change-log actor and request id."""
    from maintenance.exceptions import MaintenanceError
    from maintenance.security import set_request_id

    set_request_id(f"cli-{name}")
    try:
        with session_scope() as session:
            yield session
    except MaintenanceError as error:
        err_console.print(f"[red]error:[/red] {error.message}")
        for detail in error.errors:
            row = f"row {detail.row}, " if detail.row is not None else ""
            err_console.print(f"  {row}{detail.field}: {detail.message}")
        raise typer.Exit(1) from error


def cli_actor(name: str) -> SystemActor:
    """The operator at the shell: they own the database already, so every capability."""
    from maintenance.audit.service import SystemActor
    from maintenance.org.permissions import EVERY_CAPABILITY

    return SystemActor(username=f"cli:{name}", capabilities=EVERY_CAPABILITY)


# --- db -----------------------------------------------------------------------------------


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    from maintenance.config import PROJECT_ROOT

    config = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Migrate the database to the latest schema (safe to run again); on PostgreSQL, create the
    readings' partitions of the coming years."""
    from alembic import command

    command.upgrade(alembic_config(), revision)
    console.print(f"database at {revision}: {_redacted_url()}")
    _print_partitions_created(_ensure_reading_partitions(None))


def _ensure_reading_partitions(day: date | None) -> list[str]:
    """The readings' yearly partitions up to a few years after ``day`` (default: today), in a
    transaction of their own; the names of those created."""
    from maintenance.db import plant_today
    from maintenance.monitoring.readings.partitions import ensure_reading_partitions

    with command_transaction("partitions") as session:
        return ensure_reading_partitions(session, day or plant_today()).created


def _print_partitions_created(created: list[str]) -> None:
    if created:
        console.print(f"readings partitions created: {', '.join(created)}", highlight=False)


@db_app.command("backup")
def db_backup(
    file: Annotated[
        Path, typer.Argument(help="Archive to write: FILE.tar, or FILE.tar.gz to compress it", dir_okay=False)
    ],
) -> None:
    """Back up the database and the uploaded files into one archive, while the app runs: SQLite
    through its online backup API, PostgreSQL with pg_dump (on PATH). The archive's manifest.json
    names the schema revision, the rows of every table and the SHA-256 of every member."""
    from maintenance import backup
    from maintenance.db import utcnow

    settings = _settings_or_exit()
    with _progress() as progress:
        try:
            manifest = backup.create_backup(
                file, database_url=settings.database_url, files_dir=settings.files_dir, now=utcnow(), progress=progress
            )
        except backup.BackupFailed as error:
            raise_cli_error(str(error))
    console.print(
        f"backed up {_redacted_url()} ({manifest.engine}, revision {manifest.revision}): "
        f"{sum(manifest.tables.values()):,} rows in {len(manifest.tables)} tables, "
        f"{manifest.file_count:,} uploaded files, to {file}",
        highlight=False,
        soft_wrap=True,
    )


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="Archive written by `db backup`", dir_okay=False)],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that holds data (its change log has rows)")
    ] = False,
) -> None:
    """Restore a backup: checks the whole archive first (hashes, engine, schema revision: the
    code's or older, then migrated), refuses to replace a database holding data without --force,
    replaces the database all or nothing, adds the uploaded files and checks the row counts.
    Stop the app and the scheduler first."""
    from maintenance import backup

    settings = _settings_or_exit()
    with _progress() as progress:
        try:
            report = backup.restore_backup(
                file,
                database_url=settings.database_url,
                files_dir=settings.files_dir,
                alembic_config=alembic_config(),
                force=force,
                progress=progress,
            )
        except backup.BackupFailed as error:
            raise_cli_error(str(error) if error.changed else f"{error}; nothing was changed")
    manifest = report.manifest
    console.print(
        f"restored the backup of {manifest.created_at} into {_redacted_url()}: "
        f"{sum(report.tables.values()):,} rows in {len(report.tables)} tables match the manifest, "
        f"{manifest.file_count:,} uploaded files",
        highlight=False,
        soft_wrap=True,
    )
    if report.upgraded_to is not None:
        console.print(f"schema upgraded from {manifest.revision} to {report.upgraded_to}", highlight=False)
    console.print("check the change log now: maintenance audit verify", highlight=False)


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A progress display on stderr (when it is a terminal) fed by ``(what, done, total)`` calls."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
        tasks: dict[str, TaskID] = {}

        def update(what: str, done: int, total: int | None) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(what, total=total)
            progress.update(tasks[what], completed=done, total=total)

        yield update


def _redacted_url() -> str:
    from sqlalchemy.engine import make_url

    from maintenance.config import get_settings

    return make_url(get_settings().database_url).render_as_string(hide_password=True)


# --- seed ---------------------------------------------------------------------------------


@app.command("seed")
def seed(demo: Annotated[bool, typer.Option("--demo", help="Load the demo plant")] = False) -> None:
    """Load the demo plant once; does nothing when it is already loaded."""
    from maintenance.config import get_settings
    from maintenance.db import utcnow
    from maintenance.demo import plant as demo_plant

    if not demo:
        err_console.print("nothing to do: pass --demo to load the demo plant")
        raise typer.Exit(2)
    with command_transaction("seed") as session:
        loaded = demo_plant.load_demo_plant(session, get_settings().seed_dir, now=utcnow(), console=console)
    if not loaded:
        console.print("demo plant already loaded; nothing changed")
    demo_plant.print_logins(console)


# --- serve --------------------------------------------------------------------------------


def default_workers(database_url: str, cpu_count: int | None) -> int:
    """Worker processes ``serve`` starts unless told: one per core on PostgreSQL, which takes
    writers at once; one on SQLite, which has one write lock for the whole file: more processes
    only queue behind it (and wait out its busy timeout under load) while doubling the memory,
    and one process already serves requests on several threads."""
    if database_url.startswith("sqlite"):
        return 1
    return max(1, cpu_count or 1)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes (default: one per core on PostgreSQL, 1 on SQLite)"),
    ] = None,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(help="Addresses of the reverse proxies whose X-Forwarded-For and -Proto headers are trusted"),
    ] = "127.0.0.1",
) -> None:
    """Serve the web application and the API (the PM scheduler runs apart: `maintenance scheduler`)."""
    import os

    import uvicorn

    settings = _settings_or_exit()
    count = workers if workers is not None else default_workers(settings.database_url, os.cpu_count())
    console.print(f"serving on http://{host}:{port} with {count} worker{'s' if count > 1 else ''}", highlight=False)
    uvicorn.run(
        "maintenance.main:app",
        host=host,
        port=port,
        workers=count,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
    )


def _settings_or_exit() -> Settings:
    """The settings, or the reasons they are refused (no secret key in prod, …) and exit 1."""
    from pydantic import ValidationError

    from maintenance.config import get_settings

    try:
        return get_settings()
    except ValidationError as error:
        for detail in error.errors():
            message = str(detail["msg"]).removeprefix("Value error, ")
            err_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
        raise typer.Exit(1) from error


# --- user ---------------------------------------------------------------------------------


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="Login name")],
    role: Annotated[RoleCode, typer.Option(help="engineer, manager, auditor or admin")],
    workshop: Annotated[list[str], typer.Option(help="Workshop code (repeat for several)")] = [],  # noqa: B006
    full_name: Annotated[str, typer.Option(help="Display name")] = "",
    email: Annotated[str | None, typer.Option(help="E-mail address (for the daily notification digest)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a user. The password is read from standard input, never from the command line."""
    from maintenance.org import service as org_service
    from maintenance.org.models import Role, UserCreate

    if not password_stdin:
        err_console.print("error: pass --password-stdin and pipe the password in (it must not appear in shell history)")
        raise typer.Exit(2)
    password = sys.stdin.readline().rstrip("\n")
    with command_transaction("user-create") as session:
        workshop_ids = []
        for code in workshop:
            found = org_service.get_workshop_by_code(session, code)
            if found is None:
                raise_cli_error(f"unknown workshop code {code!r}")
            assert found.id is not None
            workshop_ids.append(found.id)
        data = _validated(
            lambda: UserCreate(
                username=username,
                role=Role(role.value),
                full_name=full_name,
                email=email,
                password=password,
                workshop_ids=workshop_ids,
            )
        )
        user = org_service.create_user(session, data, actor=cli_actor("user-create"))
        console.print(f"created user {user.username} ({user.role.value})")


def _validated(build: Callable[[], T]) -> T:
    from pydantic import ValidationError

    try:
        return build()
    except ValidationError as error:
        for detail in error.errors():
            err_console.print(f"[red]error:[/red] {'.'.join(map(str, detail['loc']))}: {detail['msg']}")
        raise typer.Exit(1) from error


def raise_cli_error(message: str) -> NoReturn:
    # One line whatever the terminal's width (scripts read it), and the message's brackets are text.
    err_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(1)


# --- token --------------------------------------------------------------------------------


DEFAULT_DAYS, MAX_DAYS = TOKEN_DAYS


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="Username the token acts as")],
    scope: Annotated[list[str], typer.Option(help=f"Scope (repeat for several): {', '.join(API_SCOPE_NAMES)}")],
    name: Annotated[str, typer.Option(help="What the token is for")] = "cli",
    expires: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day the token works (YYYY-MM-DD, plant time)"),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(help=f"Days the token works (default {DEFAULT_DAYS}, at most {MAX_DAYS})"),
    ] = None,
) -> None:
    """Create an API token and print it once; only its hash is stored. Auditors' tokens may only read."""
    from maintenance.org import service as org_service

    with command_transaction("token-create") as session:
        owner = org_service.get_user_by_username(session, user)
        if owner is None:
            raise_cli_error(f"unknown user {user!r}")
        scopes = [part for item in scope for part in item.replace(",", " ").split()]
        expires_at = org_service.token_expiry(days=days, until=expires.date() if expires else None)
        token, plaintext = org_service.create_api_token(
            session, owner, name=name, scopes=scopes, actor=cli_actor("token-create"), expires_at=expires_at
        )
        summary = f"token {token.id} ({token.prefix}…) for {owner.username}, expires {_plant_time(token.expires_at)}"
    # Printed alone on stdout so scripts can capture it.
    print(plaintext)
    err_console.print(summary)
    err_console.print("store this token now: it cannot be shown again")


def _plant_time(moment: datetime | None) -> str:
    from maintenance.db import plant_timezone

    return moment.astimezone(plant_timezone()).strftime("%Y-%m-%d %H:%M") if moment else "-"


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(help="Only the tokens of this username")] = None,
) -> None:
    """List API tokens (never their secrets), newest first, one per line (tab-separated): id,
    prefix, user, name, scopes, created, expires, last used, status (times in plant time)."""
    from maintenance.db import utcnow
    from maintenance.org import service as org_service

    with command_transaction("token-list") as session:
        owner_id = None
        if user is not None:
            owner = org_service.get_user_by_username(session, user)
            if owner is None:
                raise_cli_error(f"unknown user {user!r}")
            owner_id = owner.id
        rows = session.execute(org_service.list_api_tokens(owner_id)).all()
        now = utcnow()
        lines = [["id", "prefix", "user", "name", "scopes", "created", "expires", "last used", "status"]]
        for token, owner_row in rows:
            if token.revoked_at is not None:
                status = f"revoked {_plant_time(token.revoked_at)} by {token.revoked_by or '-'}"
            elif token.is_expired(now):
                status = "expired"
            else:
                status = "active"
            lines.append(
                [
                    str(token.id),
                    f"{token.prefix}…",
                    owner_row.username,
                    token.name,
                    ",".join(token.scopes.split()),
                    _plant_time(token.created_at),
                    _plant_time(token.expires_at),
                    _plant_time(token.last_used_at),
                    status,
                ]
            )
    if not rows:
        err_console.print("no tokens")
        return
    for line in lines:
        print("\t".join(value.replace("\t", " ") for value in line))


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (see `token list`)")]) -> None:
    """Revoke an API token: from now on it authenticates nothing."""
    from maintenance.org import service as org_service

    with command_transaction("token-revoke") as session:
        token = org_service.get_api_token_or_raise(session, token_id)
        org_service.revoke_api_token(session, token, actor=cli_actor("token-revoke"))
        console.print(f"revoked token {token.id} ({token.prefix}…)")


# --- audit --------------------------------------------------------------------------------


def _print_chain_report(report: audit_service.LogReport) -> None:
    """Each chain that holds rows or fails, what was checked on stdout, every failure on stderr."""
    for chain in report.chains:
        if chain.rows or not chain.ok:
            state = "ok" if chain.ok else "FAILS"
            if not chain.chain_ok:
                state = f"FAILS, broken at row {chain.broken_at_id}"
            console.print(f"chain {chain.chain}: {chain.rows} rows, the newest is row {chain.last_id}: {state}")
    if report.chain_ok:
        console.print(
            f"change log intact: {report.checked} rows verified in {report.used_chains} of {len(report.chains)} chains"
        )
    if report.anchor_ok:
        console.print(f"anchor matches the end of each of the {len(report.chains)} chains: {report.rows} rows")
    if report.checkpoint is None:
        console.print("no checkpoint yet: a chain cut back to an earlier state of its anchor is not detected")
    elif report.checkpoint_ok:
        console.print(f"every chain holds what checkpoint row {report.checkpoint.id} names ({report.checkpoint.at})")
    if not report.keyed:
        console.print(
            "no MAINTENANCE_AUDIT_KEY: edited and deleted rows are detected, but not a chain recomputed "
            "after an edit by someone with write access to the database"
        )
    elif report.anchors_signed:
        console.print(
            f"signed with the audit key: every chain's anchor HMAC is valid, {report.signed_rows} rows carry an HMAC"
        )
        if report.unsigned_rows:
            console.print(
                f"{report.unsigned_rows} rows carry none (written before the key was set): "
                "checked by their hash, covered by the signed anchors"
            )
    for problem in report.problems():
        err_console.print(f"[red]{problem}[/red]", highlight=False)
    for chain in report.chains:
        if not chain.chain_ok:
            err_console.print(f"chain {chain.chain}: {chain.checked} rows before it verified")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the change log, chain by chain: each row's hash and link to the one before, the
    chain's anchor against its end (deleted newest rows) and, with MAINTENANCE_AUDIT_KEY, the
    HMACs; exit 1 on any failure of any chain."""
    # A read-only transaction: on SQLite it takes no write lock, so writers go on meanwhile.
    with session_scope(read_only=True) as session:
        report = audit_service.verify_chain(session)
    _print_chain_report(report)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("seal")
def audit_seal() -> None:
    """Sign every chain's anchor with MAINTENANCE_AUDIT_KEY, after checking the chains and their
    anchors: once when the key is first set on a log that has rows, or after a process wrote
    without the key. You vouch for the log as it stands: run `audit verify` and look first.
    Then writes a checkpoint of every chain's end (as each scheduler pass does)."""
    from maintenance.db import utcnow

    with command_transaction("audit-seal") as session:
        try:
            report = audit_service.seal_chain(session)
        except audit_service.ChainNotSealable as error:
            if error.report is not None:
                _print_chain_report(error.report)
            err_console.print(f"[red]error:[/red] {error}")
            raise typer.Exit(1) from error
        written = audit_service.checkpoint(session, cli_actor("audit-seal"), utcnow())
        written_id = written.id if written is not None else None
    _print_chain_report(report)
    console.print(f"anchors of the {len(report.chains)} chains sealed")
    if written_id is not None:
        console.print(f"checkpoint row {written_id} written")


# --- export -------------------------------------------------------------------------------

export_app = typer.Typer(help="Export registers to files.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("assets")
def export_assets(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.xlsx or .csv)", dir_okay=False)],
    file_format: Annotated[
        str | None, typer.Option("--format", "-f", help="xlsx or csv (default: from the file name)")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD: the registry as it stood at the end of that day")
    ] = None,
    workshop: Annotated[str | None, typer.Option(help="Only this workshop (its code)")] = None,
    lang: Annotated[str | None, typer.Option(help="Headers and labels: zh_CN or en")] = None,
) -> None:
    """Export the asset registry (current, or as of a past date) with the same columns as the web export."""
    from datetime import date

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from maintenance.assets.exports import FORMATS, AssetExport, count_rows
    from maintenance.assets.filters import AssetFilters
    from maintenance.i18n import KNOWN_LOCALES, set_locale
    from maintenance.org import service as org_service

    fmt = (file_format or output.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise_cli_error(f"choose --format xlsx or csv (got {fmt or 'nothing'!r})")
    if lang is not None:
        if lang not in KNOWN_LOCALES:
            raise_cli_error(f"--lang must be one of {', '.join(KNOWN_LOCALES)}")
        set_locale(lang)  # type: ignore[arg-type]
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of.strip())
        except ValueError:
            raise_cli_error(f"--as-of must be a date as YYYY-MM-DD, got {as_of!r}")
    if not output.parent.is_dir():
        raise_cli_error(f"directory {str(output.parent)!r} does not exist")
    partial = output.with_name(f".{output.name}.part")
    with command_transaction("export-assets") as session:
        workshop_id = None
        if workshop is not None:
            found = org_service.get_workshop_by_code(session, workshop.strip())
            if found is None:
                raise_cli_error(f"unknown workshop code {workshop!r}")
            workshop_id = found.id  # type: ignore[union-attr]
        filters = AssetFilters(as_of=day, workshop_id=workshop_id)
        export = AssetExport.start(session, filters, exported_by=f"cli:{_os_user()}")
        total = count_rows(session, filters)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
            task = progress.add_task(f"exporting assets ({export.as_of_text()})", total=total)

            def tracked() -> Iterator[tuple[object, ...]]:
                for index, row in enumerate(export.rows(), start=1):
                    yield row
                    if index % 500 == 0:
                        progress.update(task, completed=index)
                progress.update(task, completed=total)

            try:
                rows = (export.write_csv if fmt == "csv" else export.write_xlsx)(partial, tracked())
                partial.replace(output)  # all or nothing: no half-written file under the real name
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
    console.print(f"exported {rows} assets ({export.as_of_text()}; {export.filter_text()}) to {output}")


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# --- import -------------------------------------------------------------------------------

import_app = typer.Typer(help="Import data from spreadsheets.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("assets")
def import_assets(
    file: Annotated[Path, typer.Argument(help="XLSX or CSV file (UTF-8, UTF-8 with BOM or GB18030)", dir_okay=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and report; write nothing")] = False,
    valid_only: Annotated[
        bool, typer.Option("--valid-only", help="Import the rows without errors and report the others")
    ] = False,
) -> None:
    """Import assets: new tags are created, existing tags updated. One bad row stops the whole
    import unless --valid-only is given. Exit code 1 when nothing was written because of errors
    (and for a dry run that found errors)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    from maintenance.assets import imports
    from maintenance.assets.imports.report import ImportFailed, ImportMode

    if not file.is_file():
        raise_cli_error(f"no such file: {file}")
    content = file.read_bytes()
    mode = ImportMode.VALID_ONLY if valid_only else ImportMode.ALL_OR_NOTHING

    def run(session: Session, progress: Progress, task: TaskID) -> ImportReport:
        def advance(done: int, total: int) -> None:
            if done == 1 or done % 50 == 0 or done == total:
                progress.update(task, description=f"importing {file.name}", completed=done, total=total)

        return imports.import_assets(
            session,
            content,
            file.name,
            actor=cli_actor("import-assets"),
            mode=mode,
            dry_run=dry_run,
            progress=advance,
            max_bytes=None,
        )

    report = _run_import(
        "import-assets",
        (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()),
        f"checking {file.name}",
        run,
        ImportFailed,
        lambda failure: failure.report,
        _print_import_report,
    )
    if dry_run and report.errors:
        raise typer.Exit(1)


@import_app.command("readings")
def import_readings(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 with BOM or GB18030) or XLSX file", dir_okay=False)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row (ingest included) and roll back; write nothing")
    ] = False,
    valid_only: Annotated[
        bool, typer.Option("--valid-only", help="Import the rows without errors and report the others")
    ] = False,
) -> None:
    """Import readings (point code, time, value), streamed: files of millions of rows are fine.
    Readings already stored are counted as duplicates. One bad row stops the whole import unless
    --valid-only is given. Exit code 1 when nothing was written because of errors (and for a dry
    run that found errors)."""
    from rich.progress import MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    from maintenance.monitoring.readings import imports
    from maintenance.monitoring.readings.ingest import IngestMode

    if not file.is_file():
        raise_cli_error(f"no such file: {file}")
    mode = IngestMode.VALID_ONLY if valid_only else IngestMode.ALL_OR_NOTHING

    def run(session: Session, progress: Progress, task: TaskID) -> imports.ReadingImportReport:
        def advance(done: int) -> None:
            progress.update(task, completed=done)

        with file.open("rb") as handle:
            return imports.import_readings(
                session,
                handle,
                file.name,
                actor=cli_actor("import-readings"),
                mode=mode,
                dry_run=dry_run,
                progress=advance,
                max_bytes=None,
            )

    report = _run_import(
        "import-readings",
        (SpinnerColumn(), TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn()),
        f"importing {file.name} (rows read)",
        run,
        imports.ReadingImportFailed,
        lambda failure: failure.report,
        _print_reading_import_report,
    )
    if dry_run and report.rejected:
        raise typer.Exit(1)


def _run_import(
    name: str,
    columns: tuple[ProgressColumn, ...],
    description: str,
    run: Callable[[Session, Progress, TaskID], T],
    failed: type[F],
    report_of: Callable[[F], T],
    print_report: Callable[[T], None],
) -> T:
    """Runs an import in the command's transaction behind a progress display and prints its
    report. When it fails (``failed``), prints the failure's report and exits 1: the transaction
    rolls back and nothing is written."""
    from rich.progress import Progress

    with command_transaction(name) as session:
        with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
            task = progress.add_task(description, total=None)
            try:
                report = run(session, progress, task)
            except failed as failure:
                progress.stop()
                print_report(report_of(failure))
                err_console.print(f"[red]error:[/red] {failure.message}")
                raise typer.Exit(1) from failure
        print_report(report)
    return report


def _print_import_source(report: ImportReport | ReadingImportReport) -> None:
    """The file line of an import report: format, encoding, sheet and header row."""
    source = [report.file_format or "?"]
    if report.encoding:
        source.append(f"encoding {report.encoding}")
    if report.sheet:
        source.append(f"sheet {report.sheet}")
    if report.header_row:
        source.append(f"header on row {report.header_row}")
    console.print(f"{report.filename}: {', '.join(source)}", markup=False, highlight=False, soft_wrap=True)


def _print_row_errors(errors: list[FieldError], shown: int | None = None) -> None:
    for error in errors[:shown]:
        row = f"row {error.row}, " if error.row is not None else ""
        err_console.print(f"  {row}{error.field}: {error.message}", markup=False, highlight=False, soft_wrap=True)
    if shown is not None and len(errors) > shown:
        err_console.print(f"  … and {len(errors) - shown:,} more problems", highlight=False)


def _print_reading_import_report(report: object, shown_errors: int = 200) -> None:
    from rich.table import Table

    from maintenance.monitoring.readings.imports import ReadingImportReport

    assert isinstance(report, ReadingImportReport)
    _print_import_source(report)
    outcome = "written" if report.written else "dry run: nothing written" if report.dry_run else "nothing written"
    table = Table(title=f"readings import ({outcome})", title_justify="left")
    table.add_column("rows read", justify="right")
    table.add_column("inserted" if not report.dry_run else "would be inserted", justify="right")
    table.add_column("duplicates", justify="right")
    table.add_column("refused", justify="right")
    table.add_column("CBM orders raised", justify="right")
    table.add_row(
        f"{report.received:,}",
        f"{report.inserted:,}",
        f"{report.duplicates:,}",
        f"{report.rejected:,}",
        f"{len(report.alerts_opened):,}",
    )
    console.print(table)
    if report.alerts_opened and not report.dry_run:
        console.print("orders: " + ", ".join(report.alerts_opened), highlight=False, soft_wrap=True)
    _print_row_errors(report.errors, shown_errors)


def _print_import_report(report: object) -> None:
    from maintenance.assets.imports.report import ImportReport

    assert isinstance(report, ImportReport)
    _print_import_source(report)
    skipped = []
    if report.skipped_blank:
        skipped.append(f"{report.skipped_blank} blank rows")
    if report.skipped_totals:
        skipped.append(f"total rows {', '.join(map(str, report.skipped_totals))}")
    if report.skipped_headers:
        skipped.append(f"repeated header rows {', '.join(map(str, report.skipped_headers))}")
    console.print(
        f"{len(report.rows)} rows: {report.new} new, {report.updates} to update, {report.unchanged} unchanged, "
        f"{report.invalid} with errors" + (f" (skipped: {'; '.join(skipped)})" if skipped else ""),
        highlight=False,
        soft_wrap=True,
    )
    if report.written:
        console.print(f"imported: {report.created} created, {report.updated} updated", highlight=False)
    elif report.dry_run:
        console.print("dry run: nothing written", highlight=False)
    else:
        console.print("nothing written", highlight=False)
    _print_row_errors(report.errors)


# --- ingest -------------------------------------------------------------------------------

ingest_app = typer.Typer(help="Readings from sensors over MQTT.", no_args_is_help=True)
mapping_app = typer.Typer(
    help="The rules mapping MQTT topics and payloads to measurement points.", no_args_is_help=True
)
app.add_typer(ingest_app, name="ingest")
ingest_app.add_typer(mapping_app, name="mapping")


def _load_mapping_file(file: Path) -> int:
    """Replace the mapping rules by those of ``file`` (one transaction, change-logged)."""
    from maintenance.monitoring.mqtt import service as mqtt_service

    if not file.is_file():
        raise_cli_error(f"no such file: {file}")
    with command_transaction("ingest-mapping-load") as session:
        rules = mqtt_service.parse_mapping_file(file.name, file.read_bytes())
        mqtt_service.replace_mappings(session, rules, actor=cli_actor("ingest-mapping-load"))
    return len(rules)


@mapping_app.command("load")
def mapping_load(
    file: Annotated[Path, typer.Argument(help="JSON or TOML file of rules (see README: Sensors over MQTT)")],
) -> None:
    """Replace the mapping rules by the file's (all or nothing; each change logged)."""
    count = _load_mapping_file(file)
    console.print(f"{count} mapping rules loaded from {file.name}", markup=False, highlight=False)


def mqtt_broker(url: str, password_file: Path | None) -> Broker:
    """The broker of ``--broker``, its password read from ``password_file`` or else the
    environment's MAINTENANCE_MQTT_PASSWORD (a password in the URL still works, with a warning:
    the process list, shell history and unit files show it). Raises ValueError."""
    import os

    from maintenance.monitoring.mqtt.consumer import Broker

    address = Broker.parse(url)
    if address.password is not None:
        err_console.print(
            "warning: the broker URL holds a password, which the process list shows: "
            "use --password-file or MAINTENANCE_MQTT_PASSWORD",
            markup=False,
            highlight=False,
        )
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise ValueError(f"cannot read the broker password file {password_file}: {error.strerror}") from None
        return address.with_password(lines[0] if lines else "")
    password = os.environ.get("MAINTENANCE_MQTT_PASSWORD")
    return address if password is None else address.with_password(password)


@ingest_app.command("mqtt")
def ingest_mqtt(
    broker: Annotated[
        str,
        typer.Option("--broker", help="mqtt://host:port, user@ before the host if the broker asks (mqtts:// for TLS)"),
    ] = ("mqtt://127.0.0.1:1883"),
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            dir_okay=False,
            help="File whose first line is the broker password (or set MAINTENANCE_MQTT_PASSWORD)",
        ),
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", help="Topic filter to subscribe to (repeatable); default: the mapping rules' topics"),
    ] = None,
    name: Annotated[
        str, typer.Option("--name", help="Ingest name: the MQTT client id and the statistics' key; keep it fixed")
    ] = "default",
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="MAINTENANCE_MQTT_TOKEN", help="API token (scope readings:write) whose user writes"
        ),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Username whose rights the readings are written with")] = (
        None
    ),
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="Load this JSON/TOML mapping file first", dir_okay=False)
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=10_000, help="Messages per transaction")] = 1000,
    batch_seconds: Annotated[
        float,
        typer.Option(
            "--batch-seconds", min=0.01, max=60, help="Store a batch at most this long after its first message"
        ),
    ] = 0.5,
) -> None:
    """Store sensor readings from an MQTT broker (persistent session, QoS 1) until Ctrl-C or SIGTERM.

    Messages are acknowledged only after their batch is committed, so a kill or a broker restart
    loses nothing, and re-delivered messages are stored once. Refused messages (no rule, bad
    payload, unknown point, out of range, another workshop's point) are counted, kept on the
    /admin/mqtt page and acknowledged."""
    import logging
    import signal

    from rich.logging import RichHandler

    from maintenance.db import session_scope as database_session_scope
    from maintenance.db import utcnow
    from maintenance.exceptions import MaintenanceError
    from maintenance.monitoring.mqtt import service as mqtt_service
    from maintenance.monitoring.mqtt.consumer import Consumer, ConsumerSettings
    from maintenance.monitoring.mqtt.mapping import Mapper
    from maintenance.security import set_request_id

    if (token is None) == (user is None):
        raise_cli_error("give either --token or --user")
    try:
        broker_address = mqtt_broker(broker, password_file)
    except ValueError as error:
        raise_cli_error(str(error))
    if mapping is not None:
        _load_mapping_file(mapping)
    set_request_id(f"cli-ingest-mqtt-{name}")
    with command_transaction("ingest-mqtt") as session:
        mqtt_service.ingest_user(session, token=token, username=user)  # refused at once, not at the first batch
        mapper = Mapper(mqtt_service.active_rules(session))
    topics = list(topic or mapper.filters())
    if not topics:
        raise_cli_error(
            "no topic: give --topic or add mapping rules (/admin/mqtt or `maintenance ingest mapping load`)"
        )
    logger = logging.getLogger("maintenance.mqtt")
    if not logger.handlers:
        logger.addHandler(RichHandler(console=err_console, show_path=False))
        logger.setLevel(logging.INFO)
    consumer = Consumer(
        ConsumerSettings(
            name=name,
            broker=broker_address,
            topics=topics,
            token=token,
            username=user,
            batch_size=batch_size,
            batch_seconds=batch_seconds,
        ),
        mapper,
        database_session_scope,
        utcnow,
    )

    def _stop(signum: int, _frame: object) -> None:
        logger.info("signal %s received: storing the batch in hand, then stopping", signal.Signals(signum).name)
        consumer.stop()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    logger.info("ingest %s: %s rules, broker %s:%s", name, len(mapper.rules), broker_address.host, broker_address.port)
    try:
        consumer.run()
    except MaintenanceError as error:
        raise_cli_error(error.message)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    logger.info("ingest %s stopped", name)


# --- notify -------------------------------------------------------------------------------


@notify_app.command("digest")
def notify_digest(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say who would get a digest today; send and record nothing")
    ] = False,
) -> None:
    """Send today's e-mail digest (unread notifications of the topics each user chose) to every
    user who has not had it yet this plant day: safe to run again, from cron and a scheduler at
    once. Prints how many mails were sent, skipped and failed; exit code 1 if any failed (their
    users are tried again at the next run)."""
    from maintenance.config import get_settings
    from maintenance.db import utcnow

    if not get_settings().mail_enabled and not dry_run:
        raise_cli_error("e-mail is off: set MAINTENANCE_SMTP_HOST (and MAINTENANCE_SMTP_FROM)")
    report = _digest_run(utcnow(), dry_run=dry_run)
    _print_digest_report(report)
    if report.failed:
        raise typer.Exit(1)


def _digest_run(now: datetime, *, dry_run: bool = False) -> DigestReport:
    """Every recipient's digest for the plant day of ``now``. Each user's claim is committed
    before the mail server is talked to (no transaction open meanwhile), and the sent mail's
    record after; one user's failure (released, reported) leaves the others' alone."""
    from maintenance.exceptions import MailNotSent
    from maintenance.scorecard.notifications import digest
    from maintenance.security import set_request_id

    set_request_id("cli-notify-digest")
    report = digest.DigestReport(day=digest.plant_day(now), dry_run=dry_run)
    with session_scope() as session:
        user_ids = digest.recipient_ids(session)
        if dry_run:  # nothing is written: one transaction
            for user_id in user_ids:
                digest.claim_digest(session, user_id, now, report)
            return report
    for user_id in user_ids:
        try:
            digest.send_digest(session_scope, user_id, now, report)
        except MailNotSent:
            continue  # in the report; the claim is released
    return report


def _print_digest_report(report: DigestReport) -> None:
    verb = "would be sent" if report.dry_run else "sent"
    console.print(
        f"digest for {report.day.isoformat()}: {len(report.sent)} {verb}, {len(report.skipped)} skipped, "
        f"{len(report.failed)} failed",
        highlight=False,
    )
    if report.dry_run and report.sent:
        console.print("to: " + ", ".join(report.sent), markup=False, highlight=False, soft_wrap=True)
    for username, reason in report.failed:
        err_console.print(f"failed: {username}: {reason}", markup=False, highlight=False, soft_wrap=True)


# --- scheduler ----------------------------------------------------------------------------


@app.command("scheduler")
def scheduler_command(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and exit (for cron)")] = False,
    horizon_days: Annotated[
        int | None,
        typer.Option(
            "--horizon-days", min=1, max=366, help="Raise orders due within this many days (plus each plan's lead time)"
        ),
    ] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="YYYY-MM-DD: run as if it were this plant date (tests, backfills)")
    ] = None,
) -> None:
    """Raise the PM orders falling due and make the rounds of the current shift, day and week
    (idempotent: safe from cron and on several machines at once); on PostgreSQL, create the
    readings' partitions of the coming years; with e-mail on, once a plant day after
    MAINTENANCE_DIGEST_HOUR, send the notification digests (as `notify digest`).

    With --once: one pass, a summary, exit 0 (1 if a digest failed). Without: a pass every
    MAINTENANCE_SCHEDULER_INTERVAL_MINUTES until Ctrl-C or SIGTERM; each pass is its own
    transaction, and a failed pass is logged and retried at the next interval."""
    from datetime import date

    from maintenance.config import get_settings
    from maintenance.db import utcnow

    settings = get_settings()
    horizon = horizon_days if horizon_days is not None else settings.scheduler_horizon_days
    day = None
    if today is not None:
        try:
            day = date.fromisoformat(today.strip())
        except ValueError:
            raise_cli_error(f"--today must be a date as YYYY-MM-DD, got {today!r}")
    if once:
        _print_scheduler_report(_scheduler_pass(day, horizon))
        if _digest_due(utcnow(), None) is not None:
            digests = _digest_run(utcnow())
            _print_digest_report(digests)
            if digests.failed:
                raise typer.Exit(1)
        return
    _scheduler_loop(day, horizon, settings.scheduler_interval_minutes)


def _digest_due(now: datetime, last_day: date | None) -> date | None:
    """The plant day whose digests are due at ``now``: e-mail on, past MAINTENANCE_DIGEST_HOUR on
    the plant's clock, and not done yet that day (``last_day``); else None."""
    from maintenance.config import get_settings
    from maintenance.db import plant_timezone

    settings = get_settings()
    local = now.astimezone(plant_timezone())
    if not settings.mail_enabled or local.hour < settings.digest_hour or local.date() == last_day:
        return None
    return local.date()


@dataclass(frozen=True)
class SchedulerPass:
    """What one scheduler pass did."""

    orders: SchedulerReport
    rounds: RoundsReport
    inspections: ReminderReport
    read_marks_removed: int
    export_jobs_removed: int
    partitions_created: list[str]


def _scheduler_pass(day: date | None, horizon: int) -> SchedulerPass:
    """One pass in its own transaction (committed when it succeeds): the PM orders falling due,
    the rounds of the periods running now, the special-equipment inspection orders, then the
    notification read marks whose item is long gone and the export jobs older than a day removed
    (how many; as of the start of ``day`` when given). Then, in a short transaction of its own
    (creating one takes locks on the readings), the readings' partitions of the coming years that
    are missing (their names)."""
    from maintenance import export_jobs
    from maintenance.db import plant_day_start, plant_today, utcnow
    from maintenance.inspections import rounds
    from maintenance.orders.pm import scheduler
    from maintenance.scorecard.notifications import service as notifications
    from maintenance.special import reminders

    actor = cli_actor("scheduler")
    today = day or plant_today()
    with command_transaction("scheduler") as session:
        orders = scheduler.generate_orders(session, today, horizon, actor)
        generated_rounds = rounds.generate_rounds(session, actor=actor)
        inspection_orders = reminders.raise_inspection_orders(session, today, actor)
        now = utcnow() if day is None else plant_day_start(day)
        read_marks = notifications.purge_read_marks(session, now)
        exports = export_jobs.purge_jobs(session, now)
        audit_service.checkpoint(session, actor, utcnow())
    return SchedulerPass(
        orders, generated_rounds, inspection_orders, read_marks, exports, _ensure_reading_partitions(today)
    )


def _print_scheduler_report(reports: SchedulerPass) -> None:
    from rich.table import Table

    report, rounds, inspections = reports.orders, reports.rounds, reports.inspections
    table = Table(title=f"PM scheduler: {report.today.isoformat()}, horizon {report.horizon_days} days")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("plans checked", str(report.plans_checked))
    table.add_row("orders created", str(report.orders_created))
    table.add_row("  of which awaiting approval", str(report.awaiting_approval))
    table.add_row("skipped as existing", str(report.skipped_existing))
    table.add_row("waiting for an open order", str(report.skipped_open))
    table.add_row("inspection routes checked", str(rounds.routes_checked))
    table.add_row("rounds created", str(rounds.rounds_created))
    table.add_row("special equipment checked", str(inspections.items_checked))
    table.add_row("inspection orders created", str(inspections.orders_created))
    table.add_row("stale read marks removed", str(reports.read_marks_removed))
    table.add_row("old export jobs removed", str(reports.export_jobs_removed))
    console.print(table)
    for order in [*report.created, *inspections.created]:
        console.print(
            f"  {order.number}  due {order.due_date}  {order.state.value}  {order.title}",
            markup=False,
            highlight=False,
        )
    _print_partitions_created(reports.partitions_created)


def _scheduler_loop(day: date | None, horizon: int, interval_minutes: int) -> None:
    import logging
    import signal
    import threading

    from rich.logging import RichHandler

    logger = logging.getLogger("maintenance.scheduler")
    if not logger.handlers:
        logger.addHandler(RichHandler(console=err_console, show_path=False))
        logger.setLevel(logging.INFO)
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logger.info("signal %s received: stopping after the current pass", signal.Signals(signum).name)
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    logger.info("scheduler started: a pass every %s minutes, horizon %s days", interval_minutes, horizon)
    digested: date | None = None  # the plant day whose digests all went
    try:
        while not stop.is_set():
            try:
                report = _scheduler_pass(day, horizon)
            except typer.Exit:
                logger.error("pass failed (see above); retrying in %s minutes", interval_minutes)
            except Exception:
                logger.exception("pass failed; retrying in %s minutes", interval_minutes)
            else:
                orders, rounds = report.orders, report.rounds
                if report.partitions_created:
                    logger.info("readings partitions created: %s", ", ".join(report.partitions_created))
                logger.info(
                    "pass done for %s: %s plans checked, %s orders created (%s awaiting approval), "
                    "%s skipped as existing, %s waiting for an open order; %s rounds created on %s routes; "
                    "%s special-equipment inspection orders created; %s stale read marks removed; "
                    "%s old export jobs removed",
                    orders.today.isoformat(),
                    orders.plans_checked,
                    orders.orders_created,
                    orders.awaiting_approval,
                    orders.skipped_existing,
                    orders.skipped_open,
                    rounds.rounds_created,
                    rounds.routes_checked,
                    report.inspections.orders_created,
                    report.read_marks_removed,
                    report.export_jobs_removed,
                )
            digested = _scheduled_digest(logger, digested)
            stop.wait(interval_minutes * 60)
    except KeyboardInterrupt:
        logger.info("interrupted: stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
    logger.info("scheduler stopped")


def _scheduled_digest(logger: logging.Logger, digested: date | None) -> date | None:
    """The day's digests when due (:func:`_digest_due`); returns the day they all went, so a day
    with failures is tried again at the next pass (only for the users who got none)."""
    from maintenance.db import utcnow

    now = utcnow()
    day = _digest_due(now, digested)
    if day is None:
        return digested
    try:
        report = _digest_run(now)
    except Exception:
        logger.exception("digest failed; retrying at the next pass")
        return digested
    logger.info(
        "digest for %s: %s sent, %s skipped, %s failed",
        day.isoformat(),
        len(report.sent),
        len(report.skipped),
        len(report.failed),
    )
    for username, reason in report.failed:
        logger.error("digest to %s failed: %s; retrying at the next pass", username, reason)
    return digested if report.failed else day


if __name__ == "__main__":  # pragma: no cover
    app()
