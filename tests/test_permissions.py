"""The permissions policy as a table: who (a role, or a system actor) may do what.

Each row is one actor; the columns are the capabilities of org.permissions. A change of the policy
changes this table, on purpose.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session

from maintenance.audit.service import SystemActor
from maintenance.cli import cli_actor
from maintenance.demo.plant import SEED_ACTOR
from maintenance.exceptions import PermissionDenied
from maintenance.i18n import gettext as _
from maintenance.inspections.rounds import ROUNDS_ACTOR
from maintenance.monitoring.alerts import MONITORING_ACTOR
from maintenance.orders.pm.scheduler import METER_ACTOR, SCHEDULER_ACTOR
from maintenance.org import permissions
from maintenance.org.models import ApiToken, Role, User, UserWorkshop
from maintenance.org.permissions import Capability
from tests import factories

W, WE, M, AP, AD = (
    Capability.WRITE,
    Capability.WRITE_EVERYWHERE,
    Capability.MANAGE,
    Capability.APPROVE,
    Capability.ADMINISTER,
)
COLUMNS = (W, WE, M, AP, AD)

ROLES = {
    #               write  everywhere  manage  approve  administer
    Role.ENGINEER: (True, False, False, False, False),
    Role.MANAGER: (True, True, True, True, False),
    Role.ADMIN: (True, True, True, True, True),
    Role.AUDITOR: (False, False, False, False, False),
}

SYSTEM_ACTORS = {
    #                         write  everywhere  manage  approve  administer
    "scheduler": (SCHEDULER_ACTOR, (False, True, False, False, False)),
    "runtime meter": (METER_ACTOR, (False, True, False, False, False)),
    "rounds": (ROUNDS_ACTOR, (False, True, False, False, False)),
    "monitoring": (MONITORING_ACTOR, (False, True, False, False, False)),
    "demo loader": (SEED_ACTOR, (True, True, True, True, False)),
    "CLI operator": (cli_actor("test"), (True, True, True, True, True)),
    "a process given nothing": (SystemActor(username="system:unknown"), (False, False, False, False, False)),
}


@pytest.mark.parametrize("role", list(ROLES), ids=lambda role: role.value)
def test_a_role_has_the_capabilities_of_its_row(role: Role) -> None:
    user = User(username="u", full_name="U", role=role, password_hash="x")
    assert tuple(permissions.can(user, capability) for capability in COLUMNS) == ROLES[role]


@pytest.mark.parametrize("name", list(SYSTEM_ACTORS))
def test_a_system_actor_has_exactly_the_capabilities_it_was_given(name: str) -> None:
    actor, row = SYSTEM_ACTORS[name]
    assert tuple(permissions.can(actor, capability) for capability in COLUMNS) == row


def test_a_system_actor_without_a_capability_is_refused(session: Session) -> None:
    actor = SystemActor(username="system:unknown")
    with pytest.raises(PermissionDenied):
        permissions.require(actor, Capability.MANAGE)
    with pytest.raises(PermissionDenied):
        permissions.require_writer(actor)
    workshop = factories.WorkshopFactory()
    assert permissions.writable_workshop_ids(session, actor) == set()
    with pytest.raises(PermissionDenied):
        permissions.require_write_in(session, actor, workshop.id)


def test_a_system_actor_may_not_write_as_an_engineer_of_a_workshop(session: Session) -> None:
    """Only users belong to workshops: a process given WRITE alone writes nowhere."""
    workshop = factories.WorkshopFactory()
    actor = SystemActor(username="system:half", capabilities=frozenset({Capability.WRITE}))
    assert not permissions.can_write_in(session, actor, workshop.id)


def test_writing_is_scoped_to_the_workshops_a_user_belongs_to(session: Session) -> None:
    own, other = factories.WorkshopFactory(), factories.WorkshopFactory()
    engineer = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=engineer.id, workshop_id=own.id))
    manager = factories.UserFactory(role=Role.MANAGER)
    auditor = factories.UserFactory(role=Role.AUDITOR)
    session.flush()

    assert permissions.writable_workshop_ids(session, engineer) == {own.id}
    assert permissions.can_write_in(session, engineer, own.id)
    assert not permissions.can_write_in(session, engineer, other.id)
    with pytest.raises(PermissionDenied) as refused:
        permissions.require_write_in(session, engineer, other.id)
    assert refused.value.message == _("You can only change records of your own workshops.")

    assert permissions.writable_workshop_ids(session, manager) is None
    assert permissions.can_write_in(session, manager, other.id)
    assert permissions.writable_workshop_ids(session, SCHEDULER_ACTOR) is None

    assert permissions.writable_workshop_ids(session, auditor) == set()
    with pytest.raises(PermissionDenied) as refused:
        permissions.require_write_in(session, auditor, own.id)
    assert refused.value.message == _("Auditors can read and export but not change records.")


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("owner", True), ("admin", True), ("other engineer", False), ("CLI operator", True), ("bare process", False)],
)
def test_who_may_manage_an_api_token(who: str, allowed: bool) -> None:
    owner = User(id=1, username="owner", full_name="O", role=Role.ENGINEER, password_hash="x")
    actors = {
        "owner": owner,
        "admin": User(id=2, username="admin", full_name="A", role=Role.ADMIN, password_hash="x"),
        "other engineer": User(id=3, username="e", full_name="E", role=Role.ENGINEER, password_hash="x"),
        "CLI operator": cli_actor("token-revoke"),
        # A process that carries the owner's id is not the owner.
        "bare process": SystemActor(username="system:unknown", id=1),
    }
    token = ApiToken(user_id=owner.id, name="t", prefix="p", token_hash="h", scopes="")
    assert permissions.may_manage_token(actors[who], token) is allowed
