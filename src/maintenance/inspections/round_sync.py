"""Entries taken on a phone without signal, synced later.

The round page keeps each stop it saves in an outbox on the phone (IndexedDB, ``static/rounds.js``)
with an id of its own and the time it was taken, and posts the outbox here when the signal is
back. Each entry is answered on its own, in its own savepoint:

- **synced**: recorded by :func:`rounds.record_entry` at the phone's time, which becomes the
  entry's and the reading's time (so a value read at 08:10 and sent at 09:30 trends at 08:10);
- **already synced**: an entry with this id is stored (a replay: the answer was lost, or the
  outbox was sent twice) — nothing new is written;
- **refused**, with the reason: the round is of a workshop the user may not write in (any
  more), the stop was entered meanwhile by someone (the first value stands), the round is
  finished or its period closed before the entry arrived, the phone's time lies outside the
  round's period or in the future, or the value does not pass the stop's checks.

The phone keeps refused entries on screen until the engineer dismisses them, so nothing typed is
lost without being seen. Time is passed in: ``now`` is the server's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from maintenance.i18n import format_datetime
from maintenance.i18n import gettext as _
from maintenance.inspections import rounds
from maintenance.inspections.choices import SyncOutcome
from maintenance.inspections.models import InspectionRound, OfflineEntry, RoundEntry, RouteStop
from maintenance.inspections.round_periods import GRACE
from maintenance.monitoring.service import check_may_write
from maintenance.org.models import User

# A phone's clock may run a little ahead of the server's.
CLOCK_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class SyncResult:
    client_id: str
    outcome: SyncOutcome
    message: str
    entry_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "client_id": self.client_id,
            "outcome": self.outcome.value,
            "label": self.outcome.label,
            "message": self.message,
            "entry_id": self.entry_id,
        }


def rounds_of(session: Session, entries: Sequence[OfflineEntry]) -> dict[int, InspectionRound]:
    """The rounds the entries name, by id."""
    ids = {entry.round_id for entry in entries}
    found = session.scalars(select(InspectionRound).where(col(InspectionRound.id).in_(ids)))
    return {found_round.id: found_round for found_round in found if found_round.id is not None}


def forbidden_workshops(session: Session, found_rounds: Iterable[InspectionRound], actor: User) -> dict[int, str]:
    """The workshops of these rounds the actor may not write in (any more: say the engineer moved
    to another workshop with entries still in the outbox), with the reason; their entries are
    refused one by one, so the rest of the outbox still goes through."""
    forbidden = {}
    for workshop_id in sorted({found_round.workshop_id for found_round in found_rounds}):
        try:
            check_may_write(session, actor, workshop_id)
        except PermissionDenied as error:
            forbidden[workshop_id] = error.message
    return forbidden


def sync_entries(session: Session, entries: Sequence[OfflineEntry], *, actor: User, now: datetime) -> list[SyncResult]:
    """Record each entry of a phone's outbox and say what became of it, in the order sent."""
    found_rounds = rounds_of(session, entries)
    forbidden = forbidden_workshops(session, found_rounds.values(), actor)
    return [_sync_one(session, entry, found_rounds.get(entry.round_id), forbidden, actor, now) for entry in entries]


def _refused(entry: OfflineEntry, message: str) -> SyncResult:
    return SyncResult(entry.client_id, SyncOutcome.REFUSED, message)


def _sync_one(
    session: Session,
    entry: OfflineEntry,
    found: InspectionRound | None,
    forbidden: dict[int, str],
    actor: User,
    now: datetime,
) -> SyncResult:
    stored = session.scalar(select(RoundEntry).where(col(RoundEntry.client_id) == entry.client_id))
    if stored is not None:
        return SyncResult(
            entry.client_id, SyncOutcome.ALREADY_SYNCED, _("Already on the server: nothing new."), stored.id
        )
    if found is None:
        return _refused(entry, _("This round does not exist."))
    if found.workshop_id in forbidden:
        return _refused(entry, forbidden[found.workshop_id])
    stop = session.get(RouteStop, entry.stop_id)
    if stop is None or stop.route_id != found.route_id:
        return _refused(entry, _("This stop does not exist or belongs to another route."))
    taken_at = entry.taken_at
    try:
        rounds.check_open(found, now)
    except Conflict as error:
        return _refused(entry, error.message)
    if taken_at > now + CLOCK_TOLERANCE:
        return _refused(
            entry,
            _(
                "Taken at %(time)s by the phone's clock, which is later than now: check the phone's time.",
                time=format_datetime(taken_at, "short"),
            ),
        )
    if not found.period_start <= taken_at < found.period_end + GRACE:
        return _refused(
            entry,
            _(
                "Taken at %(time)s, outside this round's period (%(start)s to %(end)s).",
                time=format_datetime(taken_at, "short"),
                start=format_datetime(found.period_start, "short"),
                end=format_datetime(found.period_end, "short"),
            ),
        )
    try:
        with session.begin_nested():
            recorded, created = rounds.record_entry(
                session,
                found,
                stop,
                value=entry.value,
                result=entry.result,
                note=entry.note,
                actor=actor,
                now=min(taken_at, now),
                client_id=entry.client_id,
            )
    except ValidationFailed as error:
        details = "; ".join(detail.message for detail in error.errors)
        return _refused(entry, f"{error.message} {details}".strip())
    except (Conflict, NotFound) as error:
        return _refused(entry, error.message)
    if created:
        return SyncResult(entry.client_id, SyncOutcome.SYNCED, _("Saved."), recorded.id)
    if recorded.client_id == entry.client_id:  # the same entry, stored by a racing replay
        return SyncResult(
            entry.client_id, SyncOutcome.ALREADY_SYNCED, _("Already on the server: nothing new."), recorded.id
        )
    who = session.get(User, recorded.entered_by_id) if recorded.entered_by_id is not None else None
    return SyncResult(
        entry.client_id,
        SyncOutcome.REFUSED,
        _(
            "Entered already by %(name)s at %(time)s: that entry stands, yours was not saved.",
            name=who.display_name if who is not None else "?",
            time=format_datetime(recorded.entered_at, "short"),
        ),
        recorded.id,
    )
