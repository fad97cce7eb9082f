"""Coverage on the hand-computed plant of ``lists_plant`` (2 of 3 valves in date on
2026-03-01), per workshop, against the 80% target, the trend chart and the home card."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from maintenance.assets.choices import AssetStatus
from maintenance.org.models import User
from tests.conftest import login
from tests.special.conftest import MakeItem, Report
from tests.special.lists_plant import AS_OF, Plant, more_valves, plant_fixture  # noqa: F401


def text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert match, testid
    return match.group(1).strip()


def test_coverage_overall_per_workshop_and_against_target(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    page = client.get("/special-equipment/coverage", params={"as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    assert text_of(page.text, "coverage-overall") == "66.67%"
    assert 'data-testid="coverage-counts" data-covered="2" data-total="3"' in page.text
    assert 'data-testid="target-80">' in page.text
    target_80 = page.text.split('data-testid="target-80"', 1)[1].split("</span></span>", 1)[0]
    assert 'data-met="false"' in target_80
    by_workshop = page.text.split('id="coverage-by-workshop"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r'data-row="([^"]+)".*?<td class="text-end">(\d+) / (\d+)</td><td[^>]*>([\d.]+%)</td>', by_workshop
    )
    assert rows == [
        (plant.workshop_a.name, "2", "2", "100.00%"),
        (plant.workshop_b.name, "0", "1", "0.00%"),
    ]
    assert '<div hx-get="/special-equipment/findings/indicator" hx-trigger="load"></div>' in page.text


def test_idle_equipment_is_not_counted(client: TestClient, manager: User, plant: Plant) -> None:
    plant.late.status = AssetStatus.IDLE  # reported to the regulator as stopped
    login(client, manager)
    page = client.get("/special-equipment/coverage", params={"as_of": AS_OF.isoformat()})
    assert text_of(page.text, "coverage-overall") == "100.00%"
    target_100 = page.text.split('data-testid="target-100"', 1)[1].split("</span></span>", 1)[0]
    assert 'data-met="true"' in target_100


def test_trend_has_twelve_month_ends_and_the_target_line(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    page = client.get("/special-equipment/coverage", params={"as_of": AS_OF.isoformat()})
    option = json.loads(
        page.text.split('<template id="coverage-trend" data-chart-option>', 1)[1].split("</template>")[0]
    )
    months = option["xAxis"]["data"]
    assert len(months) == 12
    assert (months[0], months[-2], months[-1]) == ("2025-04-30", "2026-02-28", "2026-03-01")
    # On 2026-02-28 SV-LATE (due 2026-01-15) was overdue, the others in date: 2 of 3.
    assert option["series"][0]["data"][-2] == 66.67
    assert option["series"][0]["markLine"]["data"] == [{"yAxis": 80.0}]


def test_home_card_shows_coverage_and_must_not_operate_count(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    card = client.get("/special-equipment/coverage/card", params={"as_of": AS_OF.isoformat()})
    assert card.status_code == 200
    assert "66.67%" in card.text
    assert text_of(card.text, "must-not-operate") == "1"
    assert 'hx-get="/special-equipment/coverage/card"' in client.get("/").text


def test_bad_reference_date_is_refused(client: TestClient, manager: User) -> None:
    login(client, manager)
    assert client.get("/special-equipment/coverage", params={"as_of": "2026-02-29"}).status_code == 422


def test_coverage_pages_run_a_fixed_number_of_queries(
    client: TestClient, manager: User, plant: Plant, make_item: MakeItem, report: Report, count_queries: list[str]
) -> None:
    login(client, manager)

    def counts() -> list[int]:
        found = []
        for path in ("/special-equipment/coverage", "/special-equipment/coverage/card"):
            count_queries.clear()
            assert client.get(path, params={"as_of": AS_OF.isoformat()}).status_code == 200
            found.append(len(count_queries))
        return found

    with_three = counts()
    more_valves(make_item, report, 4)
    assert counts() == with_three
