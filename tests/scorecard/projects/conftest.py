"""A small programme for the key projects' tests: two workshops, users of every role, projects
with milestones written as rows (the services' writes are tested on their own), and the plant's
day fixed at 12 June 2026 for the pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session

from maintenance.org.models import Role, User, UserWorkshop, Workshop
from maintenance.scorecard.projects import routes
from maintenance.scorecard.projects.models import Milestone, Project
from tests import factories

TODAY = date(2026, 6, 12)

MakeProject = Callable[..., Project]


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr(routes, "plant_today", lambda: TODAY)
    return TODAY


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory(code="PWR", name="热电车间")


@pytest.fixture
def other_workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory(code="SYN", name="合成车间")


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def auditor(session: Session) -> User:
    return factories.UserFactory(role=Role.AUDITOR)


def _engineer_of(session: Session, workshop: Workshop) -> User:
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    return user


@pytest.fixture
def engineer_a(session: Session, workshop: Workshop) -> User:
    """An engineer of the projects' workshop (热电)."""
    return _engineer_of(session, workshop)


@pytest.fixture
def engineer_b(session: Session, other_workshop: Workshop) -> User:
    return _engineer_of(session, other_workshop)


@pytest.fixture
def make_project(session: Session) -> MakeProject:
    """``make_project(code, due, milestones=[(name, due, done_on)], **fields)``: a 2026 project
    started 1 January unless told otherwise."""

    def make(
        code: str,
        due: date,
        milestones: list[tuple[str, date, date | None]] | None = None,
        **fields: object,
    ) -> Project:
        values: dict[str, object] = {
            "year": 2026,
            "code": code,
            "name": f"项目{code}",
            "start_date": date(2026, 1, 1),
            "due_date": due,
        } | fields
        project = Project(**values)  # type: ignore[arg-type]
        session.add(project)
        session.flush()
        for position, (name, milestone_due, done_on) in enumerate(milestones or []):
            session.add(
                Milestone(project_id=project.id, name=name, due_date=milestone_due, done_on=done_on, position=position)  # type: ignore[arg-type]
            )
        session.flush()
        return project

    return make
