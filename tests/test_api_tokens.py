"""API tokens: created by the service, stored as a SHA-256 only, checked on every /api/v1 call."""

import hashlib
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.db import utcnow
from maintenance.exceptions import ValidationFailed
from maintenance.org import service
from maintenance.org.auth import api_scope
from maintenance.org.models import ApiToken, User
from tests.conftest import login

# No endpoint asks for a scope yet; this test-only one stands for the first that will.
ASSETS_READ_PROBE = "/api/v1/test-only/assets-read"
AssetsReader = api_scope("assets:read")


def read_assets_probe(user: AssetsReader) -> dict[str, str]:
    return {"username": user.username}


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.add_api_route(ASSETS_READ_PROBE, read_assets_probe, methods=["GET"])
    return app


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
