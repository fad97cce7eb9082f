"""Domain errors: what went wrong, in words a user can act on, and the HTTP status it means.

Services raise these; they never build responses. The mapping to pages, toasts and problem+json
lives in :mod:`maintenance.exception_handlers`, so this module stays a leaf that any module,
core or domain, may import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from maintenance.i18n import gettext as _


@dataclass
class FieldError:
    """One reason an input was refused: which row (1-based, as Excel shows it), which field, why."""

    field: str
    message: str
    row: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class MaintenanceError(Exception):
    message: str
    status_code: int = 400
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class NotAuthenticated(MaintenanceError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("Please log in."), 401)


class PermissionDenied(MaintenanceError):
    def __init__(self, message: str | None = None, errors: list[FieldError] | None = None) -> None:
        super().__init__(message or _("You do not have permission to do this."), 403, errors or [])


class CsrfFailed(PermissionDenied):
    """A state-changing request without the session's CSRF token."""


class NotFound(MaintenanceError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("The page or record you asked for does not exist."), 404)


class Conflict(MaintenanceError):
    """A duplicate key or a stale version: the user's data is fine but clashes with stored data."""

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message, 409, errors or [])


class ValidationFailed(MaintenanceError):
    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message, 422, errors or [])


class MailNotSent(MaintenanceError):
    """The mail server was unreachable or refused the mail (502: the app is fine, its relay is not)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 502)
