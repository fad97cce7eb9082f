"""Who is asking: the session user for pages, the token's user for /api/v1,
and the capability and scope checks every route declares in its signature (capabilities are
:mod:`maintenance.org.permissions`' to define)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from maintenance.db import SessionDep
from maintenance.exceptions import MaintenanceError, NotAuthenticated, PermissionDenied
from maintenance.i18n import gettext as _
from maintenance.org import permissions, service
from maintenance.org.models import User
from maintenance.org.permissions import Capability

SESSION_USER_KEY = "user_id"
# The user's session epoch when the session began; a session whose epoch is no longer the
# user's has ended (logout, a new password or role, deactivation: service.end_sessions).
SESSION_EPOCH_KEY = "epoch"


def login_session(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token too: no session fixation)."""
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id
    request.session[SESSION_EPOCH_KEY] = user.session_epoch


def keep_session(request: Request, user: User) -> None:
    """Keep this session when the user's others were just ended (their own new password)."""
    request.session[SESSION_EPOCH_KEY] = user.session_epoch


def logout_session(request: Request) -> None:
    request.session.clear()


def optional_user(request: Request, session: SessionDep) -> User | None:
    user_id = request.session.get(SESSION_USER_KEY)
    user = service.get_user(session, user_id) if isinstance(user_id, int) else None
    if user is not None and (not user.is_active or request.session.get(SESSION_EPOCH_KEY) != user.session_epoch):
        # The session has ended: its cookie (or a copy of it) is a logged-out visitor's.
        request.session.pop(SESSION_USER_KEY, None)
        request.session.pop(SESSION_EPOCH_KEY, None)
        user = None
    # What pages show of the user (the menu, the name): a copy that belongs to no session. An
    # error page is drawn after the request's transaction was rolled back and its session closed,
    # which leaves the session's own objects expired and detached (nothing could be read of them).
    request.state.user = User.model_validate(user) if user is not None else None
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


def user_with(capability: Capability) -> Callable[[User], User]:
    """The session user, refused unless the policy gives them ``capability``."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        permissions.require(user, capability)
        return user

    return check


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
AdminUser = Annotated[User, Depends(user_with(Capability.ADMINISTER))]
ManagerUser = Annotated[User, Depends(user_with(Capability.MANAGE))]
# Everyone who may change records; auditors read and export only.
WriterUser = Annotated[User, Depends(user_with(Capability.WRITE))]


# --- API ----------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="API token from `maintenance token create`")


class ApiNotAuthenticated(MaintenanceError):
    def __init__(self) -> None:
        super().__init__(_("A valid bearer token is required."), 401)


def api_user(
    security_scopes: SecurityScopes,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiNotAuthenticated()
    user, token = service.user_for_api_token(session, credentials.credentials)
    missing = set(security_scopes.scopes) - token.scope_set
    if missing:
        raise PermissionDenied(_("This token lacks the scope %(scope)s.", scope=" ".join(sorted(missing))))
    # Checked on every use: a user whose role changed keeps only the scopes the new role allows.
    outgrown = set(security_scopes.scopes) - service.effective_scopes(token, user)
    if outgrown:
        raise PermissionDenied(
            _(
                "The scope %(scope)s of this token is not allowed for the role %(role)s.",
                scope=" ".join(sorted(outgrown)),
                role=user.role.label,
            )
        )
    return user


def api_scope(scope: str) -> type[User]:
    """``user: api_scope("assets:read")`` in an API endpoint's signature."""
    return Annotated[User, Security(api_user, scopes=[scope])]  # type: ignore[return-value]
