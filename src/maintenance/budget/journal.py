"""The finance journal (财务凭证): repair costs booked outside work orders. Its filters, the
filtered list and its total, writing a file's entries at once, and deleting an entry imported by
mistake, each in the change log.

An entry counts in the actual repair cost on its booking day (:mod:`maintenance.orders.costs`),
so engineers read their own workshops' entries only; managers, admins and auditors read every
workshop's. Only managers and admins write the journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends
from pydantic import Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import contains_text
from maintenance.exceptions import Conflict, FieldError, NotFound
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostCategory
from maintenance.orders.models import JournalEntry, JournalEntryFields
from maintenance.org.models import User
from maintenance.org.permissions import Capability, require
from maintenance.web import ListFilters, RecordId, filters_from_query

DEFAULT_SORT = "-date"
# Sort keys → the column they order by (the id breaks ties, newest first).
SORTABLE: dict[str, Any] = {
    "date": col(JournalEntry.booked_on),
    "amount": col(JournalEntry.amount_cny),
    "reference": col(JournalEntry.reference),
}


# --- Reading ------------------------------------------------------------------------------


class JournalFilters(ListFilters):
    """The list's filters, parsed once from the query and used by the page, its fragment, the
    total and the exports. Without dates the list shows the year of the day it is asked on
    (:meth:`within_year_of`)."""

    sort_keys = SORTABLE

    date_from: date | None = None
    date_to: date | None = None
    workshop_id: RecordId | None = None
    category: CostCategory | None = None
    q: str | None = Field(default=None, max_length=100)
    sort: str = DEFAULT_SORT

    def within_year_of(self, today: date) -> JournalFilters:
        """These filters with the dates left open set to ``today``'s year."""
        return self.model_copy(
            update={
                "date_from": self.date_from or date(today.year, 1, 1),
                "date_to": self.date_to or date(today.year, 12, 31),
            }
        )


JournalFiltersDep = Annotated[JournalFilters, Depends(filters_from_query(JournalFilters))]


def listed_workshop_ids(readable: list[int] | None, chosen: int | None) -> list[int] | None:
    """The workshops the list shows: the one ``chosen`` when it is readable, else all readable."""
    if chosen is None:
        return readable
    return [chosen] if readable is None or chosen in readable else []


def _conditions(filters: JournalFilters, workshop_ids: list[int] | None) -> list[ColumnElement[bool]]:
    booked = col(JournalEntry.booked_on)
    conditions: list[ColumnElement[bool]] = []
    if workshop_ids is not None:
        conditions.append(col(JournalEntry.workshop_id).in_(workshop_ids))
    if filters.date_from is not None:
        conditions.append(booked >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(booked <= filters.date_to)
    if filters.category is not None:
        conditions.append(col(JournalEntry.category) == filters.category)
    if filters.q:
        conditions.append(
            contains_text(col(JournalEntry.reference), filters.q)
            | contains_text(col(JournalEntry.description), filters.q)
        )
    return conditions


def list_entries(filters: JournalFilters, workshop_ids: list[int] | None) -> Select[Any]:
    """Rows of (entry, importer's name as :attr:`User.display_name` gives it), filtered and sorted."""
    key = SORTABLE[filters.sort.lstrip("-")]
    order = key.desc() if filters.sort.startswith("-") else key.asc()
    importer = func.coalesce(func.nullif(col(User.full_name), ""), col(User.username)).label("imported_by")
    columns: tuple[Any, ...] = (JournalEntry, importer)
    return (
        select(*columns)
        .outerjoin(User, col(User.id) == col(JournalEntry.imported_by_id))
        .where(*_conditions(filters, workshop_ids))
        .order_by(order, col(JournalEntry.id).desc())
    )


def total_of(session: Session, filters: JournalFilters, workshop_ids: list[int] | None) -> Decimal:
    """The sum of the filtered entries' amounts (one aggregate query), reversals included."""
    stmt = select(func.coalesce(func.sum(col(JournalEntry.amount_cny)), 0)).where(*_conditions(filters, workshop_ids))
    return Decimal(session.scalar(stmt) or 0).quantize(Decimal("0.01"))


def entries_by_reference(session: Session, references: Sequence[str]) -> dict[str, JournalEntry]:
    """The entries already booked under any of ``references`` (one query)."""
    if not references:
        return {}
    stmt = select(JournalEntry).where(col(JournalEntry.reference).in_(list(references)))
    return {entry.reference: entry for entry in session.scalars(stmt)}


def get_entry_or_raise(session: Session, entry_id: int) -> JournalEntry:
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(_("Finance journal entry %(id)s does not exist.", id=entry_id))
    return entry


# --- Writing ------------------------------------------------------------------------------


def create_entries(
    session: Session, entries: Sequence[JournalEntryFields], *, source_file: str, actor: Actor
) -> list[JournalEntry]:
    """Book every entry, or none: a reference booked meanwhile (another import confirmed at the
    same moment) trips the unique constraint inside a savepoint and is refused as a Conflict
    naming it, with nothing of this file written."""
    require(actor, Capability.MANAGE)
    importer = actor.id if isinstance(actor, User) else None
    rows = [
        JournalEntry(**data.model_dump(), source_file=source_file[:200], imported_by_id=importer) for data in entries
    ]
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        booked = entries_by_reference(session, [data.reference for data in entries])
        names = ", ".join(sorted(booked)) or "?"
        message = _("Nothing was imported: the vouchers %(references)s were imported meanwhile.", references=names)
        raise Conflict(message, [FieldError(_("Voucher"), message)]) from None
    for row in rows:
        audit.record_create(session, actor, row)
    return rows


def delete_entry(session: Session, entry: JournalEntry, *, actor: Actor) -> None:
    """Remove an entry imported by mistake; the change log keeps what it was."""
    require(actor, Capability.MANAGE)
    audit.record_delete(session, actor, entry)
    session.delete(entry)
    session.flush()
