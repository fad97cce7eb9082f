"""The certification board (/leakfree/board) on the hand-computed plant of ``board_plant``."""

from __future__ import annotations

import io
import json
import re
from datetime import date

from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook

from maintenance.org.models import User, Workshop
from tests import factories
from tests.conftest import login
from tests.leakfree.board_plant import Board, board_fixture, more_workshops  # noqa: F401
from tests.leakfree.conftest import Certify, MakeSurvey

BOARD = "/leakfree/board"


def standings(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-testid="board-row" data-code="([^"]+)" data-standing="([^"]+)"', html)


def counts(html: str) -> dict[str, int]:
    return {code: int(n) for code, n in re.findall(r'data-count="([a-z_]+)">(\d+)<', html)}


def test_the_board_on_30_june_is_on_track(client: TestClient, manager: User, board: Board) -> None:
    login(client, manager)
    page = client.get(BOARD, params={"as_of": "2026-06-30"})
    assert page.status_code == 200
    assert standings(page.text) == [
        ("W1", "certified"),
        ("W2", "certified"),
        ("W3", "in_assessment"),
        ("W4", "at_risk"),
        ("W5", "not_started"),
    ]
    assert counts(page.text) == {"certified": 2, "at_risk": 1, "in_assessment": 1, "not_started": 1}
    assert 'data-certified="3" data-workshops="5"' in page.text
    assert "(60.00%)" in page.text
    assert 'data-milestone="2026-06-30" data-required="3" data-reached="true" data-current="true"' in page.text
    assert 'data-milestone="2026-12-31" data-required="5" data-reached="false"' in page.text
    assert 'data-on-track="true"' in page.text
    w1 = page.text.split('data-code="W1"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="certified-date">2026/3/15<' in w1
    assert 'data-testid="valid-until">2027/3/14<' in w1


def test_before_the_third_certificate_the_board_is_behind(client: TestClient, manager: User, board: Board) -> None:
    login(client, manager)
    page = client.get(BOARD, params={"as_of": "2026-06-19"})
    assert 'data-certified="2" data-workshops="5"' in page.text
    assert 'data-milestone="2026-06-30" data-required="3" data-reached="false" data-current="true"' in page.text
    assert 'data-on-track="false"' in page.text
    assert ("W2", "in_assessment") in standings(page.text)


def test_from_1_july_the_year_end_target_counts(client: TestClient, manager: User, board: Board) -> None:
    login(client, manager)
    page = client.get(BOARD, params={"as_of": "2026-07-01"})
    assert 'data-milestone="2026-12-31" data-required="5" data-reached="false" data-current="true"' in page.text
    assert 'data-on-track="false"' in page.text


def test_the_chart_counts_certified_workshops_at_each_month_end(
    client: TestClient, manager: User, board: Board
) -> None:
    login(client, manager)
    page = client.get(BOARD, params={"as_of": "2026-06-30"})
    raw = page.text.split('<template id="certified-by-month" data-chart-option>', 1)[1].split("</template>")[0]
    option = json.loads(raw)
    assert option["xAxis"]["data"] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2026-05-31",
        "2026-06-30",
    ]
    assert option["series"][0]["data"] == [0, 1, 2, 2, 2, 3]
    assert [line["yAxis"] for line in option["series"][0]["markLine"]["data"]] == [3, 5]


def test_the_board_exports_as_a_workbook(client: TestClient, auditor: User, board: Board) -> None:
    login(client, auditor)
    response = client.get(BOARD, params={"as_of": "2026-06-30", "export": "xlsx"})
    assert response.status_code == 200
    assert response.headers["X-Export-Rows"] == "5"
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    about = {row[0]: row[1] for row in workbook.get_sheet_by_index(0).to_python() if len(row) > 1 and row[0]}
    assert about["已认证"] == 3
    assert about["其中有风险"] == 1
    assert about["届时应认证数"] == 3
    assert about["是否达进度"] == "是"
    rows = workbook.get_sheet_by_index(1).to_python()
    assert rows[0] == [
        "车间代码", "车间", "认证状态", "在办申请", "申请日期", "认证日期", "有效期至", "最近检测日期", "是否达标",
    ]  # fmt: skip
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["W3"][2:4] == ["创建中", "已申请"]
    assert by_code["W4"][2] == "已认证·有风险"
    assert by_code["W4"][8] == "否"
    assert str(by_code["W1"][6])[:10] == "2027-03-14"
    assert by_code["W5"][2] == "未启动"


def test_an_htmx_request_gets_the_board_alone(client: TestClient, manager: User, board: Board) -> None:
    login(client, manager)
    fragment = client.get(BOARD, params={"as_of": "2026-06-30"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert 'id="board-table"' in fragment.text


def test_the_board_runs_a_fixed_number_of_queries(
    client: TestClient,
    manager: User,
    board: Board,
    make_survey: MakeSurvey,
    certify: Certify,
    count_queries: list[str],
) -> None:
    login(client, manager)

    def queries() -> list[int]:
        found = []
        for params in ({"as_of": "2026-06-30"}, {"as_of": "2026-06-30", "export": "xlsx"}):
            count_queries.clear()
            assert client.get(BOARD, params=params).status_code == 200
            found.append(len(count_queries))
        return found

    with_five = queries()
    more_workshops(make_survey, certify, 4)
    assert queries() == with_five


def test_a_milestone_already_past_is_judged_on_its_own_day(
    client: TestClient, manager: User, workshop: Workshop, certify: Certify
) -> None:
    """Of two workshops, one certified on 1 March and revoked on 1 August: on 1 October none is
    certified, but the 30 June milestone (1 of 2) was reached on its day."""
    factories.WorkshopFactory()
    certify(date(2026, 2, 1), certified=date(2026, 3, 1), revoked=date(2026, 8, 1))
    login(client, manager)

    page = client.get(BOARD, params={"as_of": "2026-10-01"}).text

    assert 'data-certified="0" data-workshops="2"' in page
    assert 'data-milestone="2026-06-30" data-required="1" data-reached="true"' in page
    assert 'data-milestone="2026-12-31" data-required="2" data-reached="false" data-current="true"' in page
