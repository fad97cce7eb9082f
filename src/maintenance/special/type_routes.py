"""The administrators' page of special-equipment inspection rules: every inspection type by
category with its intervals and grade rules, and the create and edit forms (409 on a stale
version). Under /admin beside the class aliases; the special domain owns it because the rules
are the register's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from maintenance.db import SessionDep
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.auth import AdminUser
from maintenance.special import inspection_types
from maintenance.special.models import SAFETY_GRADES, InspectionType, InspectionTypeFields, InspectionTypeUpdate
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    form_values,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

PAGE = "/admin/special-inspection-types"


@router.get(PAGE)
def type_list(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    types = inspection_types.list_types(session)
    by_category: dict[Any, list[InspectionType]] = {}
    for inspection_type in types:
        by_category.setdefault(inspection_type.category, []).append(inspection_type)
    return render(
        request,
        "special/inspection_types/page.html",
        {
            "by_category": by_category,
            "grade_rules": inspection_types.grade_rules_by_type(session),
            "grades": SAFETY_GRADES,
        },
    )


def _form_page(
    request: Request,
    inspection_type: InspectionType | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "special/inspection_types/form.html",
        {
            "inspection_type": inspection_type,
            "values": values,
            "errors": errors,
            "categories": inspection_types.categories(),
            "grades": SAFETY_GRADES,
        },
        status_code=status_code,
    )


def _without_grades(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if not key.startswith("grade_")}


@router.get(PAGE + "/new")
def new_type_page(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    return _form_page(request, None, {"reminder_days": 60, "is_active": True}, {})


@router.post(PAGE + "/new")
def create_type(request: Request, session: SessionDep, admin: AdminUser, form: FormDep) -> Response:
    values = form_values(form)
    data, errors = validate_form(InspectionTypeFields, _without_grades(values))
    rules, grade_errors = inspection_types.parse_grade_rules(values)
    errors |= grade_errors
    if data is not None and not errors:
        try:
            created = inspection_types.create_type(session, data, rules, actor=admin)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Inspection type %(code)s created.", code=created.code))
            return redirect(request, PAGE)
    return _form_page(request, None, values, errors, status_code=422)


@router.get(PAGE + "/{type_id:int}")
def edit_type_page(request: Request, session: SessionDep, admin: AdminUser, type_id: RecordId) -> Response:
    inspection_type = inspection_types.get_type_or_raise(session, type_id)
    rules = inspection_types.grade_rules_by_type(session).get(type_id, {})
    values = inspection_type.model_dump(mode="json") | inspection_types.grade_form_values(rules)
    return _form_page(request, inspection_type, values, {})


@router.post(PAGE + "/{type_id:int}")
def update_type(request: Request, session: SessionDep, admin: AdminUser, type_id: RecordId, form: FormDep) -> Response:
    inspection_type = inspection_types.get_type_or_raise(session, type_id)
    values = form_values(form)
    data, errors = validate_form(InspectionTypeUpdate, _without_grades(values))
    rules, grade_errors = inspection_types.parse_grade_rules(values)
    errors |= grade_errors
    if data is not None and not errors:
        try:
            inspection_types.update_type(session, inspection_type, data, rules, actor=admin)
        except Conflict:
            return _conflict(request, inspection_type, data)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Inspection type %(code)s saved.", code=inspection_type.code))
            return redirect(request, PAGE)
    return _form_page(request, inspection_type, values, errors, status_code=422)


def _conflict(request: Request, stored: InspectionType, mine: InspectionTypeUpdate) -> Response:
    return conflict_response(
        request,
        heading=_("Someone else changed inspection type %(code)s while you were editing it.", code=stored.code),
        changes=differences(stored, mine),
        audit=("special_inspection_type", stored.id),
        edit_url=f"{PAGE}/{stored.id}",
        back=(PAGE, _("Back to the inspection rules")),
    )
