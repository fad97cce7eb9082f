"""The key projects' list through the served app, on 12 June 2026: each project with its
progress, state, slippage and next milestone; filters, sorting, the CSV export of the same
rows; the empty state; the Gantt's data; a fixed number of queries whatever the number of
projects and milestones."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from maintenance.org.models import User, Workshop
from tests.conftest import login
from tests.scorecard.projects.conftest import MakeProject

LIST = "/scorecard/projects"


@pytest.fixture
def programme(make_project: MakeProject, workshop: Workshop, other_workshop: Workshop) -> None:
    """As of 12 June 2026:
    - KP-1 余热发电并网, due 31 May, both milestones done by 28 May: done, 0 days;
    - KP-2 1#主变扩容, due 31 July (aim 30 June), 1 of 3 done, next 设备到货 due 20 June: on track;
    - KP-3 二期改造碰头, due 31 May, 碰头 due 31 May undone: slipping 12 days;
    - KP-4 cancelled; KP-5 starts 1 July: not started."""
    make_project("KP-1", date(2026, 5, 31), [("主体完工", date(2026, 4, 30), date(2026, 4, 28)),
                 ("并网", date(2026, 5, 31), date(2026, 5, 28))], name="余热发电并网", owner="张工",
                 workshop_id=workshop.id)  # fmt: skip
    make_project("KP-2", date(2026, 7, 31), [("设计审查", date(2026, 3, 15), date(2026, 3, 14)),
                 ("设备到货", date(2026, 6, 20), None), ("投运", date(2026, 7, 31), None)],
                 name="1#主变扩容", owner="李工", aim_date=date(2026, 6, 30), workshop_id=workshop.id)  # fmt: skip
    make_project("KP-3", date(2026, 5, 31), [("碰头", date(2026, 5, 31), None)], name="二期改造碰头", owner="王工",
                 workshop_id=other_workshop.id)  # fmt: skip
    make_project("KP-4", date(2026, 9, 30), [], name="取消项目", cancelled=True)
    make_project("KP-5", date(2026, 12, 31), [("启动", date(2026, 8, 1), None)], name="无泄漏创建",
                 start_date=date(2026, 7, 1))  # fmt: skip


def _rows(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<tr data-code="([^"]+)" data-state="([^"]+)" data-slippage="([^"]+)"', html)


def test_each_project_with_its_progress_state_slippage_and_next_milestone(
    client: TestClient, manager: User, today: date, programme: None
) -> None:
    login(client, manager)

    page = client.get(f"{LIST}?year=2026")

    assert page.status_code == 200
    assert _rows(page.text) == [  # by due date, then code
        ("KP-1", "done", "0"),
        ("KP-3", "slipping", "12"),
        ("KP-2", "on_track", "0"),
        ("KP-4", "cancelled", "0"),
        ("KP-5", "not_started", "0"),
    ]
    assert 'data-progress="2/2"' in page.text
    assert 'data-progress="1/3"' in page.text
    assert "设备到货" in page.text  # KP-2's next milestone


def test_the_year_defaults_to_the_plant_day_s(
    client: TestClient, manager: User, today: date, programme: None, make_project: MakeProject
) -> None:
    make_project("KP-9", date(2025, 12, 31), [], year=2025, start_date=date(2025, 1, 1))
    login(client, manager)

    assert [code for code, _state, _slip in _rows(client.get(LIST).text)] == ["KP-1", "KP-3", "KP-2", "KP-4", "KP-5"]
    assert [code for code, _s, _d in _rows(client.get(f"{LIST}?year=2025").text)] == ["KP-9"]


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("&state=slipping", ["KP-3"]),
        ("&q=主变", ["KP-2"]),
        ("&q=王工", ["KP-3"]),
        ("&sort=-slippage", ["KP-3", "KP-1", "KP-2", "KP-4", "KP-5"]),
        ("&sort=code", ["KP-1", "KP-2", "KP-3", "KP-4", "KP-5"]),
        ("&sort=-progress", ["KP-1", "KP-2", "KP-3", "KP-5", "KP-4"]),
    ],
)
def test_filters_and_sorting(
    client: TestClient, manager: User, today: date, programme: None, query: str, codes: list[str]
) -> None:
    login(client, manager)

    fragment = client.get(f"{LIST}?year=2026{query}", headers={"HX-Request": "true"})

    assert fragment.status_code == 200
    assert "<html" not in fragment.text  # the htmx fragment
    assert [code for code, _state, _slip in _rows(fragment.text)] == codes


def test_a_workshop_filter(
    client: TestClient, manager: User, today: date, programme: None, other_workshop: Workshop
) -> None:
    login(client, manager)

    page = client.get(f"{LIST}?year=2026&workshop_id={other_workshop.id}")

    assert [code for code, _s, _d in _rows(page.text)] == ["KP-3"]


def test_an_empty_year_says_so(client: TestClient, auditor: User, today: date) -> None:
    client.cookies.set("lang", "en")
    login(client, auditor)

    page = client.get(f"{LIST}?year=2027")

    assert page.status_code == 200
    assert "No key projects match the filter." in page.text
    assert "New key project" not in page.text  # auditors read only


def test_the_gantt_of_the_year_charts_every_project_but_the_cancelled(
    client: TestClient, manager: User, today: date, programme: None
) -> None:
    login(client, manager)

    page = client.get(f"{LIST}?year=2026")
    match = re.search(r'<script type="application/json" id="project-gantt-data">(.*?)</script>', page.text, re.S)
    assert match
    chart = json.loads(match.group(1))

    assert chart["today"] == "2026-06-12"
    assert (chart["start"], chart["end"]) == ("2026-01-01", "2026-12-31")
    by_label = {row["label"]: row for row in chart["rows"]}
    assert set(by_label) == {"KP-1 余热发电并网", "KP-2 1#主变扩容", "KP-3 二期改造碰头", "KP-5 无泄漏创建"}
    slipping = by_label["KP-3 二期改造碰头"]
    # planned 1 January → 31 May; forecast to today (its milestone is overdue), still open
    assert (slipping["planned_start"], slipping["planned_finish"]) == ("2026-01-01", "2026-05-31")
    assert (slipping["actual_finish"], slipping["actual_open"], slipping["colour"]) == ("2026-06-12", True, "danger")
    done = by_label["KP-1 余热发电并网"]
    assert (done["actual_finish"], done["actual_open"]) == ("2026-05-28", False)
    assert done["marks"] == [{"date": "2026-04-28", "done": True}, {"date": "2026-05-28", "done": True}]
    assert by_label["KP-5 无泄漏创建"]["actual_start"] is None  # not begun


def test_the_csv_export_holds_the_filtered_rows_in_the_list_s_order(
    client: TestClient, manager: User, today: date, programme: None
) -> None:
    client.cookies.set("lang", "en")
    login(client, manager)

    response = client.get(f"{LIST}?year=2026&sort=-slippage&q=KP-&export=csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Code", "Project", "Workshop"]
    assert [row[0] for row in rows[1:]] == ["KP-3", "KP-1", "KP-2", "KP-4", "KP-5"]
    kp3 = rows[1]
    assert kp3[5] == "2026-05-31"  # due
    assert kp3[7:12] == ["0", "1", "Slipping", "2026-06-12", "12"]  # done, milestones, state, forecast, days
    assert kp3[12:] == ["碰头", "2026-05-31"]


def test_the_xlsx_export_and_a_bad_format(client: TestClient, manager: User, today: date, programme: None) -> None:
    login(client, manager)

    xlsx = client.get(f"{LIST}?year=2026&export=xlsx")
    bad = client.get(f"{LIST}?year=2026&export=pdf")

    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    assert bad.status_code == 422


def test_the_list_runs_the_same_queries_for_two_projects_or_twenty(
    client: TestClient, manager: User, today: date, make_project: MakeProject, count_queries: list[str]
) -> None:
    def add(first: int, count: int) -> None:
        for number in range(first, first + count):
            milestones = [("a", date(2026, 3, 1), None), ("b", date(2026, 9, 1), None)]
            make_project(f"Q-{number:02}", date(2026, 9, 30), milestones)

    def queries() -> int:
        count_queries.clear()
        assert client.get(f"{LIST}?year=2026").status_code == 200
        return len(count_queries)

    login(client, manager)
    add(1, 2)
    few = queries()
    add(3, 18)
    many = queries()

    assert many == few
