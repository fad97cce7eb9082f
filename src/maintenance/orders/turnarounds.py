"""Turnarounds (大修): the shutdown overhaul event whose scope is the orders tagged to it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders.models import Turnaround, TurnaroundCreate, TurnaroundFields, TurnaroundUpdate
from maintenance.org.models import Site


def list_turnarounds(session: Session) -> Sequence[Turnaround]:
    return session.scalars(select(Turnaround).order_by(col(Turnaround.start_date).desc())).all()


def get_turnaround_or_raise(session: Session, turnaround_id: int) -> Turnaround:
    turnaround = session.get(Turnaround, turnaround_id)
    if turnaround is None:
        raise NotFound(_("Turnaround %(id)s does not exist.", id=turnaround_id))
    return turnaround


def _errors(session: Session, data: TurnaroundFields, turnaround: Turnaround | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.end_date < data.start_date:
        errors.append(FieldError("end_date", _("The end cannot come before the start.")))
    clash = session.scalar(select(col(Turnaround.id)).where(col(Turnaround.code) == data.code))
    if clash is not None and (turnaround is None or clash != turnaround.id):
        errors.append(FieldError("code", _("Code %(code)s is taken.", code=data.code)))
    return errors


def create_turnaround(session: Session, data: TurnaroundCreate, *, actor: Actor) -> Turnaround:
    errors = _errors(session, data, None)
    if session.get(Site, data.site_id) is None:
        errors.append(FieldError("site_id", _("No such site.")))
    if errors:
        raise ValidationFailed(_("The turnaround was not saved."), errors)
    turnaround = Turnaround.model_validate(data)
    session.add(turnaround)
    session.flush()
    audit.record_create(session, actor, turnaround)
    return turnaround


def update_turnaround(session: Session, turnaround: Turnaround, data: TurnaroundUpdate, *, actor: Actor) -> Turnaround:
    if data.version != turnaround.version:
        raise Conflict(
            _("Someone else changed this turnaround while you were editing it. Review and edit again."),
            [FieldError("version", _("stale"))],
        )
    errors = _errors(session, data, turnaround)
    if errors:
        raise ValidationFailed(_("The turnaround was not saved."), errors)
    before = audit.snapshot(turnaround)
    turnaround.sqlmodel_update(data.model_dump(exclude={"version"}))
    if audit.snapshot(turnaround) != before:
        turnaround.version += 1
        session.flush()
        audit.record_update(session, actor, turnaround, before)
    return turnaround
