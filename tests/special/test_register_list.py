"""The special-equipment register list: rows, standings, filters, chips, exports and the
engineer's default workshops, on the hand-computed plant of ``lists_plant``."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient

from maintenance.org.models import User
from tests.conftest import login
from tests.special.conftest import MakeItem, Report
from tests.special.lists_plant import AS_OF, Plant, more_valves, plant_fixture  # noqa: F401

ROW_TAG = re.compile(r'data-testid="register-row" data-tag="([^"]+)"')


def tags(html: str) -> list[str]:
    return ROW_TAG.findall(html)


def chip_count(html: str, standing: str) -> int:
    match = re.search(rf'data-count="{standing}">(\d+)<', html)
    assert match, standing
    return int(match.group(1))


def test_register_lists_every_item_worst_due_first_with_standings(
    client: TestClient, manager: User, plant: Plant
) -> None:
    login(client, manager)
    page = client.get("/special-equipment", params={"as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    assert tags(page.text) == ["SV-LATE", "SV-SOON", "SV-OK"]  # due 2026-01-15, 03-21, 09-10
    assert (chip_count(page.text, "ok"), chip_count(page.text, "due_soon"), chip_count(page.text, "overdue")) == (
        1,
        1,
        1,
    )
    assert f'href="/special-equipment/{plant.late.id}"' in page.text
    assert "容SV0001" in page.text


def test_register_filters_by_standing_and_search_and_sorts_by_tag(
    client: TestClient, manager: User, plant: Plant
) -> None:
    login(client, manager)
    on = {"as_of": AS_OF.isoformat()}
    assert tags(client.get("/special-equipment", params=on | {"standing": "overdue"}).text) == ["SV-LATE"]
    searched = client.get("/special-equipment", params=on | {"q": "sv0001"})
    assert tags(searched.text) == ["SV-OK"]  # found by its certificate number
    # The chips count what the search leaves.
    assert chip_count(searched.text, "ok") == 1
    assert chip_count(searched.text, "overdue") == 0
    assert tags(client.get("/special-equipment", params=on | {"sort": "tag"}).text) == ["SV-LATE", "SV-OK", "SV-SOON"]
    assert tags(client.get("/special-equipment", params=on | {"sort": "-standing"}).text) == [
        "SV-OK",
        "SV-SOON",
        "SV-LATE",
    ]


def test_engineer_sees_own_workshops_by_default_and_may_choose_all(
    client: TestClient, workshop_engineer: User, plant: Plant
) -> None:
    login(client, workshop_engineer)
    on = {"as_of": AS_OF.isoformat()}
    assert tags(client.get("/special-equipment", params=on).text) == ["SV-SOON", "SV-OK"]
    assert tags(client.get("/special-equipment", params=on | {"workshop_id": "all"}).text) == [
        "SV-LATE",
        "SV-SOON",
        "SV-OK",
    ]
    chosen = on | {"workshop_id": str(plant.workshop_b.id)}
    assert tags(client.get("/special-equipment", params=chosen).text) == ["SV-LATE"]


def test_register_shows_empty_state_when_nothing_matches(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    page = client.get("/special-equipment", params={"q": "no-such-tag"})
    assert page.status_code == 200
    assert tags(page.text) == []
    assert "bi-inbox" in page.text


def test_registration_missing_is_flagged(client: TestClient, manager: User, make_item: MakeItem) -> None:
    make_item(tag="V-NEW")  # commissioned 2022-06-15, never registered
    login(client, manager)
    page = client.get("/special-equipment", params={"as_of": AS_OF.isoformat()})
    assert 'data-testid="registration-missing"' in page.text


def test_bad_reference_date_is_refused_with_422_page(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    for bad in ("2026-02-30", "yesterday", "9999-12-31"):
        response = client.get("/special-equipment", params={"as_of": bad})
        assert response.status_code == 422, bad
        assert "<html" in response.text.lower()


def test_csv_export_holds_the_filtered_rows(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    response = client.get(
        "/special-equipment", params={"as_of": AS_OF.isoformat(), "export": "csv", "standing": "overdue"}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    late = rows[1]
    assert late[0] == "SV-LATE"
    assert late[2] == plant.workshop_b.name
    assert late[6:9] == ["2025-01-15", "2026-01-15", "2025-12-15"]  # last, due, apply by


def test_register_page_and_exports_run_a_fixed_number_of_queries(
    client: TestClient,
    manager: User,
    plant: Plant,
    make_item: MakeItem,
    report: Report,
    count_queries: list[str],
) -> None:
    login(client, manager)
    requests = [
        {"as_of": AS_OF.isoformat()},
        {"as_of": AS_OF.isoformat(), "export": "csv"},
        {"as_of": AS_OF.isoformat(), "export": "xlsx"},
        {"as_of": AS_OF.isoformat(), "export": "ledger"},
    ]

    def counts() -> list[int]:
        found = []
        for params in requests:
            count_queries.clear()
            assert client.get("/special-equipment", params=params).status_code == 200
            found.append(len(count_queries))
        return found

    with_three = counts()
    more_valves(make_item, report, 4)
    assert counts() == with_three
