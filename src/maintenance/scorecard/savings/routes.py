"""The savings ledgers: the list (page, htmx fragment and CSV/XLSX export from one view, with
each ledger's totals against the year's target and the filtered rows' total), and the entries
made by hand: new, edit (409 on a stale version) and delete (asked to confirm, from the version
seen).

The list runs a fixed number of queries whatever the number of rows: the workshops, the year's
targets, the ledgers' totals, the count, the page's rows and the filtered total."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from maintenance import exports as core
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, writable_workshop_ids
from maintenance.scorecard.savings import entries, ledger
from maintenance.scorecard.savings.exports import SavingsExport
from maintenance.scorecard.savings.figures import INDICATOR_OF, LIST
from maintenance.scorecard.savings.ledger import SavingsFiltersDep
from maintenance.scorecard.savings.models import SavingsEntry, SavingsEntryCreate, SavingsEntryUpdate, SavingsKind
from maintenance.scorecard.targets import targets_of_year
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

ENTRY = LIST + "/{savings_entry_id:int}"
FORM_FIELDS = (
    "kind",
    "recorded_on",
    "workshop_id",
    "description",
    "reference",
    "quantity",
    "reference_price_cny",
    "actual_price_cny",
    "note",
    "version",
)


# --- The list -------------------------------------------------------------------------------


@router.get(LIST)
def savings_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: SavingsFiltersDep, page: int = 1
) -> Response:
    filters = filters.for_today(plant_today())
    workshops = org_service.list_workshops(session)
    names = {w.id: w.name for w in workshops if w.id is not None}
    period = filters.period()
    totals = (
        ledger.savings_totals(session, period.start, period.end, filters.workshop_id)
        if period is not None
        else dict.fromkeys(SavingsKind, ledger.LedgerTotal())
    )
    total = ledger.filtered_total(session, filters)
    export_format = request.query_params.get("export")
    if export_format:
        export = SavingsExport(
            session=session,
            filters=filters,
            workshop_names=names,
            totals=totals,
            total=total,
            locale=current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
        )
        return export.response(core.check_format(export_format), request)
    targets = targets_of_year(session, filters.the_year)
    rows = paginate(session, ledger.list_rows(session, filters), page, scalars=False)
    return render(
        request,
        "scorecard/savings/list.html",
        {
            "page": rows,
            "filters": filters,
            "totals": totals,
            "targets": {kind: targets.get(indicator) for kind, indicator in INDICATOR_OF.items()},
            "total": total,
            "workshops": workshops,
            "workshop_names": names,
            "kinds": SavingsKind,
            "can_create": writable_workshop_ids(session, user) != set(),
        },
        block="results",
    )


# --- New and edit ---------------------------------------------------------------------------


def _kind_of(values: dict[str, Any]) -> SavingsKind:
    try:
        return SavingsKind(str(values.get("kind", "")))
    except ValueError:
        return SavingsKind.REFURBISH


def _form_page(
    request: Request,
    session: Session,
    user: User,
    entry: SavingsEntry | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    *,
    can_edit: bool = True,
) -> Response:
    writable = writable_workshop_ids(session, user)
    listed = org_service.list_workshops(session)
    if can_edit:
        workshops = [w for w in listed if writable is None or w.id in writable]
    else:
        workshops = [w for w in listed if entry is not None and w.id == entry.workshop_id]
    kind = _kind_of(values)
    reference_label, actual_label = entries.price_labels(kind)
    return render(
        request,
        "scorecard/savings/form.html",
        {
            "entry": entry,
            "kind": kind,
            "kinds": SavingsKind,
            "values": values,
            "errors": errors,
            "workshops": workshops,
            "plant_wide_allowed": can(user, Capability.WRITE_EVERYWHERE) or not can_edit,
            "reference_label": reference_label,
            "actual_label": actual_label,
            "can_edit": can_edit,
        },
        status_code=status_code,
    )


def _submitted(form: FormDep) -> dict[str, Any]:
    return {key: value for key in FORM_FIELDS if isinstance(value := form.get(key), str)}


@router.get(LIST + "/new")
def new_entry_page(request: Request, session: SessionDep, user: WriterUser) -> Response:
    writable = writable_workshop_ids(session, user)
    values: dict[str, Any] = {
        "kind": _kind_of(dict(request.query_params)).value,
        "recorded_on": plant_today().isoformat(),
        "quantity": "1",
    }
    if writable and len(writable) == 1:
        values["workshop_id"] = str(next(iter(writable)))
    return _form_page(request, session, user, None, values, {})


@router.post(LIST + "/new")
def create_entry(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    values = _submitted(form)
    values.pop("version", None)
    data, errors = validate_form(SavingsEntryCreate, values)
    if data is not None:
        try:
            entry = entries.create_entry(session, data, today=plant_today(), actor=user)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Saving of %(amount)s CNY recorded.", amount=f"{entry.saving_cny:,.2f}"))
            return redirect(request, f"{LIST}?kind={entry.kind.value}&year={entry.recorded_on.year}")
    return _form_page(request, session, user, None, values, errors, status_code=422)


def _may_edit(session: Session, user: User, entry: SavingsEntry) -> bool:
    writable = writable_workshop_ids(session, user)
    if writable is None:
        return True
    return entry.workshop_id is not None and entry.workshop_id in writable


@router.get(ENTRY)
def entry_page(request: Request, session: SessionDep, user: CurrentUser, savings_entry_id: RecordId) -> Response:
    """Everyone reads the entry; the form is for those who may change it."""
    entry = ledger.get_entry_or_raise(session, savings_entry_id)
    values = entry.model_dump(mode="json")
    values["workshop_id"] = "" if entry.workshop_id is None else str(entry.workshop_id)
    return _form_page(request, session, user, entry, values, {}, can_edit=_may_edit(session, user, entry))


@router.post(ENTRY)
def update_entry(
    request: Request, session: SessionDep, user: WriterUser, savings_entry_id: RecordId, form: FormDep
) -> Response:
    entry = ledger.get_entry_or_raise(session, savings_entry_id, for_update=True)
    entries.require_write(session, user, entry.workshop_id)
    values = _submitted(form)
    data, errors = validate_form(SavingsEntryUpdate, values)
    if data is not None:
        try:
            entries.update_entry(session, entry, data, today=plant_today(), actor=user)
        except Conflict:
            return _conflict(request, session, entry, data)
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Savings entry saved: %(amount)s CNY.", amount=f"{entry.saving_cny:,.2f}"))
            return redirect(request, f"{LIST}?kind={entry.kind.value}&year={entry.recorded_on.year}")
    return _form_page(request, session, user, entry, values, errors, status_code=422)


def _field_labels(kind: SavingsKind) -> dict[str, str]:
    reference_label, actual_label = entries.price_labels(kind)
    return {
        "kind": _("Ledger"),
        "recorded_on": _("Date"),
        "workshop_id": _("Workshop"),
        "description": _("Description"),
        "reference": _("Part or tender number"),
        "quantity": _("Quantity"),
        "reference_price_cny": reference_label,
        "actual_price_cny": actual_label,
        "note": _("Note"),
    }


def _conflict(request: Request, session: Session, entry: SavingsEntry, mine: SavingsEntryUpdate | None) -> Response:
    def display(name: str, value: Any) -> Any:
        if name == "workshop_id":
            return _("Plant-wide") if value is None else org_service.get_workshop_or_raise(session, value).name
        if name == "kind":
            return SavingsKind(value).label
        return value

    changes: list[Difference] | None = None
    if mine is not None:
        changes = differences(entry, mine, labels=_field_labels(entry.kind), display=display)
    return conflict_response(
        request,
        heading=_(
            "Someone else changed the savings entry “%(name)s” while you were editing it.", name=entry.description
        ),
        changes=changes,
        note=None if mine is not None else _("Nothing was deleted: the entry changed since you opened it."),
        audit=("savings_entry", entry.id),
        edit_url=f"{LIST}/{entry.id}",
        back=(LIST, _("Back to the savings ledgers")),
    )


@router.post(ENTRY + "/delete")
def delete_entry(
    request: Request, session: SessionDep, user: WriterUser, savings_entry_id: RecordId, form: FormDep
) -> Response:
    entry = ledger.get_entry_or_raise(session, savings_entry_id, for_update=True)
    entries.require_write(session, user, entry.workshop_id)
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        version = -1
    description, kind, year = entry.description, entry.kind, entry.recorded_on.year
    try:
        entries.delete_entry(session, entry, version=version, actor=user)
    except Conflict:
        return _conflict(request, session, entry, None)
    add_toast(request, _("Savings entry “%(name)s” deleted.", name=description))
    return redirect(request, f"{LIST}?kind={kind.value}&year={year}")
