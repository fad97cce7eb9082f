"""Pages of the regulator findings register: the list (page, htmx fragment and CSV/XLSX export
from one view), the "no shutdown orders this year" indicator (a fragment the coverage page pulls
in), the new and edit forms (409 on a stale version) and the evidence download.

The list runs a fixed number of queries whatever the number of findings: the workshops, the
count, the page's rows, their assets and the indicator's count."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.datastructures import UploadFile

from maintenance import files
from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, NotFound, ValidationFailed
from maintenance.files import StoredFile
from maintenance.i18n import gettext as _
from maintenance.orders.forms import on_asset_tag
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, ManagerUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, can_write_in
from maintenance.special import findings
from maintenance.special.choices import FindingKind, FindingStatus
from maintenance.special.findings import FindingFiltersDep
from maintenance.special.models import Finding, FindingCreate, FindingUpdate
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

LIST = "/special-equipment/findings"
CHOICES = {"kinds": FindingKind, "statuses": FindingStatus}
Year = Query(default=None, ge=2000, le=2100)
AsOf = Query(default=None, description="The date overdue rectifications are judged on (default: the plant's today)")


def _indicator_context(session: Session, year: int) -> dict[str, Any]:
    return {"indicator_year": year, "shutdown_count": findings.shutdown_orders_in(session, year)}


# --- The list and the indicator -----------------------------------------------------------


@router.get(LIST)
def finding_list(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    filters: FindingFiltersDep,
    page: int = 1,
    as_of: date | None = AsOf,
) -> Response:
    today = as_of or plant_today()
    workshops = org_service.list_workshops(session)
    export_format = request.query_params.get("export")
    if export_format:
        from maintenance.special import finding_exports  # one filtered query feeds page and files alike

        return finding_exports.export_response(
            session, request, filters, export_format, as_of=today, workshops=workshops, user=user
        )
    rows = paginate(session, findings.list_findings(filters), page)
    asset_ids = sorted({row.asset_id for row in rows.items if row.asset_id is not None})
    assets = (
        {asset.id: asset for asset in session.scalars(select(Asset).where(col(Asset.id).in_(asset_ids)))}
        if asset_ids
        else {}
    )
    return render(
        request,
        "special/findings/page.html",
        {
            "page": rows,
            "filters": filters,
            "today": today,
            "is_overdue": findings.is_overdue,
            "assets": assets,
            "workshops": workshops,
            "workshop_by_id": {w.id: w for w in workshops},
            "can_create": can(user, Capability.MANAGE),
            **_indicator_context(session, filters.year or today.year),
            **CHOICES,
        },
        block="results",
    )


@router.get(LIST + "/indicator")
def shutdown_indicator(request: Request, session: SessionDep, user: CurrentUser, year: int | None = Year) -> Response:
    """Green "no shutdown orders this year", or red with their number (default: the plant's year)."""
    context = _indicator_context(session, year or plant_today().year)
    return render(request, "special/findings/_indicator.html", context, block=None)


# --- Create and edit ----------------------------------------------------------------------


def _field_labels() -> dict[str, str]:
    return {
        "kind": _("Kind"),
        "workshop_id": _("Workshop"),
        "asset_id": _("Asset"),
        "issued_date": _("Issued on"),
        "issued_by": _("Issued by"),
        "reference": _("Reference"),
        "description": _("Description"),
        "deadline_date": _("Rectification deadline"),
        "owner": _("Owner"),
        "status": _("Status"),
        "closed_date": _("Closed on"),
        "rectification": _("Rectification"),
    }


def _form_page(
    request: Request,
    session: Session,
    finding: Finding | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    *,
    can_edit: bool = True,
) -> Response:
    return render(
        request,
        "special/findings/form.html",
        {
            "finding": finding,
            "values": values,
            "errors": errors,
            "workshops": org_service.list_workshops(session),
            "accept": files.ACCEPT_ATTRIBUTE,
            "can_edit": can_edit,
            **CHOICES,
        },
        status_code=status_code,
    )


def _may_edit(session: Session, user: User, finding: Finding) -> bool:
    return can(user, Capability.WRITE) and can_write_in(session, user, finding.workshop_id)


def _form_values(session: Session, form: FormDep) -> tuple[dict[str, Any], dict[str, str]]:
    """The form names the optional asset by its tag; its errors belong to the tag input."""
    values: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    tag = str(values.get("asset_tag", "")).strip()
    values["asset_id"] = ""
    if not tag:
        return values, {}
    asset = asset_service.get_asset_by_tag(session, tag)
    if asset is None:
        return values, {"asset_tag": _("No asset has the tag %(tag)s.", tag=tag)}
    values["asset_id"] = str(asset.id)
    return values, {}


def _stored_evidence(form: FormDep) -> tuple[tuple[str, StoredFile] | None, dict[str, str]]:
    """The uploaded evidence file, stored; none chosen keeps what the finding has."""
    upload = form.get("evidence")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, {}
    try:
        return files.store_named_upload(upload.file, upload.filename), {}
    except ValidationFailed as error:
        return None, {"evidence": error.message}


@router.get(LIST + "/new")
def new_finding_page(request: Request, session: SessionDep, user: ManagerUser) -> Response:
    values = {
        "kind": FindingKind.RECTIFICATION.value,
        "status": FindingStatus.OPEN.value,
        "issued_date": plant_today().isoformat(),
    }
    return _form_page(request, session, None, values, {})


@router.post(LIST + "/new")
def create_finding(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    values, errors = _form_values(session, form)
    data, form_errors = validate_form(FindingCreate, values)
    evidence, evidence_errors = _stored_evidence(form)
    errors = on_asset_tag(form_errors) | errors | evidence_errors
    if data is not None and not errors:
        try:
            finding = findings.create_finding(session, data, evidence=evidence, actor=user)
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        else:
            add_toast(request, _("Finding %(name)s recorded.", name=finding.audit_repr))
            return redirect(request, LIST)
    return _form_page(request, session, None, values, errors, status_code=422)


@router.get(LIST + "/{finding_id:int}")
def edit_finding_page(request: Request, session: SessionDep, user: CurrentUser, finding_id: RecordId) -> Response:
    """Everyone may read the finding; the form is for those who may change it."""
    finding = findings.get_finding_or_raise(session, finding_id)
    asset = session.get(Asset, finding.asset_id) if finding.asset_id else None
    values = finding.model_dump(mode="json") | {"asset_tag": asset.tag if asset else ""}
    return _form_page(request, session, finding, values, {}, can_edit=_may_edit(session, user, finding))


@router.post(LIST + "/{finding_id:int}")
def update_finding(
    request: Request, session: SessionDep, user: WriterUser, finding_id: RecordId, form: FormDep
) -> Response:
    finding = findings.get_finding_or_raise(session, finding_id, for_update=True)
    values, errors = _form_values(session, form)
    data, form_errors = validate_form(FindingUpdate, values)
    evidence, evidence_errors = _stored_evidence(form)
    errors = on_asset_tag(form_errors) | errors | evidence_errors
    if data is not None and not errors:
        try:
            findings.update_finding(session, finding, data, evidence=evidence, actor=user)
        except Conflict:
            return conflict_response(
                request,
                heading=_("Someone else changed finding %(name)s while you were editing it.", name=finding.audit_repr),
                changes=_differences(session, finding, data),
                audit=("special_finding", finding.id),
                edit_url=f"{LIST}/{finding.id}",
                back=(LIST, _("Back to the findings")),
            )
        except ValidationFailed as error:
            errors = on_asset_tag(field_errors(error.errors)) | {"__all__": error.message}
        else:
            add_toast(request, _("Finding %(name)s saved.", name=finding.audit_repr))
            return redirect(request, LIST)
    return _form_page(request, session, finding, values, errors, status_code=422)


def _differences(session: Session, stored: Finding, mine: FindingUpdate) -> list[Difference]:
    """The edited fields, the asset shown by its tag and the workshop by its name."""

    def display(name: str, value: Any) -> Any:
        if name == "asset_id" and value:
            asset = session.get(Asset, value)
            return asset.tag if asset else value
        if name == "workshop_id":
            workshop = org_service.get_workshop_or_raise(session, value)
            return workshop.name
        return value

    return differences(stored, mine, labels=_field_labels(), display=display)


@router.get(LIST + "/{finding_id:int}/evidence")
def download_evidence(request: Request, session: SessionDep, user: CurrentUser, finding_id: RecordId) -> Response:
    finding = findings.get_finding_or_raise(session, finding_id)
    if not finding.evidence_sha256:
        raise NotFound(_("No evidence is attached to this finding."))
    return files.stored_file_response(finding.evidence_sha256, finding.evidence_filename, finding.evidence_content_type)
