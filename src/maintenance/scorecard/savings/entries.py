"""Savings entered by hand: create, edit from a version (a newer stored version is a conflict)
and delete, each in the change log; the saving is computed here, never entered.

Who writes: an entry of a workshop, the engineers of that workshop, managers and admins; a
plant-wide entry (no workshop), managers and admins only; auditors none. What is refused, with
every reason at once and nothing written: an unknown workshop, a day after today, and a
"saving" that is not one (the actual price above the reference price).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.budget.period import FIRST_YEAR
from maintenance.db import utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, PermissionDenied, ValidationFailed
from maintenance.i18n import N_
from maintenance.i18n import gettext as _
from maintenance.orders.models import MAX_CNY
from maintenance.org.models import Workshop
from maintenance.org.permissions import Capability, can, require_write_in, require_writer
from maintenance.scorecard.savings.models import (
    SavingsEntry,
    SavingsEntryCreate,
    SavingsEntryFields,
    SavingsEntryUpdate,
    SavingsKind,
)
from maintenance.scorecard.savings.rules import saving_of

# What the two prices of the formula are in each ledger: (reference, actual), as the form says.
PRICE_LABELS: dict[SavingsKind, tuple[str, str]] = {
    SavingsKind.REFURBISH: (N_("New part price (CNY)"), N_("Repair cost (CNY)")),
    SavingsKind.LOCALISATION: (N_("Import price (CNY)"), N_("Domestic price (CNY)")),
    SavingsKind.TENDER: (N_("Budget or highest quote (CNY)"), N_("Awarded price (CNY)")),
}
NOT_A_SAVING: dict[SavingsKind, str] = {
    SavingsKind.REFURBISH: N_("The repair cost is above the new part's price: not a saving."),
    SavingsKind.LOCALISATION: N_("The domestic price is above the import price: not a saving."),
    SavingsKind.TENDER: N_("The awarded price is above the budget: not a saving."),
}


def price_labels(kind: SavingsKind) -> tuple[str, str]:
    reference, actual = PRICE_LABELS[kind]
    return _(reference), _(actual)


def require_write(session: Session, actor: Actor, workshop_id: int | None) -> None:
    """An entry of a workshop is written in that workshop; a plant-wide one by managers and admins."""
    require_writer(actor)
    if workshop_id is None:
        if not can(actor, Capability.WRITE_EVERYWHERE):
            raise PermissionDenied(_("Only managers and admins record plant-wide savings: choose your workshop."))
        return
    require_write_in(session, actor, workshop_id)


def check_entry(session: Session, data: SavingsEntryFields, *, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.workshop_id is not None and session.get(Workshop, data.workshop_id) is None:
        errors.append(FieldError("workshop_id", _("No such workshop.")))
    if data.recorded_on > today:
        errors.append(FieldError("recorded_on", _("The date cannot be in the future.")))
    if data.actual_price_cny > data.reference_price_cny:
        errors.append(FieldError("actual_price_cny", _(NOT_A_SAVING[data.kind])))
    elif saving_of(data.reference_price_cny, data.actual_price_cny, data.quantity) > MAX_CNY:
        errors.append(FieldError("quantity", _("Quantity × price is too large an amount: check both.")))
    if data.recorded_on < date(FIRST_YEAR, 1, 1):
        errors.append(FieldError("recorded_on", _("Enter a date in %(first)s or later.", first=FIRST_YEAR)))
    return errors


def _refuse_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(_("The savings entry was not saved."), errors)


def create_entry(session: Session, data: SavingsEntryCreate, *, today: date, actor: Actor) -> SavingsEntry:
    require_write(session, actor, data.workshop_id)
    _refuse_if(check_entry(session, data, today=today))
    entry = SavingsEntry.model_validate(
        data, update={"saving_cny": saving_of(data.reference_price_cny, data.actual_price_cny, data.quantity)}
    )
    session.add(entry)
    session.flush()
    audit.record_create(session, actor, entry)
    return entry


def _stale() -> Conflict:
    return Conflict(
        _("Someone else changed this savings entry while you were editing it. Review their changes and edit again."),
        [FieldError("version", _("stale"))],
    )


def update_entry(
    session: Session, entry: SavingsEntry, data: SavingsEntryUpdate, *, today: date, actor: Actor
) -> SavingsEntry:
    """Edit from ``data.version``; moving an entry to another workshop (or plant-wide) needs the
    right to write in both."""
    require_write(session, actor, entry.workshop_id)
    require_write(session, actor, data.workshop_id)
    if data.version != entry.version:
        raise _stale()
    _refuse_if(check_entry(session, data, today=today))
    changes = data.model_dump(exclude={"version"})
    changes["saving_cny"] = saving_of(data.reference_price_cny, data.actual_price_cny, data.quantity)
    before = audit.snapshot(entry)
    with versioned_write(session, entry, _stale):
        entry.sqlmodel_update(changes)
        changed = audit.snapshot(entry) != before
        if changed:
            entry.version += 1
            entry.updated_at = utcnow()
    if changed:
        audit.record_update(session, actor, entry, before)
    return entry


def delete_entry(session: Session, entry: SavingsEntry, *, version: int, actor: Actor) -> None:
    """Remove an entry made by mistake (from the version the user saw); the change log keeps it."""
    require_write(session, actor, entry.workshop_id)
    if version != entry.version:
        raise _stale()
    audit.record_delete(session, actor, entry)
    session.delete(entry)
    session.flush()
