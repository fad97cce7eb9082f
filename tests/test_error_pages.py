"""Errors are pages, never 500s: refused, missing and malformed requests as a browser meets them.

The pages are asked of a live server (uvicorn in a subprocess on a small plant of its own, see
``tests/live_server.py``), not of the in-process test client: the client shares the test's
session, which stays open however a request ends, while the served app rolls the request's
session back and closes it before the error page is drawn, so only the live server shows what
a signed-in user gets then (issue 11: every error page was a 500).

Every page route is read from the app's route table and walked as each role, so a page added
later is covered without anyone listing it here.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from maintenance.main import create_app
from maintenance.security import CONTENT_SECURITY_POLICY
from tests.conftest import csrf_token, fill, route_table
from tests.live_server import DEMO_PASSWORD, live_database, run_python, server_env, serving

# A demo user of each role (seed/org/users.csv); None is an anonymous visitor.
USERS: dict[str, str | None] = {
    "anonymous": None,
    "engineer": "zhanggong",
    "manager": "wangzr",
    "auditor": "chensj",
    "admin": "admin",
}
# The rounds' service worker is fetched by the browser for update checks whoever is logged in
# (it holds no data; the pages it keeps are the user's own).
PUBLIC_PAGES = {"/login", "/healthz", "/openapi.json", "/rounds/sw.js"}
PAGES = [path for method, path in route_table(create_app()) if method == "GET" and not path.startswith("/api/v1/")]
# Beyond PostgreSQL's integer (the ids' type) and beyond SQLite's 64-bit integer.
TOO_BIG_IDS = ["2147483648", "99999999999999999999"]

ERROR_PAGE = 'data-testid="error-page"'
USER_MENU = 'data-testid="current-user"'


@dataclass(frozen=True)
class LivePlant:
    url: str
    ids: dict[str, object]  # a record id for each path parameter of the pages (tests/live_server.py)


@pytest.fixture(scope="module")
def plant() -> Iterator[LivePlant]:
    """The small plant served on a database of its own (PostgreSQL when the suite runs on it)."""
    tmp = Path(tempfile.mkdtemp(prefix="maintenance-live-"))
    try:
        with live_database(tmp) as database_url:
            env = server_env(tmp, database_url)
            ids = json.loads(run_python(env, "tests.live_server", "seed").strip().splitlines()[-1])
            with serving(env, tmp) as url:
                yield LivePlant(url, ids)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def browser(plant: LivePlant, role: str) -> Iterator[httpx2.Client]:
    """A client with cookies of its own, signed in as the demo user of ``role`` through the login form."""
    with httpx2.Client(base_url=plant.url, follow_redirects=False, timeout=60) as client:
        username = USERS[role]
        if username is not None:
            form = {"username": username, "password": DEMO_PASSWORD, "csrf_token": csrf_token(client), "next": "/"}
            response = client.post("/login", data=form)
            assert response.status_code == 303, response.text
        yield client


@pytest.fixture(scope="module")
def auditor(plant: LivePlant) -> Iterator[httpx2.Client]:
    with browser(plant, "auditor") as client:
        yield client


@pytest.fixture(scope="module")
def admin(plant: LivePlant) -> Iterator[httpx2.Client]:
    with browser(plant, "admin") as client:
        yield client


def assert_full_error_page(response: httpx2.Response, status_code: int) -> None:
    """The error is a whole page: the layout with the signed-in user's menu, and the reason."""
    assert response.status_code == status_code, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    assert ERROR_PAGE in response.text
    assert USER_MENU in response.text
    assert 'id="nav-main"' in response.text


# --- Refused, missing and malformed: a page with the menu (issue 11, 1) -------------------


@pytest.mark.parametrize(
    ("path", "status_code"),
    [
        ("/assets/{asset_id}/edit", 403),  # auditors read and export, never edit
        ("/orders/new", 403),
        ("/assets/999999", 404),
        ("/assets?page=x", 422),
    ],
)
def test_an_error_is_a_full_page_for_a_signed_in_user(
    plant: LivePlant, auditor: httpx2.Client, path: str, status_code: int
) -> None:
    response = auditor.get(fill(path, plant.ids))

    assert_full_error_page(response, status_code)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


# --- No link leads nowhere (issue 11, 6) --------------------------------------------------

_LINK = re.compile(r'<a [^>]*href="(/[^"#?]*)"')


@pytest.mark.parametrize("role", ["engineer", "auditor", "admin"])
def test_every_link_of_the_menu_and_the_home_page_opens_a_page(plant: LivePlant, role: str) -> None:
    """A module not built yet has no menu item or home card: none leads to a placeholder or an error."""
    with browser(plant, role) as client:
        home = client.get("/")
        links = set(_LINK.findall(home.text)) - {"/"}

        # A menu item may lead through a redirect (the budget grid opens on this year's).
        answers = {link: client.get(link, follow_redirects=True).status_code for link in sorted(links)}

    assert {"/assets", "/orders", "/monitoring", "/rounds", "/audit"} <= links
    assert not [link for link in links if link.startswith("/soon")]
    assert {link: status for link, status in answers.items() if status != 200} == {}


# --- Ids beyond the database's integers (issue 11, 4; the route table: test_record_ids.py) ---


@pytest.mark.parametrize(
    ("query", "status_code"),
    [
        # A list filter with an impossible id is ignored, as any bad filter value is.
        ("/assets?workshop_id={n}&unit_id={n}", 200),
        ("/orders?workshop_id={n}&asset_id={n}&turnaround_id={n}", 200),
        ("/orders/kpis?workshop_id={n}", 200),
        ("/pm-plans?workshop_id={n}&asset_id={n}", 200),
        ("/stocktakes?workshop_id={n}", 200),
        ("/monitoring?workshop_id={n}&asset_id={n}&unit_id={n}", 200),
        ("/monitoring/thickness?workshop_id={n}", 200),
        ("/rounds?workshop_id={n}", 200),
        # A form's preset record is refused.
        ("/orders/new?asset_id={n}", 422),
        ("/pm-plans/new?asset_id={n}", 422),
        ("/monitoring/points/new?asset_id={n}", 422),
        ("/assets/new?parent_id={n}", 422),
    ],
)
@pytest.mark.parametrize("too_big", TOO_BIG_IDS)
def test_an_id_in_the_query_beyond_the_database_integer_never_reaches_the_database(
    admin: httpx2.Client, query: str, status_code: int, too_big: str
) -> None:
    response = admin.get(query.format(n=too_big))

    if status_code == 200:
        assert response.status_code == 200, response.text[:2000]
    else:
        assert_full_error_page(response, status_code)


# --- Every page as every role (issue 11, 7) -----------------------------------------------


@pytest.mark.parametrize("role", list(USERS))
def test_every_page_answers_every_role_without_a_server_error(plant: LivePlant, role: str) -> None:
    """Each GET page of the route table, with ids of records that exist, as a full page and as
    the htmx fragment: never a 5xx; a refusal or a missing record is a full page with the menu.
    An anonymous visitor is sent to the login page from everything but the public pages."""
    failures: dict[str, str] = {}
    with browser(plant, role) as client:
        for path in PAGES:
            url = fill(path, plant.ids)
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                problem = _problem(role, path, response, htmx=bool(headers))
                if problem:
                    failures[f"{'htmx ' if headers else ''}{url}"] = problem

    assert failures == {}


def _problem(role: str, path: str, response: httpx2.Response, *, htmx: bool) -> str:
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:300]}"
    if role == "anonymous" and path not in PUBLIC_PAGES:
        return (
            "" if status == 303 or (htmx and response.headers.get("HX-Redirect")) else f"{status}, not sent to log in"
        )
    if htmx or status < 400:
        return ""
    if ERROR_PAGE not in response.text or USER_MENU not in response.text:
        return f"{status} without the error page and the menu"
    return ""


# --- The security headers on a server error (issue 11, 2) ---------------------------------


def test_a_server_error_is_a_page_with_the_security_headers(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")

    assert response.status_code == 500
    assert ERROR_PAGE in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-request-id"]
