"""Read marks are cleaned up: a mark older than 90 days whose item is gone (the alarm cleared, the
order approved or closed, the inspection's due date replaced, the month over) is deleted; a live
item's mark, and any recent mark, stay."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session, col
from typer.testing import CliRunner

from maintenance import cli
from maintenance.orders import service as order_service
from maintenance.scorecard.notifications import service
from maintenance.scorecard.notifications.models import NotificationRead
from maintenance.special.models import InspectionType
from tests.scorecard.notifications.conftest import NOW, SYSTEM, Plant, plant

OLD = NOW - timedelta(days=100)
RECENT = NOW - timedelta(days=10)


def marks(session: Session) -> set[str]:
    return set(session.scalars(select(col(NotificationRead.key))))


def a_mark_on_everything(session: Session, world: Plant) -> tuple[set[str], set[str]]:
    """Marks of the manager's, read 100 days ago unless said; returns (the live, the dead)."""
    live_alarm = world.alert(world.pump_a, "P-101-V", plant(3, 5))
    gone_alarm = world.alert(world.pump_a, "P-101-T", plant(3, 6))
    order_service.perform(
        session, order_service.get_order_or_raise(session, gone_alarm.order_id), "cancel", actor=SYSTEM, note="误报"
    )
    waiting = world.order(world.pump_b, planned_cny="60000")
    approved = world.order(world.pump_b, planned_cny="70000")
    order_service.perform(session, approved, "approve", actor=SYSTEM)
    assigned = world.order(world.pump_a, assignee_id=world.manager.id)
    closed = world.order(world.pump_a, assignee_id=world.manager.id)
    order_service.perform(session, closed, "cancel", actor=SYSTEM, note="重复")
    vessel = world.vessel_checked("R-101", date(2025, 3, 20))
    annual = session.scalar(select(InspectionType).where(col(InspectionType.code) == "PV-ANNUAL"))
    assert annual is not None
    world.budget([(world.workshop_a, "12000")])

    live = {
        f"alarm:{live_alarm.id}",
        f"approval:{waiting.id}",
        f"assigned:{assigned.id}",
        f"special:{vessel.id}:{annual.id}:2026-03-20",
        f"budget:{world.workshop_a.id}:2026-03",
    }
    dead = {
        f"alarm:{gone_alarm.id}",
        f"approval:{approved.id}",
        f"assigned:{closed.id}",
        f"special:{vessel.id}:{annual.id}:2025-03-20",
        f"budget:{world.workshop_a.id}:2025-12",
        "alarm:999999",
    }
    assert world.manager.id is not None
    for key in live | dead:
        session.add(NotificationRead(user_id=world.manager.id, key=key, read_at=OLD))
    session.add(NotificationRead(user_id=world.manager.id, key=f"assigned:{approved.id}", read_at=RECENT))
    session.flush()
    return live, dead


def test_marks_of_items_long_gone_are_deleted_and_the_rest_kept(session: Session, world: Plant) -> None:
    live, dead = a_mark_on_everything(session, world)
    recent = marks(session) - live - dead
    assert live <= {item.key for item in service.notifications_of(session, world.manager, NOW)}

    assert service.purge_read_marks(session, NOW) == len(dead)
    assert marks(session) == live | recent
    assert service.purge_read_marks(session, NOW) == 0  # again: nothing more


def test_a_mark_younger_than_90_days_stays_whatever_its_item(session: Session, world: Plant) -> None:
    a_mark_on_everything(session, world)
    before = marks(session)
    assert service.purge_read_marks(session, OLD + timedelta(days=89)) == 0
    assert marks(session) == before
    assert service.purge_read_marks(session, NOW, keep=timedelta(days=101)) == 0


def test_the_scheduler_pass_cleans_the_marks(session: Session, world: Plant, cli_in_test_session: CliRunner) -> None:
    live, dead = a_mark_on_everything(session, world)
    result = cli_in_test_session.invoke(cli.app, ["scheduler", "--once", "--today", "2026-03-10"])
    assert result.exit_code == 0, result.output
    assert "stale read marks removed" in result.output
    assert not marks(session) & dead
    assert live <= marks(session)
