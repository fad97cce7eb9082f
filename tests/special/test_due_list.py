"""The due list on the hand-computed plant of ``lists_plant``: what is on it, by workshop, the
calendar, and the regulator's ledger (特种设备台账)."""

from __future__ import annotations

import io
import re
from datetime import date

from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook

from maintenance.org.models import User
from tests.conftest import login
from tests.special.conftest import MakeItem, Report
from tests.special.lists_plant import AS_OF, Plant, more_valves, plant_fixture  # noqa: F401

DUE_ROW = re.compile(r'data-testid="due-row" data-tag="([^"]+)" data-type="([^"]+)"')


def due_tags(html: str) -> list[str]:
    return [tag for tag, _code in DUE_ROW.findall(html)]


def test_due_list_holds_what_falls_due_within_90_days_and_the_overdue(
    client: TestClient, manager: User, plant: Plant, make_item: MakeItem, report: Report
) -> None:
    may = make_item(tag="SV-MAY", asset_class="VA", special_category="safety_valve")
    report(may, "SV-CALIBRATION", date(2025, 5, 20))  # due 2026-05-20: day 80 of 90
    login(client, manager)
    page = client.get("/special-equipment/due", params={"as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    # SV-OK (due 2026-09-10) is not on it; workshop A's rows come first (its code sorts first).
    assert due_tags(page.text) == ["SV-SOON", "SV-MAY", "SV-LATE"]
    sections = re.findall(r'data-workshop="(\d+)"', page.text)
    assert sections == [str(plant.workshop_a.id), str(plant.workshop_b.id)]
    assert re.findall(r'data-testid="workshop-count">(\d+)<', page.text) == ["2", "1"]
    # The application recorded for SV-SOON is shown; the overdue valve's standing too.
    assert "市特检院" in page.text
    assert 'data-standing="overdue"' in page.text
    shorter = client.get("/special-equipment/due", params={"as_of": AS_OF.isoformat(), "days": "60"})
    assert due_tags(shorter.text) == ["SV-SOON", "SV-LATE"]  # 2026-05-20 is 80 days away


def test_engineer_sees_own_workshops_due_list(client: TestClient, workshop_engineer: User, plant: Plant) -> None:
    login(client, workshop_engineer)
    assert due_tags(client.get("/special-equipment/due", params={"as_of": AS_OF.isoformat()}).text) == ["SV-SOON"]


def test_calendar_puts_inspections_on_their_due_days(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    page = client.get("/special-equipment/due", params={"as_of": AS_OF.isoformat(), "view": "calendar"})
    assert page.status_code == 200
    # March to May 2026 (2026-03-01 + 90 days = 2026-05-30).
    assert re.findall(r'data-month="([\d-]+)"', page.text) == ["2026-03-01", "2026-04-01", "2026-05-01"]
    march_21 = page.text.split('data-day="2026-03-21"', 1)[1].split("</td>", 1)[0]
    assert "SV-SOON" in march_21
    earlier = page.text.split('id="due-earlier"', 1)[1].split("</div>", 1)[0]
    assert "SV-LATE" in earlier


def test_bad_reference_date_is_refused(client: TestClient, manager: User) -> None:
    login(client, manager)
    assert client.get("/special-equipment/due", params={"as_of": "2026-13-01"}).status_code == 422


def cell_text(value: object) -> str:
    return str(value)[:10] if value not in ("", None) else ""


def test_ledger_has_the_regulators_layout(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    response = client.get("/special-equipment/due.xlsx", params={"as_of": AS_OF.isoformat()})
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "特种设备台账"
    assert cell_text(rows[1][1]) == "2026-03-01"
    assert rows[2] == [
        "序号", "使用单位(车间)", "设备名称", "设备类别", "设备品种", "位号", "使用登记证编号", "设备代码", "制造单位",
        "型号规格", "出厂编号", "投用日期", "检验类别", "上次检验日期", "检验机构", "检验结论", "安全状况等级",
        "下次检验日期", "申报截止日期", "状态", "备注",
    ]  # fmt: skip
    data = rows[3:]
    assert [row[5] for row in data] == ["SV-SOON", "SV-LATE"]
    late = data[1]
    assert late[0] == 2
    assert late[1] == plant.workshop_b.name
    assert (late[2], late[3], late[12]) == ("安全阀 SV-LATE", "安全阀", "安全阀校验")
    assert [cell_text(late[i]) for i in (11, 13, 17, 18)] == ["2022-06-15", "2025-01-15", "2026-01-15", "2025-12-15"]
    assert (late[14], late[15], late[19]) == ("市特检院", "符合要求", "超期未检")
    assert "2026-02-10" in data[0][20]  # SV-SOON's application in the remarks
    same = client.get("/special-equipment/due", params={"as_of": AS_OF.isoformat(), "format": "xlsx"})
    assert same.headers["X-Export-Rows"] == "2"


def test_full_register_ledger_holds_every_item(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    response = client.get("/special-equipment", params={"as_of": AS_OF.isoformat(), "export": "ledger"})
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    ok = [row for row in rows[3:] if row[5] == "SV-OK"]
    assert len(rows) - 3 == 3
    assert len(ok) == 1
    assert (ok[0][4], ok[0][6], ok[0][19]) == ("弹簧式", "容SV0001", "正常")


def test_due_pages_run_a_fixed_number_of_queries(
    client: TestClient, manager: User, plant: Plant, make_item: MakeItem, report: Report, count_queries: list[str]
) -> None:
    login(client, manager)
    on = {"as_of": AS_OF.isoformat()}
    requests = [
        ("/special-equipment/due", on),
        ("/special-equipment/due", on | {"view": "calendar"}),
        ("/special-equipment/due.xlsx", on),
    ]

    def counts() -> list[int]:
        found = []
        for path, params in requests:
            count_queries.clear()
            assert client.get(path, params=params).status_code == 200
            found.append(len(count_queries))
        return found

    with_three = counts()
    more_valves(make_item, report, 4)
    assert counts() == with_three
