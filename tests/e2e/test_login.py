"""Logging in, the language switch and logging out, for every role of the demo plant."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import choose_language, log_in


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str  # seed/org/users.csv
    role_zh: str  # maintenance.org.models.Role labels
    role_en: str


DEMO_USERS = [
    DemoUser("admin", "系统管理员", "系统管理员", "Administrator"),
    DemoUser("wangzr", "王主任", "管理人员", "Manager"),
    DemoUser("zhanggong", "张工", "设备工程师", "Engineer"),
    DemoUser("chensj", "陈审计", "审计", "Auditor"),
]


@pytest.mark.parametrize("user", DEMO_USERS, ids=lambda user: user.username)
def test_log_in_switch_language_and_log_out(page: Page, base_url: str, user: DemoUser) -> None:
    # No cookie: the browser's Accept-Language (zh-CN, see conftest) chooses Chinese.
    log_in(page, base_url, user.username)

    # Home page, in Chinese.
    expect(page).to_have_url(f"{base_url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    current_user = page.get_by_test_id("current-user")
    expect(current_user).to_contain_text(user.full_name)
    expect(current_user).to_contain_text(user.role_zh)
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="变更记录", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="设备台账", exact=True)).to_be_visible()
    admin_menu = nav.get_by_role("button", name="系统管理", exact=True)
    if user.username == "admin":
        expect(admin_menu).to_be_visible()
    else:
        expect(admin_menu).to_have_count(0)

    # Switch to English with the navbar's form.
    with page.expect_navigation():
        nav.get_by_role("button", name="English", exact=True).click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="Change log", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Asset registry", exact=True)).to_be_visible()
    expect(current_user).to_contain_text(user.full_name)
    expect(current_user).to_contain_text(user.role_en)
    expect(nav.get_by_role("button", name="中文", exact=True)).to_be_visible()

    # Log out from the user menu: back on the login page, still in English, and the session is gone.
    current_user.get_by_role("button").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(f"{base_url}/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="You have logged out.")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)

    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(re.escape(f"{base_url}/login?next=")))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_wrong_password_shows_an_error(page: Page, base_url: str) -> None:
    choose_language(page, base_url, "zh_CN")
    # ligong is used by no other test, so this one failure cannot lock anyone out.
    log_in(page, base_url, "ligong", password="not-the-password")

    expect(page).to_have_url(f"{base_url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    expect(page.get_by_label("用户名")).to_have_value("ligong")
    expect(page.get_by_label("密码")).to_have_value("")
    expect(page.get_by_test_id("current-user")).to_have_count(0)


@pytest.mark.browser_context_args(locale="en-GB")
def test_english_browser_gets_english_login_page(page: Page, base_url: str) -> None:
    """Accept-Language decides when there is no lang cookie."""
    log_in(page, base_url, "ligong", password="still-not-the-password")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")


def test_chinese_browser_gets_chinese_pages_without_a_cookie(page: Page, base_url: str) -> None:
    log_in(page, base_url, "wangzr")

    expect(page.get_by_test_id("current-user")).to_contain_text("王主任")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN", timeout=1_000)
    expect(page.get_by_role("navigation").get_by_role("link", name="变更记录", exact=True)).to_be_visible(timeout=1_000)
