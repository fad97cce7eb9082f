"""The work-order API: /api/v1/orders (list with filters and pages, one order, raise one) and
/api/v1/pm-plans, behind bearer tokens with the ``orders:read`` / ``orders:write`` scopes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit.models import ObjectChange
from maintenance.db import plant_today
from maintenance.exceptions import ValidationFailed
from maintenance.orders import service
from maintenance.orders.choices import (
    ChecklistResult,
    CostKind,
    FailureMode,
    IntervalUnit,
    OrderType,
    PlanBasis,
    Priority,
    Provider,
)
from maintenance.orders.models import (
    CostLineCreate,
    FailureReportUpdate,
    PmPlan,
    PmPlanCostLine,
    PmPlanCreate,
    Turnaround,
    TurnaroundCreate,
    WorkOrder,
    WorkOrderCreate,
)
from maintenance.orders.pm import service as pm
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.org import service as org_service
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.conftest import login
from tests.orders.conftest import SYSTEM, MakeOrder

PLANT = ZoneInfo("Asia/Shanghai")


def token_for(session: Session, user: User, *scopes: str) -> dict[str, str]:
    _token, plaintext = org_service.create_api_token(session, user, name="erp", scopes=list(scopes), actor=SYSTEM)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def reader(session: Session) -> dict[str, str]:
    """An auditor's reporting token: reads every workshop's orders."""
    return token_for(session, factories.UserFactory(role=Role.AUDITOR), "orders:read")


@pytest.fixture
def writer(session: Session, workshop_engineer: User) -> dict[str, str]:
    """The ERP raising orders as an engineer of the asset's workshop."""
    return token_for(session, workshop_engineer, "orders:read", "orders:write")


def numbers(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get("/api/v1/orders", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["number"] for item in response.json()["data"]]


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["detail"]
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]], problem
    return problem


# --- Authentication and scope -------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/api/v1/orders"),
    ("GET", "/api/v1/orders/WO-2026-000001"),
    ("POST", "/api/v1/orders"),
    ("GET", "/api/v1/pm-plans"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_token_is_required(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={})

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_browser_session_is_not_enough(client: TestClient, admin: User, method: str, path: str) -> None:
    login(client, admin)

    assert client.request(method, path, json={}).status_code == 401


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if e[0] == "GET"])
def test_reading_needs_the_orders_read_scope(client: TestClient, session: Session, method: str, path: str) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.MANAGER), "assets:read", "orders:write")

    problem = assert_problem(client.request(method, path, headers=headers), 403)

    assert "orders:read" in problem["detail"]


def test_raising_needs_the_orders_write_scope(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    headers = token_for(session, workshop_engineer, "orders:read")

    problem = assert_problem(
        client.post("/api/v1/orders", json={"type": "CM", "asset_tag": asset.tag, "title": "泄漏"}, headers=headers),
        403,
    )

    assert "orders:write" in problem["detail"]
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 0


# --- The list -----------------------------------------------------------------------------


def test_items_carry_codes_dates_and_money_as_decimal_strings(
    client: TestClient,
    session: Session,
    reader: dict[str, str],
    make_order: MakeOrder,
    asset: Asset,
    workshop: Workshop,
    workshop_engineer: User,
    turnaround: Turnaround,
) -> None:
    order = make_order(
        order_type=OrderType.TA,
        title="换热器抽芯清洗",
        description="E-101 管束结垢",
        priority=Priority.HIGH,
        planned_start_date=date(2026, 9, 3),
        planned_finish_date=date(2026, 9, 5),
        provider=Provider.CONTRACTOR,
        assignee_name="安装公司二队",
        assignee_id=workshop_engineer.id,
        turnaround_id=turnaround.id,
        is_revamp_tie_in=True,
    )
    service.add_cost_line(
        session,
        order,
        CostLineCreate(
            kind=CostKind.LABOUR,
            description="钳工",
            planned_quantity=Decimal("8"),
            planned_unit_price_cny=Decimal("85.5"),
            quantity=Decimal("6.5"),
            unit_price_cny=Decimal("85.5"),
        ),
        actor=SYSTEM,
    )
    service.record_failure(
        session,
        order,
        FailureReportUpdate.model_validate(
            order.model_dump() | {"failure_mode": FailureMode.INL, "production_loss_cny": Decimal("1200.5")}
        ),
        actor=SYSTEM,
    )

    response = client.get("/api/v1/orders", headers=reader)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["size"]) == (1, 1, 50)
    [item] = body["data"]
    assert item["number"] == order.number
    assert (item["type"], item["state"], item["priority"], item["provider"]) == ("TA", "draft", "2", "contractor")
    assert (item["asset_tag"], item["workshop_code"], item["turnaround_code"]) == (asset.tag, workshop.code, "TA2026")
    assert (item["title"], item["description"]) == ("换热器抽芯清洗", "E-101 管束结垢")
    assert (item["assignee_name"], item["assignee_username"]) == ("安装公司二队", workshop_engineer.username)
    assert (item["planned_start_date"], item["planned_finish_date"], item["due_date"]) == (
        "2026-09-03",
        "2026-09-05",
        None,
    )
    assert (item["planned_cost_cny"], item["actual_cost_cny"]) == ("684.00", "555.75")
    assert Decimal(item["labour_hours"]) == Decimal("6.5")
    assert (item["failure_mode"], item["production_loss_cny"]) == ("INL", "1200.50")
    assert item["is_revamp_tie_in"] is True
    assert item["version"] == order.version
    assert datetime.fromisoformat(item["requested_at"]) == order.requested_at
    assert datetime.fromisoformat(item["updated_at"]) == order.updated_at
    assert "cost_lines" not in item, "the list stays light; the order's own URL has the details"


def test_the_list_filters_by_type_state_workshop_asset_and_turnaround(
    client: TestClient,
    session: Session,
    reader: dict[str, str],
    make_order: MakeOrder,
    asset: Asset,
    turnaround: Turnaround,
) -> None:
    other_workshop = factories.WorkshopFactory()
    other_asset = factories.AssetFactory(workshop_id=other_workshop.id, tag="K-201")
    cm = make_order(order_type=OrderType.CM)
    pm_order = make_order(order_type=OrderType.PM)
    ta_order = make_order(order_type=OrderType.TA, turnaround_id=turnaround.id)
    elsewhere = make_order(order_type=OrderType.CM, asset_id=other_asset.id)
    service.perform(session, pm_order, "approve", actor=SYSTEM)

    assert numbers(client, reader, type="CM") == [elsewhere.number, cm.number]
    assert numbers(client, reader, type=["PM", "TA"]) == [ta_order.number, pm_order.number]
    assert numbers(client, reader, state="approved") == [pm_order.number]
    assert numbers(client, reader, state=["draft"], type="CM") == [elsewhere.number, cm.number]
    assert numbers(client, reader, workshop=other_workshop.code) == [elsewhere.number]
    assert numbers(client, reader, asset="K-201") == [elsewhere.number]
    assert numbers(client, reader, turnaround="TA2026") == [ta_order.number]
    assert numbers(client, reader, workshop="NO-SUCH") == []
    problem = assert_problem(client.get("/api/v1/orders", params={"state": "finished"}, headers=reader), 422)
    assert problem["errors"][0]["field"] == "state.0", "the first `state` value is the bad one"


def test_the_date_range_is_in_plant_local_days(
    client: TestClient, session: Session, reader: dict[str, str], asset: Asset
) -> None:
    def raised_at(*local: int) -> WorkOrder:
        data = WorkOrderCreate(order_type=OrderType.CM, asset_id=asset.id, title="泄漏")  # type: ignore[arg-type]
        return service.create_order(session, data, actor=SYSTEM, at=datetime(*local, tzinfo=PLANT).astimezone(UTC))

    late_feb = raised_at(2026, 2, 28, 23, 59)
    early_march = raised_at(2026, 3, 1, 0, 30)  # still 28 February in UTC
    end_march = raised_at(2026, 3, 31, 23, 30)
    april = raised_at(2026, 4, 1, 0, 1)

    assert numbers(client, reader, **{"from": "2026-03-01", "to": "2026-03-31"}) == [
        end_march.number,
        early_march.number,
    ]
    assert numbers(client, reader, to="2026-02-28") == [late_feb.number]
    assert numbers(client, reader, **{"from": "2026-04-01"}) == [april.number]
    assert numbers(client, reader, **{"from": "2026-03-31", "to": "2026-03-31"}) == [end_march.number]
    assert_problem(
        client.get("/api/v1/orders", params={"from": "2026-04-01", "to": "2026-03-01"}, headers=reader), 422, "to"
    )
    assert_problem(client.get("/api/v1/orders", params={"from": "1 March"}, headers=reader), 422, "from")


def test_a_range_reaching_the_ends_of_the_calendar_is_open_ended(
    client: TestClient, reader: dict[str, str], make_order: MakeOrder
) -> None:
    """The first day of year 1 begins before year 1 in UTC and the day after 9999-12-31 does not
    exist (both were 500s, found by the fuzz test): such a bound leaves that end of the range open."""
    order = make_order()

    assert numbers(client, reader, **{"from": "0001-01-01"}) == [order.number]
    assert numbers(client, reader, to="9999-12-31") == [order.number]
    assert numbers(client, reader, **{"from": "0001-01-01", "to": "9999-12-31"}) == [order.number]


def test_updated_since_returns_changes_oldest_first_cost_changes_included(
    client: TestClient, session: Session, reader: dict[str, str], make_order: MakeOrder
) -> None:
    first, second, third = make_order(), make_order(), make_order()
    base = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    for minutes, order in ((10, first), (20, second), (30, third)):
        order.updated_at = base + timedelta(minutes=minutes)
    session.flush()
    # A cost line moves the order's totals, and so its updated_at: the ERP must see it.
    service.add_cost_line(
        session,
        first,
        CostLineCreate(
            kind=CostKind.SERVICE, description="外委探伤", quantity=Decimal("1"), unit_price_cny=Decimal("800")
        ),
        actor=SYSTEM,
    )

    since = (base + timedelta(minutes=20)).isoformat()
    response = client.get("/api/v1/orders", params={"updated_since": since}, headers=reader)

    assert [item["number"] for item in response.json()["data"]] == [second.number, third.number, first.number]
    assert response.json()["data"][-1]["actual_cost_cny"] == "800.00"
    same_instant_in_plant_time = (base + timedelta(minutes=20)).astimezone().isoformat()
    assert numbers(client, reader, updated_since=same_instant_in_plant_time) == [
        second.number,
        third.number,
        first.number,
    ]


def test_updated_since_needs_a_utc_offset(client: TestClient, reader: dict[str, str]) -> None:
    problem = assert_problem(
        client.get("/api/v1/orders", params={"updated_since": "2026-05-01T08:00:00"}, headers=reader),
        422,
        "updated_since",
    )

    assert "+08:00" in problem["errors"][0]["message"]  # the message shows an offset to copy


def test_pages_of_at_most_500(
    client: TestClient, session: Session, reader: dict[str, str], make_order: MakeOrder
) -> None:
    made = [make_order() for _ in range(5)]

    response = client.get("/api/v1/orders", params={"page": 3, "size": 2}, headers=reader)

    assert response.json()["count"] == 5
    assert [item["number"] for item in response.json()["data"]] == [made[0].number]
    assert client.get("/api/v1/orders", params={"page": 4, "size": 2}, headers=reader).json()["data"] == []
    assert_problem(client.get("/api/v1/orders", params={"size": 501}, headers=reader), 422, "size")
    assert_problem(client.get("/api/v1/orders", params={"page": 0}, headers=reader), 422, "page")


def test_the_list_runs_a_fixed_number_of_queries(
    client: TestClient,
    session: Session,
    reader: dict[str, str],
    make_order: MakeOrder,
    asset: Asset,
    workshop_engineer: User,
    count_queries: list[str],
) -> None:
    ta = turnarounds.create_turnaround(
        session,
        TurnaroundCreate(
            code="TA-Q", name="大修", start_date=date(2026, 9, 1), end_date=date(2026, 9, 30), site_id=asset.site_id
        ),
        actor=SYSTEM,
    )
    client.get("/api/v1/orders", headers=reader)  # the token's first use records it (then at most once a minute)

    def queries_for(count: int) -> int:
        for _ in range(count):
            make_order(turnaround_id=ta.id, assignee_id=workshop_engineer.id)
        session.flush()
        count_queries.clear()
        response = client.get("/api/v1/orders", params={"size": 500}, headers=reader)
        assert response.status_code == 200
        return len(count_queries)

    few = queries_for(2)
    many = queries_for(28)

    assert many == few


# --- One order ----------------------------------------------------------------------------


def test_one_order_with_cost_lines_checklist_and_history(
    client: TestClient, session: Session, reader: dict[str, str], make_order: MakeOrder, manager: User
) -> None:
    order = make_order(order_type=OrderType.PM, title="月度保养")
    service.add_cost_line(
        session,
        order,
        CostLineCreate(
            kind=CostKind.MATERIAL,
            description="润滑油",
            item_code="L-46",
            uom="L",
            planned_quantity=Decimal("4"),
            planned_unit_price_cny=Decimal("30"),
            quantity=Decimal("4"),
            unit_price_cny=Decimal("28.5"),
            used_quantity=Decimal("3"),
            returned_quantity=Decimal("1"),
        ),
        actor=SYSTEM,
    )
    service.add_checks(session, order, [("轴承温度", "°C"), ("联轴器对中", "")], actor=SYSTEM)
    temperature, alignment = service.checklist_of(session, order)
    service.record_check(
        session, order, temperature, result=ChecklistResult.OK, value=Decimal("62.5"), note="", actor=SYSTEM
    )
    service.record_check(
        session, order, alignment, result=ChecklistResult.NOT_OK, value=None, note="偏差大", actor=SYSTEM
    )
    raised = service.raise_order_from_check(session, order, alignment, actor=SYSTEM)
    service.perform(session, order, "approve", actor=manager)
    service.perform(session, order, "hold", actor=manager, note="等备件")

    response = client.get(f"/api/v1/orders/{order.number.lower()}", headers=reader)

    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["state"], body["origin_order_number"]) == (order.number, "on_hold", None)
    [line] = body["cost_lines"]
    assert (line["kind"], line["item_code"], line["uom"]) == ("material", "L-46", "L")
    assert (line["planned_cny"], line["actual_cny"], line["saving_cny"]) == ("120.00", "114.00", "0.00")
    assert (Decimal(line["used_quantity"]), Decimal(line["returned_quantity"])) == (3, 1)
    assert [(c["position"], c["text"], c["result"], c["raised_order_number"]) for c in body["checklist"]] == [
        (1, "轴承温度", "ok", None),
        (2, "联轴器对中", "not_ok", raised.number),
    ]
    assert Decimal(body["checklist"][0]["value"]) == Decimal("62.5")
    assert [(t["from_state"], t["to_state"], t["actor"], t["note"]) for t in body["transitions"]] == [
        (None, "draft", SYSTEM.username, ""),
        ("draft", "approved", manager.username, ""),
        ("approved", "on_hold", manager.username, "等备件"),
    ]
    raised_body = client.get(f"/api/v1/orders/{raised.number}", headers=reader).json()
    assert (raised_body["type"], raised_body["origin_order_number"]) == ("CM", order.number)


def test_an_unknown_number_is_a_404_problem(client: TestClient, reader: dict[str, str]) -> None:
    problem = assert_problem(client.get("/api/v1/orders/WO-1999-000001", headers=reader), 404)

    assert "WO-1999-000001" in problem["detail"]


# --- Raising an order ---------------------------------------------------------------------


def test_raising_an_order_answers_201_with_the_order_and_its_location(
    client: TestClient,
    session: Session,
    writer: dict[str, str],
    asset: Asset,
    workshop: Workshop,
    workshop_engineer: User,
) -> None:
    body = {
        "type": "CM",
        "asset_tag": asset.tag,
        "title": "  机封泄漏  ",
        "description": "出口侧滴漏",
        "priority": "1",
        "planned_start_date": "2026-06-02",
        "planned_finish_date": "2026-06-03",
        "due_date": "2026-06-05",
        "provider": "contractor",
        "assignee_name": "检修一班",
    }

    response = client.post("/api/v1/orders", json=body, headers=writer)

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/v1/orders/{created['number']}"
    assert created["number"].startswith("WO-")
    assert (created["type"], created["state"], created["priority"], created["provider"]) == (
        "CM",
        "draft",
        "1",
        "contractor",
    )
    assert (created["asset_tag"], created["workshop_code"], created["title"]) == (asset.tag, workshop.code, "机封泄漏")
    assert (created["planned_start_date"], created["due_date"]) == ("2026-06-02", "2026-06-05")
    assert [(t["from_state"], t["to_state"], t["actor"]) for t in created["transitions"]] == [
        (None, "draft", workshop_engineer.username)
    ]
    order = service.get_order_by_number(session, created["number"])
    assert order is not None
    assert order.requested_by_id == workshop_engineer.id
    logged = session.scalars(
        select(ObjectChange).where(ObjectChange.object_type == "work_order", ObjectChange.object_id == str(order.id))
    ).all()
    assert [change.actor_id for change in logged] == [workshop_engineer.id]
    assert client.get(response.headers["location"], headers=writer).json()["number"] == created["number"]


def test_only_type_asset_and_title_are_required(client: TestClient, writer: dict[str, str], asset: Asset) -> None:
    response = client.post(
        "/api/v1/orders", json={"type": "PM", "asset_tag": asset.tag, "title": "巡检"}, headers=writer
    )

    assert response.status_code == 201
    assert (response.json()["priority"], response.json()["provider"], response.json()["description"]) == (
        "3",
        "in_house",
        "",
    )


def test_an_engineer_raises_orders_only_in_own_workshops(
    client: TestClient, session: Session, writer: dict[str, str]
) -> None:
    elsewhere = factories.AssetFactory(workshop_id=factories.WorkshopFactory().id, tag="K-901")

    assert_problem(
        client.post("/api/v1/orders", json={"type": "CM", "asset_tag": "K-901", "title": "泄漏"}, headers=writer), 403
    )

    assert session.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.asset_id == elsewhere.id)) == 0


def test_an_auditor_cannot_raise_orders_even_with_the_scope(client: TestClient, session: Session, asset: Asset) -> None:
    """A token made while its user was an engineer: the scope is still on it, the role forbids it."""
    user = factories.UserFactory(role=Role.ENGINEER)
    headers = token_for(session, user, "orders:write")
    user.role = Role.AUDITOR
    session.flush()

    problem = assert_problem(
        client.post("/api/v1/orders", json={"type": "CM", "asset_tag": asset.tag, "title": "泄漏"}, headers=headers),
        403,
    )

    assert "orders:write" in problem["detail"]
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_an_auditors_token_cannot_carry_the_write_scope(session: Session, auditor: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        token_for(session, auditor, "orders:read", "orders:write")

    assert "orders:write" in refused.value.message


def test_a_manager_raises_orders_in_any_workshop(client: TestClient, session: Session, asset: Asset) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.MANAGER), "orders:write")

    response = client.post(
        "/api/v1/orders", json={"type": "PRJ", "asset_tag": asset.tag, "title": "技改"}, headers=headers
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"type": "XX"}, "type"),
        ({"priority": "9"}, "priority"),
        ({"asset_tag": "NO-SUCH"}, "asset_tag"),
        ({"planned_start_date": "2026-06-05", "planned_finish_date": "2026-06-01"}, "planned_finish_date"),
        ({"due_date": "next week"}, "due_date"),
        ({"asset": "P-1"}, "asset"),
    ],
    ids=[
        "no title",
        "blank title",
        "long title",
        "unknown type",
        "unknown priority",
        "unknown asset",
        "finish before start",
        "bad date",
        "unknown field",
    ],
)
def test_invalid_input_is_a_422_problem_naming_the_field(
    client: TestClient, session: Session, writer: dict[str, str], asset: Asset, change: dict[str, Any], field: str
) -> None:
    body = {"type": "CM", "asset_tag": asset.tag, "title": "泄漏"} | change
    body = {key: value for key, value in body.items() if value is not None}

    assert_problem(client.post("/api/v1/orders", json=body, headers=writer), 422, field)
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_a_retired_asset_takes_no_new_orders(
    client: TestClient, session: Session, writer: dict[str, str], asset: Asset
) -> None:
    asset.status = AssetStatus.RETIRED
    session.flush()

    problem = assert_problem(
        client.post("/api/v1/orders", json={"type": "CM", "asset_tag": asset.tag, "title": "泄漏"}, headers=writer),
        422,
        "asset_tag",
    )

    assert asset.tag in problem["errors"][0]["message"]


# --- PM plans -----------------------------------------------------------------------------


def make_plan(session: Session, asset: Asset, **fields: Any) -> PmPlan:
    data: dict[str, Any] = {"asset_id": asset.id, "title": "月度保养", "start_date": date(2026, 1, 31)} | fields
    return pm.create_plan(session, PmPlanCreate.model_validate(data), actor=SYSTEM)


def test_pm_plans_with_filters_next_due_and_estimated_cost(
    client: TestClient, session: Session, reader: dict[str, str], asset: Asset, workshop: Workshop
) -> None:
    today = plant_today()
    fixed = make_plan(session, asset, title="月检", start_date=date(today.year - 1, today.month, 1), interval=1)
    pm.add_estimated_line(
        session,
        fixed,
        PmPlanCostLine(
            kind=CostKind.MATERIAL, description="润滑脂", quantity=Decimal("2"), unit_price_cny=Decimal("45.5")
        ),  # type: ignore[call-arg]
        actor=SYSTEM,
    )
    floating = make_plan(
        session,
        asset,
        title="季度对中",
        basis=PlanBasis.FLOATING,
        interval=2,
        interval_unit=IntervalUnit.WEEK,
    )
    floating.last_done_date = today - timedelta(days=20)
    runtime = make_plan(session, asset, title="换油", basis=PlanBasis.RUNTIME, interval_hours=4000)
    runtime.last_done_meter_hours = Decimal("12000.0")
    other = factories.AssetFactory(workshop_id=factories.WorkshopFactory().id, tag="K-301")
    idle = make_plan(session, other, title="停用计划", is_active=False)
    session.flush()

    response = client.get("/api/v1/pm-plans", params={"workshop": workshop.code}, headers=reader)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    by_title = {item["title"]: item for item in body["data"]}
    first_of_next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert by_title["月检"]["next_due_date"] == (today if today.day == 1 else first_of_next_month).isoformat()
    assert by_title["月检"]["estimated_cost_cny"] == "91.00"
    assert (by_title["月检"]["basis"], by_title["月检"]["interval_unit"]) == ("fixed", "month")
    assert by_title["季度对中"]["next_due_date"] == (today - timedelta(days=20) + timedelta(weeks=2)).isoformat()
    assert by_title["换油"]["next_due_date"] is None
    assert Decimal(by_title["换油"]["next_due_meter_hours"]) == Decimal("16000")
    assert by_title["季度对中"]["estimated_cost_cny"] == "0.00"
    assert {item["asset_tag"] for item in body["data"]} == {asset.tag}

    def titles(**params: Any) -> list[str]:
        found = client.get("/api/v1/pm-plans", params=params, headers=reader)
        assert found.status_code == 200, found.text
        return [item["title"] for item in found.json()["data"]]

    assert titles(asset="K-301") == ["停用计划"]
    assert titles(active="false") == ["停用计划"]
    assert sorted(titles(active="true")) == sorted(["月检", "季度对中", "换油"])
    idle_item = client.get("/api/v1/pm-plans", params={"asset": "K-301"}, headers=reader).json()["data"][0]
    assert (idle_item["is_active"], idle_item["next_due_date"]) == (False, None)
    assert idle.id == idle_item["id"]


def test_a_fixed_plan_falls_due_on_its_series_from_today_on(
    client: TestClient, session: Session, reader: dict[str, str], asset: Asset
) -> None:
    today = plant_today()
    make_plan(session, asset, title="每周", start_date=today - timedelta(days=15), interval=1, interval_unit="week")
    make_plan(session, asset, title="未开始", start_date=today + timedelta(days=40))
    make_plan(session, asset, title="今天", start_date=today - timedelta(days=9), interval=3, interval_unit="day")

    data = client.get("/api/v1/pm-plans", headers=reader).json()["data"]

    due = {item["title"]: item["next_due_date"] for item in data}
    assert due == {
        "每周": (today + timedelta(days=6)).isoformat(),
        "未开始": (today + timedelta(days=40)).isoformat(),
        "今天": today.isoformat(),
    }


def test_pm_plans_page_in_a_fixed_number_of_queries(
    client: TestClient, session: Session, reader: dict[str, str], asset: Asset, count_queries: list[str]
) -> None:
    client.get("/api/v1/pm-plans", headers=reader)  # the token's first use records it (then at most once a minute)

    def queries_for(count: int) -> int:
        for _ in range(count):
            plan = make_plan(session, asset)
            pm.add_estimated_line(
                session,
                plan,
                PmPlanCostLine(
                    kind=CostKind.LABOUR, description="钳工", quantity=Decimal("2"), unit_price_cny=Decimal("80")
                ),  # type: ignore[call-arg]
                actor=SYSTEM,
            )
        count_queries.clear()
        response = client.get("/api/v1/pm-plans", params={"size": 500}, headers=reader)
        assert response.status_code == 200
        assert {item["estimated_cost_cny"] for item in response.json()["data"]} == {"160.00"}
        return len(count_queries)

    assert queries_for(2) == queries_for(20)


def test_pm_plans_need_the_orders_read_scope(client: TestClient, session: Session, engineer: User) -> None:
    headers = token_for(session, engineer, "assets:read")

    assert_problem(client.get("/api/v1/pm-plans", headers=headers), 403)


# --- The schema ---------------------------------------------------------------------------


def test_openapi_documents_the_order_endpoints(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]

    listing = paths["/api/v1/orders"]["get"]
    detail = paths["/api/v1/orders/{number}"]["get"]
    create = paths["/api/v1/orders"]["post"]
    plans = paths["/api/v1/pm-plans"]["get"]
    for operation in (listing, detail, create, plans):
        assert operation["summary"]
        assert "application/problem+json" in operation["responses"]["422"]["content"]
        assert {"401", "403"} <= set(operation["responses"])
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/OrderApiPage")
    assert detail["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/OrderApiDetail")
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/OrderApiDetail")
    assert "Location" in create["responses"]["201"]["headers"]
    assert "404" in detail["responses"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/OrderApiCreate")
    assert {"type", "state", "workshop", "asset", "turnaround", "from", "to", "updated_since", "page", "size"} <= {
        p["name"] for p in listing["parameters"]
    }
    assert {"workshop", "asset", "active", "page", "size"} <= {p["name"] for p in plans["parameters"]}
    size = next(p for p in listing["parameters"] if p["name"] == "size")
    assert size["schema"]["maximum"] == 500
    item = schema["components"]["schemas"]["OrderApiRead"]["properties"]
    assert item["planned_cost_cny"]["type"] == "string"
    assert all("HTTPValidationError" not in str(op["responses"]) for op in (listing, detail, create, plans))
    body = schema["components"]["schemas"]["OrderApiCreate"]
    assert set(body["required"]) == {"type", "asset_tag", "title"}
