"""The change log as an auditor reads it: each row's object, fields and values in words.

Names and value formats come from :mod:`maintenance.audit.labels`. Values that are ids of other
records (foreign keys, registered references) are shown by the title of the record they point to,
looked up for a whole page at once: one query per table referred to, whatever the number of rows.
A record deleted since shows as ``#id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from maintenance.audit.labels import (
    EMPTY,
    field_label,
    field_order,
    format_value,
    is_shown,
    join_texts,
    object_label,
    referenced_table,
    registered,
)
from maintenance.audit.models import ChangeAction, ObjectChange

# Ids looked up per query (well below every engine's limit on bound parameters).
_CHUNK = 500


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class ChangeView:
    change: ObjectChange
    object_label: str
    title: str
    fields: list[FieldChange]


def object_title(change: ObjectChange) -> str:
    """What the object was called when it was logged, or ``#id`` (never both: a stocktake logged
    as "#1" is 盘点 #1, not #1 #1)."""
    labels = registered(change.object_type)
    if not change.object_repr or (labels is not None and not labels.show_repr):
        return f"#{change.object_id}"
    if labels is not None and labels.repr_formatter is not None:
        return labels.repr_formatter(change.object_repr)
    return change.object_repr


def change_views(session: Session, changes: Sequence[ObjectChange]) -> list[ChangeView]:
    shown = [
        (change, [(name, old, new) for name, old, new in _fields(change) if _worth_showing(change, name, old, new)])
        for change in changes
    ]
    wanted: dict[str, tuple[Table, set[int]]] = {}
    for change, fields in shown:
        for name, old, new in fields:
            target = referenced_table(change.object_type, name)
            if target is not None:
                ids = wanted.setdefault(target.name, (target, set()))[1]
                ids |= _ids(old) | _ids(new)
    titles = {name: _titles(session, table, ids) for name, (table, ids) in wanted.items()}

    def text(table_name: str, name: str, value: Any) -> str:
        if value is None:
            return EMPTY
        target = referenced_table(table_name, name)
        if target is None:
            return format_value(table_name, name, value)
        found = titles.get(target.name, {})
        values = value if isinstance(value, list) else [value]
        return join_texts(found.get(item, f"#{item}") for item in values) if values else EMPTY

    return [
        ChangeView(
            change,
            object_label(change.object_type),
            object_title(change),
            [
                FieldChange(
                    name,
                    field_label(change.object_type, name),
                    text(change.object_type, name, old),
                    text(change.object_type, name, new),
                )
                for name, old, new in fields
            ],
        )
        for change, fields in shown
    ]


def _worth_showing(change: ObjectChange, name: str, old: Any, new: Any) -> bool:
    """Bookkeeping is not shown, nor, in a record created or deleted, the fields left empty."""
    if not is_shown(change.object_type, name):
        return False
    return change.action == ChangeAction.UPDATE or (old if new is None else new) not in ("", [], {})


def _fields(change: ObjectChange) -> list[tuple[str, Any, Any]]:
    by_name = {name: (old, new) for name, old, new in change.changed_fields()}
    return [(name, *by_name[name]) for name in field_order(change.object_type, by_name)]


def _ids(value: Any) -> set[int]:
    values = value if isinstance(value, list) else [value]
    return {item for item in values if isinstance(item, int) and not isinstance(item, bool)}


def _titles(session: Session, table: Table, ids: Iterable[int]) -> dict[int, str]:
    labels = registered(table.name)
    key = list(table.primary_key.columns)
    if labels is None or not labels.title_columns or len(key) != 1:
        return {}
    columns = [table.columns[name] for name in labels.title_columns]
    wanted = sorted(ids)
    titles: dict[int, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(key[0], *columns).where(key[0].in_(wanted[start : start + _CHUNK]))
        for row_id, *parts in session.execute(stmt):
            titles[row_id] = " ".join(str(part) for part in parts if part not in (None, "")) or f"#{row_id}"
    return titles
