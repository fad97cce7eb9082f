"""The API tokens page: each user sees, creates and revokes their own tokens, admins every
user's. A new token's secret is shown once, on the page that answers its creation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from maintenance.db import SessionDep, plant_today, utcnow
from maintenance.exceptions import MaintenanceError
from maintenance.i18n import gettext as _
from maintenance.org import permissions, service
from maintenance.org.auth import CurrentUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability
from maintenance.security import API_SCOPES
from maintenance.web import FormDep, RecordId, add_toast, field_errors, paginate, redirect, render, validate_form

router = APIRouter(include_in_schema=False)


class TokenForm(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_on: date


def _page(
    request: Request,
    session: SessionDep,
    user: User,
    *,
    page: int = 1,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    created: tuple[Any, str] | None = None,
    status_code: int = 200,
) -> Response:
    # Admins see every user's tokens, everyone else their own.
    owner_id = None if permissions.can(user, Capability.ADMINISTER) else user.id
    tokens = paginate(session, service.list_api_tokens(owner_id), page, scalars=False)
    today = plant_today()
    allowed = service.allowed_scopes(user.role)
    defaults = {
        "expires_on": (today + timedelta(days=service.DEFAULT_TOKEN_DAYS)).isoformat(),
        "scopes": sorted(service.READ_SCOPES & allowed),
    }
    headers = {"Cache-Control": "no-store"} if created else None
    return render(
        request,
        "org/tokens.html",
        {
            "page": tokens,
            "now": utcnow(),
            "show_owner": owner_id is None,
            "scopes": [(scope, API_SCOPES[scope]) for scope in API_SCOPES if scope in allowed],
            "values": values or defaults,
            "errors": errors or {},
            "created": created,
            "max_date": (today + timedelta(days=service.MAX_TOKEN_DAYS)).isoformat(),
            "min_date": (today + timedelta(days=1)).isoformat(),
        },
        status_code=status_code,
        block="results" if not created and not errors else "content",
        headers=headers,
    )


@router.get("/tokens")
def tokens_page(
    request: Request, session: SessionDep, user: CurrentUser, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> Response:
    return _page(request, session, user, page=page)


@router.post("/tokens")
def create_token(request: Request, session: SessionDep, user: CurrentUser, form: FormDep) -> Response:
    """A token for the user themselves, with scopes their role allows; its secret is on this page only."""
    scopes = [value for value in form.getlist("scopes") if isinstance(value, str)]
    values: dict[str, Any] = {
        "name": str(form.get("name", "")),
        "expires_on": str(form.get("expires_on", "")),
        "scopes": scopes,
    }
    data, errors = validate_form(TokenForm, {"name": values["name"], "expires_on": values["expires_on"]})
    if data is not None:
        try:
            expires_at = service.token_expiry(until=data.expires_on)
            token, plaintext = service.create_api_token(
                session, user, name=data.name, scopes=scopes, actor=user, expires_at=expires_at
            )
        except MaintenanceError as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Token %(name)s created.", name=token.name))
            return _page(request, session, user, created=(token, plaintext), status_code=201)
    return _page(request, session, user, values=values, errors=errors, status_code=422)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, session: SessionDep, user: CurrentUser, token_id: RecordId) -> Response:
    token = service.get_api_token_or_raise(session, token_id)
    service.revoke_api_token(session, token, actor=user)
    add_toast(request, _("Token %(name)s (%(prefix)s…) revoked.", name=token.name, prefix=token.prefix))
    return redirect(request, "/tokens")
