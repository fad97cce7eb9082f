"""Security mechanisms that know no domain: password hashing, CSRF, API token
secrets, request ids and response headers.

Who the current user is (and which roles and scopes they hold) is answered in
``org/auth.py``, which owns the User model.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from contextvars import ContextVar

from fastapi import Request
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maintenance.exceptions import CsrfFailed, FieldError, ValidationFailed
from maintenance.i18n import N_
from maintenance.i18n import gettext as _

_password_hash = PasswordHash((Argon2Hasher(),))
_request_id: ContextVar[str] = ContextVar("maintenance_request_id", default="")

CSRF_SESSION_KEY = "csrf"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
API_PREFIX = "/api/"

# The scopes an API token may carry; each endpoint asks for one.
API_SCOPES: dict[str, str] = {
    "assets:read": N_("Read the asset registry"),
    "assets:write": N_("Create and change assets"),
    "orders:read": N_("Read work orders and PM plans"),
    "orders:write": N_("Create work orders"),
    "readings:read": N_("Read measurement points, readings and alarms"),
    "readings:write": N_("Send readings"),
    "special:read": N_("Read the special-equipment register and its coverage"),
    "leakfree:read": N_("Read the leak-free rates, certifications and progress"),
    "budget:read": N_("Read the repair-cost budget: plan, actual, committed and forecast"),
    "scorecard:read": N_("Read the year's scorecard: every figure with its target and state"),
}


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _password_hash.verify(password, password_hash)


def dummy_verify() -> None:
    """Spend the same time as a real check so unknown usernames are not revealed by timing."""
    _password_hash.verify("not-the-password", _DUMMY_HASH)


_DUMMY_HASH = _password_hash.hash("dummy-password-for-timing")


# --- CSRF ---------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (synchroniser-token pattern)."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return str(token)


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: every unsafe request outside the token-authenticated API
    must echo the session's token in the ``X-CSRF-Token`` header (htmx) or the
    ``csrf_token`` form field (plain forms). New routes are covered automatically."""
    if request.method in SAFE_METHODS or request.url.path.startswith(API_PREFIX):
        return
    expected = request.session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # Starlette caches the parsed form for the endpoint
        value = form.get(CSRF_FORM_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise CsrfFailed()


# --- NUL characters -----------------------------------------------------------------------

NUL = "\x00"


def nul_refused(field: str) -> ValidationFailed:
    return ValidationFailed(_("Some input is not valid."), [FieldError(field, _("Remove the NUL character (\\0)."))])


async def refuse_nul_characters(request: Request) -> None:
    """App-wide dependency: no address, query parameter or form field may carry a NUL character.
    No text of the plant contains one, and PostgreSQL can neither store nor compare it (a NUL
    reaching a query was a 500). JSON bodies are checked by the models that read them."""
    if NUL in request.scope.get("path", ""):
        raise nul_refused("path")
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise nul_refused(name.replace(NUL, ""))
    if request.method not in SAFE_METHODS and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # Starlette caches the parsed form for the endpoint
        for name, field in form.multi_items():
            text = field if isinstance(field, str) else (field.filename or "")
            if NUL in name or NUL in text:
                raise nul_refused(name.replace(NUL, ""))


# --- API tokens ---------------------------------------------------------------------------

TOKEN_PREFIX = "mt_"  # noqa: S105 (a marker, not a secret)


def new_api_token() -> tuple[str, str]:
    """(plaintext shown once, SHA-256 hex stored). Tokens are random, so a fast hash is enough."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return plaintext, hash_api_token(plaintext)


def hash_api_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


# --- Request context ----------------------------------------------------------------------


def set_request_id(request_id: str | None = None) -> str:
    """Tag what follows (change-log rows, log lines) with a request id; CLI commands set one too."""
    value = request_id or uuid.uuid4().hex
    _request_id.set(value)
    return value


def current_request_id() -> str:
    return _request_id.get()


# --- Middleware ---------------------------------------------------------------------------

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class RequestContextMiddleware:
    """Gives each request an id (kept from ``X-Request-ID`` when sent) for the change log
    and logs, and adds the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = MutableHeaders(scope=scope).get("x-request-id", "")
        request_id = set_request_id(sent if sent.isalnum() and len(sent) <= 64 else None)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Request-ID"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_headers)
