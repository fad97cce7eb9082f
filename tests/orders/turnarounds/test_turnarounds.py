"""Turnarounds (大修): managers plan them with dates and a budget; their scope is the work orders
tagged to them (revamp tie-ins flagged); the turnaround page shows progress by order state, cost
vs budget and a Gantt chart of the scope."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.exceptions import Conflict, NotFound, ValidationFailed
from maintenance.i18n import LOCALE_COOKIE
from maintenance.orders import service
from maintenance.orders.choices import CostKind, OrderState, OrderType
from maintenance.orders.models import CostLineCreate, Turnaround, TurnaroundCreate, WorkOrder
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.conftest import login
from tests.orders.conftest import SYSTEM, MakeOrder

BUDGET = Decimal("100000.00")


@pytest.fixture
def turnaround(session: Session, workshop: Workshop) -> Turnaround:
    return turnarounds.create_turnaround(
        session,
        TurnaroundCreate(
            code="TA-2026",
            name="2026年全厂大修",
            start_date=date(2026, 5, 1),
            end_date=date(2026, 5, 31),
            budget_cny=BUDGET,
            site_id=workshop.site_id,
        ),
        actor=SYSTEM,
    )


@pytest.fixture
def english(client: TestClient) -> TestClient:
    client.cookies.set(LOCALE_COOKIE, "en")
    return client


def _user(session: Session, role: Role) -> User:
    return factories.UserFactory(role=role)


def _changes_of(session: Session, obj: Any) -> list[ObjectChange]:
    return list(
        session.scalars(
            select(ObjectChange)
            .where(
                col(ObjectChange.object_type) == type(obj).__tablename__,
                col(ObjectChange.object_id) == str(obj.id),
            )
            .order_by(col(ObjectChange.id))
        )
    )


def _form(**fields: Any) -> dict[str, Any]:
    values = {"code": "TA-2027", "name": "2027年大修", "start_date": "2027-04-01", "end_date": "2027-04-30"}
    values.update(fields)
    return values


# --- Creating and editing -----------------------------------------------------------------


def test_manager_creates_a_turnaround_from_the_form(
    session: Session, english: TestClient, manager: User, workshop: Workshop
) -> None:
    token = login(english, manager)
    form = english.get("/turnarounds/new")
    assert form.status_code == 200
    assert f'<option value="{workshop.site_id}" selected>' in form.text  # the only site, chosen already

    response = english.post(
        "/turnarounds/new",
        data=_form(csrf_token=token, budget_cny="8500000", site_id=workshop.site_id, notes="二期技改碰头"),
    )

    assert response.status_code == 303
    created = session.scalars(select(Turnaround).where(col(Turnaround.code) == "TA-2027")).one()
    assert response.headers["location"] == f"/turnarounds/{created.id}"
    assert created.budget_cny == Decimal("8500000.00")
    assert [c.action for c in _changes_of(session, created)] == [ChangeAction.CREATE]


def test_form_refuses_an_end_before_the_start_naming_the_field(
    english: TestClient, manager: User, workshop: Workshop
) -> None:
    token = login(english, manager)

    response = english.post(
        "/turnarounds/new",
        data=_form(csrf_token=token, start_date="2027-04-30", end_date="2027-04-01", site_id=workshop.site_id),
    )

    assert response.status_code == 422
    assert "The end cannot come before the start." in response.text
    assert 'id="f-end_date"' in response.text
    assert "is-invalid" in response.text


def test_form_refuses_a_code_that_is_taken(english: TestClient, manager: User, turnaround: Turnaround) -> None:
    token = login(english, manager)

    response = english.post(
        "/turnarounds/new", data=_form(csrf_token=token, code="TA-2026", site_id=turnaround.site_id)
    )

    assert response.status_code == 422
    assert "Code TA-2026 is taken." in response.text


def test_form_refuses_a_missing_date_and_a_negative_budget(
    english: TestClient, manager: User, workshop: Workshop
) -> None:
    token = login(english, manager)

    response = english.post(
        "/turnarounds/new",
        data=_form(csrf_token=token, start_date="", budget_cny="-5", site_id=workshop.site_id),
    )

    assert response.status_code == 422
    assert "This field is required." in response.text
    assert "Must be at least 0." in response.text


def test_manager_edits_a_turnaround_and_the_change_is_logged(
    session: Session, english: TestClient, manager: User, turnaround: Turnaround
) -> None:
    token = login(english, manager)
    form = english.get(f"/turnarounds/{turnaround.id}/edit")
    assert form.status_code == 200

    response = english.post(
        f"/turnarounds/{turnaround.id}/edit",
        data=_form(csrf_token=token, code="TA-2026", name="2026年大修(延期)", end_date="2027-05-10", version=1)
        | {"start_date": "2027-04-20", "budget_cny": "120000"},
    )

    assert response.status_code == 303
    assert turnaround.end_date == date(2027, 5, 10)
    assert turnaround.budget_cny == Decimal("120000.00")
    assert turnaround.version == 2
    assert [c.action for c in _changes_of(session, turnaround)] == [ChangeAction.CREATE, ChangeAction.UPDATE]


def test_editing_a_stale_version_gives_a_409_page_and_saves_nothing(
    session: Session, english: TestClient, manager: User, turnaround: Turnaround
) -> None:
    token = login(english, manager)
    edit = {
        "csrf_token": token,
        "code": "TA-2026",
        "name": turnaround.name,
        "start_date": "2026-05-01",
        "end_date": "2026-05-31",
        "budget_cny": "100000",
        "version": 1,
    }
    first = english.post(f"/turnarounds/{turnaround.id}/edit", data=edit | {"budget_cny": "150000"})
    assert first.status_code == 303

    second = english.post(f"/turnarounds/{turnaround.id}/edit", data=edit | {"budget_cny": "90000"})

    assert second.status_code == 409
    assert "Someone else changed turnaround TA-2026" in second.text
    assert "budget_cny" in second.text
    assert turnaround.budget_cny == Decimal("150000.00")
    assert turnaround.version == 2


# --- Who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR], ids=lambda r: r.value)
def test_only_managers_create_and_edit_turnarounds(
    session: Session, client: TestClient, turnaround: Turnaround, role: Role
) -> None:
    token = login(client, _user(session, role))

    assert client.get("/turnarounds/new").status_code == 403
    assert client.post("/turnarounds/new", data=_form(csrf_token=token, site_id=turnaround.site_id)).status_code == 403
    assert client.get(f"/turnarounds/{turnaround.id}/edit").status_code == 403
    refused = client.post(f"/turnarounds/{turnaround.id}/edit", data=_form(csrf_token=token, version=1))
    assert refused.status_code == 403
    assert turnaround.version == 1


def test_auditor_views_the_list_and_the_turnaround_but_cannot_change_its_scope(
    session: Session, client: TestClient, turnaround: Turnaround, make_order: MakeOrder
) -> None:
    order = make_order(order_type=OrderType.TA)
    token = login(client, _user(session, Role.AUDITOR))

    assert client.get("/turnarounds").status_code == 200
    page = client.get(f"/turnarounds/{turnaround.id}")
    assert page.status_code == 200
    assert 'data-testid="add-to-scope"' not in page.text
    refused = client.post(f"/turnarounds/{turnaround.id}/scope", data={"csrf_token": token, "number": order.number})
    assert refused.status_code == 403
    assert order.turnaround_id is None


def test_engineer_of_another_workshop_cannot_put_an_order_in_the_scope(
    session: Session, client: TestClient, turnaround: Turnaround, make_order: MakeOrder
) -> None:
    order = make_order(order_type=OrderType.TA)
    token = login(client, _user(session, Role.ENGINEER))

    response = client.post(f"/turnarounds/{turnaround.id}/scope", data={"csrf_token": token, "number": order.number})

    assert response.status_code == 403
    assert order.turnaround_id is None


# --- The scope summary --------------------------------------------------------------------


def _order_in(
    session: Session,
    make_order: MakeOrder,
    turnaround: Turnaround | None,
    state: OrderState,
    planned: str,
    actual: str = "0",
    *,
    tie_in: bool = False,
    asset: Asset | None = None,
    **fields: Any,
) -> WorkOrder:
    """An order of the turnaround with one labour line (planned and actual amounts), moved to ``state``."""
    if asset is not None:
        fields["asset_id"] = asset.id
    order = make_order(
        order_type=OrderType.TA,
        turnaround_id=turnaround.id if turnaround else None,
        is_revamp_tie_in=tie_in,
        **fields,
    )
    service.add_cost_line(
        session,
        order,
        CostLineCreate(
            kind=CostKind.LABOUR,
            description="检修",
            planned_quantity=Decimal("1"),
            planned_unit_price_cny=Decimal(planned),
            quantity=Decimal("1") if Decimal(actual) else Decimal("0"),
            unit_price_cny=Decimal(actual),
        ),
        actor=SYSTEM,
    )
    path = {
        OrderState.DRAFT: [],
        OrderState.IN_PROGRESS: ["approve", "start"],
        OrderState.COMPLETED: ["approve", "start", "complete"],
        OrderState.CLOSED: ["approve", "start", "complete", "close"],
        OrderState.CANCELLED: ["cancel"],
    }[state]
    for action in path:
        service.perform(session, order, action, actor=SYSTEM, note="测试")
    assert order.state == state
    return order


@pytest.fixture
def scope(session: Session, make_order: MakeOrder, turnaround: Turnaround, workshop: Workshop) -> dict[str, WorkOrder]:
    """The hand-computed case, budget 100,000:

    ====  =========== ======== ======= ====== ==========
    name  state       planned  actual  tie-in workshop
    ====  =========== ======== ======= ====== ==========
    A     draft        10,000       0  yes    first
    B     in progress  20,000   5,000         first
    C     completed    30,000  32,000  yes    first
    D     closed        5,000   4,000         second
    E     cancelled    50,000       0  yes    second (left out of everything)
    ====  =========== ======== ======= ====== ==========

    Scope 4, done 2 (C, D): 50%. Tie-ins A and C, one done: 50%. Planned 65,000, actual 41,000,
    remaining 59,000, 41% of the budget used. Plus an order of no turnaround, which never counts.
    """
    other_workshop = factories.WorkshopFactory(site_id=workshop.site_id)
    other_asset = factories.AssetFactory(workshop_id=other_workshop.id)
    return {
        "A": _order_in(session, make_order, turnaround, OrderState.DRAFT, "10000", tie_in=True),
        "B": _order_in(session, make_order, turnaround, OrderState.IN_PROGRESS, "20000", "5000"),
        "C": _order_in(session, make_order, turnaround, OrderState.COMPLETED, "30000", "32000", tie_in=True),
        "D": _order_in(session, make_order, turnaround, OrderState.CLOSED, "5000", "4000", asset=other_asset),
        "E": _order_in(session, make_order, turnaround, OrderState.CANCELLED, "50000", tie_in=True, asset=other_asset),
        "elsewhere": _order_in(session, make_order, None, OrderState.COMPLETED, "77777", "77777"),
    }


def test_scope_summary_on_a_hand_computed_case(
    session: Session, turnaround: Turnaround, scope: dict[str, WorkOrder], workshop: Workshop
) -> None:
    summary = turnarounds.scope_summary(session, turnaround)

    assert summary.by_state == {
        OrderState.DRAFT: 1,
        OrderState.IN_PROGRESS: 1,
        OrderState.COMPLETED: 1,
        OrderState.CLOSED: 1,
        OrderState.CANCELLED: 1,
    }
    assert (summary.scope, summary.done, summary.cancelled) == (4, 2, 1)
    assert summary.progress_pct == 50.0
    assert (summary.tie_ins, summary.tie_ins_done, summary.tie_in_progress_pct) == (2, 1, 50.0)
    assert summary.tie_in_planned_cny == Decimal("40000.00")
    assert summary.tie_in_actual_cny == Decimal("32000.00")
    assert summary.planned_cny == Decimal("65000.00")
    assert summary.actual_cny == Decimal("41000.00")
    assert summary.budget_cny == BUDGET
    assert summary.remaining_cny == Decimal("59000.00")
    assert summary.used_pct == 41.0
    assert summary.planned_pct == 65.0
    assert not summary.over_budget
    assert [(s.state, s.count, s.percent) for s in summary.state_shares] == [
        (OrderState.DRAFT, 1, 25.0),
        (OrderState.IN_PROGRESS, 1, 25.0),
        (OrderState.COMPLETED, 1, 25.0),
        (OrderState.CLOSED, 1, 25.0),
    ]
    first, second = sorted(summary.by_workshop, key=lambda w: w.workshop_id != workshop.id)
    assert (first.orders, first.done, first.tie_ins, first.planned_cny, first.actual_cny) == (
        3,
        1,
        2,
        Decimal("60000.00"),
        Decimal("37000.00"),
    )
    assert (second.orders, second.done, second.tie_ins, second.planned_cny, second.actual_cny) == (
        1,
        1,
        0,
        Decimal("5000.00"),
        Decimal("4000.00"),
    )
    assert second.progress_pct == 100.0


def test_scope_summary_of_an_empty_scope_has_no_percentages(session: Session, turnaround: Turnaround) -> None:
    summary = turnarounds.scope_summary(session, turnaround)

    assert (summary.scope, summary.done, summary.tie_ins) == (0, 0, 0)
    assert summary.progress_pct is None
    assert summary.tie_in_progress_pct is None
    assert summary.used_pct == 0.0
    assert summary.remaining_cny == BUDGET
    assert summary.by_workshop == []


def test_scope_summary_runs_a_fixed_number_of_queries(
    session: Session, turnaround: Turnaround, scope: dict[str, WorkOrder], count_queries: list[str]
) -> None:
    session.flush()
    count_queries.clear()

    turnarounds.scope_summary(session, turnaround)

    assert len(count_queries) == 2


def test_scope_totals_give_each_listed_turnaround_its_line(
    session: Session, turnaround: Turnaround, scope: dict[str, WorkOrder]
) -> None:
    assert turnaround.id is not None
    totals = turnarounds.scope_totals(session, [turnaround.id])[turnaround.id]

    assert (totals.orders, totals.done, totals.tie_ins) == (4, 2, 2)
    assert (totals.planned_cny, totals.actual_cny) == (Decimal("65000.00"), Decimal("41000.00"))
    assert totals.progress_pct == 50.0
    assert totals.used_pct(BUDGET) == 41.0


def test_turnaround_page_shows_the_summary_tiles(
    english: TestClient, manager: User, turnaround: Turnaround, scope: dict[str, WorkOrder]
) -> None:
    login(english, manager)

    page = english.get(f"/turnarounds/{turnaround.id}")

    assert page.status_code == 200
    tile = page.text.split('data-testid="tile-progress"')[1].split('data-testid="tile-cost"')[0]
    assert "50.0%" in tile
    assert "2 of 4 orders completed or closed" in tile
    assert "1 cancelled orders are not counted." in tile
    cost = page.text.split('data-testid="tile-cost"')[1].split('data-testid="tile-tie-ins"')[0]
    assert "41.0%" in cost
    assert "5.90 10k CNY" in cost
    assert f'href="/orders?turnaround_id={turnaround.id}&export=xlsx"' in page.text


# --- Adding to and removing from the scope ------------------------------------------------


def test_adding_an_order_by_number_puts_it_in_the_scope_and_logs_it(
    session: Session, english: TestClient, manager: User, turnaround: Turnaround, make_order: MakeOrder
) -> None:
    order = make_order(order_type=OrderType.PRJ, title="二期技改碰头: 循环水总管")
    token = login(english, manager)

    response = english.post(
        f"/turnarounds/{turnaround.id}/scope",
        data={"csrf_token": token, "number": order.number.lower(), "tie_in": "yes"},
    )

    assert response.status_code == 303
    assert (order.turnaround_id, order.is_revamp_tie_in, order.version) == (turnaround.id, True, 2)
    change = _changes_of(session, order)[-1]
    assert change.action == ChangeAction.UPDATE
    assert change.actor_id == manager.id
    assert change.before is not None
    assert change.after is not None
    assert (change.before["turnaround_id"], change.after["turnaround_id"]) == (None, turnaround.id)
    assert (change.before["is_revamp_tie_in"], change.after["is_revamp_tie_in"]) == (False, True)


def test_removing_an_order_takes_it_out_of_the_scope_and_logs_it(
    session: Session, english: TestClient, manager: User, turnaround: Turnaround, make_order: MakeOrder
) -> None:
    order = make_order(order_type=OrderType.TA, turnaround_id=turnaround.id, is_revamp_tie_in=True)
    token = login(english, manager)

    response = english.post(
        f"/turnarounds/{turnaround.id}/scope/{order.id}/remove", data={"csrf_token": token, "version": order.version}
    )

    assert response.status_code == 303
    assert (order.turnaround_id, order.is_revamp_tie_in) == (None, False)
    change = _changes_of(session, order)[-1]
    assert change.before is not None
    assert change.after is not None
    assert (change.before["turnaround_id"], change.after["turnaround_id"]) == (turnaround.id, None)


def test_removing_with_a_stale_version_changes_nothing(
    english: TestClient, manager: User, turnaround: Turnaround, make_order: MakeOrder
) -> None:
    order = make_order(order_type=OrderType.TA, turnaround_id=turnaround.id)
    token = login(english, manager)

    response = english.post(
        f"/turnarounds/{turnaround.id}/scope/{order.id}/remove", data={"csrf_token": token, "version": 0}
    )

    assert response.status_code == 303
    assert order.turnaround_id == turnaround.id
    assert "Someone else changed order" in english.get(f"/turnarounds/{turnaround.id}").text


def test_adding_an_unknown_number_names_the_field_and_reason(
    english: TestClient, manager: User, turnaround: Turnaround
) -> None:
    token = login(english, manager)

    response = english.post(
        f"/turnarounds/{turnaround.id}/scope", data={"csrf_token": token, "number": "WO-2099-999999"}
    )

    assert response.status_code == 422
    assert "No work order has the number WO-2099-999999." in response.text
    assert 'value="WO-2099-999999"' in response.text


def test_an_order_of_another_turnaround_is_not_taken_over(
    session: Session, english: TestClient, manager: User, turnaround: Turnaround, make_order: MakeOrder
) -> None:
    other = turnarounds.create_turnaround(
        session,
        TurnaroundCreate(
            code="TA-2025",
            name="2025年大修",
            start_date=date(2025, 5, 1),
            end_date=date(2025, 5, 20),
            site_id=turnaround.site_id,
        ),
        actor=SYSTEM,
    )
    order = make_order(order_type=OrderType.TA, turnaround_id=other.id)
    token = login(english, manager)

    response = english.post(f"/turnarounds/{turnaround.id}/scope", data={"csrf_token": token, "number": order.number})

    assert response.status_code == 409
    assert "is in the scope of turnaround TA-2025 already" in response.text
    assert order.turnaround_id == other.id


def test_scope_services_refuse_what_does_not_fit(
    session: Session, turnaround: Turnaround, make_order: MakeOrder
) -> None:
    outside = make_order(order_type=OrderType.TA)
    with pytest.raises(NotFound):
        turnarounds.remove_from_scope(session, turnaround, outside, actor=SYSTEM)

    other_site = factories.WorkshopFactory()
    foreign = make_order(order_type=OrderType.TA, asset_id=factories.AssetFactory(workshop_id=other_site.id).id)
    with pytest.raises(ValidationFailed):
        turnarounds.add_to_scope(session, turnaround, foreign, tie_in=False, actor=SYSTEM)

    stale = make_order(order_type=OrderType.TA)
    with pytest.raises(Conflict):
        turnarounds.add_to_scope(session, turnaround, stale, tie_in=False, actor=SYSTEM, version=stale.version - 1)
    assert stale.turnaround_id is None


def test_adding_again_only_changes_the_tie_in_flag(
    session: Session, turnaround: Turnaround, make_order: MakeOrder
) -> None:
    order = make_order(order_type=OrderType.TA, turnaround_id=turnaround.id)

    turnarounds.add_to_scope(session, turnaround, order, tie_in=True, actor=SYSTEM)

    assert (order.turnaround_id, order.is_revamp_tie_in) == (turnaround.id, True)


# --- The Gantt chart ----------------------------------------------------------------------

_GANTT_BLOCK = re.compile(r'<script type="application/json" id="gantt-data">(.*?)</script>', re.S)


def test_turnaround_page_carries_the_gantt_rows_in_a_data_block(
    session: Session,
    english: TestClient,
    manager: User,
    turnaround: Turnaround,
    make_order: MakeOrder,
    asset: Asset,
    workshop: Workshop,
) -> None:
    planned = make_order(
        order_type=OrderType.PM,
        turnaround_id=turnaround.id,
        title="</script><b>换热器抽芯</b>",
        planned_start_date=date(2026, 5, 3),
        planned_finish_date=date(2026, 5, 9),
    )
    unplanned = make_order(order_type=OrderType.PRJ, turnaround_id=turnaround.id, is_revamp_tie_in=True)
    started = _order_in(session, make_order, turnaround, OrderState.IN_PROGRESS, "100")
    cancelled = _order_in(session, make_order, turnaround, OrderState.CANCELLED, "100")
    login(english, manager)

    page = english.get(f"/turnarounds/{turnaround.id}")

    assert page.status_code == 200
    assert '<script src="/static/vendor/echarts/echarts.min.js" defer></script>' in page.text
    assert '<script src="/static/gantt.js" defer></script>' in page.text
    assert 'data-gantt="gantt-data"' in page.text
    match = _GANTT_BLOCK.search(page.text)
    assert match, "the page carries the Gantt data block"
    data = json.loads(match.group(1))
    assert (data["start"], data["end"]) == ("2026-05-01", "2026-05-31")
    rows = {row["number"]: row for row in data["rows"]}
    assert set(rows) == {planned.number, unplanned.number, started.number}
    assert cancelled.number not in rows
    assert rows[planned.number]["title"] == "</script><b>换热器抽芯</b>"
    assert (rows[planned.number]["planned_start"], rows[planned.number]["planned_finish"]) == (
        "2026-05-03",
        "2026-05-09",
    )
    assert (rows[planned.number]["type"], rows[planned.number]["tie_in"]) == ("PM", False)
    assert (rows[planned.number]["asset_tag"], rows[planned.number]["workshop"]) == (asset.tag, workshop.name)
    assert rows[planned.number]["actual_start"] is None
    # No planned dates: the bar spans the turnaround.
    assert (rows[unplanned.number]["planned_start"], rows[unplanned.number]["planned_finish"]) == (
        "2026-05-01",
        "2026-05-31",
    )
    assert rows[unplanned.number]["tie_in"] is True
    # Started, not finished: the actual bar runs on to today.
    assert rows[started.number]["actual_start"] is not None
    assert rows[started.number]["actual_open"] is True
    assert rows[started.number]["url"] == f"/orders/{started.id}"


def test_gantt_rows_come_in_planned_order_from_one_query(
    session: Session, turnaround: Turnaround, make_order: MakeOrder, count_queries: list[str]
) -> None:
    late = make_order(order_type=OrderType.TA, turnaround_id=turnaround.id, planned_start_date=date(2026, 5, 20))
    early = make_order(order_type=OrderType.TA, turnaround_id=turnaround.id, planned_start_date=date(2026, 4, 28))
    undated = make_order(order_type=OrderType.TA, turnaround_id=turnaround.id)
    session.flush()
    count_queries.clear()

    rows = turnarounds.gantt_rows(session, turnaround)

    assert len(count_queries) == 1
    assert [row["number"] for row in rows] == [early.number, undated.number, late.number]
    # A planned start after the turnaround's end still gives a bar of at least that day.
    assert rows[0]["planned_finish"] == "2026-05-31"


def test_an_empty_scope_shows_no_chart(english: TestClient, manager: User, turnaround: Turnaround) -> None:
    login(english, manager)

    page = english.get(f"/turnarounds/{turnaround.id}")

    assert page.status_code == 200
    assert "gantt-data" not in page.text
    assert "No orders in the scope yet." in page.text


# --- The list -----------------------------------------------------------------------------


def test_list_shows_each_turnaround_with_its_scope_and_costs(
    english: TestClient, manager: User, turnaround: Turnaround, scope: dict[str, WorkOrder]
) -> None:
    login(english, manager)

    page = english.get("/turnarounds")

    assert page.status_code == 200
    assert f'href="/turnarounds/{turnaround.id}"' in page.text
    assert "2 of 4 done (50.0%)" in page.text
    assert "4.10 10k CNY (41.0%)" in page.text
    fragment = english.get("/turnarounds", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'data-testid="turnaround-table"' in fragment.text


def _turnarounds_with_scope(session: Session, make_order: MakeOrder, site_id: int, first: int, n: int) -> None:
    for i in range(first, first + n):
        t = turnarounds.create_turnaround(
            session,
            TurnaroundCreate(
                code=f"T{i:03d}",
                name=f"大修{i}",
                start_date=date(2020 + i % 7, 5, 1),
                end_date=date(2020 + i % 7, 5, 30),
                budget_cny=Decimal("1000"),
                site_id=site_id,
            ),
            actor=SYSTEM,
        )
        make_order(order_type=OrderType.TA, turnaround_id=t.id, is_revamp_tie_in=i % 2 == 0)


def test_list_page_runs_a_fixed_number_of_queries(
    session: Session,
    client: TestClient,
    manager: User,
    workshop: Workshop,
    make_order: MakeOrder,
    count_queries: list[str],
) -> None:
    login(client, manager)
    _turnarounds_with_scope(session, make_order, workshop.site_id, 0, 2)
    session.flush()
    count_queries.clear()
    assert client.get("/turnarounds").status_code == 200
    with_two = len(count_queries)

    _turnarounds_with_scope(session, make_order, workshop.site_id, 2, 28)
    session.flush()
    count_queries.clear()
    page = client.get("/turnarounds")
    with_thirty = len(count_queries)

    assert page.text.count('href="/turnarounds/') >= 30
    assert with_thirty == with_two
