"""Route-level security, checked against the app's own route table.

Every route the app serves is read from the route table at collection time, so a
route added later is covered by these tests without anyone listing it here. The
only lists kept by hand are the deliberate exceptions, each with its reason.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select
from sqlmodel import Session
from starlette.routing import Mount

from maintenance.audit.models import ObjectChange
from maintenance.main import create_app
from maintenance.org.models import Role, User
from tests import factories
from tests.conftest import csrf_token, fill, login, route_table

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_EXEMPT_PREFIX = "/api/"  # token-authenticated, never by cookie
JSON_API_PREFIX = "/api/v1/"

# State-changing routes that work without a logged-in user (they still need the CSRF token).
PUBLIC_ACTIONS = {
    "/login": "submitting credentials is how an anonymous visitor becomes a user",
    "/language": "the language switch is offered on the login page, before anyone has logged in",
    "/logout": "logging out needs no login: it clears whatever session there is and goes to the login page",
}

# Pages an anonymous visitor may read.
PUBLIC_PAGES = {
    "/login": "the login form itself",
    "/healthz": "load balancers and monitoring probe it without credentials",
    "/openapi.json": "the API description is public; every API call still needs a token",
}

# Mounted apps outside the route table's endpoints.
PUBLIC_MOUNTS = {
    "/static": "CSS, JS and fonts the login page needs before anyone has logged in",
}

# Pages that answer with data, not HTML, so they have no htmx fragment to vary on.
NOT_HTML = {
    "/healthz": "JSON for monitoring",
    "/openapi.json": "the API description",
}

# These tests log in some 150 times and are about routes, not password hashing: users get a
# hash with Argon2's cheapest parameters (verification reads the parameters from the hash).
QUICK_PASSWORD_HASH = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1).hash(factories.PASSWORD)


ROUTES = route_table(create_app())
ACTIONS = [(m, p) for m, p in ROUTES if m in STATE_CHANGING and not p.startswith(CSRF_EXEMPT_PREFIX)]
PROTECTED_ACTIONS = [(m, p) for m, p in ACTIONS if p not in PUBLIC_ACTIONS]
# Pages are everything people open in a browser, including pages about the API such as its docs.
PAGES = [p for m, p in ROUTES if m == "GET" and not p.startswith(JSON_API_PREFIX)]
PROTECTED_PAGES = [p for p in PAGES if p not in PUBLIC_PAGES]
HTML_PAGES = [p for p in PAGES if p not in NOT_HTML]
API_ROUTES = [(m, p) for m, p in ROUTES if p.startswith(JSON_API_PREFIX)]
ADMIN_ROUTES = [(m, p) for m, p in ROUTES if p.startswith("/admin/")]


def _id(route: tuple[str, str]) -> str:
    return " ".join(route)


def change_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ObjectChange)) or 0


def quick_user(role: Role) -> User:
    return factories.UserFactory(role=role, password_hash=QUICK_PASSWORD_HASH)


@pytest.fixture
def admin(session: Session) -> User:
    return quick_user(Role.ADMIN)


@pytest.fixture
def engineer(session: Session) -> User:
    return quick_user(Role.ENGINEER)


@pytest.fixture
def real_ids(session: Session, admin: User) -> dict[str, object]:
    """Path values naming records that exist, so a request that got through would act on something."""
    unit = factories.UnitFactory()
    return {
        "user_id": admin.id,
        "workshop_id": unit.workshop_id,
        "unit_id": unit.id,
        "object_id": admin.id,
    }


def test_route_table_is_read_from_the_app() -> None:
    assert ("POST", "/admin/users/new") in ACTIONS
    assert "/admin/users" in PROTECTED_PAGES
    assert ("GET", "/api/v1/me") in API_ROUTES


def test_exception_lists_name_existing_routes() -> None:
    """A renamed or removed route must not leave a stale exception behind."""
    assert set(PUBLIC_ACTIONS) <= {path for _, path in ACTIONS}
    assert set(PUBLIC_PAGES) <= set(PAGES)
    assert set(NOT_HTML) <= set(PAGES)
    mounts = {route.path for route in create_app().routes if isinstance(route, Mount)}
    assert set(PUBLIC_MOUNTS) == mounts


# --- (a) CSRF -----------------------------------------------------------------------------

FORGED = "forged-token"
CSRF_FAILURES = {
    "no token": ({"name": "probe"}, {}),
    "wrong form field": ({"name": "probe", "csrf_token": FORGED}, {}),
    "wrong header": ({"name": "probe"}, {"X-CSRF-Token": FORGED}),
}


@pytest.mark.parametrize("how", list(CSRF_FAILURES))
@pytest.mark.parametrize("route", ACTIONS, ids=_id)
def test_state_changing_route_refuses_request_without_valid_csrf_token(
    client: TestClient, session: Session, admin: User, real_ids: dict[str, object], route: tuple[str, str], how: str
) -> None:
    login(client, admin)
    method, path = route
    before = change_count(session)
    data, headers = CSRF_FAILURES[how]

    response = client.request(method, fill(path, real_ids), data=data, headers=headers)

    assert response.status_code == 403
    assert change_count(session) == before


@pytest.mark.parametrize("route", ACTIONS, ids=_id)
def test_state_changing_route_lets_admin_through_with_valid_csrf_token(
    client: TestClient, admin: User, real_ids: dict[str, object], route: tuple[str, str]
) -> None:
    """The control for the test above: the 403 there comes from the token, not the user."""
    token = login(client, admin)
    method, path = route

    response = client.request(method, fill(path, real_ids), data={"csrf_token": token})

    assert response.status_code != 403


def test_csrf_token_may_be_sent_in_header_as_htmx_does(client: TestClient, admin: User) -> None:
    token = login(client, admin)

    response = client.post("/admin/org/sites", data={"code": "HX", "name": "htmx"}, headers={"X-CSRF-Token": token})

    assert response.status_code == 303


# --- (b) login required for actions -------------------------------------------------------


@pytest.mark.parametrize("route", PROTECTED_ACTIONS, ids=_id)
def test_state_changing_route_redirects_anonymous_user_to_login(client: TestClient, route: tuple[str, str]) -> None:
    token = csrf_token(client)
    method, path = route

    response = client.request(method, fill(path), data={"csrf_token": token})

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    # A post cannot be replayed by a redirect after login: back to the home page.
    assert parse_qs(location.query)["next"] == ["/"]


def test_login_form_is_accepted_from_anonymous_visitor(client: TestClient, engineer: User) -> None:
    response = client.post(
        "/login",
        data={"username": engineer.username, "password": factories.PASSWORD, "csrf_token": csrf_token(client)},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_language_switch_works_for_anonymous_visitor(client: TestClient) -> None:
    response = client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client)})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "lang=en" in response.headers["set-cookie"]


def test_logout_without_login_goes_to_login_page(client: TestClient) -> None:
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"


# --- (c) login required for pages ---------------------------------------------------------


@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_page_redirects_anonymous_user_to_login_with_next(client: TestClient, path: str) -> None:
    response = client.get(fill(path))

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [fill(path)]


def test_login_redirect_keeps_the_query_string_in_next(client: TestClient) -> None:
    response = client.get("/admin/users?role=auditor&page=2")

    assert parse_qs(urlsplit(response.headers["location"]).query)["next"] == ["/admin/users?role=auditor&page=2"]


def test_htmx_request_from_anonymous_user_is_sent_to_login_with_hx_redirect(client: TestClient) -> None:
    response = client.get("/admin/users", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert urlsplit(response.headers["HX-Redirect"]).path == "/login"


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "/static/app.css"])
def test_public_page_is_served_to_anonymous_user(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200


# --- (d) API authentication ---------------------------------------------------------------

BAD_CREDENTIALS = {
    "no header": {},
    "unknown token": {"Authorization": "Bearer mt_not-a-real-token"},
    "other scheme": {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="},
    "session cookie only": {},
}


@pytest.mark.parametrize("how", list(BAD_CREDENTIALS))
@pytest.mark.parametrize("route", API_ROUTES, ids=_id)
def test_api_route_answers_401_problem_without_valid_token(
    client: TestClient, admin: User, route: tuple[str, str], how: str
) -> None:
    if how == "session cookie only":
        login(client, admin)  # a browser session is not an API credential
    method, path = route

    response = client.request(method, fill(path), headers=BAD_CREDENTIALS[how])

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    problem = response.json()
    assert problem["status"] == 401
    assert problem["title"]
    assert problem["detail"]


# --- (e) admin pages ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.MANAGER, Role.AUDITOR], ids=lambda role: role.value)
@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=_id)
def test_admin_route_is_forbidden_to_other_roles(
    client: TestClient, session: Session, real_ids: dict[str, object], route: tuple[str, str], role: Role
) -> None:
    token = login(client, quick_user(role))
    method, path = route
    before = change_count(session)

    response = client.request(method, fill(path, real_ids), data={"csrf_token": token} if method != "GET" else None)

    assert response.status_code == 403
    assert change_count(session) == before


# --- (f) response headers -----------------------------------------------------------------


@pytest.fixture
def logged_in(client: TestClient, admin: User) -> TestClient:
    login(client, admin)
    return client


RESPONSE_KINDS = {
    "page": lambda c: c.get("/admin/users"),
    "htmx fragment": lambda c: c.get("/admin/users", headers={"HX-Request": "true"}),
    "redirect": lambda c: c.get("/login"),
    "error page": lambda c: c.get("/no-such-page"),
    "api problem": lambda c: c.get("/api/v1/me"),
    "json": lambda c: c.get("/healthz"),
    "static file": lambda c: c.get("/static/app.css"),
}


@pytest.mark.parametrize("kind", list(RESPONSE_KINDS))
def test_response_forbids_framing_and_foreign_content(logged_in: TestClient, kind: str) -> None:
    response = RESPONSE_KINDS[kind](logged_in)

    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.parametrize("kind", list(RESPONSE_KINDS))
def test_response_forbids_content_sniffing(logged_in: TestClient, kind: str) -> None:
    response = RESPONSE_KINDS[kind](logged_in)

    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "full page"])
@pytest.mark.parametrize("path", HTML_PAGES)
def test_page_varies_on_hx_request(logged_in: TestClient, real_ids: dict[str, object], path: str, htmx: bool) -> None:
    """One URL serves the whole page and the htmx fragment: caches must keep them apart."""
    response = logged_in.get(fill(path, real_ids), headers={"HX-Request": "true"} if htmx else {})

    assert "HX-Request" in [value.strip() for value in response.headers["vary"].split(",")]


# --- (g) cookies --------------------------------------------------------------------------


def _set_cookie(response_headers: list[str], name: str) -> list[str]:
    [cookie] = [value for value in response_headers if value.startswith(f"{name}=")]
    return [attribute.strip().lower() for attribute in cookie.split(";")]


def test_session_cookie_is_http_only_and_same_site_lax(client: TestClient, admin: User) -> None:
    response = client.post(
        "/login",
        data={"username": admin.username, "password": factories.PASSWORD, "csrf_token": csrf_token(client)},
    )

    attributes = _set_cookie(response.headers.get_list("set-cookie"), "maintenance_session")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_language_cookie_is_http_only_and_same_site_lax(client: TestClient) -> None:
    response = client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client)})

    attributes = _set_cookie(response.headers.get_list("set-cookie"), "lang")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_app_fixture_serves_the_same_route_table(app: FastAPI) -> None:
    """The tests above collect routes from a fresh app; the client talks to the fixture's."""
    assert route_table(app) == ROUTES
