"""Org domain through its pages: login and logout, user administration, the org tree."""

import json
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.config import get_settings
from maintenance.org import permissions, service
from maintenance.org.models import LoginAttempt, Role, Site, Unit, User, UserWorkshop, Workshop
from maintenance.security import verify_password
from tests import factories
from tests.conftest import csrf_token, login

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def client(client: TestClient) -> TestClient:
    """Messages are asserted in English."""
    client.headers["Accept-Language"] = "en"
    return client


def post_login(client: TestClient, username: str, password: str, next_url: str = "/") -> object:
    return client.post(
        "/login",
        data={"username": username, "password": password, "next": next_url, "csrf_token": csrf_token(client)},
    )


def changes_of(session: Session, object_type: str, object_id: object) -> list[ObjectChange]:
    return list(
        session.scalars(
            select(ObjectChange)
            .where(ObjectChange.object_type == object_type, ObjectChange.object_id == str(object_id))
            .order_by(ObjectChange.id)  # type: ignore[arg-type]
        )
    )


def change_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ObjectChange)) or 0


def workshop_ids(session: Session, user: User) -> list[int]:
    return permissions.workshop_ids_of(session, user)


def unknown_workshop_id(session: Session) -> int:
    return (session.scalar(select(func.max(Workshop.id))) or 0) + 1000


def is_logged_in(client: TestClient) -> bool:
    return client.get("/").status_code == 200


# --- Login --------------------------------------------------------------------------------


def test_wrong_password_shows_the_form_again_with_401_and_a_message(client: TestClient, engineer: User) -> None:
    response = post_login(client, engineer.username, "not the password")

    assert response.status_code == 401
    assert 'action="/login"' in response.text
    assert "Wrong username or password." in response.text
    assert f'value="{engineer.username}"' in response.text
    assert "not the password" not in response.text
    assert not is_logged_in(client)


def test_unknown_username_gets_the_same_message_as_a_wrong_password(client: TestClient) -> None:
    response = post_login(client, "nobody-by-this-name", "whatever")

    assert response.status_code == 401
    assert "Wrong username or password." in response.text


def test_inactive_user_cannot_log_in(client: TestClient, session: Session) -> None:
    user = factories.UserFactory(is_active=False)

    response = post_login(client, user.username, factories.PASSWORD)

    assert response.status_code == 401
    assert not is_logged_in(client)


def test_login_redirects_to_next(client: TestClient, engineer: User) -> None:
    response = post_login(client, engineer.username, factories.PASSWORD, next_url="/audit?page=2")

    assert response.status_code == 303
    assert response.headers["location"] == "/audit?page=2"
    assert is_logged_in(client)


def test_login_records_when_the_user_last_logged_in(client: TestClient, engineer: User) -> None:
    assert engineer.last_login_at is None

    post_login(client, engineer.username, factories.PASSWORD)

    assert engineer.last_login_at is not None


@pytest.mark.parametrize("next_url", ["//evil.com", "http://evil.com", "https://evil.com/login", "javascript:alert(1)"])
def test_login_refuses_to_redirect_off_site(client: TestClient, engineer: User, next_url: str) -> None:
    response = post_login(client, engineer.username, factories.PASSWORD, next_url=next_url)

    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("next_url", ["/\\evil.com", "/\t/evil.com", "/%2F/evil.com"])
def test_login_redirect_with_disguised_next_stays_on_site(client: TestClient, engineer: User, next_url: str) -> None:
    """Browsers read a backslash as a slash and drop tabs: the Location must still be a local path."""
    response = post_login(client, engineer.username, factories.PASSWORD, next_url=next_url)

    as_browser_reads_it = response.headers["location"].replace("\\", "/").replace("\t", "")
    assert as_browser_reads_it.startswith("/")
    assert not as_browser_reads_it.startswith("//")
    assert urlsplit(as_browser_reads_it).netloc == ""


def test_login_page_sends_logged_in_user_to_next_but_not_off_site(client: TestClient, engineer: User) -> None:
    login(client, engineer)

    assert client.get("/login?next=/audit").headers["location"] == "/audit"
    assert client.get("/login?next=//evil.com").headers["location"] == "/"


def test_login_starts_a_new_session_with_a_new_csrf_token(client: TestClient, engineer: User) -> None:
    before = csrf_token(client)

    after = login(client, engineer)

    assert after != before


def test_failed_login_attempt_is_persisted(client: TestClient, session: Session, engineer: User) -> None:
    """The route renders the refusal instead of raising it, so the request commits the attempt
    (a raised error would roll it back, and failures would never add up to a lock)."""
    post_login(client, engineer.username, "not the password")

    attempts = session.scalars(select(LoginAttempt).where(LoginAttempt.username == engineer.username)).all()
    assert [attempt.succeeded for attempt in attempts] == [False]


def test_username_is_locked_after_max_failures_even_with_the_right_password(client: TestClient, engineer: User) -> None:
    for _ in range(get_settings().login_max_failures):
        post_login(client, engineer.username, "not the password")

    response = post_login(client, engineer.username, factories.PASSWORD)

    assert response.status_code == 401
    assert "Too many failed logins." in response.text
    assert not is_logged_in(client)


def test_fewer_failures_than_the_maximum_do_not_lock(client: TestClient, engineer: User) -> None:
    for _ in range(get_settings().login_max_failures - 1):
        post_login(client, engineer.username, "not the password")

    response = post_login(client, engineer.username, factories.PASSWORD)

    assert response.status_code == 303


def test_lock_applies_to_that_username_only(client: TestClient, engineer: User, admin: User) -> None:
    for _ in range(get_settings().login_max_failures):
        post_login(client, engineer.username, "not the password")

    response = post_login(client, admin.username, factories.PASSWORD)

    assert response.status_code == 303


def test_logout_ends_the_session(client: TestClient, engineer: User) -> None:
    token = login(client, engineer)

    response = client.post("/logout", data={"csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert not is_logged_in(client)


def test_logout_discards_the_sessions_csrf_token(client: TestClient, engineer: User) -> None:
    token = login(client, engineer)
    client.post("/logout", data={"csrf_token": token})

    response = client.post("/logout", data={"csrf_token": token})

    assert response.status_code == 403


# --- Users --------------------------------------------------------------------------------


def user_form(**fields: object) -> dict[str, object]:
    values: dict[str, object] = {
        "username": "zhang.wei",
        "full_name": "张伟",
        "role": "engineer",
        "password": "long enough password",
        "is_active": "on",
    }
    values.update(fields)
    return {key: value for key, value in values.items() if value is not None}


def test_admin_creates_user(client: TestClient, session: Session, admin: User) -> None:
    workshops = [factories.WorkshopFactory(), factories.WorkshopFactory()]
    token = login(client, admin)

    response = client.post(
        "/admin/users/new",
        data=user_form(role="manager", workshop_ids=[str(w.id) for w in workshops], csrf_token=token),
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users"
    user = service.get_user_by_username(session, "zhang.wei")
    assert user is not None
    assert (user.full_name, user.role, user.is_active) == ("张伟", Role.MANAGER, True)
    assert workshop_ids(session, user) == sorted(w.id for w in workshops)
    assert verify_password("long enough password", user.password_hash)


def test_created_user_is_inactive_when_the_box_is_unticked(client: TestClient, session: Session, admin: User) -> None:
    token = login(client, admin)

    client.post("/admin/users/new", data=user_form(is_active=None, csrf_token=token))

    user = service.get_user_by_username(session, "zhang.wei")
    assert user is not None
    assert user.is_active is False


def test_invalid_new_user_shows_the_form_again_with_field_messages(
    client: TestClient, session: Session, admin: User
) -> None:
    token = login(client, admin)

    response = client.post("/admin/users/new", data=user_form(username="z", password="tiny7", csrf_token=token))

    assert response.status_code == 422
    assert "Enter at least 2 characters." in response.text
    assert "Enter at least 8 characters." in response.text
    assert 'id="f-username" name="username"' in response.text
    assert "tiny7" not in response.text  # a refused password is not sent back
    assert service.get_user_by_username(session, "z") is None


def test_taken_username_is_refused_with_a_message_at_the_field(
    client: TestClient, session: Session, admin: User
) -> None:
    factories.UserFactory(username="zhang.wei")
    token = login(client, admin)
    before = change_count(session)

    response = client.post("/admin/users/new", data=user_form(csrf_token=token))

    assert response.status_code == 422
    assert "already exists" in response.text
    assert session.scalar(select(func.count()).select_from(User).where(User.username == "zhang.wei")) == 1
    assert change_count(session) == before


def test_new_user_with_unknown_workshop_is_refused_and_not_created(
    client: TestClient, session: Session, admin: User
) -> None:
    token = login(client, admin)
    before = change_count(session)

    response = client.post(
        "/admin/users/new", data=user_form(workshop_ids=[str(unknown_workshop_id(session))], csrf_token=token)
    )

    assert response.status_code == 422
    assert "does not exist" in response.text
    assert service.get_user_by_username(session, "zhang.wei") is None
    assert change_count(session) == before


def test_creating_a_user_writes_a_change_log_row_without_the_password_hash(
    client: TestClient, session: Session, admin: User
) -> None:
    workshop = factories.WorkshopFactory()
    token = login(client, admin)

    response = client.post("/admin/users/new", data=user_form(workshop_ids=[str(workshop.id)], csrf_token=token))

    user = service.get_user_by_username(session, "zhang.wei")
    assert user is not None
    [change] = changes_of(session, "app_user", user.id)
    assert change.action == ChangeAction.CREATE
    assert (change.actor_id, change.actor_name) == (admin.id, admin.username)
    assert change.request_id == response.headers["x-request-id"]
    assert change.before is None
    assert change.after is not None
    assert change.after["username"] == "zhang.wei"
    assert change.after["workshop_ids"] == [workshop.id]
    assert "password_hash" not in change.after
    assert user.password_hash not in json.dumps(change.after)


def test_admin_changes_role_workshops_and_password(client: TestClient, session: Session, admin: User) -> None:
    old_workshop, new_workshop = factories.WorkshopFactory(), factories.WorkshopFactory()
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=old_workshop.id))
    token = login(client, admin)

    response = client.post(
        f"/admin/users/{user.id}",
        data={
            "role": "manager",
            "workshop_ids": [str(new_workshop.id)],
            "password": NEW_PASSWORD,
            "is_active": "on",
            "csrf_token": token,
        },
    )

    assert response.status_code == 303
    session.refresh(user)
    assert user.role == Role.MANAGER
    assert workshop_ids(session, user) == [new_workshop.id]
    assert verify_password(NEW_PASSWORD, user.password_hash)


def test_changed_password_is_the_one_that_logs_in(client: TestClient, session: Session, admin: User) -> None:
    user = factories.UserFactory()
    token = login(client, admin)
    client.post(f"/admin/users/{user.id}", data={"password": NEW_PASSWORD, "is_active": "on", "csrf_token": token})
    client.post("/logout", data={"csrf_token": token})

    assert post_login(client, user.username, factories.PASSWORD).status_code == 401
    assert post_login(client, user.username, NEW_PASSWORD).status_code == 303


def test_empty_password_field_keeps_the_password(client: TestClient, session: Session, admin: User) -> None:
    user = factories.UserFactory()
    old_hash = user.password_hash
    token = login(client, admin)

    client.post(
        f"/admin/users/{user.id}", data={"role": "auditor", "password": "", "is_active": "on", "csrf_token": token}
    )

    session.refresh(user)
    assert user.role == Role.AUDITOR
    assert user.password_hash == old_hash


def test_admin_deactivates_another_user(client: TestClient, session: Session, admin: User) -> None:
    user = factories.UserFactory()
    token = login(client, admin)

    client.post(f"/admin/users/{user.id}", data={"role": "engineer", "csrf_token": token})

    session.refresh(user)
    assert user.is_active is False


def test_update_with_unknown_workshop_changes_nothing(client: TestClient, session: Session, admin: User) -> None:
    user = factories.UserFactory(role=Role.ENGINEER)
    token = login(client, admin)
    before = change_count(session)

    response = client.post(
        f"/admin/users/{user.id}",
        data={
            "role": "manager",
            "workshop_ids": [str(unknown_workshop_id(session))],
            "is_active": "on",
            "csrf_token": token,
        },
    )

    assert response.status_code == 422
    session.refresh(user)
    assert user.role == Role.ENGINEER
    assert change_count(session) == before


def test_admin_cannot_deactivate_themself(client: TestClient, session: Session, admin: User) -> None:
    token = login(client, admin)

    response = client.post(f"/admin/users/{admin.id}", data={"role": "admin", "csrf_token": token})

    assert response.status_code == 422
    assert "You cannot deactivate yourself" in response.text
    session.refresh(admin)
    assert admin.is_active is True


def test_admin_cannot_remove_their_own_admin_role(client: TestClient, session: Session, admin: User) -> None:
    token = login(client, admin)

    response = client.post(
        f"/admin/users/{admin.id}", data={"role": "engineer", "is_active": "on", "csrf_token": token}
    )

    assert response.status_code == 422
    session.refresh(admin)
    assert admin.role == Role.ADMIN


def test_updating_a_user_writes_before_and_after_without_password_hashes(
    client: TestClient, session: Session, admin: User
) -> None:
    user = factories.UserFactory(role=Role.ENGINEER)
    old_hash = user.password_hash
    token = login(client, admin)

    response = client.post(
        f"/admin/users/{user.id}",
        data={"role": "manager", "password": NEW_PASSWORD, "is_active": "on", "csrf_token": token},
    )

    [change] = changes_of(session, "app_user", user.id)
    assert change.action == ChangeAction.UPDATE
    assert (change.actor_id, change.actor_name) == (admin.id, admin.username)
    assert change.request_id == response.headers["x-request-id"]
    assert change.before is not None
    assert change.after is not None
    assert (change.before["role"], change.after["role"]) == ("engineer", "manager")
    assert change.after["password_changed"] is True
    logged = json.dumps([change.before, change.after])
    assert "password_hash" not in logged
    assert old_hash not in logged
    assert user.password_hash not in logged


def test_users_page_runs_the_same_number_of_queries_for_3_and_30_users(
    client: TestClient, session: Session, admin: User, count_queries: list[str]
) -> None:
    workshop = factories.WorkshopFactory()
    login(client, admin)

    def add_users(count: int) -> None:
        for _ in range(count):
            user = factories.UserFactory()
            session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))
        session.flush()

    def queries_for_users_page() -> int:
        count_queries.clear()
        response = client.get("/admin/users")
        assert response.status_code == 200
        return len(count_queries)

    add_users(2)  # and the admin: 3 users
    with_3_users = queries_for_users_page()
    add_users(27)
    with_30_users = queries_for_users_page()

    assert with_30_users == with_3_users


# --- Org tree -----------------------------------------------------------------------------


def follow(client: TestClient, response: object) -> str:
    """The page the browser lands on after a redirect (where flashed toasts are shown)."""
    assert response.status_code == 303  # type: ignore[attr-defined]
    return client.get(response.headers["location"]).text  # type: ignore[attr-defined]


def test_admin_creates_site(client: TestClient, session: Session, admin: User) -> None:
    token = login(client, admin)

    response = client.post("/admin/org/sites", data={"code": "NJ", "name": "南京厂区", "csrf_token": token})

    assert "Site NJ created." in follow(client, response)
    site = service.get_site_by_code(session, "NJ")
    assert site is not None
    assert site.name == "南京厂区"
    assert [c.action for c in changes_of(session, "site", site.id)] == [ChangeAction.CREATE]


def test_admin_creates_workshop(client: TestClient, session: Session, admin: User) -> None:
    site = factories.SiteFactory()
    token = login(client, admin)

    response = client.post(
        "/admin/org/workshops", data={"site_id": site.id, "code": "CRK", "name": "裂解车间", "csrf_token": token}
    )

    assert "Workshop CRK created." in follow(client, response)
    workshop = service.get_workshop_by_code(session, "CRK")
    assert workshop is not None
    assert workshop.site_id == site.id
    assert [c.action for c in changes_of(session, "workshop", workshop.id)] == [ChangeAction.CREATE]


def test_admin_creates_unit(client: TestClient, session: Session, admin: User) -> None:
    workshop = factories.WorkshopFactory()
    token = login(client, admin)

    response = client.post(
        "/admin/org/units", data={"workshop_id": workshop.id, "code": "U100", "name": "乙烯装置", "csrf_token": token}
    )

    assert "Unit U100 created." in follow(client, response)
    [unit] = service.list_units(session, workshop.id)
    assert (unit.code, unit.name) == ("U100", "乙烯装置")
    assert [c.action for c in changes_of(session, "unit", unit.id)] == [ChangeAction.CREATE]


def test_duplicate_site_code_gives_a_toast_and_writes_nothing(
    client: TestClient, session: Session, admin: User
) -> None:
    factories.SiteFactory(code="NJ")
    token = login(client, admin)
    before = change_count(session)

    response = client.post("/admin/org/sites", data={"code": "NJ", "name": "again", "csrf_token": token})

    assert "Site code NJ already exists." in follow(client, response)
    assert session.scalar(select(func.count()).select_from(Site).where(Site.code == "NJ")) == 1
    assert change_count(session) == before


def test_duplicate_workshop_code_gives_a_toast_and_writes_nothing(
    client: TestClient, session: Session, admin: User
) -> None:
    existing = factories.WorkshopFactory(code="CRK")
    token = login(client, admin)
    before = change_count(session)

    response = client.post(
        "/admin/org/workshops",
        data={"site_id": existing.site_id, "code": "CRK", "name": "again", "csrf_token": token},
    )

    assert "Workshop code CRK already exists." in follow(client, response)
    assert session.scalar(select(func.count()).select_from(Workshop).where(Workshop.code == "CRK")) == 1
    assert change_count(session) == before


def test_duplicate_unit_code_in_a_workshop_gives_a_toast_and_writes_nothing(
    client: TestClient, session: Session, admin: User
) -> None:
    existing = factories.UnitFactory(code="U100")
    token = login(client, admin)
    before = change_count(session)

    response = client.post(
        "/admin/org/units",
        data={"workshop_id": existing.workshop_id, "code": "U100", "name": "again", "csrf_token": token},
    )

    assert "Unit code U100 already exists in this workshop." in follow(client, response)
    assert len(service.list_units(session, existing.workshop_id)) == 1
    assert change_count(session) == before


def test_same_unit_code_is_allowed_in_another_workshop(client: TestClient, session: Session, admin: User) -> None:
    factories.UnitFactory(code="U100")
    other_workshop = factories.WorkshopFactory()
    token = login(client, admin)

    client.post(
        "/admin/org/units",
        data={"workshop_id": other_workshop.id, "code": "U100", "name": "乙烯装置", "csrf_token": token},
    )

    assert [unit.code for unit in service.list_units(session, other_workshop.id)] == ["U100"]


def test_invalid_code_gives_a_toast_and_writes_nothing(client: TestClient, session: Session, admin: User) -> None:
    token = login(client, admin)
    before = change_count(session)

    response = client.post("/admin/org/sites", data={"code": "N J", "name": "南京厂区", "csrf_token": token})

    assert "code: Use letters, digits" in follow(client, response)
    assert service.get_site_by_code(session, "N J") is None
    assert change_count(session) == before


def test_deleting_workshop_with_units_is_refused_and_writes_nothing(
    client: TestClient, session: Session, admin: User
) -> None:
    unit = factories.UnitFactory()
    workshop = service.get_workshop_or_raise(session, unit.workshop_id)
    token = login(client, admin)
    before = change_count(session)

    response = client.post(
        f"/admin/org/workshops/{workshop.id}/delete", headers={"HX-Request": "true", "X-CSRF-Token": token}
    )

    assert response.status_code == 409
    assert response.headers["HX-Reswap"] == "none"
    assert f"Workshop {workshop.code} still has units" in response.text
    assert session.get(Workshop, workshop.id) is not None
    assert session.get(Unit, unit.id) is not None
    assert change_count(session) == before


def test_deleting_workshop_with_units_without_htmx_shows_a_409_page(
    client: TestClient, session: Session, admin: User
) -> None:
    unit = factories.UnitFactory()
    token = login(client, admin)

    response = client.post(f"/admin/org/workshops/{unit.workshop_id}/delete", data={"csrf_token": token})

    assert response.status_code == 409
    assert "still has units" in response.text


def test_deleting_an_empty_unit_removes_it_and_logs_it(client: TestClient, session: Session, admin: User) -> None:
    unit = factories.UnitFactory(code="U100")
    unit_id = unit.id
    token = login(client, admin)

    response = client.post(f"/admin/org/units/{unit_id}/delete", headers={"HX-Request": "true", "X-CSRF-Token": token})

    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/admin/org"
    assert session.get(Unit, unit_id) is None
    [change] = changes_of(session, "unit", unit_id)
    assert change.action == ChangeAction.DELETE
    assert change.before is not None
    assert change.before["code"] == "U100"
    assert change.actor_id == admin.id


def test_deleted_unit_is_announced_on_the_next_page(client: TestClient, session: Session, admin: User) -> None:
    unit = factories.UnitFactory(code="U100")
    token = login(client, admin)

    client.post(f"/admin/org/units/{unit.id}/delete", headers={"HX-Request": "true", "X-CSRF-Token": token})

    assert "Unit U100 deleted." in client.get("/admin/org").text
