"""Inspection routes (点检路线) and the rounds walked on them.

A **route** belongs to a workshop and lists its **stops** in walking order: a stop reads a
measurement point or asks an OK / not-OK question about an asset. A **round** is one walk of a
route in one period of its frequency (see :mod:`round_periods`); ``(route, period_start)`` is
unique, so the scheduler (:func:`generate_rounds`) and an engineer pressing "start" on a phone
(:func:`ensure_round`) make the same round however often and from however many places they run.

An **entry** is what was found at one stop of one round, unique per (round, stop). A value goes
in through :func:`ingest.ingest_readings` (source "round") like every other reading, so it is
judged against the point's limits and an alarm raises the point's one CBM order, which the entry
then links to. A failed check raises a corrective order on the asset at once. A submit retried
over a flaky network finds its entry stored and changes nothing: it is never lost (the engineer
sees whether it arrived) and never doubled.

Finishing a round lists the stops not walked; a round not finished by the end of its period (and
:data:`round_periods.GRACE`) is missed. The completion KPI counts every period that has ended —
including those nobody started, which have no round row — so an idle route shows 0 %, not nothing.

Services flush, never commit; every write is in the change log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor, SystemActor
from maintenance.db import utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.files import store_named_upload
from maintenance.i18n import gettext as _
from maintenance.inspections.choices import RoundState
from maintenance.inspections.models import (
    InspectionRound,
    InspectionRoute,
    RoundEntry,
    RouteCreate,
    RouteFields,
    RouteStop,
    RouteUpdate,
    StopFields,
)
from maintenance.inspections.round_periods import GRACE, accepts_entries, period_of, periods_between
from maintenance.monitoring.alerts import ACTIVE_ALERT_STATES
from maintenance.monitoring.choices import ReadingSource
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint, Reading
from maintenance.monitoring.readings.ingest import ReadingIn, ingest_readings
from maintenance.monitoring.service import check_may_write
from maintenance.orders import service as order_service
from maintenance.orders.choices import ChecklistResult, OrderType, Provider
from maintenance.orders.models import WorkOrderCreate
from maintenance.org.models import User, Workshop
from maintenance.org.permissions import Capability

ROUNDS_ACTOR = SystemActor(
    username="system:rounds", capabilities=frozenset({Capability.WRITE_EVERYWHERE})
)  # raises work in any workshop
PHOTO_TYPES = frozenset({"image/png", "image/jpeg"})


# --- Routes and their stops ---------------------------------------------------------------


def get_route_or_raise(session: Session, route_id: int) -> InspectionRoute:
    route = session.get(InspectionRoute, route_id)
    if route is None:
        raise NotFound(_("This inspection route does not exist."))
    return route


def _validate_route(session: Session, data: RouteFields, route: InspectionRoute | None) -> None:
    errors: list[FieldError] = []
    if session.get(Workshop, data.workshop_id) is None:
        errors.append(FieldError("workshop_id", _("No such workshop.")))
    clash = session.scalar(select(col(InspectionRoute.id)).where(col(InspectionRoute.code) == data.code))
    if clash is not None and (route is None or clash != route.id):
        errors.append(FieldError("code", _("Route code %(code)s already exists.", code=data.code)))
    if route is not None and data.workshop_id != route.workshop_id and stops_of(session, route):
        errors.append(FieldError("workshop_id", _("Remove the stops before moving the route to another workshop.")))
    if errors:
        raise ValidationFailed(_("The route was not saved."), errors)


def create_route(session: Session, data: RouteCreate, *, actor: Actor) -> InspectionRoute:
    _validate_route(session, data, None)
    check_may_write(session, actor, data.workshop_id)
    route = InspectionRoute.model_validate(data)
    route.created_at = route.updated_at = utcnow()
    session.add(route)
    session.flush()
    audit.record_create(session, actor, route)
    return route


def _stale(route: InspectionRoute) -> Conflict:
    return Conflict(
        _(
            "Someone else changed route %(code)s while you were editing it. Review their changes and edit again.",
            code=route.code,
        ),
        [FieldError("version", _("stale"))],
    )


def update_route(session: Session, route: InspectionRoute, data: RouteUpdate, *, actor: Actor) -> InspectionRoute:
    """Apply a full edit made from ``data.version``; a newer stored version is a conflict, here
    or (saved meanwhile by someone else) in the UPDATE."""
    if data.version != route.version:
        raise _stale(route)
    check_may_write(session, actor, route.workshop_id)
    _validate_route(session, data, route)
    check_may_write(session, actor, data.workshop_id)
    before = audit.snapshot(route)
    with versioned_write(session, route, lambda: _stale(route)):
        route.sqlmodel_update(data.model_dump(exclude={"version"}))
        changed = audit.snapshot(route) != before
        if changed:
            route.version += 1
            route.updated_at = utcnow()
    if changed:
        audit.record_update(session, actor, route, before)
    return route


def stops_of(session: Session, route: InspectionRoute) -> Sequence[RouteStop]:
    """The route's active stops in walking order."""
    return session.scalars(
        select(RouteStop)
        .where(col(RouteStop.route_id) == route.id, col(RouteStop.is_active))
        .order_by(col(RouteStop.position), col(RouteStop.id))
    ).all()


def get_stop_or_raise(session: Session, route_id: int, stop_id: int) -> RouteStop:
    stop = session.get(RouteStop, stop_id)
    if stop is None or stop.route_id != route_id:
        raise NotFound(_("This stop does not exist or belongs to another route."))
    return stop


def add_stop(session: Session, route: InspectionRoute, data: StopFields, *, actor: Actor) -> RouteStop:
    """Append a stop. A point must be active, in the route's workshop and not on the route yet; a
    check names an asset of the workshop."""
    check_may_write(session, actor, route.workshop_id)
    asset_id = data.asset_id
    if data.point_id is not None:
        point = session.get(MeasurementPoint, data.point_id)
        if point is None or not point.is_active:
            raise ValidationFailed(_("The stop was not added."), [FieldError("point_id", _("No such active point."))])
        if point.workshop_id != route.workshop_id:
            raise ValidationFailed(
                _("The stop was not added."),
                [FieldError("point_id", _("Point %(code)s is in another workshop.", code=point.code))],
            )
        if any(stop.point_id == point.id for stop in stops_of(session, route)):
            raise ValidationFailed(
                _("The stop was not added."),
                [FieldError("point_id", _("Point %(code)s is on this route already.", code=point.code))],
            )
        asset_id = point.asset_id
    asset = session.get(Asset, asset_id) if asset_id is not None else None
    if asset is None:
        raise ValidationFailed(_("The stop was not added."), [FieldError("asset_id", _("No such asset."))])
    if asset.workshop_id != route.workshop_id:
        raise ValidationFailed(
            _("The stop was not added."),
            [FieldError("asset_id", _("Asset %(tag)s is in another workshop.", tag=asset.tag))],
        )
    last = session.scalar(select(func.max(col(RouteStop.position))).where(col(RouteStop.route_id) == route.id))
    stop = RouteStop(
        route_id=route.id,  # type: ignore[arg-type]
        position=(last or 0) + 1,
        point_id=data.point_id,
        asset_id=asset.id,  # type: ignore[arg-type]
        check_text=data.check_text,
    )
    session.add(stop)
    session.flush()
    audit.record_create(session, actor, stop, route=route.code)
    return stop


def move_stop(session: Session, route: InspectionRoute, stop: RouteStop, offset: int, *, actor: Actor) -> None:
    """Swap ``stop`` with its neighbour ``offset`` (−1 earlier, +1 later) places away; at either
    end of the route nothing moves."""
    check_may_write(session, actor, route.workshop_id)
    stops = list(stops_of(session, route))
    index = next((i for i, candidate in enumerate(stops) if candidate.id == stop.id), None)
    if index is None or not 0 <= index + offset < len(stops):
        return
    other = stops[index + offset]
    before = audit.snapshot(stop), audit.snapshot(other)
    stop.position, other.position = other.position, stop.position
    session.flush()
    audit.record_update(session, actor, stop, before[0], route=route.code)
    audit.record_update(session, actor, other, before[1], route=route.code)


def remove_stop(session: Session, route: InspectionRoute, stop: RouteStop, *, actor: Actor) -> None:
    """Delete a stop never walked; retire one that has entries, so past rounds keep it."""
    check_may_write(session, actor, route.workshop_id)
    walked = session.scalar(select(col(RoundEntry.id)).where(col(RoundEntry.stop_id) == stop.id).limit(1))
    if walked is None:
        audit.record_delete(session, actor, stop, route=route.code)
        session.delete(stop)
        session.flush()
        return
    before = audit.snapshot(stop)
    stop.is_active = False
    session.flush()
    audit.record_update(session, actor, stop, before, route=route.code)


# --- Rounds -------------------------------------------------------------------------------


def get_round_or_raise(session: Session, round_id: int) -> InspectionRound:
    found = session.get(InspectionRound, round_id)
    if found is None:
        raise NotFound(_("This round does not exist."))
    return found


def _active_stop_count(session: Session, route_id: int) -> int:
    return (
        session.scalar(select(func.count()).where(col(RouteStop.route_id) == route_id, col(RouteStop.is_active))) or 0
    )


def _insert_round(
    session: Session, route: InspectionRoute, period: tuple[datetime, datetime], stops_due: int, actor: Actor
) -> InspectionRound | None:
    """Insert the round of ``period`` in a savepoint; None when another process made it first."""
    made = InspectionRound(
        route_id=route.id,  # type: ignore[arg-type]
        workshop_id=route.workshop_id,
        period_start=period[0],
        period_end=period[1],
        stops_due=stops_due,
    )
    try:
        with session.begin_nested():
            session.add(made)
            session.flush()
    except IntegrityError:
        return None
    audit.record_create(session, actor, made, route=route.code)
    return made


def _round_of_period(session: Session, route_id: int, period_start: datetime) -> InspectionRound | None:
    return session.scalar(
        select(InspectionRound).where(
            col(InspectionRound.route_id) == route_id, col(InspectionRound.period_start) == period_start
        )
    )


def ensure_round(
    session: Session, route: InspectionRoute, *, actor: Actor, now: datetime | None = None
) -> InspectionRound:
    """The round of the period running now, made if nobody has made it yet (idempotent)."""
    check_may_write(session, actor, route.workshop_id)
    if not route.is_active:
        raise Conflict(_("Route %(code)s is inactive: it has no rounds.", code=route.code))
    stops_due = _active_stop_count(session, route.id)  # type: ignore[arg-type]
    if not stops_due:
        raise Conflict(_("Route %(code)s has no stops yet.", code=route.code))
    period = period_of(route.frequency, now or utcnow())
    found = _round_of_period(session, route.id, period[0])  # type: ignore[arg-type]
    if found is None:
        found = _insert_round(session, route, period, stops_due, actor) or _round_of_period(
            session,
            route.id,  # type: ignore[arg-type]
            period[0],
        )
    assert found is not None, "a round that clashed on insert must be readable"
    return found


@dataclass
class RoundsReport:
    routes_checked: int = 0
    rounds_created: int = 0


def generate_rounds(session: Session, now: datetime | None = None, *, actor: Actor = ROUNDS_ACTOR) -> RoundsReport:
    """Make the current period's round of every active route with stops (the scheduler's pass).
    Existing rounds are read in one query; each new one is inserted in a savepoint, so two
    schedulers at once make each round once."""
    now = now or utcnow()
    report = RoundsReport()
    stop_counts = (
        select(col(RouteStop.route_id), func.count().label("stops"))
        .where(col(RouteStop.is_active))
        .group_by(col(RouteStop.route_id))
        .subquery()
    )
    routes = session.execute(
        select(InspectionRoute, stop_counts.c.stops)
        .join(stop_counts, stop_counts.c.route_id == col(InspectionRoute.id))
        .where(col(InspectionRoute.is_active))
        .order_by(col(InspectionRoute.id))
    ).all()
    wanted = {route.id: period_of(route.frequency, now) for route, _stops in routes}
    existing = {
        (route_id, start)
        for route_id, start in session.execute(
            select(col(InspectionRound.route_id), col(InspectionRound.period_start)).where(
                col(InspectionRound.route_id).in_(list(wanted)),
                col(InspectionRound.period_start).in_({period[0] for period in wanted.values()}),
            )
        )
    }
    for route, stops in routes:
        report.routes_checked += 1
        period = wanted[route.id]
        if (route.id, period[0]) in existing:
            continue
        if _insert_round(session, route, period, stops, actor) is not None:
            report.rounds_created += 1
    return report


def is_missed(found: InspectionRound, now: datetime | None = None) -> bool:
    return found.state != RoundState.COMPLETED and not accepts_entries(found.period_end, now or utcnow())


def entries_of(session: Session, found: InspectionRound) -> dict[int, RoundEntry]:
    """The round's entries by stop id."""
    return {
        entry.stop_id: entry
        for entry in session.scalars(select(RoundEntry).where(col(RoundEntry.round_id) == found.id))
    }


def stops_of_round(session: Session, found: InspectionRound) -> list[RouteStop]:
    """The stops a round shows: the route's active stops, plus retired ones walked on this round."""
    walked = select(col(RoundEntry.stop_id)).where(col(RoundEntry.round_id) == found.id)
    return list(
        session.scalars(
            select(RouteStop)
            .where(
                col(RouteStop.route_id) == found.route_id,
                col(RouteStop.is_active) | col(RouteStop.id).in_(walked),
            )
            .order_by(col(RouteStop.position), col(RouteStop.id))
        )
    )


def check_open(found: InspectionRound, now: datetime) -> None:
    if found.state == RoundState.COMPLETED:
        raise Conflict(_("This round is finished: nothing more can be entered on it."))
    if not accepts_entries(found.period_end, now):
        raise Conflict(_("This round's period has ended: it counts as missed and takes no more entries."))


def _entry_errors(stop: RouteStop, value: float | None, result: ChecklistResult | None, note: str) -> list[FieldError]:
    if stop.point_id is not None:
        if value is None:
            return [FieldError("value", _("Enter the value read."))]
        return []
    if result is None:
        return [FieldError("result", _("Choose OK or not OK."))]
    if result == ChecklistResult.NOT_OK and not note:
        return [FieldError("note", _("Say what is wrong: the note goes on the work order."))]
    return []


@dataclass(frozen=True)
class Photo:
    stream: BinaryIO
    filename: str


def _store_photo(photo: Photo) -> tuple[str, str]:
    """(sha256, content type) of a stored photo; anything but a PNG or JPEG is refused."""
    try:
        _name, stored = store_named_upload(photo.stream, photo.filename)
    except ValidationFailed as error:
        raise ValidationFailed(_("The entry was not saved."), [FieldError("photo", error.message)]) from error
    if stored.content_type not in PHOTO_TYPES:
        raise ValidationFailed(
            _("The entry was not saved."), [FieldError("photo", _("Attach a photo as a JPEG or PNG file."))]
        )
    return stored.sha256, stored.content_type


def record_entry(
    session: Session,
    found: InspectionRound,
    stop: RouteStop,
    *,
    value: float | None = None,
    result: ChecklistResult | None = None,
    note: str = "",
    photo: Photo | None = None,
    actor: User,
    now: datetime | None = None,
    client_id: str | None = None,
) -> tuple[RoundEntry, bool]:
    """Record what was found at ``stop``; returns the entry and whether this call made it.

    A stop already entered on this round returns the stored entry unchanged (a retried submit).
    Nothing is written when the input is refused: the entry, its reading and any order are made
    in one savepoint. ``client_id`` is the id a phone gave the entry (kept, unique, so that a
    replayed sync is recognised: :mod:`round_sync`)."""
    if stop.route_id != found.route_id:
        raise NotFound(_("This stop does not exist or belongs to another route."))
    check_may_write(session, actor, found.workshop_id)
    stored = session.scalar(
        select(RoundEntry).where(col(RoundEntry.round_id) == found.id, col(RoundEntry.stop_id) == stop.id)
    )
    if stored is not None:
        return stored, False
    now = now or utcnow()
    check_open(found, now)
    note = note.strip()[:500]
    errors = _entry_errors(stop, value, result, note)
    if errors:
        raise ValidationFailed(_("The entry was not saved."), errors)
    photo_sha256, photo_type = _store_photo(photo) if photo is not None else (None, None)
    entry = RoundEntry(
        round_id=found.id,  # type: ignore[arg-type]
        stop_id=stop.id,  # type: ignore[arg-type]
        value=value if stop.point_id is not None else None,
        result=result if stop.point_id is None else None,
        note=note,
        photo_sha256=photo_sha256,
        photo_content_type=photo_type,
        entered_by_id=actor.id,
        entered_at=now,
        client_id=client_id,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
            if stop.point_id is not None:
                _record_reading(session, entry, stop.point_id, now, actor)
            elif result == ChecklistResult.NOT_OK:
                _raise_order(session, found, stop, entry, actor, now)
            _count_entry(session, found, actor, now)
    except IntegrityError:
        # The same stop entered at the same moment by a retry racing the first submit.
        session.expire(found)
        stored = session.scalar(
            select(RoundEntry).where(col(RoundEntry.round_id) == found.id, col(RoundEntry.stop_id) == stop.id)
        )
        if stored is None:
            raise
        return stored, False
    audit.record_create(session, actor, entry)
    return entry, True


def _record_reading(session: Session, entry: RoundEntry, point_id: int, now: datetime, actor: User) -> None:
    """The value as a reading of the point (to the second: the entry, not the time, is the
    retry key), judged by the same ingest as every other path; the entry keeps its state and
    the point's open CBM order."""
    point = session.get(MeasurementPoint, point_id)
    assert point is not None
    assert entry.value is not None
    taken_at = now.replace(microsecond=0)
    try:
        ingest_readings(
            session,
            [ReadingIn(point_code=point.code, taken_at=taken_at, value=entry.value, row=1)],
            source=ReadingSource.ROUND,
            actor=actor,
            entered_by_id=actor.id,
        )
    except ValidationFailed as error:
        raise ValidationFailed(
            _("The entry was not saved."), [FieldError("value", detail.message) for detail in error.errors]
        ) from error
    reading = session.get(Reading, (point_id, taken_at))
    entry.taken_at = taken_at
    entry.state = reading.state if reading is not None else None
    entry.order_id = session.scalar(
        select(col(ConditionAlert.order_id)).where(
            col(ConditionAlert.point_id) == point_id, col(ConditionAlert.state).in_(ACTIVE_ALERT_STATES)
        )
    )
    session.flush()


def _raise_order(
    session: Session, found: InspectionRound, stop: RouteStop, entry: RoundEntry, actor: User, now: datetime
) -> None:
    route = session.get(InspectionRoute, found.route_id)
    assert route is not None
    order = order_service.create_order(
        session,
        WorkOrderCreate(
            order_type=OrderType.CM,
            asset_id=stop.asset_id,
            title=_("%(check)s: not OK (round %(route)s)", check=stop.check_text, route=route.code)[:200],
            description=entry.note,
            provider=Provider.IN_HOUSE,
        ),
        actor=actor,
        at=now,
    )
    entry.order_id = order.id
    session.flush()


def _count_entry(session: Session, found: InspectionRound, actor: User, now: datetime) -> None:
    """One more stop done, in one UPDATE (two engineers sharing a round cannot lose a count)."""
    table = InspectionRound.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == found.id)
        .values(
            stops_done=table.c.stops_done + 1,
            state=case((table.c.state == RoundState.DUE.value, RoundState.IN_PROGRESS.value), else_=table.c.state),
            started_at=func.coalesce(table.c.started_at, now),
            started_by_id=func.coalesce(table.c.started_by_id, actor.id),
        )
    )
    session.expire(found)


def finish_round(
    session: Session, found: InspectionRound, *, actor: User, now: datetime | None = None
) -> list[RouteStop]:
    """Mark the round done and return the stops not walked (they stay listed as missed).
    Finishing a finished round again changes nothing (a retried tap)."""
    check_may_write(session, actor, found.workshop_id)
    entries = entries_of(session, found)
    missed = [stop for stop in stops_of_round(session, found) if stop.id not in entries]
    if found.state == RoundState.COMPLETED:
        return missed
    now = now or utcnow()
    check_open(found, now)
    if not entries:
        raise ValidationFailed(_("Enter at least one stop before finishing the round."))
    before = audit.snapshot(found)
    found.state = RoundState.COMPLETED
    found.finished_at = now
    found.finished_by_id = actor.id
    session.flush()
    audit.record_update(session, actor, found, before, missed=len(missed))
    return missed


# --- Completion KPI -----------------------------------------------------------------------


@dataclass
class Completion:
    """A route's rounds over a window: every period that ended in it is due, made or not."""

    rounds_due: int = 0
    rounds_completed: int = 0
    stops_due: int = 0
    stops_done: int = 0

    @property
    def round_rate(self) -> float | None:
        return self.rounds_completed / self.rounds_due if self.rounds_due else None

    @property
    def stop_rate(self) -> float | None:
        return self.stops_done / self.stops_due if self.stops_due else None


def completion_by_route(
    session: Session, routes: Sequence[InspectionRoute], *, days: int = 30, now: datetime | None = None
) -> dict[int, Completion]:
    """Round completion (rounds finished ÷ periods due) and stop coverage (stops entered ÷
    stops due) of each route over the last ``days``, in two queries whatever the number of
    routes. A period is due once its grace time is over; a period without a round counts with
    the route's current number of stops."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    closed_before = now - GRACE
    ids = [route.id for route in routes]
    result: dict[int, Completion] = {route_id: Completion() for route_id in ids if route_id is not None}
    if not result:
        return result
    made = session.execute(
        select(
            col(InspectionRound.route_id),
            func.count(),
            func.sum(case((col(InspectionRound.state) == RoundState.COMPLETED, 1), else_=0)),
            func.sum(col(InspectionRound.stops_due)),
            func.sum(col(InspectionRound.stops_done)),
        )
        .where(
            col(InspectionRound.route_id).in_(ids),
            col(InspectionRound.period_end) > since,
            col(InspectionRound.period_end) <= closed_before,
        )
        .group_by(col(InspectionRound.route_id))
    ).all()
    stop_counts = dict(
        session.execute(
            select(col(RouteStop.route_id), func.count())
            .where(col(RouteStop.route_id).in_(ids), col(RouteStop.is_active))
            .group_by(col(RouteStop.route_id))
        ).all()
    )
    by_route = {row[0]: row for row in made}
    for route in routes:
        completion = result[route.id]  # type: ignore[index]
        start = max(since, route.created_at)
        periods = [p for p in periods_between(route.frequency, start, closed_before) if p[1] <= closed_before]
        row = by_route.get(route.id)
        rounds_made = row[1] if row else 0
        completion.rounds_due = max(len(periods), rounds_made)
        completion.rounds_completed = int(row[2] or 0) if row else 0
        completion.stops_done = int(row[4] or 0) if row else 0
        made_stops = int(row[3] or 0) if row else 0
        completion.stops_due = made_stops + (completion.rounds_due - rounds_made) * stop_counts.get(route.id, 0)
    return result
