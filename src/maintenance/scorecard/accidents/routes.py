"""The accident register's pages: the list (page, htmx fragment and CSV/XLSX export from one view,
with the year's accident-rate card), recording and editing an accident (its asset named by tag),
deleting one (managers), and the accident page with its corrective actions (added, edited, marked
done, deleted, each able to raise one corrective work order).

The list runs a fixed number of queries whatever the number of accidents: the workshops, the
year's targets, the rate's counts, the count and the page's rows (asset and open actions joined)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from maintenance import exports as core
from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.orders.forms import on_asset_tag, resolve_asset_tag
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, ManagerUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, can_write_in, require_write_in, writable_workshop_ids
from maintenance.scorecard.accidents import figures, service
from maintenance.scorecard.accidents.exports import AccidentExport
from maintenance.scorecard.accidents.models import (
    Accident,
    AccidentActionCreate,
    AccidentActionUpdate,
    AccidentClass,
    AccidentCreate,
    AccidentUpdate,
)
from maintenance.scorecard.accidents.service import AccidentFiltersDep
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.states import judge
from maintenance.scorecard.targets import targets_of_year
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

LIST = "/scorecard/accidents"


def _page_of(accident: Accident | int | None) -> str:
    accident_id = accident.id if isinstance(accident, Accident) else accident
    return f"{LIST}/{accident_id}"


# --- The list -------------------------------------------------------------------------------


@router.get(LIST)
def accident_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: AccidentFiltersDep, page: int = 1
) -> Response:
    today = plant_today()
    filters = filters.of_year(today)
    workshops = org_service.list_workshops(session)
    names = {w.id: w.name for w in workshops if w.id is not None}
    export_format = request.query_params.get("export")
    if export_format:
        export = AccidentExport(
            session=session,
            filters=filters,
            workshop_names=names,
            locale=current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
        )
        return export.response(core.check_format(export_format), request)
    year = filters.year or today.year
    scope = ScorecardScope(year=year, as_of=filters.as_of(today), workshop_id=filters.workshop_id)
    rate = figures.accident_rate(session, scope, targets_of_year(session, year))
    counts = service.count_accidents(session, scope.as_of, workshop_id=filters.workshop_id)
    rows = paginate(session, service.list_accidents(filters), page, scalars=False)
    return render(
        request,
        "scorecard/accidents/page.html",
        {
            "page": rows,
            "filters": filters,
            "figure": rate,
            # Judged as the scorecard judges it (0 % against −10 % is amber there and here).
            "state": judge(rate),
            "counts": counts,
            "workshops": workshops,
            "workshop_names": names,
            "classes": AccidentClass,
            "years": list(range(today.year, today.year - 6, -1)),
            "can_record": writable_workshop_ids(session, user) != set(),
        },
        block="results",
    )


# --- The asset page's accidents tab -------------------------------------------------------------

# As many as the asset page's orders tab shows; an asset with more names how many there are.
ASSET_TAB_SIZE = 20


@router.get("/assets/{asset_id:int}/accidents")
def asset_accidents(request: Request, session: SessionDep, user: CurrentUser, asset_id: RecordId) -> Response:
    """The accidents and incidents on one asset, every year's, pulled into its page by htmx."""
    asset = asset_service.get_asset_or_raise(session, asset_id)
    on_asset = service.accidents_on_asset(asset_id)
    return render(
        request,
        "scorecard/accidents/_asset.html",
        {
            "asset": asset,
            "rows": list(session.execute(on_asset.limit(ASSET_TAB_SIZE))),
            "total": session.scalar(select(func.count()).select_from(on_asset.subquery())) or 0,
            "can_record": can_write_in(session, user, asset.workshop_id),
        },
        block=None,
    )


# --- Recording and editing --------------------------------------------------------------------


def _form_page(
    request: Request,
    accident: Accident | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "scorecard/accidents/form.html",
        {"accident": accident, "values": values, "errors": errors, "classes": AccidentClass, "today": plant_today()},
        status_code=status_code,
    )


def _form_values(form: FormDep) -> dict[str, Any]:
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}


@router.get(LIST + "/new")
def new_accident_page(request: Request, user: WriterUser) -> Response:
    values = {"occurred_on": plant_today().isoformat(), "accident_class": AccidentClass.GENERAL.value}
    values |= {key: request.query_params[key] for key in ("asset_tag",) if key in request.query_params}
    return _form_page(request, None, values, {})


@router.post(LIST + "/new")
def record_accident(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    values = _form_values(form)
    errors = resolve_asset_tag(session, values)
    data, model_errors = validate_form(AccidentCreate, values)
    errors = on_asset_tag(model_errors) | errors
    if data is not None and not errors:
        try:
            accident = service.record_accident(session, data, today=plant_today(), actor=user)
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        else:
            add_toast(request, _("Accident “%(title)s” recorded.", title=accident.title))
            return redirect(request, _page_of(accident))
    return _form_page(request, None, values, errors, status_code=422)


def _editable(session: Session, user: User, accident_id: int) -> Accident:
    accident = service.get_accident_or_raise(session, accident_id)
    require_write_in(session, user, accident.workshop_id)
    return accident


@router.get(LIST + "/{accident_id:int}/edit")
def edit_accident_page(request: Request, session: SessionDep, user: WriterUser, accident_id: RecordId) -> Response:
    accident = _editable(session, user, accident_id)
    asset = session.get(Asset, accident.asset_id)
    values = accident.model_dump(mode="json") | {"asset_tag": asset.tag if asset else ""}
    return _form_page(request, accident, values, {})


def _labels() -> dict[str, str]:
    """The form's fields as users read them, for the conflict page."""
    return {
        "occurred_on": _("Date"),
        "accident_class": _("Class"),
        "title": _("Title"),
        "downtime_hours": _("Downtime (h)"),
        "loss_cny": _("Loss (CNY)"),
        "description": _("What happened"),
        "cause": _("Cause"),
    }


def _display(name: str, value: Any) -> Any:
    return value.label if isinstance(value, AccidentClass) else value


@router.post(LIST + "/{accident_id:int}/edit")
def update_accident(
    request: Request, session: SessionDep, user: WriterUser, accident_id: RecordId, form: FormDep
) -> Response:
    accident = _editable(session, user, accident_id)
    values = _form_values(form)
    errors = resolve_asset_tag(session, values)
    data, model_errors = validate_form(AccidentUpdate, values)
    errors = on_asset_tag(model_errors) | errors
    if data is not None and not errors:
        try:
            service.update_accident(session, accident, data, today=plant_today(), actor=user)
        except Conflict:
            return conflict_response(
                request,
                heading=_(
                    "Someone else changed the accident “%(title)s” while you were editing it.", title=accident.title
                ),
                changes=differences(
                    accident, data, exclude=("version", "asset_id"), labels=_labels(), display=_display
                ),
                audit=("accident", accident.id),
                edit_url=f"{_page_of(accident)}/edit",
                back=(_page_of(accident), _("Back to the accident")),
            )
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        else:
            add_toast(request, _("Accident “%(title)s” saved.", title=accident.title))
            return redirect(request, _page_of(accident))
    return _form_page(request, accident, values, errors, status_code=422)


@router.post(LIST + "/{accident_id:int}/delete")
def delete_accident(request: Request, session: SessionDep, user: ManagerUser, accident_id: RecordId) -> Response:
    accident = service.get_accident_or_raise(session, accident_id, for_update=True)
    title = accident.title
    service.delete_accident(session, accident, actor=user)
    add_toast(request, _("Accident “%(title)s” deleted.", title=title))
    return redirect(request, LIST)


# --- The accident page and its corrective actions ----------------------------------------------


def _accident_page(
    request: Request,
    session: Session,
    user: User,
    accident: Accident,
    *,
    action_values: dict[str, Any] | None = None,
    action_errors: dict[str, str] | None = None,
    editing: int | None = None,
    status_code: int = 200,
) -> Response:
    asset = session.get(Asset, accident.asset_id)
    workshop = org_service.get_workshop_or_raise(session, accident.workshop_id)
    return render(
        request,
        "scorecard/accidents/detail.html",
        {
            "accident": accident,
            "asset": asset,
            "workshop": workshop,
            "actions": service.actions_of(session, accident),
            "action_values": action_values or {},
            "action_errors": action_errors or {},
            "editing": editing,
            "today": plant_today(),
            "can_write": can_write_in(session, user, accident.workshop_id) and can(user, Capability.WRITE),
            "can_delete": can(user, Capability.MANAGE),
        },
        status_code=status_code,
    )


@router.get(LIST + "/{accident_id:int}")
def accident_page(request: Request, session: SessionDep, user: CurrentUser, accident_id: RecordId) -> Response:
    return _accident_page(request, session, user, service.get_accident_or_raise(session, accident_id))


def _action_form(form: FormDep, model: type[SQLModel] = AccidentActionCreate) -> dict[str, Any]:
    return {key: form.get(key) for key in model.model_fields if isinstance(form.get(key), str)}


@router.post(LIST + "/{accident_id:int}/actions")
def add_action(
    request: Request, session: SessionDep, user: WriterUser, accident_id: RecordId, form: FormDep
) -> Response:
    accident = _editable(session, user, accident_id)
    values = _action_form(form)
    data, errors = validate_form(AccidentActionCreate, values)
    if data is not None:
        try:
            service.add_action(session, accident, data, today=plant_today(), actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Corrective action added."))
            return redirect(request, _page_of(accident))
    return _accident_page(request, session, user, accident, action_values=values, action_errors=errors, status_code=422)


@router.post(LIST + "/{accident_id:int}/actions/{action_id:int}")
def update_action(
    request: Request, session: SessionDep, user: WriterUser, accident_id: RecordId, action_id: RecordId, form: FormDep
) -> Response:
    accident = _editable(session, user, accident_id)
    action = service.get_action_or_raise(session, accident, action_id, for_update=True)
    values = _action_form(form, AccidentActionUpdate)
    data, errors = validate_form(AccidentActionUpdate, values)
    if data is not None:
        try:
            service.update_action(session, accident, action, data, today=plant_today(), actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Corrective action saved."))
            return redirect(request, _page_of(accident))
    return _accident_page(
        request, session, user, accident, action_values=values, action_errors=errors, editing=action.id, status_code=422
    )


class DoneForm(BaseModel):
    done_on: date


@router.post(LIST + "/{accident_id:int}/actions/{action_id:int}/done")
def mark_action_done(
    request: Request, session: SessionDep, user: WriterUser, accident_id: RecordId, action_id: RecordId, form: FormDep
) -> Response:
    accident = _editable(session, user, accident_id)
    action = service.get_action_or_raise(session, accident, action_id, for_update=True)
    data, errors = validate_form(DoneForm, {"done_on": form.get("done_on")})
    if data is not None:
        try:
            service.mark_done(session, accident, action, data.done_on, today=plant_today(), actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Corrective action done on %(day)s.", day=data.done_on.isoformat()))
            return redirect(request, _page_of(accident))
    errors = {"__all__": _("The corrective action was not saved."), **errors}
    return _accident_page(request, session, user, accident, action_errors=errors, editing=action.id, status_code=422)


@router.post(LIST + "/{accident_id:int}/actions/{action_id:int}/delete")
def delete_action(
    request: Request, session: SessionDep, user: WriterUser, accident_id: RecordId, action_id: RecordId
) -> Response:
    accident = _editable(session, user, accident_id)
    action = service.get_action_or_raise(session, accident, action_id, for_update=True)
    service.delete_action(session, accident, action, actor=user)
    add_toast(request, _("Corrective action deleted."))
    return redirect(request, _page_of(accident))


@router.post(LIST + "/{accident_id:int}/actions/{action_id:int}/order")
def raise_order(
    request: Request, session: SessionDep, user: WriterUser, accident_id: RecordId, action_id: RecordId
) -> Response:
    accident = _editable(session, user, accident_id)
    action = service.get_action_or_raise(session, accident, action_id, for_update=True)
    raised = service.raise_order(session, accident, action, actor=user)
    if raised.created:
        add_toast(request, _("Work order %(number)s raised.", number=raised.order.number))
    else:
        add_toast(request, _("This action has work order %(number)s already.", number=raised.order.number), "info")
    return redirect(request, _page_of(accident))
