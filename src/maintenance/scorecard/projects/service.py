"""Key projects and their milestones: reading a year's projects with their standing on a day
(a fixed number of queries whatever the number of projects), and writing them, each write in the
change log.

Managers and admins create and edit projects and milestones; the engineers of a project's
workshop may mark its milestones done (a plant-wide project, without a workshop, only managers).
A project and its milestones are edited as one: every write carries the project's version read
by the form and moves it on, so a stale form, of the project or of any milestone, is a conflict.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import WorkshopSplit, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.models import Workshop
from maintenance.org.permissions import Capability, require, require_write_in
from maintenance.scorecard.projects import rules
from maintenance.scorecard.projects.models import (
    Milestone,
    MilestoneFields,
    Project,
    ProjectFields,
    ProjectUpdate,
)
from maintenance.scorecard.projects.rules import Standing

# --- Reading --------------------------------------------------------------------------------


def get_project_or_raise(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(_("Key project %(id)s does not exist.", id=project_id))
    return project


def get_milestone_or_raise(session: Session, project: Project, milestone_id: int) -> Milestone:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        raise NotFound(_("Milestone %(id)s of project %(code)s does not exist.", id=milestone_id, code=project.code))
    return milestone


def milestones_of(session: Session, project_ids: Sequence[int]) -> dict[int, list[Milestone]]:
    """Each project's milestones by due date (then position, then id), in one query."""
    found: dict[int, list[Milestone]] = {project_id: [] for project_id in project_ids}
    if not project_ids:
        return found
    stmt = (
        select(Milestone)
        .where(col(Milestone.project_id).in_(list(project_ids)))
        .order_by(col(Milestone.due_date), col(Milestone.position), col(Milestone.id))
    )
    for milestone in session.scalars(stmt):
        found[milestone.project_id].append(milestone)
    return found


@dataclass(frozen=True)
class ProjectRow:
    """A project as the list, its export, its Gantt and the scorecard read it on a day."""

    project: Project
    workshop: str
    milestones: list[Milestone]
    standing: Standing
    next_milestone: Milestone | None


def project_rows(session: Session, year: int, today: date, *, workshop_id: int | None = None) -> list[ProjectRow]:
    """The year's projects (of one workshop when given) with their standing on ``today``, by
    due date then code: two queries (projects with their workshop's name, milestones)."""
    return _rows(session, year, today, WorkshopSplit.of(col(Project.workshop_id), workshop_id))


def project_rows_by_workshop(
    session: Session, year: int, today: date, workshop_ids: Sequence[int]
) -> dict[int, list[ProjectRow]]:
    """Each of ``workshop_ids``' rows of the year (as :func:`project_rows`), in the same two
    queries for all of them."""
    grouped: dict[int | None, list[ProjectRow]] = {workshop_id: [] for workshop_id in workshop_ids}
    for row in _rows(session, year, today, WorkshopSplit(col(Project.workshop_id), workshop_ids)):
        grouped[row.project.workshop_id].append(row)
    return {workshop_id: grouped[workshop_id] for workshop_id in workshop_ids}


def _rows(session: Session, year: int, today: date, split: WorkshopSplit) -> list[ProjectRow]:
    stmt: Any = (
        select(Project, col(Workshop.name))
        .outerjoin(Workshop, col(Workshop.id) == col(Project.workshop_id))
        .where(col(Project.year) == year, *split.where)
        .order_by(col(Project.due_date), col(Project.code))
    )
    found = session.execute(stmt).all()
    milestones = milestones_of(session, [project.id for project, _name in found])
    rows = []
    for project, workshop in found:
        own = milestones[project.id]
        rows.append(
            ProjectRow(
                project=project,
                workshop=workshop or "",
                milestones=own,
                standing=rules.standing(project, own, today),
                next_milestone=rules.next_milestone(own),
            )
        )
    return rows


def _id(project: Project) -> int:
    assert project.id is not None, "a stored project"
    return project.id


def project_row(session: Session, project: Project, today: date) -> ProjectRow:
    """One project's row (its page): its workshop and its milestones, two queries."""
    workshop = session.get(Workshop, project.workshop_id) if project.workshop_id is not None else None
    own = milestones_of(session, [_id(project)])[_id(project)]
    standing = rules.standing(project, own, today)
    return ProjectRow(project, workshop.name if workshop else "", own, standing, rules.next_milestone(own))


# --- Writing projects -------------------------------------------------------------------------


def _taken(code: str, year: int) -> FieldError:
    return FieldError("code", _("Code %(code)s is taken by another project of %(year)s.", code=code, year=year))


def _project_errors(session: Session, data: ProjectFields, project: Project | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.due_date < data.start_date:
        errors.append(FieldError("due_date", _("The due date cannot come before the start.")))
    if data.due_date.year != data.year:
        errors.append(FieldError("due_date", _("A key project of %(year)s is due in %(year)s.", year=data.year)))
    if data.aim_date is not None and not data.start_date <= data.aim_date <= data.due_date:
        errors.append(FieldError("aim_date", _("The aim date falls between the start and the due date.")))
    if data.workshop_id is not None and session.get(Workshop, data.workshop_id) is None:
        errors.append(FieldError("workshop_id", _("No such workshop.")))
    clash = session.scalar(
        select(col(Project.id)).where(col(Project.year) == data.year, col(Project.code) == data.code)
    )
    if clash is not None and (project is None or clash != project.id):
        errors.append(_taken(data.code, data.year))
    return errors


def _not_saved(errors: list[FieldError]) -> ValidationFailed:
    return ValidationFailed(_("The key project was not saved."), errors)


def create_project(session: Session, data: ProjectFields, *, actor: Actor) -> Project:
    """A new project; its code is unique in its year, also against a request saving the same
    code at the same moment (the unique constraint, caught in a savepoint: the same message)."""
    require(actor, Capability.MANAGE)
    errors = _project_errors(session, data, None)
    if errors:
        raise _not_saved(errors)
    project = Project.model_validate(data)
    try:
        with session.begin_nested():
            session.add(project)
            session.flush()
    except IntegrityError:
        raise _not_saved([_taken(data.code, data.year)]) from None
    audit.record_create(session, actor, project)
    return project


def _stale() -> Conflict:
    return Conflict(
        _("Someone else changed this key project while you were editing it. Review and edit again."),
        [FieldError("version", _("stale"))],
    )


def update_project(session: Session, project: Project, data: ProjectUpdate, *, actor: Actor) -> Project:
    """A full edit made from ``data.version``; a newer stored version is a conflict."""
    require(actor, Capability.MANAGE)
    if data.version != project.version:
        raise _stale()
    errors = _project_errors(session, data, project)
    if errors:
        raise _not_saved(errors)
    before = audit.snapshot(project)
    try:
        with versioned_write(session, project, _stale):
            project.sqlmodel_update(data.model_dump(exclude={"version"}))
            changed = audit.snapshot(project) != before
            if changed:
                project.version += 1
    except IntegrityError:
        session.refresh(project)
        raise _not_saved([_taken(data.code, data.year)]) from None
    if changed:
        audit.record_update(session, actor, project, before)
    return project


# --- Writing milestones -----------------------------------------------------------------------


def _milestone_errors(data: MilestoneFields, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.start_date is not None and data.due_date < data.start_date:
        errors.append(FieldError("due_date", _("The due date cannot come before the start.")))
    if data.done_on is not None and data.done_on > today:
        errors.append(FieldError("done_on", _("The done date cannot be in the future.")))
    return errors


def _milestone_not_saved(errors: list[FieldError]) -> ValidationFailed:
    return ValidationFailed(_("The milestone was not saved."), errors)


@contextmanager
def _project_write(session: Session, project: Project, version: int) -> Iterator[None]:
    """A milestone's write, as part of its project: the form's project ``version`` is checked
    and moved on, and the block's changes flushed, in one savepoint; a stale form, or the
    project saved meanwhile, is a conflict with nothing of the block written (its change-log
    rows included)."""
    if version != project.version:
        raise _stale()
    with versioned_write(session, project, _stale):
        project.version += 1
        yield
        session.flush()


def add_milestone(
    session: Session, project: Project, data: MilestoneFields, *, version: int, actor: Actor, today: date
) -> Milestone:
    require(actor, Capability.MANAGE)
    errors = _milestone_errors(data, today)
    if errors:
        raise _milestone_not_saved(errors)
    milestone = Milestone(**data.model_dump(exclude={"version"}), project_id=_id(project))
    with _project_write(session, project, version):
        session.add(milestone)
        session.flush()
        audit.record_create(session, actor, milestone)
    return milestone


def update_milestone(
    session: Session,
    project: Project,
    milestone: Milestone,
    data: MilestoneFields,
    *,
    version: int,
    actor: Actor,
    today: date,
) -> Milestone:
    require(actor, Capability.MANAGE)
    errors = _milestone_errors(data, today)
    if errors:
        raise _milestone_not_saved(errors)
    before = audit.snapshot(milestone)
    with _project_write(session, project, version):
        milestone.sqlmodel_update(data.model_dump(exclude={"version"}))
        if audit.snapshot(milestone) != before:
            audit.record_update(session, actor, milestone, before)
    return milestone


def mark_done(
    session: Session, project: Project, milestone: Milestone, done_on: date, *, version: int, actor: Actor, today: date
) -> Milestone:
    """The engineers of the project's workshop (managers and admins everywhere) mark a milestone
    done on a day that is not in the future."""
    if project.workshop_id is None:
        require(actor, Capability.MANAGE)
    else:
        require_write_in(session, actor, project.workshop_id)
    if done_on > today:
        raise _milestone_not_saved([FieldError("done_on", _("The done date cannot be in the future."))])
    before = audit.snapshot(milestone)
    with _project_write(session, project, version):
        milestone.done_on = done_on
        audit.record_update(session, actor, milestone, before)
    return milestone


def delete_milestone(session: Session, project: Project, milestone: Milestone, *, version: int, actor: Actor) -> None:
    require(actor, Capability.MANAGE)
    with _project_write(session, project, version):
        audit.record_delete(session, actor, milestone)
        session.delete(milestone)
