"""The home page at desktop and phone sizes, in both languages, saved as PNGs for a human to look at.

The files go to ``$E2E_SCREENSHOT_DIR`` (default ``$TMPDIR/e2e-shots``, i.e. /tmp/e2e-shots).
The test itself only checks what a machine can judge: nothing is wider than the viewport.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import INSTALL_HINT, PHONE, choose_language, log_in

SHOTS_DIR = Path(os.environ.get("E2E_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "e2e-shots")
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module", autouse=True)
def cjk_font() -> None:
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
    if "wqy" not in fonts.lower():
        pytest.fail(f"Screenshots need a CJK font (fonts-wqy-microhei). As root:\n    {INSTALL_HINT}", pytrace=False)


def _assert_no_horizontal_overflow(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the {page.viewport_size} viewport"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_home_page_screenshots(page: Page, base_url: str, locale: str) -> None:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    choose_language(page, base_url, locale)
    log_in(page, base_url, "admin")
    expect(page.get_by_test_id("current-user")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if locale == "zh_CN" else "en")

    page.set_viewport_size(DESKTOP)
    page.screenshot(path=SHOTS_DIR / f"home-{locale}-desktop.png", full_page=True)
    _assert_no_horizontal_overflow(page)

    page.set_viewport_size(PHONE)
    toggler = page.get_by_role("button", name="菜单" if locale == "zh_CN" else "Menu")
    expect(toggler).to_be_visible()
    page.screenshot(path=SHOTS_DIR / f"home-{locale}-phone.png", full_page=True)
    _assert_no_horizontal_overflow(page)

    toggler.click()
    expect(page.locator("#nav-main")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))  # transition finished
    expect(page.get_by_test_id("current-user")).to_be_in_viewport()
    page.screenshot(path=SHOTS_DIR / f"home-{locale}-phone-menu.png", full_page=True)
    _assert_no_horizontal_overflow(page)
