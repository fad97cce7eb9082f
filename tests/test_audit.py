"""The change log: every create/update/delete leaves a row saying who changed what, when and
in which request; the rows form a hash chain, so editing or removing one is detected;
secrets never reach it. Auditors read it on /audit and per record in the history fragment.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from maintenance.audit import service as audit
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.audit.service import GENESIS_HASH, SystemActor
from maintenance.org import service as org_service
from maintenance.org.models import ApiToken, User, UserCreate, UserUpdate, WorkshopUpdate
from maintenance.security import set_request_id
from tests.conftest import login
from tests.factories import SiteFactory, UnitFactory, WorkshopFactory


def log_rows(session: Session) -> list[ObjectChange]:
    """The change log as stored, oldest first (not what this session happens to hold)."""
    session.expire_all()
    return list(session.scalars(select(ObjectChange).order_by(ObjectChange.id)))  # type: ignore[arg-type]


def log_size(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ObjectChange)) or 0


@pytest.fixture
def request_id() -> str:
    return set_request_id("req-audit-test")


# --- Writing ------------------------------------------------------------------------------


def test_record_create_logs_actor_object_new_values_and_request_id(
    session: Session, engineer: User, request_id: str
) -> None:
    workshop = WorkshopFactory(code="WS-NEW", name="新车间")

    audit.record_create(session, engineer, workshop)

    [row] = log_rows(session)
    assert (row.actor_id, row.actor_name) == (engineer.id, engineer.username)
    assert (row.object_type, row.object_id, row.object_repr) == ("workshop", str(workshop.id), "WS-NEW")
    assert row.action == ChangeAction.CREATE
    assert row.before is None
    assert row.after is not None
    assert row.after["code"] == "WS-NEW"
    assert row.after["name"] == "新车间"
    assert row.request_id == request_id
    assert row.at.tzinfo is not None


def test_record_update_logs_before_and_after(session: Session, engineer: User, request_id: str) -> None:
    workshop = WorkshopFactory(name="旧名")
    before = audit.snapshot(workshop)
    workshop.name = "新名"
    session.flush()

    audit.record_update(session, engineer, workshop, before)

    [row] = log_rows(session)
    assert row.action == ChangeAction.UPDATE
    assert row.actor_name == engineer.username
    assert row.request_id == request_id
    assert row.before is not None
    assert row.after is not None
    assert (row.before["name"], row.after["name"]) == ("旧名", "新名")
    assert row.changed_fields() == [("name", "旧名", "新名")]


def test_an_update_that_changes_nothing_writes_no_row(session: Session, admin: User) -> None:
    workshop = WorkshopFactory(name="不变")

    assert audit.record_update(session, admin, workshop, audit.snapshot(workshop)) is None
    org_service.update_workshop(session, workshop, WorkshopUpdate(name="不变"), actor=admin)

    assert log_size(session) == 0


def test_record_delete_logs_the_last_state(session: Session, admin: User, request_id: str) -> None:
    unit = UnitFactory(code="U-GONE")
    unit_id = unit.id

    org_service.delete_unit(session, unit, actor=admin)

    [row] = log_rows(session)
    assert row.action == ChangeAction.DELETE
    assert (row.object_type, row.object_id, row.object_repr) == ("unit", str(unit_id), "U-GONE")
    assert row.before is not None
    assert row.before["code"] == "U-GONE"
    assert row.after is None
    assert (row.actor_name, row.request_id) == (admin.username, request_id)


def test_a_web_change_is_logged_with_the_user_and_the_request_id(
    client: TestClient, session: Session, admin: User
) -> None:
    site = SiteFactory()
    token = login(client, admin)

    response = client.post(
        "/admin/org/workshops",
        data={"code": "WS-WEB", "name": "网页车间", "site_id": str(site.id), "csrf_token": token},
        headers={"X-Request-ID": "webreq42"},
    )

    assert response.status_code == 303
    [row] = [row for row in log_rows(session) if row.object_type == "workshop"]
    assert (row.actor_id, row.actor_name, row.request_id) == (admin.id, admin.username, "webreq42")
    assert row.after is not None
    assert row.after["code"] == "WS-WEB"


# --- The chain ----------------------------------------------------------------------------


@pytest.fixture
def chain(session: Session, admin: User) -> list[ObjectChange]:
    """Five linked rows: creates, an update and a delete, by a user and by a system process."""
    system = SystemActor(username="cli:test")
    site = SiteFactory()
    first = WorkshopFactory(site_id=site.id)
    second = WorkshopFactory(site_id=site.id)
    audit.record_create(session, system, site)
    audit.record_create(session, system, first)
    audit.record_create(session, admin, second)
    org_service.update_workshop(session, first, WorkshopUpdate(name="改名"), actor=admin)
    org_service.delete_workshop(session, second, actor=admin)
    rows = log_rows(session)
    assert len(rows) == 5
    return rows


def test_rows_are_linked_by_hash_and_the_chain_verifies(session: Session, chain: list[ObjectChange]) -> None:
    assert chain[0].prev_hash == GENESIS_HASH
    for previous, row in itertools.pairwise(chain):
        assert row.prev_hash == previous.hash

    report = audit.verify_chain(session)

    assert report.ok
    assert report.checked == 5


TAMPERING: dict[str, Any] = {
    "after": lambda row: {"after": {**(row.after or {}), "name": "篡改"}},
    "before": lambda row: {"before": {"name": "篡改"}},
    "actor_name": lambda row: {"actor_name": "someone-else"},
    "at": lambda row: {"at": row.at - timedelta(days=1)},
    "object_id": lambda row: {"object_id": "999999"},
    "action": lambda row: {"action": ChangeAction.CREATE if row.action != ChangeAction.CREATE else ChangeAction.DELETE},
}


@pytest.mark.parametrize("field", sorted(TAMPERING))
def test_editing_a_rows_content_is_detected_at_that_row(
    session: Session, chain: list[ObjectChange], field: str
) -> None:
    target = chain[2]
    session.execute(
        update(ObjectChange).where(ObjectChange.id == target.id).values(**TAMPERING[field](target)),  # type: ignore[arg-type]
        execution_options={"synchronize_session": False},
    )
    session.expire_all()

    report = audit.verify_chain(session)

    assert not report.ok
    assert report.broken_at_id == target.id
    assert report.checked == 2
    assert "edited" in report.reason


def test_editing_a_rows_prev_hash_is_detected_at_that_row(session: Session, chain: list[ObjectChange]) -> None:
    target = chain[3]
    session.execute(
        update(ObjectChange).where(ObjectChange.id == target.id).values(prev_hash="f" * 64),  # type: ignore[arg-type]
        execution_options={"synchronize_session": False},
    )
    session.expire_all()

    report = audit.verify_chain(session)

    assert report.broken_at_id == target.id
    assert "link broken" in report.reason


def test_removing_a_row_is_detected_at_the_next_one(session: Session, chain: list[ObjectChange]) -> None:
    session.execute(
        delete(ObjectChange).where(ObjectChange.id == chain[1].id),  # type: ignore[arg-type]
        execution_options={"synchronize_session": False},
    )
    session.expire_all()

    report = audit.verify_chain(session)

    assert report.broken_at_id == chain[2].id
    assert "removed" in report.reason


def test_a_consistently_rehashed_forgery_still_breaks_the_link_to_the_next_row(
    session: Session, chain: list[ObjectChange]
) -> None:
    """Recomputing the edited row's own hash is not enough: the next row points at the old one."""
    target = chain[1]
    forged = ObjectChange.model_validate(target.model_dump())
    forged.actor_name = "someone-else"
    forged.hash = audit._hash_payload(forged)
    session.execute(
        update(ObjectChange)
        .where(ObjectChange.id == target.id)  # type: ignore[arg-type]
        .values(actor_name=forged.actor_name, hash=forged.hash),
        execution_options={"synchronize_session": False},
    )
    session.expire_all()

    report = audit.verify_chain(session)

    assert report.broken_at_id == chain[2].id


# --- Secrets ------------------------------------------------------------------------------


def test_secrets_never_reach_the_change_log(session: Session, admin: User) -> None:
    workshop = WorkshopFactory()
    user = org_service.create_user(
        session,
        UserCreate(username="secretive", password="first-password-1", workshop_ids=[workshop.id]),  # type: ignore[list-item]
        actor=admin,
    )
    first_hash = user.password_hash
    org_service.update_user(session, user, UserUpdate(password="second-password-2"), actor=admin)
    token, plaintext = org_service.create_api_token(session, user, name="erp", scopes=["assets:read"], actor=admin)
    audit.record_delete(session, admin, token)

    rows = log_rows(session)
    assert [row.action.value for row in rows] == ["create", "update", "create", "delete"]
    logged = json.dumps([[row.before, row.after] for row in rows], ensure_ascii=False)
    for secret in (
        "first-password-1",
        "second-password-2",
        first_hash,
        user.password_hash,
        plaintext,
        token.token_hash,
    ):
        assert secret not in logged
    for row in rows:
        for values in (row.before, row.after):
            assert not ({"password_hash", "token_hash", "password"} & set(values or {}))
    # That the password changed is logged; what it became is not.
    assert rows[1].after is not None
    assert rows[1].after["password_changed"] is True


@pytest.mark.parametrize(("model", "secret"), [(User, "password_hash"), (ApiToken, "token_hash")])
def test_audit_exclusions_name_real_columns(model: type[Any], secret: str) -> None:
    """A misspelt exclusion would silently log the secret."""
    columns = {column.key for column in model.__table__.columns}
    assert secret in model.__audit_exclude__
    assert model.__audit_exclude__ <= columns


# --- The /audit page ----------------------------------------------------------------------

PLANT_DAY_EVENING = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)  # 23:30 on 1 March in Shanghai
NEXT_PLANT_DAY_DAWN = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 March in Shanghai
TWO_DAYS_LATER = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 on 3 March in Shanghai


def record_at(monkeypatch: pytest.MonkeyPatch, session: Session, when: datetime, actor: Any, obj: Any) -> ObjectChange:
    monkeypatch.setattr(audit, "utcnow", lambda: when)
    return audit.record_create(session, actor, obj)


@pytest.fixture
def logged(session: Session, admin: User, engineer: User) -> dict[str, Any]:
    """A small log whose rows can be told apart by their object's code."""
    site = SiteFactory(code="SITE-ZULU")
    alpha = WorkshopFactory(code="WS-ALPHA", site_id=site.id)
    bravo = WorkshopFactory(code="WS-BRAVO", site_id=site.id)
    charlie = UnitFactory(code="UNIT-CHARLIE", workshop_id=alpha.id)
    audit.record_create(session, admin, site)
    audit.record_create(session, admin, alpha)
    audit.record_create(session, engineer, bravo)
    audit.record_create(session, engineer, charlie)
    return {"alpha": alpha, "bravo": bravo, "charlie": charlie}


ALL_CODES = {"SITE-ZULU", "WS-ALPHA", "WS-BRAVO", "UNIT-CHARLIE"}


def codes_on(html: str, codes: set[str] = ALL_CODES) -> set[str]:
    return {code for code in codes if code in html}


def results_rows(html: str) -> int:
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.DOTALL)
    return 0 if body is None else body.group(1).count("<tr>")


def test_the_change_log_lists_every_change(client: TestClient, admin: User, logged: dict[str, Any]) -> None:
    login(client, admin)

    page = client.get("/audit")

    assert page.status_code == 200
    assert codes_on(page.text) == ALL_CODES


def test_the_change_log_filters_by_object_type(client: TestClient, admin: User, logged: dict[str, Any]) -> None:
    login(client, admin)

    page = client.get("/audit", params={"object_type": "unit"})

    assert codes_on(page.text) == {"UNIT-CHARLIE"}


def test_the_change_log_filters_by_object_id(client: TestClient, admin: User, logged: dict[str, Any]) -> None:
    login(client, admin)

    page = client.get("/audit", params={"object_type": "workshop", "object_id": str(logged["bravo"].id)})

    assert codes_on(page.text) == {"WS-BRAVO"}


def test_the_change_log_filters_by_user(
    client: TestClient, admin: User, engineer: User, logged: dict[str, Any]
) -> None:
    login(client, admin)

    page = client.get("/audit", params={"actor": engineer.username})

    assert codes_on(page.text) == {"WS-BRAVO", "UNIT-CHARLIE"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"date_from": "2026-03-02", "date_to": "2026-03-02"}, {"DAWN"}),
        ({"date_to": "2026-03-01"}, {"EVENING"}),
        ({"date_from": "2026-03-02"}, {"DAWN", "LATER"}),
        ({"date_from": "2026-03-01", "date_to": "2026-03-03"}, {"EVENING", "DAWN", "LATER"}),
        ({"date_from": "2026-03-04"}, set()),
    ],
    ids=["one-day", "until", "from", "whole-range", "nothing"],
)
def test_the_change_log_filters_by_plant_local_days(
    client: TestClient,
    session: Session,
    admin: User,
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, str],
    expected: set[str],
) -> None:
    """Days are the plant's (Asia/Shanghai, UTC+8): 16:30 UTC on 1 March is already 2 March."""
    record_at(monkeypatch, session, PLANT_DAY_EVENING, admin, WorkshopFactory(code="EVENING"))
    record_at(monkeypatch, session, NEXT_PLANT_DAY_DAWN, admin, WorkshopFactory(code="DAWN"))
    record_at(monkeypatch, session, TWO_DAYS_LATER, admin, WorkshopFactory(code="LATER"))
    monkeypatch.undo()
    login(client, admin)

    page = client.get("/audit", params=params)

    assert page.status_code == 200
    assert codes_on(page.text, {"EVENING", "DAWN", "LATER"}) == expected


def test_the_change_log_runs_the_same_queries_for_5_or_50_changes(
    client: TestClient, session: Session, admin: User, count_queries: list[str]
) -> None:
    workshop = WorkshopFactory()
    login(client, admin)

    def rename(times: int) -> None:
        for _ in range(times):
            org_service.update_workshop(session, workshop, WorkshopUpdate(name=f"名称{log_size(session)}"), actor=admin)

    def queries_for_page() -> tuple[int, int]:
        count_queries.clear()
        page = client.get("/audit", params={"object_type": "workshop"})
        assert page.status_code == 200
        return len(count_queries), results_rows(page.text)

    rename(5)
    few, few_rows = queries_for_page()
    rename(45)
    many, many_rows = queries_for_page()

    assert (few_rows, many_rows) == (5, 50)
    assert many == few


def test_an_htmx_request_gets_only_the_results(client: TestClient, admin: User, logged: dict[str, Any]) -> None:
    login(client, admin)

    full = client.get("/audit", params={"actor": admin.username})
    fragment = client.get("/audit", params={"actor": admin.username}, headers={"HX-Request": "true"})

    assert 'class="navbar' in full.text
    assert fragment.status_code == 200
    for page_part in ("<html", 'class="navbar', "<form", 'id="results"'):
        assert page_part not in fragment.text
    assert codes_on(fragment.text) == {"SITE-ZULU", "WS-ALPHA"}
    for response in (full, fragment):
        assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("url", ["/audit", "/audit/history/workshop/1"])
def test_the_change_log_needs_a_login(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# --- The history fragment -----------------------------------------------------------------


def test_an_objects_history_is_a_fragment_with_its_changes_only(
    client: TestClient, session: Session, admin: User, logged: dict[str, Any]
) -> None:
    alpha = logged["alpha"]
    org_service.update_workshop(session, alpha, WorkshopUpdate(name="改名后"), actor=admin)
    login(client, admin)

    response = client.get(f"/audit/history/workshop/{alpha.id}")

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'class="navbar' not in response.text
    assert results_rows(response.text) == 2, "the create and the rename"
    assert "改名后" in response.text
    assert codes_on(response.text) == {"WS-ALPHA"}


def test_history_does_not_mix_objects_of_other_types_with_the_same_id(
    client: TestClient, session: Session, admin: User
) -> None:
    workshop = WorkshopFactory(id=987_001, code="WS-SAMEID")
    unit = UnitFactory(id=987_001, code="UNIT-SAMEID", workshop_id=workshop.id)
    audit.record_create(session, admin, workshop)
    audit.record_create(session, admin, unit)
    login(client, admin)

    response = client.get("/audit/history/unit/987001")

    assert results_rows(response.text) == 1
    assert codes_on(response.text, {"WS-SAMEID", "UNIT-SAMEID"}) == {"UNIT-SAMEID"}
