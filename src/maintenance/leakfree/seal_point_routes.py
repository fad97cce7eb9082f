"""The seal-point inventory (密封点台账): the list (page, htmx fragment and CSV/XLSX export from
one view, with the points of the filtered lines by kind), the new and edit forms (409 on a stale
version), retiring a line and returning it to service.

The list runs a fixed number of queries whatever the number of lines: the user's workshops, the
workshops, the units, the count, the page's rows (unit and asset joined in) and the totals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from maintenance import exports as core
from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.db import SessionDep
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.leakfree import seal_points
from maintenance.leakfree.choices import SealKind, SealType
from maintenance.leakfree.models import SealPoint, SealPointCreate, SealPointUpdate
from maintenance.leakfree.seal_point_exports import SealPointExport
from maintenance.leakfree.seal_points import SealPointFiltersDep
from maintenance.orders.forms import on_asset_tag
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, WriterUser
from maintenance.org.models import Unit, User
from maintenance.org.permissions import Capability, can, can_write_in, require_write_in, writable_workshop_ids
from maintenance.web import (
    Difference,
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

LIST = "/leakfree/seal-points"
CHOICES = {"kinds": SealKind, "seal_types": SealType}


def _may_write(session: Session, user: User, workshop_id: int | None = None) -> bool:
    if not (can(user, Capability.WRITE) or can(user, Capability.WRITE_EVERYWHERE)):
        return False
    return workshop_id is None or can_write_in(session, user, workshop_id)


# --- The list -------------------------------------------------------------------------------


@router.get(LIST)
def seal_point_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: SealPointFiltersDep, page: int = 1
) -> Response:
    workshop_ids = filters.workshop_ids(session, user)
    workshops = org_service.list_workshops(session)
    names = {w.id: w.name for w in workshops if w.id is not None}
    export_format = request.query_params.get("export")
    if export_format:
        export = SealPointExport(
            session=session,
            filters=filters,
            workshop_ids=workshop_ids,
            workshop_names=names,
            locale=current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
        )
        return export.response(core.check_format(export_format), request)
    rows = paginate(session, seal_points.list_seal_points(filters, workshop_ids), page, scalars=False)
    totals = seal_points.totals_by_kind(session, filters, workshop_ids)
    return render(
        request,
        "leakfree/seal_points/list.html",
        {
            "page": rows,
            "filters": filters,
            "totals": totals,
            "workshops": workshops,
            "workshop_names": names,
            "units": org_service.list_units(session),
            "can_create": _may_write(session, user),
            # The engineer's own workshops, shown because no workshop was chosen.
            "own_workshops": workshop_ids if filters.workshop_id is None and not filters.all_workshops else None,
            **CHOICES,
        },
        block="results",
    )


# --- Create and edit ------------------------------------------------------------------------


def _field_labels() -> dict[str, str]:
    return {
        "code": _("Code"),
        "workshop_id": _("Workshop"),
        "unit_id": _("Unit"),
        "asset_id": _("Asset"),
        "seal_type": _("Seal type"),
        "location": _("Location"),
        "count": _("Count"),
        "is_active": _("In use"),
    }


def _form_page(
    request: Request,
    session: Session,
    user: User,
    point: SealPoint | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    *,
    can_edit: bool = True,
) -> Response:
    writable = writable_workshop_ids(session, user)
    workshops = [w for w in org_service.list_workshops(session) if writable is None or w.id in writable]
    if point is not None and not can_edit:
        workshops = [w for w in org_service.list_workshops(session) if w.id == point.workshop_id]
    workshop_ids = {w.id for w in workshops}
    units = [u for u in org_service.list_units(session) if u.workshop_id in workshop_ids]
    return render(
        request,
        "leakfree/seal_points/form.html",
        {
            "point": point,
            "values": values,
            "errors": errors,
            "workshops": workshops,
            "units": units,
            "can_edit": can_edit,
            **CHOICES,
        },
        status_code=status_code,
    )


def _form_values(session: Session, form: FormDep) -> tuple[dict[str, Any], dict[str, str]]:
    """The form names the optional asset by its tag; its errors belong to the tag input."""
    values: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    values.pop("is_active", None)  # retiring is its own action
    tag = str(values.get("asset_tag", "")).strip()
    values["asset_id"] = ""
    if not tag:
        return values, {}
    asset = asset_service.get_asset_by_tag(session, tag)
    if asset is None:
        return values, {"asset_tag": _("No asset has the tag %(tag)s.", tag=tag)}
    values["asset_id"] = str(asset.id)
    return values, {}


@router.get(LIST + "/new")
def new_seal_point_page(request: Request, session: SessionDep, user: WriterUser) -> Response:
    writable = writable_workshop_ids(session, user)
    values: dict[str, Any] = {"seal_type": SealType.FLANGE.value, "count": "1"}
    if writable and len(writable) == 1:
        values["workshop_id"] = str(next(iter(writable)))
    return _form_page(request, session, user, None, values, {})


@router.post(LIST + "/new")
def create_seal_point(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    values, errors = _form_values(session, form)
    data, form_errors = validate_form(SealPointCreate, values)
    errors = on_asset_tag(form_errors) | errors
    if data is not None and not errors:
        try:
            point = seal_points.create_seal_point(session, data, actor=user)
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        else:
            add_toast(request, _("Seal-point line %(code)s added.", code=point.code))
            return redirect(request, LIST)
    return _form_page(request, session, user, None, values, errors, status_code=422)


def _stored_values(session: Session, point: SealPoint) -> dict[str, Any]:
    asset = session.get(Asset, point.asset_id) if point.asset_id else None
    return point.model_dump(mode="json") | {"asset_tag": asset.tag if asset else ""}


@router.get(LIST + "/{seal_point_id:int}")
def edit_seal_point_page(request: Request, session: SessionDep, user: CurrentUser, seal_point_id: RecordId) -> Response:
    """Everyone may read the line; the form is for those who may change it."""
    point = seal_points.get_seal_point_or_raise(session, seal_point_id)
    can_edit = _may_write(session, user, point.workshop_id)
    return _form_page(request, session, user, point, _stored_values(session, point), {}, can_edit=can_edit)


@router.post(LIST + "/{seal_point_id:int}")
def update_seal_point(
    request: Request, session: SessionDep, user: WriterUser, seal_point_id: RecordId, form: FormDep
) -> Response:
    point = seal_points.get_seal_point_or_raise(session, seal_point_id, for_update=True)
    require_write_in(session, user, point.workshop_id)
    values, errors = _form_values(session, form)
    data, form_errors = validate_form(SealPointUpdate, values | {"is_active": point.is_active})
    errors = on_asset_tag(form_errors) | errors
    if data is not None and not errors:
        try:
            seal_points.update_seal_point(session, point, data, actor=user)
        except Conflict:
            return _conflict(request, session, point, data)
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        else:
            add_toast(request, _("Seal-point line %(code)s saved.", code=point.code))
            return redirect(request, LIST)
    return _form_page(request, session, user, point, values, errors, status_code=422)


def _conflict(request: Request, session: Session, point: SealPoint, mine: SealPointUpdate | None) -> Response:
    return conflict_response(
        request,
        heading=_("Someone else changed seal-point line %(code)s while you were editing it.", code=point.code),
        changes=_differences(session, point, mine) if mine is not None else None,
        note=None if mine is not None else _("The line is now %(state)s.", state=_state(point)),
        audit=("seal_point", point.id),
        edit_url=f"{LIST}/{point.id}",
        back=(LIST, _("Back to the inventory")),
    )


def _state(point: SealPoint) -> str:
    return _("in use") if point.is_active else _("retired")


def _differences(session: Session, stored: SealPoint, mine: SealPointUpdate) -> list[Difference]:
    """The edited fields, the workshop, unit and asset by their names and the type by its label."""

    def display(name: str, value: Any) -> Any:
        if value is None or value == "":
            return value
        if name == "asset_id":
            asset = session.get(Asset, value)
            return asset.tag if asset else value
        if name == "unit_id":
            unit = session.get(Unit, value)
            return unit.code if unit else value
        if name == "workshop_id":
            return org_service.get_workshop_or_raise(session, value).name
        if name == "seal_type":
            return SealType(value).label
        return value

    return differences(stored, mine, labels=_field_labels(), display=display)


# --- Retire and return to service -----------------------------------------------------------


def _set_active(
    request: Request, session: Session, user: User, seal_point_id: int, form: FormDep, active: bool
) -> Response:
    point = seal_points.get_seal_point_or_raise(session, seal_point_id, for_update=True)
    require_write_in(session, user, point.workshop_id)
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        version = -1
    if not active and form.get("confirm") != "yes":
        errors = {"__all__": _("Tick the box to confirm that the line is retired.")}
        values = _stored_values(session, point)
        return _form_page(request, session, user, point, values, errors, status_code=422)
    try:
        seal_points.set_active(session, point, active, version=version, actor=user)
    except Conflict:
        return _conflict(request, session, point, None)
    if active:
        add_toast(request, _("Seal-point line %(code)s is in use again.", code=point.code))
    else:
        add_toast(
            request, _("Seal-point line %(code)s retired: it no longer counts in the inventory.", code=point.code)
        )
    return redirect(request, f"{LIST}/{point.id}")


@router.post(LIST + "/{seal_point_id:int}/retire")
def retire_seal_point(
    request: Request, session: SessionDep, user: WriterUser, seal_point_id: RecordId, form: FormDep
) -> Response:
    return _set_active(request, session, user, seal_point_id, form, active=False)


@router.post(LIST + "/{seal_point_id:int}/reinstate")
def reinstate_seal_point(
    request: Request, session: SessionDep, user: WriterUser, seal_point_id: RecordId, form: FormDep
) -> Response:
    return _set_active(request, session, user, seal_point_id, form, active=True)
