"""The work-order state machine, exhaustively: every (state, action) pair is either an allowed move,
which lands in its target state and is recorded (transition row and change log), or a forbidden
one, which is refused with a conflict and changes nothing. Then the rules on top of the moves:
reasons, approval limits, who may close, prerequisites, workshops, roles, stale versions, and
orders that are closed or cancelled for good."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from maintenance.audit import service as audit
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.config import get_settings
from maintenance.db import utcnow
from maintenance.exceptions import Conflict, PermissionDenied, ValidationFailed
from maintenance.orders import rules, service
from maintenance.orders.choices import ChecklistResult, CostKind, FailureMode, OrderState, OrderType
from maintenance.orders.models import (
    CostLineCreate,
    FailureReportUpdate,
    OrderTransition,
    WorkOrder,
    WorkOrderUpdate,
)
from maintenance.org.models import Role, User, UserWorkshop
from tests import factories
from tests.orders.conftest import SYSTEM, MakeOrder

S = OrderState
REASON = "等备件到货"

# The moves the issue asks for, written out by hand: the rules module must say exactly this.
#   draft → approved → scheduled → in_progress → completed → closed;
#   approved/scheduled/in_progress ⇄ on_hold; draft/approved/scheduled/on_hold → cancelled;
#   completed → in_progress (reopen) until it is closed.
EXPECTED_MOVES: dict[tuple[OrderState, str], OrderState] = {
    (S.DRAFT, "approve"): S.APPROVED,
    (S.DRAFT, "cancel"): S.CANCELLED,
    (S.APPROVED, "schedule"): S.SCHEDULED,
    (S.APPROVED, "start"): S.IN_PROGRESS,
    (S.APPROVED, "hold"): S.ON_HOLD,
    (S.APPROVED, "cancel"): S.CANCELLED,
    (S.SCHEDULED, "start"): S.IN_PROGRESS,
    (S.SCHEDULED, "hold"): S.ON_HOLD,
    (S.SCHEDULED, "cancel"): S.CANCELLED,
    (S.IN_PROGRESS, "complete"): S.COMPLETED,
    (S.IN_PROGRESS, "hold"): S.ON_HOLD,
    (S.ON_HOLD, "resume_approved"): S.APPROVED,
    (S.ON_HOLD, "resume_scheduled"): S.SCHEDULED,
    (S.ON_HOLD, "resume_work"): S.IN_PROGRESS,
    (S.ON_HOLD, "cancel"): S.CANCELLED,
    (S.COMPLETED, "close"): S.CLOSED,
    (S.COMPLETED, "reopen"): S.IN_PROGRESS,
}
ACTION_NAMES = sorted(rules.ACTION_BY_NAME)
ALL_PAIRS = [(state, action) for state in OrderState for action in ACTION_NAMES]
ALLOWED_PAIRS = [pair for pair in ALL_PAIRS if pair in EXPECTED_MOVES]
NOTE_PAIRS = [pair for pair in ALLOWED_PAIRS if rules.ACTION_BY_NAME[pair[1]].needs_note]

# How an order gets into each state from a fresh draft, by allowed moves only.
PATH_TO: dict[OrderState, list[str]] = {
    S.DRAFT: [],
    S.APPROVED: ["approve"],
    S.SCHEDULED: ["approve", "schedule"],
    S.IN_PROGRESS: ["approve", "start"],
    S.ON_HOLD: ["approve", "hold"],
    S.COMPLETED: ["approve", "start", "complete"],
    S.CLOSED: ["approve", "start", "complete", "close"],
    S.CANCELLED: ["cancel"],
}


def pair_id(pair: tuple[OrderState, str]) -> str:
    return f"{pair[0].value}-{pair[1]}"


OrderIn = Callable[..., WorkOrder]


@pytest.fixture
def order_in(session: Session, make_order: MakeOrder, manager: User) -> OrderIn:
    """``order_in(state)``: a corrective order on the workshop's asset, moved into ``state`` by a
    manager. It has a planned start (so it can be scheduled), a failure mode (so it can be
    completed) and a cost line (so edits of lines can be tried in every state)."""

    def make(state: OrderState, **fields: Any) -> WorkOrder:
        order = make_order(order_type=OrderType.CM, planned_start_date=date(2026, 6, 1), **fields)
        report = FailureReportUpdate.model_validate(order.model_dump() | {"failure_mode": FailureMode.ELP})
        service.record_failure(session, order, report, actor=manager)
        service.add_cost_line(
            session,
            order,
            CostLineCreate(
                kind=CostKind.LABOUR, description="钳工", quantity=Decimal("4"), unit_price_cny=Decimal("80")
            ),
            actor=manager,
        )
        for action in PATH_TO[state]:
            service.perform(session, order, action, actor=manager, note=REASON)
        assert order.state == state
        return order

    return make


def transitions(session: Session, order: WorkOrder) -> list[OrderTransition]:
    return list(service.transitions_of(session, order))


def changes(session: Session, order: WorkOrder) -> list[ObjectChange]:
    return list(
        session.scalars(
            select(ObjectChange)
            .where(ObjectChange.object_type == "work_order", ObjectChange.object_id == str(order.id))
            .order_by(ObjectChange.id)  # type: ignore[arg-type]
        )
    )


def trail(session: Session, order: WorkOrder) -> tuple[dict[str, Any], int, int]:
    """Everything a refused action must leave as it was: the order's row, its transitions, its log."""
    session.flush()
    return audit.snapshot(order), len(transitions(session, order)), len(changes(session, order))


# --- The table itself ---------------------------------------------------------------------


def test_the_rules_allow_exactly_the_moves_of_the_issue() -> None:
    declared = {(state, action.name): action.target for state, actions in rules.ACTIONS.items() for action in actions}

    assert declared == EXPECTED_MOVES
    assert set(rules.ACTIONS) == set(OrderState), "every state is in the table, closed and cancelled with no moves"
    assert {action for _state, action in EXPECTED_MOVES} == set(ACTION_NAMES)


def test_every_state_is_reachable_from_a_draft(order_in: OrderIn) -> None:
    assert set(PATH_TO) == set(OrderState)
    for state in OrderState:
        assert order_in(state).state == state


# --- Every pair ---------------------------------------------------------------------------


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=pair_id)
def test_every_state_and_action(
    session: Session, order_in: OrderIn, manager: User, pair: tuple[OrderState, str]
) -> None:
    state, action = pair
    order = order_in(state)
    before, transition_count, change_count = trail(session, order)
    version = order.version

    if pair not in EXPECTED_MOVES:
        with pytest.raises(Conflict):
            service.perform(session, order, action, actor=manager, note=REASON)
        assert trail(session, order) == (before, transition_count, change_count)
        assert (order.state, order.version) == (state, version)
        return

    started = utcnow()
    service.perform(session, order, action, actor=manager, note=REASON)
    session.flush()

    target = EXPECTED_MOVES[pair]
    assert order.state == target
    assert order.version == version + 1
    *_earlier, step = transitions(session, order)
    assert len(_earlier) == transition_count
    assert (step.from_state, step.to_state) == (state, target)
    assert (step.actor_id, step.actor_name) == (manager.id, manager.username)
    assert started <= step.at <= utcnow()
    assert step.note == REASON
    assert order.updated_at == step.at
    *_older, logged = changes(session, order)
    assert len(_older) == change_count
    assert logged.action == ChangeAction.UPDATE
    assert logged.actor_id == manager.id
    assert (logged.before or {})["state"] == state.value
    assert (logged.after or {})["state"] == target.value
    assert (logged.after or {})["version"] == version + 1
    # What each move records besides the state.
    if action == "approve":
        assert (order.approved_by_id, order.approved_at) == (manager.id, step.at)
    if target == S.IN_PROGRESS and action != "reopen":
        assert order.actual_start_at is not None, "an order in progress has started"
    if action == "complete":
        assert (order.actual_finish_at, order.signed_off_at, order.signed_off_by_id) == (step.at, step.at, manager.id)
    if action == "reopen":
        assert (order.actual_finish_at, order.signed_off_at, order.signed_off_by_id) == (None, None, None)
        assert order.actual_start_at is not None


def test_an_unknown_action_is_refused(session: Session, order_in: OrderIn, manager: User) -> None:
    order = order_in(S.DRAFT)
    before = trail(session, order)

    with pytest.raises(Conflict):
        service.perform(session, order, "explode", actor=manager)

    assert trail(session, order) == before


def test_a_whole_life_is_recorded_in_order(session: Session, order_in: OrderIn) -> None:
    order = order_in(S.CLOSED)

    assert [(t.from_state, t.to_state) for t in transitions(session, order)] == [
        (None, S.DRAFT),
        (S.DRAFT, S.APPROVED),
        (S.APPROVED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.COMPLETED),
        (S.COMPLETED, S.CLOSED),
    ]


# --- Reasons ------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", NOTE_PAIRS, ids=pair_id)
@pytest.mark.parametrize("note", ["", "   "], ids=["empty", "blank"])
def test_actions_that_need_a_reason_refuse_an_empty_note(
    session: Session, order_in: OrderIn, manager: User, pair: tuple[OrderState, str], note: str
) -> None:
    state, action = pair
    order = order_in(state)
    before = trail(session, order)

    with pytest.raises(ValidationFailed) as refused:
        service.perform(session, order, action, actor=manager, note=note)

    assert [error.field for error in refused.value.errors] == ["note"]
    assert trail(session, order) == before
    assert order.state == state


def test_the_actions_needing_a_reason_are_cancel_hold_and_reopen() -> None:
    assert {name for name, action in rules.ACTION_BY_NAME.items() if action.needs_note} == {"cancel", "hold", "reopen"}


# --- Approval above the limit -------------------------------------------------------------


def _planned_at(session: Session, order: WorkOrder, amount: Decimal) -> None:
    service.add_cost_line(
        session,
        order,
        CostLineCreate(
            kind=CostKind.SERVICE,
            description="外委检修",
            planned_quantity=Decimal("1"),
            planned_unit_price_cny=amount,
        ),
        actor=SYSTEM,
    )


def test_an_engineer_cannot_approve_above_the_limit_but_a_manager_can(
    session: Session, make_order: MakeOrder, workshop_engineer: User, manager: User
) -> None:
    order = make_order()
    _planned_at(session, order, get_settings().order_approval_threshold_cny + Decimal("0.01"))
    before = trail(session, order)

    with pytest.raises(PermissionDenied):
        service.perform(session, order, "approve", actor=workshop_engineer)
    assert trail(session, order) == before

    service.perform(session, order, "approve", actor=manager)
    assert (order.state, order.approved_by_id) == (S.APPROVED, manager.id)


def test_an_engineer_approves_up_to_the_limit(session: Session, make_order: MakeOrder, workshop_engineer: User) -> None:
    order = make_order()
    _planned_at(session, order, get_settings().order_approval_threshold_cny)

    service.perform(session, order, "approve", actor=workshop_engineer)

    assert (order.state, order.approved_by_id) == (S.APPROVED, workshop_engineer.id)


def test_an_admin_approves_above_the_limit(session: Session, make_order: MakeOrder, admin: User) -> None:
    order = make_order()
    _planned_at(session, order, get_settings().order_approval_threshold_cny * 3)

    service.perform(session, order, "approve", actor=admin)

    assert order.state == S.APPROVED


def test_nobody_approves_an_order_they_requested_but_anyone_else_may(
    session: Session, make_order: MakeOrder, workshop_engineer: User, manager: User
) -> None:
    own = make_order(actor=workshop_engineer)
    before = trail(session, own)

    with pytest.raises(PermissionDenied) as refused:
        service.perform(session, own, "approve", actor=workshop_engineer)
    assert own.number in refused.value.message
    assert trail(session, own) == before

    service.perform(session, own, "approve", actor=manager)
    assert (own.state, own.requested_by_id, own.approved_by_id) == (S.APPROVED, workshop_engineer.id, manager.id)

    managers_own = make_order(actor=manager)
    with pytest.raises(PermissionDenied):
        service.perform(session, managers_own, "approve", actor=manager)
    service.perform(session, managers_own, "approve", actor=workshop_engineer)
    assert managers_own.approved_by_id == workshop_engineer.id


def test_an_order_raised_by_a_system_process_is_approved_by_a_person_or_a_system_process(
    session: Session, make_order: MakeOrder, workshop_engineer: User
) -> None:
    by_scheduler = make_order(actor=SYSTEM)
    service.perform(session, by_scheduler, "approve", actor=SYSTEM)  # the PM scheduler within the limit
    by_monitoring = make_order(actor=SYSTEM)
    service.perform(session, by_monitoring, "approve", actor=workshop_engineer)

    assert (by_scheduler.state, by_monitoring.state) == (S.APPROVED, S.APPROVED)


def test_requesters_approve_their_own_orders_when_the_plant_turns_four_eyes_off(
    session: Session, make_order: MakeOrder, workshop_engineer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "order_four_eyes", False)
    own = make_order(actor=workshop_engineer)

    service.perform(session, own, "approve", actor=workshop_engineer)

    assert own.approved_by_id == workshop_engineer.id


# --- Who may move orders ------------------------------------------------------------------


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=pair_id)
def test_an_engineer_of_the_workshop_makes_every_move_but_closing(
    session: Session, order_in: OrderIn, workshop_engineer: User, pair: tuple[OrderState, str]
) -> None:
    state, action = pair
    order = order_in(state)
    before = trail(session, order)

    if action == "close":
        with pytest.raises(PermissionDenied):
            service.perform(session, order, action, actor=workshop_engineer, note=REASON)
        assert trail(session, order) == before
    else:
        service.perform(session, order, action, actor=workshop_engineer, note=REASON)
        assert order.state == EXPECTED_MOVES[pair]
        assert transitions(session, order)[-1].actor_id == workshop_engineer.id


def test_only_a_manager_closes(session: Session, order_in: OrderIn, manager: User) -> None:
    order = order_in(S.COMPLETED)

    service.perform(session, order, "close", actor=manager)

    assert order.state == S.CLOSED


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=pair_id)
@pytest.mark.parametrize("who", ["engineer of another workshop", "auditor"])
def test_outsiders_make_no_move(session: Session, order_in: OrderIn, pair: tuple[OrderState, str], who: str) -> None:
    state, action = pair
    order = order_in(state)
    if who == "auditor":
        outsider = factories.UserFactory(role=Role.AUDITOR)
    else:
        outsider = factories.UserFactory(role=Role.ENGINEER)
        other = factories.WorkshopFactory()
        session.add(UserWorkshop(user_id=outsider.id, workshop_id=other.id))  # type: ignore[arg-type]
    before = trail(session, order)

    with pytest.raises(PermissionDenied):
        service.perform(session, order, action, actor=outsider, note=REASON)

    assert trail(session, order) == before
    assert order.state == state


# --- Prerequisites of particular moves ----------------------------------------------------


def test_scheduling_needs_a_planned_start_date(session: Session, make_order: MakeOrder, manager: User) -> None:
    order = make_order(planned_start_date=None)
    service.perform(session, order, "approve", actor=manager)
    before = trail(session, order)

    with pytest.raises(ValidationFailed) as refused:
        service.perform(session, order, "schedule", actor=manager)

    assert [error.field for error in refused.value.errors] == ["planned_start_date"]
    assert trail(session, order) == before
    # The same holds for resuming an order on hold into the schedule.
    service.perform(session, order, "hold", actor=manager, note=REASON)
    with pytest.raises(ValidationFailed):
        service.perform(session, order, "resume_scheduled", actor=manager)
    assert order.state == S.ON_HOLD


def test_completion_refuses_checks_without_a_result(session: Session, make_order: MakeOrder, manager: User) -> None:
    order = make_order(order_type=OrderType.PM)
    service.add_checks(session, order, [("油位", ""), ("轴承温度", "°C")], actor=manager)
    for action in ("approve", "start"):
        service.perform(session, order, action, actor=manager)
    oil, temperature = service.checklist_of(session, order)
    service.record_check(session, order, oil, result=ChecklistResult.OK, value=None, note="", actor=manager)
    before = trail(session, order)

    with pytest.raises(ValidationFailed) as refused:
        service.perform(session, order, "complete", actor=manager)

    assert [error.field for error in refused.value.errors] == ["checklist"]
    assert trail(session, order) == before
    service.record_check(
        session, order, temperature, result=ChecklistResult.OK, value=Decimal("58"), note="", actor=manager
    )
    service.perform(session, order, "complete", actor=manager)
    assert order.state == S.COMPLETED


def test_a_corrective_order_needs_a_failure_mode_and_a_downtime_end_to_complete(
    session: Session, make_order: MakeOrder, manager: User
) -> None:
    order = make_order(order_type=OrderType.CM)
    report = FailureReportUpdate.model_validate(
        order.model_dump() | {"downtime_start_at": utcnow() - timedelta(hours=3)}
    )
    service.record_failure(session, order, report, actor=manager)
    for action in ("approve", "start"):
        service.perform(session, order, action, actor=manager)

    with pytest.raises(ValidationFailed) as refused:
        service.perform(session, order, "complete", actor=manager)

    assert {error.field for error in refused.value.errors} == {"failure_mode", "downtime_end_at"}
    assert order.state == S.IN_PROGRESS


def test_a_planned_order_completes_without_failure_data(session: Session, make_order: MakeOrder, manager: User) -> None:
    order = make_order(order_type=OrderType.PM)
    for action in ("approve", "start", "complete"):
        service.perform(session, order, action, actor=manager)

    assert order.state == S.COMPLETED


def test_reopening_keeps_the_start_and_completing_again_signs_off_again(
    session: Session, order_in: OrderIn, manager: User, workshop_engineer: User
) -> None:
    order = order_in(S.COMPLETED)
    started = order.actual_start_at

    service.perform(session, order, "reopen", actor=workshop_engineer, note="试车振动超标")
    service.perform(session, order, "complete", actor=workshop_engineer)

    assert order.actual_start_at == started
    assert order.signed_off_by_id == workshop_engineer.id
    assert [t.to_state for t in transitions(session, order)][-2:] == [S.IN_PROGRESS, S.COMPLETED]


# --- Stale versions -----------------------------------------------------------------------


def test_a_move_from_a_stale_version_is_a_conflict(session: Session, order_in: OrderIn, manager: User) -> None:
    order = order_in(S.DRAFT)
    assert order.version > 1
    before = trail(session, order)

    with pytest.raises(Conflict) as refused:
        service.perform(session, order, "approve", actor=manager, version=order.version - 1)

    assert [error.field for error in refused.value.errors] == ["version"]
    assert trail(session, order) == before
    service.perform(session, order, "approve", actor=manager, version=order.version)
    assert order.state == S.APPROVED


def _edit(order: WorkOrder, **changes: Any) -> WorkOrderUpdate:
    return WorkOrderUpdate.model_validate(order.model_dump() | changes)


def test_an_edit_from_a_stale_version_is_a_conflict_and_changes_nothing(
    session: Session, make_order: MakeOrder, manager: User, workshop_engineer: User
) -> None:
    order = make_order(title="泵体泄漏")
    opened_by_engineer = order.version
    service.update_order(session, order, _edit(order, title="机封泄漏", version=order.version), actor=manager)
    before = trail(session, order)

    with pytest.raises(Conflict) as refused:
        service.update_order(
            session,
            order,
            _edit(order, title="泵体泄漏(已处理)", version=opened_by_engineer),
            actor=workshop_engineer,
        )

    assert [error.field for error in refused.value.errors] == ["version"]
    assert trail(session, order) == before
    assert (order.title, order.version) == ("机封泄漏", opened_by_engineer + 1)


def test_a_failure_report_from_a_stale_version_is_a_conflict(
    session: Session, order_in: OrderIn, manager: User
) -> None:
    order = order_in(S.IN_PROGRESS)
    stale = FailureReportUpdate.model_validate(
        order.model_dump() | {"failure_mode": FailureMode.VIB, "version": order.version - 1}
    )
    before = trail(session, order)

    with pytest.raises(Conflict):
        service.record_failure(session, order, stale, actor=manager)

    assert trail(session, order) == before


# --- Closed and cancelled orders are final ------------------------------------------------

FINAL_STATES = [S.CLOSED, S.CANCELLED]


def _edit_fields(session: Session, order: WorkOrder, actor: User) -> None:
    service.update_order(session, order, _edit(order, title="改标题", version=order.version), actor=actor)


def _record_failure(session: Session, order: WorkOrder, actor: User) -> None:
    report = FailureReportUpdate.model_validate(order.model_dump() | {"failure_mode": FailureMode.VIB})
    service.record_failure(session, order, report, actor=actor)


def _add_line(session: Session, order: WorkOrder, actor: User) -> None:
    service.add_cost_line(
        session,
        order,
        CostLineCreate(kind=CostKind.MATERIAL, description="垫片", quantity=Decimal("2"), unit_price_cny=Decimal("15")),
        actor=actor,
    )


def _change_line(session: Session, order: WorkOrder, actor: User) -> None:
    [line] = service.cost_lines_of(session, order)
    data = CostLineCreate.model_validate(line.model_dump() | {"quantity": Decimal("10")})
    service.update_cost_line(session, order, line, data, actor=actor)


def _delete_line(session: Session, order: WorkOrder, actor: User) -> None:
    [line] = service.cost_lines_of(session, order)
    service.delete_cost_line(session, order, line, actor=actor)


def _add_check(session: Session, order: WorkOrder, actor: User) -> None:
    service.add_checks(session, order, [("复查", "")], actor=actor)


FINAL_EDITS: dict[str, Callable[[Session, WorkOrder, User], None]] = {
    "edit fields": _edit_fields,
    "record failure": _record_failure,
    "add cost line": _add_line,
    "change cost line": _change_line,
    "delete cost line": _delete_line,
    "add check": _add_check,
}


@pytest.mark.parametrize("edit", list(FINAL_EDITS))
@pytest.mark.parametrize("state", FINAL_STATES, ids=lambda s: s.value)
def test_closed_and_cancelled_orders_refuse_edits_and_cost_lines(
    session: Session, order_in: OrderIn, manager: User, state: OrderState, edit: str
) -> None:
    order = order_in(state)
    before = trail(session, order)
    lines_before = [audit.snapshot(line) for line in service.cost_lines_of(session, order)]

    with pytest.raises(Conflict):
        FINAL_EDITS[edit](session, order, manager)

    assert trail(session, order) == before
    assert [audit.snapshot(line) for line in service.cost_lines_of(session, order)] == lines_before


@pytest.mark.parametrize("state", FINAL_STATES, ids=lambda s: s.value)
def test_checks_of_a_final_order_cannot_be_recorded(
    session: Session, make_order: MakeOrder, manager: User, state: OrderState
) -> None:
    order = make_order(order_type=OrderType.PM)
    service.add_checks(session, order, [("油位", "")], actor=manager)
    [check] = service.checklist_of(session, order)
    service.record_check(session, order, check, result=ChecklistResult.OK, value=None, note="", actor=manager)
    for action in PATH_TO[state]:
        service.perform(session, order, action, actor=manager, note=REASON)

    with pytest.raises(Conflict):
        service.record_check(session, order, check, result=ChecklistResult.NOT_OK, value=None, note="", actor=manager)

    assert check.result == ChecklistResult.OK


@pytest.mark.parametrize("state", [s for s in OrderState if s not in FINAL_STATES], ids=lambda s: s.value)
def test_orders_not_yet_final_take_edits(session: Session, order_in: OrderIn, manager: User, state: OrderState) -> None:
    order = order_in(state)
    cost = order.actual_cost_cny

    _edit_fields(session, order, manager)
    _add_line(session, order, manager)

    assert order.title == "改标题"
    assert order.actual_cost_cny == cost + Decimal("30.00")
    assert order.state == state
