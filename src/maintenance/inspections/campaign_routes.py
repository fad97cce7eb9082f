"""Seasonal special inspection pages (季节性专项检查): the list of campaigns with their overall
completion, the create/edit forms (managers; 409 on a stale version), the campaign page
(completion by workshop, findings with their assets and orders, the checklist), and a workshop's
sheet, made for a phone: each item a card saved on its own with htmx (a plain POST falls back to
a redirect), a "raise work order" button on a finding, and Submit.

Routes are thin: everything is written by :mod:`maintenance.inspections.campaigns`. Every page
runs a fixed number of queries whatever the number of campaigns, workshops, items or findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.datastructures import FormData

from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.i18n import ngettext
from maintenance.inspections import campaigns
from maintenance.inspections.campaigns import CampaignFilters, CampaignProgress
from maintenance.inspections.choices import CampaignKind
from maintenance.inspections.models import (
    CampaignCreate,
    CampaignItem,
    CampaignUpdate,
    CampaignWorkshop,
    InspectionCampaign,
)
from maintenance.orders.choices import ChecklistResult
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, ManagerUser, WriterUser
from maintenance.org.models import User, Workshop
from maintenance.org.permissions import Capability, can, can_write_in
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    filters_from_query,
    is_htmx,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

CAMPAIGN_FIELDS = ("name", "kind", "starts_on", "deadline", "instructions")
CHOICES = {"kinds": CampaignKind, "check_results": ChecklistResult}


def _field_labels() -> dict[str, str]:
    return {
        "name": _("Name"),
        "kind": _("Kind"),
        "starts_on": _("Starts on"),
        "deadline": _("Deadline"),
        "instructions": _("Instructions"),
    }


# --- The list -----------------------------------------------------------------------------


CampaignFiltersDep = Annotated[CampaignFilters, Depends(filters_from_query(CampaignFilters))]


@dataclass(frozen=True)
class CampaignRow:
    campaign: InspectionCampaign
    progress: CampaignProgress


@router.get("/campaigns")
def campaign_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: CampaignFiltersDep, page: int = 1
) -> Response:
    """Count, rows (with their counts aggregated in SQL) and the years of the filter: three
    queries whatever the page holds."""
    listed = paginate(session, campaigns.list_campaigns(filters), page, scalars=False)
    listed.items = [CampaignRow(row[0], campaigns.progress_from_row(row)) for row in listed.items]
    return render(
        request,
        "inspections/campaigns.html",
        {
            "page": listed,
            "filters": filters,
            "years": campaigns.campaign_years(session),
            "today": plant_today(),
            "can_manage": can(user, Capability.MANAGE),
            **CHOICES,
        },
        block="results",
    )


# --- Create and edit ----------------------------------------------------------------------


def _text_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    values["workshop_ids"] = [value for value in form.getlist("workshop_ids") if isinstance(value, str)]
    return values


def _parse_date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        return None


def _validate(model: type[BaseModel], values: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """The campaign's own fields; a deadline before the start is shown at the deadline."""
    data, errors = validate_form(model, {key: values.get(key, "") for key in (*CAMPAIGN_FIELDS, "version")})
    starts_on, deadline = _parse_date(values.get("starts_on")), _parse_date(values.get("deadline"))
    if starts_on is not None and deadline is not None and deadline < starts_on:
        errors.pop("__all__", None)
        errors["deadline"] = _("The deadline cannot come before the start.")
        data = None
    return data, errors


def _workshop_ids(values: dict[str, Any]) -> list[int]:
    return [int(value) for value in values.get("workshop_ids", []) if str(value).isdigit()]


def _form_page(
    request: Request,
    session: Session,
    campaign: InspectionCampaign | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "inspections/campaign_form.html",
        {
            "campaign": campaign,
            "values": values,
            "errors": errors,
            "workshops": org_service.list_workshops(session),
            "chosen_workshops": {str(value) for value in values.get("workshop_ids", [])},
            **CHOICES,
        },
        status_code=status_code,
    )


@router.get("/campaigns/new")
def new_campaign_page(request: Request, session: SessionDep, user: ManagerUser) -> Response:
    today = plant_today()
    values: dict[str, Any] = {
        "kind": CampaignKind.WINTERIZATION.value,
        "starts_on": today.isoformat(),
        "deadline": (today + timedelta(days=30)).isoformat(),
        "workshop_ids": [str(workshop.id) for workshop in org_service.list_workshops(session)],
    }
    return _form_page(request, session, None, values, {})


@router.post("/campaigns/new")
def create_campaign(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    values = _text_values(form)
    data, errors = _validate(CampaignCreate, values)
    items = campaigns.parse_items(str(values.get("items", "")))
    workshop_ids = _workshop_ids(values)
    errors = field_errors(campaigns.setup_errors(session, items, workshop_ids)) | errors
    if data is not None and not errors:
        try:
            campaign = campaigns.create_campaign(session, data, items, workshop_ids, actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Seasonal inspection “%(name)s” created.", name=campaign.name))
            return redirect(request, f"/campaigns/{campaign.id}")
    return _form_page(request, session, None, values, errors, status_code=422)


@router.get("/campaigns/{campaign_id:int}/edit")
def edit_campaign_page(request: Request, session: SessionDep, user: ManagerUser, campaign_id: RecordId) -> Response:
    campaign = campaigns.get_campaign_or_raise(session, campaign_id)
    return _form_page(request, session, campaign, campaign.model_dump(mode="json"), {})


@router.post("/campaigns/{campaign_id:int}/edit")
def update_campaign(
    request: Request, session: SessionDep, user: ManagerUser, campaign_id: RecordId, form: FormDep
) -> Response:
    campaign = campaigns.get_campaign_or_raise(session, campaign_id)
    values = _text_values(form)
    data, errors = _validate(CampaignUpdate, values)
    if data is not None and not errors:
        try:
            campaigns.update_campaign(session, campaign, data, actor=user)
        except Conflict:

            def display(name: str, value: Any) -> Any:
                return CampaignKind(value).label if name == "kind" and value else value

            return conflict_response(
                request,
                heading=_("Someone else changed “%(name)s” while you were editing it.", name=campaign.name),
                changes=differences(campaign, data, labels=_field_labels(), display=display),
                audit=("inspection_campaign", campaign.id),
                edit_url=f"/campaigns/{campaign.id}/edit",
                back=(f"/campaigns/{campaign.id}", _("Back to the inspection")),
            )
        add_toast(request, _("Seasonal inspection “%(name)s” saved.", name=campaign.name))
        return redirect(request, f"/campaigns/{campaign.id}")
    return _form_page(request, session, campaign, values, errors, status_code=422)


# --- The campaign page --------------------------------------------------------------------


def _campaign_page(
    request: Request,
    session: Session,
    user: User,
    campaign: InspectionCampaign,
    *,
    checklist_values: dict[str, Any] | None = None,
    checklist_errors: dict[str, str] | None = None,
    workshop_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    today = plant_today()
    items = campaigns.items_of(session, campaign)
    rows = campaigns.workshop_progress(session, campaign, len(items), today)
    progress = campaigns.progress_of(rows, len(items))
    can_manage = can(user, Capability.MANAGE)
    taking_part = {row.workshop.id for row in rows}
    return render(
        request,
        "inspections/campaign.html",
        {
            "campaign": campaign,
            "items": items,
            "answers": campaigns.answers_per_item(session, campaign),
            "rows": rows,
            "progress": progress,
            "state": progress.state(campaign, today),
            "findings": campaigns.findings_of(session, campaign),
            "today": today,
            "can_manage": can_manage,
            "other_workshops": (
                [w for w in org_service.list_workshops(session) if w.id not in taking_part] if can_manage else []
            ),
            "checklist_values": checklist_values or {},
            "checklist_errors": checklist_errors or {},
            "workshop_errors": workshop_errors or {},
            **CHOICES,
        },
        status_code=status_code,
    )


@router.get("/campaigns/{campaign_id:int}")
def campaign_page(request: Request, session: SessionDep, user: CurrentUser, campaign_id: RecordId) -> Response:
    campaign = campaigns.get_campaign_or_raise(session, campaign_id)
    return _campaign_page(request, session, user, campaign)


def _message(error: ValidationFailed | Conflict) -> str:
    return " ".join([error.message, *(e.message for e in error.errors)])


@router.post("/campaigns/{campaign_id:int}/items")
def add_items(
    request: Request, session: SessionDep, user: ManagerUser, campaign_id: RecordId, form: FormDep
) -> Response:
    campaign = campaigns.get_campaign_or_raise(session, campaign_id)
    text = str(form.get("items", ""))
    try:
        added = campaigns.add_items(session, campaign, campaigns.parse_items(text), actor=user)
    except (ValidationFailed, Conflict) as error:
        return _campaign_page(
            request,
            session,
            user,
            campaign,
            checklist_values={"items": text},
            checklist_errors={"items": _message(error)},
            status_code=error.status_code,
        )
    add_toast(
        request, ngettext("%(num)s item added to the checklist.", "%(num)s items added to the checklist.", len(added))
    )
    return redirect(request, f"/campaigns/{campaign.id}#checklist")


@router.post("/campaigns/{campaign_id:int}/items/{item_id:int}/remove")
def remove_item(
    request: Request, session: SessionDep, user: ManagerUser, campaign_id: RecordId, item_id: RecordId
) -> Response:
    campaign = campaigns.get_campaign_or_raise(session, campaign_id)
    item = campaigns.get_item_or_raise(session, campaign, item_id)
    try:
        campaigns.remove_item(session, campaign, item, actor=user)
    except Conflict as error:
        return _campaign_page(
            request, session, user, campaign, checklist_errors={"remove": error.message}, status_code=409
        )
    add_toast(request, _("“%(text)s” removed from the checklist.", text=item.text))
    return redirect(request, f"/campaigns/{campaign.id}#checklist")


@router.post("/campaigns/{campaign_id:int}/workshops")
def add_workshops(
    request: Request, session: SessionDep, user: ManagerUser, campaign_id: RecordId, form: FormDep
) -> Response:
    campaign = campaigns.get_campaign_or_raise(session, campaign_id)
    workshop_ids = _workshop_ids(_text_values(form))
    try:
        added = campaigns.add_workshops(session, campaign, workshop_ids, actor=user)
    except ValidationFailed as error:
        return _campaign_page(
            request, session, user, campaign, workshop_errors={"workshop_ids": _message(error)}, status_code=422
        )
    add_toast(
        request,
        ngettext("%(num)s workshop added to the inspection.", "%(num)s workshops added to the inspection.", len(added)),
    )
    return redirect(request, f"/campaigns/{campaign.id}#completion")


# --- A workshop's sheet -------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    campaign: InspectionCampaign
    part: CampaignWorkshop
    workshop: Workshop


def _sheet(session: Session, campaign_id: int, workshop_id: int) -> Sheet:
    campaign = campaigns.get_campaign_or_raise(session, campaign_id)
    part = campaigns.get_campaign_workshop_or_raise(session, campaign, workshop_id)
    return Sheet(campaign, part, org_service.get_workshop_or_raise(session, workshop_id))


def _sheet_url(sheet: Sheet) -> str:
    return f"/campaigns/{sheet.campaign.id}/workshops/{sheet.workshop.id}"


def _permissions(session: Session, user: User, sheet: Sheet) -> dict[str, bool]:
    may_write = can_write_in(session, user, sheet.workshop.id or 0)
    submitted = sheet.part.submitted_at is not None
    return {
        "can_answer": may_write and not submitted,
        "can_raise": may_write,
        "can_reopen": can(user, Capability.MANAGE) and submitted,
    }


def _sheet_context(session: Session, user: User, sheet: Sheet, items_count: int) -> dict[str, Any]:
    today = plant_today()
    submitted_by = session.get(User, sheet.part.submitted_by_id) if sheet.part.submitted_by_id else None
    return {
        "submitted_by": submitted_by,
        "campaign": sheet.campaign,
        "part": sheet.part,
        "workshop": sheet.workshop,
        "sheet_url": _sheet_url(sheet),
        "items_count": items_count,
        "status": campaigns.sheet_status(sheet.part, sheet.campaign.deadline, today),
        "today": today,
        **_permissions(session, user, sheet),
        **CHOICES,
    }


def _sheet_page(
    request: Request,
    session: Session,
    user: User,
    sheet: Sheet,
    *,
    item_errors: dict[int, dict[str, str]] | None = None,
    item_values: dict[int, dict[str, str]] | None = None,
    submit_error: str = "",
    status_code: int = 200,
) -> Response:
    items = campaigns.items_of(session, sheet.campaign)
    lines = campaigns.sheet_lines(session, sheet.part, items)
    return render(
        request,
        "inspections/campaign_sheet.html",
        {
            **_sheet_context(session, user, sheet, len(items)),
            "lines": lines,
            "item_errors": item_errors or {},
            "item_values": item_values or {},
            "submit_error": submit_error,
        },
        status_code=status_code,
    )


def _item_response(
    request: Request,
    session: Session,
    user: User,
    sheet: Sheet,
    item: CampaignItem,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """htmx gets the item's card (and the sheet's progress out of band); a plain POST goes back
    to the sheet, or gets the whole sheet with the reasons when it was refused."""
    if not is_htmx(request):
        if errors:
            return _sheet_page(
                request,
                session,
                user,
                sheet,
                item_errors={item.id or 0: errors},
                item_values={item.id or 0: values or {}},
                status_code=status_code,
            )
        return redirect(request, f"{_sheet_url(sheet)}#item-{item.id}")
    items = campaigns.items_of(session, sheet.campaign)
    [line] = campaigns.sheet_lines(session, sheet.part, items, only=item)
    return render(
        request,
        "inspections/campaign_item.html",
        {
            **_sheet_context(session, user, sheet, len(items)),
            "line": line,
            "item_errors": {item.id: errors or {}},
            "item_values": {item.id: values or {}},
            "oob": True,
        },
        block=None,
        status_code=status_code,
    )


@router.get("/campaigns/{campaign_id:int}/workshops/{workshop_id:int}")
def sheet_page(
    request: Request, session: SessionDep, user: CurrentUser, campaign_id: RecordId, workshop_id: RecordId
) -> Response:
    return _sheet_page(request, session, user, _sheet(session, campaign_id, workshop_id))


def _errors_of(error: ValidationFailed) -> dict[str, str]:
    return field_errors(error.errors) or {"__all__": error.message}


@router.post("/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/items/{item_id:int}")
def answer_item(
    request: Request,
    session: SessionDep,
    user: WriterUser,
    campaign_id: RecordId,
    workshop_id: RecordId,
    item_id: RecordId,
    form: FormDep,
) -> Response:
    sheet = _sheet(session, campaign_id, workshop_id)
    item = campaigns.get_item_or_raise(session, sheet.campaign, item_id)
    values = {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}
    try:
        result = ChecklistResult(values.get("result", ""))
    except ValueError:
        return _item_response(
            request,
            session,
            user,
            sheet,
            item,
            errors={"result": _("Choose OK or not OK.")},
            values=values,
            status_code=422,
        )
    try:
        campaigns.answer(
            session,
            sheet.part,
            item,
            result,
            values.get("note", ""),
            asset_tag=values.get("asset_tag", ""),
            actor=user,
        )
    except ValidationFailed as error:
        return _item_response(
            request, session, user, sheet, item, errors=_errors_of(error), values=values, status_code=422
        )
    return _item_response(request, session, user, sheet, item)


@router.post("/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/items/{item_id:int}/raise")
def raise_order(
    request: Request,
    session: SessionDep,
    user: WriterUser,
    campaign_id: RecordId,
    workshop_id: RecordId,
    item_id: RecordId,
) -> Response:
    sheet = _sheet(session, campaign_id, workshop_id)
    item = campaigns.get_item_or_raise(session, sheet.campaign, item_id)
    result = campaigns.result_of(session, sheet.part, item)
    if result is None:
        return _item_response(
            request,
            session,
            user,
            sheet,
            item,
            errors={"result": _("Answer the item first.")},
            status_code=422,
        )
    try:
        order = campaigns.raise_order(session, result, actor=user)
    except ValidationFailed as error:
        return _item_response(request, session, user, sheet, item, errors=_errors_of(error), status_code=422)
    add_toast(request, _("Corrective order %(number)s raised.", number=order.number))
    return _item_response(request, session, user, sheet, item)


@router.post("/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/submit")
def submit_sheet(
    request: Request, session: SessionDep, user: WriterUser, campaign_id: RecordId, workshop_id: RecordId
) -> Response:
    sheet = _sheet(session, campaign_id, workshop_id)
    try:
        campaigns.submit(session, sheet.part, actor=user)
    except ValidationFailed as error:
        missing = {
            int(reason.field.removeprefix("item_")): {"result": _("Not answered yet.")}
            for reason in error.errors
            if reason.field.startswith("item_") and reason.field.removeprefix("item_").isdigit()
        }
        return _sheet_page(
            request,
            session,
            user,
            sheet,
            item_errors=missing,
            submit_error=_("The sheet was not submitted: %(reason)s", reason=error.message),
            status_code=422,
        )
    add_toast(request, _("%(workshop)s submitted its sheet.", workshop=sheet.workshop.name))
    return redirect(request, _sheet_url(sheet))


@router.post("/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/reopen")
def reopen_sheet(
    request: Request, session: SessionDep, user: ManagerUser, campaign_id: RecordId, workshop_id: RecordId
) -> Response:
    sheet = _sheet(session, campaign_id, workshop_id)
    campaigns.reopen(session, sheet.part, actor=user)
    add_toast(request, _("The sheet of %(workshop)s is open for changes again.", workshop=sheet.workshop.name))
    return redirect(request, _sheet_url(sheet))
