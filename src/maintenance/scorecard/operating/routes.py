"""The operating log's pages.

- ``/scorecard/operating?year=&as_of=&workshop_id=&q=``: the year's log as a grid (units grouped
  by workshop × months) with 连运率 and 负荷率 per unit, workshop, month and plant, and each
  workshop's 完好率 on the reference day; the same view answers htmx (the results) and
  ``&export=csv|xlsx``. Everyone reads it.
- ``/scorecard/operating/{year}/{month}``: a month's form, every unit with its three inputs,
  saved at once, all or nothing (422 with the errors by unit and field); engineers enter their
  own workshops' units, the others are shown read-only; a row someone saved since the form was
  loaded is a 409 conflict page. A month after the current one is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import Field
from sqlmodel import Session

from maintenance import exports as core
from maintenance.budget.period import BudgetView, BudgetViewDep, YearPath
from maintenance.db import MAX_RECORD_ID, SessionDep, plant_today
from maintenance.exceptions import Conflict, FieldError, ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.org.auth import CurrentUser
from maintenance.org.models import User
from maintenance.org.permissions import require_writer, writable_workshop_ids
from maintenance.scorecard.operating import rules, service
from maintenance.scorecard.operating.exports import OperatingLogExport
from maintenance.scorecard.operating.grid import MONTHS, entry_text, operating_grid
from maintenance.scorecard.operating.models import OperatingMonthFields
from maintenance.scorecard.operating.rules import MonthEntry
from maintenance.scorecard.operating.service import LogUnit
from maintenance.web import (
    Difference,
    FormDep,
    ListFilters,
    RecordId,
    add_toast,
    conflict_response,
    filters_from_query,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

LIST = "/scorecard/operating"
MonthPath = Annotated[int, Path(ge=1, le=12, description="The month, 1–12")]
FIELDS = ("hours_run", "planned_hours", "load_pct")


def field_labels() -> dict[str, str]:
    return {"hours_run": _("Hours run"), "planned_hours": _("Planned hours"), "load_pct": _("Average load, percent")}


def month_url(year: int, month: int) -> str:
    return f"{LIST}/{year}/{month}"


# --- The year's grid ----------------------------------------------------------------------------


class LogFilters(ListFilters):
    workshop_id: RecordId | None = None
    q: str | None = Field(default=None, max_length=100)


LogFiltersDep = Annotated[LogFilters, Depends(filters_from_query(LogFilters))]


@dataclass(frozen=True)
class _Query:
    """The grid's view and filter as URL parameters (export links keep them)."""

    view: BudgetView
    filters: LogFilters

    def query_params(self) -> dict[str, str]:
        params = {"year": str(self.view.year), "as_of": self.view.as_of.isoformat()}
        return params | self.filters.query_params()


@router.get(LIST)
def operating_log(
    request: Request, session: SessionDep, user: CurrentUser, view: BudgetViewDep, filters: LogFiltersDep
) -> Response:
    grid = operating_grid(session, view.year, view.as_of, workshop_id=filters.workshop_id, q=filters.q)
    export_format = request.query_params.get("export")
    if export_format:
        names = {w.id: w.name for w in grid.workshops}
        export = OperatingLogExport(
            session=session,
            grid=grid,
            workshop_name=None if filters.workshop_id is None else names.get(filters.workshop_id, "?"),
            q=filters.q,
            locale=current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
        )
        return export.response(core.check_format(export_format), request)
    today = plant_today()
    writable = writable_workshop_ids(session, user)
    return render(
        request,
        "scorecard/operating/log.html",
        {
            "grid": grid,
            "view": view,
            "filters": filters,
            "query": _Query(view, filters),
            "months": MONTHS,
            "enterable_until": today.replace(day=1),
            "can_enter": writable is None or bool(writable),
        },
        block="results",
    )


# --- A month's form -----------------------------------------------------------------------------


@dataclass
class FormRow:
    unit: LogUnit
    writable: bool
    stored: MonthEntry | None
    values: dict[str, str]
    errors: dict[str, str]
    was: str


def _stored_values(entry: MonthEntry | None) -> dict[str, str]:
    if entry is None:
        return dict.fromkeys(FIELDS, "")
    return {
        "hours_run": str(entry.hours_run),
        "planned_hours": str(entry.planned_hours),
        "load_pct": str(entry.load_pct),
    }


def _form_rows(session: Session, user: User, month: date, workshop_id: int | None) -> list[FormRow]:
    units = service.log_units(session, workshop_id)
    stored = service.month_entries(session, month, [u.id for u in units])
    writable = writable_workshop_ids(session, user)
    rows = []
    for unit in units:
        entry = service.entry_of(stored[unit.id]) if unit.id in stored else None
        may_write = writable is None or unit.workshop_id in writable
        rows.append(FormRow(unit, may_write, entry, _stored_values(entry), {}, entry_text(entry)))
    return rows


def _month_page(
    request: Request, year: int, month: int, rows: list[FormRow], workshop_id: int | None, status_code: int = 200
) -> Response:
    errors = [
        _(
            "%(unit)s %(code)s, %(field)s: %(reason)s",
            unit=r.unit.name,
            code=r.unit.code,
            field=field_labels()[f],
            reason=m,
        )
        for r in rows
        for f, m in r.errors.items()
    ]
    return render(
        request,
        "scorecard/operating/month.html",
        {
            "year": year,
            "month": month,
            "month_start": date(year, month, 1),
            "hours_in_month": rules.hours_in_month(date(year, month, 1)),
            "rows": rows,
            "errors": errors,
            "labels": field_labels(),
            "workshop_id": workshop_id,
            "back_url": f"{LIST}?year={year}",
        },
        status_code=status_code,
    )


@router.get(LIST + "/{year}/{month}")
def month_form(
    request: Request, session: SessionDep, user: CurrentUser, year: YearPath, month: MonthPath, filters: LogFiltersDep
) -> Response:
    require_writer(user)
    first = date(year, month, 1)
    service.check_not_future(first, plant_today())
    workshop_id = filters.workshop_id
    return _month_page(request, year, month, _form_rows(session, user, first, workshop_id), workshop_id)


_FIELD_KEY = re.compile(r"(hours_run|planned_hours|load_pct|was)-([0-9]{1,10})")


def _submitted(form: FormDep) -> dict[int, dict[str, str]]:
    """The form's values by unit id (``hours_run-12`` …), ids beyond the database's ignored."""
    by_unit: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        match = _FIELD_KEY.fullmatch(key)
        if match is None or not isinstance(value, str) or not 1 <= int(match[2]) <= MAX_RECORD_ID:
            continue
        by_unit.setdefault(int(match[2]), {})[match[1]] = value.strip()
    return by_unit


def _read_row(values: dict[str, str], first: date) -> tuple[MonthEntry | None, dict[str, str]]:
    """A row's entry (None: all three empty, not reported) or its errors by field."""
    typed = {name: values.get(name, "") for name in FIELDS}
    if not any(typed.values()):
        return None, {}
    missing = {name: _("Enter it, or leave the unit's three fields empty.") for name, text in typed.items() if not text}
    if missing:
        return None, missing
    fields, errors = validate_form(OperatingMonthFields, typed)
    if fields is None:
        return None, errors
    entry = MonthEntry(fields.hours_run, fields.planned_hours, fields.load_pct)
    problems = rules.month_problems(entry, first)
    return (None, problems) if problems else (entry, {})


@router.post(LIST + "/{year}/{month}")
def save_month(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    year: YearPath,
    month: MonthPath,
    filters: LogFiltersDep,
    form: FormDep,
) -> Response:
    require_writer(user)
    first = date(year, month, 1)
    today = plant_today()
    service.check_not_future(first, today)
    submitted = _submitted(form)
    service.require_units_writable(session, user, list(submitted))
    workshop_id = filters.workshop_id
    rows = {row.unit.id: row for row in _form_rows(session, user, first, workshop_id)}
    entries: dict[int, MonthEntry | None] = {}
    stale: list[tuple[LogUnit, str, str]] = []
    for unit_id, values in submitted.items():
        entry, errors = _read_row(values, first)
        row = rows.get(unit_id)
        if row is None:  # a hand-made request: a unit the form did not list
            message = _("No such unit in this form: %(id)s.", id=unit_id)
            raise ValidationFailed(message, [FieldError("unit", message)])
        row.values = {name: values.get(name, "") for name in FIELDS}
        row.errors = errors
        if not errors:
            entries[unit_id] = entry
            if "was" in values and values["was"] != row.was and entry != row.stored:
                stale.append((row.unit, row.was, entry_text(entry)))
    if any(row.errors for row in rows.values()):
        return _month_page(request, year, month, list(rows.values()), workshop_id, status_code=422)
    if stale:
        return _stale_month(request, year, month, stale)
    try:
        created, changed, removed = service.save_month(session, first, entries, actor=user, today=today)
    except Conflict as conflict:
        add_toast(request, conflict.message, "danger")
        return _month_page(request, year, month, list(rows.values()), workshop_id, status_code=409)
    add_toast(
        request,
        _(
            "%(month)s saved: %(created)s units added, %(changed)s changed, %(removed)s removed.",
            month=first.strftime("%Y-%m"),
            created=created,
            changed=changed,
            removed=removed,
        ),
    )
    return redirect(request, f"{LIST}?year={year}")


def _stale_month(request: Request, year: int, month: int, stale: list[tuple[LogUnit, str, str]]) -> Response:
    def shown(text: str) -> str:
        return text or _("not reported")

    changes = [Difference(unit.code, unit.name, shown(now), shown(mine)) for unit, now, mine in stale]
    return conflict_response(
        request,
        heading=_(
            "Someone else saved %(month)s of these units while you were editing it.",
            month=date(year, month, 1).strftime("%Y-%m"),
        ),
        changes=changes,
        audit=("operating_month", None),
        edit_url=month_url(year, month),
        back=(f"{LIST}?year={year}", _("Back to the operating log")),
    )
