"""A signed session cookie stays valid until it expires (12 h), so ending a session needs the
server's word: each user has a session epoch, stored in the session at login and compared on every
request; logging out, a password change, a role change and a deactivation move it on, and every
cookie carrying the old one is refused (a copied cookie replayed after logout included)."""

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.org.models import Role, User
from tests import factories
from tests.conftest import login

SESSION_COOKIE = "maintenance_session"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def second_browser(app: FastAPI) -> Iterator[TestClient]:
    """A second browser on the same app (its own cookies)."""
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as other:
        yield other


def is_logged_in(client: TestClient) -> bool:
    response = client.get("/")
    if response.status_code == 200:
        return True
    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/login"
    return False


def replay(client: TestClient, cookie: str) -> None:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)


def edit_user(admin_browser: TestClient, token: str, user: User, **fields: str) -> None:
    data = {"role": user.role.value, "full_name": user.full_name, "is_active": "on", "csrf_token": token, **fields}
    data = {key: value for key, value in data.items() if value is not None}
    response = admin_browser.post(f"/admin/users/{user.id}", data=data)
    assert response.status_code == 303, response.text


# --- Logout -------------------------------------------------------------------------------


def test_a_copied_cookie_replayed_after_logout_gets_the_login_page(client: TestClient, engineer: User) -> None:
    token = login(client, engineer)
    copied = client.cookies[SESSION_COOKIE]
    client.post("/logout", data={"csrf_token": token})

    replay(client, copied)

    assert not is_logged_in(client)
    htmx = client.get("/orders", headers={"HX-Request": "true"})
    assert urlsplit(htmx.headers["HX-Redirect"]).path == "/login"
    # The JSON API never takes the cookie: bearer tokens only.
    assert client.get("/api/v1/me").status_code == 401
    # Nor can the old session act: its form posts are refused as a logged-out user's.
    action = client.post("/admin/org/sites", data={"code": "X1", "name": "x", "csrf_token": token})
    assert action.status_code == 303
    assert urlsplit(action.headers["location"]).path == "/login"


def test_logging_out_in_one_browser_ends_the_users_other_sessions(
    client: TestClient, second_browser: TestClient, engineer: User
) -> None:
    login(client, engineer)
    token = login(second_browser, engineer)

    second_browser.post("/logout", data={"csrf_token": token})

    assert not is_logged_in(client)


def test_logging_in_again_after_logout_works(client: TestClient, engineer: User) -> None:
    token = login(client, engineer)
    client.post("/logout", data={"csrf_token": token})

    login(client, engineer)

    assert is_logged_in(client)


def test_a_stale_cookie_cannot_log_the_user_out_elsewhere(
    client: TestClient, second_browser: TestClient, engineer: User
) -> None:
    """Only a valid session ends the user's sessions: an old cookie (found in a backup, say)
    does not log the user out of the session they started since."""
    token = login(client, engineer)
    copied = client.cookies[SESSION_COOKIE]
    client.post("/logout", data={"csrf_token": token})
    login(second_browser, engineer)

    replay(client, copied)
    client.post("/logout", data={"csrf_token": token})

    assert is_logged_in(second_browser)


# --- Changes by an administrator ----------------------------------------------------------


def test_a_password_change_in_another_browser_ends_the_users_sessions(
    client: TestClient, second_browser: TestClient, engineer: User, admin: User
) -> None:
    login(client, engineer)
    copied = client.cookies[SESSION_COOKIE]
    token = login(second_browser, admin)

    edit_user(second_browser, token, engineer, password=NEW_PASSWORD)

    assert not is_logged_in(client)
    replay(client, copied)
    assert not is_logged_in(client)
    login(client, engineer, NEW_PASSWORD)
    assert is_logged_in(client)


def test_an_admin_changing_their_own_password_ends_their_other_sessions_but_not_this_one(
    client: TestClient, second_browser: TestClient, admin: User
) -> None:
    login(client, admin)
    token = login(second_browser, admin)

    edit_user(second_browser, token, admin, password=NEW_PASSWORD)

    assert not is_logged_in(client)
    assert is_logged_in(second_browser)


def test_a_role_change_ends_the_users_sessions(
    client: TestClient, second_browser: TestClient, session: Session, engineer: User, admin: User
) -> None:
    login(client, engineer)
    token = login(second_browser, admin)

    edit_user(second_browser, token, engineer, role=Role.MANAGER.value)

    session.refresh(engineer)
    assert engineer.role == Role.MANAGER
    assert not is_logged_in(client)


def test_a_deactivated_users_sessions_stay_ended_after_reactivation(
    client: TestClient, second_browser: TestClient, engineer: User, admin: User
) -> None:
    login(client, engineer)
    token = login(second_browser, admin)

    edit_user(second_browser, token, engineer, is_active=None)  # the box unticked
    assert not is_logged_in(client)
    edit_user(second_browser, token, engineer)  # ticked again

    assert not is_logged_in(client)


def test_other_edits_keep_the_users_sessions(
    client: TestClient, second_browser: TestClient, engineer: User, admin: User
) -> None:
    workshop = factories.WorkshopFactory()
    login(client, engineer)
    token = login(second_browser, admin)

    edit_user(second_browser, token, engineer, full_name="王工", workshop_ids=str(workshop.id))

    assert is_logged_in(client)
