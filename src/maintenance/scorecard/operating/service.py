"""The operating log: the units it is kept for, a year's entries, a month's entries saved at once
(all or nothing, each row in the change log), and the intactness counts (完好率) of the registry
as of a day.

Engineers enter the months of their own workshops' units; managers and admins every unit;
auditors read. A month after the current one cannot be entered.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import plant_day_start, utcnow
from maintenance.exceptions import Conflict, FieldError, PermissionDenied, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders.choices import OrderType
from maintenance.orders.costs import unfinished_at
from maintenance.orders.models import WorkOrder
from maintenance.org.models import Unit, Workshop
from maintenance.org.permissions import require_writer, writable_workshop_ids
from maintenance.scorecard.operating.models import OperatingMonth
from maintenance.scorecard.operating.rules import MonthEntry

# --- Reading the log --------------------------------------------------------------------------


@dataclass(frozen=True)
class LogUnit:
    """A unit as the log lists it, with its workshop."""

    id: int
    code: str
    name: str
    workshop_id: int
    workshop_code: str
    workshop_name: str


def log_units(session: Session, workshop_id: int | None = None) -> list[LogUnit]:
    """The units the log is kept for (one query), grouped by workshop: by workshop code, then unit code."""
    stmt = (
        select(col(Unit.id), col(Unit.code), col(Unit.name), col(Workshop.id), col(Workshop.code), col(Workshop.name))
        .join(Workshop, col(Workshop.id) == col(Unit.workshop_id))
        .order_by(col(Workshop.code), col(Unit.code))
    )
    if workshop_id is not None:
        stmt = stmt.where(col(Unit.workshop_id) == workshop_id)
    return [LogUnit(*row) for row in session.execute(stmt)]


def entry_of(row: OperatingMonth) -> MonthEntry:
    return MonthEntry(row.hours_run, row.planned_hours, row.load_pct)


def months_between(first: date, last: date, unit_ids: Collection[int] | None = None) -> Any:
    """The entries of the months ``first`` to ``last`` (first days), of ``unit_ids`` (None: all)."""
    stmt = select(OperatingMonth).where(col(OperatingMonth.month) >= first, col(OperatingMonth.month) <= last)
    if unit_ids is not None:
        stmt = stmt.where(col(OperatingMonth.unit_id).in_(list(unit_ids)))
    return stmt.order_by(col(OperatingMonth.unit_id), col(OperatingMonth.month))


def year_entries(
    session: Session, year: int, unit_ids: Collection[int] | None = None, *, last_month: int = 12
) -> dict[tuple[int, int], OperatingMonth]:
    """The year's entries by (unit id, month 1–12), up to ``last_month`` (one query)."""
    stmt = months_between(date(year, 1, 1), date(year, last_month, 1), unit_ids)
    return {(row.unit_id, row.month.month): row for row in session.scalars(stmt)}


def year_entries_by_workshop(
    session: Session, year: int, workshop_ids: Sequence[int], *, last_month: int = 12
) -> dict[int, list[OperatingMonth]]:
    """The year's entries up to ``last_month`` of each of ``workshop_ids``' units, by unit then
    month (one query for them all)."""
    stmt = (
        months_between(date(year, 1, 1), date(year, last_month, 1))
        .join(Unit, col(Unit.id) == col(OperatingMonth.unit_id))
        .add_columns(col(Unit.workshop_id))
        .where(col(Unit.workshop_id).in_(list(workshop_ids)))
    )
    grouped: dict[int, list[OperatingMonth]] = {workshop_id: [] for workshop_id in workshop_ids}
    for row, workshop_id in session.execute(stmt):
        grouped[workshop_id].append(row)
    return grouped


def month_entries(session: Session, month: date, unit_ids: Collection[int]) -> dict[int, OperatingMonth]:
    """``month``'s entries by unit id (one query)."""
    return {row.unit_id: row for row in session.scalars(months_between(month, month, unit_ids))}


# --- Writing a month --------------------------------------------------------------------------


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def check_not_future(month: date, today: date) -> None:
    if month > first_of_month(today):
        message = _("%(month)s has not begun: enter months up to the current one.", month=month.strftime("%Y-%m"))
        raise ValidationFailed(message, [FieldError("month", message)])


def require_units_writable(session: Session, actor: Actor, unit_ids: Collection[int]) -> None:
    """Refuse (:class:`PermissionDenied`) an actor who may not write every one of ``unit_ids``'
    workshops, and (:class:`ValidationFailed`) ids of no unit (one query)."""
    require_writer(actor)
    stmt = select(col(Unit.id), col(Unit.workshop_id)).where(col(Unit.id).in_(list(unit_ids)))
    unit_workshops: dict[int, int] = {row[0]: row[1] for row in session.execute(stmt)}
    if missing := sorted(set(unit_ids) - set(unit_workshops)):
        message = _("No such unit: %(ids)s.", ids=", ".join(map(str, missing)))
        raise ValidationFailed(message, [FieldError("unit", message)])
    writable = writable_workshop_ids(session, actor)
    if writable is not None and any(unit_workshops[u] not in writable for u in unit_ids):
        raise PermissionDenied(_("You can only change records of your own workshops."))


def save_month(
    session: Session,
    month: date,
    entries: Mapping[int, MonthEntry | None],
    *,
    actor: Actor,
    today: date,
) -> tuple[int, int, int]:
    """Make ``month``'s entries of the units named in ``entries`` what it says (None: not
    reported, its row removed); units not named are left as they are. All or nothing: a unit the
    actor may not write is a :class:`PermissionDenied` before anything is written; two saves of
    the same new row at one moment end in a :class:`Conflict`. Returns (created, changed, removed)."""
    check_not_future(month, today)
    require_units_writable(session, actor, list(entries))
    stored = month_entries(session, month, list(entries))
    created = changed = removed = 0
    try:
        with session.begin_nested():
            for unit_id, entry in entries.items():
                row = stored.get(unit_id)
                if row is None and entry is not None:
                    row = OperatingMonth(unit_id=unit_id, month=month, **asdict(entry))
                    session.add(row)
                    session.flush()
                    audit.record_create(session, actor, row)
                    created += 1
                elif row is not None and entry is None:
                    audit.record_delete(session, actor, row)
                    session.delete(row)
                    session.flush()
                    removed += 1
                elif row is not None and entry is not None and entry_of(row) != entry:
                    before = audit.snapshot(row)
                    row.sqlmodel_update({**asdict(entry), "updated_at": utcnow()})
                    session.flush()
                    audit.record_update(session, actor, row, before)
                    changed += 1
    except IntegrityError:
        raise Conflict(
            _("Someone else saved this month at the same moment: nothing was written. Reload the month.")
        ) from None
    return created, changed, removed


# --- 完好率 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intactness:
    """A workshop's (or the plant's) assets in service and intact as of a day."""

    in_service: int = 0
    intact: int = 0


def intactness_by_workshop(session: Session, as_of: date, workshop_id: int | None = None) -> dict[int, Intactness]:
    """Assets in service and intact at the end of ``as_of``, by workshop (one grouped query).

    In service: assets in service or on standby, and assets under repair with a corrective (CM)
    order open; an asset under repair without an open CM order is under planned repair and left
    out, as are idle and retired assets. Intact: in service with no CM order open. An order is
    open at the end of the day when it was requested by then and was neither finished nor
    cancelled by then (:func:`maintenance.orders.costs.unfinished_at`).

    The status is the registry's current one: its history is not read, so a past day is counted
    with today's statuses (and that day's orders)."""
    moment = plant_day_start(as_of + timedelta(days=1))
    open_cm = (
        select(col(WorkOrder.asset_id))
        .where(
            col(WorkOrder.order_type) == OrderType.CM,
            col(WorkOrder.requested_at) < moment,
            *unfinished_at(moment),
        )
        .scalar_subquery()
    )
    has_open_cm = col(Asset.id).in_(open_cm)
    running = col(Asset.status).in_([AssetStatus.IN_SERVICE, AssetStatus.STANDBY])
    in_service = case((running, 1), (has_open_cm, 1), else_=0)
    intact = case((running & ~has_open_cm, 1), else_=0)
    stmt = (
        select(col(Asset.workshop_id), func.sum(in_service), func.sum(intact))
        .where(col(Asset.status).in_([AssetStatus.IN_SERVICE, AssetStatus.STANDBY, AssetStatus.UNDER_REPAIR]))
        .group_by(col(Asset.workshop_id))
    )
    if workshop_id is not None:
        stmt = stmt.where(col(Asset.workshop_id) == workshop_id)
    return {ws: Intactness(int(total or 0), int(good or 0)) for ws, total, good in session.execute(stmt)}


def plant_intactness(counts: Sequence[Intactness] | Mapping[int, Intactness]) -> Intactness:
    values = counts.values() if isinstance(counts, Mapping) else counts
    return Intactness(sum(c.in_service for c in values), sum(c.intact for c in values))
