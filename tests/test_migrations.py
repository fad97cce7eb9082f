"""The migrations are the schema: they build an empty database, match the models exactly,
and can be walked down and up again.

The equivalent of pytest-alembic's built-in tests, written with Alembic's own API. Each
test gets a database nobody else uses: a fresh SQLite file, and, when
``MAINTENANCE_TEST_DATABASE_URL`` points at PostgreSQL, a fresh database on that server.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from maintenance.cli import alembic_config
from maintenance.config import PROJECT_ROOT
from maintenance.db import build_engine, metadata, partition_names, without_partitions
from maintenance.models_registry import import_all_models

import_all_models()

VERSIONS_DIR = PROJECT_ROOT / "migrations" / "versions"
_POSTGRES_URL = os.environ.get("MAINTENANCE_TEST_DATABASE_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not _POSTGRES_URL.startswith("postgresql"), reason="MAINTENANCE_TEST_DATABASE_URL is not PostgreSQL"
            ),
        ],
    ),
]


# --- Helpers ------------------------------------------------------------------------------


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def run_alembic(engine: Engine, action: Callable[..., Any], *args: Any) -> None:
    """Run an Alembic command through migrations/env.py on ``engine``, in one transaction."""
    with engine.begin() as connection:
        config: Config = alembic_config()
        config.attributes["connection"] = connection
        action(config, *args)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def application_tables(engine: Engine) -> set[str]:
    """The tables, a partitioned table standing for its partitions (see ``partition_names``)."""
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names()) - {"alembic_version"} - partition_names(connection)


def schema_drift(engine: Engine) -> list[Any]:
    """What autogenerate would write into a new migration (empty when models and schema agree).

    Same comparison options as migrations/env.py: the project's metadata, ``compare_type`` and
    its ``include_name`` (the partitions of a partitioned table are left out).
    """
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "target_metadata": metadata,
                "render_as_batch": True,
                "include_name": without_partitions(connection),
            },
        )
        return compare_metadata(context, metadata)


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all."""
    if request.param == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        engine.dispose()
        return

    server_url = make_url(_POSTGRES_URL)
    name = f"mt_migrations_{uuid.uuid4().hex[:12]}"
    admin = build_engine(server_url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = build_engine(server_url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- The revision graph and its files -----------------------------------------------------


def test_there_is_exactly_one_head_and_one_base() -> None:
    scripts = script_directory()
    assert len(scripts.get_heads()) == 1, f"branches need a merge migration: {scripts.get_heads()}"
    assert len(scripts.get_bases()) == 1


_FILE_NAME = re.compile(r"^(?P<date>\d{8})_(?P<slug>[a-z0-9]+(?:_[a-z0-9]+)*)_(?P<rev>[0-9a-f]{12})\.py$")


def test_migration_files_are_named_date_slug_revision() -> None:
    scripts = script_directory()
    files = sorted(VERSIONS_DIR.glob("*.py"))
    assert files, "there is at least one migration"
    for path in files:
        match = _FILE_NAME.match(path.name)
        assert match, f"{path.name} is not named YYYYMMDD_slug_revision.py (alembic.ini file_template)"
        revision = scripts.get_revision(match["rev"])
        assert revision is not None, f"{path.name}: no revision {match['rev']}"
        assert Path(revision.path).name == path.name, f"{path.name} declares another revision id"
        created = re.search(r"^Create Date: (\d{4}-\d{2}-\d{2})", path.read_text(encoding="utf-8"), re.MULTILINE)
        assert created, f"{path.name} has no 'Create Date' line"
        created_on = datetime.strptime(created[1], "%Y-%m-%d").date()  # noqa: DTZ007 (a calendar date)
        assert created_on.strftime("%Y%m%d") == match["date"], f"{path.name}: file date differs from its Create Date"


# --- Against a real database --------------------------------------------------------------


def test_upgrade_of_an_empty_database_reaches_head_with_every_model_table(empty_database: Engine) -> None:
    assert application_tables(empty_database) == set()

    run_alembic(empty_database, command.upgrade, "head")

    assert current_revision(empty_database) == script_directory().get_current_head()
    assert application_tables(empty_database) == set(metadata.tables)


def test_upgraded_schema_matches_the_models_exactly(empty_database: Engine) -> None:
    run_alembic(empty_database, command.upgrade, "head")

    assert schema_drift(empty_database) == [], "models changed without a migration (run alembic revision)"
    # migrations/env.py's own autogenerate agrees (it raises AutogenerateDiffsDetected otherwise).
    run_alembic(empty_database, command.check)


def test_each_migration_goes_down_and_up_again(empty_database: Engine) -> None:
    revisions = [script.revision for script in reversed(list(script_directory().walk_revisions()))]

    for revision in revisions:  # one step at a time, oldest first
        run_alembic(empty_database, command.upgrade, revision)
        assert current_revision(empty_database) == revision
    for revision in reversed(revisions):
        assert current_revision(empty_database) == revision
        run_alembic(empty_database, command.downgrade, "-1")

    assert current_revision(empty_database) is None
    assert application_tables(empty_database) == set(), "downgrade to base leaves no table behind"

    run_alembic(empty_database, command.upgrade, "head")
    assert current_revision(empty_database) == script_directory().get_current_head()
    assert schema_drift(empty_database) == []
