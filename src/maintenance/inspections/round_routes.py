"""Rounds pages: the rounds board (the round of the period running now on each route, and the
history), walking a round on a phone, and the inspection routes with their stops and completion.

The walk page is built for a phone at the equipment on a flaky network: each stop is its own
small form that htmx posts and swaps in place, with a plain-POST fallback; the service makes a
retried submit a no-op (:func:`rounds.record_entry`). Without signal ``static/rounds.js`` keeps
the stop in an outbox on the phone and posts it to ``/rounds/sync`` when the signal is back
(:mod:`round_sync`); the service worker ``/rounds/sw.js`` keeps the round pages readable offline.

Routes are thin: everything is written by :mod:`maintenance.inspections.rounds`. Every page runs a
fixed number of queries whatever the number of routes, stops or rounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.datastructures import UploadFile

from maintenance.assets.models import Asset
from maintenance.config import PACKAGE_ROOT
from maintenance.db import SessionDep, utcnow
from maintenance.exceptions import Conflict, NotFound, ValidationFailed
from maintenance.files import stored_file_response
from maintenance.i18n import gettext as _
from maintenance.inspections import round_sync, rounds
from maintenance.inspections.choices import RoundState, RouteFrequency
from maintenance.inspections.models import (
    InspectionRound,
    InspectionRoute,
    OfflineBatch,
    RoundEntry,
    RouteCreate,
    RouteStop,
    RouteUpdate,
    StopFields,
)
from maintenance.inspections.round_periods import GRACE
from maintenance.monitoring import service
from maintenance.monitoring.filters import workshop_filter
from maintenance.monitoring.models import MeasurementPoint
from maintenance.monitoring.routes import parse_reading_form, unit_of
from maintenance.orders.choices import ChecklistResult
from maintenance.orders.forms import resolve_asset_tag
from maintenance.orders.models import WorkOrder
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, WriterUser
from maintenance.org.models import User, Workshop
from maintenance.org.permissions import Capability, can, can_write_in, require_write_in, writable_workshop_ids
from maintenance.web import (
    FormDep,
    RawBody,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    form_values,
    is_htmx,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

HISTORY_DAYS = 30
CLIENT_ID = re.compile(r"[0-9A-Za-z-]{8,36}")
NOT_ECHOED = frozenset({"csrf_token", "client_id"})  # form fields not drawn back into a refused stop's form
COMPLETION_DAYS = 30


def _helpers() -> dict[str, Any]:
    return {"zone_of": service.zone_of, "unit_of": unit_of, "frequencies": RouteFrequency, "now": utcnow()}


# --- The rounds board ---------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentRound:
    route: InspectionRoute
    workshop: Workshop
    found: InspectionRound | None
    can_write: bool


def _current_rounds(session: Session, user: User, workshop_id: int | None, now: datetime) -> list[CurrentRound]:
    """Every active route with its round of the period running now (None if nobody started it):
    two queries. An engineer's own workshops come first."""
    stmt = (
        select(InspectionRoute, Workshop)
        .join(Workshop, col(Workshop.id) == col(InspectionRoute.workshop_id))
        .where(col(InspectionRoute.is_active))
        .order_by(col(Workshop.code), col(InspectionRoute.code))
    )
    if workshop_id is not None:
        stmt = stmt.where(col(InspectionRoute.workshop_id) == workshop_id)
    routes = session.execute(stmt).all()
    open_rounds = session.scalars(
        select(InspectionRound).where(
            col(InspectionRound.route_id).in_([route.id for route, _w in routes]),
            col(InspectionRound.period_start) <= now,
            col(InspectionRound.period_end) > now - GRACE,
        )
    ).all()
    latest: dict[int, InspectionRound] = {}
    for found in sorted(open_rounds, key=lambda r: r.period_start):
        latest[found.route_id] = found
    writable = writable_workshop_ids(session, user)
    rows = [
        CurrentRound(route, workshop, latest.get(route.id or 0), writable is None or workshop.id in writable)
        for route, workshop in routes
    ]
    return sorted(rows, key=lambda row: not row.can_write)


@router.get("/rounds")
def rounds_board(request: Request, session: SessionDep, user: CurrentUser, page: int = 1) -> Response:
    workshops = list(org_service.list_workshops(session))
    workshop_id = workshop_filter(request, workshops)
    now = utcnow()
    state = request.query_params.get("state", "")
    history = (
        select(InspectionRound, InspectionRoute, Workshop)
        .join(InspectionRoute, col(InspectionRoute.id) == col(InspectionRound.route_id))
        .join(Workshop, col(Workshop.id) == col(InspectionRound.workshop_id))
        .where(col(InspectionRound.period_start) >= now - timedelta(days=HISTORY_DAYS))
        .order_by(col(InspectionRound.period_start).desc(), col(InspectionRound.id).desc())
    )
    if workshop_id is not None:
        history = history.where(col(InspectionRound.workshop_id) == workshop_id)
    if state == "missed":
        history = history.where(
            col(InspectionRound.state) != RoundState.COMPLETED, col(InspectionRound.period_end) <= now - GRACE
        )
    elif state in {choice.value for choice in RoundState}:
        history = history.where(col(InspectionRound.state) == state)
    else:
        state = ""
    context = {
        "current": _current_rounds(session, user, workshop_id, now),
        "history": paginate(session, history, page, scalars=False),
        "workshops": workshops,
        "workshop_id": workshop_id,
        "state": state,
        "states": RoundState,
        "is_missed": rounds.is_missed,
        **_helpers(),
    }
    # The filters redraw both sections (#main); the pager only the history (#results).
    block = "content" if request.headers.get("HX-Target") == "main" else "results"
    return render(request, "inspections/rounds.html", context, block=block)


@router.post("/rounds/start")
def start_round(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    """The round of the period running now on the chosen route, made if need be (a second tap,
    or a colleague starting the same round, opens the same one)."""
    raw = str(form.get("route_id", ""))
    route = rounds.get_route_or_raise(session, int(raw)) if raw.isdigit() else None
    if route is None:
        raise NotFound(_("This inspection route does not exist."))
    found = rounds.ensure_round(session, route, actor=user)
    return redirect(request, f"/rounds/{found.id}")


# --- Walking a round ----------------------------------------------------------------------

SERVICE_WORKER = PACKAGE_ROOT / "static" / "rounds-sw.js"


@router.get("/rounds/sw.js")
def service_worker() -> Response:
    """The service worker that keeps the round pages readable without signal. Served from here,
    not /static, with ``Service-Worker-Allowed`` so that its scope can be the whole site: a round
    page pulls the special-equipment banner of its assets, which it caches too. Public: it is
    the same script for everyone and holds no data."""
    return Response(
        SERVICE_WORKER.read_bytes(),
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


def _batch_errors(error: ValidationError) -> list[dict[str, object]]:
    """Each error named by its entry (1-based, as the phone lists them) and field."""
    named = []
    for detail in error.errors():
        loc = list(detail["loc"])
        if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
            field = ".".join(str(part) for part in loc[2:]) or "entry"
            named.append(
                {
                    "entry": loc[1] + 1,
                    "field": field,
                    "message": _("Entry %(n)s, %(field)s: %(reason)s", n=loc[1] + 1, field=field, reason=detail["msg"]),
                }
            )
        else:
            field = ".".join(str(part) for part in loc) or "body"
            named.append({"entry": None, "field": field, "message": f"{field}: {detail['msg']}"})
    return named


@router.post("/rounds/sync")
def sync_outbox(body: RawBody, session: SessionDep, user: WriterUser) -> Response:
    """A phone's outbox of entries taken without signal, as JSON ``{"entries": [...]}`` (see
    :class:`OfflineBatch`), with the CSRF token in the ``X-CSRF-Token`` header as htmx sends it.
    Answers each entry by its client id: synced, already synced, or refused with the reason (also
    an entry of a round in a workshop the user may not write in, so the others still go through)."""
    try:
        batch = OfflineBatch.model_validate_json(body)
    except ValidationError as error:
        return JSONResponse(
            {"detail": _("Nothing was saved: some entries are not valid."), "errors": _batch_errors(error)},
            status_code=422,
        )
    results = round_sync.sync_entries(session, batch.entries, actor=user, now=utcnow())
    return JSONResponse({"results": [result.as_dict() for result in results]})


@dataclass(frozen=True)
class StopView:
    number: int  # 1-based, in walking order
    stop: RouteStop
    asset: Asset
    point: MeasurementPoint | None
    entry: RoundEntry | None
    order: WorkOrder | None


def _stop_views(session: Session, found: InspectionRound) -> list[StopView]:
    """The round's stops with their asset, point, entry and order: five queries."""
    stops = rounds.stops_of_round(session, found)
    assets = {
        asset.id: asset
        for asset in session.scalars(select(Asset).where(col(Asset.id).in_({stop.asset_id for stop in stops})))
    }
    point_ids = {stop.point_id for stop in stops if stop.point_id is not None}
    points = {
        point.id: point
        for point in session.scalars(select(MeasurementPoint).where(col(MeasurementPoint.id).in_(point_ids)))
    }
    entries = rounds.entries_of(session, found)
    order_ids = {entry.order_id for entry in entries.values() if entry.order_id is not None}
    orders = (
        {order.id: order for order in session.scalars(select(WorkOrder).where(col(WorkOrder.id).in_(order_ids)))}
        if order_ids
        else {}
    )
    views = []
    for number, stop in enumerate(stops, start=1):
        entry = entries.get(stop.id or 0)
        views.append(
            StopView(
                number=number,
                stop=stop,
                asset=assets[stop.asset_id],
                point=points.get(stop.point_id) if stop.point_id is not None else None,
                entry=entry,
                order=orders.get(entry.order_id) if entry is not None and entry.order_id is not None else None,
            )
        )
    return views


def _round_context(session: Session, user: User, found: InspectionRound) -> dict[str, Any]:
    route = session.get(InspectionRoute, found.route_id)
    workshop = session.get(Workshop, found.workshop_id)
    now = utcnow()
    return {
        "found": found,
        "route": route,
        "workshop": workshop,
        "can_write": can_write_in(session, user, found.workshop_id),
        "is_open": found.state != RoundState.COMPLETED and not rounds.is_missed(found, now),
        "missed": rounds.is_missed(found, now),
        **_helpers(),
    }


@router.get("/rounds/{round_id:int}")
def round_page(request: Request, session: SessionDep, user: CurrentUser, round_id: RecordId) -> Response:
    found = rounds.get_round_or_raise(session, round_id)
    views = _stop_views(session, found)
    return render(
        request,
        "inspections/round.html",
        {**_round_context(session, user, found), "views": views, "values": {}, "errors": {}},
    )


def _parse_entry(
    stop: RouteStop, form: FormDep
) -> tuple[float | None, ChecklistResult | None, str, rounds.Photo | None, dict[str, str]]:
    errors: dict[str, str] = {}
    value: float | None = None
    result: ChecklistResult | None = None
    if stop.point_id is not None:
        value, _taken_at, reading_errors = parse_reading_form(form)
        errors |= {key: message for key, message in reading_errors.items() if key == "value"}
    else:
        result = ChecklistResult.from_label(str(form.get("result", "")))
    upload = form.get("photo")
    photo = (
        rounds.Photo(upload.file, upload.filename or "") if isinstance(upload, UploadFile) and upload.filename else None
    )
    return value, result, str(form.get("note", "")), photo, errors


def _client_id(session: Session, form: FormDep) -> str | None:
    """The id static/rounds.js gave the entry in the phone's outbox, so that a later sync of the
    same entry (its answer lost on the way back) is known; one the server holds already, or not
    shaped like an id, is not kept."""
    sent = str(form.get("client_id", "")).strip()
    if not CLIENT_ID.fullmatch(sent):
        return None
    taken = session.scalar(select(col(RoundEntry.id)).where(col(RoundEntry.client_id) == sent))
    return sent if taken is None else None


@router.post("/rounds/{round_id:int}/stops/{stop_id:int}")
def enter_stop(
    request: Request, session: SessionDep, user: WriterUser, round_id: RecordId, stop_id: RecordId, form: FormDep
) -> Response:
    """One stop's value or check. htmx gets the stop's card back (and the progress bar out of
    band); a plain post goes back to the round at that stop."""
    found = rounds.get_round_or_raise(session, round_id)
    stop = rounds.get_stop_or_raise(session, found.route_id, stop_id)
    value, result, note, photo, errors = _parse_entry(stop, form)
    created = False
    if not errors:
        try:
            _entry, created = rounds.record_entry(
                session,
                found,
                stop,
                value=value,
                result=result,
                note=note,
                photo=photo,
                actor=user,
                client_id=_client_id(session, form),
            )
        except ValidationFailed as error:
            errors = field_errors(error.errors) or {"__all__": error.message}
            errors.setdefault("__all__", error.message)
        except Conflict as error:
            errors = {"__all__": error.message}
    values = {key: item for key, item in form.items() if isinstance(item, str) and key not in NOT_ECHOED}
    if not is_htmx(request):
        if not errors:
            return redirect(request, f"/rounds/{found.id}#stop-{stop.id}")
        context = {**_round_context(session, user, found), "views": _stop_views(session, found)}
        context |= {"values": values, "errors": errors, "error_stop_id": stop.id}
        return render(request, "inspections/round.html", context, status_code=422)
    context = {
        **_round_context(session, user, found),
        "view": next(view for view in _stop_views(session, found) if view.stop.id == stop.id),
        "values": values if errors else {},
        "errors": errors,
        "just_saved": created,
        "oob": True,
    }
    response = render(request, "inspections/_round_stop.html", context, block=None, status_code=422 if errors else 200)
    # This entry was answered (saved, or refused with the reason in the card): static/rounds.js
    # lets it leave the phone's outbox only on this confirmation, never on a login page or a toast.
    sent = str(form.get("client_id", "")).strip()
    if CLIENT_ID.fullmatch(sent):
        response.headers["X-Client-Id"] = sent
    return response


@router.post("/rounds/{round_id:int}/finish")
def finish_round(request: Request, session: SessionDep, user: WriterUser, round_id: RecordId) -> Response:
    found = rounds.get_round_or_raise(session, round_id)
    try:
        missed = rounds.finish_round(session, found, actor=user)
    except (ValidationFailed, Conflict) as error:
        add_toast(request, error.message, "danger")
    else:
        if missed:
            add_toast(
                request, _("Round finished: %(n)s stops not walked are listed as missed.", n=len(missed)), "warning"
            )
        else:
            add_toast(request, _("Round finished: every stop walked."))
    return redirect(request, f"/rounds/{found.id}")


@router.get("/rounds/{round_id:int}/entries/{entry_id:int}/photo")
def entry_photo(
    request: Request, session: SessionDep, user: CurrentUser, round_id: RecordId, entry_id: RecordId
) -> Response:
    entry = session.get(RoundEntry, entry_id)
    if entry is None or entry.round_id != round_id or entry.photo_sha256 is None:
        raise NotFound(_("This photo does not exist."))
    extension = "png" if entry.photo_content_type == "image/png" else "jpg"
    return stored_file_response(
        entry.photo_sha256,
        f"round-{round_id}-entry-{entry_id}.{extension}",
        entry.photo_content_type or "",
        inline=True,
    )


# --- Inspection routes ---------------------------------------------------------------------


@router.get("/rounds/routes")
def route_list(request: Request, session: SessionDep, user: CurrentUser, page: int = 1) -> Response:
    workshops = list(org_service.list_workshops(session))
    workshop_id = workshop_filter(request, workshops)
    query = request.query_params.get("q", "").strip()
    stmt = (
        select(InspectionRoute, Workshop)
        .join(Workshop, col(Workshop.id) == col(InspectionRoute.workshop_id))
        .order_by(col(Workshop.code), col(InspectionRoute.code))
    )
    if workshop_id is not None:
        stmt = stmt.where(col(InspectionRoute.workshop_id) == workshop_id)
    if query:
        pattern = f"%{query}%"
        stmt = stmt.where(col(InspectionRoute.code).ilike(pattern) | col(InspectionRoute.name).ilike(pattern))
    listed = paginate(session, stmt, page, scalars=False)
    completion = rounds.completion_by_route(session, [row[0] for row in listed.items], days=COMPLETION_DAYS)
    context = {
        "routes": listed,
        "completion": completion,
        "completion_days": COMPLETION_DAYS,
        "workshops": workshops,
        "workshop_id": workshop_id,
        "q": query,
        "can_create": can(user, Capability.WRITE),
        **_helpers(),
    }
    return render(request, "inspections/route_list.html", context, block="results")


def _route_labels() -> dict[str, str]:
    return {
        "code": _("Route code"),
        "name": _("Name"),
        "workshop_id": _("Workshop"),
        "frequency": _("Frequency"),
        "is_active": _("Active"),
    }


def _route_form(
    request: Request,
    session: Session,
    user: User,
    route: InspectionRoute | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    writable = writable_workshop_ids(session, user)
    workshops = [w for w in org_service.list_workshops(session) if writable is None or w.id in writable]
    return render(
        request,
        "inspections/route_form.html",
        {"route": route, "values": values, "errors": errors, "workshops": workshops, **_helpers()},
        status_code=status_code,
    )


def _service_errors(error: ValidationFailed) -> dict[str, str]:
    return field_errors(error.errors) | {"__all__": error.message}


@router.get("/rounds/routes/new")
def new_route_page(request: Request, session: SessionDep, user: WriterUser) -> Response:
    values = {"frequency": RouteFrequency.DAY.value, "is_active": True}
    return _route_form(request, session, user, None, values, {})


@router.post("/rounds/routes/new")
def create_route(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    values = form_values(form)
    data, errors = validate_form(RouteCreate, values)
    if data is not None:
        try:
            route = rounds.create_route(session, data, actor=user)
        except ValidationFailed as error:
            errors = _service_errors(error)
        else:
            add_toast(request, _("Route %(code)s created: now add its stops.", code=route.code))
            return redirect(request, f"/rounds/routes/{route.id}")
    return _route_form(request, session, user, None, values, errors, status_code=422)


@router.get("/rounds/routes/{route_id:int}/edit")
def edit_route_page(request: Request, session: SessionDep, user: WriterUser, route_id: RecordId) -> Response:
    route = rounds.get_route_or_raise(session, route_id)
    # As the point's edit page: the form is for those who may save it.
    require_write_in(session, user, route.workshop_id)
    return _route_form(request, session, user, route, route.model_dump(), {})


@router.post("/rounds/routes/{route_id:int}/edit")
def update_route(
    request: Request, session: SessionDep, user: WriterUser, route_id: RecordId, form: FormDep
) -> Response:
    route = rounds.get_route_or_raise(session, route_id)
    values = form_values(form)
    data, errors = validate_form(RouteUpdate, values)
    if data is not None:
        try:
            rounds.update_route(session, route, data, actor=user)
        except Conflict:
            workshops = {w.id: w.name for w in org_service.list_workshops(session)}

            def display(name: str, value: Any) -> Any:
                if name == "workshop_id":
                    return workshops.get(value, value)
                return RouteFrequency(value).label if name == "frequency" and value else value

            return conflict_response(
                request,
                heading=_("Someone else changed route %(code)s while you were editing it.", code=route.code),
                changes=differences(route, data, labels=_route_labels(), display=display),
                audit=("inspection_route", route.id),
                edit_url=f"/rounds/routes/{route.id}/edit",
                back=(f"/rounds/routes/{route.id}", _("Back to the route")),
            )
        except ValidationFailed as error:
            errors = _service_errors(error)
        else:
            add_toast(request, _("Route %(code)s saved.", code=route.code))
            return redirect(request, f"/rounds/routes/{route.id}")
    return _route_form(request, session, user, route, values, errors, status_code=422)


def _route_page(
    request: Request,
    session: Session,
    user: User,
    route: InspectionRoute,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    stops = list(rounds.stops_of(session, route))
    assets = {
        asset.id: asset
        for asset in session.scalars(select(Asset).where(col(Asset.id).in_({stop.asset_id for stop in stops})))
    }
    on_route = {stop.point_id for stop in stops}
    candidates = [
        point
        for point in session.scalars(
            select(MeasurementPoint)
            .where(col(MeasurementPoint.workshop_id) == route.workshop_id, col(MeasurementPoint.is_active))
            .order_by(col(MeasurementPoint.code))
        )
        if point.id not in on_route
    ]
    points = {
        point.id: point
        for point in session.scalars(
            select(MeasurementPoint).where(col(MeasurementPoint.id).in_({s.point_id for s in stops if s.point_id}))
        )
    }
    recent = session.scalars(
        select(InspectionRound)
        .where(col(InspectionRound.route_id) == route.id)
        .order_by(col(InspectionRound.period_start).desc())
        .limit(10)
    ).all()
    context = {
        "route": route,
        "workshop": session.get(Workshop, route.workshop_id),
        "stops": stops,
        "assets": assets,
        "points": points,
        "candidates": candidates,
        "recent": recent,
        "completion": rounds.completion_by_route(session, [route], days=COMPLETION_DAYS)[route.id or 0],
        "completion_days": COMPLETION_DAYS,
        "can_write": can_write_in(session, user, route.workshop_id),
        "is_missed": rounds.is_missed,
        "values": values or {},
        "errors": errors or {},
        **_helpers(),
    }
    return render(request, "inspections/route.html", context, status_code=status_code)


@router.get("/rounds/routes/{route_id:int}")
def route_page(request: Request, session: SessionDep, user: CurrentUser, route_id: RecordId) -> Response:
    return _route_page(request, session, user, rounds.get_route_or_raise(session, route_id))


@router.post("/rounds/routes/{route_id:int}/stops")
def add_stop(request: Request, session: SessionDep, user: WriterUser, route_id: RecordId, form: FormDep) -> Response:
    """A reading stop (a point of the workshop) or a check (an asset's tag and the question)."""
    route = rounds.get_route_or_raise(session, route_id)
    values: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    errors: dict[str, str] = {}
    if values.get("kind") == "check":
        errors = resolve_asset_tag(session, values)
        values.pop("point_id", None)
        if not str(values.get("check_text", "")).strip():
            errors["check_text"] = _("Enter what to check, e.g. 机封无泄漏.")
    else:
        values.pop("check_text", None)
        values.pop("asset_id", None)
        if not str(values.get("point_id", "")).isdigit():
            errors["point_id"] = _("Choose a measurement point.")
    if not errors:
        data, errors = validate_form(StopFields, values)
        if data is not None:
            try:
                rounds.add_stop(session, route, data, actor=user)
            except ValidationFailed as error:
                errors = _service_errors(error)
            else:
                add_toast(request, _("Stop added."))
                return redirect(request, f"/rounds/routes/{route.id}#stops")
    errors.setdefault("__all__", _("The stop was not added."))
    if "asset_id" in errors:
        errors.setdefault("asset_tag", errors.pop("asset_id"))
    return _route_page(request, session, user, route, values=values, errors=errors, status_code=422)


@router.post("/rounds/routes/{route_id:int}/stops/{stop_id:int}/move")
def move_stop(
    request: Request, session: SessionDep, user: WriterUser, route_id: RecordId, stop_id: RecordId, form: FormDep
) -> Response:
    route = rounds.get_route_or_raise(session, route_id)
    stop = rounds.get_stop_or_raise(session, route.id or 0, stop_id)
    rounds.move_stop(session, route, stop, -1 if form.get("direction") == "up" else 1, actor=user)
    return redirect(request, f"/rounds/routes/{route.id}#stops")


@router.post("/rounds/routes/{route_id:int}/stops/{stop_id:int}/delete")
def remove_stop(
    request: Request, session: SessionDep, user: WriterUser, route_id: RecordId, stop_id: RecordId
) -> Response:
    route = rounds.get_route_or_raise(session, route_id)
    stop = rounds.get_stop_or_raise(session, route.id or 0, stop_id)
    rounds.remove_stop(session, route, stop, actor=user)
    add_toast(request, _("Stop removed from the route."))
    return redirect(request, f"/rounds/routes/{route.id}#stops")
