"""The application factory: middleware, routers, error handlers and static files.

This module and ``cli.py`` are the only ones that know every domain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from maintenance import export_jobs, files, home, web
from maintenance.assets import api as asset_api
from maintenance.assets import class_alias_routes, labels
from maintenance.assets import import_routes as asset_import_routes
from maintenance.assets import routes as asset_routes
from maintenance.assets.documents import routes as document_routes
from maintenance.assets.imports import reading as asset_import_reading
from maintenance.assets.stocktake import routes as stocktake_routes
from maintenance.audit import routes as audit_routes
from maintenance.body_limits import BodyLimit, BodyLimitMiddleware
from maintenance.budget import allocation_routes as budget_allocation_routes
from maintenance.budget import api as budget_api
from maintenance.budget import drilldown_routes as budget_drilldown_routes
from maintenance.budget import journal_import
from maintenance.budget import journal_routes as budget_journal_routes
from maintenance.budget import plan_import as budget_plan_import
from maintenance.budget import routes as budget_routes
from maintenance.config import PACKAGE_ROOT, get_settings
from maintenance.exception_handlers import add_exception_handlers
from maintenance.i18n import LocaleMiddleware
from maintenance.inspections import campaign_routes, round_routes
from maintenance.leakfree import api as leakfree_api
from maintenance.leakfree import board_routes as leakfree_board_routes
from maintenance.leakfree import certification_routes as leakfree_certification_routes
from maintenance.leakfree import inventory_import
from maintenance.leakfree import inventory_import_routes as leakfree_inventory_import_routes
from maintenance.leakfree import leak_routes as leakfree_leak_routes
from maintenance.leakfree import routes as leakfree_routes
from maintenance.leakfree import rule_routes as leakfree_rule_routes
from maintenance.leakfree import seal_point_routes as leakfree_seal_point_routes
from maintenance.leakfree import survey_routes as leakfree_survey_routes
from maintenance.leakfree import workshop_routes as leakfree_workshop_routes
from maintenance.monitoring import api as monitoring_api
from maintenance.monitoring import routes as monitoring_routes
from maintenance.monitoring.mqtt import routes as mqtt_routes
from maintenance.monitoring.readings import import_routes as reading_import_routes
from maintenance.monitoring.readings import imports as reading_imports
from maintenance.monitoring.thickness import routes as thickness_routes
from maintenance.orders import api as order_api
from maintenance.orders import order_routes
from maintenance.orders import routes as order_list_routes
from maintenance.orders.kpis import routes as kpi_routes
from maintenance.orders.pm import routes as pm_routes
from maintenance.orders.turnarounds import routes as turnaround_routes
from maintenance.org import api as org_api
from maintenance.org import auth as org_auth
from maintenance.org import export_job_routes, permissions, token_routes
from maintenance.org import routes as org_routes
from maintenance.org.auth import current_user
from maintenance.scorecard import api as scorecard_api
from maintenance.scorecard import routes as scorecard_routes
from maintenance.scorecard import service as scorecard_service
from maintenance.scorecard.accidents import routes as accident_routes
from maintenance.scorecard.notifications import routes as notification_routes
from maintenance.scorecard.operating import routes as operating_routes
from maintenance.scorecard.projects import routes as project_routes
from maintenance.scorecard.savings import routes as savings_routes
from maintenance.security import RequestContextMiddleware, csrf_protect, refuse_nul_characters
from maintenance.special import api as special_api
from maintenance.special import coverage_routes as special_coverage_routes
from maintenance.special import due_routes as special_due_routes
from maintenance.special import finding_routes as special_finding_routes
from maintenance.special import import_routes as special_import_routes
from maintenance.special import item_routes as special_item_routes
from maintenance.special import ledger_import
from maintenance.special import routes as special_routes
from maintenance.special import type_routes as special_type_routes

# The most a request body may hold (checked from Content-Length and while it streams in, before
# anything parses it): ordinary forms (two 4,000-character fields of Chinese, URL-encoded, fit),
# the JSON API (a batch of 10,000 readings), and uploads: their file limit and room for the form.
FORM_BODY_BYTES = 256 * 1024
API_BODY_BYTES = 4 * 2**20
_FORM_ROOM = 64 * 1024
# Files attached to a work order at once.
ORDER_ATTACHMENTS_AT_ONCE = 5
# Leaks (each with a photo) recorded with one survey.
LEAK_PHOTOS_AT_ONCE = 10
BODY_LIMITS = (
    BodyLimit("/api/v1/.*", API_BODY_BYTES),
    BodyLimit("/assets/import/preview", asset_import_reading.MAX_UPLOAD_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/monitoring/import", reading_imports.MAX_UPLOAD_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/special-equipment/import/preview", ledger_import.MAX_UPLOAD_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/assets/[0-9]+/documents", files.MAX_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/rounds/[0-9]+/stops/[0-9]+", files.MAX_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/special-equipment/findings/(new|[0-9]+)", files.MAX_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/orders/[0-9]+/attachments", ORDER_ATTACHMENTS_AT_ONCE * files.MAX_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/special-equipment/[0-9]+/inspections", files.MAX_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/leakfree/seal-points/import/preview", inventory_import.MAX_UPLOAD_BYTES + _FORM_ROOM, upload=True),
    BodyLimit(
        "/budget/[0-9]+/allocation/import/preview", budget_plan_import.MAX_UPLOAD_BYTES + _FORM_ROOM, upload=True
    ),
    # A survey's leaks each may carry a photo.
    BodyLimit("/leakfree/surveys/new", LEAK_PHOTOS_AT_ONCE * files.MAX_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/leakfree/leaks/[0-9]+/photo", files.MAX_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/leakfree/rules/new", files.MAX_BYTES + _FORM_ROOM, upload=True),
    BodyLimit("/budget/journal/import/preview", journal_import.MAX_UPLOAD_BYTES + _FORM_ROOM, upload=True),
)

API_DESCRIPTION = """JSON API for integrators (ERP, historians, reporting).

Authenticate with `Authorization: Bearer <token>`; create tokens with
`maintenance token create --user U --scope SCOPE` or on the API tokens page (`/tokens`). Each
endpoint names the scope it needs; a token carries only scopes its user's role allows (auditors'
tokens read), acts with its user's rights (engineers write only in their own workshops), and
expires (90 days by default). An expired or revoked token is refused with 401.
Errors are RFC 9457 problem details.
"""


class MaintenanceApp(FastAPI):
    """The request context (request id, security headers) and the locale wrap everything, the
    server-error page included: Starlette draws that page in its outermost layer, outside every
    middleware added with ``add_middleware``."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestContextMiddleware(LocaleMiddleware(super().build_middleware_stack()))


@asynccontextmanager
async def _warmed_up(app: FastAPI) -> AsyncIterator[None]:
    """Compile every template and build the OpenAPI schema before the first request: otherwise
    the first visitor after a start waits for them (about 0.4 s on a page, 0.3 s on the API docs).
    At the stop, export jobs still waiting for a worker are not started."""
    web.compile_all_templates()
    app.openapi()
    yield
    export_jobs.stop_default_runner()


def create_app(*, warm_up: bool = False) -> FastAPI:
    """The application; ``warm_up`` prepares templates and the API schema at startup (the served
    app does; tests, which build many apps, do not)."""
    settings = get_settings()
    app = MaintenanceApp(
        lifespan=_warmed_up if warm_up else None,
        title="Maintenance API",
        version="1",
        description=API_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(csrf_protect), Depends(refuse_nul_characters)],
    )
    # Requests pass RequestContext → Locale → (server errors) → Session → BodyLimit → routes.
    app.add_middleware(
        BodyLimitMiddleware,
        limits=BODY_LIMITS,
        default_bytes=FORM_BODY_BYTES,
        session_user_key=org_auth.SESSION_USER_KEY,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="maintenance_session",
        max_age=int(timedelta(hours=settings.session_max_age_hours).total_seconds()),
        same_site="lax",
        https_only=settings.environment == "prod",
    )
    add_exception_handlers(app)

    app.mount("/static", StaticFiles(directory=PACKAGE_ROOT / "static"), name="static")
    app.include_router(home.router)
    app.state.home_cards = (
        scorecard_routes.HOME_CARD,  # the managers' home page: first for those who may read it
        asset_routes.HOME_CARD,
        order_list_routes.HOME_CARD,
        monitoring_routes.HOME_CARD,
        special_coverage_routes.HOME_CARD,
        leakfree_routes.HOME_CARD,
        budget_routes.HOME_CARD,
    )
    # The layout asks the one policy what to show (web, a core module, knows no domain).
    web.templates.env.globals.update(
        can=permissions.can,
        Capability=permissions.Capability,
        may_read_scorecard=scorecard_service.may_read_scorecard,
    )
    app.include_router(export_job_routes.router)
    app.include_router(org_routes.router)
    app.include_router(token_routes.router)
    app.include_router(class_alias_routes.router)
    app.include_router(special_type_routes.router)
    app.include_router(mqtt_routes.router)
    # Before the asset router: /assets/labels would otherwise match /assets/{asset_id}.
    app.include_router(labels.router)
    app.include_router(stocktake_routes.router)
    app.include_router(document_routes.router)
    app.include_router(asset_import_routes.router)  # before /assets/{asset_id}
    app.include_router(asset_routes.router)
    # The change log imports no domain, so the login it needs is required here.
    app.include_router(audit_routes.router, dependencies=[Depends(current_user)])
    app.include_router(order_list_routes.router)
    app.include_router(kpi_routes.router)
    app.include_router(order_routes.router)
    app.include_router(pm_routes.router)
    app.include_router(turnaround_routes.router)
    app.include_router(reading_import_routes.router)  # before /monitoring/points/{...}
    app.include_router(thickness_routes.router)
    app.include_router(campaign_routes.router)
    app.include_router(monitoring_routes.router)
    app.include_router(round_routes.router)
    app.include_router(special_import_routes.router)
    app.include_router(special_item_routes.router)
    app.include_router(special_finding_routes.router)
    app.include_router(special_routes.router)
    app.include_router(special_due_routes.router)
    app.include_router(special_coverage_routes.router)
    app.include_router(leakfree_inventory_import_routes.router)  # before /leakfree/seal-points/{id}
    app.include_router(leakfree_seal_point_routes.router)
    app.include_router(leakfree_survey_routes.router)
    app.include_router(leakfree_leak_routes.router)
    app.include_router(leakfree_certification_routes.router)
    app.include_router(leakfree_rule_routes.router)
    app.include_router(leakfree_workshop_routes.router)
    app.include_router(leakfree_board_routes.router)
    app.include_router(leakfree_routes.router)
    app.include_router(budget_journal_routes.router)
    app.include_router(budget_allocation_routes.router)
    app.include_router(budget_drilldown_routes.router)
    app.include_router(budget_routes.router)
    app.include_router(savings_routes.router)
    app.include_router(accident_routes.router)
    app.include_router(project_routes.router)
    app.include_router(operating_routes.router)
    app.include_router(scorecard_routes.router)
    app.include_router(notification_routes.router)

    api = APIRouter(prefix="/api/v1")
    api.include_router(org_api.router)
    api.include_router(asset_api.router)
    api.include_router(order_api.router)
    api.include_router(monitoring_api.router)
    api.include_router(special_api.router)
    api.include_router(leakfree_api.router)
    api.include_router(budget_api.router)
    api.include_router(scorecard_api.router)
    app.include_router(api)
    return app


app = create_app(warm_up=True)
