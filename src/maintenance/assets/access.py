"""Who may write what in the asset domain: managers and admins everywhere, engineers in
their own workshops, auditors nowhere (they read and export)."""

from __future__ import annotations

from sqlmodel import Session

from maintenance.exceptions import PermissionDenied
from maintenance.i18n import gettext as _
from maintenance.org import service as org_service
from maintenance.org.models import Role, User

EVERYWHERE = frozenset({Role.MANAGER, Role.ADMIN})


def is_manager(user: User) -> bool:
    return user.role in EVERYWHERE


def writable_workshop_ids(session: Session, user: User) -> set[int] | None:
    """The workshops ``user`` may write in; None means every workshop."""
    if user.role in EVERYWHERE:
        return None
    if user.role == Role.ENGINEER:
        return set(org_service.workshop_ids_of(session, user))
    return set()


def can_write_in(session: Session, user: User, workshop_id: int) -> bool:
    allowed = writable_workshop_ids(session, user)
    return allowed is None or workshop_id in allowed


def require_writer(user: User) -> None:
    """Refuse auditors before anything is read or written."""
    if user.role == Role.AUDITOR:
        raise PermissionDenied(_("Auditors can read and export but not change records."))


def require_write_in(session: Session, user: User, workshop_id: int) -> None:
    require_writer(user)
    if not can_write_in(session, user, workshop_id):
        raise PermissionDenied(_("You can only change records of your own workshops."))
