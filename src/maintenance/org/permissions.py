"""Who may do what: the one policy module.

Every check asks it the same question, "may this actor do this?", whether the actor is a user
(pages, API, tokens) or a system process (the demo loader, the scheduler, the CLI, the rounds and
monitoring jobs). The routes' dependencies built on it (``WriterUser``, ``ManagerUser``,
``AdminUser``) live in :mod:`maintenance.org.auth` beside the session user they check: org.service
uses this module, and auth uses org.service. A user's capabilities come from their role; a system actor has only the
capabilities it was given where it is declared (``SystemActor(..., capabilities=...)``): a process
that was given none may do nothing, it is not trusted for being a process.

Writing is scoped by workshop: engineers write in the workshops they belong to; managers, admins
and system processes with :attr:`Capability.WRITE_EVERYWHERE` in every workshop. Auditors read
and export everything and write nothing.
"""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session, col, select

from maintenance.audit.service import Actor, SystemActor
from maintenance.exceptions import PermissionDenied
from maintenance.i18n import gettext as _
from maintenance.org.models import ApiToken, Role, User, UserWorkshop


class Capability(StrEnum):
    WRITE = "write"
    """Change records in the workshops one belongs to: raise and work on orders, take readings and
    rounds, count stocktakes, attach documents."""
    WRITE_EVERYWHERE = "write_everywhere"
    """Change records in every workshop."""
    MANAGE = "manage"
    """Plant-wide records and decisions: the asset registry and its imports, PM plans and order
    generation, seasonal campaigns, turnarounds, signing or discarding stocktakes, deleting
    documents."""
    APPROVE = "approve"
    """Approve orders above the approval threshold and close orders (their costs become final)."""
    ADMINISTER = "administer"
    """Users, sites, workshops and units, class aliases, everyone's API tokens."""


EVERY_CAPABILITY = frozenset(Capability)

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ENGINEER: frozenset({Capability.WRITE}),
    Role.MANAGER: frozenset({Capability.WRITE, Capability.WRITE_EVERYWHERE, Capability.MANAGE, Capability.APPROVE}),
    Role.ADMIN: EVERY_CAPABILITY,
    Role.AUDITOR: frozenset(),
}


def capabilities_of(actor: Actor) -> frozenset[Capability]:
    if isinstance(actor, User):
        return ROLE_CAPABILITIES[actor.role]
    if isinstance(actor, SystemActor):
        return frozenset(Capability(name) for name in actor.capabilities)
    return frozenset()


def can(actor: Actor, capability: Capability) -> bool:
    return capability in capabilities_of(actor)


def require(actor: Actor, capability: Capability, message: str | None = None) -> None:
    if not can(actor, capability):
        raise PermissionDenied(message)


def workshop_ids_of(session: Session, user: User) -> list[int]:
    """The workshops ``user`` belongs to: where an engineer may write."""
    return list(
        session.scalars(
            select(col(UserWorkshop.workshop_id))
            .where(col(UserWorkshop.user_id) == user.id)
            .order_by(col(UserWorkshop.workshop_id))
        )
    )


def writable_workshop_ids(session: Session, actor: Actor) -> set[int] | None:
    """The workshops ``actor`` may write in; None means every workshop."""
    capabilities = capabilities_of(actor)
    if Capability.WRITE_EVERYWHERE in capabilities:
        return None
    if Capability.WRITE in capabilities and isinstance(actor, User):
        return set(workshop_ids_of(session, actor))
    return set()


def can_write_in(session: Session, actor: Actor, workshop_id: int) -> bool:
    allowed = writable_workshop_ids(session, actor)
    return allowed is None or workshop_id in allowed


def require_writer(actor: Actor) -> None:
    """Refuse those who write nowhere (auditors) before anything is read or written."""
    if not capabilities_of(actor) & {Capability.WRITE, Capability.WRITE_EVERYWHERE}:
        raise PermissionDenied(
            _("Auditors can read and export but not change records.") if isinstance(actor, User) else None
        )


def require_write_in(session: Session, actor: Actor, workshop_id: int) -> None:
    require_writer(actor)
    if not can_write_in(session, actor, workshop_id):
        raise PermissionDenied(_("You can only change records of your own workshops."))


def may_manage_token(actor: Actor, token: ApiToken) -> bool:
    """Administrators manage every API token; users their own."""
    return can(actor, Capability.ADMINISTER) or (isinstance(actor, User) and actor.id == token.user_id)
