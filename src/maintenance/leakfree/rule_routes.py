"""The management rules register: versions, effective dates, files.

- ``GET /leakfree/rules``: the register on a date (the plant's today unless ``as_of`` is given),
  each rule's current version with the superseded ones folded under it and the upcoming ones
  marked; the same view serves the htmx fragment and the CSV/XLSX export. Everyone reads it, in
  one query whatever the number of versions.
- ``GET/POST /leakfree/rules/new``: managers and admins record a version with its file.
- ``GET /leakfree/rules/{id}/file``: the version's file under its own name and type.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from maintenance import files
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.leakfree import rule_documents
from maintenance.leakfree.choices import RuleDocumentKind
from maintenance.leakfree.models import RuleDocumentCreate
from maintenance.leakfree.rule_documents import RuleFiltersDep, VersionStanding
from maintenance.org.auth import CurrentUser, ManagerUser
from maintenance.org.permissions import Capability, can
from maintenance.web import FormDep, RecordId, add_toast, field_errors, redirect, render, validate_form

router = APIRouter(include_in_schema=False)

LIST = "/leakfree/rules"


@router.get(LIST)
def rule_register(request: Request, session: SessionDep, user: CurrentUser, filters: RuleFiltersDep) -> Response:
    today = filters.as_of or plant_today()
    export_format = request.query_params.get("export")
    if export_format:
        from maintenance.leakfree import rule_exports

        return rule_exports.export_response(session, request, filters, export_format, as_of=today, user=user)
    return render(
        request,
        "leakfree/rules/register.html",
        {
            "entries": rule_documents.register(session, today, filters),
            "filters": filters,
            "today": today,
            "kinds": RuleDocumentKind,
            "standings": VersionStanding,
            "can_create": can(user, Capability.MANAGE),
        },
        block="results",
    )


def _form_page(request: Request, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Response:
    return render(
        request,
        "leakfree/rules/form.html",
        {"values": values, "errors": errors, "kinds": RuleDocumentKind, "accept": rule_documents.RULE_FILE_ACCEPT},
        status_code=status_code,
    )


@router.get(LIST + "/new")
def new_rule_page(request: Request, user: ManagerUser) -> Response:
    values = {"kind": RuleDocumentKind.LEAK_FREE.value, "effective_date": plant_today().isoformat()}
    return _form_page(request, values, {})


@router.post(LIST + "/new")
def create_rule(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    values: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    data, errors = validate_form(RuleDocumentCreate, values)
    upload = form.get("file")
    stored = None
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = _("Choose the rule's file (PDF, DOCX or XLSX).")
    elif data is not None and not errors:  # store the bytes only for a form that can be saved
        try:
            stored = rule_documents.store_rule_file(upload.file, upload.filename)
        except ValidationFailed as error:
            errors |= field_errors(error.errors)
    if data is not None and stored is not None and not errors:
        try:
            document = rule_documents.create_rule_document(session, data, stored, actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Rule %(name)s recorded.", name=document.audit_repr))
            return redirect(request, LIST)
    return _form_page(request, values, errors, status_code=422)


@router.get(LIST + "/{rule_id:int}/file")
def download_rule_file(request: Request, session: SessionDep, user: CurrentUser, rule_id: RecordId) -> Response:
    document = rule_documents.get_rule_document_or_raise(session, rule_id)
    return files.stored_file_response(document.file_sha256, document.filename, document.content_type)
