"""The accident register: its filters and the filtered list, the counts the accident rate is
made of, recording, editing and deleting an accident, and its corrective actions (added, edited,
marked done, deleted, and each able to raise one corrective work order). Services flush, never
commit; every write is in the change log.

Everyone reads the register. Engineers record and edit the accidents of their own workshops'
assets (the accident keeps the workshop its asset had when it was recorded); managers and admins
everywhere; only they delete an accident; auditors read and export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends
from pydantic import Field
from sqlalchemy import ColumnElement, Select, case, func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.budget.period import FIRST_YEAR
from maintenance.db import WorkshopSplit, contains_text, utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders import service as order_service
from maintenance.orders.choices import OrderType, Provider
from maintenance.orders.models import WorkOrder, WorkOrderCreate
from maintenance.org.permissions import Capability, require, require_write_in
from maintenance.scorecard.accidents import rules
from maintenance.scorecard.accidents.models import (
    Accident,
    AccidentAction,
    AccidentActionCreate,
    AccidentActionUpdate,
    AccidentClass,
    AccidentCreate,
    AccidentFields,
    AccidentUpdate,
)
from maintenance.web import ListFilters, RecordId, filters_from_query

DEFAULT_SORT = "-date"
# Sort keys → the columns they order by (the day, then the id, break ties).
SORTABLE: dict[str, tuple[Any, ...]] = {
    "date": (col(Accident.occurred_on),),
    "tag": (col(Asset.tag), col(Accident.occurred_on)),
    "class": (col(Accident.accident_class), col(Accident.occurred_on)),
    "downtime": (col(Accident.downtime_hours), col(Accident.occurred_on)),
    "loss": (col(Accident.loss_cny), col(Accident.occurred_on)),
}


# --- Reading ------------------------------------------------------------------------------


class AccidentFilters(ListFilters):
    """The list's filters, parsed once from the query and used by the page, its fragment and the
    exports. Without a year the list shows the year of the day it is asked on (:meth:`of_year`)."""

    sort_keys = SORTABLE

    year: int | None = Field(default=None, ge=2000, le=2100)
    accident_class: AccidentClass | None = None
    workshop_id: RecordId | None = None
    q: str | None = Field(default=None, max_length=100)
    sort: str = DEFAULT_SORT

    def of_year(self, today: date) -> AccidentFilters:
        """These filters with the year left open set to ``today``'s."""
        return self if self.year is not None else self.model_copy(update={"year": today.year})

    def as_of(self, today: date) -> date:
        """The day the year's rate is counted through: today in this year, its last day in a past
        year (a year still to come has no day counted yet: its first day, before any accident)."""
        year = self.year or today.year
        return min(today, date(year, 12, 31)) if year <= today.year else date(year, 1, 1)


AccidentFiltersDep = Annotated[AccidentFilters, Depends(filters_from_query(AccidentFilters))]


def _open_actions() -> Any:
    """Per accident row, how many of its corrective actions are not done (a correlated count)."""
    return (
        select(func.count(col(AccidentAction.id)))
        .where(col(AccidentAction.accident_id) == col(Accident.id), col(AccidentAction.done_on).is_(None))
        .correlate(Accident)
        .scalar_subquery()
        .label("open_actions")
    )


def _conditions(filters: AccidentFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.year is not None:
        day = col(Accident.occurred_on)
        conditions += [day >= date(filters.year, 1, 1), day <= date(filters.year, 12, 31)]
    if filters.accident_class is not None:
        conditions.append(col(Accident.accident_class) == filters.accident_class)
    if filters.workshop_id is not None:
        conditions.append(col(Accident.workshop_id) == filters.workshop_id)
    if filters.q:
        conditions.append(contains_text(col(Accident.title), filters.q) | contains_text(col(Asset.tag), filters.q))
    return conditions


def _rows() -> Select[Any]:
    """Rows of (accident, asset tag, asset name, open actions)."""
    columns: tuple[Any, ...] = (
        Accident,
        col(Asset.tag).label("asset_tag"),
        col(Asset.name).label("asset_name"),
        _open_actions(),
    )
    return select(*columns).join(Asset, col(Asset.id) == col(Accident.asset_id))


def list_accidents(filters: AccidentFilters) -> Select[Any]:
    """Rows of (accident, asset tag, asset name, open actions), filtered and sorted."""
    descending = filters.sort.startswith("-")
    keys = SORTABLE[filters.sort.lstrip("-")]
    order = [key.desc() if descending else key.asc() for key in keys]
    tie = col(Accident.id).desc() if descending else col(Accident.id).asc()
    return _rows().where(*_conditions(filters)).order_by(*order, tie)


def accidents_on_asset(asset_id: int) -> Select[Any]:
    """The asset's accidents and incidents of every year, the latest first, as rows of
    :func:`list_accidents` (the asset page's tab)."""
    latest = (col(Accident.occurred_on).desc(), col(Accident.id).desc())
    return _rows().where(col(Accident.asset_id) == asset_id).order_by(*latest)


@dataclass(frozen=True)
class AccidentCounts:
    """The accidents (incidents apart) of this year to date and of the same span last year."""

    as_of: date
    rate: rules.AccidentRate
    incidents: int


def count_accidents(session: Session, as_of: date, *, workshop_id: int | None = None) -> AccidentCounts:
    """This year's accidents through ``as_of``, last year's through the same day and this year's
    incidents, in one query (for one workshop when ``workshop_id`` is given)."""
    return _grouped_counts(session, as_of, WorkshopSplit.of(col(Accident.workshop_id), workshop_id))[workshop_id]


def count_accidents_by_workshop(
    session: Session, as_of: date, workshop_ids: Sequence[int]
) -> dict[int, AccidentCounts]:
    """Each of ``workshop_ids``' counts: the same one query, grouped by workshop."""
    counts = _grouped_counts(session, as_of, WorkshopSplit(col(Accident.workshop_id), workshop_ids))
    return {workshop_id: counts[workshop_id] for workshop_id in workshop_ids}


def _grouped_counts(session: Session, as_of: date, split: WorkshopSplit) -> dict[int | None, AccidentCounts]:
    this_from, this_to = rules.this_year_span(as_of)
    last_from, last_to = rules.last_year_span(as_of)
    day = col(Accident.occurred_on)
    is_incident = col(Accident.accident_class) == AccidentClass.INCIDENT
    this_year = day.between(this_from, this_to)

    def counted(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    stmt = (
        select(
            split.key,
            counted(this_year & ~is_incident),
            counted(day.between(last_from, last_to) & ~is_incident),
            counted(this_year & is_incident),
        )
        .where(day >= last_from, day <= this_to, *split.where)
        .group_by(*split.group_by)
    )
    counts = {key: AccidentCounts(as_of, rules.AccidentRate(0, 0), 0) for key in split.keys}
    for key, this, last, incidents in session.execute(stmt):
        counts[key] = AccidentCounts(as_of, rules.AccidentRate(int(this), int(last)), int(incidents))
    return counts


def get_accident_or_raise(session: Session, accident_id: int, *, for_update: bool = False) -> Accident:
    stmt = select(Accident).where(col(Accident.id) == accident_id)
    if for_update:
        stmt = stmt.with_for_update()
    accident = session.scalar(stmt)
    if accident is None:
        raise NotFound(_("Accident %(id)s does not exist.", id=accident_id))
    return accident


def actions_of(session: Session, accident: Accident) -> list[tuple[AccidentAction, str | None]]:
    """The accident's corrective actions in the order they were added, each with the number of
    the work order it raised (one query)."""
    stmt = (
        select(AccidentAction, col(WorkOrder.number))
        .outerjoin(WorkOrder, col(WorkOrder.id) == col(AccidentAction.order_id))
        .where(col(AccidentAction.accident_id) == accident.id)
        .order_by(col(AccidentAction.id))
    )
    return [(action, number) for action, number in session.execute(stmt).all()]


def get_action_or_raise(
    session: Session, accident: Accident, action_id: int, *, for_update: bool = False
) -> AccidentAction:
    stmt = select(AccidentAction).where(
        col(AccidentAction.id) == action_id, col(AccidentAction.accident_id) == accident.id
    )
    if for_update:
        stmt = stmt.with_for_update()
    action = session.scalar(stmt)
    if action is None:
        raise NotFound(_("Corrective action %(id)s does not exist.", id=action_id))
    return action


# --- Recording and editing ------------------------------------------------------------------


def _refused(errors: list[FieldError]) -> ValidationFailed:
    return ValidationFailed(_("The accident was not saved."), errors)


def _checked_asset(session: Session, data: AccidentFields, *, today: date) -> Asset:
    """The accident's asset, after the checks no model can make: it exists, the day has come."""
    asset = session.get(Asset, data.asset_id)
    if asset is None:
        raise _refused([FieldError("asset_id", _("No such asset."))])
    if data.occurred_on > today:
        raise _refused([FieldError("occurred_on", _("The accident date cannot be in the future."))])
    if data.occurred_on < date(FIRST_YEAR, 1, 1):
        raise _refused([FieldError("occurred_on", _("Enter a date in %(first)s or later.", first=FIRST_YEAR))])
    return asset


def record_accident(session: Session, data: AccidentCreate, *, today: date, actor: Actor) -> Accident:
    """Record an accident of ``data.asset_id`` in the asset's workshop of today."""
    asset = _checked_asset(session, data, today=today)
    require_write_in(session, actor, asset.workshop_id)
    accident = Accident.model_validate(
        data, update={"workshop_id": asset.workshop_id, "recorded_by_id": actor.id, "created_at": utcnow()}
    )
    session.add(accident)
    session.flush()
    audit.record_create(session, actor, accident)
    return accident


def _stale() -> Conflict:
    return Conflict(
        _("Someone else changed this accident while you were editing it. Review and edit again."),
        [FieldError("version", _("stale"))],
    )


def update_accident(
    session: Session, accident: Accident, data: AccidentUpdate, *, today: date, actor: Actor
) -> Accident:
    """Apply a full edit made from ``data.version``; a newer stored version is a conflict (here or,
    saved meanwhile, in the UPDATE). Moving it to another asset moves it to that asset's workshop:
    the editor must write in both."""
    require_write_in(session, actor, accident.workshop_id)
    if data.version != accident.version:
        raise _stale()
    asset = _checked_asset(session, data, today=today)
    changes: dict[str, Any] = data.model_dump(exclude={"version"})
    if asset.id != accident.asset_id:
        require_write_in(session, actor, asset.workshop_id)
        changes["workshop_id"] = asset.workshop_id
    before = audit.snapshot(accident)
    with versioned_write(session, accident, _stale):
        accident.sqlmodel_update(changes)
        changed = audit.snapshot(accident) != before
        if changed:
            accident.version += 1
            accident.updated_at = utcnow()
    if changed:
        audit.record_update(session, actor, accident, before)
    return accident


def delete_accident(session: Session, accident: Accident, *, actor: Actor) -> None:
    """Remove an accident recorded by mistake with its actions (managers and admins); the orders
    its actions raised stay. The change log keeps what each was."""
    require(actor, Capability.MANAGE)
    for action, _number in actions_of(session, accident):
        audit.record_delete(session, actor, action)
        session.delete(action)
    audit.record_delete(session, actor, accident)
    session.delete(accident)
    session.flush()


# --- Corrective actions -----------------------------------------------------------------------


def _refused_action(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("The corrective action was not saved."), [FieldError(field, message)])


def _check_done_on(done_on: date | None, *, today: date) -> None:
    if done_on is not None and done_on > today:
        raise _refused_action("done_on", _("The action cannot be done after today."))


def add_action(
    session: Session, accident: Accident, data: AccidentActionCreate, *, today: date, actor: Actor
) -> AccidentAction:
    require_write_in(session, actor, accident.workshop_id)
    _check_done_on(data.done_on, today=today)
    action = AccidentAction.model_validate(data, update={"accident_id": accident.id, "created_at": utcnow()})
    session.add(action)
    session.flush()
    audit.record_create(session, actor, action)
    return action


def _stale_action() -> Conflict:
    return Conflict(
        _("Someone else changed this corrective action while you were editing it. Review and edit again."),
        [FieldError("version", _("stale"))],
    )


def update_action(
    session: Session,
    accident: Accident,
    action: AccidentAction,
    data: AccidentActionUpdate,
    *,
    today: date,
    actor: Actor,
) -> AccidentAction:
    """Apply a full edit made from ``data.version``; a newer stored version is a conflict."""
    require_write_in(session, actor, accident.workshop_id)
    if data.version != action.version:
        raise _stale_action()
    _check_done_on(data.done_on, today=today)
    _write_action(session, action, data.model_dump(exclude={"version"}), actor=actor)
    return action


def mark_done(
    session: Session, accident: Accident, action: AccidentAction, done_on: date, *, today: date, actor: Actor
) -> AccidentAction:
    """The action is done on ``done_on`` (not after today). Only the date changes, on the row as
    stored now (the route loads it locked), so no form of anyone's is overwritten."""
    require_write_in(session, actor, accident.workshop_id)
    _check_done_on(done_on, today=today)
    _write_action(session, action, {"done_on": done_on}, actor=actor)
    return action


def _write_action(session: Session, action: AccidentAction, changes: dict[str, Any], *, actor: Actor) -> None:
    before = audit.snapshot(action)
    with versioned_write(session, action, _stale_action):
        action.sqlmodel_update(changes)
        changed = audit.snapshot(action) != before
        if changed:
            action.version += 1
    if changed:
        audit.record_update(session, actor, action, before)


def delete_action(session: Session, accident: Accident, action: AccidentAction, *, actor: Actor) -> None:
    """Remove an action; the order it raised, if any, stays."""
    require_write_in(session, actor, accident.workshop_id)
    audit.record_delete(session, actor, action)
    session.delete(action)
    session.flush()


@dataclass(frozen=True)
class RaisedOrder:
    order: WorkOrder
    created: bool


def raise_order(
    session: Session, accident: Accident, action: AccidentAction, *, actor: Actor, at: datetime | None = None
) -> RaisedOrder:
    """A corrective (CM) order on the accident's asset for the action, once: an action with an
    order answers with it. The caller locks the action's row first
    (``get_action_or_raise(for_update=True)``) so two clicks queue rather than raise two. ``at``
    backdates the order (demo history)."""
    require_write_in(session, actor, accident.workshop_id)
    if action.order_id is not None:
        existing = session.get(WorkOrder, action.order_id)
        if existing is not None:
            return RaisedOrder(existing, False)
    order = order_service.create_order(
        session,
        WorkOrderCreate(
            order_type=OrderType.CM,
            asset_id=accident.asset_id,
            title=_("Accident %(title)s: %(action)s", title=accident.title, action=action.description)[:200],
            description=accident.cause,
            provider=Provider.IN_HOUSE,
        ),
        actor=actor,
        at=at,
    )
    before = audit.snapshot(action)
    action.order_id = order.id
    session.flush()
    audit.record_update(session, actor, action, before)
    return RaisedOrder(order, True)
