"""Browser tests: Debian's Chromium (through pytest-playwright) against a live uvicorn.

The ``live_server`` fixture builds a throwaway plant once per session (per xdist worker):
a temporary directory with its own SQLite file, ``maintenance db upgrade`` and
``maintenance seed --demo`` run as the operator would, then uvicorn in a subprocess on a
free port (``tests/live_server.py``), whose output is logged at teardown. Overriding
pytest-playwright's ``base_url`` fixture makes every page's context use the live server, so
tests can ``page.goto("/")``.

``tests/conftest.py`` is imported too (it points this process's settings at its own
temporary database); nothing here uses its fixtures, and the server gets its own
environment.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.live_server import DEMO_PASSWORD, PROJECT_ROOT, run_cli, server_env, serving

CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = "apt-get update && apt-get install -y chromium fonts-wqy-microhei fontconfig  (or: make browser-deps)"

# A 2-core machine runs Chromium, uvicorn and argon2 hashing at once: generous, not the 30 s default.
ACTION_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 15_000
EXPECT_TIMEOUT_MS = 7_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e carries the ``e2e`` marker (``-m "not e2e"`` skips the browser)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


# --- The live server ----------------------------------------------------------------------


def _check_built_assets() -> None:
    """Missing front-end files make confusing browser failures; say what to run instead. (The
    translation catalogs are compiled by tests/conftest.py when stale.)"""
    if not (PROJECT_ROOT / "src/maintenance/static/vendor/bootstrap/bootstrap.min.css").exists():
        pytest.fail(
            "Run `make setup` first (or use `make e2e`):\n  src/maintenance/static/vendor is not populated",
            pytrace=False,
        )


# The SQLite file behind each live server's URL, for tests that check what reached the database.
_LIVE_DATABASES: dict[str, Path] = {}


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The base URL (no trailing slash) of a freshly migrated and seeded demo plant."""
    _check_built_assets()
    tmp = Path(tempfile.mkdtemp(prefix="maintenance-e2e-"))
    try:
        env = server_env(tmp, f"sqlite:///{tmp / 'e2e.db'}")
        run_cli(env, "db", "upgrade")
        run_cli(env, "seed", "--demo")
        with serving(env, tmp) as url:
            _LIVE_DATABASES[url] = tmp / "e2e.db"
            yield url
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def live_database(live_server: str) -> Path:
    """The live server's SQLite file: read it (the server writes), to check what a page stored."""
    return _LIVE_DATABASES[live_server]


# --- pytest-playwright configuration ------------------------------------------------------


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright passes this to every browser context, so ``page.goto("/login")`` works."""
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Playwright cannot download its own browsers here; Debian's Chromium is the browser.
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM}, which is missing.\n"
            f"Install it as root:\n    {INSTALL_HINT}",
            pytrace=False,
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "viewport": {"width": 1280, "height": 800},
        # Bootstrap then skips its collapse and fade transitions: no half-open menus.
        "reduced_motion": "reduce",
    }


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return context


expect.set_options(timeout=EXPECT_TIMEOUT_MS)


# --- Helpers ------------------------------------------------------------------------------

# The login form in either language (labels from the zh_CN catalog).
_USERNAME_LABEL = re.compile(r"^(用户名|Username)$")
_PASSWORD_LABEL = re.compile(r"^(密码|Password)$")
_LOG_IN_BUTTON = re.compile(r"^(登录|Log in)$")


def log_in(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form and wait for the page the login redirects to.

    Does not assert success: a refused login stays on /login with an alert, which the
    caller checks (``expect(page.get_by_test_id("current-user"))`` for success).
    """
    page.goto(f"{base_url}/login")
    form = page.locator("form[action='/login']")
    form.get_by_label(_USERNAME_LABEL).fill(username)
    form.get_by_label(_PASSWORD_LABEL).fill(password)
    with page.expect_navigation():
        form.get_by_role("button", name=_LOG_IN_BUTTON).click()


def choose_language(page: Page, base_url: str, locale: str) -> None:
    """Set the ``lang`` cookie as the navbar's language form would, before the first visit."""
    page.context.add_cookies([{"name": "lang", "value": locale, "url": base_url}])


def limit_lines(option: dict[str, object]) -> set[float]:
    """The y values of every markLine in the chart option."""
    values: set[float] = set()
    for series in option.get("series", []):  # type: ignore[attr-defined]
        for line in (series.get("markLine") or {}).get("data", []):
            if isinstance(line, dict) and "yAxis" in line:
                values.add(float(line["yAxis"]))
    return values


# A phone held upright (iPhone 12–15 CSS pixels): rounds and work at the equipment are done on one.
PHONE = {"width": 390, "height": 844}
