"""Leak surveys: list (page, htmx fragment and CSV/XLSX from one view), record a survey with the
leaks it found (rows added with htmx, each with an optional photo), and the survey page.

The list runs a fixed number of queries whatever the number of surveys: the workshops, the
count, the page's rows and their leak counts (``service.rates_of_surveys``)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.datastructures import UploadFile

from maintenance import exports as core
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.leakfree import service, surveys
from maintenance.leakfree.choices import LeakSeverity, LeakStatus
from maintenance.leakfree.models import SealPoint, SurveyCreate
from maintenance.leakfree.survey_exports import SurveyExport
from maintenance.leakfree.surveys import LeakRow, SurveyFiltersDep, SurveyLeakInput, row_field
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import writable_workshop_ids
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    field_errors,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

LIST = "/leakfree/surveys"
_ROW_KEY = re.compile(r"^leaks-(\d{1,4})-(seal_point_id|severity|description|photo)$")
MAX_ROWS = 200


@router.get(LIST)
def survey_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: SurveyFiltersDep, page: int = 1
) -> Response:
    workshops = org_service.list_workshops(session)
    by_id = {w.id: w for w in workshops if w.id is not None}
    export_format = request.query_params.get("export")
    if export_format:
        export = SurveyExport(
            session=session,
            filters=filters,
            workshops=by_id,
            locale=current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
        )
        return export.response(core.check_format(export_format), request)
    rows = paginate(session, surveys.list_surveys(filters), page)
    return render(
        request,
        "leakfree/surveys/page.html",
        {
            "page": rows,
            "rated": service.rates_of_surveys(session, rows.items),
            "filters": filters,
            "workshops": workshops,
            "workshop_by_id": by_id,
            "can_record": writable_workshop_ids(session, user) != set(),
        },
        block="results",
    )


# --- Recording ----------------------------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    user: User,
    values: dict[str, Any],
    rows: list[dict[str, Any]],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    allowed = writable_workshop_ids(session, user)
    workshops = [w for w in org_service.list_workshops(session) if allowed is None or w.id in allowed]
    workshop_id = _int_or_none(values.get("workshop_id"))
    points = surveys.active_points(session, workshop_id) if workshop_id else []
    return render(
        request,
        "leakfree/surveys/new.html",
        {
            "values": values,
            "rows": rows,
            "errors": errors,
            "workshops": workshops,
            "points": points,
            "severities": LeakSeverity,
            "accept": surveys.PHOTO_ACCEPT,
            "next_row": len(rows) + 1,
        },
        status_code=status_code,
    )


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 2_147_483_647 else None


@router.get(LIST + "/new")
def new_survey_page(request: Request, session: SessionDep, user: WriterUser) -> Response:
    """The workshop chosen first (its seal points fill the rows' choices), then the rows."""
    allowed = writable_workshop_ids(session, user)
    chosen = _int_or_none(request.query_params.get("workshop_id"))
    if chosen is None and allowed:
        chosen = min(allowed)
    values = {"workshop_id": chosen or "", "survey_date": plant_today().isoformat(), "surveyed_by": user.display_name}
    return _form_page(request, session, user, values, [{"number": 1}], {})


@router.get(LIST + "/new/row")
def new_leak_row(request: Request, session: SessionDep, user: WriterUser, n: int = 1) -> Response:
    """One more leak row (htmx), with the add button moved on to the next number."""
    workshop_id = _int_or_none(request.query_params.get("workshop_id"))
    points: list[SealPoint] = surveys.active_points(session, workshop_id) if workshop_id else []
    number = min(max(1, n), MAX_ROWS)
    context = {
        "row": {"number": number},
        "points": points,
        "severities": LeakSeverity,
        "errors": {},
        "accept": surveys.PHOTO_ACCEPT,
        "next_row": number + 1,
        "values": {"workshop_id": workshop_id or ""},
        "oob": True,
    }
    return render(request, "leakfree/surveys/_leak_row.html", context, block=None)


def _submitted_rows(form: FormDep) -> list[dict[str, Any]]:
    """The leak rows as submitted, renumbered 1, 2, … in form order; blank rows dropped."""
    found: dict[int, dict[str, Any]] = {}
    for key, value in form.multi_items():
        match = _ROW_KEY.match(key)
        if match:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = value
    rows: list[dict[str, Any]] = []
    for _n, fields in sorted(found.items()):
        photo = fields.get("photo")
        has_photo = isinstance(photo, UploadFile) and bool(photo.filename)
        texts = {k: v.strip() for k, v in fields.items() if isinstance(v, str)}
        if not texts.get("seal_point_id") and not texts.get("description") and not has_photo:
            continue
        rows.append({**texts, "upload": photo if has_photo else None, "number": len(rows) + 1})
    return rows[:MAX_ROWS]


def _parse_rows(rows: list[dict[str, Any]]) -> tuple[list[LeakRow], dict[str, str]]:
    parsed: list[LeakRow] = []
    errors: dict[str, str] = {}
    for row in rows:
        number = row["number"]
        try:
            data = SurveyLeakInput.model_validate(
                {k: row.get(k) for k in ("seal_point_id", "severity", "description") if row.get(k)}
            )
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else "seal_point_id"
                what = {"seal_point_id": _("seal point"), "severity": _("severity"), "description": _("description")}
                errors[row_field(number, name)] = _(
                    "Leak row %(n)s: check the %(field)s.", n=number, field=what.get(name, name)
                )
            continue
        photo = None
        upload = row.get("upload")
        if isinstance(upload, UploadFile):
            try:
                photo = surveys.store_photo(upload.file, upload.filename or "")
            except ValidationFailed as error:
                errors[row_field(number, "photo")] = _("Leak row %(n)s: %(reason)s", n=number, reason=error.message)
                continue
        parsed.append(LeakRow(number=number, data=data, photo=photo))
    return parsed, errors


@router.post(LIST + "/new")
def record_survey(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    values = {key: form.get(key) for key in ("workshop_id", "survey_date", "surveyed_by", "note")}
    values = {key: value for key, value in values.items() if isinstance(value, str)}
    data, errors = validate_form(SurveyCreate, values)
    rows = _submitted_rows(form)
    parsed, row_errors = _parse_rows(rows)
    errors |= row_errors
    if data is not None and not errors:
        try:
            survey = surveys.record_survey(session, data, parsed, today=plant_today(), actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Survey of %(day)s recorded.", day=survey.survey_date.isoformat()))
            return redirect(request, f"{LIST}/{survey.id}")
    shown = [{k: v for k, v in row.items() if k != "upload"} for row in rows] or [{"number": 1}]
    return _form_page(request, session, user, values, shown, errors, status_code=422)


# --- The survey page ----------------------------------------------------------------------


@router.get(LIST + "/{survey_id:int}")
def survey_page(request: Request, session: SessionDep, user: CurrentUser, survey_id: RecordId) -> Response:
    survey = surveys.get_survey_or_raise(session, survey_id)
    [(_survey, rates)] = service.rates_of_surveys(session, [survey])
    leaks = surveys.leaks_of(session, survey_id)
    point_ids = [leak.seal_point_id for leak in leaks if leak.seal_point_id is not None]
    points = (
        {p.id: p for p in session.scalars(select(SealPoint).where(col(SealPoint.id).in_(point_ids)))}
        if point_ids
        else {}
    )
    workshop = org_service.get_workshop_or_raise(session, survey.workshop_id)
    return render(
        request,
        "leakfree/surveys/survey.html",
        {
            "survey": survey,
            "rates": rates,
            "leaks": leaks,
            "points": points,
            "workshop": workshop,
            "statuses": LeakStatus,
        },
    )
