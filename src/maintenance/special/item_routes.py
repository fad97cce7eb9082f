"""One special-equipment item: its page, the asset page's 检验记录 tab (the same content as an
htmx fragment), the must-not-operate banner other domains' pages pull in, and the forms that
record its registration, applications and inspections.

Paths use ``{asset_id:int}`` so the register's other pages (/special-equipment/due, …) are not
taken for an asset. Forms post with htmx and get the refreshed records back (422 with the
field's reason); without htmx they go back to the item page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, SQLModel
from starlette.datastructures import UploadFile

from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.assets.stocktake.service import users_by_id
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import can_write_in, require_write_in
from maintenance.special import records, service
from maintenance.special.choices import InspectionResult, RegistrationEventKind
from maintenance.special.item_view import item_record
from maintenance.special.models import InspectionCreate, RegistrationCreate, RegistrationUpdate
from maintenance.special.rules import TypeStanding
from maintenance.web import FormDep, RecordId, add_toast, field_errors, is_htmx, redirect, render, validate_form

router = APIRouter(include_in_schema=False)

AsOf = Annotated[date | None, Query()]


def _special_asset_or_raise(session: Session, asset_id: int) -> Asset:
    asset = asset_service.get_asset_or_raise(session, asset_id)
    if asset.special_category.value == "none":
        raise NotFound(_("%(tag)s is not special equipment.", tag=asset.tag))
    return asset


def _context(
    session: Session,
    user: User,
    asset: Asset,
    as_of: date,
    *,
    form: str = "",
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``form`` names the form that was refused (it is shown open with ``values`` and ``errors``)."""
    item = item_record(session, asset, as_of)
    recorders = {r.recorded_by_id for r in item.history} | {e.recorded_by_id for e in item.events}
    return {
        "asset": asset,
        "item": item,
        "as_of": as_of,
        "today": plant_today(),
        "workshop": org_service.get_workshop_or_raise(session, asset.workshop_id),
        "recorders": users_by_id(session, recorders),
        "can_write": can_write_in(session, user, asset.workshop_id),
        "results": InspectionResult,
        "event_kinds": RegistrationEventKind,
        "open_form": form,
        "values": values or {},
        "errors": errors or {},
        "due_source": _due_source,
    }


def _due_source(row: TypeStanding) -> str:
    """Whether a due date is the report's own or computed by the rules."""
    if row.due_date is None:
        return ""
    if row.last is not None and row.last.report_next_due_date is not None:
        return _("from the report")
    return _("by the rules")


@router.get("/special-equipment/{asset_id:int}")
def item_page(
    request: Request, session: SessionDep, user: CurrentUser, asset_id: RecordId, as_of: AsOf = None
) -> Response:
    asset = _special_asset_or_raise(session, asset_id)
    return render(request, "special/item.html", _context(session, user, asset, as_of or plant_today()))


@router.get("/special-equipment/{asset_id:int}/records")
def item_records(
    request: Request, session: SessionDep, user: CurrentUser, asset_id: RecordId, as_of: AsOf = None
) -> Response:
    """The asset page's 检验记录 tab."""
    asset = _special_asset_or_raise(session, asset_id)
    return render(request, "special/_records.html", _context(session, user, asset, as_of or plant_today()), block=None)


@router.get("/special-equipment/{asset_id:int}/banner")
def must_not_operate_banner(request: Request, session: SessionDep, user: CurrentUser, asset_id: RecordId) -> Response:
    """The 禁止使用 banner of the asset, work-order and round pages: empty unless the item must
    not operate today (any asset may ask: those that are not special equipment get nothing)."""
    asset = asset_service.get_asset_or_raise(session, asset_id)
    standing = None
    if asset.special_category.value != "none":
        found = service.item_standing(session, asset, plant_today())
        standing = found.standing if found and found.standing.must_not_operate else None
    return render(request, "special/_banner.html", {"asset": asset, "standing": standing}, block=None)


# --- Recording ------------------------------------------------------------------------------


def _form_values(form: FormDep) -> dict[str, Any]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


# Sent with the refreshed records, so the page's must-not-operate banner asks again.
RECORDS_CHANGED = "special-records-changed"


def _after_save(request: Request, session: Session, user: User, asset: Asset, message: str) -> Response:
    add_toast(request, message)
    if is_htmx(request):
        response = render(request, "special/_records.html", _context(session, user, asset, plant_today()), block=None)
        response.headers["HX-Trigger"] = RECORDS_CHANGED
        return response
    return redirect(request, f"/special-equipment/{asset.id}")


def _refused(
    request: Request,
    session: Session,
    user: User,
    asset: Asset,
    form: str,
    values: dict[str, Any],
    errors: dict[str, str],
) -> Response:
    context = _context(session, user, asset, plant_today(), form=form, values=values, errors=errors)
    if is_htmx(request):
        return render(request, "special/_records.html", context, block=None, status_code=422)
    return render(request, "special/item.html", context, status_code=422)


def _record(
    request: Request,
    session: Session,
    user: User,
    asset_id: int,
    form: FormDep,
    form_name: str,
    model: Callable[[Asset], type[SQLModel]],
    write: Callable[[Asset, Any], str],
) -> Response:
    """Every recording form: the item, who may write (before what was sent), the form validated
    against ``model(asset)``, then ``write(asset, data)``, which returns the toast. A refusal
    shows the form open again with the values and the reasons (422)."""
    asset = _special_asset_or_raise(session, asset_id)
    require_write_in(session, user, asset.workshop_id)
    values = _form_values(form)
    data, errors = validate_form(model(asset), values)
    if data is not None:
        try:
            message = write(asset, data)
        except (ValidationFailed, Conflict) as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            return _after_save(request, session, user, asset, message)
    return _refused(request, session, user, asset, form_name, values, errors)


@router.post("/special-equipment/{asset_id:int}/registration")
def save_registration(
    request: Request, session: SessionDep, user: WriterUser, asset_id: RecordId, form: FormDep
) -> Response:
    """Register the asset, or correct its registration (from the version the form was shown with)."""

    def model(asset: Asset) -> type[SQLModel]:
        return RegistrationCreate if records.registration_of(session, asset) is None else RegistrationUpdate

    def write(asset: Asset, data: Any) -> str:
        registration = records.registration_of(session, asset)
        if registration is None:
            records.register_asset(session, asset, data, actor=user, today=plant_today())
        else:
            records.update_registration(session, asset, registration, data, actor=user, today=plant_today())
        return _("Registration of %(tag)s saved.", tag=asset.tag)

    return _record(request, session, user, asset_id, form, "registration", model, write)


@router.post("/special-equipment/{asset_id:int}/registration/events")
def record_registration_event(
    request: Request, session: SessionDep, user: WriterUser, asset_id: RecordId, form: FormDep
) -> Response:
    def write(asset: Asset, data: Any) -> str:
        registration = records.registration_or_raise(session, asset, for_update=True)
        event = records.record_registration_event(session, asset, registration, data, actor=user, today=plant_today())
        return _("%(kind)s recorded.", kind=event.kind.label)

    return _record(
        request, session, user, asset_id, form, "event", lambda _asset: records.RegistrationEventCreate, write
    )


@router.post("/special-equipment/{asset_id:int}/applications")
def record_application(
    request: Request, session: SessionDep, user: WriterUser, asset_id: RecordId, form: FormDep
) -> Response:
    def write(asset: Asset, data: Any) -> str:
        application = records.record_application(session, asset, data, actor=user, today=plant_today())
        return _("Application for the inspection due on %(due)s recorded.", due=application.due_date.isoformat())

    return _record(request, session, user, asset_id, form, "application", lambda _asset: records.ApplicationForm, write)


@router.post("/special-equipment/{asset_id:int}/inspections")
def record_inspection(
    request: Request, session: SessionDep, user: WriterUser, asset_id: RecordId, form: FormDep
) -> Response:
    """An inspection report, with its PDF (multipart) when one is chosen."""
    upload = form.get("report_file")
    report_file = (
        records.ReportFile(upload.file, upload.filename) if isinstance(upload, UploadFile) and upload.filename else None
    )

    def write(asset: Asset, data: Any) -> str:
        records.record_inspection(session, asset, data, actor=user, today=plant_today(), report_file=report_file)
        return _("Inspection of %(tag)s recorded.", tag=asset.tag)

    return _record(request, session, user, asset_id, form, "inspection", lambda _asset: InspectionCreate, write)
