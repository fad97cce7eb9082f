"""Alembic environment: the URL comes from settings (or a connection handed in by tests)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlmodel.sql.sqltypes import AutoString

from maintenance.choices import ChoiceType
from maintenance.config import get_settings
from maintenance.db import UTCDateTime, build_engine, metadata, without_partitions
from maintenance.models_registry import import_all_models

import_all_models()
config = context.config


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our column types as the plain SQL types they store, so migrations never
    import application code that may change later."""
    if type_ != "type":
        return False
    if isinstance(obj, ChoiceType):
        return f"sa.String(length={obj.impl.length})"  # type: ignore[attr-defined]
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    dialect = connection.dialect.name if connection is not None else url.split(":", 1)[0]  # type: ignore[union-attr]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=metadata,
        compare_type=True,
        render_item=_render_item,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=dialect.startswith("sqlite"),
        literal_binds=connection is None,
        # On PostgreSQL ``reading`` is partitioned by year (migration eadc435fdf6d): its partitions
        # are tables no model describes, which autogenerate would otherwise offer to drop.
        include_name=without_partitions(connection) if connection is not None else None,
    )


def run_migrations_offline() -> None:
    _configure(url=get_settings().database_url)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = build_engine(get_settings().database_url)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
