"""The operating log's pages through the served app: the year's grid (page, fragment, exports,
a fixed number of queries) and a month's form (saved at once; 422 naming unit and field, 403
for another workshop's unit or an auditor, 409 for a row saved meanwhile, a future month refused)."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from maintenance.assets.choices import AssetStatus
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.org.models import Unit, User, Workshop
from maintenance.scorecard.operating import routes
from maintenance.scorecard.operating.models import OperatingMonth
from tests import factories
from tests.conftest import login
from tests.scorecard.operating.conftest import LogRow, MakeAsset, MakeCm, plant

LIST = "/scorecard/operating"
MARCH_15 = "year=2026&as_of=2026-03-15"
TODAY = date(2026, 3, 15)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "plant_today", lambda: TODAY)


@pytest.fixture
def january(unit: Unit, second_unit: Unit, other_unit: Unit, log_row: LogRow) -> None:
    log_row(unit, 1, "744", "744", "100")
    log_row(second_unit, 1, "372", "744", "80")
    log_row(unit, 2, "600", "672", "90")
    # other_unit reports nothing: not a zero anywhere


def _cell(html: str, unit: str, month: int) -> str:
    row = re.search(rf'<tr data-unit="{unit}">(.*?)</tr>', html, re.S)
    assert row, unit
    cell = re.search(rf'data-month="{month}">(.*?)</td>', row.group(1), re.S)
    assert cell
    return re.sub(r"<[^>]+>|\s", "", cell.group(1))


def _rate(html: str, unit: str, name: str) -> str:
    row = re.search(rf'<tr data-unit="{unit}">(.*?)</tr>', html, re.S)
    assert row
    cell = re.search(rf'data-rate="{name}">(.*?)</td>', row.group(1), re.S)
    assert cell
    return re.sub(r"<[^>]+>|\s", "", cell.group(1))


def _changes(session: Session) -> list[ChangeAction]:
    stmt = select(ObjectChange.action).where(col(ObjectChange.object_type) == "operating_month")
    return list(session.exec(stmt))


def _rows(session: Session) -> dict[tuple[int, int], tuple[Decimal, Decimal, Decimal]]:
    return {
        (row.unit_id, row.month.month): (row.hours_run, row.planned_hours, row.load_pct)
        for row in session.exec(select(OperatingMonth))
    }


# --- The grid -------------------------------------------------------------------------------------


def test_the_grid_shows_each_cell_and_the_rates_of_units_months_and_plant(
    client: TestClient, manager: User, january: None, other_unit: Unit
) -> None:
    login(client, manager)

    page = client.get(f"{LIST}?{MARCH_15}")

    assert page.status_code == 200
    html = page.text
    assert _cell(html, "AMM", 1) == "744/744100.0%"
    assert _cell(html, "URE", 1) == "372/74480.0%"
    assert _cell(html, "PWR", 1) == "—"
    # AMM: (744 + 600) / (744 + 672) = 1344 / 1416 = 94.9 %; load (100 × 744 + 90 × 600) / 1344 = 95.5 %
    assert _rate(html, "AMM", "continuous_run") == "94.9%"
    assert _rate(html, "AMM", "load") == "95.5%"
    assert _rate(html, "PWR", "continuous_run") == "—"
    # Plant: (744 + 372 + 600) / (744 + 744 + 672) = 1716 / 2160 = 79.4 %
    summary = re.search(r'id="operating-summary">(.*?)</span>\s*<span', html, re.S)
    assert summary
    assert 'data-rate="continuous_run">79.4%' in summary.group(1)
    # January: 1116 / 1488 = 75.0 %
    totals = re.search(r'data-totals="continuous_run">(.*?)</tr>', html, re.S)
    assert totals
    assert re.sub(r"<[^>]+>|\s", "|", totals.group(1)).count("75.0%") == 1


def test_the_grid_shows_intactness_per_workshop(
    client: TestClient,
    manager: User,
    unit: Unit,
    workshop: Workshop,
    other_workshop: Workshop,
    make_asset: MakeAsset,
    make_cm: MakeCm,
) -> None:
    for _ in range(3):
        make_asset(workshop)
    failed = make_asset(workshop)
    make_cm(failed, raised=plant(2026, 3, 1))
    make_asset(other_workshop)
    login(client, manager)

    html = client.get(f"{LIST}?{MARCH_15}").text

    table = re.search(r'id="intactness-table">(.*?)</table>', html, re.S)
    assert table
    cells = re.sub(r"<[^>]+>|\s+", " ", table.group(1)).split()
    syn, utl = cells.index("合成车间"), cells.index("公用工程车间")
    assert cells[syn : syn + 4] == ["合成车间", "4", "3", "75.0%"]
    assert cells[utl : utl + 4] == ["公用工程车间", "1", "1", "100.0%"]


def test_the_htmx_fragment_is_the_results_and_a_workshop_filter_narrows_the_units(
    client: TestClient, manager: User, january: None, other_workshop: Workshop
) -> None:
    login(client, manager)

    fragment = client.get(f"{LIST}?{MARCH_15}&workshop_id={other_workshop.id}", headers={"HX-Request": "true"})

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'data-unit="PWR"' in fragment.text
    assert 'data-unit="AMM"' not in fragment.text


def test_a_fixed_number_of_queries_whatever_the_units_and_months(
    client: TestClient, manager: User, workshop: Workshop, log_row: LogRow, count_queries: list[str]
) -> None:
    def add(count: int) -> None:
        for _ in range(count):
            unit = factories.UnitFactory(workshop_id=workshop.id)
            for month in (1, 2, 3):
                log_row(unit, month, "700", "744", "90")

    def queries() -> int:
        count_queries.clear()
        assert client.get(f"{LIST}?{MARCH_15}").status_code == 200
        return len(count_queries)

    login(client, manager)
    add(1)
    few = queries()
    add(20)
    many = queries()

    assert many == few


def test_the_csv_export_holds_each_unit_month_reported(
    client: TestClient, auditor: User, january: None, english: None
) -> None:
    client.cookies.set("lang", "en")
    login(client, auditor)

    response = client.get(f"{LIST}?{MARCH_15}&export=csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:7] == [
        "Workshop",
        "Unit code",
        "Unit",
        "Month",
        "Hours run",
        "Planned hours",
        "Average load, percent",
    ]
    assert [row[1:4] for row in rows[1:]] == [
        ["AMM", "合成氨装置", "2026-01"],
        ["AMM", "合成氨装置", "2026-02"],
        ["URE", "尿素装置", "2026-01"],
    ]
    assert [Decimal(v) for v in rows[3][4:7]] == [Decimal("372.0"), Decimal("744.0"), Decimal("80.0")]


def test_the_xlsx_export_is_a_workbook(client: TestClient, manager: User, january: None) -> None:
    login(client, manager)

    response = client.get(f"{LIST}?{MARCH_15}&export=xlsx")

    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    assert "spreadsheetml" in response.headers["content-type"]


def test_a_bad_year_or_export_format_is_a_422_page(client: TestClient, manager: User) -> None:
    login(client, manager)

    assert client.get(f"{LIST}?year=20x6").status_code == 422
    assert client.get(f"{LIST}?{MARCH_15}&export=pdf").status_code == 422


# --- The month form -------------------------------------------------------------------------------


def _form(token: str, *rows: tuple[Unit, str, str, str]) -> dict[str, str]:
    data = {"csrf_token": token}
    for unit, hours_run, planned, load in rows:
        data |= {f"hours_run-{unit.id}": hours_run, f"planned_hours-{unit.id}": planned, f"load_pct-{unit.id}": load}
    return data


def test_a_manager_enters_a_month_for_every_unit_at_once(
    client: TestClient, session: Session, manager: User, unit: Unit, second_unit: Unit, other_unit: Unit
) -> None:
    token = login(client, manager)
    page = client.get(f"{LIST}/2026/2")
    assert page.status_code == 200
    assert f'name="hours_run-{other_unit.id}"' in page.text

    response = client.post(
        f"{LIST}/2026/2",
        data=_form(token, (unit, "672", "672", "95"), (second_unit, "", "", ""), (other_unit, "500.5", "672", "60")),
    )

    assert response.status_code == 303
    assert _rows(session) == {
        (unit.id, 2): (Decimal("672.0"), Decimal("672.0"), Decimal("95.0")),
        (other_unit.id, 2): (Decimal("500.5"), Decimal("672.0"), Decimal("60.0")),
    }
    assert _changes(session) == [ChangeAction.CREATE, ChangeAction.CREATE]


def test_the_form_shows_the_stored_month_and_three_empty_fields_remove_it(
    client: TestClient, session: Session, manager: User, unit: Unit, log_row: LogRow
) -> None:
    log_row(unit, 2, "600", "672", "90")
    token = login(client, manager)
    page = client.get(f"{LIST}/2026/2")
    assert f'name="hours_run-{unit.id}" id="f-hours_run-{unit.id}" value="600.0"' in page.text

    response = client.post(f"{LIST}/2026/2", data=_form(token, (unit, "", "", "")))

    assert response.status_code == 303
    assert _rows(session) == {}
    assert _changes(session) == [ChangeAction.DELETE]


def test_an_unchanged_row_writes_nothing_and_a_changed_one_is_logged(
    client: TestClient, session: Session, manager: User, unit: Unit, second_unit: Unit, log_row: LogRow
) -> None:
    log_row(unit, 2, "600", "672", "90")
    log_row(second_unit, 2, "600", "672", "90")
    token = login(client, manager)

    client.post(f"{LIST}/2026/2", data=_form(token, (unit, "600", "672", "90"), (second_unit, "610", "672", "90")))

    assert _rows(session)[(second_unit.id, 2)][0] == Decimal("610.0")
    assert _changes(session) == [ChangeAction.UPDATE]


def test_bad_input_is_a_422_naming_unit_and_field_and_nothing_is_written(
    client: TestClient, session: Session, manager: User, unit: Unit, second_unit: Unit, other_unit: Unit
) -> None:
    token = login(client, manager)

    response = client.post(
        f"{LIST}/2026/2",
        data=_form(
            token,
            (unit, "673", "672", "90"),  # February 2026 has 672 hours
            (second_unit, "600", "", "90"),  # one of three left empty
            (other_unit, "600", "672", "abc"),
        ),
    )

    assert response.status_code == 422
    errors = re.search(r'data-testid="form-errors">(.*?)</div>', response.text, re.S)
    assert errors
    messages = re.findall(r"<li>(.*?)</li>", errors.group(1))
    assert len(messages) == 3
    assert "合成氨装置 AMM" in messages[0]
    assert "运行小时" in messages[0] or "Hours run" in messages[0]
    assert "672" in messages[0]
    assert "尿素装置 URE" in messages[1]
    assert "热电装置 PWR" in messages[2]
    assert 'value="673"' in response.text  # what was typed is kept
    assert _rows(session) == {}
    assert _changes(session) == []


def test_an_engineer_sees_other_workshops_units_read_only_and_cannot_post_them(
    client: TestClient, session: Session, syn_engineer: User, unit: Unit, other_unit: Unit
) -> None:
    token = login(client, syn_engineer)
    page = client.get(f"{LIST}/2026/2")
    assert f'name="hours_run-{unit.id}"' in page.text
    assert f'name="hours_run-{other_unit.id}"' not in page.text
    assert 'data-unit="PWR"' in page.text

    refused = client.post(
        f"{LIST}/2026/2", data=_form(token, (unit, "672", "672", "90"), (other_unit, "672", "672", "90"))
    )
    allowed = client.post(f"{LIST}/2026/2", data=_form(token, (unit, "672", "672", "90")))

    assert refused.status_code == 403
    assert allowed.status_code == 303
    assert list(_rows(session)) == [(unit.id, 2)]


def test_an_auditor_reads_the_grid_but_gets_no_form(
    client: TestClient, session: Session, auditor: User, unit: Unit
) -> None:
    token = login(client, auditor)

    assert client.get(f"{LIST}?{MARCH_15}").status_code == 200
    assert client.get(f"{LIST}/2026/2").status_code == 403
    assert client.post(f"{LIST}/2026/2", data=_form(token, (unit, "672", "672", "90"))).status_code == 403
    assert _rows(session) == {}


def test_a_month_after_the_current_one_is_refused(
    client: TestClient, session: Session, manager: User, unit: Unit
) -> None:
    token = login(client, manager)

    assert client.get(f"{LIST}/2026/3").status_code == 200  # the current month
    assert client.get(f"{LIST}/2026/4").status_code == 422
    response = client.post(f"{LIST}/2026/4", data=_form(token, (unit, "100", "720", "90")))

    assert response.status_code == 422
    assert "2026-04" in response.text
    assert _rows(session) == {}


def test_a_month_out_of_range_is_a_422(client: TestClient, manager: User) -> None:
    login(client, manager)

    assert client.get(f"{LIST}/2026/13").status_code == 422
    assert client.get(f"{LIST}/2026/0").status_code == 422
    assert client.get(f"{LIST}/1999/1").status_code == 422


def test_a_row_saved_by_someone_else_meanwhile_is_a_409_and_nothing_is_written(
    client: TestClient, session: Session, manager: User, unit: Unit, second_unit: Unit, log_row: LogRow
) -> None:
    token = login(client, manager)
    loaded = client.get(f"{LIST}/2026/2").text
    was = re.findall(r'name="(was-\d+)" value="([^"]*)"', loaded)
    assert dict(was) == {f"was-{unit.id}": "", f"was-{second_unit.id}": ""}
    log_row(unit, 2, "500", "672", "80")  # someone saved AMM's February meanwhile

    response = client.post(
        f"{LIST}/2026/2",
        data={**_form(token, (unit, "672", "672", "90"), (second_unit, "600", "672", "90")), **dict(was)},
    )

    assert response.status_code == 409
    assert "AMM" in response.text
    assert _rows(session) == {(unit.id, 2): (Decimal("500"), Decimal("672"), Decimal("80"))}
    assert _changes(session) == []


def test_a_planned_repair_asset_is_left_out_of_the_page_intactness(
    client: TestClient, manager: User, workshop: Workshop, make_asset: MakeAsset
) -> None:
    make_asset(workshop)
    make_asset(workshop, AssetStatus.UNDER_REPAIR)
    login(client, manager)

    html = client.get(f"{LIST}?{MARCH_15}").text

    summary = re.search(r'data-rate="intactness">(.*?)</strong>', html, re.S)
    assert summary
    assert summary.group(1) == "100.0%"


def test_the_month_form_and_its_save_run_a_fixed_number_of_queries(
    client: TestClient, manager: User, workshop: Workshop, count_queries: list[str]
) -> None:
    units: list[Unit] = []

    def add(count: int) -> None:
        units.extend(factories.UnitFactory(workshop_id=workshop.id) for _ in range(count))

    def queries(token: str) -> tuple[int, int]:
        count_queries.clear()
        assert client.get(f"{LIST}/2026/2").status_code == 200
        shown = len(count_queries)
        count_queries.clear()
        data = _form(token, *((unit, "", "", "") for unit in units))  # nothing reported: nothing written
        assert client.post(f"{LIST}/2026/2", data=data).status_code == 303
        return shown, len(count_queries)

    token = login(client, manager)
    add(1)
    few = queries(token)
    add(20)
    many = queries(token)

    assert many == few


def test_only_months_up_to_the_current_one_link_to_their_form(client: TestClient, manager: User, unit: Unit) -> None:
    login(client, manager)

    html = client.get(f"{LIST}?{MARCH_15}").text

    assert f'href="{LIST}/2026/3"' in html
    assert f'href="{LIST}/2026/4"' not in html
