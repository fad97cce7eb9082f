"""The notification centre, the bell, the settings and the approval queue through the served app."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.config import get_settings
from maintenance.scorecard.notifications import service
from maintenance.scorecard.notifications.choices import Topic
from maintenance.scorecard.notifications.service import enabled_topics
from tests.conftest import login
from tests.scorecard.notifications.conftest import Plant, plant


def listed(page: str) -> list[tuple[str, str]]:
    """(key, read yes/no) of each notification on the page, in order."""
    return re.findall(r'data-key="([^"]+)" data-read="(yes|no)"', page)


def bell(client: TestClient) -> str | None:
    """The unread count the navbar's bell shows (None: no badge)."""
    match = re.search(r'data-testid="unread-count">(\d+)<', client.get("/notifications/count").text)
    return match[1] if match else None


def test_the_centre_lists_my_notifications_and_marks_them_read(client: TestClient, world: Plant) -> None:
    alert = world.alert(world.pump_a, "P-101-V", plant(3, 5))
    order = world.order(world.pump_a, assignee_id=world.engineer_a.id)
    token = login(client, world.engineer_a)

    page = client.get("/notifications")
    assert page.status_code == 200
    # Newest first: the alarm of 5 March, the order raised on 1 March.
    assert listed(page.text) == [(f"alarm:{alert.id}", "no"), (f"assigned:{order.id}", "no")]
    assert f'href="/monitoring/points/{alert.point_id}"' in page.text
    assert bell(client) == "2"

    response = client.post("/notifications/read", data={"key": f"alarm:{alert.id}", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/notifications"
    assert listed(client.get("/notifications").text) == [(f"alarm:{alert.id}", "yes"), (f"assigned:{order.id}", "no")]
    assert bell(client) == "1"

    assert client.post("/notifications/read-all", data={"csrf_token": token}).status_code == 303
    assert bell(client) is None
    assert listed(client.get("/notifications").text) == [(f"alarm:{alert.id}", "yes"), (f"assigned:{order.id}", "yes")]


def test_the_centre_filters_by_topic_and_pages(
    client: TestClient, world: Plant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "page_size", 5)
    alerts = [world.alert(world.pump_a, f"P-101-V{n}", plant(3, n)) for n in range(1, 7)]
    order = world.order(world.pump_a, assignee_id=world.engineer_a.id)
    token = login(client, world.engineer_a)

    assert listed(client.get("/notifications?topic=assigned").text) == [(f"assigned:{order.id}", "no")]
    # Newest first: the alarms of 6 to 2 March, then on page 2 the one of 1 March.
    assert [key for key, _read in listed(client.get("/notifications?topic=alarm").text)] == [
        f"alarm:{alert.id}" for alert in reversed(alerts[1:])
    ]
    assert listed(client.get("/notifications?topic=alarm&page=2").text) == [(f"alarm:{alerts[0].id}", "no")]
    # Marking one read goes back to the topic and page it was marked on.
    response = client.post(
        "/notifications/read",
        data={"key": f"alarm:{alerts[0].id}", "topic": "alarm", "page": "2", "csrf_token": token},
    )
    assert response.headers["location"] == "/notifications?topic=alarm&page=2"
    # An unknown topic is dropped, as a list's bad filter is: everything is listed.
    assert len(listed(client.get("/notifications?topic=nonsense&page=2").text)) == 2


def test_an_empty_centre_says_so(client: TestClient, world: Plant) -> None:
    login(client, world.engineer_b)
    page = client.get("/notifications").text
    assert listed(page) == []
    assert "bi-inbox" in page


@pytest.mark.parametrize(
    ("data", "status"),
    [({}, 422), ({"key": "alarm:1 or 1=1"}, 422), ({"key": "alarm:" + "9" * 80}, 422), ({"key": "alarm:999999"}, 404)],
)
def test_marking_a_notification_i_do_not_have_is_refused(
    client: TestClient, world: Plant, data: dict[str, str], status: int
) -> None:
    token = login(client, world.engineer_a)
    response = client.post("/notifications/read", data={**data, "csrf_token": token})
    assert response.status_code == status


def test_marking_another_engineers_alarm_is_refused(client: TestClient, world: Plant) -> None:
    alert = world.alert(world.pump_b, "P-201-V", plant(3, 5))
    token = login(client, world.engineer_a)
    response = client.post("/notifications/read", data={"key": f"alarm:{alert.id}", "csrf_token": token})
    assert response.status_code == 404
    assert f"alarm:{alert.id}" in response.text


def test_settings_offer_the_topics_of_my_role_and_save_them(client: TestClient, session: Session, world: Plant) -> None:
    token = login(client, world.engineer_a)
    page = client.get("/notifications/preferences").text
    assert re.findall(r'name="topic" value="(\w+)"', page) == ["alarm", "assigned", "special_due"]
    assert page.count(" checked") == 3  # every topic is on until switched off

    response = client.post("/notifications/preferences", data={"topic": ["assigned"], "csrf_token": token})
    assert response.status_code == 303
    assert enabled_topics(session, world.engineer_a) == [Topic.ASSIGNED]


def test_a_mark_stored_by_my_other_request_meanwhile_is_no_error(
    client: TestClient, world: Plant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double click: the second request read no mark, then finds the first one's stored."""
    alert = world.alert(world.pump_a, "P-101-V", plant(3, 5))
    token = login(client, world.engineer_a)
    assert client.post("/notifications/read", data={"key": f"alarm:{alert.id}", "csrf_token": token}).status_code == 303
    monkeypatch.setattr(service, "_read_keys", lambda *_args: set())  # as if read before the first committed

    again = client.post("/notifications/read-all", data={"csrf_token": token})
    monkeypatch.undo()

    assert again.status_code == 303
    assert bell(client) is None


def test_settings_saved_by_my_other_request_meanwhile_are_a_409_not_a_500(
    client: TestClient, session: Session, world: Plant, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = login(client, world.engineer_a)
    assert (
        client.post("/notifications/preferences", data={"topic": ["assigned"], "csrf_token": token}).status_code == 303
    )
    monkeypatch.setattr(service, "preferences_of", lambda *_args: {})  # as if read before the first committed

    again = client.post("/notifications/preferences", data={"topic": ["alarm"], "csrf_token": token})
    monkeypatch.undo()

    assert again.status_code == 409
    assert "重新加载" in again.text
    assert enabled_topics(session, world.engineer_a) == [Topic.ASSIGNED]  # the first save stands, whole


@pytest.mark.parametrize("topic", ["approval", "nonsense"])
def test_a_topic_my_role_may_not_choose_is_refused_with_the_field_named(
    client: TestClient, session: Session, world: Plant, topic: str
) -> None:
    token = login(client, world.engineer_a)
    response = client.post("/notifications/preferences", data={"topic": ["alarm", topic], "csrf_token": token})
    assert response.status_code == 422
    assert topic in response.text
    assert enabled_topics(session, world.engineer_a) == [Topic.ALARM, Topic.ASSIGNED, Topic.SPECIAL_DUE]


def test_the_approval_queue_lists_drafts_waiting_for_a_manager_with_cost_and_age(
    client: TestClient, world: Plant
) -> None:
    order = world.order(world.pump_b, planned_cny="65000", raised=plant(3, 1))
    login(client, world.manager)
    page = client.get("/notifications/approvals").text
    row = re.search(rf'data-order="{order.number}">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    assert cells[3] == "6.50"
    assert int(cells[4]) >= 279  # raised on 1 March 2026, read on 5 December 2026 or later


def test_the_approval_queue_is_empty_when_nothing_waits_and_refused_to_engineers(
    client: TestClient, world: Plant
) -> None:
    login(client, world.manager)
    assert "bi-inbox" in client.get("/notifications/approvals").text
    client.cookies.clear()
    login(client, world.engineer_a)
    assert client.get("/notifications/approvals").status_code == 403


def test_the_navbar_loads_the_bell_and_offers_managers_their_queue(client: TestClient, world: Plant) -> None:
    login(client, world.manager)
    home = client.get("/").text
    assert 'hx-get="/notifications/count"' in home
    assert 'href="/notifications/approvals"' in home
    client.cookies.clear()
    login(client, world.engineer_a)
    assert 'href="/notifications/approvals"' not in client.get("/").text


def test_the_centre_runs_the_same_queries_however_many_rows(
    client: TestClient, world: Plant, count_queries: list[str]
) -> None:
    login(client, world.manager)

    world.one_of_each_for_the_manager(1)
    count_queries.clear()
    assert len(listed(client.get("/notifications").text)) == 3
    few = len(count_queries)
    for n in range(2, 6):
        world.one_of_each_for_the_manager(n)
    count_queries.clear()
    assert len(listed(client.get("/notifications").text)) == 15
    assert len(count_queries) == few


def queued(page: str) -> list[str]:
    """The order numbers of the approval queue's rows, in order."""
    return re.findall(r'<tr data-order="([^"]+)">', page)


def test_the_approval_queue_sorts_by_age_and_cost_and_pages(
    client: TestClient, world: Plant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raised on 1 to 4 March at 90, 60, 80 and 70 thousand 元; the manager's own request of
    5 March is another manager's to approve (four eyes, in the query)."""
    monkeypatch.setattr(get_settings(), "page_size", 3)
    orders = [
        world.order(world.pump_b, planned_cny=cost, raised=plant(3, day))
        for day, cost in ((1, "90000"), (2, "60000"), (3, "80000"), (4, "70000"))
    ]
    own = world.order(world.pump_a, planned_cny="99000", raised=plant(3, 5))
    own.requested_by_id = world.manager.id
    world.session.flush()
    number = [order.number for order in orders]
    login(client, world.manager)

    first = client.get("/notifications/approvals")
    assert queued(first.text) == number[:3]  # the longest waiting first
    assert '<span class="page-link">1 / 2</span>' in first.text
    assert queued(client.get("/notifications/approvals?page=2").text) == number[3:]
    assert queued(client.get("/notifications/approvals?sort=age").text) == number[::-1][:3]
    assert queued(client.get("/notifications/approvals?sort=cost").text) == [number[1], number[3], number[2]]
    assert queued(client.get("/notifications/approvals?sort=-cost&page=2").text) == [number[1]]
    # An unknown sort falls back; an htmx request gets the table alone.
    assert queued(client.get("/notifications/approvals?sort=nonsense").text) == number[:3]
    fragment = client.get("/notifications/approvals?page=2", headers={"HX-Request": "true"}).text
    assert queued(fragment) == number[3:]
    assert "<h1" not in fragment


def test_the_approval_queue_runs_the_same_queries_however_long(
    client: TestClient, world: Plant, count_queries: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "page_size", 5)
    login(client, world.manager)
    world.order(world.pump_b, planned_cny="60000")
    count_queries.clear()
    assert len(queued(client.get("/notifications/approvals").text)) == 1
    few = len(count_queries)
    for _n in range(12):
        world.order(world.pump_b, planned_cny="60000")
    count_queries.clear()
    assert len(queued(client.get("/notifications/approvals").text)) == 5
    assert len(count_queries) == few
