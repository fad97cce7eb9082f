"""The ``maintenance`` command as operators run it: a separate process with its settings in
the environment, a SQLite file of its own, exit codes and messages scripts can rely on.

Starting the CLI takes a couple of seconds, so the demo plant is migrated and seeded once
per module; each test then works on its own copy of that database file.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from maintenance.cli import alembic_config
from maintenance.cli import app as cli_app

CLI = [sys.executable, "-m", "maintenance.cli"]
DEMO_ENGINEER = "zhanggong"  # seed/org/users.csv
# A guard against a hung command, not a speed target. Loading the whole demo plant takes about
# a minute on an idle 2-core machine and several when the suite's workers and a browser share it.
COMMAND_TIMEOUT_S = 120
DEMO_SEED_TIMEOUT_S = 900
GOOD_PASSWORD = "pump-seal-2026"


def one_line(text: str) -> str:
    """Messages with the terminal's line wrapping undone."""
    return " ".join(text.split())


@dataclass
class CliDatabase:
    """A SQLite file and the environment that points the CLI at it."""

    path: Path
    var_dir: Path

    @property
    def env(self) -> dict[str, str]:
        # The CLI gets its own settings, but runs on the suite's clock (MAINTENANCE_CLOCK_START).
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAINTENANCE_")}
        env.update({key: value for key, value in os.environ.items() if key == "MAINTENANCE_CLOCK_START"})
        env.update(
            MAINTENANCE_DATABASE_URL=f"sqlite:///{self.path}",
            MAINTENANCE_VAR_DIR=str(self.var_dir),
            MAINTENANCE_ENVIRONMENT="test",
            MAINTENANCE_SECRET_KEY=secrets.token_urlsafe(32),
        )
        return env

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = COMMAND_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.var_dir.parent,
            timeout=timeout,
        )

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.path)) as connection:
            return connection.execute(sql, params).fetchall()

    def execute(self, sql: str, *params: Any) -> None:
        """Change the file behind the application's back, as someone with shell access could."""
        with closing(sqlite3.connect(self.path)) as connection, connection:
            connection.execute(sql, params)

    def row_counts(self) -> dict[str, int]:
        tables = [name for (name,) in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: self.rows(f'SELECT count(*) FROM "{table}"')[0][0] for table in sorted(tables)}  # noqa: S608

    def dump(self) -> str:
        with closing(sqlite3.connect(self.path)) as connection:
            return "\n".join(connection.iterdump())

    def copy_to(self, folder: Path) -> CliDatabase:
        folder.mkdir(parents=True, exist_ok=True)
        copy = CliDatabase(folder / "maintenance.db", folder / "var")
        with closing(sqlite3.connect(self.path)) as source, closing(sqlite3.connect(copy.path)) as target:
            source.backup(target)
        return copy


@dataclass
class SeededPlant:
    database: CliDatabase
    upgrade: subprocess.CompletedProcess[str]
    seed: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeededPlant:
    """An empty file, migrated and loaded with the demo plant by the CLI itself."""
    folder = tmp_path_factory.mktemp("cli-template")
    database = CliDatabase(folder / "maintenance.db", folder / "var")
    upgrade = database.run("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    seed = database.run("seed", "--demo", timeout=DEMO_SEED_TIMEOUT_S)
    assert seed.returncode == 0, seed.stderr
    return SeededPlant(database, upgrade, seed)


@pytest.fixture
def plant(seeded: SeededPlant, tmp_path: Path) -> CliDatabase:
    """This test's own copy of the seeded database."""
    return seeded.database.copy_to(tmp_path)


# --- db upgrade ---------------------------------------------------------------------------


def test_db_upgrade_migrates_an_empty_file_to_head(seeded: SeededPlant) -> None:
    assert seeded.upgrade.returncode == 0
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert seeded.database.rows("SELECT version_num FROM alembic_version") == [(head,)]
    assert "database at head" in seeded.upgrade.stdout


def test_db_upgrade_again_changes_nothing(plant: CliDatabase) -> None:
    before = plant.row_counts()
    version = plant.rows("SELECT version_num FROM alembic_version")

    result = plant.run("db", "upgrade")

    assert result.returncode == 0, result.stderr
    assert plant.rows("SELECT version_num FROM alembic_version") == version
    assert plant.row_counts() == before


# --- seed --demo --------------------------------------------------------------------------


def test_seed_demo_loads_the_plant_with_a_change_log(seeded: SeededPlant) -> None:
    counts = seeded.database.row_counts()
    assert "demo plant loaded" in seeded.seed.stdout
    assert DEMO_ENGINEER in seeded.seed.stdout, "the demo logins are printed"
    assert counts["site"] == 1
    assert counts["workshop"] >= 1
    assert counts["app_user"] >= 4
    # Every record the seed created was logged, once, as created by the seed.
    database = seeded.database
    for table in ("site", "workshop", "unit", "app_user"):
        ids = sorted(str(row_id) for (row_id,) in database.rows(f'SELECT id FROM "{table}"'))  # noqa: S608
        logged = database.rows(
            "SELECT object_id, actor_name, action FROM object_change WHERE object_type = ? ORDER BY object_id", table
        )
        assert sorted(object_id for object_id, _, _ in logged) == ids, table
        assert {(actor, action) for _, actor, action in logged} == {("cli:seed", "create")}


def test_seed_demo_a_second_time_says_so_and_changes_nothing(plant: CliDatabase) -> None:
    before = plant.row_counts()

    result = plant.run("seed", "--demo")

    assert result.returncode == 0, result.stderr
    assert "already loaded" in result.stdout
    assert plant.row_counts() == before


# --- user create --------------------------------------------------------------------------


def user_create(
    username: str = "wanggong", role: str = "engineer", workshop: str = "SYN", stdin: bool = True
) -> list[str]:
    args = ["user", "create", "--username", username, "--role", role, "--workshop", workshop]
    return [*args, "--password-stdin"] if stdin else args


def test_user_create_reads_the_password_from_stdin(plant: CliDatabase) -> None:
    result = plant.run(*user_create("wanggong", "engineer", "SYN"), stdin=f"{GOOD_PASSWORD}\n")

    assert result.returncode == 0, result.stderr
    assert "wanggong" in result.stdout
    [(user_id, role, password_hash)] = plant.rows(
        "SELECT id, role, password_hash FROM app_user WHERE username = 'wanggong'"
    )
    assert role == "engineer"
    assert password_hash.startswith("$argon2")
    assert GOOD_PASSWORD not in plant.dump(), "the password is stored only as a hash"
    assert plant.rows(
        "SELECT w.code FROM user_workshop uw JOIN workshop w ON w.id = uw.workshop_id WHERE uw.user_id = ?", user_id
    ) == [("SYN",)]
    [(actor, request_id, after)] = plant.rows(
        "SELECT actor_name, request_id, after FROM object_change WHERE object_type = 'app_user' AND object_id = ?",
        str(user_id),
    )
    assert (actor, request_id) == ("cli:user-create", "cli-user-create")
    assert "password_hash" not in json.loads(after)


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        pytest.param(
            user_create(workshop="NOPE"), GOOD_PASSWORD, ["unknown workshop code 'NOPE'"], id="unknown-workshop"
        ),
        pytest.param(user_create(role="boss"), GOOD_PASSWORD, ["--role", "'boss' is not one of"], id="bad-role"),
        pytest.param(user_create(), "short", ["password", "at least 8 characters"], id="short-password"),
        pytest.param(user_create(DEMO_ENGINEER), GOOD_PASSWORD, [DEMO_ENGINEER, "username"], id="duplicate-username"),
        pytest.param(user_create(stdin=False), None, ["--password-stdin"], id="password-not-from-stdin"),
    ],
)
def test_user_create_refuses_with_a_reason_and_writes_nothing(
    plant: CliDatabase, args: list[str], stdin: str | None, expected: list[str]
) -> None:
    before = plant.row_counts()

    result = plant.run(*args, stdin=None if stdin is None else f"{stdin}\n")

    assert result.returncode != 0
    message = one_line(result.stderr)
    for fragment in expected:
        assert fragment in message
    assert "Traceback" not in result.stderr
    assert plant.row_counts() == before


# --- token create -------------------------------------------------------------------------


def test_token_create_prints_the_token_once_and_stores_only_its_sha256(plant: CliDatabase) -> None:
    result = plant.run("token", "create", "--user", DEMO_ENGINEER, "--scope", "assets:read")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, "stdout carries the token alone, for scripts"
    token = lines[0].strip()
    assert token.startswith("mt_")
    assert "cannot be shown again" in one_line(result.stderr)
    [(token_hash, scopes, owner)] = plant.rows(
        "SELECT t.token_hash, t.scopes, u.username FROM api_token t JOIN app_user u ON u.id = t.user_id"
    )
    assert token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (scopes, owner) == ("assets:read", DEMO_ENGINEER)
    dump = plant.dump()
    assert token not in dump
    assert dump.count(token_hash) == 1, "the hash is in api_token only, not in the change log"


def test_token_create_with_an_unknown_scope_fails_and_writes_nothing(plant: CliDatabase) -> None:
    before = plant.row_counts()

    result = plant.run("token", "create", "--user", DEMO_ENGINEER, "--scope", "assets:fly")

    assert result.returncode != 0
    assert result.stdout == ""
    assert "assets:fly" in one_line(result.stderr)
    assert plant.row_counts() == before


DEMO_AUDITOR = "chensj"  # seed/org/users.csv


def test_token_create_refuses_scopes_the_users_role_does_not_allow(plant: CliDatabase) -> None:
    before = plant.row_counts()

    result = plant.run("token", "create", "--user", DEMO_AUDITOR, "--scope", "readings:read,readings:write")

    assert result.returncode != 0
    assert result.stdout == ""
    message = one_line(result.stderr)
    assert "readings:write" in message
    assert "readings:read" in message, "the message names the scopes the role allows"
    assert "Traceback" not in result.stderr
    assert plant.row_counts() == before


def test_token_create_sets_the_expiry_from_days_or_a_date(plant: CliDatabase) -> None:
    by_days = plant.run("token", "create", "--user", DEMO_ENGINEER, "--scope", "readings:write", "--days", "10")
    by_date = plant.run(
        "token", "create", "--user", DEMO_AUDITOR, "--scope", "readings:read", "--expires", "2099-01-31", "--name", "x"
    )
    default = plant.run("token", "create", "--user", DEMO_ENGINEER, "--scope", "assets:read")

    assert (by_days.returncode, by_date.returncode, default.returncode) == (0, 1, 0), by_date.stderr
    assert "366" in one_line(by_date.stderr), "an expiry beyond a year is refused"
    rows = plant.rows("SELECT julianday(expires_at) - julianday(created_at) FROM api_token ORDER BY id")
    assert [round(days, 3) for (days,) in rows] == [10.0, 90.0]


def test_token_list_shows_every_token_or_one_users_and_never_a_secret(plant: CliDatabase) -> None:
    first = plant.run("token", "create", "--user", DEMO_ENGINEER, "--scope", "readings:write", "--name", "dcs")
    second = plant.run("token", "create", "--user", DEMO_AUDITOR, "--scope", "assets:read", "--name", "report")

    everyone = plant.run("token", "list")
    engineer_only = plant.run("token", "list", "--user", DEMO_ENGINEER)

    assert everyone.returncode == 0, everyone.stderr
    lines = [line.split("\t") for line in everyone.stdout.splitlines()]
    assert lines[0][:5] == ["id", "prefix", "user", "name", "scopes"]
    assert {(line[2], line[3], line[4], line[-1]) for line in lines[1:]} == {
        (DEMO_ENGINEER, "dcs", "readings:write", "active"),
        (DEMO_AUDITOR, "report", "assets:read", "active"),
    }
    assert [line.split("\t")[2] for line in engineer_only.stdout.splitlines()[1:]] == [DEMO_ENGINEER]
    for created in (first, second):
        assert created.stdout.strip() not in everyone.stdout


def test_token_revoke_revokes_once_and_writes_the_change_log(plant: CliDatabase) -> None:
    plant.run("token", "create", "--user", DEMO_ENGINEER, "--scope", "readings:write")
    [(token_id,)] = plant.rows("SELECT id FROM api_token")
    [(changes_before,)] = plant.rows("SELECT count(*) FROM object_change WHERE object_type = 'api_token'")

    revoked = plant.run("token", "revoke", str(token_id))
    again = plant.run("token", "revoke", str(token_id))
    unknown = plant.run("token", "revoke", "999")

    assert revoked.returncode == 0, revoked.stderr
    [(revoked_at, revoked_by)] = plant.rows("SELECT revoked_at, revoked_by FROM api_token")
    assert revoked_at is not None
    assert revoked_by == "cli:token-revoke"
    [(actor, action)] = plant.rows(
        "SELECT actor_name, action FROM object_change WHERE object_type = 'api_token' ORDER BY id DESC LIMIT 1"
    )
    assert (actor, action) == ("cli:token-revoke", "update")
    assert plant.rows("SELECT count(*) FROM object_change WHERE object_type = 'api_token'") == [(changes_before + 1,)]
    assert again.returncode != 0
    assert "mt_" in one_line(again.stderr), "the refusal names the token"
    assert unknown.returncode != 0
    assert "999" in one_line(unknown.stderr)
    assert "revoked" in plant.run("token", "list").stdout


# --- audit verify -------------------------------------------------------------------------


def test_audit_verify_accepts_the_untouched_change_log(plant: CliDatabase) -> None:
    [(rows,)] = plant.rows("SELECT count(*) FROM object_change")

    result = plant.run("audit", "verify")

    assert result.returncode == 0, result.stderr
    assert f"{rows} rows verified" in one_line(result.stdout)


def _middle_row(plant: CliDatabase) -> int:
    ids = [row_id for (row_id,) in plant.rows("SELECT id FROM object_change ORDER BY id")]
    assert len(ids) >= 3
    return ids[len(ids) // 2]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param("UPDATE object_change SET after = json_set(after, '$.name', 'X') WHERE id = ?", id="after-json"),
        pytest.param("UPDATE object_change SET actor_name = 'admin' WHERE id = ?", id="actor-name"),
    ],
)
def test_audit_verify_names_the_edited_row(plant: CliDatabase, tamper: str) -> None:
    row_id = _middle_row(plant)
    plant.execute(tamper, row_id)

    result = plant.run("audit", "verify")

    assert result.returncode != 0
    assert f"broken at row {row_id}" in one_line(result.stderr)


def test_audit_verify_detects_a_removed_row(plant: CliDatabase) -> None:
    row_id = _middle_row(plant)
    [(next_id,)] = plant.rows("SELECT min(id) FROM object_change WHERE id > ?", row_id)
    plant.execute("DELETE FROM object_change WHERE id = ?", row_id)

    result = plant.run("audit", "verify")

    assert result.returncode != 0
    message = one_line(result.stderr)
    assert f"broken at row {next_id}" in message
    assert "removed" in message


AUDIT_KEY = "cli-audit-key-" + "7" * 24


def _run_keyed(plant: CliDatabase, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with MAINTENANCE_AUDIT_KEY set (the demo plant was loaded without it)."""
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env={**plant.env, "MAINTENANCE_AUDIT_KEY": AUDIT_KEY},
        cwd=plant.var_dir.parent,
        timeout=120,
    )


def test_audit_verify_detects_deleted_newest_rows(plant: CliDatabase) -> None:
    """What is left after deleting the newest rows is an intact chain: the anchor tells."""
    [(rows,)] = plant.rows("SELECT count(*) FROM object_change")
    plant.execute("DELETE FROM object_change WHERE id IN (SELECT id FROM object_change ORDER BY id DESC LIMIT 3)")

    result = plant.run("audit", "verify")

    assert result.returncode != 0
    assert f"{rows - 3} rows verified" in one_line(result.stdout), "the remaining chain is intact"
    message = one_line(result.stderr)
    assert "the chain's end was cut off" in message
    assert f"the anchor records {rows} rows" in message
    assert f"{rows - 3} are present" in message


def test_audit_verify_says_what_it_cannot_detect_without_a_key(plant: CliDatabase) -> None:
    result = plant.run("audit", "verify")

    assert result.returncode == 0, result.stderr
    output = one_line(result.stdout)
    assert "anchor matches" in output
    assert "no MAINTENANCE_AUDIT_KEY" in output
    assert "not a chain recomputed" in output


def _rehash_middle_row(plant: CliDatabase) -> int:
    """Edit a row and recompute every later hash and the anchor's head, as an attacker with the
    database file and the source (not the key) can."""
    from sqlmodel import Session

    from maintenance.db import build_engine
    from tests.audit_attacks import rehash_from

    row_id = _middle_row(plant)
    engine = build_engine(f"sqlite:///{plant.path}")
    try:
        with Session(engine) as session, session.begin():
            rehash_from(session, row_id, drop_hmacs=True, actor_name="admin")
    finally:
        engine.dispose()
    return row_id


def test_audit_seal_then_verify_with_the_key_detects_a_recomputed_chain(plant: CliDatabase) -> None:
    unsealed = _run_keyed(plant, "audit", "verify")
    assert unsealed.returncode != 0
    assert "the anchor carries no HMAC" in one_line(unsealed.stderr)

    sealed = _run_keyed(plant, "audit", "seal")
    assert sealed.returncode == 0, sealed.stderr
    assert "anchors of the 16 chains sealed" in sealed.stdout
    assert _run_keyed(plant, "audit", "verify").returncode == 0

    _rehash_middle_row(plant)

    keyed = _run_keyed(plant, "audit", "verify")
    assert keyed.returncode != 0
    assert "the anchor's HMAC does not match" in one_line(keyed.stderr)
    # Documented: without the key the same forgery passes, and the output says it would.
    unkeyed = plant.run("audit", "verify")
    assert unkeyed.returncode == 0
    assert "no MAINTENANCE_AUDIT_KEY" in one_line(unkeyed.stdout)


def test_audit_seal_refuses_a_broken_log(plant: CliDatabase) -> None:
    plant.execute("DELETE FROM object_change WHERE id = (SELECT max(id) FROM object_change)")

    result = _run_keyed(plant, "audit", "seal")

    assert result.returncode != 0
    assert "not sealed" in one_line(result.stderr)
    assert plant.rows("SELECT DISTINCT hmac FROM audit_chain_anchor") == [(None,)]


def test_audit_seal_needs_the_key(plant: CliDatabase) -> None:
    result = plant.run("audit", "seal")

    assert result.returncode != 0
    assert "MAINTENANCE_AUDIT_KEY is not set" in one_line(result.stderr)


# --- help ---------------------------------------------------------------------------------


def _command_paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group of the app, as the words that name it."""
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*path, name))


def test_the_installed_command_prints_help(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "maintenance"  # the [project.scripts] entry point
    env = CliDatabase(tmp_path / "unused.db", tmp_path / "var").env
    result = subprocess.run([script, "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    for group in ("db", "seed", "serve", "user", "token", "audit"):
        assert group in result.stdout


ALL_COMMANDS = list(_command_paths(typer.main.get_command(cli_app)))


def test_help_is_checked_for_every_operator_command() -> None:
    expected = {
        ("db", "upgrade"),
        ("db", "backup"),
        ("db", "restore"),
        ("seed",),
        ("serve",),
        ("user", "create"),
        ("token", "create"),
        ("token", "list"),
        ("token", "revoke"),
        ("audit", "verify"),
    }
    assert expected <= set(ALL_COMMANDS)


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda path: " ".join(path) or "maintenance")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    # In-process: help touches no database and needs no separate process per command.
    result = CliRunner().invoke(cli_app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
