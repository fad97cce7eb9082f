"""An asset page's accidents tab: the accident register's records on that asset, every year's, the
latest first, with their open actions, pulled in by htmx from the register; a button to record one
for those who may write in the asset's workshop; a fixed number of queries however many there are."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from maintenance.assets.models import Asset
from maintenance.org.models import User
from maintenance.scorecard.accidents.models import AccidentAction, AccidentClass
from tests.conftest import login
from tests.scorecard.accidents.conftest import Record


def _titles(html: str) -> list[str]:
    return re.findall(r'<tr data-accident="([^"]+)"', html)


def test_the_asset_page_offers_the_tab_that_pulls_the_register_in(
    client: TestClient, auditor: User, pump: Asset
) -> None:
    login(client, auditor)

    page = client.get(f"/assets/{pump.id}?tab=accidents")

    assert page.status_code == 200
    assert f'hx-get="/assets/{pump.id}/accidents"' in page.text


def test_the_asset_s_accidents_of_every_year_latest_first_with_open_actions(
    client: TestClient,
    auditor: User,
    pump: Asset,
    other_pump: Asset,
    record: Record,
    add_action: Callable[..., AccidentAction],
) -> None:
    fire = record(pump, "2026-03-05", AccidentClass.GENERAL, title="机封泄漏着火")
    record(pump, "2024-11-20", AccidentClass.INCIDENT, title="前年振动高联锁")
    record(pump, "2025-06-01", AccidentClass.SERIOUS, title="去年轴承烧毁")
    record(other_pump, "2026-04-11", AccidentClass.GENERAL, title="别的泵抱轴")
    add_action(fire, "更换机封冲洗管线")
    add_action(fire, "改巡检频次")
    login(client, auditor)

    tab = client.get(f"/assets/{pump.id}/accidents")

    assert tab.status_code == 200
    assert _titles(tab.text) == ["机封泄漏着火", "去年轴承烧毁", "前年振动高联锁"]
    assert '<span class="badge text-bg-warning">2</span>' in tab.text  # the fire's two open actions
    assert "3 起事故和事件" in tab.text
    assert 'data-testid="record-accident"' not in tab.text  # auditors write nothing


@pytest.mark.parametrize(("engineer", "may_record"), [("own_engineer", True), ("other_engineer", False)])
def test_an_engineer_of_the_asset_s_workshop_may_record_one_from_the_tab(
    client: TestClient, request: pytest.FixtureRequest, engineer: str, may_record: bool, pump: Asset
) -> None:
    login(client, request.getfixturevalue(engineer))

    tab = client.get(f"/assets/{pump.id}/accidents")

    assert (f'href="/scorecard/accidents/new?asset_tag={pump.tag}"' in tab.text) is may_record
    assert "这台设备没有事故或事件记录。" in tab.text  # the empty state


def test_the_tab_runs_the_same_queries_for_one_accident_as_for_thirty(
    client: TestClient, auditor: User, pump: Asset, record: Record, count_queries: list[str]
) -> None:
    login(client, auditor)
    record(pump, "2026-01-01")

    def queries() -> int:
        count_queries.clear()
        assert client.get(f"/assets/{pump.id}/accidents").status_code == 200
        return len(count_queries)

    with_one = queries()
    for day in range(2, 31):
        record(pump, f"2026-01-{day:02}")
    with_thirty = queries()
    tab = client.get(f"/assets/{pump.id}/accidents")

    assert with_thirty == with_one
    assert len(_titles(tab.text)) == 20  # the latest 20, and how many there are
    assert "最近 20 起，共 30 起事故和事件。" in tab.text


def test_an_unknown_asset_is_a_404_page(client: TestClient, auditor: User) -> None:
    login(client, auditor)

    response = client.get("/assets/999999/accidents")

    assert response.status_code == 404
    assert "ID 为 999999 的设备不存在。" in response.text  # the asset is named, not a bare "not found"
