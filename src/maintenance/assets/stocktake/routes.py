"""Stocktake pages: the list, one count with its lines (updated per line with htmx), the
phone banner on the asset page that marks a scanned asset found, sign-off and the report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.assets.routes import org_lookups
from maintenance.assets.stocktake import service
from maintenance.assets.stocktake.models import (
    AssetCondition,
    CountResult,
    Stocktake,
    StocktakeLine,
    StocktakeState,
    StocktakeSurplusCreate,
)
from maintenance.assets.stocktake.report import XLSX_MEDIA_TYPE, build_workbook
from maintenance.db import SessionDep
from maintenance.exceptions import Conflict, FieldError, MaintenanceError, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.auth import CurrentUser, ManagerUser, WriterUser
from maintenance.org.models import User, Workshop
from maintenance.org.permissions import Capability, can, can_write_in, writable_workshop_ids
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    filters_from_query,
    is_htmx,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

CHOICES = {"states": StocktakeState, "results": CountResult, "conditions": AssetCondition}


StocktakeFiltersDep = Annotated[service.StocktakeFilters, Depends(filters_from_query(service.StocktakeFilters))]
LineFiltersDep = Annotated[service.LineFilters, Depends(filters_from_query(service.LineFilters))]


def _condition(form: FormDep) -> AssetCondition | None:
    value = str(form.get("condition", "") or "")
    if not value:
        return None
    try:
        return AssetCondition(value)
    except ValueError:
        raise ValidationFailed(_("Choose one of the listed options."), [FieldError("condition", value)]) from None


def _note(form: FormDep) -> str | None:
    value = form.get("note")
    return value if isinstance(value, str) else None


# --- The list -----------------------------------------------------------------------------


@router.get("/stocktakes")
def stocktake_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: StocktakeFiltersDep, page: int = 1
) -> Response:
    stocktakes = paginate(session, service.list_stocktakes(filters), page)
    lookups = org_lookups(session)
    writable = writable_workshop_ids(session, user)
    return render(
        request,
        "assets/stocktake/page.html",
        {
            "page": stocktakes,
            "filters": filters,
            "progress": service.progress_of(session, [s.id for s in stocktakes.items]),
            "people": service.users_by_id(session, {s.started_by_id for s in stocktakes.items}),
            "startable": [w for w in lookups["workshops"] if writable is None or w.id in writable],
            **lookups,
            **CHOICES,
        },
        block="results",
    )


@router.post("/stocktakes/new")
def start_stocktake(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    try:
        workshop_id = int(str(form.get("workshop_id", "")))
    except ValueError:
        add_toast(request, _("Choose the workshop to count."), "danger")
        return redirect(request, "/stocktakes")
    try:
        stocktake = service.start_stocktake(session, workshop_id=workshop_id, note=_note(form) or "", actor=user)
    except (Conflict, ValidationFailed) as error:
        add_toast(request, error.message, "danger")
        return redirect(request, "/stocktakes")
    add_toast(request, _("Stocktake #%(id)s started.", id=stocktake.id))
    return redirect(request, f"/stocktakes/{stocktake.id}")


# --- One stocktake ------------------------------------------------------------------------


def _detail_context(session: Session, user: User, stocktake: Stocktake) -> dict[str, Any]:
    can_count = stocktake.is_open and can_write_in(session, user, stocktake.workshop_id)
    return {
        "stocktake": stocktake,
        "workshop": session.get(Workshop, stocktake.workshop_id),
        "progress": service.progress_of(session, [stocktake.id])[stocktake.id],  # type: ignore[list-item,index]
        "can_count": can_count,
        "can_sign": stocktake.is_open and can(user, Capability.MANAGE),
        **CHOICES,
    }


@router.get("/stocktakes/{stocktake_id}")
def stocktake_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    stocktake_id: RecordId,
    filters: LineFiltersDep,
    page: int = 1,
) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id)
    lines = paginate(session, service.list_lines(stocktake, filters), page)
    surplus = service.surplus_of(session, stocktake)
    people_ids = {line.counted_by_id for line in lines.items} | {item.recorded_by_id for item in surplus}
    people_ids |= {stocktake.started_by_id, stocktake.closed_by_id}
    return render(
        request,
        "assets/stocktake/detail.html",
        {
            **_detail_context(session, user, stocktake),
            "lines": lines,
            "filters": filters,
            "surplus": surplus,
            "people": service.users_by_id(session, people_ids),
            **org_lookups(session),
        },
        block="lines",
    )


@router.post("/stocktakes/{stocktake_id}/lines/{line_id}")
def record_count(
    request: Request, session: SessionDep, user: WriterUser, stocktake_id: RecordId, line_id: RecordId, form: FormDep
) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id, lock="share")
    line = service.get_line_or_raise(session, stocktake, line_id)
    try:
        result = CountResult(str(form.get("result", "")))
    except ValueError:
        raise ValidationFailed(_("Choose found or missing."), [FieldError("result", _("required"))]) from None
    service.record_count(
        session, stocktake, line, result=result, condition=_condition(form), note=_note(form), actor=user
    )
    if not is_htmx(request):
        return redirect(request, f"/stocktakes/{stocktake.id}")
    return _line_response(request, session, user, stocktake, line)


def _line_response(
    request: Request, session: Session, user: User, stocktake: Stocktake, line: StocktakeLine
) -> Response:
    return render(
        request,
        "assets/stocktake/_line_updated.html",
        {
            **_detail_context(session, user, stocktake),
            "line": line,
            "people": service.users_by_id(session, {line.counted_by_id}),
        },
        block=None,
    )


@router.post("/stocktakes/{stocktake_id}/mark-missing")
def mark_uncounted_missing(request: Request, session: SessionDep, user: WriterUser, stocktake_id: RecordId) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id, lock="update")
    marked = service.mark_uncounted_missing(session, stocktake, actor=user)
    add_toast(request, _("%(n)s assets marked missing.", n=marked), "warning" if marked else "info")
    return redirect(request, f"/stocktakes/{stocktake.id}")


@router.post("/stocktakes/{stocktake_id}/surplus")
def add_surplus(
    request: Request, session: SessionDep, user: WriterUser, stocktake_id: RecordId, form: FormDep
) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id, lock="share")
    data, errors = validate_form(StocktakeSurplusCreate, form)
    if data is None:
        raise ValidationFailed(_("The surplus item was not saved."), [FieldError(k, v) for k, v in errors.items()])
    item = service.add_surplus(session, stocktake, data, actor=user)
    add_toast(request, _("Surplus item “%(name)s” recorded.", name=item.description))
    return _surplus_response(request, session, user, stocktake)


@router.post("/stocktakes/{stocktake_id}/surplus/{surplus_id}/delete")
def delete_surplus(
    request: Request, session: SessionDep, user: WriterUser, stocktake_id: RecordId, surplus_id: RecordId
) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id, lock="share")
    service.delete_surplus(session, stocktake, surplus_id, actor=user)
    add_toast(request, _("Surplus item deleted."))
    return _surplus_response(request, session, user, stocktake)


def _surplus_response(request: Request, session: Session, user: User, stocktake: Stocktake) -> Response:
    if not is_htmx(request):
        return redirect(request, f"/stocktakes/{stocktake.id}#surplus")
    surplus = service.surplus_of(session, stocktake)
    return render(
        request,
        "assets/stocktake/_surplus_updated.html",
        {
            **_detail_context(session, user, stocktake),
            "surplus": surplus,
            "people": service.users_by_id(session, {item.recorded_by_id for item in surplus}),
        },
        block=None,
    )


@router.post("/stocktakes/{stocktake_id}/close")
def close_stocktake(
    request: Request, session: SessionDep, user: ManagerUser, stocktake_id: RecordId, form: FormDep
) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id, lock="update")
    try:
        service.close_stocktake(session, stocktake, statement=str(form.get("statement", "")), actor=user)
    except (Conflict, ValidationFailed) as error:
        add_toast(request, error.message, "danger")
        return redirect(request, f"/stocktakes/{stocktake.id}#sign-off")
    add_toast(request, _("Stocktake #%(id)s signed off and closed.", id=stocktake.id))
    return redirect(request, f"/stocktakes/{stocktake.id}")


@router.post("/stocktakes/{stocktake_id}/discard")
def discard_stocktake(request: Request, session: SessionDep, user: ManagerUser, stocktake_id: RecordId) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id, lock="update")
    service.discard_stocktake(session, stocktake, actor=user)
    add_toast(request, _("Stocktake #%(id)s discarded.", id=stocktake_id), "warning")
    return redirect(request, "/stocktakes")


# --- Report -------------------------------------------------------------------------------


def _report(session: Session, stocktake: Stocktake) -> tuple[service.StocktakeReport, dict[int, User], dict[int, str]]:
    report = service.build_report(session, stocktake)
    people_ids: set[int | None] = {line.counted_by_id for line in [*report.found, *report.missing]}
    people_ids |= {item.recorded_by_id for item in report.surplus}
    asset_ids = [item.asset_id for item in report.surplus if item.asset_id]
    tags = {asset.id: asset.tag for asset in (session.get(Asset, asset_id) for asset_id in asset_ids) if asset}
    return report, service.users_by_id(session, people_ids), tags  # type: ignore[return-value]


@router.get("/stocktakes/{stocktake_id}/report")
def report_page(request: Request, session: SessionDep, user: CurrentUser, stocktake_id: RecordId) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id)
    report, people, tags = _report(session, stocktake)
    return render(request, "assets/stocktake/report.html", {"report": report, "people": people, "asset_tags": tags})


@router.get("/stocktakes/{stocktake_id}/report.xlsx")
def report_xlsx(request: Request, session: SessionDep, user: CurrentUser, stocktake_id: RecordId) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id)
    report, people, tags = _report(session, stocktake)
    content = build_workbook(report, people, tags, user)
    state = "signed" if not stocktake.is_open else "draft"
    filename = f"stocktake-{stocktake.id}-{stocktake.as_of_date.isoformat()}-{state}.xlsx"
    return Response(
        content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Vary": "HX-Request"},
    )


# --- Scanning a label: the banner on the asset page ---------------------------------------


def _banner(request: Request, session: Session, user: User, asset: Asset, *, status_code: int = 200) -> Response:
    target = service.scan_target(session, user, asset)
    context: dict[str, Any] = {"asset": asset, "target": target, **CHOICES}
    if target is not None:
        context["progress"] = service.progress_of(session, [target.stocktake.id])[target.stocktake.id]  # type: ignore[list-item,index]
        context["surplus_item"] = (
            service.surplus_for_asset(session, target.stocktake, asset) if target.line is None else None
        )
        context["people"] = service.users_by_id(session, {target.line.counted_by_id} if target.line else set())
    return render(request, "assets/stocktake/_scan_banner.html", context, block=None, status_code=status_code)


@router.get("/assets/{asset_id}/stocktake")
def scan_banner(request: Request, session: SessionDep, user: CurrentUser, asset_id: RecordId) -> Response:
    asset = asset_service.get_asset_or_raise(session, asset_id)
    return _banner(request, session, user, asset)


@router.post("/stocktakes/{stocktake_id}/scan/{asset_id}")
def record_scan(
    request: Request, session: SessionDep, user: WriterUser, stocktake_id: RecordId, asset_id: RecordId, form: FormDep
) -> Response:
    stocktake = service.get_stocktake_or_raise(session, stocktake_id, lock="share")
    asset = asset_service.get_asset_or_raise(session, asset_id)
    try:
        recorded = service.record_scan(
            session, stocktake, asset, condition=_condition(form), note=_note(form), actor=user
        )
    except MaintenanceError as error:
        if error.status_code == 403:
            raise
        add_toast(request, error.message, "danger")
    else:
        if isinstance(recorded, StocktakeLine):
            add_toast(request, _("%(tag)s marked found in stocktake #%(id)s.", tag=asset.tag, id=stocktake.id))
        else:
            add_toast(request, _("%(tag)s recorded as surplus in stocktake #%(id)s.", tag=asset.tag, id=stocktake.id))
    if not is_htmx(request):
        return redirect(request, f"/assets/{asset.id}")
    return _banner(request, session, user, asset)
