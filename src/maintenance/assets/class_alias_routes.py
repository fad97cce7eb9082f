"""The administrators' page of equipment class aliases (离心泵 → 泵 PU): the list, an add form and
a delete button per alias (asked to confirm). Under /admin beside users and the org tree; the
asset domain owns it because the classes are the registry's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from maintenance.assets import class_aliases
from maintenance.assets.choices import AssetClass
from maintenance.assets.models import AssetClassAliasCreate
from maintenance.db import SessionDep
from maintenance.exceptions import ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.auth import AdminUser
from maintenance.web import FormDep, RecordId, add_toast, field_errors, redirect, render, validate_form

router = APIRouter(include_in_schema=False)

PAGE = "/admin/asset-class-aliases"


def _page(
    request: Request,
    session: Session,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    aliases = class_aliases.list_aliases(session)
    counts = dict.fromkeys(AssetClass, 0)
    for alias in aliases:
        counts[alias.asset_class] += 1
    return render(
        request,
        "assets/class_aliases.html",
        {
            "aliases": aliases,
            "counts": counts,
            "classes": AssetClass,
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get(PAGE)
def alias_page(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    return _page(request, session)


@router.post(PAGE)
def add_alias(request: Request, session: SessionDep, admin: AdminUser, form: FormDep) -> Response:
    values = {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}
    data, errors = validate_form(AssetClassAliasCreate, form)
    if data is not None:
        try:
            alias = class_aliases.create_alias(session, data, actor=admin)
        except ValidationFailed as error:
            errors = field_errors(error.errors)
        else:
            add_toast(
                request,
                _("“%(alias)s” is now read as %(label)s.", alias=alias.alias, label=alias.asset_class.label),
            )
            return redirect(request, PAGE)
    return _page(request, session, values, errors, status_code=422)


@router.post(PAGE + "/{alias_id}/delete")
def delete_alias(request: Request, session: SessionDep, admin: AdminUser, alias_id: RecordId) -> Response:
    alias = class_aliases.get_alias_or_raise(session, alias_id)
    class_aliases.delete_alias(session, alias, actor=admin)
    add_toast(request, _("Alias “%(alias)s” deleted.", alias=alias.alias))
    return redirect(request, PAGE)
