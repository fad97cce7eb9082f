"""PM plan pages: the list with next due dates, the plan page, its forms and buttons."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit.models import ObjectChange
from maintenance.db import plant_today
from maintenance.orders.choices import CostKind, IntervalUnit, OrderState, PlanBasis
from maintenance.orders.models import PmPlan, PmPlanCostLine, PmPlanCreate, WorkOrder
from maintenance.orders.pm import scheduler
from maintenance.orders.pm import service as pm
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.conftest import login
from tests.orders.conftest import SYSTEM


def make_plan(session: Session, asset: Asset, **fields: Any) -> PmPlan:
    data: dict[str, Any] = {
        "asset_id": asset.id,
        "title": "月度润滑",
        "basis": PlanBasis.FIXED,
        "interval": 1,
        "interval_unit": IntervalUnit.MONTH,
        "start_date": plant_today() + timedelta(days=3),
        "lead_days": 7,
    }
    data.update(fields)
    return pm.create_plan(session, PmPlanCreate.model_validate(data), actor=SYSTEM)


def plan_form(asset: Asset, token: str, **fields: Any) -> dict[str, Any]:
    data = {
        "csrf_token": token,
        "asset_tag": asset.tag,
        "title": "轴承换油",
        "basis": "fixed",
        "interval": "3",
        "interval_unit": "month",
        "interval_hours": "",
        "start_date": "2026-04-30",
        "lead_days": "10",
        "priority": "3",
        "provider": "in_house",
        "assignee_name": "",
        "checklist_template": "轴承温度 | ℃\n油位",
        "is_active": "true",
    }
    data.update(fields)
    return data


def changes_of(session: Session, object_type: str) -> int:
    return (
        session.scalar(select(func.count()).select_from(ObjectChange).where(ObjectChange.object_type == object_type))
        or 0
    )


def follow(client: TestClient, response: Any) -> str:
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"]).text


# --- The list -----------------------------------------------------------------------------


def test_the_list_shows_each_plan_with_its_asset_and_next_due_date(
    client: TestClient, session: Session, asset: Asset, engineer: User
) -> None:
    today = plant_today()
    make_plan(session, asset, title="月度润滑", start_date=today + timedelta(days=3))
    make_plan(session, asset, title="首次保养", basis=PlanBasis.FLOATING, start_date=today - timedelta(days=2))
    runtime = make_plan(session, asset, title="换油", basis=PlanBasis.RUNTIME, interval_hours=2000)
    runtime.meter_hours = Decimal("1500")
    login(client, engineer)

    page = client.get("/pm-plans").text

    assert "月度润滑" in page
    assert "首次保养" in page
    assert "换油" in page
    assert asset.tag in page
    next_due = re.findall(r'data-testid="next-due">\s*(.*?)\s*</td>', page, re.S)
    assert any("overdue" in cell or "逾期" in cell for cell in next_due)  # the floating plan
    assert "1,500" in page  # runtime: hours run of the interval


def test_the_list_filters_by_basis_workshop_search_and_activity(
    client: TestClient, session: Session, asset: Asset, engineer: User
) -> None:
    other_asset = factories.AssetFactory(tag="K-201", name="压缩机")
    make_plan(session, asset, title="泵月检")
    make_plan(session, other_asset, title="压缩机换油", basis=PlanBasis.RUNTIME, interval_hours=4000)
    make_plan(session, asset, title="停用计划", is_active=False)
    login(client, engineer)

    def titles(**params: Any) -> set[str]:
        page = client.get("/pm-plans", params=params, headers={"HX-Request": "true"}).text
        return {title for title in ("泵月检", "压缩机换油", "停用计划") if title in page}

    assert titles() == {"泵月检", "压缩机换油"}
    assert titles(basis="runtime") == {"压缩机换油"}
    assert titles(workshop_id=asset.workshop_id) == {"泵月检"}
    assert titles(q="K-201") == {"压缩机换油"}
    assert titles(active="no") == {"停用计划"}
    assert titles(active="all") == {"泵月检", "压缩机换油", "停用计划"}
    assert titles(asset_id=asset.id) == {"泵月检"}
    assert titles(basis="nonsense", sort="nonsense") == {"泵月检", "压缩机换油"}  # bad values are ignored


def test_the_htmx_fragment_is_the_results_only(
    client: TestClient, session: Session, asset: Asset, engineer: User
) -> None:
    make_plan(session, asset)
    login(client, engineer)

    fragment = client.get("/pm-plans", headers={"HX-Request": "true"}).text

    assert 'id="pm-table"' in fragment
    assert "<html" not in fragment
    assert 'id="pm-filters"' not in fragment


def test_the_list_runs_a_fixed_number_of_queries(
    client: TestClient, session: Session, workshop: Workshop, engineer: User, count_queries: list[str]
) -> None:
    login(client, engineer)

    def queries_for(n: int) -> int:
        for _ in range(n):
            make_plan(session, factories.AssetFactory(workshop_id=workshop.id))
        count_queries.clear()
        assert client.get("/pm-plans", params={"workshop_id": workshop.id}).status_code == 200
        return len(count_queries)

    few = queries_for(2)
    many = queries_for(28)

    assert few == many


@pytest.mark.parametrize(
    ("role", "can_create", "can_generate"),
    [(Role.AUDITOR, False, False), (Role.ENGINEER, True, False), (Role.MANAGER, True, True)],
)
def test_buttons_follow_the_role(
    client: TestClient, session: Session, asset: Asset, role: Role, can_create: bool, can_generate: bool
) -> None:
    make_plan(session, asset)
    login(client, factories.UserFactory(role=role))

    page = client.get("/pm-plans").text

    assert ('href="/pm-plans/new' in page) is can_create
    assert ('data-testid="generate-all"' in page) is can_generate


# --- Create and edit ----------------------------------------------------------------------


def test_an_engineer_creates_a_plan_for_an_asset_of_their_workshop(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)
    form = client.get("/pm-plans/new", params={"asset_id": asset.id}).text
    assert f'value="{asset.tag}"' in form

    response = client.post("/pm-plans/new", data=plan_form(asset, token))

    plan = session.scalars(select(PmPlan).where(col(PmPlan.title) == "轴承换油")).one()
    assert response.headers["location"] == f"/pm-plans/{plan.id}"
    assert (plan.asset_id, plan.workshop_id, plan.interval, plan.lead_days) == (asset.id, asset.workshop_id, 3, 10)
    assert plan.is_active
    assert changes_of(session, "pm_plan") == 1
    page = follow(client, response)
    assert "轴承温度" in page
    assert "油位" in page
    assert "2026" in page  # upcoming due dates


def test_an_unchecked_active_box_saves_an_inactive_plan(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)
    data = plan_form(asset, token)
    del data["is_active"]

    client.post("/pm-plans/new", data=data)

    assert session.scalars(select(PmPlan)).one().is_active is False


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"asset_tag": "NO-SUCH"}, "asset_tag", "NO-SUCH"),
        ({"title": ""}, "title", ""),
        ({"interval": "0"}, "interval", ""),
        ({"start_date": "31/04/2026"}, "start_date", "YYYY-MM-DD"),
        ({"basis": "runtime", "interval_hours": ""}, "interval_hours", ""),
    ],
)
def test_bad_input_re_renders_the_form_naming_the_field(
    client: TestClient,
    session: Session,
    asset: Asset,
    workshop_engineer: User,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    token = login(client, workshop_engineer)

    response = client.post("/pm-plans/new", data=plan_form(asset, token, **fields))

    assert response.status_code == 422
    assert re.search(rf'id="f-{field}"[^>]*|name="{field}"', response.text)
    assert "is-invalid" in response.text
    assert message in response.text
    assert session.scalar(select(func.count()).select_from(PmPlan)) == 0


def test_an_engineer_cannot_plan_for_another_workshop(
    client: TestClient, session: Session, workshop_engineer: User
) -> None:
    foreign = factories.AssetFactory()
    token = login(client, workshop_engineer)

    response = client.post("/pm-plans/new", data=plan_form(foreign, token))

    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(PmPlan)) == 0


def test_editing_a_plan_saves_and_bumps_its_version(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    plan = make_plan(session, asset)
    token = login(client, workshop_engineer)
    assert client.get(f"/pm-plans/{plan.id}/edit").status_code == 200

    response = client.post(
        f"/pm-plans/{plan.id}/edit", data=plan_form(asset, token, title="季度润滑", version=str(plan.version))
    )

    assert response.status_code == 303
    assert (plan.title, plan.version, plan.interval) == ("季度润滑", 2, 3)


def test_a_stale_edit_shows_the_conflict_page_and_saves_nothing(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    plan = make_plan(session, asset, title="月度润滑")
    token = login(client, workshop_engineer)
    pm.update_plan(
        session,
        plan,
        pm.PmPlanUpdate.model_validate(plan.model_dump() | {"title": "别人改的", "version": plan.version}),
        actor=SYSTEM,
    )

    response = client.post(f"/pm-plans/{plan.id}/edit", data=plan_form(asset, token, title="我改的", version="1"))

    assert response.status_code == 409
    assert 'data-testid="conflict"' in response.text
    assert "别人改的" in response.text
    assert "我改的" in response.text
    assert plan.title == "别人改的"


# --- The plan page ------------------------------------------------------------------------


def test_estimated_lines_are_added_and_deleted_with_htmx(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    plan = make_plan(session, asset)
    token = login(client, workshop_engineer)
    hx = {"HX-Request": "true"}

    added = client.post(
        f"/pm-plans/{plan.id}/lines",
        data={
            "csrf_token": token,
            "kind": "material",
            "description": "46# 汽轮机油",
            "uom": "L",
            "quantity": "20",
            "unit_price_cny": "18.5",
        },
        headers=hx,
    )

    assert added.status_code == 200
    assert "46# 汽轮机油" in added.text
    assert 'data-testid="estimated-total">370.00' in added.text
    assert "<html" not in added.text
    [line] = pm.estimated_lines_of(session, plan)
    assert (line.kind, line.quantity, line.unit_price_cny) == (CostKind.MATERIAL, Decimal("20"), Decimal("18.50"))

    deleted = client.post(f"/pm-plans/{plan.id}/lines/{line.id}/delete", data={"csrf_token": token}, headers=hx)

    assert deleted.status_code == 200
    assert 'id="line-table"' not in deleted.text
    assert pm.estimated_lines_of(session, plan) == []
    assert changes_of(session, "pm_plan_cost_line") == 2


def test_a_bad_estimated_line_is_refused_with_its_reason(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    plan = make_plan(session, asset)
    token = login(client, workshop_engineer)

    response = client.post(
        f"/pm-plans/{plan.id}/lines",
        data={"csrf_token": token, "kind": "labour", "description": "", "quantity": "-1", "unit_price_cny": "abc"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert response.text.count("invalid-feedback") >= 3
    assert pm.estimated_lines_of(session, plan) == []


def test_the_plan_page_shows_upcoming_dates_checklist_and_its_orders(
    client: TestClient, session: Session, asset: Asset, engineer: User
) -> None:
    plan = make_plan(
        session, asset, start_date=date(2026, 1, 31), checklist_template="联轴器对中\n振动 | mm/s", lead_days=0
    )
    scheduler.generate_orders(session, plant_today(), 40)
    [first, *_rest] = pm.orders_of_plan(session, plan)
    login(client, engineer)

    page = client.get(f"/pm-plans/{plan.id}").text

    assert page.count('class="list-inline-item') == 5
    assert "联轴器对中" in page
    assert "mm/s" in page
    assert first.number in page


def test_a_writer_records_a_meter_reading_on_a_runtime_plan(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    plan = make_plan(session, asset, basis=PlanBasis.RUNTIME, interval_hours=2000)
    token = login(client, workshop_engineer)
    before = client.get(f"/pm-plans/{plan.id}").text
    assert 'id="m-hours"' in before
    assert 'data-testid="meter-hours"' not in before

    response = client.post(
        f"/pm-plans/{plan.id}/meter", data={"csrf_token": token, "hours": "1,234.5", "read_at": "2026-01-05T08:30"}
    )

    assert response.status_code == 303
    assert plan.meter_hours == Decimal("1234.5")
    assert plan.meter_read_at is not None
    assert plan.meter_read_at.isoformat() == "2026-01-05T00:30:00+00:00"
    assert 'data-testid="meter-hours">1,234.5 h' in follow(client, response)


@pytest.mark.parametrize(
    "data", [{"hours": "lots"}, {"hours": "-5"}, {"hours": "100", "read_at": "2999-01-01T00:00"}, {"hours": "NaN"}]
)
def test_a_bad_meter_reading_is_refused(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User, data: dict[str, str]
) -> None:
    plan = make_plan(session, asset, basis=PlanBasis.RUNTIME, interval_hours=2000)
    token = login(client, workshop_engineer)

    response = client.post(f"/pm-plans/{plan.id}/meter", data={"csrf_token": token, **data})

    assert response.status_code == 303
    assert plan.meter_hours is None
    assert 'class="toast align-items-center text-bg-danger' in follow(client, response)


def test_a_manager_generates_the_due_orders_of_one_plan(client: TestClient, session: Session, asset: Asset) -> None:
    plan = make_plan(session, asset, start_date=plant_today() + timedelta(days=2))
    other = make_plan(session, asset, title="别的计划", start_date=plant_today() + timedelta(days=2))
    manager = factories.UserFactory(role=Role.MANAGER)
    token = login(client, manager)

    response = client.post(f"/pm-plans/{plan.id}/generate", data={"csrf_token": token})

    assert response.headers["location"] == f"/pm-plans/{plan.id}"
    [order] = pm.orders_of_plan(session, plan)
    assert order.state == OrderState.APPROVED
    assert order.requested_by_id == manager.id
    assert order.approved_by_id is None  # the plan's standing approval (the scheduler's), not his own
    assert pm.orders_of_plan(session, other) == []
    page = follow(client, response)
    assert order.number in page
    assert 'class="toast align-items-center text-bg-success' in page

    client.post(f"/pm-plans/{plan.id}/generate", data={"csrf_token": token})
    assert len(pm.orders_of_plan(session, plan)) == 1


def test_a_manager_generates_the_due_orders_of_all_plans(client: TestClient, session: Session, asset: Asset) -> None:
    make_plan(session, asset, start_date=plant_today() + timedelta(days=2))
    make_plan(session, asset, title="别的计划", start_date=plant_today() + timedelta(days=2))
    token = login(client, factories.UserFactory(role=Role.MANAGER))

    response = client.post("/pm-plans/generate", data={"csrf_token": token})

    assert response.headers["location"] == "/pm-plans"
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 2


def test_generating_is_for_managers_only(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    plan = make_plan(session, asset, start_date=plant_today() + timedelta(days=2))
    token = login(client, workshop_engineer)

    assert client.post(f"/pm-plans/{plan.id}/generate", data={"csrf_token": token}).status_code == 403
    assert client.post("/pm-plans/generate", data={"csrf_token": token}).status_code == 403
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_an_auditor_reads_but_cannot_change_a_plan(client: TestClient, session: Session, asset: Asset) -> None:
    plan = make_plan(session, asset)
    pm.add_estimated_line(
        session,
        plan,
        PmPlanCostLine(kind=CostKind.LABOUR, description="钳工", unit_price_cny=Decimal("85")),
        actor=SYSTEM,
    )
    token = login(client, factories.UserFactory(role=Role.AUDITOR))

    page = client.get(f"/pm-plans/{plan.id}")

    assert page.status_code == 200
    assert "钳工" in page.text
    assert 'id="line-form"' not in page.text
    assert client.post(f"/pm-plans/{plan.id}/lines", data={"csrf_token": token, "kind": "labour"}).status_code == 403
    assert client.get(f"/pm-plans/{plan.id}/edit").status_code == 403


def test_an_unknown_plan_is_a_404(client: TestClient, engineer: User) -> None:
    login(client, engineer)

    assert client.get("/pm-plans/999999").status_code == 404
