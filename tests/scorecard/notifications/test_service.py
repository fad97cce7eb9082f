"""Each topic's notifications on a small plant (who hears what, by workshop and role), read marks,
unread counts and preferences, all as of 10 March 2026 09:00 at the plant."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit.models import ObjectChange
from maintenance.monitoring.choices import AlertState
from maintenance.orders import service as order_service
from maintenance.org.models import User
from maintenance.scorecard.notifications import service
from maintenance.scorecard.notifications.choices import Topic
from maintenance.special.models import InspectionType
from tests import factories
from tests.scorecard.notifications.conftest import NOW, SYSTEM, Plant, plant


def keys(session: Session, user: User, topic: Topic | None = None) -> list[str]:
    return [item.key for item in service.notifications_of(session, user, NOW, topic)]


def test_each_role_may_choose_the_topics_its_permissions_allow(world: Plant) -> None:
    assert service.allowed_topics(world.engineer_a) == [Topic.ALARM, Topic.ASSIGNED, Topic.SPECIAL_DUE]
    assert service.allowed_topics(world.manager) == list(Topic)
    assert service.allowed_topics(world.auditor) == []


def test_alarms_reach_the_engineers_of_the_points_workshop_and_managers_newest_first(
    session: Session, world: Plant
) -> None:
    in_a = world.alert(world.pump_a, "P-101-V", plant(3, 5))
    in_b = world.alert(world.pump_b, "P-201-V", plant(3, 6))
    world.alert(world.pump_a, "P-101-T", plant(3, 7), state=AlertState.CLOSED)

    assert keys(session, world.engineer_a) == [f"alarm:{in_a.id}"]
    assert keys(session, world.engineer_b) == [f"alarm:{in_b.id}"]
    assert keys(session, world.manager) == [f"alarm:{in_b.id}", f"alarm:{in_a.id}"]
    assert keys(session, world.auditor) == []


def test_an_alarm_whose_order_is_finished_is_no_news(session: Session, world: Plant) -> None:
    alert = world.alert(world.pump_a, "P-101-V", plant(3, 5))
    order = order_service.get_order_or_raise(session, alert.order_id)
    order_service.perform(session, order, "cancel", actor=SYSTEM, note="误报")

    assert keys(session, world.engineer_a) == []


def test_open_orders_assigned_to_me(session: Session, world: Plant) -> None:
    mine = world.order(world.pump_a, assignee_id=world.engineer_a.id)
    cancelled = world.order(world.pump_a, assignee_id=world.engineer_a.id)
    order_service.perform(session, cancelled, "cancel", actor=SYSTEM, note="重复")
    world.order(world.pump_a)  # nobody's

    assert keys(session, world.engineer_a) == [f"assigned:{mine.id}"]
    assert keys(session, world.engineer_b) == []


def test_managers_hear_of_drafts_planned_above_the_approval_threshold(session: Session, world: Plant) -> None:
    """The threshold is 50,000 元: a draft at 60,000 waits for a manager, one at 50,000 does not,
    nor an approved one; the manager's own request is someone else's to approve (four eyes)."""
    waiting = world.order(world.pump_b, planned_cny="60000")
    world.order(world.pump_b, planned_cny="50000")
    approved = world.order(world.pump_a, planned_cny="80000")
    order_service.perform(session, approved, "approve", actor=SYSTEM)
    other_manager = factories.UserFactory(role=world.manager.role)
    own = world.order(world.pump_a, planned_cny="70000")
    own.requested_by_id = world.manager.id
    session.flush()

    assert keys(session, world.manager, Topic.APPROVAL) == [f"approval:{waiting.id}"]
    assert keys(session, other_manager, Topic.APPROVAL) == [f"approval:{own.id}", f"approval:{waiting.id}"]
    assert keys(session, world.engineer_a, Topic.APPROVAL) == []


def test_special_equipment_due_within_30_days_in_my_workshops(session: Session, world: Plant) -> None:
    """A vessel of workshop A whose annual check was on 20 March 2025 is due on 20 March 2026,
    ten days after today; one checked on 20 May 2025 is due in May, beyond 30 days."""
    vessels = [world.vessel_checked("R-101", date(2025, 3, 20)), world.vessel_checked("R-102", date(2025, 5, 20))]
    annual = session.scalar(select(InspectionType).where(col(InspectionType.code) == "PV-ANNUAL"))
    assert annual is not None

    assert keys(session, world.engineer_a, Topic.SPECIAL_DUE) == [f"special:{vessels[0].id}:{annual.id}:2026-03-20"]
    assert keys(session, world.engineer_b, Topic.SPECIAL_DUE) == []


def test_workshops_whose_cost_to_date_is_over_plan(session: Session, world: Plant) -> None:
    """Both workshops planned 10,000 元 for January only, so by 10 March their plan to date is
    10,000; A has spent 12,000 (over), B 8,000 (under)."""
    world.budget([(world.workshop_a, "12000"), (world.workshop_b, "8000")])

    assert keys(session, world.manager, Topic.BUDGET_OVER) == [f"budget:{world.workshop_a.id}:2026-03"]
    assert keys(session, world.engineer_a, Topic.BUDGET_OVER) == []


def test_no_budget_for_the_year_is_no_overspend(session: Session, world: Plant) -> None:
    assert keys(session, world.manager, Topic.BUDGET_OVER) == []


def test_read_marks_count_down_and_survive_a_recomputation(session: Session, world: Plant) -> None:
    first = world.alert(world.pump_a, "P-101-V", plant(3, 5))
    world.alert(world.pump_a, "P-101-T", plant(3, 6))
    world.order(world.pump_a, assignee_id=world.engineer_a.id)
    assert service.unread_count(session, world.engineer_a, NOW) == 3

    service.mark_read(session, world.engineer_a, f"alarm:{first.id}", NOW)
    service.mark_read(session, world.engineer_a, f"alarm:{first.id}", NOW)  # again: no error, no second row

    items = service.notifications_of(session, world.engineer_a, NOW)
    assert [item.key for item in items if item.read] == [f"alarm:{first.id}"]
    assert service.unread_count(session, world.engineer_a, NOW) == 2
    assert service.unread_count(session, world.engineer_b, NOW) == 0
    assert service.mark_all_read(session, world.engineer_a, NOW) == 2
    assert service.unread_count(session, world.engineer_a, NOW) == 0

    world.order(world.pump_a, assignee_id=world.engineer_a.id)  # news after "all read"
    assert service.unread_count(session, world.engineer_a, NOW) == 1


def test_a_topic_switched_off_brings_no_items_and_no_count(session: Session, world: Plant) -> None:
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    mine = world.order(world.pump_a, assignee_id=world.engineer_a.id)

    assert service.save_preferences(session, world.engineer_a, {Topic.ASSIGNED, Topic.SPECIAL_DUE}, NOW) == 1

    assert service.enabled_topics(session, world.engineer_a) == [Topic.ASSIGNED, Topic.SPECIAL_DUE]
    assert keys(session, world.engineer_a) == [f"assigned:{mine.id}"]
    assert service.unread_count(session, world.engineer_a, NOW) == 1
    assert service.save_preferences(session, world.engineer_a, {Topic.ASSIGNED, Topic.SPECIAL_DUE}, NOW) == 0
    assert service.save_preferences(session, world.engineer_a, set(Topic) - {Topic.APPROVAL}, NOW) == 1
    assert service.unread_count(session, world.engineer_a, NOW) == 2


def test_preference_changes_are_in_the_change_log(session: Session, world: Plant) -> None:
    service.save_preferences(session, world.manager, {Topic.ALARM}, NOW)
    service.save_preferences(session, world.manager, {Topic.ALARM, Topic.BUDGET_OVER}, NOW)

    changes = session.scalars(
        select(ObjectChange)
        .where(col(ObjectChange.object_type) == "notification_preference")
        .order_by(col(ObjectChange.id))
    ).all()
    # Off: assigned, approval, special_due, budget_over (four rows created); then budget_over on again.
    assert [(change.action.value, change.after["topic"], change.after["enabled"]) for change in changes] == [
        ("create", "assigned", False),
        ("create", "approval", False),
        ("create", "special_due", False),
        ("create", "budget_over", False),
        ("update", "budget_over", True),
    ]
    assert {change.actor_name for change in changes} == {"boss"}


def test_the_list_runs_the_same_queries_however_many_rows(
    session: Session, world: Plant, count_queries: list[str]
) -> None:
    world.one_of_each_for_the_manager(1)
    count_queries.clear()
    assert len(service.notifications_of(session, world.manager, NOW)) == 3
    few = len(count_queries)

    for n in range(2, 6):
        world.one_of_each_for_the_manager(n)
    count_queries.clear()
    assert len(service.notifications_of(session, world.manager, NOW)) == 15
    assert len(count_queries) == few
