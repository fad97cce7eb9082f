"""How the change log names what it recorded: object types, fields and values as users read them.

The change log records any object and knows no domain (design.md §2): nothing under
``maintenance.audit`` imports a domain package. Yet an auditor must read 工单 · 状态: 草稿 → 已批准,
not ``work_order`` · ``state``: ``draft`` → ``approved``. That knowledge reaches the log from two
sides, neither an import upwards:

- **Names are registered by the domains.** Each domain package has an ``audit_labels`` module that
  its ``__init__`` imports, so the labels are registered as soon as any part of the domain is
  imported (the app and the CLI import every domain). It calls :func:`register_labels` per table
  with the table's name and its fields' names as (zh, en) pairs, the way a :class:`Choice` carries
  its labels; optionally a value formatter for values its type does not explain (a rate shown as a
  percentage, the extra values a service logs beside the columns), the columns that name a row
  where another record refers to it (an asset is "P-101 进料泵", not "#42"), the logged fields that
  hold ids of another table without being a foreign-key column, and the fields not worth showing.
  The domain imports audit, which design.md allows; audit imports nothing back.
- **Values are read through the metadata registry**, generically: the log's ``object_type`` is a
  table of ``maintenance.db.metadata``, and a field's column type says how its logged JSON value
  reads: a :class:`ChoiceType` column shows its choice's zh/en label, Boolean 是/否, money (a
  name ending ``_cny``, design.md §4, column or not) 元 with two decimals, :class:`UTCDateTime` plant time, Date a
  date; a foreign key shows the title of the row it points to. None and empty text are "—".

An unregistered table or field still shows, under its code: nothing logged is ever hidden for
lack of a label (only the bookkeeping in :data:`QUIET_FIELDS` and a table's ``hidden`` fields).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, Column, Date, Numeric, Table

from maintenance.choices import ChoiceType
from maintenance.db import UTCDateTime, metadata
from maintenance.i18n import current_locale, format_cny, format_date, format_datetime
from maintenance.i18n import gettext as _

Label = tuple[str, str]
"""(zh, en), as a choice declares its labels."""

ValueFormatter = Callable[[str, Any], str | None]
"""(field, logged value) → the text to show, or None to show the value by its type."""

EMPTY = "—"
# Bookkeeping every change moves: the row's id (the object column names it), its optimistic-lock
# version and its last-change time (the log row's own time).
QUIET_FIELDS = frozenset({"id", "version", "updated_at"})


@dataclass(frozen=True)
class ObjectLabels:
    label: Label
    fields: Mapping[str, Label]
    value_formatter: ValueFormatter | None = None
    title_columns: tuple[str, ...] = ()
    references: Mapping[str, str] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    show_repr: bool = True
    repr_formatter: Callable[[str], str] | None = None


_REGISTRY: dict[str, ObjectLabels] = {}


def register_labels(
    table_name: str,
    label: Label,
    field_labels: Mapping[str, Label],
    value_formatter: ValueFormatter | None = None,
    *,
    title_columns: Iterable[str] = (),
    references: Mapping[str, str] | None = None,
    hidden: Iterable[str] = (),
    show_repr: bool = True,
    repr_formatter: Callable[[str], str] | None = None,
) -> None:
    """Name ``table_name`` and its fields for the change log.

    ``title_columns`` name a row of this table where another refers to it (joined by a space);
    ``references`` maps logged fields that are no foreign-key column to the table whose ids they
    hold (``{"workshop_ids": "workshop"}``); ``hidden`` fields are not shown; ``show_repr=False``
    shows the object as ``#id`` when the text it was logged with is not meant for users."""
    _REGISTRY[table_name] = ObjectLabels(
        label,
        dict(field_labels),
        value_formatter,
        tuple(title_columns),
        dict(references or {}),
        frozenset(hidden),
        show_repr,
        repr_formatter,
    )


def registered(table_name: str) -> ObjectLabels | None:
    return _REGISTRY.get(table_name)


def registered_tables() -> frozenset[str]:
    return frozenset(_REGISTRY)


def pick(label: Label) -> str:
    """The label in the language of the request."""
    return label[0] if current_locale() == "zh_CN" else label[1]


def object_label(table_name: str) -> str:
    labels = _REGISTRY.get(table_name)
    return pick(labels.label) if labels else table_name


def field_label(table_name: str, name: str) -> str:
    labels = _REGISTRY.get(table_name)
    label = labels.fields.get(name) if labels else None
    return pick(label) if label else name


def is_shown(table_name: str, name: str) -> bool:
    labels = _REGISTRY.get(table_name)
    return name not in QUIET_FIELDS and not (labels and name in labels.hidden)


def field_order(table_name: str, names: Iterable[str]) -> list[str]:
    """In the order the domain registered its labels (what a record is first), then the other
    columns in table order, then anything else by name."""
    labels = _REGISTRY.get(table_name)
    table = metadata.tables.get(table_name)
    columns = [column.key for column in table.columns] if table is not None else []
    order = [*(labels.fields if labels else ()), *columns]
    position: dict[str, int] = {}
    for name in order:
        position.setdefault(name, len(position))
    return sorted(names, key=lambda name: (position.get(name, len(position)), name))


def _column(table_name: str, name: str) -> Column[Any] | None:
    table = metadata.tables.get(table_name)
    if table is None or name not in table.columns:
        return None
    return table.columns[name]


def referenced_table(table_name: str, name: str) -> Table | None:
    """The table whose ids the field holds: its foreign key's target, or a registered reference."""
    column = _column(table_name, name)
    if column is not None:
        for foreign_key in column.foreign_keys:
            return foreign_key.column.table
        return None
    labels = _REGISTRY.get(table_name)
    target = labels.references.get(name) if labels else None
    return metadata.tables.get(target) if target else None


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def join_texts(texts: Iterable[str]) -> str:
    return ("、" if current_locale() == "zh_CN" else ", ").join(texts)


def format_value(table_name: str, name: str, value: Any) -> str:
    """A logged value as the pages show it (references are resolved by the caller)."""
    if value is None or value == "":
        return EMPTY
    labels = _REGISTRY.get(table_name)
    if labels and labels.value_formatter:
        text = labels.value_formatter(name, value)
        if text is not None:
            return text
    column = _column(table_name, name)
    if column is not None:
        text = _by_column_type(column, value)
        if text is not None:
            return text
    elif name.endswith("_cny") and not isinstance(value, bool | list | dict):
        text = _money(value)  # money logged beside the columns follows the same naming
        if text is not None:
            return text
    return _by_python_type(value)


def _money(value: Any) -> str | None:
    try:
        return format_cny(Decimal(str(value)))
    except InvalidOperation:
        return None


def _by_column_type(column: Column[Any], value: Any) -> str | None:
    kind = column.type
    try:
        if isinstance(kind, ChoiceType):
            return str(kind.choice(value).label)
        if isinstance(kind, Boolean):
            return yes_no(bool(value))
        if isinstance(kind, UTCDateTime):
            return format_datetime(datetime.fromisoformat(str(value)), "short")
        if isinstance(kind, Date):
            return format_date(date.fromisoformat(str(value)))
        if isinstance(kind, Numeric) and column.key.endswith("_cny"):
            return _money(value)
    except ValueError:
        return None  # a code no longer in the choices, a malformed value: shown as logged
    return None


def _by_python_type(value: Any) -> str:
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, list):
        return join_texts(_by_python_type(item) for item in value) if value else EMPTY
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_by_python_type(item)}" for key, item in value.items())
    return str(value)
