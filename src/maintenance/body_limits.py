"""Request body limits: a body larger than its route allows is refused before anything parses
it, and an anonymous post to an upload route before its body is read at all. Core module: it
knows no domain; ``main.py`` gives the limits per route.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maintenance.exception_handlers import error_response
from maintenance.exceptions import MaintenanceError, NotAuthenticated
from maintenance.i18n import gettext as _
from maintenance.security import SAFE_METHODS


@dataclass(frozen=True)
class BodyLimit:
    """The most a request to the paths ``path`` matches (whole path, a regular expression) may
    send. An upload route also needs a signed-in session before its body is read."""

    path: str
    max_bytes: int
    upload: bool = False


class BodyLimitMiddleware:
    """Refuses a request body larger than its route allows before anything parses it: at once
    from ``Content-Length``, and while it streams in (a chunked body has none). The body of an
    anonymous post to an upload route is not read at all: the login page is the answer.

    Inside the session middleware (it reads the session) and outside the routes: a body that
    grows too large part-way raises a 413 HTTPException from ``receive``, which the routes'
    error handlers draw as the normal error page or problem+json."""

    def __init__(self, app: ASGIApp, *, limits: Sequence[BodyLimit], default_bytes: int, session_user_key: str) -> None:
        self.app = app
        self.limits = [(re.compile(limit.path), limit) for limit in limits]
        self.default = BodyLimit("", default_bytes)
        self.session_user_key = session_user_key

    def limit_for(self, path: str) -> BodyLimit:
        return next((limit for pattern, limit in self.limits if pattern.fullmatch(path)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if (
            limit.upload
            and scope["method"] not in SAFE_METHODS
            and not scope.get("session", {}).get(self.session_user_key)
        ):
            await self._refuse(scope, receive, send, NotAuthenticated())
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit.max_bytes:
            await self._refuse(scope, receive, send, _too_large(limit.max_bytes))
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    too_large = _too_large(limit.max_bytes)
                    raise HTTPException(too_large.status_code, too_large.message)
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, error: MaintenanceError) -> None:
        response = error_response(Request(scope), error.status_code, error.message)
        await response(scope, receive, send)


def _too_large(max_bytes: int) -> MaintenanceError:
    size = f"{max_bytes // 2**20} MB" if max_bytes >= 2**20 else f"{max(max_bytes // 1024, 1)} KB"
    return MaintenanceError(_("The request is too large: this page accepts at most %(limit)s.", limit=size), 413)
