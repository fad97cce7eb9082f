"""The target, baseline years and allocation grid of a budget year, and the plan's XLSX import
(managers and admins).

- ``/budget/{year}/target``: the target and note, the three baseline years' actual cost, in 万元;
  a stale form is the 409 conflict page.
- ``/budget/{year}/allocation``: the grid; each cell is saved on its own (``…/cell``) and answers
  with the normalised cell and the totals it changes as out-of-band swaps.
- ``/budget/{year}/allocation/import``: upload → preview with every error → confirm (the file is
  kept in the content-addressed store and named by its SHA-256; it replaces the allocation).
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from maintenance import files
from maintenance.budget import allocations, plan_import, rules, service
from maintenance.budget.allocations import CellKey, TargetInput
from maintenance.budget.grid import CATEGORIES, MONTHS, AllocationGrid, allocation_grid, wan_input
from maintenance.budget.models import BudgetYearFields
from maintenance.budget.period import YearPath
from maintenance.budget.plan_import import PlanImportFailed, PlanReport
from maintenance.db import MAX_RECORD_ID, SessionDep, plant_today
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.exports import content_disposition
from maintenance.i18n import format_wan_cny
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostCategory
from maintenance.org import service as org_service
from maintenance.org.auth import ManagerUser
from maintenance.spreadsheets import ImportFileError
from maintenance.web import (
    FormDep,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    is_htmx,
    redirect,
    render,
    render_toasts_only,
    validate_form,
)

router = APIRouter(include_in_schema=False)


def _target_url(year: int) -> str:
    return f"/budget/{year}/target"


def _grid_url(year: int) -> str:
    return f"/budget/{year}/allocation"


def _import_url(year: int) -> str:
    return f"/budget/{year}/allocation/import"


@router.get("/budget/allocation")
def allocation_this_year(request: Request, user: ManagerUser) -> Response:
    return redirect(request, _grid_url(plant_today().year))


# --- The target and the baseline years --------------------------------------------------------


def _baseline_field(year: int) -> str:
    return f"baseline_{year}"


def _stored_target_values(session: Session, year: int) -> dict[str, str]:
    budget = service.budget_year(session, year)
    values = {_baseline_field(b.year): wan_input(b.actual_cny) for b in service.baselines_of(session, year)}
    if budget is not None:
        values |= {"target": wan_input(budget.target_cny), "note": budget.note, "version": str(budget.version)}
    return values


def _target_page(
    request: Request,
    session: Session,
    year: int,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    budget = service.budget_year(session, year)
    baseline = rules.baseline([b.actual_cny for b in service.baselines_of(session, year)])
    change = rules.change_against(budget.target_cny, baseline) if budget else None
    return render(
        request,
        "budget/target.html",
        {
            "year": year,
            "budget": budget,
            "baseline": baseline,
            "change": change,
            "baseline_years": [(y, _baseline_field(y)) for y in rules.baseline_years(year)],
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/budget/{year}/target")
def target_page(request: Request, session: SessionDep, user: ManagerUser, year: YearPath) -> Response:
    return _target_page(request, session, year, _stored_target_values(session, year), {})


def _amount(values: dict[str, str], name: str, errors: dict[str, str]) -> Decimal | None:
    try:
        return allocations.parse_wan_cny(values.get(name, ""), name)
    except ValidationFailed as error:
        errors[name] = error.message
        return None


def _target_input(values: dict[str, str], year: int) -> tuple[TargetInput | None, dict[str, str]]:
    """The form read: amounts in 万元 to 元, the note and target checked by the model's limits."""
    errors: dict[str, str] = {}
    target = _amount(values, "target", errors)
    if target is None and "target" not in errors:
        errors["target"] = _("Enter the year's target in 10k CNY.")
    baselines = {y: _amount(values, _baseline_field(y), errors) for y in rules.baseline_years(year)}
    fields, model_errors = validate_form(
        BudgetYearFields, {"target_cny": str(target or 0), "note": values.get("note", "")}
    )
    errors |= {("target" if name == "target_cny" else name): message for name, message in model_errors.items()}
    version_text = values.get("version", "").strip()
    version = int(version_text) if re.fullmatch(r"[0-9]{1,9}", version_text) else None
    if errors or fields is None:
        return None, errors
    return TargetInput(fields=fields, baselines=baselines, version=version), {}


@router.post("/budget/{year}/target")
def save_target(request: Request, session: SessionDep, user: ManagerUser, year: YearPath, form: FormDep) -> Response:
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    data, errors = _target_input(values, year)
    if data is not None:
        try:
            allocations.set_target(session, year, data, actor=user)
        except Conflict:
            return _target_conflict(request, session, year, data)
        add_toast(request, _("The %(year)s target is saved.", year=year))
        return redirect(request, _target_url(year))
    return _target_page(request, session, year, values, errors, status_code=422)


def _target_conflict(request: Request, session: Session, year: int, mine: TargetInput) -> Response:
    budget = service.budget_year(session, year)
    assert budget is not None  # a conflict is with a stored year

    def display(name: str, value: Any) -> Any:
        return format_wan_cny(value) if name == "target_cny" else value

    labels = {"target_cny": _("Target"), "note": _("Note")}
    return conflict_response(
        request,
        heading=_("Someone else changed the %(year)s target while you were editing it.", year=year),
        changes=differences(budget, mine.fields, labels=labels, display=display),
        audit=("budget_year", budget.id),
        edit_url=_target_url(year),
        back=(_grid_url(year), _("Back to the allocation")),
    )


# --- The allocation grid ----------------------------------------------------------------------


def _grid_context(grid: AllocationGrid) -> dict[str, Any]:
    return {"grid": grid, "categories": CATEGORIES, "months": MONTHS, "wan_input": wan_input}


@router.get("/budget/{year}/allocation")
def allocation_page(request: Request, session: SessionDep, user: ManagerUser, year: YearPath) -> Response:
    return render(request, "budget/allocation.html", _grid_context(allocation_grid(session, year)))


def _cell_key(form: FormDep) -> CellKey | None:
    """The cell a request names, or None when it names none (a hand-made request)."""
    workshop, category, month = (str(form.get(name, "")).strip() for name in ("workshop_id", "category", "month"))
    if not (re.fullmatch(r"[0-9]{1,10}", workshop) and re.fullmatch(r"[0-9]{1,2}", month)):
        return None
    if not (1 <= int(workshop) <= MAX_RECORD_ID and 1 <= int(month) <= 12):
        return None
    if category not in {c.value for c in CostCategory}:
        return None
    return CellKey(int(workshop), CostCategory(category), int(month))


@router.post("/budget/{year}/allocation/cell")
def save_cell(request: Request, session: SessionDep, user: ManagerUser, year: YearPath, form: FormDep) -> Response:
    key = _cell_key(form)
    if key is None:
        add_toast(request, _("The cell was not saved: it names no workshop, category and month of the grid."), "danger")
        return render_toasts_only(request, 422)
    typed = str(form.get("amount", ""))
    grid = allocation_grid(session, year)
    try:
        amount = allocations.parse_wan_cny(typed, "amount") or Decimal(0)
        allocations.save_cell(session, grid.budget, key, amount, actor=user)
    except ValidationFailed as error:
        reason = field_errors(error.errors).get("amount", error.message)
        context = _grid_context(grid) | {"key": key, "typed": typed, "error": reason}
        return render(request, "budget/_grid_cell.html", context, status_code=422, block=None)
    if not is_htmx(request):
        return redirect(request, _grid_url(year))
    context = _grid_context(allocation_grid(session, year)) | {"key": key, "error": None}
    return render(request, "budget/_grid_cell.html", context, block=None)


# --- The plan's import ------------------------------------------------------------------------

_TOKEN = re.compile(r"[0-9a-f]{64}")


def _import_page(
    request: Request,
    year: int,
    *,
    report: PlanReport | None = None,
    token: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "budget/plan_import.html",
        {
            "year": year,
            "report": report,
            "token": token,
            "error": error,
            "columns": plan_import.COLUMNS,
            "max_mb": plan_import.MAX_UPLOAD_BYTES // 2**20,
        },
        status_code=status_code,
    )


@router.get("/budget/{year}/allocation/import")
def import_page(request: Request, user: ManagerUser, year: YearPath) -> Response:
    return _import_page(request, year)


@router.get("/budget/{year}/allocation/import/template.xlsx")
def import_template(session: SessionDep, user: ManagerUser, year: YearPath) -> Response:
    codes = [w.code for w in org_service.list_workshops(session)]
    return Response(
        plan_import.template_workbook(codes),
        media_type=plan_import.XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": content_disposition(f"{year}年预算分解导入模板.xlsx", f"budget-plan-{year}.xlsx"),
            "Cache-Control": "no-store",
        },
    )


@router.post("/budget/{year}/allocation/import/preview")
def import_preview(request: Request, session: SessionDep, user: ManagerUser, year: YearPath, form: FormDep) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(request, year, error=_("Choose an XLSX file to upload."), status_code=422)
    content = upload.file.read(plan_import.MAX_UPLOAD_BYTES + 1)
    try:
        plan_import.check_plan_upload(upload.filename, len(content))
    except ImportFileError as error:
        too_large = len(content) > plan_import.MAX_UPLOAD_BYTES
        return _import_page(request, year, error=error.message, status_code=413 if too_large else 422)
    report = plan_import.analyse(session, year, content, actor=user)
    # Only a file the preview offers to import is kept for the confirmation.
    token = files.store_upload(io.BytesIO(content), "budget-plan.xlsx").sha256 if report.importable else ""
    return _import_page(request, year, report=report, token=token, status_code=422 if report.errors else 200)


@router.post("/budget/{year}/allocation/import/confirm")
def import_confirm(request: Request, session: SessionDep, user: ManagerUser, year: YearPath, form: FormDep) -> Response:
    token = str(form.get("token", "")).strip().lower()
    path = files.blob_path(token) if _TOKEN.fullmatch(token) else None
    if path is None or not path.is_file():
        message = _("The uploaded file is no longer available. Upload it again.")
        return _import_page(request, year, error=message, status_code=404)
    try:
        with session.begin_nested():
            report = plan_import.import_plan(session, year, path.read_bytes(), actor=user)
    except PlanImportFailed as failure:
        return _import_page(request, year, report=failure.report, error=failure.message, status_code=422)
    except Conflict as conflict:
        return _import_page(request, year, error=conflict.message, status_code=409)
    assert report.changes is not None
    add_toast(
        request,
        _(
            "The %(year)s allocation is replaced by the file: %(created)s cells added, %(updated)s changed, "
            "%(deleted)s removed.",
            year=year,
            created=report.changes.created,
            updated=report.changes.updated,
            deleted=report.changes.deleted,
        ),
    )
    return redirect(request, _grid_url(year))
