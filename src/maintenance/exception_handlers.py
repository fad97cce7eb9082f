"""The one mapping of errors to HTTP responses.

:func:`add_exception_handlers` registers it on the app; :func:`error_response` chooses the
output: JSON problem details under ``/api/v1/``, a login redirect for a missing session, a toast
for htmx requests, an error page otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from maintenance import web
from maintenance.exceptions import FieldError, MaintenanceError
from maintenance.i18n import N_
from maintenance.i18n import gettext as _

logger = logging.getLogger("maintenance")

_STATUS_TITLES = {
    400: N_("Bad request"),
    401: N_("Login required"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Content too large"),
    422: N_("Invalid input"),
    429: N_("Too many requests"),
    500: N_("Server error"),
}


def status_title(status_code: int) -> str:
    return _(_STATUS_TITLES.get(status_code, N_("Error")))


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(MaintenanceError)
    async def _domain_error(request: Request, exc: MaintenanceError) -> Response:
        return error_response(request, exc.status_code, exc.message, exc.errors)

    @app.exception_handler(StaleDataError)
    async def _stale_version(request: Request, exc: StaleDataError) -> Response:
        # A versioned record saved by someone else since this request loaded it, written outside
        # db.versioned_write (which raises the domain's own Conflict): a conflict all the same.
        return error_response(request, 409, _("Reload the page and try again."))

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            FieldError(
                field=".".join(str(part) for part in error["loc"] if part not in ("body", "query", "path")),
                message=error["msg"],
            )
            for error in exc.errors()
        ]
        return error_response(request, 422, _("Some input is not valid."), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = _("The page or record you asked for does not exist.") if exc.status_code == 404 else str(exc.detail)
        return error_response(request, exc.status_code, message, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
        message = _("Something went wrong on our side. The error has been logged.")
        try:
            return error_response(request, 500, message)
        except Exception:  # the page itself could not be drawn: the reason, plainly
            logger.exception("the error page of %s %s could not be drawn", request.method, request.url.path)
            return PlainTextResponse(message, status_code=500)


def error_response(
    request: Request,
    status_code: int,
    message: str,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """JSON problem details for the API, a login redirect or toast or page for people."""
    errors = errors or []
    # The JSON API, not every path under /api/: pages about it (/api/docs) are for people.
    if request.url.path.startswith("/api/v1/"):
        problem = {
            "type": "about:blank",
            "title": status_title(status_code),
            "status": status_code,
            "detail": message,
            "errors": [error.as_dict() for error in errors],
        }
        extra = {"WWW-Authenticate": "Bearer"} if status_code == 401 else {}
        return JSONResponse(
            problem,
            status_code=status_code,
            headers={**extra, **(headers or {})},
            media_type="application/problem+json",
        )
    if status_code == 401:
        return web.redirect(request, "/login?" + urlencode({"next": _safe_next(request)}))
    if web.is_htmx(request):
        detail = "; ".join(f"{_row_prefix(e)}{e.field}: {e.message}" for e in errors[:5])
        web.add_toast(request, f"{message} {detail}".strip(), "danger")
        return web.render_toasts_only(request, status_code)
    return web.render(
        request,
        "errors/error.html",
        {"status_code": status_code, "title": status_title(status_code), "message": message, "errors": errors},
        status_code=status_code,
        headers=dict(headers or {}),
    )


def _row_prefix(error: FieldError) -> str:
    return _("Row %(row)s, ", row=error.row) if error.row is not None else ""


def _safe_next(request: Request) -> str:
    """Where to return after logging in: the page asked for; after a refused form post
    (a session that expired mid-edit), the home page, since the post cannot be replayed."""
    if request.method != "GET":
        return "/"
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return target
