"""Asset registry pages: the list (page, htmx fragment and exports from one view),
the asset page with its tabs, and the create/edit/status forms."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets import service
from maintenance.assets.choices import AssetClass, AssetStatus, Criticality, SpecialCategory
from maintenance.assets.depreciation import book_value_of
from maintenance.assets.filters import AssetFiltersDep
from maintenance.assets.models import Asset, AssetCreate, AssetUpdate
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, FieldError, MaintenanceError, ValidationFailed
from maintenance.home import HomeCard
from maintenance.i18n import N_
from maintenance.i18n import gettext as _
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, ManagerUser
from maintenance.org.permissions import Capability, can, can_write_in
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    redirect,
    render,
    seek_page,
    validate_form,
)

router = APIRouter(include_in_schema=False)
HOME_CARD = HomeCard(
    "/assets", "bi-hdd-stack", N_("Asset registry"), N_("Sites, workshops, units and every asset with its values.")
)

CHOICES = {
    "classes": AssetClass,
    "statuses": AssetStatus,
    "criticalities": Criticality,
    "special_categories": SpecialCategory,
}


def org_lookups(session: Session) -> dict[str, Any]:
    """Workshops and units by id: small tables, loaded whole once per page."""
    workshops = org_service.list_workshops(session)
    units = org_service.list_units(session)
    return {
        "workshops": workshops,
        "units": units,
        "workshop_by_id": {w.id: w for w in workshops},
        "unit_by_id": {u.id: u for u in units},
    }


@router.get("/assets")
def asset_list(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    filters: AssetFiltersDep,
    page: int = 1,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
) -> Response:
    """Keyset pages: ``after``/``before`` carry the cursor of the row the page starts after (ends
    before), ``last`` reads the list from its end. ``page=N`` (bookmarks from before) is served up
    to page :data:`MAX_OFFSET_PAGE`; a later page number, or a damaged cursor, shows the first
    page with a note saying why."""
    export_format = request.query_params.get("export")
    if export_format:
        from maintenance.assets import exports  # one filtered query feeds page and files alike

        return exports.export_response(session, request, filters, export_format, user=user)
    stmt = service.list_assets(filters)
    assets = seek_page(
        request,
        session,
        stmt,
        service.listed_table(filters),
        filters.order,
        after=after,
        before=before,
        last=last,
        page=page,
    )
    row_ids = [row.asset_id if filters.as_of else row.id for row in assets.items]
    parent_ids = {row.parent_id for row in assets.items if row.parent_id}
    parents = (
        {a.id: a for a in session.scalars(select(Asset).where(col(Asset.id).in_(parent_ids)))} if parent_ids else {}
    )
    as_of = filters.as_of or plant_today()
    book = {row.id: book_value_of(row, as_of) for row in assets.items}
    return render(
        request,
        "assets/page.html",
        {
            "page": assets,
            "filters": filters,
            "row_ids": row_ids,
            "parents": parents,
            "book": book,
            "component_counts": service.component_counts(session, [i for i in row_ids if i]),
            "can_edit": can(user, Capability.MANAGE),
            **org_lookups(session),
            **CHOICES,
        },
        block="results",
    )


# --- Create and edit ----------------------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    asset: Asset | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "assets/form.html",
        {"asset": asset, "values": values, "errors": errors, **org_lookups(session), **CHOICES},
        status_code=status_code,
    )


@router.get("/assets/new")
def new_asset_page(
    request: Request, session: SessionDep, user: ManagerUser, parent_id: RecordId | None = None
) -> Response:
    values: dict[str, Any] = {
        "status": AssetStatus.IN_SERVICE.value,
        "criticality": "C",
        "useful_life_years": 10,
        "salvage_rate": "0.05",
    }
    if parent_id is not None:
        parent = service.get_asset_or_raise(session, parent_id)
        values |= {"parent_tag": parent.tag, "workshop_id": parent.workshop_id, "unit_id": parent.unit_id}
    return _form_page(request, session, None, values, {})


def _with_parent(session: Session, form: FormDep) -> tuple[dict[str, Any], dict[str, str]]:
    """The form names the parent by tag (what engineers know); the model wants its id."""
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    parent_tag = values.get("parent_tag", "").strip()
    if not parent_tag:
        values["parent_id"] = ""
        return values, {}
    parent = service.get_asset_by_tag(session, parent_tag)
    if parent is None:
        return values, {"parent_tag": _("No asset has the tag %(tag)s.", tag=parent_tag)}
    values["parent_id"] = str(parent.id)
    return values, {}


@router.post("/assets/new")
def create_asset(request: Request, session: SessionDep, user: ManagerUser, form: FormDep) -> Response:
    values, errors = _with_parent(session, form)
    data, form_errors = validate_form(AssetCreate, values)
    errors |= form_errors
    if data is not None and not errors:
        try:
            asset = service.create_asset(session, data, actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Asset %(tag)s created.", tag=asset.tag))
            return redirect(request, f"/assets/{asset.id}")
    return _form_page(request, session, None, values, errors, status_code=422)


@router.get("/assets/{asset_id}/edit")
def edit_asset_page(request: Request, session: SessionDep, user: ManagerUser, asset_id: RecordId) -> Response:
    asset = service.get_asset_or_raise(session, asset_id)
    parent = service.get_asset(session, asset.parent_id) if asset.parent_id else None
    values = asset.model_dump(mode="json") | {"parent_tag": parent.tag if parent else ""}
    return _form_page(request, session, asset, values, {})


@router.post("/assets/{asset_id}/edit")
def update_asset(
    request: Request, session: SessionDep, user: ManagerUser, asset_id: RecordId, form: FormDep
) -> Response:
    asset = service.get_asset_or_raise(session, asset_id, for_update=True)
    values, errors = _with_parent(session, form)
    data, form_errors = validate_form(AssetUpdate, values)
    errors |= form_errors
    if data is not None and not errors:
        try:
            service.update_asset(session, asset, data, actor=user, cascade_status=form.get("cascade") == "yes")
        except Conflict:
            return conflict_response(
                request,
                heading=_("Someone else changed asset %(tag)s while you were editing it.", tag=asset.tag),
                changes=differences(asset, data),
                audit=("asset", asset.id),
                edit_url=f"/assets/{asset.id}/edit",
            )
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Asset %(tag)s saved.", tag=asset.tag))
            return redirect(request, f"/assets/{asset.id}")
    return _form_page(request, session, asset, values, errors, status_code=422)


@router.post("/assets/{asset_id}/status")
def change_status(
    request: Request,
    session: SessionDep,
    user: ManagerUser,
    asset_id: RecordId,
    form: FormDep,
) -> Response:
    asset = service.get_asset_or_raise(session, asset_id, for_update=True)
    try:
        status = AssetStatus(str(form.get("status", "")))
    except ValueError:
        raise ValidationFailed(_("Choose a status."), []) from None
    try:
        service.set_status(
            session,
            asset,
            status,
            actor=user,
            cascade=form.get("cascade") == "yes",
            retired_date=_form_date(form, "retired_date") or plant_today(),
            retire_reason=str(form.get("retire_reason", "")),
        )
    except MaintenanceError as error:
        add_toast(request, " ".join([error.message, *(e.message for e in error.errors)]), "danger")
        return redirect(request, f"/assets/{asset.id}")
    add_toast(request, _("Status of %(tag)s is now %(status)s.", tag=asset.tag, status=status.label))
    return redirect(request, f"/assets/{asset.id}")


def _form_date(form: FormDep, name: str) -> date | None:
    value = str(form.get(name, "")).strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), [FieldError(name, _("invalid date"))]) from None


# --- The asset page -----------------------------------------------------------------------

# "inspections": the statutory inspection records (检验记录) of special equipment; "accidents": the
# accident register's records on the asset.
TABS = ("details", "components", "readings", "orders", "inspections", "accidents", "documents", "history")


def _tabs_of(asset: Asset) -> tuple[str, ...]:
    """Only special equipment has statutory inspection records."""
    if asset.special_category == SpecialCategory.NONE:
        return tuple(tab for tab in TABS if tab != "inspections")
    return TABS


@router.get("/assets/{asset_id}")
def asset_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    asset_id: RecordId,
    tab: Annotated[str, Query()] = "details",
) -> Response:
    asset = service.get_asset_or_raise(session, asset_id)
    parent = service.get_asset(session, asset.parent_id) if asset.parent_id else None
    components = service.components_of(session, asset)
    return render(
        request,
        "assets/detail.html",
        {
            "asset": asset,
            "parent": parent,
            "components": components,
            "tab": tab if tab in _tabs_of(asset) else "details",
            "book": book_value_of(asset, plant_today()),
            "today": plant_today(),
            "can_edit": can(user, Capability.MANAGE),
            # Engineers of the asset's workshop, managers and admins; the button links to the
            # orders domain by URL only (this domain never imports it).
            "can_raise_order": can_write_in(session, user, asset.workshop_id),
            **org_lookups(session),
            **CHOICES,
        },
    )
