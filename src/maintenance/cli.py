"""The ``maintenance`` command for operators. Each command owns one transaction:
it commits when it succeeds and writes nothing when it fails (exit code 1)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from alembic.config import Config as AlembicConfig
from rich.console import Console
from sqlmodel import Session

from maintenance.audit import service as audit_service
from maintenance.audit.service import SystemActor
from maintenance.config import PROJECT_ROOT, get_settings
from maintenance.db import session_scope
from maintenance.exceptions import MaintenanceError
from maintenance.org import service as org_service
from maintenance.org.models import Role, UserCreate
from maintenance.security import API_SCOPES, set_request_id

app = typer.Typer(help="Equipment maintenance management: operator commands.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema and data.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for /api/v1.", no_args_is_help=True)
audit_app = typer.Typer(help="The change log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")


@contextmanager
def command_transaction(name: str) -> Iterator[Session]:
    """One transaction per command, with the command's name as its change-log actor and request id."""
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
    return SystemActor(username=f"cli:{name}")


# --- db -----------------------------------------------------------------------------------


def alembic_config() -> AlembicConfig:
    config = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Migrate the database to the latest schema (safe to run again)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)
    console.print(f"database at {revision}: {_redacted_url()}")


def _redacted_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().database_url).render_as_string(hide_password=True)


# --- seed ---------------------------------------------------------------------------------


@app.command("seed")
def seed(demo: Annotated[bool, typer.Option("--demo", help="Load the demo plant")] = False) -> None:
    """Load the demo plant once; does nothing when it is already loaded."""
    from maintenance import demo as demo_loader

    if not demo:
        err_console.print("nothing to do: pass --demo to load the demo plant")
        raise typer.Exit(2)
    with command_transaction("seed") as session:
        loaded = demo_loader.load_demo_plant(session, get_settings().seed_dir, console=console)
    if not loaded:
        console.print("demo plant already loaded; nothing changed")
    demo_loader.print_logins(console)


# --- serve --------------------------------------------------------------------------------


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the web application and the API."""
    import uvicorn

    console.print(f"serving on http://{host}:{port}")
    uvicorn.run("maintenance.main:app", host=host, port=port, workers=workers, proxy_headers=True)


# --- user ---------------------------------------------------------------------------------


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="Login name")],
    role: Annotated[Role, typer.Option(help="engineer, manager, auditor or admin")],
    workshop: Annotated[list[str], typer.Option(help="Workshop code (repeat for several)")] = [],  # noqa: B006
    full_name: Annotated[str, typer.Option(help="Display name")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a user. The password is read from standard input, never from the command line."""
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
            workshop_ids.append(found.id)  # type: ignore[union-attr]
        data = _validated(
            lambda: UserCreate(
                username=username, role=role, full_name=full_name, password=password, workshop_ids=workshop_ids
            )
        )  # type: ignore[arg-type]
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


def raise_cli_error(message: str) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


# --- token --------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="Username the token acts as")],
    scope: Annotated[list[str], typer.Option(help=f"Scope (repeat for several): {', '.join(API_SCOPES)}")],
    name: Annotated[str, typer.Option(help="What the token is for")] = "cli",
) -> None:
    """Create an API token and print it once; only its hash is stored."""
    with command_transaction("token-create") as session:
        owner = org_service.get_user_by_username(session, user)
        if owner is None:
            raise_cli_error(f"unknown user {user!r}")
        scopes = [part for item in scope for part in item.replace(",", " ").split()]
        _token, plaintext = org_service.create_api_token(
            session, owner, name=name, scopes=scopes, actor=cli_actor("token-create")
        )  # type: ignore[arg-type]
    # Printed alone on stdout so scripts can capture it.
    print(plaintext)
    err_console.print("store this token now: it cannot be shown again")


# --- audit --------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the change log's hash chain; exit 1 at the first row that was edited or removed."""
    with command_transaction("audit-verify") as session:
        report = audit_service.verify_chain(session)
    if report.ok:
        console.print(f"change log intact: {report.checked} rows verified")
        return
    err_console.print(f"[red]change log broken at row {report.broken_at_id}[/red]: {report.reason}")
    err_console.print(f"{report.checked} rows before it verified")
    raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
