"""Recording, editing and deleting an accident through the served app: the asset named by its tag
(its workshop copied onto the accident), every refusal a 422 naming the field with nothing
written, who may do what (403 with nothing written), a stale edit a 409, the change log."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.db import plant_today
from maintenance.org.models import User, Workshop
from maintenance.scorecard.accidents.models import Accident, AccidentAction, AccidentClass
from tests.conftest import login
from tests.scorecard.accidents.conftest import Record

LIST = "/scorecard/accidents"


def _form(tag: str = "P-101", **changes: Any) -> dict[str, Any]:
    return {
        "asset_tag": tag,
        "occurred_on": (plant_today() - timedelta(days=2)).isoformat(),
        "accident_class": "general",
        "title": "合成液泵机封泄漏着火",
        "downtime_hours": "12.5",
        "loss_cny": "125000.00",
        "description": "机封失效，介质泄漏遇热着火，现场扑灭。",
        "cause": "机封冲洗管线堵塞",
    } | changes


def _accidents(session: Session) -> list[Accident]:
    return list(session.scalars(select(Accident).order_by(Accident.id)))


def _changes(session: Session, object_type: str) -> list[ObjectChange]:
    return list(session.scalars(select(ObjectChange).where(ObjectChange.object_type == object_type)))


def test_an_engineer_records_an_accident_of_their_workshop_s_asset(
    client: TestClient, session: Session, own_engineer: User, pump: Asset, workshop: Workshop
) -> None:
    csrf = login(client, own_engineer)

    response = client.post(f"{LIST}/new", data=_form() | {"csrf_token": csrf})

    assert response.status_code == 303
    [accident] = _accidents(session)
    assert response.headers["location"] == f"{LIST}/{accident.id}"
    assert (accident.asset_id, accident.workshop_id, accident.recorded_by_id) == (pump.id, workshop.id, own_engineer.id)
    assert (accident.accident_class, accident.downtime_hours, accident.loss_cny) == (
        AccidentClass.GENERAL,
        Decimal("12.5"),
        Decimal("125000.00"),
    )
    [change] = _changes(session, "accident")
    assert (change.action, change.after["title"]) == (ChangeAction.CREATE, "合成液泵机封泄漏着火")
    page = client.get(f"{LIST}/{accident.id}")
    assert page.status_code == 200
    assert "机封冲洗管线堵塞" in page.text


def test_the_workshop_is_the_asset_s_when_recorded_even_if_it_moves_later(
    client: TestClient, session: Session, manager: User, pump: Asset, workshop: Workshop, other_workshop: Workshop
) -> None:
    csrf = login(client, manager)
    client.post(f"{LIST}/new", data=_form() | {"csrf_token": csrf})
    pump.workshop_id = other_workshop.id  # type: ignore[assignment]
    session.flush()

    [accident] = _accidents(session)

    assert accident.workshop_id == workshop.id


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"asset_tag": "P-999"}, "asset_tag", "No asset has the tag P-999."),
        ({"asset_tag": ""}, "asset_tag", "Enter the tag of the asset."),
        ({"occurred_on": "2999-01-01"}, "occurred_on", "The accident date cannot be in the future."),
        ({"occurred_on": "0001-01-01"}, "occurred_on", "Enter a date in 2000 or later."),
        ({"occurred_on": "2026-02-30"}, "occurred_on", "Enter a date as YYYY-MM-DD."),
        ({"downtime_hours": "-1"}, "downtime_hours", "Must be at least 0."),
        ({"loss_cny": "-0.01"}, "loss_cny", "Must be at least 0."),
        ({"loss_cny": "lots"}, "loss_cny", "Enter a number."),
        ({"accident_class": "catastrophe"}, "accident_class", "Choose one of the listed options."),
        ({"title": ""}, "title", "This field is required."),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_nothing_is_written(
    client: TestClient,
    session: Session,
    manager: User,
    pump: Asset,
    english: None,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    client.cookies.set("lang", "en")
    csrf = login(client, manager)

    response = client.post(f"{LIST}/new", data=_form(**changes) | {"csrf_token": csrf})

    assert response.status_code == 422
    assert f'is-invalid" id="f-{field}"' in response.text  # the field is marked
    assert message in response.text
    assert _accidents(session) == []
    assert _changes(session, "accident") == []


def test_today_is_not_in_the_future(client: TestClient, session: Session, manager: User, pump: Asset) -> None:
    csrf = login(client, manager)

    response = client.post(f"{LIST}/new", data=_form(occurred_on=plant_today().isoformat()) | {"csrf_token": csrf})

    assert response.status_code == 303


@pytest.mark.parametrize("who", ["other_engineer", "auditor"])
def test_others_may_not_record_an_accident_of_the_workshop(
    client: TestClient, session: Session, pump: Asset, request: pytest.FixtureRequest, who: str
) -> None:
    csrf = login(client, request.getfixturevalue(who))

    response = client.post(f"{LIST}/new", data=_form() | {"csrf_token": csrf})

    assert response.status_code == 403
    assert 'data-testid="error-page"' in response.text
    assert _accidents(session) == []


def test_an_auditor_reads_the_register_but_gets_no_forms(
    client: TestClient, auditor: User, pump: Asset, record: Record
) -> None:
    accident = record(pump, "2026-03-05")
    login(client, auditor)

    listed = client.get(f"{LIST}?year=2026")
    page = client.get(f"{LIST}/{accident.id}")
    new_form = client.get(f"{LIST}/new")
    edit_form = client.get(f"{LIST}/{accident.id}/edit")

    assert (listed.status_code, page.status_code, new_form.status_code, edit_form.status_code) == (200, 200, 403, 403)
    assert f"{LIST}/new" not in listed.text
    assert f"{LIST}/{accident.id}/edit" not in page.text
    assert "/actions" not in page.text


def _edit(accident: Accident, **changes: Any) -> dict[str, Any]:
    return (
        _form(occurred_on=accident.occurred_on.isoformat(), title=accident.title, version=str(accident.version))
        | changes
    )


def test_an_engineer_edits_their_workshop_s_accident_into_the_change_log(
    client: TestClient, session: Session, own_engineer: User, pump: Asset, record: Record
) -> None:
    accident = record(pump, "2026-03-05", title="机封泄漏")
    csrf = login(client, own_engineer)

    form = client.get(f"{LIST}/{accident.id}/edit")
    response = client.post(
        f"{LIST}/{accident.id}/edit", data=_edit(accident, cause="冲洗管线堵塞") | {"csrf_token": csrf}
    )

    assert form.status_code == 200
    assert 'value="P-101"' in form.text
    assert response.status_code == 303
    session.refresh(accident)
    assert (accident.cause, accident.version) == ("冲洗管线堵塞", 2)
    [change] = _changes(session, "accident")
    assert change.action == ChangeAction.UPDATE
    assert change.after["cause"] == "冲洗管线堵塞"


def test_an_engineer_of_another_workshop_may_not_edit(
    client: TestClient, session: Session, other_engineer: User, pump: Asset, record: Record
) -> None:
    accident = record(pump, "2026-03-05", title="机封泄漏")
    csrf = login(client, other_engineer)

    form = client.get(f"{LIST}/{accident.id}/edit")
    response = client.post(f"{LIST}/{accident.id}/edit", data=_edit(accident, cause="改") | {"csrf_token": csrf})

    assert (form.status_code, response.status_code) == (403, 403)
    session.refresh(accident)
    assert (accident.cause, accident.version) == ("", 1)


def test_moving_an_accident_to_another_workshop_s_asset_needs_both_workshops(
    client: TestClient, session: Session, own_engineer: User, pump: Asset, other_pump: Asset, record: Record
) -> None:
    accident = record(pump, "2026-03-05", title="机封泄漏")
    csrf = login(client, own_engineer)

    response = client.post(f"{LIST}/{accident.id}/edit", data=_edit(accident, asset_tag="P-201") | {"csrf_token": csrf})

    assert response.status_code == 403
    session.refresh(accident)
    assert accident.asset_id == pump.id


def test_a_manager_moves_it_and_it_takes_the_new_asset_s_workshop(
    client: TestClient, session: Session, manager: User, pump: Asset, other_pump: Asset, record: Record
) -> None:
    accident = record(pump, "2026-03-05", title="机封泄漏")
    csrf = login(client, manager)

    response = client.post(f"{LIST}/{accident.id}/edit", data=_edit(accident, asset_tag="P-201") | {"csrf_token": csrf})

    assert response.status_code == 303
    session.refresh(accident)
    assert (accident.asset_id, accident.workshop_id) == (other_pump.id, other_pump.workshop_id)


def test_a_stale_edit_is_a_409_and_nothing_is_saved(
    client: TestClient, session: Session, manager: User, pump: Asset, record: Record
) -> None:
    accident = record(pump, "2026-03-05", title="机封泄漏")
    opened = _edit(accident, cause="我的原因")
    accident.cause = "别人的原因"
    accident.version = 2
    session.flush()
    csrf = login(client, manager)

    response = client.post(f"{LIST}/{accident.id}/edit", data=opened | {"csrf_token": csrf})

    assert response.status_code == 409
    assert 'data-testid="conflict"' in response.text
    assert "别人的原因" in response.text
    assert "我的原因" in response.text
    session.refresh(accident)
    assert (accident.cause, accident.version) == ("别人的原因", 2)
    assert _changes(session, "accident") == []


def test_a_bad_edit_is_a_422_naming_the_field(
    client: TestClient, session: Session, manager: User, pump: Asset, record: Record, english: None
) -> None:
    accident = record(pump, "2026-03-05", title="机封泄漏")
    client.cookies.set("lang", "en")
    csrf = login(client, manager)

    response = client.post(f"{LIST}/{accident.id}/edit", data=_edit(accident, asset_tag="NOPE") | {"csrf_token": csrf})

    assert response.status_code == 422
    assert "No asset has the tag NOPE." in response.text
    session.refresh(accident)
    assert accident.version == 1


def test_a_manager_deletes_an_accident_with_its_actions_into_the_change_log(
    client: TestClient, session: Session, manager: User, pump: Asset, record: Record, add_action: Any
) -> None:
    accident = record(pump, "2026-03-05", title="机封泄漏")
    add_action(accident, "更换机封")
    accident_id = accident.id
    csrf = login(client, manager)

    page = client.get(f"{LIST}/{accident_id}")
    response = client.post(f"{LIST}/{accident_id}/delete", data={"csrf_token": csrf})

    assert f'action="{LIST}/{accident_id}/delete" data-confirm=' in page.text
    assert response.status_code == 303
    assert _accidents(session) == []
    assert session.scalar(select(func.count()).select_from(AccidentAction)) == 0
    assert [c.action for c in _changes(session, "accident")] == [ChangeAction.DELETE]
    assert [c.before["description"] for c in _changes(session, "accident_action")] == ["更换机封"]


def test_an_engineer_may_not_delete_and_a_missing_accident_is_a_404(
    client: TestClient, session: Session, own_engineer: User, manager: User, pump: Asset, record: Record
) -> None:
    accident = record(pump, "2026-03-05")
    csrf = login(client, own_engineer)
    refused = client.post(f"{LIST}/{accident.id}/delete", data={"csrf_token": csrf})
    client.cookies.clear()
    csrf = login(client, manager)

    missing = client.post(f"{LIST}/999999/delete", data={"csrf_token": csrf})
    missing_page = client.get(f"{LIST}/999999")

    assert refused.status_code == 403
    assert missing.status_code == 404
    assert missing_page.status_code == 404
    assert 'data-testid="error-page"' in missing_page.text
    assert len(_accidents(session)) == 1
