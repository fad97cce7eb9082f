"""The leak register (泄漏台账) and a leak's way to closed.

- The register: filters workshop/status/severity/kind, the age of open leaks on the plant's today.
- A leak is **open** until repaired (repaired date ≥ found date, not in the future), then
  **repaired** until re-checked: tight → **closed**; still leaking → **open** again with the
  repaired date cleared (the re-check date stays, so the failed repair is on record).
- One click raises a corrective work order on the seal point's asset; a second shows that order.
- Failed seal checks of inspection rounds (a NOT_OK entry on a stop whose check text is about
  seals or leaks) are listed until they are turned into a leak, once: the unique
  ``round_entry_id`` makes a second click, or two at once, answer with the existing leak.

Edits are versioned (a stale version is a conflict) and every write goes to the change log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, case, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import plant_timezone, utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.files import StoredFile
from maintenance.i18n import gettext as _
from maintenance.inspections.models import InspectionRound, RoundEntry, RouteStop
from maintenance.leakfree.choices import LeakSeverity, LeakStatus, SealKind
from maintenance.leakfree.models import Leak, SealPoint
from maintenance.orders import service as order_service
from maintenance.orders.choices import ChecklistResult, OrderType
from maintenance.orders.models import WorkOrder, WorkOrderCreate
from maintenance.org.permissions import require_write_in
from maintenance.web import ListFilters, RecordId, filters_from_query

# A round's check is a seal check when its text says so. Round stops carry free text, not a
# category (机封无泄漏, 法兰密封良好, 无跑冒滴漏, "seal OK", "no leaks"), so the register matches
# these words, case-insensitively; one list, used by the page, its count and the from-round check.
SEAL_CHECK_KEYWORDS: tuple[str, ...] = ("漏", "密封", "渗", "seal", "leak")

DEFAULT_SORT = "-found"  # the newest leaks first
_SEVERITY_RANK = case(
    {severity: rank for rank, severity in enumerate(LeakSeverity)},
    value=col(Leak.severity),
    else_=0,
)
SORTABLE: dict[str, tuple[Any, ...]] = {
    "found": (col(Leak.found_date),),
    "severity": (_SEVERITY_RANK, col(Leak.found_date)),
    "status": (col(Leak.status), col(Leak.found_date)),
}


class LeakFilters(ListFilters):
    sort_keys = SORTABLE

    workshop_id: RecordId | None = None
    status: LeakStatus | None = None
    severity: LeakSeverity | None = None
    kind: SealKind | None = None
    sort: str = DEFAULT_SORT


LeakFiltersDep = Annotated[LeakFilters, Depends(filters_from_query(LeakFilters))]


def list_leaks(filters: LeakFilters) -> Select[Any]:
    """The register, oldest found first by default (the id breaks ties)."""
    stmt = select(Leak)
    if filters.workshop_id is not None:
        stmt = stmt.where(col(Leak.workshop_id) == filters.workshop_id)
    if filters.status is not None:
        stmt = stmt.where(col(Leak.status) == filters.status)
    if filters.severity is not None:
        stmt = stmt.where(col(Leak.severity) == filters.severity)
    if filters.kind is not None:
        stmt = stmt.where(col(Leak.kind) == filters.kind)
    descending = filters.sort.startswith("-")
    keys = SORTABLE[filters.sort.lstrip("-")]
    order = [key.desc() if descending else key.asc() for key in keys]
    return stmt.order_by(*order, col(Leak.id).desc() if descending else col(Leak.id).asc())


def age_days(leak: Leak, today: date) -> int | None:
    """Days an open leak has been waiting since it was found; None once repaired."""
    return (today - leak.found_date).days if leak.status == LeakStatus.OPEN else None


def get_leak_or_raise(session: Session, leak_id: int, *, for_update: bool = False) -> Leak:
    stmt = select(Leak).where(col(Leak.id) == leak_id)
    if for_update:
        stmt = stmt.with_for_update()
    leak = session.scalar(stmt)
    if leak is None:
        raise NotFound(_("Leak %(id)s does not exist.", id=leak_id))
    return leak


# --- Failed seal checks of rounds ---------------------------------------------------------


def _is_seal_check() -> ColumnElement[bool]:
    text = col(RouteStop.check_text)
    return or_(*(text.ilike(f"%{word}%") for word in SEAL_CHECK_KEYWORDS))


def failed_seal_checks(workshop_id: int | None = None) -> Select[RoundEntry, RouteStop, InspectionRound]:
    """(entry, stop, round) of failed seal checks not yet turned into a leak, latest first."""
    turned = exists().where(col(Leak.round_entry_id) == col(RoundEntry.id))
    stmt = (
        select(RoundEntry, RouteStop, InspectionRound)
        .join(RouteStop, col(RouteStop.id) == col(RoundEntry.stop_id))
        .join(InspectionRound, col(InspectionRound.id) == col(RoundEntry.round_id))
        .where(col(RoundEntry.result) == ChecklistResult.NOT_OK, _is_seal_check(), ~turned)
    )
    if workshop_id is not None:
        stmt = stmt.where(col(InspectionRound.workshop_id) == workshop_id)
    return stmt.order_by(col(RoundEntry.entered_at).desc(), col(RoundEntry.id).desc())


def entry_plant_date(entry: RoundEntry) -> date:
    """The plant day the entry was made on (its found date as a leak)."""
    return entry.entered_at.astimezone(plant_timezone()).date()


class FromRoundInput(BaseModel):
    kind: SealKind
    severity: LeakSeverity
    description: str = Field(default="", max_length=500)


def leak_of_entry(session: Session, entry_id: int) -> Leak | None:
    return session.scalar(select(Leak).where(col(Leak.round_entry_id) == entry_id))


def leak_from_round(session: Session, entry_id: int, data: FromRoundInput, *, actor: Actor) -> tuple[Leak, bool]:
    """The leak of a failed seal check, and whether it was made now (False: it existed)."""
    existing = leak_of_entry(session, entry_id)
    if existing is not None:
        return existing, False
    found = session.execute(
        select(RoundEntry, RouteStop, InspectionRound)
        .join(RouteStop, col(RouteStop.id) == col(RoundEntry.stop_id))
        .join(InspectionRound, col(InspectionRound.id) == col(RoundEntry.round_id))
        .where(col(RoundEntry.id) == entry_id)
    ).first()
    if found is None:
        raise NotFound(_("Round entry %(id)s does not exist.", id=entry_id))
    entry, stop, round_ = found
    require_write_in(session, actor, round_.workshop_id)
    is_seal = any(word.casefold() in stop.check_text.casefold() for word in SEAL_CHECK_KEYWORDS)
    if entry.result != ChecklistResult.NOT_OK or not is_seal:
        raise Conflict(_("Only a failed seal check of a round becomes a leak."))
    leak = Leak(
        workshop_id=round_.workshop_id,
        asset_id=stop.asset_id,
        round_entry_id=entry.id,
        kind=data.kind,
        severity=data.severity,
        found_date=entry_plant_date(entry),
        description=(data.description or entry.note or stop.check_text)[:500],
        recorded_by_id=actor.id,
    )
    try:
        with session.begin_nested():
            session.add(leak)
            session.flush()
    except IntegrityError:
        # Another click made it between the look-up and the insert: answer with that one.
        made = leak_of_entry(session, entry_id)
        if made is None:
            raise
        return made, False
    audit.record_create(session, actor, leak)
    return leak, True


# --- A leak's way to closed ---------------------------------------------------------------


def _stale(leak: Leak) -> Conflict:
    return Conflict(
        _("Someone else changed this leak while you were working on it. Review it and try again."),
        [FieldError("version", _("stale"))],
    )


def _write(session: Session, leak: Leak, version: int, changes: dict[str, Any], *, actor: Actor) -> Leak:
    if version != leak.version:
        raise _stale(leak)
    before = audit.snapshot(leak)
    with versioned_write(session, leak, lambda: _stale(leak)):
        leak.sqlmodel_update(changes)
        leak.version += 1
        leak.updated_at = utcnow()
    audit.record_update(session, actor, leak, before)
    return leak


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, [FieldError(field, message)])


def mark_repaired(session: Session, leak: Leak, version: int, repaired: date, *, today: date, actor: Actor) -> Leak:
    require_write_in(session, actor, leak.workshop_id)
    if leak.status != LeakStatus.OPEN:
        raise Conflict(_("Only an open leak can be marked repaired."))
    if repaired < leak.found_date:
        raise _refuse("repaired_date", _("The repair cannot be before the leak was found."))
    if repaired > today:
        raise _refuse("repaired_date", _("The repaired date cannot be in the future."))
    return _write(session, leak, version, {"status": LeakStatus.REPAIRED, "repaired_date": repaired}, actor=actor)


def recheck(
    session: Session, leak: Leak, version: int, rechecked: date, *, tight: bool, today: date, actor: Actor
) -> Leak:
    """Tight → closed; still leaking → open again, the repaired date cleared."""
    require_write_in(session, actor, leak.workshop_id)
    if leak.status != LeakStatus.REPAIRED or leak.repaired_date is None:
        raise Conflict(_("Only a repaired leak can be re-checked."))
    if rechecked < leak.repaired_date:
        raise _refuse("rechecked_date", _("The re-check cannot be before the repair."))
    if rechecked > today:
        raise _refuse("rechecked_date", _("The re-check date cannot be in the future."))
    changes: dict[str, Any] = {"rechecked_date": rechecked, "rechecked_by_id": actor.id}
    if tight:
        changes["status"] = LeakStatus.CLOSED
    else:
        changes |= {"status": LeakStatus.OPEN, "repaired_date": None}
    return _write(session, leak, version, changes, actor=actor)


def set_photo(session: Session, leak: Leak, version: int, photo: StoredFile, *, actor: Actor) -> Leak:
    require_write_in(session, actor, leak.workshop_id)
    changes = {"photo_sha256": photo.sha256, "photo_content_type": photo.content_type}
    return _write(session, leak, version, changes, actor=actor)


@dataclass(frozen=True)
class RaisedOrder:
    order: WorkOrder
    created: bool


def raise_order(session: Session, leak: Leak, *, actor: Actor) -> RaisedOrder:
    """A corrective order for the leak, once: a leak with an order answers with it. The caller
    locks the leak's row first (``get_leak_or_raise(for_update=True)``) so two clicks queue."""
    require_write_in(session, actor, leak.workshop_id)
    if leak.order_id is not None:
        existing = session.get(WorkOrder, leak.order_id)
        if existing is not None:
            return RaisedOrder(existing, False)
    if leak.asset_id is None:
        raise _refuse(
            "asset_id",
            _("This leak names no asset: link its seal point to an asset before raising a work order."),
        )
    point = session.get(SealPoint, leak.seal_point_id) if leak.seal_point_id else None
    where = (point.location or point.code) if point is not None else leak.description
    order = order_service.create_order(
        session,
        WorkOrderCreate(
            order_type=OrderType.CM,
            asset_id=leak.asset_id,
            title=_("Leak repair: %(where)s", where=where or leak.found_date.isoformat())[:200],
            description=leak.description,
        ),
        actor=actor,
    )
    before = audit.snapshot(leak)
    leak.order_id = order.id
    leak.version += 1
    leak.updated_at = utcnow()
    session.flush()
    audit.record_update(session, actor, leak, before)
    return RaisedOrder(order, True)
