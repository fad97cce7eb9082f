"""The navbar bell's count: each topic counted without building its items, equal to the unread
items the centre lists for every role, in a small fixed number of queries whatever the plant's size."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.config import get_settings
from maintenance.org.models import User
from maintenance.scorecard.notifications import service
from maintenance.scorecard.notifications.choices import Topic
from tests import factories
from tests.conftest import login
from tests.scorecard.notifications.conftest import NOW, Plant, plant


def listed_unread(session: Session, user: User) -> int:
    return sum(1 for item in service.notifications_of(session, user, NOW) if not item.read)


def a_bit_of_everything(world: Plant) -> User:
    """Items of every topic in both workshops, some of them the manager's own request (four eyes);
    returns a second manager, who may approve that one."""
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    world.alert(world.pump_b, "P-201-V", plant(3, 6))
    world.order(world.pump_a, assignee_id=world.engineer_a.id)
    world.order(world.pump_b, assignee_id=world.manager.id)
    world.order(world.pump_b, planned_cny="60000")
    own = world.order(world.pump_a, planned_cny="70000")
    own.requested_by_id = world.manager.id
    world.vessel_checked("R-101", date(2025, 3, 20))
    world.vessel_checked("R-201", date(2025, 3, 25), world.workshop_b)
    world.budget([(world.workshop_a, "12000"), (world.workshop_b, "15000")])
    world.session.flush()
    return factories.UserFactory(role=world.manager.role, username="boss2")


def test_the_count_equals_the_unread_items_listed_for_every_role(session: Session, world: Plant) -> None:
    other_manager = a_bit_of_everything(world)
    users = [world.engineer_a, world.engineer_b, world.manager, other_manager, world.auditor]
    expected = {"eng_a": 3, "eng_b": 2, "boss": 8, "boss2": 8, "audit": 0}
    for user in users:
        assert service.unread_count(session, user, NOW) == listed_unread(session, user) == expected[user.username]

    # Read one item of each topic (the first listed), and one more of the manager's.
    for user in users:
        items = service.notifications_of(session, user, NOW)
        firsts = {topic: next(item for item in items if item.topic == topic) for topic in {i.topic for i in items}}
        for item in firsts.values():
            service.mark_read(session, user, item.key, NOW)
        assert service.unread_count(session, user, NOW) == listed_unread(session, user)
        assert service.unread_count(session, user, NOW) == expected[user.username] - len(firsts)
    service.mark_all_read(session, world.manager, NOW, Topic.BUDGET_OVER)
    assert service.unread_count(session, world.manager, NOW) == listed_unread(session, world.manager) == 2


@pytest.mark.parametrize("topic", list(Topic))
def test_a_topic_switched_off_is_not_counted(session: Session, world: Plant, topic: Topic) -> None:
    a_bit_of_everything(world)
    on = [t for t in service.allowed_topics(world.manager) if t != topic]
    service.save_preferences(session, world.manager, on, NOW)
    assert service.unread_count(session, world.manager, NOW) == listed_unread(session, world.manager)
    assert not any(item.topic == topic for item in service.notifications_of(session, world.manager, NOW))


def test_the_bell_runs_a_few_queries_however_big_the_plant(
    client: TestClient, world: Plant, count_queries: list[str]
) -> None:
    login(client, world.manager)
    a_bit_of_everything(world)
    world.one_of_each_for_the_manager(1)
    count_queries.clear()
    first = client.get("/notifications/count")
    few = len(count_queries)
    for n in range(2, 8):
        world.one_of_each_for_the_manager(n)
        world.order(world.pump_a, planned_cny="1000")  # cost lines the budget does not load one by one
    count_queries.clear()
    more = client.get("/notifications/count")
    assert len(count_queries) == few
    assert few <= 15  # the preferences, three counts, the register (6), the budget (4), the marks
    assert 'data-testid="unread-count">11<' in first.text
    assert 'data-testid="unread-count">29<' in more.text


def test_the_bell_of_a_user_who_hears_nothing_runs_no_topic_query(
    client: TestClient, world: Plant, count_queries: list[str]
) -> None:
    a_bit_of_everything(world)
    login(client, world.auditor)
    count_queries.clear()
    response = client.get("/notifications/count")
    assert response.status_code == 200
    assert "unread-count" not in response.text
    assert not any("condition_alert" in statement or "notification_read" in statement for statement in count_queries)


def test_without_four_eyes_my_own_request_awaits_my_approval_and_is_counted(
    session: Session, world: Plant, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_bit_of_everything(world)
    monkeypatch.setattr(get_settings(), "order_four_eyes", False)
    approvals = [item for item in service.notifications_of(session, world.manager, NOW) if item.topic == Topic.APPROVAL]
    assert len(approvals) == 2
    assert service.unread_count(session, world.manager, NOW) == listed_unread(session, world.manager) == 9
