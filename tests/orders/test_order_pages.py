"""The work-order page and its forms: raising an order (from an asset's page or its QR label),
editing it with optimistic locking, the state-machine buttons, cost lines, checklist, failure
report, notes and photos — each as an engineer, a manager or an auditor sees them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.config import get_settings
from maintenance.db import plant_timezone
from maintenance.orders import service
from maintenance.orders.choices import ChecklistResult, CostKind, FailureMode, OrderState, OrderType
from maintenance.orders.models import (
    CostLine,
    CostLineCreate,
    FailureReportUpdate,
    OrderAttachment,
    WorkOrder,
    WorkOrderUpdate,
)
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories
from tests.conftest import login
from tests.orders.conftest import SYSTEM, MakeOrder

EN = {"Accept-Language": "en"}
HX = {"HX-Request": "true", **EN}
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 200


def post(client: TestClient, url: str, token: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Response:
    return client.post(url, data={"csrf_token": token, **(data or {})}, headers=kwargs.pop("headers", EN), **kwargs)


def order_form(asset: Asset, **fields: Any) -> dict[str, Any]:
    data = {"order_type": "CM", "asset_tag": asset.tag, "title": "泵体泄漏", "priority": "2", "provider": "in_house"}
    data.update(fields)
    return data


def reload(session: Session, order: WorkOrder) -> WorkOrder:
    session.refresh(order)
    return order


def action_url(order: WorkOrder, name: str) -> str:
    return f"/orders/{order.id}/actions/{name}"


@pytest.fixture
def outsider(session: Session) -> User:
    """An engineer of another workshop."""
    user = factories.UserFactory(role=Role.ENGINEER)
    other = factories.WorkshopFactory()
    session.add(UserWorkshop(user_id=user.id, workshop_id=other.id))  # type: ignore[arg-type]
    session.flush()
    return user


# --- Raising an order ---------------------------------------------------------------------


def test_the_asset_page_links_to_a_new_order_with_the_asset_prefilled_as_corrective(
    client: TestClient, asset: Asset, workshop_engineer: User
) -> None:
    login(client, workshop_engineer)
    asset_page = client.get(f"/assets/{asset.id}", headers=EN)
    assert f'href="/orders/new?asset_id={asset.id}"' in asset_page.text

    form = client.get(f"/orders/new?asset_id={asset.id}", headers=EN)

    assert form.status_code == 200
    assert re.search(rf'name="asset_tag"[^>]*value="{re.escape(asset.tag)}"', form.text)
    assert '<option value="CM" selected>' in form.text
    # Phones: the viewport is set and the asset is named by the tag on its label.
    assert 'name="viewport"' in form.text


def test_raising_an_order_goes_to_its_page_with_a_toast(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)

    response = post(client, "/orders/new", token, order_form(asset, assignee_id=str(workshop_engineer.id)))

    assert response.status_code == 303, response.text
    order = session.scalars(select(WorkOrder).where(col(WorkOrder.asset_id) == asset.id)).one()
    assert response.headers["location"] == f"/orders/{order.id}"
    assert (order.order_type, order.state, order.assignee_id) == (OrderType.CM, OrderState.DRAFT, workshop_engineer.id)
    assert order.workshop_id == asset.workshop_id
    page = client.get(response.headers["location"], headers=EN)
    assert f"Work order {order.number} raised." in page.text
    assert order.number in page.text
    assert f'href="/assets/{asset.id}"' in page.text


def test_bad_input_is_refused_with_a_reason_per_field(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)

    no_title = post(client, "/orders/new", token, order_form(asset, title=""))
    unknown_tag = post(client, "/orders/new", token, order_form(asset, asset_tag="NO-SUCH-TAG"))
    backwards = post(
        client,
        "/orders/new",
        token,
        order_form(asset, planned_start_date="2026-03-10", planned_finish_date="2026-03-01"),
    )
    bad_date = post(client, "/orders/new", token, order_form(asset, due_date="31.12.2026"))

    assert [r.status_code for r in (no_title, unknown_tag, backwards, bad_date)] == [422] * 4
    assert "This field is required." in no_title.text
    assert "No asset has the tag NO-SUCH-TAG." in unknown_tag.text
    assert "The planned finish cannot come before the planned start." in backwards.text
    assert "Enter a date as YYYY-MM-DD." in bad_date.text
    assert 'value="泵体泄漏"' in unknown_tag.text  # what the user typed is kept
    assert session.scalars(select(WorkOrder)).first() is None


def test_an_engineer_of_another_workshop_is_refused_with_403(
    client: TestClient, session: Session, asset: Asset, outsider: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, outsider)

    raised = post(client, "/orders/new", token, order_form(asset))
    edit = client.get(f"/orders/{order.id}/edit", headers=EN)
    approve = post(client, action_url(order, "approve"), token, {"version": order.version})
    line = post(client, f"/orders/{order.id}/costs", token, {"kind": "labour", "description": "钳工", "quantity": "2"})
    page = client.get(f"/orders/{order.id}", headers=EN)

    assert raised.status_code == 403
    assert "You can only change records of your own workshops." in raised.text
    assert edit.status_code == 403
    assert approve.status_code == 403
    assert line.status_code == 403
    assert reload(session, order).state == OrderState.DRAFT
    assert session.scalars(select(CostLine)).first() is None
    assert page.status_code == 200  # anyone may read
    assert "/actions/" not in page.text
    assert f'action="/orders/{order.id}/costs"' not in page.text


def test_an_auditor_reads_the_order_page_without_any_button(
    client: TestClient, session: Session, auditor: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, auditor)

    page = client.get(f"/orders/{order.id}", headers=EN)
    refused = post(client, action_url(order, "approve"), token, {"version": order.version})

    assert page.status_code == 200
    assert order.number in page.text
    assert "/actions/" not in page.text
    assert f"/orders/{order.id}/edit" not in page.text
    assert 'type="file"' not in page.text
    assert refused.status_code == 403


# --- The state machine --------------------------------------------------------------------


def press(client: TestClient, token: str, order: WorkOrder, name: str, note: str = "") -> Response:
    """Click a button the order page shows (it must be there), as the browser would post it."""
    page = client.get(f"/orders/{order.id}", headers=EN)
    assert f'action="{action_url(order, name)}"' in page.text, f"no {name} button in state {order.state}"
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    return post(client, action_url(order, name), token, {"version": version[1], "note": note})


def test_each_button_moves_the_order_and_records_who_and_when(
    client: TestClient, session: Session, manager: User, make_order: MakeOrder
) -> None:
    order = make_order(planned_start_date="2026-03-02")
    token = login(client, manager)
    walk = [
        ("approve", "", OrderState.APPROVED),
        ("schedule", "", OrderState.SCHEDULED),
        ("hold", "等备件", OrderState.ON_HOLD),
        ("resume_scheduled", "", OrderState.SCHEDULED),
        ("start", "", OrderState.IN_PROGRESS),
        ("hold", "等停车窗口", OrderState.ON_HOLD),
        ("resume_work", "", OrderState.IN_PROGRESS),
    ]
    for name, note, state in walk:
        response = press(client, token, order, name, note)
        assert response.status_code == 303, (name, response.text)
        assert reload(session, order).state == state

    # A corrective order cannot be completed without a failure mode: the page says why.
    refused = press(client, token, order, "complete")
    assert refused.status_code == 422
    assert "cannot be completed yet" in refused.text
    assert "A corrective order needs a failure mode before completion." in refused.text
    assert 'href="#failure"' in refused.text
    service.record_failure(
        session,
        order,
        FailureReportUpdate(failure_mode=FailureMode.ELP, version=order.version),
        actor=SYSTEM,
    )
    for name, note, state in [
        ("complete", "", OrderState.COMPLETED),
        ("reopen", "密封仍渗漏", OrderState.IN_PROGRESS),
        ("complete", "", OrderState.COMPLETED),
        ("close", "", OrderState.CLOSED),
    ]:
        response = press(client, token, order, name, note)
        assert response.status_code == 303, (name, response.text)
        assert reload(session, order).state == state

    assert order.approved_by_id == manager.id
    assert order.signed_off_by_id == manager.id
    transitions = service.transitions_of(session, order)
    assert len(transitions) == 1 + len(walk) + 4
    page = client.get(f"/orders/{order.id}", headers=EN)
    assert "等停车窗口" in page.text  # the timeline shows the reasons
    assert "/actions/" not in page.text  # a closed order has no buttons
    assert f"/audit/history/work_order/{order.id}" in page.text


def test_a_reason_is_asked_for_and_cancelling_is_confirmed(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)

    page = client.get(f"/orders/{order.id}", headers=EN)
    cancel_form = re.search(rf'<form[^>]*action="{action_url(order, "cancel")}"[^>]*>', page.text, re.S)
    no_reason = post(client, action_url(order, "cancel"), token, {"version": order.version, "note": " "})

    assert cancel_form
    assert "data-confirm=" in cancel_form[0]
    assert no_reason.status_code == 422
    assert "Give a reason." in no_reason.text
    assert reload(session, order).state == OrderState.DRAFT

    cancelled = post(client, action_url(order, "cancel"), token, {"version": order.version, "note": "重复工单"})
    assert cancelled.status_code == 303
    assert reload(session, order).state == OrderState.CANCELLED


def test_an_action_the_state_does_not_allow_is_refused_with_a_message(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)

    response = post(client, action_url(order, "close"), token, {"version": order.version})

    assert response.status_code == 409
    assert "cannot be moved that way" in response.text
    assert reload(session, order).state == OrderState.DRAFT


def test_approval_above_the_threshold_needs_a_manager(
    client: TestClient, session: Session, workshop_engineer: User, manager: User, make_order: MakeOrder
) -> None:
    order = make_order()
    threshold = get_settings().order_approval_threshold_cny
    service.add_cost_line(
        session,
        order,
        CostLineCreate(
            kind=CostKind.SERVICE,
            description="外委检修",
            planned_quantity=Decimal("1"),
            planned_unit_price_cny=threshold + 1,
        ),
        actor=SYSTEM,
    )
    token = login(client, workshop_engineer)

    page = client.get(f"/orders/{order.id}", headers=EN)
    refused = post(client, action_url(order, "approve"), token, {"version": order.version})

    assert f'action="{action_url(order, "approve")}"' not in page.text
    assert "a manager approves this order" in page.text
    assert refused.status_code == 403
    assert "need a manager" in refused.text
    assert reload(session, order).state == OrderState.DRAFT

    client.cookies.clear()
    token = login(client, manager)
    approved = post(client, action_url(order, "approve"), token, {"version": order.version})
    assert approved.status_code == 303
    assert reload(session, order).state == OrderState.APPROVED
    assert order.approved_by_id == manager.id


def test_the_requester_is_not_offered_approval_and_another_engineer_approves(
    client: TestClient, session: Session, asset: Asset, workshop: Workshop, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)
    raised = post(client, "/orders/new", token, order_form(asset, title="泵出口法兰泄漏"))
    order = session.scalars(select(WorkOrder).where(col(WorkOrder.asset_id) == asset.id)).one()

    page = client.get(raised.headers["location"], headers=EN)
    page_zh = client.get(raised.headers["location"], headers={"Accept-Language": "zh-CN"})
    refused = post(client, action_url(order, "approve"), token, {"version": order.version})

    assert f'action="{action_url(order, "approve")}"' not in page.text
    assert "Approval by someone other than the requester" in page.text
    assert "需由申请人以外的工程师或经理审批" in page_zh.text
    assert f'action="{action_url(order, "cancel")}"' in page.text  # his other buttons are there
    assert refused.status_code == 403
    assert "must be approved by someone other than the requester" in refused.text
    assert reload(session, order).state == OrderState.DRAFT

    colleague = factories.UserFactory(role=Role.ENGINEER, full_name="李工")
    session.add(UserWorkshop(user_id=colleague.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    client.cookies.clear()
    token = login(client, colleague)
    page = client.get(f"/orders/{order.id}", headers=EN)
    approved = post(client, action_url(order, "approve"), token, {"version": order.version})

    assert f'action="{action_url(order, "approve")}"' in page.text
    assert "Approval by someone other than the requester" not in page.text
    assert approved.status_code == 303
    assert reload(session, order).state == OrderState.APPROVED
    assert (order.requested_by_id, order.approved_by_id) == (workshop_engineer.id, colleague.id)


def test_a_button_pressed_on_a_stale_page_gives_the_409_page(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)
    seen = order.version
    service.perform(session, order, "cancel", actor=SYSTEM, note="作废")

    response = post(client, action_url(order, "approve"), token, {"version": seen})

    assert response.status_code == 409
    assert "Someone else changed order" in response.text
    assert reload(session, order).state == OrderState.CANCELLED


# --- Editing ------------------------------------------------------------------------------


def test_a_stale_edit_shows_stored_and_submitted_values_and_saves_nothing(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order(title="更换机封")
    token = login(client, workshop_engineer)
    form = client.get(f"/orders/{order.id}/edit", headers=EN)
    assert form.status_code == 200
    assert f'name="version" value="{order.version}"' in form.text
    seen = order.version
    service.update_order(
        session,
        order,
        WorkOrderUpdate.model_validate(order.model_dump() | {"title": "更换机封及轴承", "version": order.version}),
        actor=SYSTEM,
    )

    response = post(client, f"/orders/{order.id}/edit", token, order_form(asset, title="更换机封(我的)", version=seen))

    assert response.status_code == 409
    assert "更换机封及轴承" in response.text  # stored now
    assert "更换机封(我的)" in response.text  # what the user submitted
    assert f'href="/orders/{order.id}/edit"' in response.text
    assert reload(session, order).title == "更换机封及轴承"


def test_an_edit_from_the_current_version_is_saved(
    client: TestClient, session: Session, asset: Asset, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)

    response = post(
        client,
        f"/orders/{order.id}/edit",
        token,
        order_form(asset, title="新标题", planned_start_date="2026-04-01", version=order.version),
    )

    assert response.status_code == 303
    assert reload(session, order).title == "新标题"
    assert order.version == 2


# --- Cost lines ---------------------------------------------------------------------------


def test_cost_lines_are_added_edited_and_deleted_with_the_totals_kept(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)
    headers = {**HX, "X-CSRF-Token": token}

    added = client.post(
        f"/orders/{order.id}/costs",
        data={
            "kind": "material",
            "description": "机械密封",
            "item_code": "M-2031",
            "uom": "套",
            "planned_quantity": "2",
            "planned_unit_price_cny": "1500",
        },
        headers=headers,
    )
    assert added.status_code == 200, added.text
    assert added.headers["HX-Trigger"] == "order-costs-changed"
    assert 'id="costs"' in added.text
    assert "<html" not in added.text
    assert "3,000.00" in added.text
    line = session.scalars(select(CostLine).where(col(CostLine.order_id) == order.id)).one()
    assert reload(session, order).planned_cost_cny == Decimal("3000.00")

    edit_form = client.get(f"/orders/{order.id}?part=costs&edit_line={line.id}", headers=HX)
    assert f'action="/orders/{order.id}/costs/{line.id}"' in edit_form.text
    assert 'value="M-2031"' in edit_form.text

    too_much = client.post(
        f"/orders/{order.id}/costs/{line.id}",
        data={
            "kind": "material",
            "description": "机械密封",
            "planned_quantity": "2",
            "planned_unit_price_cny": "1500",
            "quantity": "2",
            "unit_price_cny": "1450",
            "used_quantity": "2",
            "returned_quantity": "1",
        },
        headers=headers,
    )
    assert too_much.status_code == 422
    assert "Used and returned together cannot exceed the quantity issued." in too_much.text

    # Each value fits its column, their product (≈ 10²⁵ 元) no money column: refused, not a 500.
    too_large = client.post(
        f"/orders/{order.id}/costs/{line.id}",
        data={
            "kind": "material",
            "description": "机械密封",
            "quantity": "99999999999.999",
            "unit_price_cny": "99999999999999.99",
        },
        headers=headers,
    )
    assert too_large.status_code == 422
    assert "Quantity × price is too large an amount: check both." in too_large.text

    issued = client.post(
        f"/orders/{order.id}/costs/{line.id}",
        data={
            "kind": "material",
            "description": "机械密封",
            "item_code": "M-2031",
            "uom": "套",
            "planned_quantity": "2",
            "planned_unit_price_cny": "1500",
            "quantity": "2",
            "unit_price_cny": "1450",
            "used_quantity": "1",
            "returned_quantity": "1",
        },
        headers=headers,
    )
    assert issued.status_code == 200, issued.text
    assert (reload(session, order).planned_cost_cny, order.actual_cost_cny) == (Decimal("3000.00"), Decimal("2900.00"))
    assert "2,900.00" in issued.text

    localised = client.post(
        f"/orders/{order.id}/costs",
        data={
            "kind": "localised",
            "description": "国产轴承 6312",
            "quantity": "2",
            "unit_price_cny": "800",
            "reference_price_cny": "2300",
        },
        headers=headers,
    )
    assert localised.status_code == 200
    assert "3,000.00" in localised.text  # saving: (2300 − 800) × 2
    assert reload(session, order).actual_cost_cny == Decimal("4500.00")

    header = client.get(f"/orders/{order.id}?part=header", headers=HX)
    assert 'id="order-header"' in header.text
    assert "4,500.00" in header.text

    deleted = client.post(f"/orders/{order.id}/costs/{line.id}/delete", headers=headers)
    assert deleted.status_code == 200
    assert reload(session, order).planned_cost_cny == Decimal("0.00")
    assert order.actual_cost_cny == Decimal("1600.00")
    assert session.get(CostLine, line.id) is None


@pytest.mark.parametrize(
    ("uom", "shown"), [("h", "7.5 h × 85.00"), ("", "7.5 h × 85.00"), ("工日", "7.5 工日 × 85.00")]
)
def test_a_labour_line_names_its_unit_once(
    client: TestClient, workshop_engineer: User, make_order: MakeOrder, uom: str, shown: str
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)
    added = client.post(
        f"/orders/{order.id}/costs",
        data={
            "kind": "labour",
            "description": "检修人工",
            "uom": uom,
            "provider": "in_house",
            "planned_quantity": "7.5",
            "planned_unit_price_cny": "85",
        },
        headers={**HX, "X-CSRF-Token": token},
    )
    assert added.status_code == 200, added.text
    assert shown in added.text
    assert "h h" not in added.text


def test_a_cost_line_without_its_required_fields_is_refused_in_the_form(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)

    response = client.post(
        f"/orders/{order.id}/costs",
        data={"kind": "refurbished", "description": "修复叶轮", "quantity": "1", "unit_price_cny": "abc"},
        headers={**HX, "X-CSRF-Token": token},
    )

    assert response.status_code == 422
    assert "Enter a number." in response.text
    assert 'value="修复叶轮"' in response.text
    assert session.scalars(select(CostLine)).first() is None


# --- Checklist ----------------------------------------------------------------------------


def test_a_check_marked_not_ok_raises_a_linked_corrective_order(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order(order_type=OrderType.PM, title="月度点检")
    token = login(client, workshop_engineer)
    headers = {**HX, "X-CSRF-Token": token}

    added = client.post(f"/orders/{order.id}/checks", data={"text": "机封无泄漏"}, headers=headers)
    assert added.status_code == 200
    assert 'id="checklist"' in added.text
    [item] = service.checklist_of(session, order)

    recorded = client.post(
        f"/orders/{order.id}/checks/{item.id}", data={"result": "not_ok", "note": "滴漏 5 滴/分"}, headers=headers
    )
    assert recorded.status_code == 200
    assert f'id="check-{item.id}"' in recorded.text
    assert "Raise corrective order" in recorded.text
    assert item.result == ChecklistResult.NOT_OK

    raised_row = client.post(f"/orders/{order.id}/checks/{item.id}/raise", headers=headers)

    assert raised_row.status_code == 200
    raised = session.scalars(select(WorkOrder).where(col(WorkOrder.origin_order_id) == order.id)).one()
    assert raised.order_type == OrderType.CM
    assert raised.asset_id == order.asset_id
    assert raised.description == "滴漏 5 滴/分"
    assert f'href="/orders/{raised.id}"' in raised_row.text
    assert raised.number in raised_row.text
    assert "Raise corrective order" not in raised_row.text
    origin_page = client.get(f"/orders/{order.id}", headers=EN)
    assert f'href="/orders/{raised.id}"' in origin_page.text
    raised_page = client.get(f"/orders/{raised.id}", headers=EN)
    assert f'href="/orders/{order.id}"' in raised_page.text  # "raised from"


def test_a_value_check_needs_its_value(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order(order_type=OrderType.PM)
    service.add_checks(session, order, [("轴承温度", "°C")], actor=SYSTEM)
    [item] = service.checklist_of(session, order)
    token = login(client, workshop_engineer)
    headers = {**HX, "X-CSRF-Token": token}

    missing = client.post(f"/orders/{order.id}/checks/{item.id}", data={"result": "ok"}, headers=headers)
    no_result = client.post(f"/orders/{order.id}/checks/{item.id}", data={"value": "61"}, headers=headers)
    recorded = client.post(
        f"/orders/{order.id}/checks/{item.id}", data={"result": "ok", "value": "61.5"}, headers=headers
    )

    assert missing.status_code == 422
    assert "Enter the measured value." in missing.text
    assert no_result.status_code == 422
    assert "Choose OK or not OK." in no_result.text
    assert recorded.status_code == 200
    session.refresh(item)
    assert item.value == Decimal("61.5")


# --- Failure report and notes -------------------------------------------------------------


def test_the_failure_report_is_saved_with_downtime_typed_in_plant_time(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)

    response = post(
        client,
        f"/orders/{order.id}/failure",
        token,
        {
            "version": order.version,
            "failure_mode": "ELP",
            "failure_mechanism": "1.1",
            "failure_cause": "3.5",
            "detection_method": "IN",
            "downtime_start_at": "2025-01-10T08:30",
            "downtime_end_at": "2025-01-10T14:00",
            "production_loss_t": "12.5",
            "production_loss_cny": "36000",
        },
    )

    assert response.status_code == 303, response.text
    reload(session, order)
    start = datetime(2025, 1, 10, 8, 30, tzinfo=plant_timezone()).astimezone(UTC)
    assert order.downtime_start_at == start
    assert order.downtime_hours == pytest.approx(5.5)
    assert (order.failure_mode, order.production_loss_t, order.production_loss_cny) == (
        FailureMode.ELP,
        Decimal("12.5"),
        Decimal("36000"),
    )
    page = client.get(f"/orders/{order.id}", headers=EN)
    assert 'value="2025-01-10T08:30"' in page.text  # shown again on the plant's clock
    assert '<option value="ELP" selected>ELP · External leakage – process medium</option>' in page.text


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"),
    [("en", "BRD · Breakdown", "运行中损坏"), ("zh-CN", "BRD · 运行中损坏", "Breakdown")],
)
def test_the_iso_14224_codes_are_shown_in_the_language_of_the_page(
    client: TestClient,
    session: Session,
    workshop_engineer: User,
    auditor: User,
    make_order: MakeOrder,
    language: str,
    shown: str,
    not_shown: str,
) -> None:
    order = make_order()
    service.record_failure(
        session, order, FailureReportUpdate(failure_mode=FailureMode.BRD, version=order.version), actor=SYSTEM
    )
    login(client, workshop_engineer)
    form = client.get(f"/orders/{order.id}", headers={"Accept-Language": language}).text
    client.cookies.clear()
    login(client, auditor)
    read_only = client.get(f"/orders/{order.id}", headers={"Accept-Language": language}).text

    failure_form = form[form.index('id="failure"') :].split("</section>")[0]
    failure_table = read_only[read_only.index('id="failure"') :].split("</section>")[0]
    assert f'<option value="BRD" selected>{shown}</option>' in failure_form
    assert not_shown not in failure_form
    assert "<code>BRD</code> " + shown.removeprefix("BRD · ") in failure_table
    assert not_shown not in failure_table


def test_a_failure_report_with_the_downtime_ending_before_it_starts_is_refused(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)

    backwards = post(
        client,
        f"/orders/{order.id}/failure",
        token,
        {"version": order.version, "downtime_start_at": "2025-01-10T08:30", "downtime_end_at": "2025-01-10T07:00"},
    )
    garbage = post(
        client, f"/orders/{order.id}/failure", token, {"version": order.version, "downtime_start_at": "soon"}
    )
    stale = post(client, f"/orders/{order.id}/failure", token, {"version": order.version - 1, "failure_mode": "BRD"})

    assert backwards.status_code == 422
    assert "The downtime cannot end before it starts." in backwards.text
    assert garbage.status_code == 422
    assert "Enter a date and time." in garbage.text
    assert stale.status_code == 409
    assert "Breakdown" in stale.text
    assert reload(session, order).downtime_start_at is None


def test_findings_and_completion_notes_are_saved(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)

    response = post(
        client,
        f"/orders/{order.id}/notes",
        token,
        {"version": order.version, "findings": "机封动环磨损", "completion_notes": "更换机封, 试车正常"},
    )

    assert response.status_code == 303
    assert (reload(session, order).findings, order.completion_notes) == ("机封动环磨损", "更换机封, 试车正常")


# --- Attachments --------------------------------------------------------------------------


def test_a_photo_is_uploaded_shown_downloaded_and_deleted(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)
    page = client.get(f"/orders/{order.id}", headers=EN)
    assert 'capture="environment"' in page.text
    assert 'accept="image/*"' in page.text

    uploaded = client.post(
        f"/orders/{order.id}/attachments",
        data={"csrf_token": token},
        files=[("file", ("现场.jpg", JPEG, "image/jpeg")), ("file", ("", b"", "application/octet-stream"))],
        headers=EN,
    )

    assert uploaded.status_code == 303, uploaded.text
    attachment = session.scalars(select(OrderAttachment).where(col(OrderAttachment.order_id) == order.id)).one()
    assert (attachment.filename, attachment.content_type, attachment.uploaded_by_id) == (
        "现场.jpg",
        "image/jpeg",
        workshop_engineer.id,
    )
    page = client.get(f"/orders/{order.id}", headers=EN)
    assert f'src="/orders/{order.id}/attachments/{attachment.id}?inline=true"' in page.text
    download = client.get(f"/orders/{order.id}/attachments/{attachment.id}")
    assert download.status_code == 200
    assert download.content == JPEG
    assert download.headers["content-disposition"].startswith("attachment;")
    shown = client.get(f"/orders/{order.id}/attachments/{attachment.id}?inline=true")
    assert shown.headers["content-disposition"].startswith("inline;")

    deleted = client.post(
        f"/orders/{order.id}/attachments/{attachment.id}/delete", headers={**HX, "X-CSRF-Token": token}
    )
    assert deleted.status_code == 200
    assert 'id="attachments"' in deleted.text
    assert session.get(OrderAttachment, attachment.id) is None


def test_a_file_that_is_not_what_it_claims_is_refused_with_a_clear_error(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    order = make_order()
    token = login(client, workshop_engineer)

    response = client.post(
        f"/orders/{order.id}/attachments",
        files={"file": ("photo.jpg", b"MZ\x90\x00 not a jpeg", "image/jpeg")},
        headers={**HX, "X-CSRF-Token": token},
    )

    assert response.status_code == 422
    assert "does not look like a JPEG file" in response.text
    assert session.scalars(select(OrderAttachment)).first() is None


def test_the_order_page_parts_are_served_as_fragments(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder, workshop: Workshop
) -> None:
    order = make_order()
    login(client, workshop_engineer)

    for part, marker in [
        ("header", 'id="order-header"'),
        ("costs", 'id="costs"'),
        ("checklist", 'id="checklist"'),
        ("attachments", 'id="attachments"'),
    ]:
        fragment = client.get(f"/orders/{order.id}?part={part}", headers=HX)
        assert fragment.status_code == 200
        assert marker in fragment.text
        assert "<html" not in fragment.text
    whole = client.get(f"/orders/{order.id}", headers=EN)
    assert workshop.name in whole.text
    assert client.get("/orders/999999", headers=EN).status_code == 404
