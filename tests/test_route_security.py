"""Route-level security, checked against the app's own route table.

Every route the app serves is read from the route table at collection time, so a
route added later is covered by these tests without anyone listing it here. The
lists kept by hand are the deliberate exceptions, each with its reason, and POLICY:
who may use each route, which every role is checked against (a route missing from
it fails).
"""

import io
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from functools import cached_property, wraps
from typing import TypeVar, cast
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select
from sqlmodel import Session
from starlette.routing import Mount

from maintenance import export_jobs, files
from maintenance.assets import class_aliases
from maintenance.assets.choices import SpecialCategory
from maintenance.assets.documents import service as documents
from maintenance.assets.documents.models import AssetDocument
from maintenance.assets.models import Asset, AssetClassAlias
from maintenance.assets.stocktake import service as stocktake_service
from maintenance.assets.stocktake.models import Stocktake, StocktakeLine, StocktakeSurplus, StocktakeSurplusCreate
from maintenance.audit.models import ObjectChange
from maintenance.audit.service import SystemActor
from maintenance.budget.models import BudgetYear
from maintenance.config import get_settings
from maintenance.db import get_session, plant_today, utcnow
from maintenance.export_jobs import ExportJob, ExportJobState
from maintenance.inspections import campaigns, rounds
from maintenance.inspections.choices import CampaignKind
from maintenance.inspections.models import (
    CampaignCreate,
    CampaignItem,
    InspectionCampaign,
    InspectionRound,
    InspectionRoute,
    RoundEntry,
    RouteCreate,
    RouteStop,
    StopFields,
)
from maintenance.leakfree import rule_documents
from maintenance.leakfree import rules as leakfree_rules
from maintenance.leakfree.choices import (
    CertificationState,
    LeakSeverity,
    LeakStatus,
    RuleDocumentKind,
    SealKind,
    SealType,
)
from maintenance.leakfree.models import Certification, Leak, LeakSurvey, RuleDocument, RuleDocumentCreate, SealPoint
from maintenance.main import create_app
from maintenance.monitoring import service as monitoring_service
from maintenance.monitoring.choices import Quantity
from maintenance.monitoring.models import MeasurementPoint, PointCreate, Reading
from maintenance.monitoring.mqtt import service as mqtt_service
from maintenance.monitoring.mqtt.models import MappingFields, MqttMapping
from maintenance.orders import attachments
from maintenance.orders import service as order_service
from maintenance.orders.choices import ChecklistResult, CostCategory, CostKind, OrderType
from maintenance.orders.models import (
    ChecklistItem,
    CostLine,
    CostLineCreate,
    JournalEntry,
    OrderAttachment,
    PmPlan,
    PmPlanCostLine,
    PmPlanCreate,
    Turnaround,
    TurnaroundCreate,
    WorkOrder,
    WorkOrderCreate,
)
from maintenance.orders.pm import service as pm
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.org import service as org_service
from maintenance.org.models import ApiToken, Role, Unit, User, UserWorkshop, Workshop
from maintenance.org.permissions import EVERY_CAPABILITY
from maintenance.scorecard.accidents.models import Accident, AccidentAction, AccidentClass
from maintenance.scorecard.projects.models import Milestone, Project
from maintenance.scorecard.savings.models import SavingsEntry, SavingsKind
from maintenance.special import findings as special_findings
from maintenance.special import records as special_records
from maintenance.special.choices import FindingKind, InspectionResult
from maintenance.special.models import Finding, FindingCreate, InspectionCreate, InspectionType, RegistrationCreate
from maintenance.special.rules import add_months
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
    "/rounds/sw.js": "the rounds' service worker: one script for all, no data (an update check may come logged out)",
}

# Mounted apps outside the route table's endpoints.
PUBLIC_MOUNTS = {
    "/static": "CSS, JS and fonts the login page needs before anyone has logged in",
}

# Pages that answer with data, not HTML, so they have no htmx fragment to vary on.
NOT_HTML = {
    "/healthz": "JSON for monitoring",
    "/openapi.json": "the API description",
    "/rounds/sw.js": "the rounds' service worker, JavaScript",
    "/special-equipment/due.xlsx": "the due list in the regulator's ledger layout, a spreadsheet",
    # leakfree: seal-point inventory
    "/leakfree/seal-points/import/template.xlsx": "the seal-point import template, a spreadsheet",
    # leakfree: surveys and leaks
    "/leakfree/leaks/{leak_id:int}/photo": "a leak's photo, an image",
    # budget: target, allocation grid and plan import
    "/budget/{year}/allocation/import/template.xlsx": "the allocation plan's import template, a spreadsheet",
    # budget: finance journal
    "/budget/journal/import/template.xlsx": "the finance journal import template, a spreadsheet",
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
    assert response.status_code < 500, f"{method} {path} failed: {response.status_code}"


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


def test_no_template_holds_what_the_policy_forbids() -> None:
    """Without 'unsafe-inline' the browser ignores a style attribute, a <style> element and an
    on…= handler: a width written that way never applies (the leak register's description
    column stayed narrow). Widths are classes of app.css."""
    forbidden = re.compile(r"""\sstyle=["']|<style[\s>]|\son[a-z]+=["']""")
    found = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if forbidden.search(line)
    ]
    assert not found, found


TEMPLATES = get_settings().templates_dir


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


# --- (h) every route against every role ---------------------------------------------------
#
# Who may use each route is declared in POLICY, route by route; the test walks the app's route
# table and sends each route as each role, with a fresh plant each time. A route POLICY does not
# name fails: whoever adds a route declares who may use it. Forms are sent filled in (FORMS), so
# that an allowed role's request succeeds and a refused one is refused for who sent it, not for
# what was sent.


class Rule(Enum):
    PUBLIC = "anyone, without logging in"
    USER = "any logged-in user (the API: any token of any role)"
    WRITER = "engineers of any workshop, managers and admins; auditors read only"
    WORKSHOP = "managers, admins and the engineers of the record's workshop"
    MANAGER = "managers and admins"
    ADMIN = "admins"
    OWNER = "the record's owner (engineer A's own token) and admins"
    PLANT = "managers, admins and auditors: plant-wide figures (engineers read their workshops' elsewhere)"
    SELF = "the record's owner alone (engineer A's own export): for anyone else it does not exist (404)"


ROLES = ("anonymous", "engineer_a", "engineer_b", "manager", "auditor", "admin")
ALLOWED: dict[Rule, frozenset[str]] = {
    Rule.PUBLIC: frozenset(ROLES),
    Rule.USER: frozenset(ROLES) - {"anonymous"},
    Rule.WRITER: frozenset({"engineer_a", "engineer_b", "manager", "admin"}),
    Rule.WORKSHOP: frozenset({"engineer_a", "manager", "admin"}),
    Rule.MANAGER: frozenset({"manager", "admin"}),
    Rule.ADMIN: frozenset({"admin"}),
    Rule.OWNER: frozenset({"engineer_a", "admin"}),
    Rule.PLANT: frozenset({"manager", "auditor", "admin"}),
    Rule.SELF: frozenset({"engineer_a"}),
}

PUBLIC, USER, WRITER, WORKSHOP, MANAGER, ADMIN, OWNER, PLANT, SELF = Rule
POLICY: dict[tuple[str, str], Rule] = {
    # Login, language, health and the API description
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("POST", "/language"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/"): USER,
    ("GET", "/api/docs"): USER,
    # Administration
    ("GET", "/admin/users"): ADMIN,
    ("GET", "/admin/users/new"): ADMIN,
    ("POST", "/admin/users/new"): ADMIN,
    ("GET", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}"): ADMIN,
    ("GET", "/admin/org"): ADMIN,
    ("POST", "/admin/org/sites"): ADMIN,
    ("POST", "/admin/org/workshops"): ADMIN,
    ("POST", "/admin/org/workshops/{workshop_id}"): ADMIN,
    ("POST", "/admin/org/workshops/{workshop_id}/delete"): ADMIN,
    ("POST", "/admin/org/units"): ADMIN,
    ("POST", "/admin/org/units/{unit_id}"): ADMIN,
    ("POST", "/admin/org/units/{unit_id}/delete"): ADMIN,
    ("GET", "/admin/asset-class-aliases"): ADMIN,
    ("POST", "/admin/asset-class-aliases"): ADMIN,
    ("POST", "/admin/asset-class-aliases/{alias_id}/delete"): ADMIN,
    # MQTT ingest: its statistics, refused messages and mapping rules
    ("GET", "/admin/mqtt"): ADMIN,
    ("GET", "/admin/mqtt/mappings/new"): ADMIN,
    ("POST", "/admin/mqtt/mappings/new"): ADMIN,
    ("GET", "/admin/mqtt/mappings/{mapping_id:int}"): ADMIN,
    ("POST", "/admin/mqtt/mappings/{mapping_id:int}"): ADMIN,
    ("POST", "/admin/mqtt/mappings/{mapping_id:int}/delete"): ADMIN,
    # API tokens: everyone their own
    ("GET", "/tokens"): USER,
    # My exports: a user's own export jobs
    ("GET", "/exports"): USER,
    ("GET", "/exports/{job_id}/download"): SELF,
    ("POST", "/exports/{job_id}/delete"): SELF,
    ("POST", "/tokens"): USER,
    ("POST", "/tokens/{token_id}/revoke"): OWNER,
    # Special equipment: the item page, its tab and banner, recording (the asset's workshop)
    ("GET", "/special-equipment/{asset_id:int}"): USER,
    ("GET", "/special-equipment/{asset_id:int}/records"): USER,
    ("GET", "/special-equipment/{asset_id:int}/banner"): USER,
    ("POST", "/special-equipment/{asset_id:int}/registration"): WORKSHOP,
    ("POST", "/special-equipment/{asset_id:int}/registration/events"): WORKSHOP,
    ("POST", "/special-equipment/{asset_id:int}/applications"): WORKSHOP,
    ("POST", "/special-equipment/{asset_id:int}/inspections"): WORKSHOP,
    # Special equipment: regulator findings (recorded by managers, rectified in the workshop) and
    # the inspection rules (admins)
    ("GET", "/special-equipment/findings"): USER,
    ("GET", "/special-equipment/findings/indicator"): USER,
    ("GET", "/special-equipment/findings/new"): MANAGER,
    ("POST", "/special-equipment/findings/new"): MANAGER,
    ("GET", "/special-equipment/findings/{finding_id:int}"): USER,
    ("POST", "/special-equipment/findings/{finding_id:int}"): WORKSHOP,
    ("GET", "/special-equipment/findings/{finding_id:int}/evidence"): USER,
    ("GET", "/admin/special-inspection-types"): ADMIN,
    ("GET", "/admin/special-inspection-types/new"): ADMIN,
    ("POST", "/admin/special-inspection-types/new"): ADMIN,
    ("GET", "/admin/special-inspection-types/{type_id:int}"): ADMIN,
    ("POST", "/admin/special-inspection-types/{type_id:int}"): ADMIN,
    # Special equipment: lists (the register, the due list and its ledger, coverage): read by everyone
    ("GET", "/special-equipment"): USER,
    ("GET", "/special-equipment/due"): USER,
    ("GET", "/special-equipment/due.xlsx"): USER,
    ("GET", "/special-equipment/coverage"): USER,
    ("GET", "/special-equipment/coverage/card"): USER,
    # Special equipment: the read API, the ledger import
    ("GET", "/api/v1/special-equipment"): USER,
    ("GET", "/api/v1/special-equipment/coverage"): USER,
    ("GET", "/special-equipment/import"): MANAGER,
    ("GET", "/special-equipment/import/template.xlsx"): MANAGER,
    ("POST", "/special-equipment/import/preview"): MANAGER,
    ("POST", "/special-equipment/import/confirm"): MANAGER,
    # The change log: read by everyone
    ("GET", "/audit"): USER,
    ("GET", "/audit/chain"): USER,
    ("GET", "/audit/history/{object_type}/{object_id}"): USER,
    # Asset registry: managers keep it; engineers attach documents to their workshops' assets
    ("GET", "/assets"): USER,
    ("GET", "/assets/labels"): USER,
    ("GET", "/assets/new"): MANAGER,
    ("POST", "/assets/new"): MANAGER,
    ("GET", "/assets/import"): MANAGER,
    ("GET", "/assets/import/template.xlsx"): MANAGER,
    ("POST", "/assets/import/preview"): MANAGER,
    ("POST", "/assets/import/confirm"): MANAGER,
    ("GET", "/assets/{asset_id}"): USER,
    ("GET", "/assets/{asset_id}/edit"): MANAGER,
    ("POST", "/assets/{asset_id}/edit"): MANAGER,
    ("POST", "/assets/{asset_id}/status"): MANAGER,
    ("GET", "/assets/{asset_id:int}/orders"): USER,
    ("GET", "/assets/{asset_id:int}/readings"): USER,
    ("GET", "/assets/{asset_id}/stocktake"): USER,
    ("GET", "/assets/{asset_id}/documents"): USER,
    ("POST", "/assets/{asset_id}/documents"): WORKSHOP,
    ("GET", "/assets/{asset_id}/documents/{document_id}"): USER,
    ("POST", "/assets/{asset_id}/documents/{document_id}/delete"): MANAGER,
    # Stocktakes: counted in the workshop, closed and discarded by managers
    ("GET", "/stocktakes"): USER,
    ("POST", "/stocktakes/new"): WORKSHOP,
    ("GET", "/stocktakes/{stocktake_id}"): USER,
    ("POST", "/stocktakes/{stocktake_id}/lines/{line_id}"): WORKSHOP,
    ("POST", "/stocktakes/{stocktake_id}/scan/{asset_id}"): WORKSHOP,
    ("POST", "/stocktakes/{stocktake_id}/mark-missing"): WORKSHOP,
    ("POST", "/stocktakes/{stocktake_id}/surplus"): WORKSHOP,
    ("POST", "/stocktakes/{stocktake_id}/surplus/{surplus_id}/delete"): WORKSHOP,
    ("POST", "/stocktakes/{stocktake_id}/close"): MANAGER,
    ("POST", "/stocktakes/{stocktake_id}/discard"): MANAGER,
    ("GET", "/stocktakes/{stocktake_id}/report"): USER,
    ("GET", "/stocktakes/{stocktake_id}/report.xlsx"): USER,
    # Work orders: raised and worked in the asset's workshop
    ("GET", "/orders"): USER,
    ("GET", "/orders/calendar"): USER,
    ("GET", "/orders/kpis"): USER,
    ("GET", "/orders/new"): WRITER,
    ("POST", "/orders/new"): WORKSHOP,
    ("GET", "/orders/{order_id:int}"): USER,
    ("GET", "/orders/{order_id:int}/condition"): USER,
    ("GET", "/orders/{order_id:int}/edit"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/edit"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/actions/{name}"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/failure"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/notes"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/costs"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/costs/{line_id:int}"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/costs/{line_id:int}/delete"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/checks"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/checks/{item_id:int}"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/checks/{item_id:int}/raise"): WORKSHOP,
    ("POST", "/orders/{order_id:int}/attachments"): WORKSHOP,
    ("GET", "/orders/{order_id:int}/attachments/{attachment_id:int}"): USER,
    ("POST", "/orders/{order_id:int}/attachments/{attachment_id:int}/delete"): WORKSHOP,
    # PM plans: kept in the asset's workshop, orders generated by managers
    ("GET", "/pm-plans"): USER,
    ("GET", "/pm-plans/new"): WRITER,
    ("POST", "/pm-plans/new"): WORKSHOP,
    ("POST", "/pm-plans/generate"): MANAGER,
    ("GET", "/pm-plans/{plan_id:int}"): USER,
    ("GET", "/pm-plans/{plan_id:int}/edit"): WORKSHOP,
    ("POST", "/pm-plans/{plan_id:int}/edit"): WORKSHOP,
    ("POST", "/pm-plans/{plan_id:int}/lines"): WORKSHOP,
    ("POST", "/pm-plans/{plan_id:int}/lines/{line_id:int}/delete"): WORKSHOP,
    ("POST", "/pm-plans/{plan_id:int}/meter"): WORKSHOP,
    ("POST", "/pm-plans/{plan_id:int}/generate"): MANAGER,
    # Turnarounds: planned by managers; orders join and leave the scope in their workshop
    ("GET", "/turnarounds"): USER,
    ("GET", "/turnarounds/new"): MANAGER,
    ("POST", "/turnarounds/new"): MANAGER,
    ("GET", "/turnarounds/{turnaround_id:int}"): USER,
    ("GET", "/turnarounds/{turnaround_id:int}/edit"): MANAGER,
    ("POST", "/turnarounds/{turnaround_id:int}/edit"): MANAGER,
    ("POST", "/turnarounds/{turnaround_id:int}/scope"): WORKSHOP,
    ("POST", "/turnarounds/{turnaround_id:int}/scope/{order_id:int}/remove"): WORKSHOP,
    # Condition monitoring: points and readings in the point's workshop
    ("GET", "/monitoring"): USER,
    ("GET", "/monitoring/alarms"): USER,
    ("GET", "/monitoring/thickness"): USER,
    ("GET", "/monitoring/import"): WRITER,
    ("GET", "/monitoring/import/template.csv"): WRITER,
    # Any engineer may upload; the rows of other workshops' points are refused one by one.
    ("POST", "/monitoring/import"): WRITER,
    ("GET", "/monitoring/points/new"): WRITER,
    ("POST", "/monitoring/points/new"): WORKSHOP,
    ("GET", "/monitoring/points/{point_id:int}"): USER,
    ("GET", "/monitoring/points/{point_id:int}/edit"): WORKSHOP,
    ("POST", "/monitoring/points/{point_id:int}/edit"): WORKSHOP,
    ("POST", "/monitoring/points/{point_id:int}/readings"): WORKSHOP,
    ("GET", "/monitoring/points/{point_id:int}/thickness"): USER,
    # Rounds and inspection routes: walked and kept in the route's workshop
    ("GET", "/rounds"): USER,
    ("POST", "/rounds/start"): WORKSHOP,
    ("GET", "/rounds/{round_id:int}"): USER,
    ("POST", "/rounds/{round_id:int}/stops/{stop_id:int}"): WORKSHOP,
    ("POST", "/rounds/{round_id:int}/finish"): WORKSHOP,
    # A phone's outbox may name rounds of any workshop: the batch is refused (403) when one of its
    # rounds is not the sender's (tests/inspections/test_round_sync.py); a form body is a 422.
    ("POST", "/rounds/sync"): WRITER,
    ("GET", "/rounds/sw.js"): PUBLIC,
    ("GET", "/rounds/{round_id:int}/entries/{entry_id:int}/photo"): USER,
    ("GET", "/rounds/routes"): USER,
    ("GET", "/rounds/routes/new"): WRITER,
    ("POST", "/rounds/routes/new"): WORKSHOP,
    ("GET", "/rounds/routes/{route_id:int}"): USER,
    ("GET", "/rounds/routes/{route_id:int}/edit"): WORKSHOP,
    ("POST", "/rounds/routes/{route_id:int}/edit"): WORKSHOP,
    ("POST", "/rounds/routes/{route_id:int}/stops"): WORKSHOP,
    ("POST", "/rounds/routes/{route_id:int}/stops/{stop_id:int}/move"): WORKSHOP,
    ("POST", "/rounds/routes/{route_id:int}/stops/{stop_id:int}/delete"): WORKSHOP,
    # Seasonal inspections: campaigns set up by managers, each workshop answers its own sheet
    ("GET", "/campaigns"): USER,
    ("GET", "/campaigns/new"): MANAGER,
    ("POST", "/campaigns/new"): MANAGER,
    ("GET", "/campaigns/{campaign_id:int}"): USER,
    ("GET", "/campaigns/{campaign_id:int}/edit"): MANAGER,
    ("POST", "/campaigns/{campaign_id:int}/edit"): MANAGER,
    ("POST", "/campaigns/{campaign_id:int}/items"): MANAGER,
    ("POST", "/campaigns/{campaign_id:int}/items/{item_id:int}/remove"): MANAGER,
    ("POST", "/campaigns/{campaign_id:int}/workshops"): MANAGER,
    ("GET", "/campaigns/{campaign_id:int}/workshops/{workshop_id:int}"): USER,
    ("POST", "/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/items/{item_id:int}"): WORKSHOP,
    ("POST", "/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/items/{item_id:int}/raise"): WORKSHOP,
    ("POST", "/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/submit"): WORKSHOP,
    ("POST", "/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/reopen"): MANAGER,
    # The JSON API: every token reads; writes follow the pages' rules
    ("GET", "/api/v1/me"): USER,
    ("GET", "/api/v1/assets"): USER,
    ("GET", "/api/v1/assets/{tag:path}"): USER,
    ("GET", "/api/v1/orders"): USER,
    ("GET", "/api/v1/orders/{number}"): USER,
    ("POST", "/api/v1/orders"): WORKSHOP,
    ("GET", "/api/v1/pm-plans"): USER,
    ("GET", "/api/v1/points"): USER,
    ("GET", "/api/v1/points/{code:path}/readings"): USER,
    ("GET", "/api/v1/alarms"): USER,
    ("POST", "/api/v1/readings"): WORKSHOP,
    # leakfree: seal-point inventory (engineers write their own workshops' lines; import rows of
    # other workshops are refused row by row)
    ("GET", "/leakfree/seal-points"): USER,
    ("GET", "/leakfree/seal-points/new"): WRITER,
    ("POST", "/leakfree/seal-points/new"): WORKSHOP,
    ("GET", "/leakfree/seal-points/{seal_point_id:int}"): USER,
    ("POST", "/leakfree/seal-points/{seal_point_id:int}"): WORKSHOP,
    ("POST", "/leakfree/seal-points/{seal_point_id:int}/retire"): WORKSHOP,
    ("POST", "/leakfree/seal-points/{seal_point_id:int}/reinstate"): WORKSHOP,
    ("GET", "/leakfree/seal-points/import"): WRITER,
    ("GET", "/leakfree/seal-points/import/template.xlsx"): WRITER,
    ("POST", "/leakfree/seal-points/import/preview"): WRITER,
    ("POST", "/leakfree/seal-points/import/confirm"): WRITER,
    # leakfree: surveys and leaks
    ("GET", "/leakfree/surveys"): USER,
    ("GET", "/leakfree/surveys/new"): WRITER,
    ("GET", "/leakfree/surveys/new/row"): WRITER,
    ("POST", "/leakfree/surveys/new"): WORKSHOP,
    ("GET", "/leakfree/surveys/{survey_id:int}"): USER,
    ("GET", "/leakfree/leaks"): USER,
    ("POST", "/leakfree/leaks/from-round/{entry_id:int}"): WORKSHOP,
    ("GET", "/leakfree/leaks/{leak_id:int}"): USER,
    ("POST", "/leakfree/leaks/{leak_id:int}/order"): WORKSHOP,
    ("POST", "/leakfree/leaks/{leak_id:int}/repaired"): WORKSHOP,
    ("POST", "/leakfree/leaks/{leak_id:int}/recheck"): WORKSHOP,
    ("POST", "/leakfree/leaks/{leak_id:int}/photo"): WORKSHOP,
    ("GET", "/leakfree/leaks/{leak_id:int}/photo"): USER,
    # leakfree: certification
    ("GET", "/leakfree/certifications"): USER,
    ("GET", "/leakfree/certifications/new"): WRITER,
    ("POST", "/leakfree/certifications/new"): WORKSHOP,
    ("GET", "/leakfree/certifications/{certification_id:int}"): USER,
    ("POST", "/leakfree/certifications/{certification_id:int}/self-assessment"): WORKSHOP,
    ("POST", "/leakfree/certifications/{certification_id:int}/submit"): MANAGER,
    ("POST", "/leakfree/certifications/{certification_id:int}/assessment"): MANAGER,
    ("POST", "/leakfree/certifications/{certification_id:int}/revoke"): MANAGER,
    # leakfree: overview, workshop page, certification board, read API
    ("GET", "/leakfree"): USER,
    ("GET", "/leakfree/card"): USER,
    ("GET", "/leakfree/workshops/{workshop_id:int}"): USER,
    ("GET", "/leakfree/board"): USER,
    ("GET", "/api/v1/leakfree/workshops"): USER,
    ("GET", "/api/v1/leakfree/progress"): USER,
    # leakfree: rules
    ("GET", "/leakfree/rules"): USER,
    ("GET", "/leakfree/rules/new"): MANAGER,
    ("POST", "/leakfree/rules/new"): MANAGER,
    ("GET", "/leakfree/rules/{rule_id:int}/file"): USER,
    # budget: target, allocation grid and plan import (managers)
    ("GET", "/budget/allocation"): MANAGER,
    ("GET", "/budget/{year}/target"): MANAGER,
    ("POST", "/budget/{year}/target"): MANAGER,
    ("GET", "/budget/{year}/allocation"): MANAGER,
    ("POST", "/budget/{year}/allocation/cell"): MANAGER,
    ("GET", "/budget/{year}/allocation/import"): MANAGER,
    ("GET", "/budget/{year}/allocation/import/template.xlsx"): MANAGER,
    ("POST", "/budget/{year}/allocation/import/preview"): MANAGER,
    ("POST", "/budget/{year}/allocation/import/confirm"): MANAGER,
    # budget: overview (engineers see their own workshops' figures only)
    ("GET", "/budget"): USER,
    ("GET", "/budget/card"): USER,
    # budget: finance journal (everyone reads it, engineers their workshops' entries; managers
    # and admins import and delete)
    ("GET", "/budget/journal"): USER,
    ("POST", "/budget/journal/{entry_id:int}/delete"): MANAGER,
    ("GET", "/budget/journal/import"): MANAGER,
    ("GET", "/budget/journal/import/template.xlsx"): MANAGER,
    ("POST", "/budget/journal/import/preview"): MANAGER,
    ("POST", "/budget/journal/import/confirm"): MANAGER,
    # budget: read API (every token with budget:read; an engineer's sees their workshops)
    ("GET", "/api/v1/budget/{year}"): USER,
    # budget: drill-down and the order page's budget card
    ("GET", "/budget/drill"): USER,
    ("GET", "/budget/orders/{order_id:int}/impact"): USER,
    # scorecard: key projects (everyone reads; managers and admins plan them; the engineers of
    # a project's workshop mark its milestones done)
    ("GET", "/scorecard/projects"): USER,
    ("GET", "/scorecard/projects/new"): MANAGER,
    ("POST", "/scorecard/projects/new"): MANAGER,
    ("GET", "/scorecard/projects/{project_id:int}"): USER,
    ("GET", "/scorecard/projects/{project_id:int}/edit"): MANAGER,
    ("POST", "/scorecard/projects/{project_id:int}/edit"): MANAGER,
    ("POST", "/scorecard/projects/{project_id:int}/milestones"): MANAGER,
    ("GET", "/scorecard/projects/{project_id:int}/milestones/{milestone_id:int}/edit"): MANAGER,
    ("POST", "/scorecard/projects/{project_id:int}/milestones/{milestone_id:int}/edit"): MANAGER,
    ("POST", "/scorecard/projects/{project_id:int}/milestones/{milestone_id:int}/done"): WORKSHOP,
    ("POST", "/scorecard/projects/{project_id:int}/milestones/{milestone_id:int}/delete"): MANAGER,
    # scorecard: operating log (everyone reads; a month is entered by the units' workshops)
    ("GET", "/scorecard/operating"): USER,
    ("GET", "/scorecard/operating/{year}/{month}"): WRITER,
    ("POST", "/scorecard/operating/{year}/{month}"): WORKSHOP,
    # scorecard: the page, its home card and the read API show plant-wide figures (the cost among
    # them); the targets are read by everyone and set by managers
    ("GET", "/scorecard"): PLANT,
    ("GET", "/scorecard/card"): PLANT,
    ("GET", "/scorecard/report"): PLANT,
    # the monthly workshop assessment: everyone reads the ranking, an engineer the cells of their own
    # workshops only (the others' say "—"); its export is for managers, admins and auditors
    ("GET", "/scorecard/assessment"): USER,
    ("GET", "/api/v1/scorecard/{year}"): PLANT,
    ("GET", "/api/v1/scorecard/accidents"): USER,
    ("GET", "/scorecard/targets"): USER,
    ("POST", "/scorecard/targets"): MANAGER,
    # scorecard: accident register (everyone reads; recorded and followed up in the asset's
    # workshop; managers and admins delete)
    ("GET", "/scorecard/accidents"): USER,
    ("GET", "/scorecard/accidents/new"): WRITER,
    ("POST", "/scorecard/accidents/new"): WORKSHOP,
    ("GET", "/scorecard/accidents/{accident_id:int}"): USER,
    ("GET", "/assets/{asset_id:int}/accidents"): USER,
    ("GET", "/scorecard/accidents/{accident_id:int}/edit"): WORKSHOP,
    ("POST", "/scorecard/accidents/{accident_id:int}/edit"): WORKSHOP,
    ("POST", "/scorecard/accidents/{accident_id:int}/delete"): MANAGER,
    ("POST", "/scorecard/accidents/{accident_id:int}/actions"): WORKSHOP,
    ("POST", "/scorecard/accidents/{accident_id:int}/actions/{action_id:int}"): WORKSHOP,
    ("POST", "/scorecard/accidents/{accident_id:int}/actions/{action_id:int}/done"): WORKSHOP,
    ("POST", "/scorecard/accidents/{accident_id:int}/actions/{action_id:int}/delete"): WORKSHOP,
    ("POST", "/scorecard/accidents/{accident_id:int}/actions/{action_id:int}/order"): WORKSHOP,
    # scorecard: savings ledgers (everyone reads every workshop's; entries written in their
    # workshop, plant-wide ones by managers and admins)
    ("GET", "/scorecard/savings"): USER,
    ("GET", "/scorecard/savings/new"): WRITER,
    ("POST", "/scorecard/savings/new"): WORKSHOP,
    ("GET", "/scorecard/savings/{savings_entry_id:int}"): USER,
    ("POST", "/scorecard/savings/{savings_entry_id:int}"): WORKSHOP,
    ("POST", "/scorecard/savings/{savings_entry_id:int}/delete"): WORKSHOP,
    # notifications: everyone has a centre, a bell and settings of their own (an auditor's are
    # empty); the "awaiting my approval" queue is for those who approve (managers and admins)
    ("GET", "/notifications"): USER,
    ("GET", "/notifications/count"): USER,
    ("POST", "/notifications/read"): USER,
    ("POST", "/notifications/read-all"): USER,
    ("GET", "/notifications/preferences"): USER,
    ("POST", "/notifications/preferences"): USER,
    ("POST", "/notifications/preferences/email"): USER,  # one's own address
    ("POST", "/notifications/preferences/test-email"): ADMIN,  # checks the plant's mail settings
    ("GET", "/notifications/approvals"): MANAGER,
}

# The smallest valid PNG, for a round entry's photo.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)
T = TypeVar("T")


def kept(make: Callable[["World"], T]) -> cached_property[T]:
    """A record of the plant, made when first asked for and committed at once: kept through the
    rollback of a refused request (the test's transaction is still rolled back at its end)."""

    @wraps(make)
    def made(world: "World") -> T:
        record = make(world)
        world.session.commit()
        return record

    return cached_property(made)


class World:
    """Users of every role and, made when a path or form asks for them, records of workshop A:
    the engineer of workshop A may change them, the engineer of workshop B may not."""

    def __init__(self, session: Session) -> None:
        self.session = session
        site = factories.SiteFactory()
        self.workshop_a = factories.WorkshopFactory(site_id=site.id)
        self.workshop_b = factories.WorkshopFactory(site_id=site.id)
        self.users: dict[str, User] = {
            "engineer_a": self._engineer_of(self.workshop_a),
            "engineer_b": self._engineer_of(self.workshop_b),
            "manager": quick_user(Role.MANAGER),
            "auditor": quick_user(Role.AUDITOR),
            "admin": quick_user(Role.ADMIN),
        }
        self.admin = self.users["admin"]
        session.commit()

    def _engineer_of(self, workshop: Workshop) -> User:
        user = quick_user(Role.ENGINEER)
        self.session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
        self.session.flush()
        return user

    # Records, made by the admin (the engineers' rights are what is tested).

    @kept
    def unit(self) -> Unit:
        return factories.UnitFactory(workshop_id=self.workshop_a.id)

    @kept
    def asset(self) -> Asset:
        return factories.AssetFactory(workshop_id=self.workshop_a.id)

    @kept
    def document(self) -> AssetDocument:
        return documents.attach_document(
            self.session, self.asset, io.BytesIO(b"manual"), "manual.txt", actor=self.admin
        )

    @kept
    def point(self) -> MeasurementPoint:
        data = PointCreate(code="RS-P-1", asset_id=self.asset.id, name="驱动端振动", quantity=Quantity.VIBRATION)  # type: ignore[arg-type]
        return monitoring_service.create_point(self.session, data, actor=self.admin)

    @kept
    def thickness_point(self) -> MeasurementPoint:
        data = PointCreate(
            code="RS-TH-1",
            asset_id=self.asset.id,  # type: ignore[arg-type]
            name="弯头外弧侧",
            quantity=Quantity.WALL_THICKNESS,
            initial_thickness_mm=Decimal("12.00"),
            initial_date=date(2016, 5, 1),
            required_thickness_mm=Decimal("8.00"),
        )
        return monitoring_service.create_point(self.session, data, actor=self.admin)

    @kept
    def order(self) -> WorkOrder:
        """A draft raised by a system process: whoever approves it did not request it (four eyes)."""
        data = WorkOrderCreate(order_type=OrderType.CM, asset_id=self.asset.id, title="机封泄漏")  # type: ignore[arg-type]
        return order_service.create_order(
            self.session, data, actor=SystemActor(username="system:route-security", capabilities=EVERY_CAPABILITY)
        )

    @kept
    def attachment(self) -> OrderAttachment:
        return attachments.attach_file(self.session, self.order, io.BytesIO(b"note"), "note.txt", actor=self.admin)

    @kept
    def cost_line(self) -> CostLine:
        line = CostLineCreate(
            kind=CostKind.SERVICE, description="外委", quantity=Decimal(1), unit_price_cny=Decimal(100)
        )
        return order_service.add_cost_line(self.session, self.order, line, actor=self.admin)

    @kept
    def check(self) -> ChecklistItem:
        order_service.add_checks(self.session, self.order, [("机封无泄漏", "")], actor=self.admin)
        return order_service.checklist_of(self.session, self.order)[0]

    @kept
    def plan(self) -> PmPlan:
        data = PmPlanCreate(asset_id=self.asset.id, title="月度保养", start_date=date(2026, 1, 1))  # type: ignore[arg-type]
        return pm.create_plan(self.session, data, actor=self.admin)

    @kept
    def plan_line(self) -> PmPlanCostLine:
        line = PmPlanCostLine(kind=CostKind.LABOUR, description="钳工", quantity=Decimal(2), unit_price_cny=Decimal(80))  # type: ignore[call-arg]
        return pm.add_estimated_line(self.session, self.plan, line, actor=self.admin)

    @kept
    def route(self) -> InspectionRoute:
        data = RouteCreate(code="RS-R-1", name="机泵日常点检", workshop_id=self.workshop_a.id)  # type: ignore[arg-type]
        return rounds.create_route(self.session, data, actor=self.admin)

    @kept
    def stop(self) -> RouteStop:
        return rounds.add_stop(self.session, self.route, StopFields(point_id=self.point.id), actor=self.admin)

    @kept
    def round(self) -> InspectionRound:
        self.stop  # noqa: B018 (a round walks the route's stops)
        return rounds.ensure_round(self.session, self.route, actor=self.admin)

    @kept
    def entry(self) -> RoundEntry:
        photo = rounds.Photo(io.BytesIO(PNG), "seal.png")
        entry, _created = rounds.record_entry(
            self.session, self.round, self.stop, value=1.0, photo=photo, actor=self.admin
        )
        return entry

    @kept
    def stocktake(self) -> Stocktake:
        self.asset  # noqa: B018 (the count lists the workshop's assets)
        return stocktake_service.start_stocktake(self.session, workshop_id=self.workshop_a.id, actor=self.admin)  # type: ignore[arg-type]

    @kept
    def stocktake_line(self) -> StocktakeLine:
        return self.session.scalars(select(StocktakeLine).where(StocktakeLine.stocktake_id == self.stocktake.id)).one()

    @kept
    def surplus(self) -> StocktakeSurplus:
        data = StocktakeSurplusCreate(description="无铭牌电机")
        return stocktake_service.add_surplus(self.session, self.stocktake, data, actor=self.admin)

    @kept
    def campaign(self) -> InspectionCampaign:
        data = CampaignCreate(
            name="冬季防冻防凝",
            kind=CampaignKind.WINTERIZATION,
            starts_on=date(2026, 11, 1),
            deadline=date(2026, 12, 31),
        )
        return campaigns.create_campaign(self.session, data, ["伴热完好"], [self.workshop_a.id], actor=self.admin)  # type: ignore[list-item]

    @kept
    def campaign_item(self) -> CampaignItem:
        return campaigns.items_of(self.session, self.campaign)[0]

    @kept
    def turnaround(self) -> Turnaround:
        data = TurnaroundCreate(
            code="RS-TA",
            name="大修",
            start_date=date(2026, 9, 1),
            end_date=date(2026, 9, 30),
            site_id=self.workshop_a.site_id,
        )
        return turnarounds.create_turnaround(self.session, data, actor=self.admin)

    @kept
    def alias(self) -> AssetClassAlias:
        return class_aliases.list_aliases(self.session)[0]

    @kept
    def finding(self) -> Finding:
        data = FindingCreate(
            kind=FindingKind.RECTIFICATION,
            workshop_id=self.workshop_a.id,  # type: ignore[arg-type]
            issued_date=date(2026, 3, 10),
            issued_by="市特检院",
            description="安全阀校验过期",
        )
        evidence = files.store_named_upload(io.BytesIO(b"%PDF-1.4 evidence"), "evidence.pdf")
        return special_findings.create_finding(self.session, data, evidence=evidence, actor=self.admin)

    @kept
    def inspection_type(self) -> InspectionType:
        return self.session.scalars(select(InspectionType).where(InspectionType.code == "PV-PERIODIC")).one()

    @kept
    def mqtt_mapping(self) -> MqttMapping:
        data = MappingFields(topic="plant/{workshop}/{point}/reading")
        return mqtt_service.create_mapping(self.session, data, actor=self.admin)

    @kept
    def export_job(self) -> ExportJob:
        """Engineer A's export, done, with its file."""
        job, _created = export_jobs.create_job(
            self.session,
            user_id=self.users["engineer_a"].id,
            request_key="probe",
            title="设备台账导出",
            filter_text="全部设备",
            fmt="csv",
            file_name="设备_2026-12-06.csv",
            now=utcnow(),
        )
        job.state = ExportJobState.DONE
        export_jobs.job_path(job).parent.mkdir(parents=True, exist_ok=True)
        export_jobs.job_path(job).write_bytes(b"\xef\xbb\xbftag\r\n")
        return job

    @kept
    def token(self) -> ApiToken:
        owner = self.users["engineer_a"]
        token, _plaintext = org_service.create_api_token(
            self.session, owner, name="采集", scopes=["readings:write"], actor=owner
        )
        return token

    # leakfree: rules
    @kept
    def rule_document(self) -> RuleDocument:
        stored = rule_documents.store_rule_file(io.BytesIO(b"%PDF-1.4 rule"), "rule.pdf")
        data = RuleDocumentCreate(
            kind=RuleDocumentKind.LEAK_FREE,
            code="SB-ZD-012",
            title="无泄漏创建管理办法",
            version_label="2026版",
            effective_date=date(2026, 1, 1),
        )
        return rule_documents.create_rule_document(self.session, data, stored, actor=self.admin)

    # What a request names.

    def value(self, path: str, name: str) -> object:
        """The value of the path parameter ``name`` in ``path``: a record of workshop A."""
        for (param, prefix), make in _SECTION_VALUES.items():
            if name == param and path.startswith(prefix):
                return make(self)
        return _PATH_VALUES[name](self)

    def fill(self, path: str) -> str:
        return _PATH_PARAMETER.sub(lambda match: str(self.value(path, match[1])), path)

    def bearer(self, role: str) -> dict[str, str]:
        """A token with every scope the role allows (committed: refused requests roll back)."""
        user = self.users[role]
        _token, plaintext = org_service.create_api_token(
            self.session, user, name="probe", scopes=sorted(org_service.allowed_scopes(user.role)), actor=user
        )
        self.session.commit()
        return {"Authorization": f"Bearer {plaintext}"}


_PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
# Parameters whose record depends on the section (a line of an order, a plan or a stocktake).
_SECTION_VALUES: dict[tuple[str, str], Callable[[World], object]] = {
    ("line_id", "/orders/"): lambda world: world.cost_line.id,
    ("line_id", "/pm-plans/"): lambda world: world.plan_line.id,
    ("line_id", "/stocktakes/"): lambda world: world.stocktake_line.id,
    ("item_id", "/orders/"): lambda world: world.check.id,
    ("item_id", "/campaigns/"): lambda world: world.campaign_item.id,
    ("point_id", "/monitoring/points/{point_id:int}/thickness"): lambda world: world.thickness_point.id,
    # leakfree: surveys and leaks
    ("entry_id", "/leakfree/"): lambda world: _leakfree_failed_seal_check(world).id,
    # budget: finance journal
    ("entry_id", "/budget/journal/"): lambda world: _budget_journal_entry(world).id,
}
_PATH_VALUES: dict[str, Callable[[World], object]] = {
    "asset_id": lambda world: world.asset.id,
    "document_id": lambda world: world.document.id,
    "campaign_id": lambda world: world.campaign.id,
    "workshop_id": lambda world: world.workshop_a.id,
    "unit_id": lambda world: world.unit.id,
    "user_id": lambda world: world.users["engineer_a"].id,
    "point_id": lambda world: world.point.id,
    "code": lambda world: world.point.code,
    "order_id": lambda world: world.order.id,
    "number": lambda world: world.order.number,
    "name": lambda world: "approve",
    "attachment_id": lambda world: world.attachment.id,
    "plan_id": lambda world: world.plan.id,
    "route_id": lambda world: world.route.id,
    "stop_id": lambda world: world.stop.id,
    "round_id": lambda world: world.round.id,
    "entry_id": lambda world: world.entry.id,
    "stocktake_id": lambda world: world.stocktake.id,
    "surplus_id": lambda world: world.surplus.id,
    "turnaround_id": lambda world: world.turnaround.id,
    "alias_id": lambda world: world.alias.id,
    "mapping_id": lambda world: world.mqtt_mapping.id,
    "token_id": lambda world: world.token.id,
    "job_id": lambda world: world.export_job.id,
    "finding_id": lambda world: world.finding.id,
    "type_id": lambda world: world.inspection_type.id,
    "tag": lambda world: world.asset.tag,
    "object_type": lambda world: "asset",
    "object_id": lambda world: world.asset.id,
    # leakfree: seal-point inventory
    "seal_point_id": lambda world: _seal_point(world).id,
    # leakfree: surveys and leaks
    "survey_id": lambda world: _leakfree_survey(world).id,
    "leak_id": lambda world: _leakfree_leak(world).id,
    # leakfree: certification
    "certification_id": lambda world: _leakfree_certification(world).id,
    # leakfree: rules
    "rule_id": lambda world: world.rule_document.id,
    # budget: the year of the budget routes (target, allocation, read API)
    "year": lambda world: BUDGET_YEAR,
    # scorecard: key projects
    "project_id": lambda world: _key_project(world).id,
    "milestone_id": lambda world: _key_milestone(world).id,
    # scorecard: operating log (January of the budget year: never after the current month)
    "month": lambda world: 1,
    # scorecard: accident register
    "accident_id": lambda world: _accident(world).id,
    "action_id": lambda world: _accident_action(world).id,
    # scorecard: savings ledgers
    "savings_entry_id": lambda world: _savings_entry(world).id,
}


def _failed_check(world: World) -> None:
    order_service.record_check(
        world.session,
        world.order,
        world.check,
        result=ChecklistResult.NOT_OK,
        value=None,
        note="渗漏",
        actor=world.admin,
    )


def _answered(result: ChecklistResult) -> Callable[[World], None]:
    def answer(world: World) -> None:
        part = campaigns.get_campaign_workshop_or_raise(world.session, world.campaign, world.workshop_a.id)  # type: ignore[arg-type]
        campaigns.answer(world.session, part, world.campaign_item, result, "伴热线断", actor=world.admin)

    return answer


def _in_scope(world: World) -> None:
    turnarounds.add_to_scope(world.session, world.turnaround, world.order, tie_in=False, actor=world.admin)


# Special equipment: the item pages and forms act on workshop A's asset made a pressure vessel,
# registered and inspected a year ago (its annual check is due: an application is accepted).
def _special_equipment(world: World) -> None:
    world.asset.special_category = SpecialCategory.PRESSURE_VESSEL
    registration = RegistrationCreate(certificate_number="容RS-1", registration_date=date(2022, 1, 5), authority="市局")
    special_records.register_asset(world.session, world.asset, registration, actor=world.admin, today=plant_today())
    annual = world.session.scalars(select(InspectionType).where(InspectionType.code == "PV-ANNUAL")).one()
    last = InspectionCreate(
        inspection_type_id=annual.id,  # type: ignore[arg-type]
        inspected_date=add_months(plant_today(), -11),
        agency="市特检院",
        result=InspectionResult.PASS,
    )
    special_records.record_inspection(world.session, world.asset, last, actor=world.admin, today=plant_today())


def _seal_point(world: World) -> SealPoint:
    """A seal-point line of workshop A (made once per world, committed like ``kept`` records)."""
    if "seal_point" not in world.__dict__:
        point = SealPoint(code="RS-SP-1", workshop_id=world.workshop_a.id, seal_type=SealType.FLANGE, count=10)  # type: ignore[arg-type]
        world.session.add(point)
        world.session.commit()
        world.__dict__["seal_point"] = point
    point = world.__dict__["seal_point"]
    assert isinstance(point, SealPoint)
    return point


def _seal_point_fields(world: World) -> dict[str, object]:
    return {"code": "RS-SP-2", "workshop_id": world.workshop_a.id, "seal_type": "flange", "location": "出口法兰",
            "count": "4"}  # fmt: skip


def _special_type_id(world: World) -> int:
    return world.session.scalars(select(InspectionType.id).where(InspectionType.code == "PV-ANNUAL")).one()


_SPECIAL_ROUTES = [
    ("GET", "/special-equipment/{asset_id:int}"),
    ("GET", "/special-equipment/{asset_id:int}/records"),
    ("GET", "/special-equipment/{asset_id:int}/banner"),
    ("POST", "/special-equipment/{asset_id:int}/registration"),
    ("POST", "/special-equipment/{asset_id:int}/registration/events"),
    ("POST", "/special-equipment/{asset_id:int}/applications"),
    ("POST", "/special-equipment/{asset_id:int}/inspections"),
]


# leakfree: certification. Workshop A's application, made on first use ten days ago, put in the
# state the step acts on (certified five days ago for revoking).
def _leakfree_certification(world: World) -> Certification:
    found: Certification | None = getattr(world, "leakfree_certification", None)
    if found is None:
        found = Certification(workshop_id=world.workshop_a.id, applied_date=plant_today() - timedelta(days=10))  # type: ignore[arg-type]
        world.session.add(found)
        world.session.commit()
        world.leakfree_certification = found  # type: ignore[attr-defined]
    return found


def _leakfree_certification_in(state: CertificationState) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        cert = _leakfree_certification(world)
        cert.state = state
        if state == CertificationState.CERTIFIED:
            cert.certified_date = cert.assessed_date = plant_today() - timedelta(days=5)
            cert.valid_until = leakfree_rules.valid_until(cert.certified_date)

    return prepare


def _leakfree_ready_to_self_assess(world: World) -> None:
    """An application whose workshop's records bear its checklist out: an inventory and a survey
    within the month, without leaks."""
    _seal_point(world)
    _leakfree_survey(world)
    _leakfree_certification_in(CertificationState.APPLIED)(world)


# What the record must be in before the route can act on it (a failed check raises an order).
PREPARE: dict[tuple[str, str], Callable[[World], None]] = {
    **dict.fromkeys(_SPECIAL_ROUTES, _special_equipment),
    ("POST", "/orders/{order_id:int}/checks/{item_id:int}/raise"): _failed_check,
    ("POST", "/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/items/{item_id:int}/raise"): _answered(
        ChecklistResult.NOT_OK
    ),
    ("POST", "/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/submit"): _answered(ChecklistResult.OK),
    ("POST", "/turnarounds/{turnaround_id:int}/scope/{order_id:int}/remove"): _in_scope,
    # leakfree: surveys and leaks
    ("POST", "/leakfree/leaks/{leak_id:int}/recheck"): lambda world: _leakfree_repaired(world),
    # leakfree: certification
    ("POST", "/leakfree/certifications/{certification_id:int}/self-assessment"): _leakfree_ready_to_self_assess,
    ("POST", "/leakfree/certifications/{certification_id:int}/submit"): _leakfree_certification_in(
        CertificationState.SELF_ASSESSED
    ),
    ("POST", "/leakfree/certifications/{certification_id:int}/assessment"): _leakfree_certification_in(
        CertificationState.IN_ASSESSMENT
    ),
    ("POST", "/leakfree/certifications/{certification_id:int}/revoke"): _leakfree_certification_in(
        CertificationState.CERTIFIED
    ),
    # budget: target, allocation grid and plan import (a cell is of a year with a target)
    ("POST", "/budget/{year}/allocation/cell"): lambda world: _budget_year(world),
}


def _order_fields(world: World) -> dict[str, object]:
    return {
        "order_type": "CM",
        "asset_tag": world.asset.tag,
        "title": "机封泄漏",
        "priority": "3",
        "provider": "in_house",
    }


def _plan_fields(world: World) -> dict[str, object]:
    return {
        "asset_tag": world.asset.tag,
        "title": "季度保养",
        "basis": "fixed",
        "interval": "3",
        "interval_unit": "month",
        "start_date": "2026-12-01",
        "lead_days": "7",
        "priority": "3",
        "provider": "in_house",
        "is_active": "on",
    }


def _route_fields(world: World) -> dict[str, object]:
    return {
        "code": "RS-R-2",
        "name": "二号机泵点检",
        "workshop_id": world.workshop_a.id,
        "frequency": "day",
        "is_active": "on",
    }


def _point_fields(world: World) -> dict[str, object]:
    return {
        "code": "RS-P-2",
        "asset_tag": world.asset.tag,
        "name": "非驱动端振动",
        "quantity": "vibration",
        "is_active": "on",
    }


def _finding_fields(world: World) -> dict[str, object]:
    return {
        "kind": "rectification",
        "workshop_id": world.workshop_a.id,
        "issued_date": "2026-03-10",
        "issued_by": "市特检院",
        "description": "压力表未检",
        "status": "open",
    }


def _inspection_type_fields(world: World) -> dict[str, object]:
    return {
        "code": world.inspection_type.code,
        "category": world.inspection_type.category.value,
        "name": world.inspection_type.name,
        "name_en": world.inspection_type.name_en,
        "interval_months": world.inspection_type.interval_months,
        "reminder_days": world.inspection_type.reminder_days,
        "is_active": "true",
        "version": world.inspection_type.version,
    }


_COST_LINE = {"kind": "service", "description": "外委检修", "quantity": "1", "unit_price_cny": "100"}

# A filled-in form per state-changing page: what its page would send.
FORMS: dict[tuple[str, str], Callable[[World], dict[str, object]]] = {
    ("POST", "/login"): lambda world: {"username": world.users["engineer_a"].username, "password": factories.PASSWORD},
    ("POST", "/tokens"): lambda world: {"name": "采集", "expires_on": "2027-03-01", "scopes": "assets:read"},
    ("POST", "/stocktakes/new"): lambda world: {"workshop_id": world.workshop_a.id},
    ("POST", "/stocktakes/{stocktake_id}/lines/{line_id}"): lambda world: {"result": "found"},
    ("POST", "/stocktakes/{stocktake_id}/surplus"): lambda world: {"description": "无铭牌电机"},
    ("POST", "/orders/new"): _order_fields,
    ("POST", "/orders/{order_id:int}/edit"): lambda world: _order_fields(world) | {"version": world.order.version},
    ("POST", "/orders/{order_id:int}/actions/{name}"): lambda world: {"version": world.order.version},
    ("POST", "/orders/{order_id:int}/failure"): lambda world: {"version": world.order.version},
    ("POST", "/orders/{order_id:int}/notes"): lambda world: {"findings": "机封磨损", "version": world.order.version},
    ("POST", "/orders/{order_id:int}/costs"): lambda world: _COST_LINE,
    ("POST", "/orders/{order_id:int}/costs/{line_id:int}"): lambda world: _COST_LINE,
    ("POST", "/orders/{order_id:int}/checks"): lambda world: {"text": "联轴器对中"},
    ("POST", "/orders/{order_id:int}/checks/{item_id:int}"): lambda world: {"result": "ok"},
    ("POST", "/pm-plans/new"): _plan_fields,
    ("POST", "/pm-plans/{plan_id:int}/edit"): lambda world: _plan_fields(world) | {"version": world.plan.version},
    ("POST", "/pm-plans/{plan_id:int}/lines"): lambda world: _COST_LINE,
    ("POST", "/pm-plans/{plan_id:int}/meter"): lambda world: {"hours": "1200"},
    ("POST", "/turnarounds/{turnaround_id:int}/scope"): lambda world: {"number": world.order.number},
    ("POST", "/turnarounds/{turnaround_id:int}/scope/{order_id:int}/remove"): lambda world: {
        "version": world.order.version
    },
    ("POST", "/monitoring/points/new"): _point_fields,
    ("POST", "/monitoring/points/{point_id:int}/edit"): lambda world: (
        _point_fields(world) | {"code": world.point.code, "version": world.point.version}
    ),
    ("POST", "/monitoring/points/{point_id:int}/readings"): lambda world: {
        "value": "1.2",
        "taken_at": "2026-01-05T08:00",
    },
    ("POST", "/rounds/start"): lambda world: {"route_id": world.stop.route_id},
    ("POST", "/rounds/{round_id:int}/stops/{stop_id:int}"): lambda world: {"value": "1.5"},
    ("POST", "/rounds/routes/new"): _route_fields,
    ("POST", "/rounds/routes/{route_id:int}/edit"): lambda world: (
        _route_fields(world) | {"code": world.route.code, "version": world.route.version}
    ),
    ("POST", "/rounds/routes/{route_id:int}/stops"): lambda world: {
        "kind": "check",
        "asset_tag": world.asset.tag,
        "check_text": "地脚螺栓紧固",
    },
    ("POST", "/rounds/routes/{route_id:int}/stops/{stop_id:int}/move"): lambda world: {"direction": "up"},
    ("POST", "/campaigns/{campaign_id:int}/workshops/{workshop_id:int}/items/{item_id:int}"): lambda world: {
        "result": "ok"
    },
    # Special equipment: the item's forms
    ("POST", "/special-equipment/{asset_id:int}/registration"): lambda world: {
        "certificate_number": "容RS-2",
        "registration_date": "2022-01-05",
        "authority": "市局",
        "version": "1",
    },
    ("POST", "/special-equipment/{asset_id:int}/registration/events"): lambda world: {
        "kind": "change",
        "event_date": "2024-05-06",
        "description": "使用单位名称变更",
    },
    ("POST", "/special-equipment/{asset_id:int}/applications"): lambda world: {
        "inspection_type_id": _special_type_id(world),
        "applied_date": plant_today().isoformat(),
        "agency": "市特检院",
    },
    ("POST", "/special-equipment/{asset_id:int}/inspections"): lambda world: {
        "inspection_type_id": _special_type_id(world),
        "inspected_date": plant_today().isoformat(),
        "agency": "市特检院",
        "result": "pass",
    },
    ("POST", "/special-equipment/findings/new"): _finding_fields,
    ("POST", "/special-equipment/findings/{finding_id:int}"): lambda world: (
        _finding_fields(world) | {"status": "rectifying", "version": world.finding.version}
    ),
    ("POST", "/admin/special-inspection-types/new"): lambda world: (
        _inspection_type_fields(world) | {"code": "GC-PERIODIC", "category": "gas_cylinder"}
    ),
    ("POST", "/admin/special-inspection-types/{type_id:int}"): _inspection_type_fields,
    ("POST", "/admin/mqtt/mappings/new"): lambda world: {"topic": "site/{point}/value", "position": 20},
    ("POST", "/admin/mqtt/mappings/{mapping_id:int}"): lambda world: {
        "topic": "plant/{workshop}/{point}/reading",
        "position": 10,
        "version": world.mqtt_mapping.version,
    },
    # leakfree: seal-point inventory
    ("POST", "/leakfree/seal-points/new"): _seal_point_fields,
    ("POST", "/leakfree/seal-points/{seal_point_id:int}"): lambda world: (
        _seal_point_fields(world) | {"code": _seal_point(world).code, "version": _seal_point(world).version}
    ),
    ("POST", "/leakfree/seal-points/{seal_point_id:int}/retire"): lambda world: {
        "version": _seal_point(world).version,
        "confirm": "yes",
    },
    ("POST", "/leakfree/seal-points/{seal_point_id:int}/reinstate"): lambda world: {
        "version": _seal_point(world).version
    },
    # leakfree: surveys and leaks
    ("POST", "/leakfree/surveys/new"): lambda world: {
        "workshop_id": world.workshop_a.id,
        "survey_date": plant_today().isoformat(),
        "surveyed_by": "检测组",
    },
    ("POST", "/leakfree/leaks/from-round/{entry_id:int}"): lambda world: {"kind": "dynamic", "severity": "drip"},
    ("POST", "/leakfree/leaks/{leak_id:int}/repaired"): lambda world: {
        "version": "1",
        "repaired_date": plant_today().isoformat(),
    },
    ("POST", "/leakfree/leaks/{leak_id:int}/recheck"): lambda world: {
        "version": "1",
        "rechecked_date": plant_today().isoformat(),
        "result": "tight",
    },
    ("POST", "/leakfree/leaks/{leak_id:int}/photo"): lambda world: {"version": "1"},
    # leakfree: certification
    ("POST", "/leakfree/certifications/new"): lambda world: {
        "workshop_id": world.workshop_a.id,
        "applied_date": plant_today().isoformat(),
    },
    ("POST", "/leakfree/certifications/{certification_id:int}/self-assessment"): lambda world: {
        **dict.fromkeys(("inventory_complete", "survey_recent", "thresholds_met", "documents_in_place"), "true"),
        "self_assessed_date": plant_today().isoformat(),
        "version": _leakfree_certification(world).version,
    },
    ("POST", "/leakfree/certifications/{certification_id:int}/submit"): lambda world: {
        "version": _leakfree_certification(world).version
    },
    ("POST", "/leakfree/certifications/{certification_id:int}/assessment"): lambda world: {
        "assessor": "机动部",
        "assessed_date": plant_today().isoformat(),
        "result": "certified",
        "version": _leakfree_certification(world).version,
    },
    ("POST", "/leakfree/certifications/{certification_id:int}/revoke"): lambda world: {
        "revoked_date": plant_today().isoformat(),
        "revoke_reason": "复查泄漏率超标",
        "version": _leakfree_certification(world).version,
    },
    # leakfree: rules
    ("POST", "/leakfree/rules/new"): lambda world: {
        "kind": "leak_free",
        "code": "SB-ZD-099",
        "title": "无泄漏创建管理办法",
        "version_label": "2026版",
        "effective_date": "2026-07-01",
    },
    # budget: target, allocation grid and plan import
    ("POST", "/budget/{year}/target"): lambda world: {
        "target": "1560",
        "note": "降本50%",
        **{f"baseline_{year}": "3120" for year in range(BUDGET_YEAR - 3, BUDGET_YEAR)},
    },
    ("POST", "/budget/{year}/allocation/cell"): lambda world: {
        "workshop_id": world.workshop_a.id,
        "category": "materials",
        "month": "3",
        "amount": "12.5",
    },
    # budget: finance journal
    ("POST", "/budget/journal/{entry_id:int}/delete"): lambda world: {},
    # scorecard: key projects
    ("POST", "/scorecard/projects/new"): lambda world: _key_project_fields(world) | {"code": "RS-KP-2"},
    ("POST", "/scorecard/projects/{project_id:int}/edit"): lambda world: (
        _key_project_fields(world) | {"version": _key_project(world).version}
    ),
    ("POST", "/scorecard/projects/{project_id:int}/milestones"): lambda world: {
        "name": "设备到货",
        "due_date": "2026-05-15",
        "version": _key_project(world).version,
    },
    ("POST", "/scorecard/projects/{project_id:int}/milestones/{milestone_id:int}/edit"): lambda world: {
        "name": "并网",
        "due_date": "2026-06-20",
        "version": _key_project(world).version,
    },
    ("POST", "/scorecard/projects/{project_id:int}/milestones/{milestone_id:int}/done"): lambda world: {
        "done_on": plant_today().isoformat(),
        "version": _key_project(world).version,
    },
    ("POST", "/scorecard/projects/{project_id:int}/milestones/{milestone_id:int}/delete"): lambda world: {
        "version": _key_project(world).version
    },
    # scorecard: operating log (a unit of workshop A)
    ("POST", "/scorecard/operating/{year}/{month}"): lambda world: {
        f"hours_run-{world.unit.id}": "700",
        f"planned_hours-{world.unit.id}": "744",
        f"load_pct-{world.unit.id}": "95",
    },
    # scorecard: the year's targets (a load rate of 88 %, the others their defaults)
    ("POST", "/scorecard/targets"): lambda world: {"value_load": "88"},
    # scorecard: accident register
    ("POST", "/scorecard/accidents/new"): lambda world: _accident_fields(world),
    ("POST", "/scorecard/accidents/{accident_id:int}/edit"): lambda world: (
        _accident_fields(world) | {"version": _accident(world).version}
    ),
    ("POST", "/scorecard/accidents/{accident_id:int}/delete"): lambda world: {},
    ("POST", "/scorecard/accidents/{accident_id:int}/actions"): lambda world: {"description": "更换机封"},
    ("POST", "/scorecard/accidents/{accident_id:int}/actions/{action_id:int}"): lambda world: {
        "description": "更换串联机封",
        "owner": "张工",
        "version": _accident_action(world).version,
    },
    ("POST", "/scorecard/accidents/{accident_id:int}/actions/{action_id:int}/done"): lambda world: {
        "done_on": plant_today().isoformat()
    },
    ("POST", "/scorecard/accidents/{accident_id:int}/actions/{action_id:int}/delete"): lambda world: {},
    ("POST", "/scorecard/accidents/{accident_id:int}/actions/{action_id:int}/order"): lambda world: {},
    # scorecard: savings ledgers
    ("POST", "/scorecard/savings/new"): lambda world: _savings_fields(world),
    ("POST", "/scorecard/savings/{savings_entry_id:int}"): lambda world: (
        _savings_fields(world) | {"version": _savings_entry(world).version}
    ),
    ("POST", "/scorecard/savings/{savings_entry_id:int}/delete"): lambda world: {
        "version": _savings_entry(world).version
    },
    # notifications ("mark read" names one of the user's own notifications, which differ by role:
    # it is sent without one and refused with 422, which is not a refusal for who sent it)
    ("POST", "/notifications/read-all"): lambda world: {},
    ("POST", "/notifications/preferences"): lambda world: {},  # every topic off: valid for every role
    ("POST", "/notifications/preferences/email"): lambda world: {"email": "me@plant.example", "language": "en"},
    # No address of the admin's own: a warning, no mail (e-mail is off in the tests anyway).
    ("POST", "/notifications/preferences/test-email"): lambda world: {},
}
# Uploads, as (form field, file name, content).
FILES: dict[tuple[str, str], tuple[str, str, bytes]] = {
    ("POST", "/assets/{asset_id}/documents"): ("file", "manual.txt", b"operating manual"),
    ("POST", "/orders/{order_id:int}/attachments"): ("file", "note.txt", b"site note"),
    # leakfree: surveys and leaks
    ("POST", "/leakfree/leaks/{leak_id:int}/photo"): ("photo", "leak.png", PNG),
    # leakfree: rules
    ("POST", "/leakfree/rules/new"): ("file", "rules.pdf", b"%PDF-1.4 rules"),
}
# The JSON API's bodies.
API_BODIES: dict[tuple[str, str], Callable[[World], object]] = {
    ("POST", "/api/v1/readings"): lambda world: [
        {"point": world.point.code, "taken_at": "2026-01-05T08:00:00+08:00", "value": 1.0}
    ],
    ("POST", "/api/v1/orders"): lambda world: {"type": "CM", "asset_tag": world.asset.tag, "title": "机封泄漏"},
}


def reading_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Reading)) or 0


def test_every_route_declares_who_may_use_it() -> None:
    missing = [f"{method} {path}" for method, path in ROUTES if (method, path) not in POLICY]
    assert not missing, "declare in POLICY who may use: " + ", ".join(missing)


def test_the_policy_and_its_forms_name_existing_routes() -> None:
    routes = set(ROUTES)
    for table in (POLICY, FORMS, FILES, API_BODIES, PREPARE):
        assert set(table) <= routes, sorted(set(table) - routes)


# Records only their owner knows of: anyone else is told they do not exist (404), not refused.
HIDDEN_FROM_OTHERS = {path for (_method, path), rule in POLICY.items() if rule is Rule.SELF}


def _refused(response: Response, role: str, path: str) -> bool:
    if path.startswith(JSON_API_PREFIX):
        return response.status_code == (401 if role == "anonymous" else 403)
    if role == "anonymous":
        return response.status_code == 303 and urlsplit(response.headers["location"]).path == "/login"
    return response.status_code == (404 if path in HIDDEN_FROM_OTHERS else 403)


@pytest.mark.parametrize("path", sorted({path for _method, path in ROUTES}))
def test_a_method_a_route_does_not_serve_is_refused(walker: TestClient, session: Session, path: str) -> None:
    """405, or the 4xx of another route the address also matches (GET /stocktakes/new is the
    stocktake "new": 422); never served, never a 500."""
    login(walker, World(session).admin)
    served = {method for method, served_path in ROUTES if served_path == path}
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - served):
        response = walker.request(method, fill(path))
        assert 400 <= response.status_code < 500, f"{method} {path}: {response.status_code}"
        assert response.status_code == 405 or method == "GET", f"{method} {path}: {response.status_code}"


@pytest.fixture(scope="module")
def one_client() -> Iterator[tuple[FastAPI, TestClient]]:
    """One app and client for the thousand requests below (building an app per test doubled
    their time); each test points it at its own session and starts without cookies."""
    app = create_app()
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield app, client


@pytest.fixture
def walker(one_client: tuple[FastAPI, TestClient], session: Session) -> Iterator[TestClient]:
    app, client = one_client

    def _test_session() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = _test_session
    client.cookies.clear()
    yield client
    app.dependency_overrides.clear()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=_id)
def test_each_role_is_let_through_or_refused_as_the_policy_says(
    walker: TestClient, session: Session, route: tuple[str, str], role: str
) -> None:
    client = walker
    if route not in POLICY:
        pytest.fail(f"{_id(route)} declares no policy")
    method, path = route
    world = World(session)
    if route in PREPARE:
        PREPARE[route](world)
        session.commit()
    url = world.fill(path)
    if path.startswith(JSON_API_PREFIX):
        headers = world.bearer(role) if role != "anonymous" else {}
        body = API_BODIES[route](world) if route in API_BODIES else None
        before = change_count(session), reading_count(session)
        response = client.request(method, url, headers=headers, json=body)
    else:
        token = csrf_token(client) if role == "anonymous" else login(client, world.users[role])
        data: dict[str, object] | None = None
        files = None
        if method in STATE_CHANGING:
            data = {**(FORMS[route](world) if route in FORMS else {}), "csrf_token": token}
            if route in FILES:
                field, filename, content = FILES[route]
                files = {field: (filename, io.BytesIO(content), "text/plain")}
        before = change_count(session), reading_count(session)
        response = client.request(method, url, data=data, files=files)

    rule = POLICY[route]
    if role in ALLOWED[rule]:
        assert response.status_code < 500, response.text[:2000]
        assert response.status_code not in (401, 403), response.text[:2000]
        if rule is not Rule.PUBLIC:  # logging out ends on the login page
            assert not _refused(response, role, path), f"{role} refused: {response.status_code}"
        if route in FORMS or route in FILES or route in API_BODIES:
            assert response.status_code < 400, response.text[:2000]
    else:
        assert _refused(response, role, path), f"{role} let through: {response.status_code} {response.text[:500]}"
        assert (change_count(session), reading_count(session)) == before, "a refused request wrote something"


# --- leakfree: surveys and leaks -------------------------------------------------------------
# Records of workshop A, made once per plant (kept in the world's attributes) and committed.


def _leakfree_kept(world: World, name: str, make: Callable[[], T]) -> T:
    if name not in world.__dict__:
        world.__dict__[name] = make()
        world.session.commit()
    return cast(T, world.__dict__[name])


def _leakfree_survey(world: World) -> LeakSurvey:
    def make() -> LeakSurvey:
        survey = LeakSurvey(
            workshop_id=world.workshop_a.id,  # type: ignore[arg-type]
            survey_date=plant_today() - timedelta(days=3),
            surveyed_by="检测组",
            static_points=100,
            dynamic_points=10,
        )
        world.session.add(survey)
        world.session.flush()
        return survey

    return _leakfree_kept(world, "leakfree_survey", make)


def _leakfree_leak(world: World) -> Leak:
    """An open leak on workshop A's asset, found two days ago, with a photo."""

    def make() -> Leak:
        photo = files.store_upload(io.BytesIO(PNG), "leak.png")
        leak = Leak(
            workshop_id=world.workshop_a.id,  # type: ignore[arg-type]
            asset_id=world.asset.id,
            kind=SealKind.STATIC,
            severity=LeakSeverity.SEEP,
            found_date=plant_today() - timedelta(days=2),
            photo_sha256=photo.sha256,
            photo_content_type=photo.content_type,
        )
        world.session.add(leak)
        world.session.flush()
        return leak

    return _leakfree_kept(world, "leakfree_leak", make)


def _leakfree_repaired(world: World) -> None:
    leak = _leakfree_leak(world)
    leak.status = LeakStatus.REPAIRED
    leak.repaired_date = plant_today() - timedelta(days=1)
    world.session.commit()


def _leakfree_failed_seal_check(world: World) -> RoundEntry:
    """A check "机封无泄漏" on workshop A's route, marked not OK on its round."""

    def make() -> RoundEntry:
        stop = RouteStop(route_id=world.route.id, position=90, asset_id=world.asset.id, check_text="机封无泄漏")  # type: ignore[arg-type]
        world.session.add(stop)
        world.session.flush()
        entry = RoundEntry(round_id=world.round.id, stop_id=stop.id, result=ChecklistResult.NOT_OK, note="机封滴油")  # type: ignore[arg-type]
        world.session.add(entry)
        world.session.flush()
        return entry

    return _leakfree_kept(world, "leakfree_failed_seal_check", make)


# --- budget: target, allocation grid and plan import ----------------------------------------
BUDGET_YEAR = 2026


def _budget_year(world: World) -> None:
    world.session.add(BudgetYear(year=BUDGET_YEAR, target_cny=Decimal("15600000.00")))
    world.session.commit()


# --- budget: finance journal -------------------------------------------------------------------


def _budget_journal_entry(world: World) -> JournalEntry:
    """A voucher of workshop A's, booked once per plant."""

    def make() -> JournalEntry:
        entry = JournalEntry(
            booked_on=plant_today(),
            workshop_id=world.workshop_a.id,  # type: ignore[arg-type]
            category=CostCategory.SERVICES,
            amount_cny=Decimal("1200.00"),
            reference="RS-JOURNAL-1",
        )
        world.session.add(entry)
        world.session.flush()
        return entry

    return _leakfree_kept(world, "budget_journal_entry", make)


# --- scorecard: key projects ---------------------------------------------------------------------


def _key_project_fields(world: World) -> dict[str, object]:
    return {"year": "2026", "code": "RS-KP-1", "name": "余热发电并网", "workshop_id": world.workshop_a.id,
            "start_date": "2026-01-05", "due_date": "2026-06-30"}  # fmt: skip


def _key_project(world: World) -> Project:
    """Workshop A's key project, made once per plant."""

    def make() -> Project:
        project = Project(year=2026, code="RS-KP-1", name="余热发电并网", workshop_id=world.workshop_a.id,  # type: ignore[arg-type]
                          start_date=date(2026, 1, 5), due_date=date(2026, 6, 30))  # fmt: skip
        world.session.add(project)
        world.session.flush()
        return project

    return _leakfree_kept(world, "key_project", make)


def _key_milestone(world: World) -> Milestone:
    def make() -> Milestone:
        milestone = Milestone(project_id=_key_project(world).id, name="并网", due_date=date(2026, 6, 20))  # type: ignore[arg-type]
        world.session.add(milestone)
        world.session.flush()
        return milestone

    return _leakfree_kept(world, "key_milestone", make)


# --- scorecard: accident register ------------------------------------------------------------


def _accident(world: World) -> Accident:
    """An accident of workshop A's asset, three days ago, made once per plant."""

    def make() -> Accident:
        accident = Accident(
            occurred_on=plant_today() - timedelta(days=3),
            asset_id=world.asset.id,  # type: ignore[arg-type]
            workshop_id=world.workshop_a.id,  # type: ignore[arg-type]
            accident_class=AccidentClass.GENERAL,
            title="机封泄漏着火",
        )
        world.session.add(accident)
        world.session.flush()
        return accident

    return _leakfree_kept(world, "accident", make)


def _accident_action(world: World) -> AccidentAction:
    def make() -> AccidentAction:
        action = AccidentAction(accident_id=_accident(world).id, description="更换机封")  # type: ignore[arg-type]
        world.session.add(action)
        world.session.flush()
        return action

    return _leakfree_kept(world, "accident_action", make)


def _accident_fields(world: World) -> dict[str, object]:
    return {
        "asset_tag": world.asset.tag,
        "occurred_on": plant_today().isoformat(),
        "accident_class": "general",
        "title": "机封泄漏着火",
        "downtime_hours": "8",
        "loss_cny": "12000",
    }


# --- scorecard: savings ledgers --------------------------------------------------------------


def _savings_entry(world: World) -> SavingsEntry:
    """A refurbish-and-reuse saving of workshop A's, entered once per plant."""

    def make() -> SavingsEntry:
        entry = SavingsEntry(
            kind=SavingsKind.REFURBISH,
            recorded_on=plant_today(),
            workshop_id=world.workshop_a.id,
            description="叶轮修复利用",
            quantity=Decimal(1),
            reference_price_cny=Decimal("8000.00"),
            actual_price_cny=Decimal("1500.00"),
            saving_cny=Decimal("6500.00"),
        )
        world.session.add(entry)
        world.session.flush()
        return entry

    return _leakfree_kept(world, "savings_entry", make)


def _savings_fields(world: World) -> dict[str, object]:
    return {
        "kind": "refurbish",
        "recorded_on": plant_today().isoformat(),
        "workshop_id": world.workshop_a.id,
        "description": "机封修复利用",
        "quantity": "2",
        "reference_price_cny": "3000",
        "actual_price_cny": "800",
    }
