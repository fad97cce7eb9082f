"""API tokens: created by the service, stored as a SHA-256 only, checked on every /api/v1 call."""

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import Session

from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.db import utcnow
from maintenance.exceptions import Conflict, PermissionDenied, ValidationFailed
from maintenance.org import service
from maintenance.org.auth import api_scope
from maintenance.org.models import ApiToken, Role, User
from maintenance.security import API_SCOPES
from tests import factories
from tests.conftest import login

# No endpoint asks for a scope yet; this test-only one stands for the first that will.
ASSETS_READ_PROBE = "/api/v1/test-only/assets-read"
ASSETS_WRITE_PROBE = "/api/v1/test-only/assets-write"
AssetsReader = api_scope("assets:read")
AssetsWriter = api_scope("assets:write")


def read_assets_probe(user: AssetsReader) -> dict[str, str]:
    return {"username": user.username}


def write_assets_probe(user: AssetsWriter) -> dict[str, str]:
    return {"username": user.username}


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.add_api_route(ASSETS_READ_PROBE, read_assets_probe, methods=["GET"])
    app.add_api_route(ASSETS_WRITE_PROBE, write_assets_probe, methods=["GET"])
    return app


@pytest.fixture
def auditor(session: Session) -> User:
    return factories.UserFactory(role=Role.AUDITOR)


def new_token(session: Session, user: User, admin: User, scopes: list[str]) -> tuple[ApiToken, str]:
    return service.create_api_token(session, user, name="historian", scopes=scopes, actor=admin)


def bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


def assert_problem(response_json: dict[str, object], status: int) -> None:
    assert response_json["status"] == status
    assert response_json["title"]
    assert response_json["detail"]


# --- Storage ------------------------------------------------------------------------------


def test_token_row_stores_sha256_of_the_plaintext(session: Session, engineer: User, admin: User) -> None:
    token, plaintext = new_token(session, engineer, admin, ["assets:read"])

    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()


def test_plaintext_is_stored_nowhere_in_the_token_table(session: Session, engineer: User, admin: User) -> None:
    token, plaintext = new_token(session, engineer, admin, ["assets:read"])

    row = session.execute(text("SELECT * FROM api_token WHERE id = :id"), {"id": token.id}).mappings().one()
    assert all(plaintext not in str(value) for value in row.values())


def test_change_log_records_the_token_without_its_secret(session: Session, engineer: User, admin: User) -> None:
    token, plaintext = new_token(session, engineer, admin, ["assets:read"])

    [change] = session.scalars(
        select(ObjectChange).where(ObjectChange.object_type == "api_token", ObjectChange.object_id == str(token.id))
    ).all()
    logged = json.dumps(change.after)
    assert change.actor_id == admin.id
    assert plaintext not in logged
    assert token.token_hash not in logged


def test_plaintext_carries_a_recognisable_prefix(session: Session, engineer: User, admin: User) -> None:
    token, plaintext = new_token(session, engineer, admin, ["assets:read"])

    assert plaintext.startswith("mt_")
    assert plaintext.startswith(token.prefix)


# --- Authentication -----------------------------------------------------------------------


def test_bearer_token_authenticates_its_user(client: TestClient, session: Session, engineer: User, admin: User) -> None:
    _, plaintext = new_token(session, engineer, admin, ["readings:write"])

    response = client.get("/api/v1/me", headers=bearer(plaintext))

    assert response.status_code == 200
    assert response.json() == {
        "id": engineer.id,
        "username": engineer.username,
        "full_name": engineer.full_name,
        "role": "engineer",
    }


def test_using_a_token_records_when_it_was_last_used(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    token, plaintext = new_token(session, engineer, admin, ["readings:write"])
    assert token.last_used_at is None

    client.get("/api/v1/me", headers=bearer(plaintext))

    session.refresh(token)
    assert token.last_used_at is not None


def test_revoked_token_is_refused(client: TestClient, session: Session, engineer: User, admin: User) -> None:
    token, plaintext = new_token(session, engineer, admin, ["readings:write"])
    token.revoked_at = utcnow()
    session.flush()

    response = client.get("/api/v1/me", headers=bearer(plaintext))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(response.json(), 401)


def test_token_of_inactive_user_is_refused(client: TestClient, session: Session, engineer: User, admin: User) -> None:
    _, plaintext = new_token(session, engineer, admin, ["readings:write"])
    engineer.is_active = False
    session.flush()

    response = client.get("/api/v1/me", headers=bearer(plaintext))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(response.json(), 401)


def test_token_hash_sent_as_bearer_is_refused(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    """Someone who read the table cannot use what they read."""
    token, _ = new_token(session, engineer, admin, ["readings:write"])

    response = client.get("/api/v1/me", headers=bearer(token.token_hash))

    assert response.status_code == 401


def test_browser_session_does_not_authenticate_api(client: TestClient, admin: User) -> None:
    """The API skips the CSRF check because cookies never authenticate it."""
    login(client, admin)

    response = client.get("/api/v1/me")

    assert response.status_code == 401


# --- Scopes -------------------------------------------------------------------------------


def test_token_with_required_scope_is_let_through(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    _, plaintext = new_token(session, engineer, admin, ["assets:read"])

    response = client.get(ASSETS_READ_PROBE, headers=bearer(plaintext))

    assert response.status_code == 200
    assert response.json() == {"username": engineer.username}


def test_token_lacking_required_scope_is_forbidden(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    _, plaintext = new_token(session, engineer, admin, ["orders:read", "readings:write"])

    response = client.get(ASSETS_READ_PROBE, headers=bearer(plaintext))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert_problem(response.json(), 403)
    assert "assets:read" in response.json()["detail"]


def test_unknown_scope_is_refused(session: Session, engineer: User, admin: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        new_token(session, engineer, admin, ["assets:read", "assets:destroy"])

    assert "assets:destroy" in refused.value.message
    assert [error.field for error in refused.value.errors] == ["scope"]


def test_token_without_any_scope_is_refused(session: Session, engineer: User, admin: User) -> None:
    with pytest.raises(ValidationFailed):
        new_token(session, engineer, admin, [])


def test_refused_token_is_not_stored(session: Session, engineer: User, admin: User) -> None:
    with pytest.raises(ValidationFailed):
        new_token(session, engineer, admin, ["assets:destroy"])

    assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == engineer.id)) == 0


def test_scopes_are_stored_once_each_in_order(session: Session, engineer: User, admin: User) -> None:
    token, _ = new_token(session, engineer, admin, ["readings:write", "assets:read", "readings:write"])

    assert token.scopes == "assets:read readings:write"


# --- OpenAPI ------------------------------------------------------------------------------


def test_openapi_lists_only_api_paths(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert "/api/v1/me" in paths
    assert [path for path in paths if not path.startswith("/api/v1/")] == []


def test_openapi_declares_bearer_authentication(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    schemes = schema["components"]["securitySchemes"].values()
    assert [(scheme["type"], scheme["scheme"]) for scheme in schemes] == [("http", "bearer")]


# --- What a token may carry: the scopes its user's role allows --------------------------


def test_an_auditors_token_carries_read_scopes_only(session: Session, auditor: User, admin: User) -> None:
    token, _ = new_token(session, auditor, admin, ["assets:read", "orders:read", "readings:read"])
    assert token.scopes == "assets:read orders:read readings:read"

    with pytest.raises(ValidationFailed) as refused:
        new_token(session, auditor, admin, ["readings:read", "readings:write"])

    assert "readings:write" in refused.value.message
    assert [error.field for error in refused.value.errors] == ["scope"]


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.MANAGER, Role.ADMIN], ids=lambda role: role.value)
def test_writers_tokens_carry_read_and_write_scopes(session: Session, admin: User, role: Role) -> None:
    token, _ = new_token(session, factories.UserFactory(role=role), admin, list(API_SCOPES))

    assert token.scope_set == set(API_SCOPES)


def test_a_token_loses_the_scopes_its_users_new_role_does_not_allow(
    client: TestClient, session: Session, admin: User
) -> None:
    user = factories.UserFactory(role=Role.MANAGER)
    _, plaintext = new_token(session, user, admin, ["assets:read", "assets:write"])
    user.role = Role.AUDITOR
    session.flush()

    assert client.get(ASSETS_READ_PROBE, headers=bearer(plaintext)).status_code == 200
    assert client.get(ASSETS_WRITE_PROBE, headers=bearer(plaintext)).status_code == 403


# --- Expiry -------------------------------------------------------------------------------


def test_a_token_expires_after_90_days_by_default(session: Session, engineer: User, admin: User) -> None:
    token, _ = new_token(session, engineer, admin, ["assets:read"])

    assert token.expires_at - token.created_at == timedelta(days=90)


def test_the_expiry_is_a_number_of_days_or_the_end_of_a_plant_day(session: Session) -> None:
    now = utcnow()
    assert service.token_expiry(days=7, now=now) == now + timedelta(days=7)
    # The end of 31 January 2027 in Shanghai (UTC+8) is 16:00 UTC that day.
    assert service.token_expiry(until=date(2027, 1, 31)) == datetime(2027, 1, 31, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("days", [0, -1, 367], ids=["zero", "negative", "over a year"])
def test_a_lifetime_outside_a_day_to_a_year_is_refused(session: Session, days: int) -> None:
    with pytest.raises(ValidationFailed):
        service.token_expiry(days=days)


@pytest.mark.parametrize("offset", [timedelta(seconds=-1), timedelta(days=400)], ids=["past", "beyond a year"])
def test_an_expiry_in_the_past_or_beyond_a_year_is_refused(
    session: Session, engineer: User, admin: User, offset: timedelta
) -> None:
    with pytest.raises(ValidationFailed):
        service.create_api_token(
            session, engineer, name="x", scopes=["assets:read"], actor=admin, expires_at=utcnow() + offset
        )


def test_an_expired_token_is_refused_with_401(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    token, plaintext = new_token(session, engineer, admin, ["assets:read"])
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()

    response = client.get(ASSETS_READ_PROBE, headers=bearer(plaintext))

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(response.json(), 401)


# --- Last use -----------------------------------------------------------------------------


def test_last_use_is_written_at_most_once_a_minute(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    token, plaintext = new_token(session, engineer, admin, ["assets:read"])

    client.get(ASSETS_READ_PROBE, headers=bearer(plaintext))
    first = token.last_used_at
    client.get(ASSETS_READ_PROBE, headers=bearer(plaintext))
    assert first is not None
    assert token.last_used_at == first, "a second use within the minute writes nothing"

    token.last_used_at = first - timedelta(seconds=61)
    session.flush()
    client.get(ASSETS_READ_PROBE, headers=bearer(plaintext))
    assert token.last_used_at is not None
    assert token.last_used_at > first


# --- Revocation ---------------------------------------------------------------------------


def test_revoking_records_when_and_by_whom_in_the_token_and_the_change_log(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    token, plaintext = new_token(session, engineer, admin, ["assets:read"])

    service.revoke_api_token(session, token, actor=admin)

    assert token.revoked_at is not None
    assert token.revoked_by == admin.username
    change = session.scalars(
        select(ObjectChange).where(
            ObjectChange.object_type == "api_token",
            ObjectChange.object_id == str(token.id),
            ObjectChange.action == ChangeAction.UPDATE,
        )
    ).one()
    assert change.actor_id == admin.id
    assert change.after is not None
    assert change.after["revoked_by"] == admin.username
    assert client.get(ASSETS_READ_PROBE, headers=bearer(plaintext)).status_code == 401


def test_a_user_revokes_only_their_own_tokens(session: Session, engineer: User, admin: User) -> None:
    token, _ = new_token(session, engineer, admin, ["assets:read"])
    other = factories.UserFactory(role=Role.MANAGER)

    with pytest.raises(PermissionDenied):
        service.revoke_api_token(session, token, actor=other)
    assert token.revoked_at is None

    service.revoke_api_token(session, token, actor=engineer)
    assert token.revoked_by == engineer.username


def test_a_token_is_revoked_once(session: Session, engineer: User, admin: User) -> None:
    token, _ = new_token(session, engineer, admin, ["assets:read"])
    service.revoke_api_token(session, token, actor=admin)

    with pytest.raises(Conflict):
        service.revoke_api_token(session, token, actor=admin)


# --- The tokens page ----------------------------------------------------------------------


def test_the_user_menu_links_the_tokens_page(client: TestClient, engineer: User) -> None:
    login(client, engineer)

    assert 'href="/tokens"' in client.get("/").text


def test_each_user_sees_their_own_tokens_and_the_admin_everyones(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    own, _ = service.create_api_token(session, engineer, name="振动采集", scopes=["readings:write"], actor=engineer)
    other, _ = service.create_api_token(
        session, factories.UserFactory(role=Role.MANAGER), name="ERP 同步", scopes=["orders:read"], actor=admin
    )

    login(client, engineer)
    page = client.get("/tokens").text
    assert ("振动采集" in page, "ERP 同步" in page) == (True, False)
    assert own.prefix in page
    assert own.token_hash not in page

    client.cookies.clear()
    login(client, admin)
    page = client.get("/tokens").text
    assert ("振动采集" in page, "ERP 同步" in page) == (True, True)
    assert other.prefix in page


def test_a_token_created_on_the_page_is_shown_once_and_works(
    client: TestClient, session: Session, engineer: User
) -> None:
    csrf = login(client, engineer)

    response = client.post(
        "/tokens",
        data={"name": "点检仪", "expires_on": "2027-01-31", "scopes": ["assets:read"], "csrf_token": csrf},
    )

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    match = re.search(r'id="new-token-secret">(mt_[^<]+)<', response.text)
    assert match
    plaintext = match.group(1)
    token = session.scalars(select(ApiToken).where(ApiToken.user_id == engineer.id)).one()
    assert (token.name, token.scopes) == ("点检仪", "assets:read")
    assert token.expires_at == datetime(2027, 1, 31, 16, 0, tzinfo=UTC)
    [change] = session.scalars(
        select(ObjectChange).where(ObjectChange.object_type == "api_token", ObjectChange.object_id == str(token.id))
    ).all()
    assert change.actor_id == engineer.id
    assert client.get(ASSETS_READ_PROBE, headers=bearer(plaintext)).json() == {"username": engineer.username}
    assert plaintext not in client.get("/tokens").text


def test_the_page_offers_auditors_read_scopes_only_and_refuses_a_write_scope(
    client: TestClient, session: Session, auditor: User
) -> None:
    csrf = login(client, auditor)
    assert "readings:write" not in client.get("/tokens").text

    response = client.post(
        "/tokens",
        data={"name": "报表", "expires_on": "2027-01-31", "scopes": ["readings:write"], "csrf_token": csrf},
    )

    assert response.status_code == 422
    assert "readings:write" in response.text
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_revoking_on_the_page_asks_first_and_writes_the_change_log(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    token, _ = service.create_api_token(session, engineer, name="采集", scopes=["readings:write"], actor=engineer)
    csrf = login(client, engineer)
    assert f'action="/tokens/{token.id}/revoke" data-confirm=' in client.get("/tokens").text

    response = client.post(f"/tokens/{token.id}/revoke", data={"csrf_token": csrf})

    assert response.status_code == 303
    assert token.revoked_at is not None
    assert token.revoked_by == engineer.username
    assert (
        session.scalar(
            select(func.count())
            .select_from(ObjectChange)
            .where(ObjectChange.object_type == "api_token", ObjectChange.action == ChangeAction.UPDATE)
        )
        == 1
    )


def test_a_user_cannot_revoke_another_users_token_on_the_page(
    client: TestClient, session: Session, engineer: User, admin: User
) -> None:
    token, _ = service.create_api_token(session, admin, name="admin 的", scopes=["assets:read"], actor=admin)
    session.commit()  # keep the token through the refused request's rollback
    csrf = login(client, engineer)

    response = client.post(f"/tokens/{token.id}/revoke", data={"csrf_token": csrf})

    assert response.status_code == 403
    session.refresh(token)
    assert token.revoked_at is None
