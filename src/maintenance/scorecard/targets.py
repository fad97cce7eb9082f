"""A year's target of an indicator: the one a manager set, else the default; and setting them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.exceptions import Conflict, FieldError, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.permissions import Capability, require
from maintenance.scorecard.indicators import DEFAULT_TARGETS, Indicator
from maintenance.scorecard.models import ScorecardTarget


def targets_of_year(session: Session, year: int) -> dict[Indicator, Decimal]:
    """Every indicator's target for the year that has one (set or default), in one query."""
    targets = dict(DEFAULT_TARGETS)
    rows = session.exec(select(ScorecardTarget).where(col(ScorecardTarget.year) == year))
    targets.update({row.indicator: row.value for row in rows})
    return targets


def target_for(session: Session, year: int, indicator: Indicator) -> Decimal | None:
    return targets_of_year(session, year).get(indicator)


# --- Setting the year's targets (managers and admins) ------------------------------------------

# Targets kept where the figure is planned: the repair cost's is the budget's, the turnaround's
# is its own budget. The targets page links there instead of offering a field.
KEPT_ELSEWHERE: dict[Indicator, str] = {
    Indicator.REPAIR_COST: "/budget/{year}/target",
    Indicator.TURNAROUND: "/turnarounds",
}
EDITABLE: tuple[Indicator, ...] = tuple(indicator for indicator in Indicator if indicator not in KEPT_ELSEWHERE)


@dataclass(frozen=True)
class TargetChange:
    """One row of the targets form: the value (None: back to the default, or none) and note,
    and the stamp of the stored row the form was loaded from ("" when there was none)."""

    indicator: Indicator
    value: Decimal | None
    note: str
    stamp: str


def stamp_of(row: ScorecardTarget | None) -> str:
    """What a form carries to tell whether the row changed since it was loaded."""
    return "" if row is None else row.updated_at.isoformat()


def stored_targets(session: Session, year: int) -> dict[Indicator, ScorecardTarget]:
    rows = session.exec(select(ScorecardTarget).where(col(ScorecardTarget.year) == year))
    return {row.indicator: row for row in rows}


def _stale(indicator: Indicator) -> Conflict:
    message = _(
        "Someone else changed the target of %(indicator)s while you were editing it. Nothing was saved: "
        "review the targets and edit again.",
        indicator=indicator.label,
    )
    return Conflict(message, [FieldError(f"value_{indicator.value}", message)])


def save_targets(
    session: Session, year: int, changes: Sequence[TargetChange], *, actor: Actor, now: datetime
) -> list[Indicator]:
    """Apply the form's rows: set, change or clear (back to the default) each target, with a
    change-log row each; a row changed meanwhile refuses the whole form (409), nothing written.
    Returns the indicators whose target changed."""
    require(actor, Capability.MANAGE, _("Managers and admins set the scorecard's targets."))
    stored = stored_targets(session, year)
    for change in changes:
        if change.indicator in KEPT_ELSEWHERE:
            raise ValidationFailed(
                _("The target of %(indicator)s is not set here.", indicator=change.indicator.label),
                [FieldError(f"value_{change.indicator.value}", _("Set it where it is planned."))],
            )
        if stamp_of(stored.get(change.indicator)) != change.stamp:
            raise _stale(change.indicator)
    changed: list[Indicator] = []
    current: Indicator | None = None
    try:
        # All rows or none: a row another worker saved between the check above and these writes
        # (its version moved on, or its insert came first) refuses the whole form too.
        with session.begin_nested():
            for change in changes:
                current = change.indicator
                if _write(session, year, change, stored.get(change.indicator), actor=actor, now=now):
                    changed.append(change.indicator)
    except (StaleDataError, IntegrityError):
        assert current is not None
        raise _stale(current) from None
    return changed


def _write(
    session: Session, year: int, change: TargetChange, row: ScorecardTarget | None, *, actor: Actor, now: datetime
) -> bool:
    """Set, change or clear one target, with its change-log row; whether anything changed."""
    if change.value is None:
        if row is None:
            return False
        audit.record_delete(session, actor, row)
        session.delete(row)
        session.flush()
        return True
    if row is None:
        row = ScorecardTarget(
            year=year, indicator=change.indicator, value=change.value, note=change.note, updated_at=now
        )
        session.add(row)
        session.flush()
        audit.record_create(session, actor, row)
        return True
    if row.value == change.value and row.note == change.note:
        return False
    before = audit.snapshot(row)
    row.value, row.note, row.updated_at = change.value, change.note, now
    row.version += 1
    session.add(row)
    session.flush()
    audit.record_update(session, actor, row, before)
    return True
