"""The demo plant's work-order history: a year of PM, CBM, CM, turnaround and project work that
drifts from planned toward condition-based maintenance, with costs, failures and one overhaul."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from maintenance.assets.service import get_asset_by_tag
from maintenance.audit.service import verify_chain
from maintenance.config import get_settings
from maintenance.db import plant_timezone, plant_today, utcnow
from maintenance.demo.orders import history as orders_demo
from maintenance.demo.orders.jobs import Job
from maintenance.demo.plant import PARTS, SEED_ACTOR, load_demo_plant
from maintenance.monitoring.models import ConditionAlert
from maintenance.orders import rules
from maintenance.orders.choices import (
    DONE_STATES,
    OPEN_STATES,
    CostKind,
    DetectionMethod,
    OrderState,
    OrderType,
    Provider,
)
from maintenance.orders.models import CostLine, OrderTransition, PmPlan, Turnaround, WorkOrder
from maintenance.scorecard.accidents.models import AccidentAction

SEED_DIR = get_settings().seed_dir


@dataclass
class Demo:
    session: Session
    plans: list[list[tuple[Any, ...]]]  # the order plan of two separate runs, as fingerprints


def _fingerprint(jobs: list[Job]) -> list[tuple[Any, ...]]:
    return [
        (
            job.data.order_type,
            job.data.title,
            job.requested_at,
            job.due,
            tuple((step.action, step.at, step.actor.username) for step in job.steps),
            tuple((line.kind, line.item_code, line.planned_quantity, line.quantity, line.price) for line in job.lines),
        )
        for job in jobs
    ]


@pytest.fixture(scope="module")
def demo(engine: Engine) -> Iterator[Demo]:
    """The demo plant with its order history, loaded once for the module (it takes a while) in a
    transaction rolled back at the end. Before the orders are loaded, their plan is made twice
    (each time rolled back) to show it comes out the same."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    for name, part in PARTS:
        if name in ("org", "assets"):
            part.load(session, SEED_DIR, SEED_ACTOR, utcnow())
    plans = []
    for _run in range(2):
        savepoint = session.begin_nested()
        plans.append(_fingerprint(orders_demo.History(session, SEED_DIR, SEED_ACTOR, plant_today()).plan()))
        savepoint.rollback()
    assert load_demo_plant(session, SEED_DIR, now=utcnow(), console=Console(quiet=True)) is True
    yield Demo(session, plans)
    session.close()
    outer.rollback()
    connection.close()


def _orders(session: Session) -> list[WorkOrder]:
    """The orders part's history: not the CBM orders the monitoring part's readings raise today,
    nor the corrective orders the accident register's actions raised (on 1 January, today too)."""
    raised_by_others = (
        select(col(ConditionAlert.order_id))
        .where(col(ConditionAlert.order_id).is_not(None))
        .union(select(col(AccidentAction.order_id)).where(col(AccidentAction.order_id).is_not(None)))
    )
    return list(
        session.scalars(select(WorkOrder).where(col(WorkOrder.id).not_in(raised_by_others)).order_by(col(WorkOrder.id)))
    )


def _month(at: datetime) -> tuple[int, int]:
    local = at.astimezone(plant_timezone())
    return local.year, local.month


def test_the_history_is_planned_the_same_way_every_time(demo: Demo) -> None:
    first, second = demo.plans
    assert len(first) > 1500
    assert first == second


def test_the_orders_load_once(demo: Demo) -> None:
    assert orders_demo.is_loaded(demo.session, SEED_DIR)
    count = demo.session.scalar(select(func.count()).select_from(WorkOrder))
    assert load_demo_plant(demo.session, SEED_DIR, now=utcnow(), console=Console(quiet=True)) is False
    assert demo.session.scalar(select(func.count()).select_from(WorkOrder)) == count


def test_about_2000_orders_of_every_type_over_the_past_year(demo: Demo) -> None:
    orders = _orders(demo.session)
    assert 1700 <= len(orders) <= 2300
    assert set(Counter(order.order_type for order in orders)) == set(OrderType)
    today = plant_today()
    first = min(order.requested_at for order in orders).astimezone(plant_timezone()).date()
    last = max(order.requested_at for order in orders).astimezone(plant_timezone()).date()
    assert (today - first).days <= 366
    assert last < today
    numbers = [order.number for order in orders]
    assert len(set(numbers)) == len(numbers)
    for order in orders:  # numbered in the plant year the order was raised
        assert order.number.startswith(f"WO-{order.requested_at.astimezone(plant_timezone()).year}-"), order.number


def test_the_mix_drifts_from_planned_toward_condition_based_work(demo: Demo) -> None:
    by_month: dict[tuple[int, int], Counter[OrderType]] = defaultdict(Counter)
    for order in _orders(demo.session):
        by_month[_month(order.requested_at)][order.order_type] += 1
    months = sorted(by_month)
    assert len(months) == 12

    def share(order_type: OrderType, span: list[tuple[int, int]]) -> float:
        counts = sum((by_month[month] for month in span), Counter())
        return counts[order_type] / sum(counts.values())

    first, last = months[:3], months[-3:]
    assert share(OrderType.CBM, last) > share(OrderType.CBM, first) + 0.15
    assert share(OrderType.PM, last) < share(OrderType.PM, first) - 0.1
    assert share(OrderType.PM, first) > 0.5
    assert share(OrderType.CM, last) < share(OrderType.CM, first)


def test_pm_orders_come_from_their_plans_and_most_are_done_on_time(demo: Demo) -> None:
    plans = {plan.id: plan for plan in demo.session.scalars(select(PmPlan))}
    assert 80 <= len(plans) <= 130
    pm = [order for order in _orders(demo.session) if order.order_type == OrderType.PM]
    assert all(order.pm_plan_id in plans and order.plan_due_date == order.due_date for order in pm)
    assert all(plans[order.pm_plan_id].asset_id == order.asset_id for order in pm if order.pm_plan_id)
    due = [order for order in pm if order.due_date and order.due_date < plant_today() - timedelta(days=30)]
    done = [order for order in due if order.state != OrderState.CANCELLED]
    on_time = [
        order
        for order in done
        if order.actual_finish_at and order.actual_finish_at.astimezone(plant_timezone()).date() <= order.due_date  # type: ignore[operator]
    ]
    assert 0.82 <= len(on_time) / len(done) <= 0.95
    switched = [plan for plan in plans.values() if "在线监测" in plan.title]  # switched to condition monitoring
    assert len(switched) >= 15
    assert all(plan.interval > 1 for plan in switched)


def test_corrective_and_condition_based_orders_carry_failure_data_and_downtime(demo: Demo) -> None:
    orders = _orders(demo.session)
    done_cm = [o for o in orders if o.order_type == OrderType.CM and o.state in DONE_STATES]
    assert done_cm
    assert all(o.failure_mode and o.failure_mechanism and o.failure_cause for o in done_cm)
    done_cbm = [o for o in orders if o.order_type == OrderType.CBM and o.state in DONE_STATES]
    assert done_cbm
    assert all(o.detection_method == DetectionMethod.CONDITION_MONITORING for o in done_cbm)
    with_downtime = [o for o in done_cm if o.downtime_hours is not None]
    assert len(with_downtime) > len(done_cm) / 2
    assert all(o.downtime_hours >= 0 for o in with_downtime)  # type: ignore[operator]
    assert any(o.production_loss_cny for o in done_cm)
    raised = [o for o in orders if o.origin_order_id is not None]
    assert raised
    assert all(o.order_type == OrderType.CM for o in raised)


def test_past_orders_are_done_and_recent_ones_open(demo: Demo) -> None:
    orders = _orders(demo.session)
    states = Counter(order.state for order in orders)
    for state in OrderState:
        assert states[state] > 0, state
    old = [o for o in orders if (plant_today() - o.requested_at.astimezone(plant_timezone()).date()).days > 90]
    old_done = [o for o in old if o.state in DONE_STATES | {OrderState.CANCELLED}]
    assert len(old_done) / len(old) > 0.97
    assert states[OrderState.CANCELLED] < len(orders) * 0.03
    repairs = {o.asset_id for o in orders if o.state in OPEN_STATES and o.order_type in (OrderType.CM, OrderType.CBM)}
    for tag in ("C-1302A", "P-2201A", "BL-4103"):  # under repair in the registry today
        asset = get_asset_by_tag(demo.session, tag)
        assert asset is not None
        assert asset.id in repairs, tag


def test_every_order_moved_only_along_the_state_machine(demo: Demo) -> None:
    transitions: dict[int, list[OrderTransition]] = defaultdict(list)
    for transition in demo.session.scalars(select(OrderTransition).order_by(col(OrderTransition.id))):
        transitions[transition.order_id].append(transition)
    for order in _orders(demo.session):
        path = transitions[order.id]  # type: ignore[index]
        assert path[0].from_state is None
        assert path[0].to_state == OrderState.DRAFT
        assert path[0].at == order.requested_at
        for previous, step in pairwise(path):
            assert step.from_state == previous.to_state, order.number
            assert step.to_state in rules.allowed_targets(previous.to_state), order.number
            assert step.at >= previous.at, order.number
        assert path[-1].to_state == order.state, order.number
        if order.state in DONE_STATES:
            assert order.approved_at
            assert order.actual_start_at
            assert order.actual_finish_at
            assert order.requested_at <= order.approved_at <= order.actual_start_at <= order.actual_finish_at
        if order.state == OrderState.CLOSED:
            assert path[-1].actor_name == "wangzr"


def test_nobody_approved_an_order_they_requested(demo: Demo) -> None:
    approved = [order for order in _orders(demo.session) if order.approved_by_id is not None]
    own = [order.number for order in approved if order.approved_by_id == order.requested_by_id]

    assert len(approved) > 1000
    assert own == []


def test_the_overhaul_has_its_scope_tie_ins_and_ends_under_budget(demo: Demo) -> None:
    turnaround = demo.session.scalar(select(Turnaround))  # the demo's one overhaul, within the past year
    assert turnaround is not None
    assert turnaround.code == f"TA-{turnaround.start_date.year}"
    assert turnaround.name == f"{turnaround.start_date.year}年度大修"
    assert plant_today() - timedelta(days=365) < turnaround.start_date < turnaround.end_date < plant_today()
    assert turnaround.budget_cny == Decimal("4800000.00")
    scope = [o for o in _orders(demo.session) if o.turnaround_id == turnaround.id]
    ta = [o for o in scope if o.order_type == OrderType.TA]
    tie_ins = [o for o in scope if o.is_revamp_tie_in]
    assert 100 <= len(ta) <= 140
    assert 12 <= len(tie_ins) <= 20
    assert all(o.order_type == OrderType.PRJ for o in tie_ins)
    assert any(o.order_type == OrderType.PM for o in scope)  # annual PM falling due in the shutdown
    done = [o for o in scope if o.state in DONE_STATES]
    assert 0.9 <= len(done) / len(scope) < 1
    for order in done:
        finished = order.actual_finish_at.astimezone(plant_timezone()).date()  # type: ignore[union-attr]
        assert turnaround.start_date <= finished <= turnaround.end_date, order.number
    cost = sum((o.actual_cost_cny for o in scope), Decimal(0))
    assert turnaround.budget_cny * Decimal("0.85") < cost < turnaround.budget_cny


def test_cost_lines_of_every_kind_with_plan_versus_issue_and_savings(demo: Demo) -> None:
    lines = list(demo.session.scalars(select(CostLine)))
    kinds = Counter(line.kind for line in lines)
    assert set(kinds) == set(CostKind)
    labour = [line for line in lines if line.kind == CostKind.LABOUR]
    assert {line.provider for line in labour} == set(Provider)
    materials = [line for line in lines if line.kind == CostKind.MATERIAL and line.planned_quantity > 0]
    issued = [line for line in materials if line.quantity > 0]
    matching = [line for line in issued if line.quantity == line.planned_quantity]
    assert 0.75 <= len(matching) / len(materials) < 0.97  # 计划对口率
    assert any(line.returned_quantity > 0 for line in issued)
    assert any(
        line.used_quantity is not None and line.used_quantity + line.returned_quantity < line.quantity
        for line in issued
    )
    assert any(line.kind == CostKind.MATERIAL and line.planned_quantity == 0 for line in lines)  # unplanned issue
    refurbished = sum((line.saving_cny for line in lines if line.kind == CostKind.REFURBISHED), Decimal(0))
    localised = sum((line.saving_cny for line in lines if line.kind == CostKind.LOCALISED), Decimal(0))
    assert refurbished > Decimal("1000000")  # 修旧利废 > 100万
    assert localised > Decimal("300000")
    orders = _orders(demo.session)
    total = sum((order.actual_cost_cny for order in orders), Decimal(0))
    assert Decimal("8000000") < total < Decimal("15600000")
    assert all(
        order.actual_cost_cny == sum((line.actual_cny for line in lines if line.order_id == order.id), Decimal(0))
        for order in orders[:200]
    )


def test_the_change_log_chain_verifies(demo: Demo) -> None:
    report = verify_chain(demo.session)
    assert report.ok, report.problems()
    assert report.checked > 15000
