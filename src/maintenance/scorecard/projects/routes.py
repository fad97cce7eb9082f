"""Key projects pages: the year's list (page, htmx fragment and CSV/XLSX export of one filtered
list) with its Gantt; the project's page with its milestones and their Gantt; the project and
milestone forms (managers), marking a milestone done (the project's workshop), deleting one
(managers, after confirmation). Only these routes read the plant's day."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from maintenance import exports as core
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, FieldError, ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, ManagerUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, can_write_in
from maintenance.scorecard.projects import gantt, service
from maintenance.scorecard.projects.listing import ProjectExport, ProjectFiltersDep, page_of
from maintenance.scorecard.projects.models import (
    Milestone,
    MilestoneWrite,
    Project,
    ProjectCreate,
    ProjectUpdate,
)
from maintenance.scorecard.projects.rules import MilestoneState, ProjectState, milestone_slippage, milestone_state
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

LIST = "/scorecard/projects"


def _project_url(project: Project) -> str:
    return f"{LIST}/{project.id}"


# --- The list -------------------------------------------------------------------------------


@router.get(LIST)
def project_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: ProjectFiltersDep, page: int = 1
) -> Response:
    today = plant_today()
    filters = filters.of_year(today)
    year = filters.year or today.year
    workshops = org_service.list_workshops(session)
    names = {w.id: w.name for w in workshops if w.id is not None}
    rows = filters.apply(service.project_rows(session, year, today, workshop_id=filters.workshop_id))
    export_format = request.query_params.get("export")
    if export_format:
        fmt = core.check_format(export_format)
        export = ProjectExport.of(
            rows,
            session=session,
            filters=filters,
            today=today,
            workshop_names=names,
            locale=current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
        )
        return export.response(fmt, request)
    return render(
        request,
        "scorecard/projects/page.html",
        {
            "page": page_of(rows, page),
            "filters": filters,
            "year": year,
            "today": today,
            "workshops": workshops,
            "states": ProjectState,
            "chart": gantt.year_chart(rows, year, today),
            "can_manage": can(user, Capability.MANAGE),
        },
        block="results",
    )


# --- Create and edit a project ----------------------------------------------------------------


def _form_values(form: FormDep) -> dict[str, Any]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _form_page(
    request: Request,
    session: Session,
    project: Project | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "scorecard/projects/form.html",
        {"project": project, "values": values, "errors": errors, "workshops": org_service.list_workshops(session)},
        status_code=status_code,
    )


@router.get(LIST + "/new")
def new_project_page(request: Request, session: SessionDep, user: ManagerUser) -> Response:
    year = plant_today().year
    values = {"year": year, "start_date": date(year, 1, 1).isoformat(), "due_date": date(year, 12, 31).isoformat()}
    return _form_page(request, session, None, values, {})


@router.post(LIST + "/new")
def create_project(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    values = _form_values(form)
    data, errors = validate_form(ProjectCreate, values)
    if data is not None:
        try:
            project = service.create_project(session, data, actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Key project %(code)s created.", code=project.code))
            return redirect(request, _project_url(project))
    return _form_page(request, session, None, values, errors, status_code=422)


@router.get(LIST + "/{project_id:int}/edit")
def edit_project_page(request: Request, session: SessionDep, user: ManagerUser, project_id: RecordId) -> Response:
    project = service.get_project_or_raise(session, project_id)
    return _form_page(request, session, project, project.model_dump(mode="json"), {})


@router.post(LIST + "/{project_id:int}/edit")
def update_project(
    request: Request, session: SessionDep, user: ManagerUser, project_id: RecordId, form: FormDep
) -> Response:
    project = service.get_project_or_raise(session, project_id)
    values = _form_values(form)
    data, errors = validate_form(ProjectUpdate, values)
    if data is not None:
        try:
            service.update_project(session, project, data, actor=user)
        except Conflict:
            return conflict_response(
                request,
                heading=_("Someone else changed key project %(code)s while you were editing it.", code=project.code),
                changes=differences(project, data),
                audit=("project", project.id),
                edit_url=f"{_project_url(project)}/edit",
            )
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Key project %(code)s saved.", code=project.code))
            return redirect(request, _project_url(project))
    return _form_page(request, session, project, values, errors, status_code=422)


# --- The project's page -----------------------------------------------------------------------


def _detail_page(
    request: Request,
    session: Session,
    user: User,
    project: Project,
    *,
    add_values: dict[str, Any] | None = None,
    add_errors: dict[str, str] | None = None,
    done_errors: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    today = plant_today()
    row = service.project_row(session, project, today)
    workshop_id = project.workshop_id
    may_mark = can(user, Capability.MANAGE) or (
        workshop_id is not None and can(user, Capability.WRITE) and can_write_in(session, user, workshop_id)
    )
    return render(
        request,
        "scorecard/projects/detail.html",
        {
            "row": row,
            "project": project,
            "today": today,
            "states": {m.id: milestone_state(m, today) for m in row.milestones},
            "slippage": {m.id: milestone_slippage(m, today) for m in row.milestones},
            "pending_states": (MilestoneState.PENDING, MilestoneState.LATE),
            "chart": gantt.project_chart(row, today),
            "can_manage": can(user, Capability.MANAGE),
            "can_mark_done": may_mark,
            "add_values": add_values or {},
            "add_errors": add_errors or {},
            "done_errors": done_errors or {},
        },
        status_code=status_code,
    )


@router.get(LIST + "/{project_id:int}")
def project_page(request: Request, session: SessionDep, user: CurrentUser, project_id: RecordId) -> Response:
    project = service.get_project_or_raise(session, project_id)
    return _detail_page(request, session, user, project)


def _milestone_conflict(request: Request, project: Project) -> Response:
    return conflict_response(
        request,
        heading=_("Someone else changed key project %(code)s or its milestones meanwhile.", code=project.code),
        changes=None,
        audit=("project", project.id),
        back=(_project_url(project), _("Back to the project")),
        note=_("The project page shows its milestones as they are now."),
    )


@router.post(LIST + "/{project_id:int}/milestones")
def add_milestone(
    request: Request, session: SessionDep, user: ManagerUser, project_id: RecordId, form: FormDep
) -> Response:
    project = service.get_project_or_raise(session, project_id)
    values = _form_values(form)
    data, errors = validate_form(MilestoneWrite, values)
    if data is not None:
        try:
            milestone = service.add_milestone(
                session, project, data, version=data.version, actor=user, today=plant_today()
            )
        except Conflict:
            return _milestone_conflict(request, project)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Milestone %(name)s added.", name=milestone.name))
            return redirect(request, _project_url(project))
    return _detail_page(request, session, user, project, add_values=values, add_errors=errors, status_code=422)


def _milestone_form(
    request: Request,
    project: Project,
    milestone: Milestone,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "scorecard/projects/milestone_form.html",
        {"project": project, "milestone": milestone, "values": values, "errors": errors},
        status_code=status_code,
    )


@router.get(LIST + "/{project_id:int}/milestones/{milestone_id:int}/edit")
def edit_milestone_page(
    request: Request, session: SessionDep, user: ManagerUser, project_id: RecordId, milestone_id: RecordId
) -> Response:
    project = service.get_project_or_raise(session, project_id)
    milestone = service.get_milestone_or_raise(session, project, milestone_id)
    values = milestone.model_dump(mode="json") | {"version": project.version}
    return _milestone_form(request, project, milestone, values, {})


@router.post(LIST + "/{project_id:int}/milestones/{milestone_id:int}/edit")
def update_milestone(
    request: Request,
    session: SessionDep,
    user: ManagerUser,
    project_id: RecordId,
    milestone_id: RecordId,
    form: FormDep,
) -> Response:
    project = service.get_project_or_raise(session, project_id)
    milestone = service.get_milestone_or_raise(session, project, milestone_id)
    values = _form_values(form)
    data, errors = validate_form(MilestoneWrite, values)
    if data is not None:
        try:
            service.update_milestone(
                session, project, milestone, data, version=data.version, actor=user, today=plant_today()
            )
        except Conflict:
            return _milestone_conflict(request, project)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Milestone %(name)s saved.", name=milestone.name))
            return redirect(request, _project_url(project))
    return _milestone_form(request, project, milestone, values, errors, status_code=422)


class MarkDone(BaseModel):
    done_on: date
    version: int = Field(ge=1, le=2_147_483_647)


@router.post(LIST + "/{project_id:int}/milestones/{milestone_id:int}/done")
def mark_milestone_done(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    project_id: RecordId,
    milestone_id: RecordId,
    form: FormDep,
) -> Response:
    project = service.get_project_or_raise(session, project_id)
    milestone = service.get_milestone_or_raise(session, project, milestone_id)
    data, errors = validate_form(MarkDone, _form_values(form))
    if data is not None:
        try:
            service.mark_done(
                session, project, milestone, data.done_on, version=data.version, actor=user, today=plant_today()
            )
        except Conflict:
            return _milestone_conflict(request, project)
        except ValidationFailed as error:
            errors = field_errors(error.errors)
        else:
            add_toast(request, _("Milestone %(name)s marked done.", name=milestone.name))
            return redirect(request, _project_url(project))
    message = " ".join(errors.values())
    return _detail_page(request, session, user, project, done_errors={milestone_id: message}, status_code=422)


class Versioned(BaseModel):
    version: int = Field(ge=1, le=2_147_483_647)


@router.post(LIST + "/{project_id:int}/milestones/{milestone_id:int}/delete")
def delete_milestone(
    request: Request,
    session: SessionDep,
    user: ManagerUser,
    project_id: RecordId,
    milestone_id: RecordId,
    form: FormDep,
) -> Response:
    project = service.get_project_or_raise(session, project_id)
    milestone = service.get_milestone_or_raise(session, project, milestone_id)
    data, errors = validate_form(Versioned, _form_values(form))
    if data is None:
        reasons = [FieldError(name, message) for name, message in errors.items()]
        raise ValidationFailed(_("The milestone was not deleted."), reasons)
    name = milestone.name
    try:
        service.delete_milestone(session, project, milestone, version=data.version, actor=user)
    except Conflict:
        return _milestone_conflict(request, project)
    add_toast(request, _("Milestone %(name)s deleted.", name=name))
    return redirect(request, _project_url(project))
