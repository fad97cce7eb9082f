"""The home page, health check and language switch: pages that belong to no domain.

The home page shows one card per domain; each domain declares its own (``HOME_CARD`` beside its
router) and main.py, which knows every domain, hands them to the app as ``app.state.home_cards``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, NamedTuple

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from maintenance.db import SessionDep
from maintenance.i18n import KNOWN_LOCALES, LOCALE_COOKIE
from maintenance.org.auth import CurrentUser
from maintenance.org.models import User
from maintenance.web import redirect, render

router = APIRouter(include_in_schema=False)
logger = logging.getLogger(__name__)


class HomeCard(NamedTuple):
    """A domain's card on the home page; ``title`` and ``text`` are msgids (``N_``), translated when drawn;
    ``fragment``, if any, is the domain's route whose figures the card loads with htmx;
    ``shown_to``, if any, says who gets the card (none leads to a page that would refuse them)."""

    href: str
    icon: str
    title: str
    text: str
    fragment: str | None = None
    shown_to: Callable[[User], bool] | None = None


@router.get("/")
def home_page(request: Request, user: CurrentUser) -> Response:
    cards = [card for card in request.app.state.home_cards if card.shown_to is None or card.shown_to(user)]
    return render(request, "home/page.html", {"cards": cards})


@router.post("/language")
def switch_language(request: Request, lang: Annotated[str, Form()]) -> Response:
    back = request.headers.get("referer") or "/"
    # Only our own pages: the Referer could name another host.
    if not back.startswith(str(request.base_url)):
        back = "/"
    response = redirect(request, back)
    if lang in KNOWN_LOCALES:
        response.set_cookie(LOCALE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


@router.get("/healthz")
def healthz(session: SessionDep) -> Response:
    """For load balancers and monitoring: 200 when the database answers, 503 when it does not."""
    try:
        session.execute(text("SELECT 1"))
    except OperationalError as error:
        logger.warning("health check: database unreachable: %s", error)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "reachable"})


@router.get("/api/docs")
def api_docs(request: Request, user: CurrentUser) -> Response:
    """Swagger UI for /openapi.json, served from our own static files (the CSP allows nothing else)."""
    return render(request, "api_docs.html")
