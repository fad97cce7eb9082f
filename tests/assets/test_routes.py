"""The asset pages as users meet them: list with filters, sort and pages; the asset page;
create, edit (with the stale-edit 409) and status changes."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from maintenance.assets import service
from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.assets.conftest import MakeAsset
from tests.conftest import login


def _manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


def _field_errors(page: str) -> dict[str, str]:
    """The message shown under each field marked invalid on a form page, by field name."""
    field_then_message = r'id="f-(\w+)"[^>]*>(?:(?!id="f-).)*?<div class="invalid-feedback d-block">([^<]*)</div>'
    return dict(re.findall(field_then_message, page, re.S))


def test_engineer_filters_the_list_and_gets_only_the_table_from_htmx(
    client: TestClient, engineer: User, make_asset: MakeAsset
) -> None:
    make_asset(tag="P-1101A", name="循环水泵")
    make_asset(tag="E-2101", name="换热器")
    login(client, engineer)
    response = client.get("/assets", params={"q": "xhsb"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "P-1101A" in response.text
    assert "E-2101" not in response.text
    assert "<html" not in response.text  # the fragment, not the page
    assert "navbar" not in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_list_sorts_by_a_column_in_both_directions(client: TestClient, engineer: User, make_asset: MakeAsset) -> None:
    for tag in ("B-2", "A-1", "C-3"):
        make_asset(tag=tag)
    login(client, engineer)
    ascending = client.get("/assets", params={"sort": "tag"}).text
    descending = client.get("/assets", params={"sort": "-tag"}).text
    assert ascending.index("A-1") < ascending.index("B-2") < ascending.index("C-3")
    assert descending.index("C-3") < descending.index("B-2") < descending.index("A-1")


def test_list_page_runs_the_same_number_of_queries_for_few_or_many_assets(
    client: TestClient, engineer: User, make_asset: MakeAsset, count_queries: list[str]
) -> None:
    login(client, engineer)
    parent = make_asset(tag="P-0")
    make_asset(tag="PM-0", parent_id=parent.id)
    count_queries.clear()
    client.get("/assets")
    few = len(count_queries)
    for n in range(40):
        make_asset(tag=f"X-{n}", parent_id=parent.id if n % 2 else None)
    count_queries.clear()
    client.get("/assets")
    assert len(count_queries) == few


def test_a_bad_filter_in_a_hand_edited_url_is_ignored_not_an_error(client: TestClient, engineer: User) -> None:
    login(client, engineer)
    assert client.get("/assets", params={"status": "broken", "workshop_id": "x", "sort": "evil"}).status_code == 200


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineers_and_auditors_cannot_create_assets(
    client: TestClient, session: Session, workshop: Workshop, role: Role
) -> None:
    token = login(client, factories.UserFactory(role=role))
    assert client.get("/assets/new").status_code == 403
    form = {"csrf_token": token, "tag": "P-901", "name": "进料泵", "asset_class": "PU", "workshop_id": str(workshop.id)}
    assert client.post("/assets/new", data=form).status_code == 403
    assert service.get_asset_by_tag(session, "P-901") is None


def test_manager_creates_an_asset_and_sees_errors_named_by_field(
    client: TestClient, session: Session, workshop: Workshop, make_asset: MakeAsset
) -> None:
    parent = make_asset(tag="P-101")
    token = login(client, _manager(session))
    form = {
        "csrf_token": token,
        "tag": "P-101",
        "name": "进料泵",
        "asset_class": "PU",
        "workshop_id": str(workshop.id),
        "original_value_cny": "-5",
        "parent_tag": "NOPE",
    }
    refused = client.post("/assets/new", data=form)
    assert refused.status_code == 422
    assert _field_errors(refused.text) == {
        "parent_tag": "没有位号为 NOPE 的设备。",
        "original_value_cny": "不能小于 0。",
    }
    duplicate = client.post("/assets/new", data=form | {"original_value_cny": "35000", "parent_tag": ""})
    assert duplicate.status_code == 422
    assert _field_errors(duplicate.text) == {"tag": "本厂区已存在位号 P-101。"}
    assert session.scalars(select(Asset).where(col(Asset.name) == "进料泵")).all() == []  # nothing saved

    form |= {"tag": "P-102", "original_value_cny": "35000", "parent_tag": "P-101"}
    created = client.post("/assets/new", data=form)
    assert created.status_code == 303
    stored = service.get_asset_by_tag(session, "P-102")
    assert stored is not None
    assert created.headers["location"] == f"/assets/{stored.id}"
    assert (stored.name, stored.workshop_id, stored.original_value_cny) == ("进料泵", workshop.id, Decimal("35000.00"))
    assert stored.parent_id == parent.id
    page = client.get(created.headers["location"]).text
    assert "P-102" in page
    assert "进料泵" in page
    components = client.get(f"/assets/{parent.id}", params={"tab": "components"}).text
    assert f'href="/assets/{stored.id}"' in components


def test_a_useful_life_of_zero_years_is_refused_on_the_form(
    client: TestClient, session: Session, workshop: Workshop
) -> None:
    token = login(client, _manager(session))
    form = {
        "csrf_token": token,
        "tag": "P-201",
        "name": "进料泵",
        "asset_class": "PU",
        "workshop_id": str(workshop.id),
        "useful_life_years": "0",
    }
    refused = client.post("/assets/new", data=form)
    assert refused.status_code == 422
    assert "折旧年限至少为1年" in refused.text
    assert '<input class="form-control is-invalid" id="f-useful_life_years"' in refused.text


def test_a_stale_edit_gets_a_409_page_showing_what_changed(
    client: TestClient, session: Session, make_asset: MakeAsset
) -> None:
    asset = make_asset(name="旧名称")
    token = login(client, _manager(session))
    form = {
        "csrf_token": token,
        "version": "1",
        "tag": asset.tag,
        "asset_class": "PU",
        "workshop_id": str(asset.workshop_id),
    }
    assert client.post(f"/assets/{asset.id}/edit", data=form | {"name": "第一次修改"}).status_code == 303
    stale = client.post(f"/assets/{asset.id}/edit", data=form | {"name": "过时的修改"})
    assert stale.status_code == 409
    assert "第一次修改" in stale.text
    assert "过时的修改" in stale.text


def test_status_form_cascades_to_components(client: TestClient, session: Session, make_asset: MakeAsset) -> None:
    pump = make_asset(tag="P-1")
    motor = make_asset(tag="PM-1", parent_id=pump.id)
    token = login(client, _manager(session))
    response = client.post(
        f"/assets/{pump.id}/status", data={"csrf_token": token, "status": "under_repair", "cascade": "yes"}
    )
    assert response.status_code == 303
    session.refresh(motor)
    assert motor.status == AssetStatus.UNDER_REPAIR


def test_asset_page_shows_details_components_and_history_tabs(
    client: TestClient, engineer: User, make_asset: MakeAsset
) -> None:
    pump = make_asset(tag="P-1", name="循环水泵")
    make_asset(tag="PM-1", name="电机", parent_id=pump.id)
    login(client, engineer)
    assert "循环水泵" in client.get(f"/assets/{pump.id}").text
    assert "PM-1" in client.get(f"/assets/{pump.id}", params={"tab": "components"}).text
    history = client.get(f"/audit/history/asset/{pump.id}", headers={"HX-Request": "true"})
    assert history.status_code == 200
    assert "P-1" in history.text


def test_asset_page_of_plain_equipment_has_no_statutory_inspections_tab(
    client: TestClient, engineer: User, make_asset: MakeAsset
) -> None:
    """The statutory inspection records (检验记录) are special equipment's; no tab says that
    orders and monitoring, which exist, are coming. A link to the tab shows the details."""
    pump = make_asset(tag="P-1", name="循环水泵")
    login(client, engineer)

    page = client.get(f"/assets/{pump.id}", params={"tab": "inspections"})

    assert page.status_code == 200
    assert "?tab=inspections" not in page.text
    assert "模块上线后" not in page.text
    assert 'href="?tab=details" role="tab" aria-selected="true"' in page.text
    assert 'href="?tab=orders"' in page.text
    assert 'href="?tab=readings"' in page.text


def test_unknown_asset_is_a_404_page(client: TestClient, engineer: User) -> None:
    login(client, engineer)
    response = client.get("/assets/999999")
    assert response.status_code == 404
    assert 'data-testid="error-page"' in response.text
