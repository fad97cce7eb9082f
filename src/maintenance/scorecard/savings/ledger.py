"""The savings ledgers read: a year's (or a period's) savings per ledger, and the filtered list.

A ledger is the manual :class:`SavingsEntry` rows of its kind plus, for refurbish-and-reuse and
spares localisation, the saving already stored on the work-order cost lines of kind refurbished
and localised (``CostLine.saving_cny``). An order's lines count exactly as its cost counts in the
repair cost (:func:`maintenance.orders.costs.finished_in`): orders completed or closed, on the
plant-local day the order finished; cancelled and unfinished orders' lines do not count, and a
reopened order leaves the ledger until it completes again.

Everyone signed in reads every workshop's savings: they are the plant's achievements, and the
orders they come from are readable by all (only the budget scopes engineers to their workshops,
for its costs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends
from pydantic import Field
from sqlalchemy import ColumnElement, Select, String, case, false, func, literal_column, null, select, union_all
from sqlalchemy.sql.expression import type_coerce
from sqlmodel import Session, col

from maintenance.budget.period import FIRST_YEAR, LAST_YEAR
from maintenance.db import WorkshopSplit, contains_text
from maintenance.exceptions import NotFound
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostKind
from maintenance.orders.costs import finished_in
from maintenance.orders.kpis.service import plant_date
from maintenance.orders.models import CostLine, WorkOrder
from maintenance.orders.periods import Period, sql_decimal
from maintenance.scorecard.savings.models import SavingsEntry, SavingsKind
from maintenance.web import ListFilters, RecordId, filters_from_query

ZERO = Decimal("0.00")

# The cost-line kind whose saving feeds a ledger (the tender ledger is entered by hand only).
ORDER_LINE_KIND: dict[SavingsKind, CostKind] = {
    SavingsKind.REFURBISH: CostKind.REFURBISHED,
    SavingsKind.LOCALISATION: CostKind.LOCALISED,
}
_LEDGER_OF_LINE = {line_kind: kind for kind, line_kind in ORDER_LINE_KIND.items()}

DEFAULT_SORT = "-date"
SORT_KEYS = ("date", "saving", "reference", "description")


# --- Totals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerTotal:
    """One ledger's savings in 元: from work orders' cost lines plus entered by hand."""

    from_orders_cny: Decimal = ZERO
    entered_cny: Decimal = ZERO

    @property
    def total_cny(self) -> Decimal:
        return self.from_orders_cny + self.entered_cny


def _order_lines_where(period: Period, workshop_id: int | None, kinds: list[CostKind]) -> list[ColumnElement[bool]]:
    conditions = [*finished_in(period), col(CostLine.kind).in_(kinds)]
    if workshop_id is not None:
        conditions.append(col(WorkOrder.workshop_id) == workshop_id)
    return conditions


def _entries_where(period: Period, workshop_id: int | None) -> list[ColumnElement[bool]]:
    day = col(SavingsEntry.recorded_on)
    conditions = [day >= period.start, day <= period.end]
    if workshop_id is not None:
        conditions.append(col(SavingsEntry.workshop_id) == workshop_id)
    return conditions


def savings_totals(
    session: Session, start: date, end: date, workshop_id: int | None = None
) -> dict[SavingsKind, LedgerTotal]:
    """Every ledger's savings on the plant-local days ``start`` … ``end`` (both included), for the
    plant or one workshop: one query whatever the number of entries and orders."""
    workshops = None if workshop_id is None else [workshop_id]
    return _grouped_totals(session, start, end, workshops)[workshop_id]


def savings_totals_by_workshop(
    session: Session, start: date, end: date, workshop_ids: Sequence[int]
) -> dict[int, dict[SavingsKind, LedgerTotal]]:
    """Every ledger's savings of each of ``workshop_ids`` on those days: the same one query,
    grouped by workshop."""
    totals = _grouped_totals(session, start, end, workshop_ids)
    return {workshop_id: totals[workshop_id] for workshop_id in workshop_ids}


def _grouped_totals(
    session: Session, start: date, end: date, workshop_ids: Sequence[int] | None
) -> dict[int | None, dict[SavingsKind, LedgerTotal]]:
    by_entry = WorkshopSplit(col(SavingsEntry.workshop_id), workshop_ids)
    by_order = WorkshopSplit(col(WorkOrder.workshop_id), workshop_ids)
    if end < start:
        return {key: dict.fromkeys(SavingsKind, LedgerTotal()) for key in by_entry.keys}
    period = Period(start, end)
    entered = (
        select(
            by_entry.key.label("workshop"),
            literal_column("'entry'", String).label("source"),
            type_coerce(col(SavingsEntry.kind), String).label("kind"),
            func.sum(col(SavingsEntry.saving_cny)).label("saving"),
        )
        .where(*_entries_where(period, None), *by_entry.where)
        .group_by(*by_entry.group_by, col(SavingsEntry.kind))
    )
    from_orders = (
        select(
            by_order.key,
            literal_column("'order'", String),
            type_coerce(col(CostLine.kind), String),
            func.sum(col(CostLine.saving_cny)),
        )
        .select_from(WorkOrder)
        .join(CostLine, col(CostLine.order_id) == col(WorkOrder.id))
        .where(*_order_lines_where(period, None, list(_LEDGER_OF_LINE)), *by_order.where)
        .group_by(*by_order.group_by, col(CostLine.kind))
    )
    orders: dict[tuple[int | None, SavingsKind], Decimal] = {}
    entries: dict[tuple[int | None, SavingsKind], Decimal] = {}
    for workshop, source, code, saving in session.execute(union_all(entered, from_orders)):
        if source == "entry":
            entries[workshop, SavingsKind(code)] = sql_decimal(saving)
        else:
            orders[workshop, _LEDGER_OF_LINE[CostKind(code)]] = sql_decimal(saving)
    return {
        key: {kind: LedgerTotal(orders.get((key, kind), ZERO), entries.get((key, kind), ZERO)) for kind in SavingsKind}
        for key in by_entry.keys
    }


# --- The list -----------------------------------------------------------------------------


class SavingsFilters(ListFilters):
    """The list's filters, parsed once from the query and used by the page, its fragment, the
    totals and the exports. The year defaults to the year of the day asked on
    (:meth:`for_today`); dates narrow it."""

    sort_keys = SORT_KEYS

    kind: SavingsKind | None = None
    year: int | None = Field(default=None, ge=FIRST_YEAR, le=LAST_YEAR)
    date_from: date | None = None
    date_to: date | None = None
    workshop_id: RecordId | None = None
    q: str | None = Field(default=None, max_length=100)
    sort: str = DEFAULT_SORT

    def for_today(self, today: date) -> SavingsFilters:
        """These filters with the year left open set to ``today``'s."""
        return self if self.year is not None else self.model_copy(update={"year": today.year})

    @property
    def the_year(self) -> int:
        assert self.year is not None, "for_today() sets the year"
        return self.year

    def period(self) -> Period | None:
        """The days listed: the year, narrowed by the dates (None when nothing is left)."""
        start = max(date(self.the_year, 1, 1), self.date_from or date.min)
        end = min(date(self.the_year, 12, 31), self.date_to or date.max)
        return Period(start, end) if start <= end else None


SavingsFiltersDep = Annotated[SavingsFilters, Depends(filters_from_query(SavingsFilters))]


def _ledger_rows(session: Session, filters: SavingsFilters) -> Any:
    """The union of the entries and the order lines the filters leave, as a subquery with the
    columns both share (``source`` is ``entry`` or ``order``; ``record_id`` the entry's or the
    order's id)."""
    period = filters.period()
    kinds = [filters.kind] if filters.kind is not None else list(SavingsKind)
    entry_where: list[ColumnElement[bool]] = [col(SavingsEntry.kind).in_(kinds)]
    line_where: list[ColumnElement[bool]] = []
    if period is None:
        entry_where.append(false())
        line_where.append(false())
        period = Period(date(filters.the_year, 1, 1), date(filters.the_year, 1, 1))
    entry_where += _entries_where(period, filters.workshop_id)
    line_kinds = [ORDER_LINE_KIND[kind] for kind in kinds if kind in ORDER_LINE_KIND]
    line_where += _order_lines_where(period, filters.workshop_id, line_kinds)
    if filters.q:
        entry_where.append(
            contains_text(col(SavingsEntry.description), filters.q)
            | contains_text(col(SavingsEntry.reference), filters.q)
        )
        line_where.append(
            contains_text(col(CostLine.description), filters.q) | contains_text(col(WorkOrder.number), filters.q)
        )
    entry_columns: tuple[Any, ...] = (
        literal_column("'entry'", String).label("source"),
        col(SavingsEntry.id).label("record_id"),
        col(SavingsEntry.id).label("line_id"),
        col(SavingsEntry.kind).label("kind"),
        col(SavingsEntry.recorded_on).label("day"),
        col(SavingsEntry.workshop_id).label("workshop_id"),
        col(SavingsEntry.description).label("description"),
        col(SavingsEntry.reference).label("reference"),
        col(SavingsEntry.quantity).label("quantity"),
        col(SavingsEntry.reference_price_cny).label("reference_price_cny"),
        col(SavingsEntry.actual_price_cny).label("actual_price_cny"),
        col(SavingsEntry.saving_cny).label("saving_cny"),
        col(SavingsEntry.version).label("version"),
    )
    entries = select(*entry_columns).where(*entry_where)
    line_kind = case(
        *[
            (col(CostLine.kind) == line, literal_column(f"'{kind.value}'", String))
            for kind, line in ORDER_LINE_KIND.items()
        ]
    )
    lines = (
        select(
            literal_column("'order'", String),
            col(WorkOrder.id),
            col(CostLine.id),
            line_kind,
            plant_date(session.get_bind().dialect.name, col(WorkOrder.actual_finish_at), around=period),
            col(WorkOrder.workshop_id),
            col(CostLine.description),
            col(WorkOrder.number),
            col(CostLine.quantity),
            col(CostLine.reference_price_cny),
            col(CostLine.unit_price_cny),
            col(CostLine.saving_cny),
            null(),
        )
        .select_from(WorkOrder)
        .join(CostLine, col(CostLine.order_id) == col(WorkOrder.id))
        .where(*line_where)
    )
    return union_all(entries, lines).subquery("ledger")


def list_rows(session: Session, filters: SavingsFilters) -> Select[Any]:
    """The ledger rows the filters leave, sorted (ties: the latest written first)."""
    rows = _ledger_rows(session, filters)
    key = {
        "date": rows.c.day,
        "saving": rows.c.saving_cny,
        "reference": rows.c.reference,
        "description": rows.c.description,
    }[filters.sort.lstrip("-")]
    order = key.desc() if filters.sort.startswith("-") else key.asc()
    return select(rows).order_by(order, rows.c.source.desc(), rows.c.line_id.desc())


def filtered_total(session: Session, filters: SavingsFilters) -> Decimal:
    """The savings of the filtered rows (one aggregate query)."""
    rows = _ledger_rows(session, filters)
    return sql_decimal(session.scalar(select(func.sum(rows.c.saving_cny))))


def get_entry_or_raise(session: Session, entry_id: int, *, for_update: bool = False) -> SavingsEntry:
    stmt = select(SavingsEntry).where(col(SavingsEntry.id) == entry_id)
    if for_update:
        stmt = stmt.with_for_update()
    entry = session.scalar(stmt)
    if entry is None:
        raise NotFound(_("Savings entry %(id)s does not exist.", id=entry_id))
    return entry
