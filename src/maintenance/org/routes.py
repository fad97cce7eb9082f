"""Login, logout and the admin pages for users and the org tree."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from maintenance.db import SessionDep, UnmanagedSessionDep, transaction
from maintenance.exceptions import MaintenanceError
from maintenance.i18n import gettext as _
from maintenance.org import logins, permissions, service
from maintenance.org.auth import AdminUser, OptionalUser, keep_session, login_session, logout_session
from maintenance.org.models import (
    Role,
    SiteCreate,
    UnitCreate,
    UnitUpdate,
    UserCreate,
    UserUpdate,
    WorkshopCreate,
    WorkshopUpdate,
)
from maintenance.web import FormDep, RecordId, add_toast, field_errors, paginate, redirect, render, validate_form

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after login would help phishing."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


# --- Login --------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return redirect(request, _safe_next(next))
    return render(request, "org/login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(request: Request, session: UnmanagedSessionDep, form: FormDep) -> Response:
    """Three steps (org.logins): read who it is, check the password with no transaction open
    (argon2 is slow; on SQLite a write transaction would hold the one write lock meanwhile), then
    record the outcome in a short write transaction."""
    username = str(form.get("username", ""))
    next_url = _safe_next(str(form.get("next", "")))
    try:
        with transaction(session, read_only=True):
            candidate = logins.begin_login(session, username, request.client.host if request.client else "")
        password_ok = logins.check_password(candidate, str(form.get("password", "")))
        with transaction(session):
            outcome = logins.record_login(session, candidate, password_ok)
        # Refused after the transaction: the failure is committed and counts towards the lock.
        if isinstance(outcome, logins.LoginRefused):
            raise outcome
    except logins.LoginRefused as refused:
        return render(
            request,
            "org/login.html",
            {"next": next_url, "error": refused.message, "username": username},
            status_code=refused.status_code,
        )
    login_session(request, outcome)
    return redirect(request, next_url)


@router.post("/logout")
def logout(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """Ends every session of the user, not only this one: a copy of this session's cookie (or a
    session the user forgot on another computer) must not stay valid until it expires."""
    if user is not None:
        service.end_sessions(session, user)
    logout_session(request)
    add_toast(request, _("You have logged out."), "info")
    return redirect(request, "/login")


# --- Users --------------------------------------------------------------------------------


@router.get("/admin/users")
def users_page(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    q: str | None = None,
    role: Annotated[Role | None, Query()] = None,
    page: int = 1,
) -> Response:
    filters = service.UserFilters(q=q, role=role)
    users = paginate(session, service.list_users(filters), page)
    workshops = service.workshops_by_user(session, [u.id for u in users.items])
    return render(
        request,
        "org/users.html",
        {"page": users, "filters": filters, "workshops": workshops, "roles": Role},
        block="results",
    )


def _user_form(
    request: Request,
    session: SessionDep,
    user: object | None,
    values: Mapping[str, object],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "org/user_form.html",
        {
            "edited": user,
            "values": values,
            "errors": errors,
            "roles": Role,
            "all_workshops": service.list_workshops(session),
        },
        status_code=status_code,
    )


def _submitted_values(form: FormDep) -> dict[str, object]:
    """What the user typed, to show the form again with their input (never the password)."""
    values: dict[str, object] = {
        key: value for key, value in form.items() if isinstance(value, str) and key != "password"
    }
    values["workshop_ids"] = [int(w) for w in form.getlist("workshop_ids") if isinstance(w, str) and w.isdigit()]
    values["is_active"] = "is_active" in form
    return values


@router.get("/admin/users/new")
def new_user_page(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    return _user_form(request, session, None, {"role": Role.ENGINEER.value, "is_active": True, "workshop_ids": []}, {})


@router.post("/admin/users/new")
def create_user(request: Request, session: SessionDep, admin: AdminUser, form: FormDep) -> Response:
    values = _submitted_values(form)
    data, errors = validate_form(UserCreate, form, lists=("workshop_ids",))
    if data is not None:
        data.is_active = "is_active" in form
        try:
            user = service.create_user(session, data, actor=admin)
        except MaintenanceError as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("User %(name)s created.", name=user.username))
            return redirect(request, "/admin/users")
    return _user_form(request, session, None, values, errors, status_code=422)


@router.get("/admin/users/{user_id}")
def edit_user_page(request: Request, session: SessionDep, admin: AdminUser, user_id: RecordId) -> Response:
    user = service.get_user_or_raise(session, user_id)
    values = {**user.model_dump(), "workshop_ids": permissions.workshop_ids_of(session, user)}
    return _user_form(request, session, user, values, {})


@router.post("/admin/users/{user_id}")
def update_user(request: Request, session: SessionDep, admin: AdminUser, user_id: RecordId, form: FormDep) -> Response:
    user = service.get_user_or_raise(session, user_id)
    values = _submitted_values(form) | {"username": user.username}
    data, errors = validate_form(UserUpdate, form, lists=("workshop_ids",))
    if data is not None:
        data.is_active = "is_active" in form
        if "workshop_ids" not in form:
            data.workshop_ids = []
        # An emptied address or language is a change to none (an empty input is "not given").
        for contact_field in ("email", "language"):
            if contact_field in form:
                setattr(data, contact_field, getattr(data, contact_field))
        try:
            service.update_user(session, user, data, actor=admin)
        except MaintenanceError as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            if user.id == admin.id:  # their own new password ends their other sessions, not this one
                keep_session(request, user)
            add_toast(request, _("User %(name)s saved.", name=user.username))
            return redirect(request, "/admin/users")
    return _user_form(request, session, user, values, errors, status_code=422)


# --- Org tree -----------------------------------------------------------------------------


@router.get("/admin/org")
def org_tree_page(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    return render(
        request,
        "org/tree.html",
        {
            "sites": service.list_sites(session),
            "workshops": service.list_workshops(session),
            "units": service.list_units(session),
        },
    )


def _create_from_form(
    request: Request,
    form: FormDep,
    model: type[BaseModel],
    create: Callable[[BaseModel], Any],
    done: Callable[[Any], str],
) -> Response:
    """The tree's inline "add" forms: create, then back to the tree with a toast either way."""
    data, errors = validate_form(model, form)
    if data is None:
        add_toast(request, "; ".join(f"{key}: {value}" for key, value in errors.items()), "danger")
    else:
        try:
            created = create(data)
        except MaintenanceError as error:  # refused before anything was written
            add_toast(request, error.message, "danger")
        else:
            add_toast(request, done(created))
    return redirect(request, "/admin/org")


@router.post("/admin/org/sites")
def create_site(request: Request, session: SessionDep, admin: AdminUser, form: FormDep) -> Response:
    return _create_from_form(
        request,
        form,
        SiteCreate,
        lambda data: service.create_site(session, data, actor=admin),  # type: ignore[arg-type]
        lambda site: _("Site %(code)s created.", code=site.code),
    )


@router.post("/admin/org/workshops")
def create_workshop(request: Request, session: SessionDep, admin: AdminUser, form: FormDep) -> Response:
    return _create_from_form(
        request,
        form,
        WorkshopCreate,
        lambda data: service.create_workshop(session, data, actor=admin),  # type: ignore[arg-type]
        lambda workshop: _("Workshop %(code)s created.", code=workshop.code),
    )


@router.post("/admin/org/units")
def create_unit(request: Request, session: SessionDep, admin: AdminUser, form: FormDep) -> Response:
    return _create_from_form(
        request,
        form,
        UnitCreate,
        lambda data: service.create_unit(session, data, actor=admin),  # type: ignore[arg-type]
        lambda unit: _("Unit %(code)s created.", code=unit.code),
    )


@router.post("/admin/org/workshops/{workshop_id}")
def rename_workshop(
    request: Request, session: SessionDep, admin: AdminUser, workshop_id: RecordId, form: FormDep
) -> Response:
    workshop = service.get_workshop_or_raise(session, workshop_id)
    data, errors = validate_form(WorkshopUpdate, form)
    if data is None:
        add_toast(request, "; ".join(errors.values()), "danger")
    else:
        service.update_workshop(session, workshop, data, actor=admin)
        add_toast(request, _("Workshop %(code)s saved.", code=workshop.code))
    return redirect(request, "/admin/org")


@router.post("/admin/org/workshops/{workshop_id}/delete")
def delete_workshop(request: Request, session: SessionDep, admin: AdminUser, workshop_id: RecordId) -> Response:
    workshop = service.get_workshop_or_raise(session, workshop_id)
    service.delete_workshop(session, workshop, actor=admin)
    add_toast(request, _("Workshop %(code)s deleted.", code=workshop.code))
    return redirect(request, "/admin/org")


@router.post("/admin/org/units/{unit_id}")
def rename_unit(request: Request, session: SessionDep, admin: AdminUser, unit_id: RecordId, form: FormDep) -> Response:
    unit = service.get_unit_or_raise(session, unit_id)
    data, errors = validate_form(UnitUpdate, form)
    if data is None:
        add_toast(request, "; ".join(errors.values()), "danger")
    else:
        service.update_unit(session, unit, data, actor=admin)
        add_toast(request, _("Unit %(code)s saved.", code=unit.code))
    return redirect(request, "/admin/org")


@router.post("/admin/org/units/{unit_id}/delete")
def delete_unit(request: Request, session: SessionDep, admin: AdminUser, unit_id: RecordId) -> Response:
    unit = service.get_unit_or_raise(session, unit_id)
    service.delete_unit(session, unit, actor=admin)
    add_toast(request, _("Unit %(code)s deleted.", code=unit.code))
    return redirect(request, "/admin/org")
