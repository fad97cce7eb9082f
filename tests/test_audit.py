"""The change log: every create/update/delete leaves a row saying who changed what, when and
in which request; the rows form a hash chain, so editing or removing one is detected;
secrets never reach it. Auditors read it on /audit and per record in the history fragment.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from sqlmodel import Session, SQLModel

from maintenance.assets.stocktake import service as stocktake_service
from maintenance.assets.stocktake.models import AssetCondition, CountResult, StocktakeLine
from maintenance.audit import service as audit
from maintenance.audit.models import ChangeAction, ObjectChange, genesis_hash
from maintenance.audit.service import SystemActor
from maintenance.db import metadata
from maintenance.i18n import LOCALE_COOKIE
from maintenance.models_registry import import_all_models
from maintenance.orders import service as order_service
from maintenance.orders.choices import OrderType
from maintenance.orders.models import WorkOrder, WorkOrderCreate
from maintenance.org import service as org_service
from maintenance.org.models import ApiToken, Role, User, UserCreate, UserUpdate, WorkshopUpdate
from maintenance.security import set_request_id
from tests.audit_attacks import the_chain
from tests.conftest import login
from tests.factories import AssetFactory, SiteFactory, UnitFactory, UserFactory, WorkshopFactory


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
    assert chain[0].prev_hash == genesis_hash(chain[0].chain)
    for previous, row in itertools.pairwise(chain):
        assert row.prev_hash == previous.hash

    report = the_chain(audit.verify_chain(session))

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

    report = the_chain(audit.verify_chain(session))

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

    report = the_chain(audit.verify_chain(session))

    assert report.broken_at_id == target.id
    assert "link broken" in report.reason


def test_removing_a_row_is_detected_at_the_next_one(session: Session, chain: list[ObjectChange]) -> None:
    session.execute(
        delete(ObjectChange).where(ObjectChange.id == chain[1].id),  # type: ignore[arg-type]
        execution_options={"synchronize_session": False},
    )
    session.expire_all()

    report = the_chain(audit.verify_chain(session))

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

    report = the_chain(audit.verify_chain(session))

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


# --- The change log in words --------------------------------------------------------------


@pytest.fixture
def auditor(session: Session) -> User:
    return UserFactory(role=Role.AUDITOR)


# 16:37 UTC on 3 December is 00:37 on 4 December at the plant (Asia/Shanghai).
AFTER_PLANT_MIDNIGHT = datetime(2026, 12, 3, 16, 37, tzinfo=UTC)
_TAG = re.compile(r"<[^>]+>")


def _text(html: str) -> str:
    """Tags dropped and runs of spaces and line breaks made one space (a no-break space stays)."""
    return re.sub(r"[ \t\r\n]+", " ", unescape(_TAG.sub(" ", html))).strip()


def shown_rows(html: str) -> list[dict[str, str]]:
    """The log's rows as an auditor reads them: the time, the object, and each field's label →
    what is shown for it (``before → after`` for an update)."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.DOTALL)
    assert body, "the page lists changes"
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
        fields = re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd>(.*?)</dd>", cells[4], re.DOTALL)
        rows.append({"time": _text(cells[0]), "object": _text(cells[3])} | {_text(k): _text(v) for k, v in fields})
    return rows


@pytest.fixture
def order_log(
    session: Session, admin: User, monkeypatch: pytest.MonkeyPatch
) -> tuple[WorkOrder, dict[str, str], dict[str, str]]:
    """A corrective order raised just after the plant's midnight, then approved with a failure
    mode, a tie-in flag, a cost, a start time and findings set; returns the order and the
    snapshots before and after the update."""
    asset = AssetFactory(tag="P-9001", name="进料泵")
    monkeypatch.setattr(audit, "utcnow", lambda: AFTER_PLANT_MIDNIGHT)
    order = order_service.create_order(
        session,
        WorkOrderCreate(order_type=OrderType.CM, asset_id=asset.id, title="机封泄漏"),  # type: ignore[arg-type]
        actor=admin,
        at=AFTER_PLANT_MIDNIGHT,
    )
    before = audit.snapshot(order)
    after = before | {
        "state": "approved",
        "failure_mode": "BRD",
        "is_revamp_tie_in": True,
        "actual_cost_cny": "12345.60",
        "actual_start_at": "2026-12-03T16:37:00+00:00",
        "findings": "机封动环磨损",
    }
    audit.record(session, actor=admin, action=ChangeAction.UPDATE, obj=order, before=before, after=after)
    return order, before, after


def _log_page(client: TestClient, user: User | None, locale: str, **params: str) -> str:
    """The /audit page as ``user`` reads it (None: whoever is logged in already)."""
    if user is not None:
        login(client, user)
    client.cookies.set(LOCALE_COOKIE, locale)
    page = client.get("/audit", params=params)
    assert page.status_code == 200
    return page.text


def test_an_auditor_reads_object_types_fields_and_values_in_chinese(
    client: TestClient, auditor: User, order_log: tuple[WorkOrder, Any, Any]
) -> None:
    order = order_log[0]

    updated, created = shown_rows(_log_page(client, auditor, "zh_CN", object_type="work_order"))

    assert created["object"] == f"工单 {order.number} 机封泄漏"
    assert created["time"] == "2026/12/4 00:37"
    assert created["工单类型"] == "故障维修"
    assert created["状态"] == "草稿"
    assert created["优先级"] == "中"
    assert created["设备"] == "P-9001 进料泵"
    assert created["技改碰头"] == "否"
    assert created["计划费用"] == "0.00 元"
    assert created["申请时间"] == "2026/12/4 00:37"
    assert updated["状态"] == "草稿 → 已批准"
    assert updated["故障模式"] == "— → 运行中损坏"
    assert updated["技改碰头"] == "否 → 是"
    assert updated["实际费用"] == "0.00 元 → 12,345.60 元"
    assert updated["实际开始"] == "— → 2026/12/4 00:37"
    assert updated["检查发现"] == "— → 机封动环磨损"
    for row in (created, updated):
        for code in ("work_order", "draft", "approved", "False", "True", "None", "2026-12-03T16:37"):
            assert code not in " ".join([*row, *row.values()])


def test_the_same_log_in_english(client: TestClient, auditor: User, order_log: tuple[WorkOrder, Any, Any]) -> None:
    order = order_log[0]

    updated, created = shown_rows(_log_page(client, auditor, "en", object_type="work_order"))

    assert created["object"] == f"Work order {order.number} 机封泄漏"
    assert created["Type"] == "Corrective (CM)"
    assert updated["State"] == "Draft → Approved"
    assert updated["Revamp tie-in"] == "No → Yes"
    assert updated["Actual cost"] == "0.00 CNY → 12,345.60 CNY"
    assert updated["Failure mode"] == "— → Breakdown"
    assert updated["Actual start"] == "— → 12/4/26, 12:37\u202fAM"


def test_the_object_type_filter_offers_labels(
    client: TestClient, auditor: User, order_log: tuple[WorkOrder, Any, Any]
) -> None:
    page = _log_page(client, auditor, "zh_CN")

    assert '<option value="work_order">工单</option>' in page
    assert '<option value="asset">设备</option>' in page


def test_a_stocktake_and_its_lines_are_named_once(client: TestClient, session: Session, admin: User) -> None:
    workshop = WorkshopFactory(name="罐区")
    AssetFactory(tag="T-101", name="原料罐", workshop_id=workshop.id)
    stocktake = stocktake_service.start_stocktake(session, workshop_id=workshop.id, actor=admin)  # type: ignore[arg-type]
    [line] = session.scalars(select(StocktakeLine).where(StocktakeLine.stocktake_id == stocktake.id)).all()  # type: ignore[arg-type]
    stocktake_service.record_count(
        session, stocktake, line, result=CountResult.FOUND, condition=AssetCondition.NEEDS_REPAIR, actor=admin
    )

    [started] = shown_rows(_log_page(client, admin, "zh_CN", object_type="stocktake"))
    [counted] = shown_rows(_log_page(client, None, "zh_CN", object_type="stocktake_line"))

    assert started["object"] == f"资产盘点 #{stocktake.id}"
    assert started["车间"] == "罐区"
    assert started["应盘设备数"] == "1"
    assert started["应盘原值"] == "120,000.00 元"
    assert counted["object"] == f"盘点明细 #{stocktake.id} T-101"
    assert counted["盘点结果"] == "未盘点 → 盘到"
    assert counted["设备状况"] == "— → 待修"


def test_the_changes_column_wraps(client: TestClient, auditor: User, order_log: tuple[WorkOrder, Any, Any]) -> None:
    """Long values wrap inside the column instead of running off the page (the dense tables keep
    cells on one line: the change log's cells opt out)."""
    page = _log_page(client, auditor, "zh_CN", object_type="work_order")
    css = (Path(__file__).resolve().parents[1] / "src/maintenance/static/app.css").read_text(encoding="utf-8")

    assert 'class="audit-changes-cell"' in page
    assert re.search(r"td\.audit-changes-cell\s*\{[^}]*white-space:\s*normal", css)


# --- Checking the chain from the page -----------------------------------------------------


def test_the_page_offers_to_verify_the_chain(client: TestClient, auditor: User, chain: list[ObjectChange]) -> None:
    page = _log_page(client, auditor, "zh_CN")

    assert 'hx-get="/audit/chain"' in page


def test_an_intact_chain_is_reported_with_the_rows_checked(
    client: TestClient, auditor: User, chain: list[ObjectChange]
) -> None:
    login(client, auditor)
    client.cookies.set(LOCALE_COOKIE, "zh_CN")

    state = client.get("/audit/chain", headers={"HX-Request": "true"})

    assert state.status_code == 200
    assert _text(state.text).startswith("链完整，已校验 5 行。")
    assert _text(state.text).endswith(
        "未设置审计密钥（MAINTENANCE_AUDIT_KEY）：能发现被修改或删除的行，但发现不了有数据库权限者修改某行后重新计算整条链。"
    )


def test_a_broken_chain_names_the_row(
    client: TestClient, session: Session, auditor: User, chain: list[ObjectChange]
) -> None:
    target = chain[2]
    session.execute(
        update(ObjectChange).where(ObjectChange.id == target.id).values(actor_name="someone-else"),  # type: ignore[arg-type]
        execution_options={"synchronize_session": False},
    )
    session.expire_all()
    login(client, auditor)
    client.cookies.set(LOCALE_COOKIE, "zh_CN")

    state = _text(client.get("/audit/chain", headers={"HX-Request": "true"}).text)

    assert f"链在第 {target.id} 行断开。 该行内容与其哈希不符：写入后被修改过。 其前 2 行校验无误。 " in state


# --- Every logged table has its names -----------------------------------------------------

# Tables whose rows never reach the change log, and why.
NEVER_LOGGED = {
    "object_change": "the change log itself",
    "audit_chain_anchor": "where the change log's chain ends",
    "login_attempt": "security bookkeeping, not a business record",
    "login_throttle": "failed-login counts, security bookkeeping",
    "order_number_counter": "a counter behind order numbers",
    "order_transition": "the order's own state history, logged as the order's update",
    "reading": "measurements; the point's update and the round's entry are logged",
    "user_workshop": "logged as the user's workshop_ids",
    "asset_version": "the asset's history, logged as the asset's update",
    "notification_digest": "which day's e-mail digest went to whom, mailing bookkeeping",
    "export_job": "a user's export run in the background: bookkeeping, not a business record",
}


def test_every_logged_table_and_column_has_zh_and_en_labels() -> None:
    """A table or column added later shows under its code until its domain names it in its
    audit_labels module."""
    from maintenance.audit import labels as audit_labels

    import_all_models()
    secrets = {
        mapper.local_table.name: getattr(mapper.class_, "__audit_exclude__", frozenset())
        for mapper in SQLModel._sa_registry.mappers
    }
    missing = []
    for table in metadata.sorted_tables:
        if table.name in NEVER_LOGGED:
            continue
        labels = audit_labels.registered(table.name)
        if labels is None:
            missing.append(table.name)
            continue
        for column in table.columns:
            logged = column.key not in secrets.get(table.name, ())
            if logged and audit_labels.is_shown(table.name, column.key) and column.key not in labels.fields:
                missing.append(f"{table.name}.{column.key}")
    assert not missing, f"register change-log labels for: {missing}"
