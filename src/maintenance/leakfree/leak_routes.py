"""The leak register: open leaks and their age, a leak's way to repair, failed seal checks of rounds.

``/leakfree/leaks`` is one view serving the page, the htmx fragment of the register and its
CSV/XLSX export; below the register, the failed seal checks of rounds not yet turned into a leak
(each with its "record as a leak" button). The page runs a fixed number of queries whatever the
number of leaks: the workshops, the count and rows of the register, their seal points, and the
count and rows of the failed checks."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.datastructures import UploadFile

from maintenance import exports as core
from maintenance import files
from maintenance.assets.models import Asset
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.leakfree import leaks, surveys
from maintenance.leakfree.choices import LeakSeverity, LeakStatus, SealKind
from maintenance.leakfree.leaks import FromRoundInput, LeakFiltersDep
from maintenance.leakfree.models import Leak, LeakSurvey, SealPoint
from maintenance.leakfree.survey_exports import LeakExport
from maintenance.orders.models import WorkOrder
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, can_write_in, writable_workshop_ids
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    field_errors,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

LIST = "/leakfree/leaks"
CHOICES = {"statuses": LeakStatus, "severities": LeakSeverity, "kinds": SealKind}


def _by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(col(model.id).in_(sorted(ids))))}


@router.get(LIST)
def leak_list(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    filters: LeakFiltersDep,
    page: int = 1,
    checks_page: int = 1,
    today: date | None = None,
) -> Response:
    today = today or plant_today()
    workshops = org_service.list_workshops(session)
    workshop_by_id = {w.id: w for w in workshops if w.id is not None}
    export_format = request.query_params.get("export")
    if export_format:
        export = LeakExport(
            session=session,
            filters=filters,
            today=today,
            workshops=workshop_by_id,
            locale=current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
        )
        return export.response(core.check_format(export_format), request)
    rows = paginate(session, leaks.list_leaks(filters), page)
    points = _by_id(session, SealPoint, {leak.seal_point_id for leak in rows.items if leak.seal_point_id})
    checks = paginate(session, leaks.failed_seal_checks(filters.workshop_id), checks_page, scalars=False)
    writable = writable_workshop_ids(session, user)
    return render(
        request,
        "leakfree/leaks/page.html",
        {
            "page": rows,
            "points": points,
            "checks": checks,
            "filters": filters,
            "today": today,
            "age_days": leaks.age_days,
            "entry_date": leaks.entry_plant_date,
            "workshops": workshops,
            "workshop_by_id": workshop_by_id,
            "may_write_in": lambda workshop_id: writable is None or workshop_id in writable,
            **CHOICES,
        },
        block="results",
    )


@router.post(LIST + "/from-round/{entry_id:int}")
def leak_from_round(
    request: Request, session: SessionDep, user: WriterUser, entry_id: RecordId, form: FormDep
) -> Response:
    data, errors = validate_form(FromRoundInput, form)
    if data is None:
        message = _("Choose the seal kind and the severity of the leak.")
        raise ValidationFailed(message, [FieldError(name, reason) for name, reason in errors.items()])
    leak, created = leaks.leak_from_round(session, entry_id, data, actor=user)
    if created:
        add_toast(request, _("Leak %(id)s recorded from the round.", id=leak.id))
    else:
        add_toast(request, _("This check was recorded as leak %(id)s already.", id=leak.id), "info")
    return redirect(request, f"{LIST}/{leak.id}")


# --- The leak page and its actions --------------------------------------------------------


def _leak_page(
    request: Request, session: Session, user: User, leak: Leak, errors: dict[str, str], status_code: int = 200
) -> Response:
    point = session.get(SealPoint, leak.seal_point_id) if leak.seal_point_id else None
    asset = session.get(Asset, leak.asset_id) if leak.asset_id else None
    survey = session.get(LeakSurvey, leak.survey_id) if leak.survey_id else None
    order = session.get(WorkOrder, leak.order_id) if leak.order_id else None
    workshop = org_service.get_workshop_or_raise(session, leak.workshop_id)
    today = plant_today()
    return render(
        request,
        "leakfree/leaks/leak.html",
        {
            "leak": leak,
            "point": point,
            "asset": asset,
            "survey": survey,
            "order": order,
            "workshop": workshop,
            "today": today,
            "age": leaks.age_days(leak, today),
            "errors": errors,
            "can_edit": can(user, Capability.WRITE) and can_write_in(session, user, leak.workshop_id),
            "statuses": LeakStatus,
            "accept": surveys.PHOTO_ACCEPT,
        },
        status_code=status_code,
    )


@router.get(LIST + "/{leak_id:int}")
def leak_page(request: Request, session: SessionDep, user: CurrentUser, leak_id: RecordId) -> Response:
    return _leak_page(request, session, user, leaks.get_leak_or_raise(session, leak_id), {})


@router.post(LIST + "/{leak_id:int}/order")
def raise_order(request: Request, session: SessionDep, user: WriterUser, leak_id: RecordId) -> Response:
    leak = leaks.get_leak_or_raise(session, leak_id, for_update=True)
    try:
        raised = leaks.raise_order(session, leak, actor=user)
    except ValidationFailed as error:
        return _leak_page(request, session, user, leak, field_errors(error.errors) | {"__all__": error.message}, 422)
    if raised.created:
        add_toast(request, _("Work order %(number)s raised.", number=raised.order.number))
    else:
        add_toast(request, _("This leak has work order %(number)s already.", number=raised.order.number), "info")
    return redirect(request, f"/orders/{raised.order.id}")


class RepairedForm(BaseModel):
    version: int
    repaired_date: date


class RecheckForm(BaseModel):
    version: int
    rechecked_date: date
    result: str


def _stale_response(request: Request, leak: Leak) -> Response:
    return conflict_response(
        request,
        heading=_("Someone else changed leak %(id)s while you were working on it.", id=leak.id),
        changes=None,
        audit=("leak", leak.id),
        back=(f"{LIST}/{leak.id}", _("Back to the leak")),
        note=_("It is now: %(status)s.", status=leak.status.label),
    )


def _write_leak(
    request: Request,
    session: Session,
    user: User,
    leak: Leak,
    write: Callable[[], object],
    done: str,
    *,
    refused_field: str | None = None,
) -> Response:
    """One step of a leak from a valid form: written → back to the leak with ``done`` as a toast;
    refused → the leak page with the reasons (on ``refused_field`` when given) and 422; written
    over by someone else meanwhile → the conflict page."""
    try:
        write()
    except ValidationFailed as error:
        if refused_field is not None:
            errors = {refused_field: error.message}
        else:
            errors = field_errors(error.errors) | {"__all__": error.message}
        return _leak_page(request, session, user, leak, errors, 422)
    except Conflict as error:
        if error.errors:
            return _stale_response(request, leak)
        raise
    add_toast(request, done)
    return redirect(request, f"{LIST}/{leak.id}")


@router.post(LIST + "/{leak_id:int}/repaired")
def mark_repaired(
    request: Request, session: SessionDep, user: WriterUser, leak_id: RecordId, form: FormDep
) -> Response:
    leak = leaks.get_leak_or_raise(session, leak_id, for_update=True)
    data, errors = validate_form(RepairedForm, form)
    if data is None:
        return _leak_page(request, session, user, leak, errors, 422)
    return _write_leak(
        request,
        session,
        user,
        leak,
        lambda: leaks.mark_repaired(session, leak, data.version, data.repaired_date, today=plant_today(), actor=user),
        _("Leak %(id)s marked repaired.", id=leak.id),
    )


@router.post(LIST + "/{leak_id:int}/recheck")
def recheck(request: Request, session: SessionDep, user: WriterUser, leak_id: RecordId, form: FormDep) -> Response:
    leak = leaks.get_leak_or_raise(session, leak_id, for_update=True)
    data, errors = validate_form(RecheckForm, form)
    if data is not None and data.result not in ("tight", "leaking"):
        errors = {"result": _("Choose whether the point is tight or still leaking.")}
    if data is None or errors:
        return _leak_page(request, session, user, leak, errors, 422)
    return _write_leak(
        request,
        session,
        user,
        leak,
        lambda: leaks.recheck(
            session,
            leak,
            data.version,
            data.rechecked_date,
            tight=data.result == "tight",
            today=plant_today(),
            actor=user,
        ),
        _("Re-check of leak %(id)s recorded.", id=leak.id),
    )


@router.post(LIST + "/{leak_id:int}/photo")
def upload_photo(request: Request, session: SessionDep, user: WriterUser, leak_id: RecordId, form: FormDep) -> Response:
    leak = leaks.get_leak_or_raise(session, leak_id, for_update=True)
    upload = form.get("photo")
    version = str(form.get("version") or "")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _leak_page(request, session, user, leak, {"photo": _("Choose a photo to upload.")}, 422)
    if not (version.isdecimal() and version.isascii() and len(version) <= 9):
        return _leak_page(
            request, session, user, leak, {"photo": _("The form is missing its version; reload the page.")}, 422
        )
    filename = upload.filename

    def store() -> None:
        stored = surveys.store_photo(upload.file, filename)
        leaks.set_photo(session, leak, int(version), stored, actor=user)

    return _write_leak(
        request, session, user, leak, store, _("Photo of leak %(id)s saved.", id=leak.id), refused_field="photo"
    )


@router.get(LIST + "/{leak_id:int}/photo")
def leak_photo(request: Request, session: SessionDep, user: CurrentUser, leak_id: RecordId) -> Response:
    leak = leaks.get_leak_or_raise(session, leak_id)
    if not leak.photo_sha256:
        raise NotFound(_("No photo is attached to this leak."))
    return files.stored_file_response(
        leak.photo_sha256,
        f"leak-{leak.id}{mimetypes.guess_extension(leak.photo_content_type) or ''}",
        leak.photo_content_type,
        inline=True,
    )
