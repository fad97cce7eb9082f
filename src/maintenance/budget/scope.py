"""Whose figures a user reads in the budget: an engineer the workshops they belong to (their
budget and actual, read-only); managers, admins and auditors every workshop. The pages, the
drill-down, the finance journal and the API all ask here, so no view shows an engineer more."""

from __future__ import annotations

from sqlmodel import Session

from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, workshop_ids_of


def readable_workshop_ids(session: Session, user: User) -> list[int] | None:
    """The workshops whose budget ``user`` reads; None means every workshop."""
    if can(user, Capability.WRITE) and not can(user, Capability.WRITE_EVERYWHERE):
        return workshop_ids_of(session, user)
    return None
