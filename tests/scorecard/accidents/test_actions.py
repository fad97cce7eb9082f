"""An accident's corrective actions through the served app: added, edited, marked done on a day
(not after today), deleted (the page asks first), each into the change log; raising a corrective
(CM) work order on the accident's asset, once however often asked; who may do each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.db import plant_today
from maintenance.orders.choices import OrderState, OrderType
from maintenance.orders.models import WorkOrder
from maintenance.org.models import User
from maintenance.scorecard.accidents.models import Accident, AccidentAction
from tests.conftest import login
from tests.scorecard.accidents.conftest import Record

LIST = "/scorecard/accidents"
AddAction = Callable[..., AccidentAction]


@pytest.fixture
def accident(pump: Asset, record: Record) -> Accident:
    return record(pump, "2026-03-05", title="合成液泵机封泄漏着火", cause="机封冲洗管线堵塞")


def _actions(session: Session) -> list[AccidentAction]:
    return list(session.scalars(select(AccidentAction).order_by(AccidentAction.id)))


def _logged(session: Session) -> list[tuple[ChangeAction, str]]:
    changes = session.scalars(select(ObjectChange).where(ObjectChange.object_type == "accident_action"))
    return [(c.action, c.object_id) for c in changes]


def test_an_engineer_adds_an_action_to_their_workshop_s_accident(
    client: TestClient, session: Session, own_engineer: User, accident: Accident
) -> None:
    csrf = login(client, own_engineer)
    data = {"description": "更换机封并疏通冲洗管线", "owner": "张工", "due_date": "2026-04-30", "csrf_token": csrf}

    response = client.post(f"{LIST}/{accident.id}/actions", data=data)

    assert response.status_code == 303
    [action] = _actions(session)
    assert (action.accident_id, action.description, action.owner, str(action.due_date), action.done_on) == (
        accident.id,
        "更换机封并疏通冲洗管线",
        "张工",
        "2026-04-30",
        None,
    )
    assert _logged(session) == [(ChangeAction.CREATE, str(action.id))]
    page = client.get(f"{LIST}/{accident.id}")
    assert "更换机封并疏通冲洗管线" in page.text


def test_an_action_without_a_description_is_a_422_and_nothing_is_written(
    client: TestClient, session: Session, own_engineer: User, accident: Accident, english: None
) -> None:
    client.cookies.set("lang", "en")
    csrf = login(client, own_engineer)

    response = client.post(f"{LIST}/{accident.id}/actions", data={"owner": "张工", "csrf_token": csrf})

    assert response.status_code == 422
    assert 'is-invalid" id="new-description"' in response.text
    assert "This field is required." in response.text
    assert _actions(session) == []


def test_an_action_is_edited_and_marked_done(
    client: TestClient, session: Session, own_engineer: User, accident: Accident, add_action: AddAction
) -> None:
    action = add_action(accident, "更换机封")
    yesterday = plant_today() - timedelta(days=1)
    csrf = login(client, own_engineer)

    edited = client.post(
        f"{LIST}/{accident.id}/actions/{action.id}",
        data={"description": "更换机封（串联）", "version": "1", "csrf_token": csrf},
    )
    done = client.post(
        f"{LIST}/{accident.id}/actions/{action.id}/done", data={"done_on": yesterday.isoformat(), "csrf_token": csrf}
    )

    assert (edited.status_code, done.status_code) == (303, 303)
    session.refresh(action)
    assert (action.description, action.done_on) == ("更换机封（串联）", yesterday)
    assert _logged(session) == [(ChangeAction.UPDATE, str(action.id))] * 2


def test_an_edit_emptying_the_description_is_a_422_shown_on_the_action(
    client: TestClient, session: Session, own_engineer: User, accident: Accident, add_action: AddAction, english: None
) -> None:
    action = add_action(accident, "更换机封")
    client.cookies.set("lang", "en")
    csrf = login(client, own_engineer)

    response = client.post(
        f"{LIST}/{accident.id}/actions/{action.id}", data={"owner": "李工", "version": "1", "csrf_token": csrf}
    )

    assert response.status_code == 422
    assert f'is-invalid" id="edit-{action.id}-description"' in response.text
    assert "<details open>" in response.text
    session.refresh(action)
    assert (action.description, action.owner) == ("更换机封", "")


@pytest.mark.parametrize(("done_on", "status"), [("tomorrow", 422), ("", 422), ("today", 303)])
def test_an_action_is_done_today_at_the_latest(
    client: TestClient,
    session: Session,
    manager: User,
    accident: Accident,
    add_action: AddAction,
    done_on: str,
    status: int,
) -> None:
    action = add_action(accident, "更换机封")
    day = {"today": plant_today().isoformat(), "tomorrow": (plant_today() + timedelta(days=1)).isoformat(), "": ""}
    csrf = login(client, manager)

    response = client.post(
        f"{LIST}/{accident.id}/actions/{action.id}/done", data={"done_on": day[done_on], "csrf_token": csrf}
    )

    assert response.status_code == status
    session.refresh(action)
    assert action.done_on == (plant_today() if status == 303 else None)


def test_an_action_is_deleted_after_the_page_asks(
    client: TestClient, session: Session, own_engineer: User, accident: Accident, add_action: AddAction
) -> None:
    action = add_action(accident, "更换机封")
    action_id = action.id
    csrf = login(client, own_engineer)

    page = client.get(f"{LIST}/{accident.id}")
    response = client.post(f"{LIST}/{accident.id}/actions/{action_id}/delete", data={"csrf_token": csrf})

    assert f'action="{LIST}/{accident.id}/actions/{action_id}/delete" data-confirm=' in page.text
    assert response.status_code == 303
    assert _actions(session) == []
    assert _logged(session) == [(ChangeAction.DELETE, str(action_id))]


def test_an_action_of_another_accident_is_a_404(
    client: TestClient,
    session: Session,
    manager: User,
    accident: Accident,
    pump: Asset,
    record: Record,
    add_action: AddAction,
) -> None:
    other = record(pump, "2026-04-01", title="另一起")
    action = add_action(other, "更换机封")
    csrf = login(client, manager)

    response = client.post(f"{LIST}/{accident.id}/actions/{action.id}/delete", data={"csrf_token": csrf})

    assert response.status_code == 404
    assert len(_actions(session)) == 1


def test_raising_a_work_order_twice_makes_one_cm_order_on_the_accident_s_asset(
    client: TestClient, session: Session, own_engineer: User, accident: Accident, pump: Asset, add_action: AddAction
) -> None:
    action = add_action(accident, "更换机封")
    csrf = login(client, own_engineer)

    first = client.post(f"{LIST}/{accident.id}/actions/{action.id}/order", data={"csrf_token": csrf})
    second = client.post(f"{LIST}/{accident.id}/actions/{action.id}/order", data={"csrf_token": csrf})

    assert (first.status_code, second.status_code) == (303, 303)
    [order] = session.scalars(select(WorkOrder)).all()
    assert (order.order_type, order.asset_id, order.state, order.requested_by_id) == (
        OrderType.CM,
        pump.id,
        OrderState.DRAFT,
        own_engineer.id,
    )
    assert "更换机封" in order.title
    session.refresh(action)
    assert action.order_id == order.id
    assert _logged(session) == [(ChangeAction.UPDATE, str(action.id))]
    page = client.get(f"{LIST}/{accident.id}")
    assert f'<a class="font-monospace" href="/orders/{order.id}" data-order="{order.number}">' in page.text


def test_an_edit_from_a_form_opened_before_someone_else_s_save_is_a_409_and_theirs_stays(
    client: TestClient, session: Session, own_engineer: User, accident: Accident, add_action: AddAction
) -> None:
    action = add_action(accident, "更换机封")
    csrf = login(client, own_engineer)
    first = client.post(
        f"{LIST}/{accident.id}/actions/{action.id}",
        data={"description": "A 的修改", "version": "1", "csrf_token": csrf},
    )

    second = client.post(
        f"{LIST}/{accident.id}/actions/{action.id}",
        data={"description": "B 的修改", "version": "1", "csrf_token": csrf},
    )

    assert (first.status_code, second.status_code) == (303, 409)
    session.refresh(action)
    assert (action.description, action.version) == ("A 的修改", 2)
    assert _logged(session) == [(ChangeAction.UPDATE, str(action.id))]


@pytest.mark.parametrize("who", ["other_engineer", "auditor"])
def test_others_may_not_touch_the_actions(
    client: TestClient,
    session: Session,
    accident: Accident,
    add_action: AddAction,
    request: pytest.FixtureRequest,
    who: str,
) -> None:
    action = add_action(accident, "更换机封")
    csrf = login(client, request.getfixturevalue(who))
    posts: dict[str, dict[str, Any]] = {
        f"{LIST}/{accident.id}/actions": {"description": "新措施"},
        f"{LIST}/{accident.id}/actions/{action.id}": {"description": "改"},
        f"{LIST}/{accident.id}/actions/{action.id}/done": {"done_on": plant_today().isoformat()},
        f"{LIST}/{accident.id}/actions/{action.id}/order": {},
        f"{LIST}/{accident.id}/actions/{action.id}/delete": {},
    }

    statuses = [client.post(url, data=data | {"csrf_token": csrf}).status_code for url, data in posts.items()]

    assert statuses == [403] * 5
    session.refresh(action)
    assert (action.description, action.done_on, action.order_id) == ("更换机封", None, None)
    assert len(_actions(session)) == 1
    assert session.scalars(select(WorkOrder)).all() == []
