"""Exports of the asset registry: CSV (streamed, UTF-8 with BOM) and XLSX (typed cells, a header
sheet), current or as of a past date, from the list page and from the CLI.

The as-of promise is what auditors rely on: an export as of a date shows every asset exactly as
it stood at the end of that day, however it changed afterwards, so a year-end export made today
is the same file as the one made on the day.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import subprocess
import sys
import textwrap
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance import exports as core_exports
from maintenance.assets import exports, service
from maintenance.assets.choices import AssetClass, AssetStatus, Criticality
from maintenance.assets.depreciation import book_value
from maintenance.assets.filters import AssetFilters
from maintenance.assets.models import Asset, AssetUpdate
from maintenance.db import plant_today
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.assets.conftest import ACTOR, MakeAsset
from tests.conftest import login

PLANT = ZoneInfo("Asia/Shanghai")
BOM = "\ufeff".encode()
DATA_SHEET, ABOUT_SHEET = "设备台账", "说明"
# The headers as users know them (the catalog translates the English msgids in the export's context).
ZH_HEADERS = [
    "位号",
    "设备名称",
    "设备类别",
    "车间",
    "装置",
    "上级设备位号",
    "制造厂",
    "规格型号",
    "出厂编号",
    "安装日期",
    "投用日期",
    "重要度",
    "状态",
    "固定资产编号",
    "原值(元)",
    "折旧年限(年)",
    "残值率",
    "累计折旧(元)",
    "净值(元)",
    "特种设备类别",
    "使用登记证编号",
    "保管人",
    "报废日期",
    "报废原因",
]
EN_HEADERS = [
    "Tag",
    "Name",
    "Class",
    "Workshop",
    "Unit",
    "Parent tag",
    "Manufacturer",
    "Model / spec",
    "Serial no.",
    "Install date",
    "Commission date",
    "Criticality",
    "Status",
    "Fixed-asset no.",
    "Original value (CNY)",
    "Useful life (years)",
    "Salvage rate",
    "Accumulated depreciation (CNY)",
    "Net book value (CNY)",
    "Special equipment category",
    "Registration no.",
    "Custodian",
    "Retired date",
    "Retire reason",
]


def plant_time(*parts: int) -> datetime:
    """A moment on the plant's wall clock."""
    return datetime(*parts, tzinfo=PLANT)  # type: ignore[misc]


def edit(asset: Asset, **changes: Any) -> AssetUpdate:
    return AssetUpdate.model_validate(asset.model_dump() | changes)


def read_csv(response: Any) -> pd.DataFrame:
    assert response.status_code == 200, response.text
    return pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def read_xlsx(content: bytes) -> dict[str, pd.DataFrame]:
    return pd.read_excel(io.BytesIO(content), sheet_name=None, engine="calamine")


def about(sheets: dict[str, pd.DataFrame], sheet: str = ABOUT_SHEET) -> dict[str, Any]:
    """The header sheet's label → value pairs."""
    frame = sheets[sheet]
    return {str(row.iloc[0]): row.iloc[1] for _, row in frame.iterrows() if isinstance(row.iloc[0], str)}


def by_tag(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["位号"]: row for row in frame.to_dict("records")}


@pytest.fixture
def auditor(session: Session) -> User:
    return factories.UserFactory(role=Role.AUDITOR, full_name="陈审计")


@pytest.fixture
def other_workshop(session: Session, workshop: Workshop) -> Workshop:
    return factories.WorkshopFactory(site_id=workshop.site_id)


# --- CSV ----------------------------------------------------------------------------------


def test_csv_has_a_bom_parses_with_pandas_and_matches_the_filtered_list(
    client: TestClient,
    session: Session,
    engineer: User,
    make_asset: MakeAsset,
    workshop: Workshop,
    other_workshop: Workshop,
) -> None:
    make_asset(tag="P-1101B", name="循环水泵", commission_date=date(2024, 3, 5), install_date=date(2024, 2, 1))
    make_asset(tag="P-1101A", name="循环水泵", criticality=Criticality.A, fixed_asset_number="GZ-0001")
    make_asset(tag="E-2101", name="换热器", asset_class=AssetClass.HEAT_EXCHANGER)
    make_asset(tag="P-3101", name="进料泵", workshop_id=other_workshop.id)
    login(client, engineer)
    params = {"q": "xhsb", "sort": "-tag"}

    response = client.get("/assets", params={**params, "export": "csv"})

    assert response.content.startswith(BOM), "Excel needs the BOM to read UTF-8 Chinese"
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(f'设备台账_{plant_today()}.csv')}" in disposition
    assert response.headers["x-export-as-of"] == "current"
    frame = read_csv(response)
    assert list(frame.columns) == ZH_HEADERS
    expected = [a.tag for a in session.scalars(service.list_assets(AssetFilters.model_validate(params)))]
    assert list(frame["位号"]) == expected == ["P-1101B", "P-1101A"], "same rows, same order as the list"
    row = by_tag(frame)["P-1101B"]
    assert (row["设备类别"], row["状态"], row["重要度"]) == ("泵", "在用", "C类(一般)")
    assert (row["投用日期"], row["安装日期"], row["原值(元)"]) == ("2024-03-05", "2024-02-01", "120000.00")
    assert row["车间"] == workshop.name


def test_csv_headers_and_labels_follow_the_language(client: TestClient, engineer: User, make_asset: MakeAsset) -> None:
    make_asset(tag="P-1", status=AssetStatus.STANDBY)
    login(client, engineer)
    client.cookies.set("lang", "en")

    frame = read_csv(client.get("/assets", params={"export": "csv"}))

    assert list(frame.columns) == EN_HEADERS
    assert frame.loc[0, "Status"] == "Standby"


def test_the_filter_is_respected(
    client: TestClient, auditor: User, make_asset: MakeAsset, workshop: Workshop, other_workshop: Workshop
) -> None:
    make_asset(tag="P-1", status=AssetStatus.IN_SERVICE)
    make_asset(tag="P-2", status=AssetStatus.STANDBY)
    make_asset(tag="P-3", status=AssetStatus.STANDBY, workshop_id=other_workshop.id)
    login(client, auditor)

    csv_frame = read_csv(
        client.get("/assets", params={"status": "standby", "workshop_id": workshop.id, "export": "csv"})
    )
    xlsx = client.get("/assets", params={"status": "standby", "workshop_id": workshop.id, "export": "xlsx"})

    assert list(csv_frame["位号"]) == ["P-2"]
    sheets = read_xlsx(xlsx.content)
    assert list(sheets[DATA_SHEET]["位号"]) == ["P-2"]
    header = about(sheets)
    assert header["筛选条件"] == f"车间={workshop.name}；状态=备用"
    assert header["行数"] == 1
    assert xlsx.headers["x-export-rows"] == "1"


def test_formula_like_text_is_never_a_formula(client: TestClient, engineer: User, make_asset: MakeAsset) -> None:
    hostile = {
        "name": '=HYPERLINK("http://evil.example","点我")',
        "manufacturer": "+cmd|' /C calc'!A0",
        "spec": "-2+3",
        "custodian": "@SUM(1+1)",
    }
    make_asset(tag="P-1", **hostile)
    login(client, engineer)

    csv_row = read_csv(client.get("/assets", params={"export": "csv"})).iloc[0]
    xlsx = client.get("/assets", params={"export": "xlsx"}).content

    assert csv_row["设备名称"] == "'" + hostile["name"], "OWASP: a leading apostrophe keeps Excel from evaluating"
    assert csv_row["制造厂"] == "'" + hostile["manufacturer"]
    assert csv_row["规格型号"] == "'-2+3"
    assert csv_row["保管人"] == "'@SUM(1+1)"
    with zipfile.ZipFile(io.BytesIO(xlsx)) as workbook:
        sheet_xml = b"".join(workbook.read(name) for name in workbook.namelist() if name.startswith("xl/worksheets/"))
    assert not re.search(rb"<f[ >]", sheet_xml), "no cell of the workbook is a formula"
    row = read_xlsx(xlsx)[DATA_SHEET].iloc[0]
    assert (row["设备名称"], row["制造厂"], row["规格型号"], row["保管人"]) == tuple(hostile.values())


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_has_typed_cells_and_a_header_sheet(
    client: TestClient, session: Session, auditor: User, make_asset: MakeAsset
) -> None:
    pump = make_asset(
        tag="P-1",
        name="循环水泵",
        install_date=date(2024, 2, 1),
        commission_date=date(2024, 3, 5),
        original_value_cny=Decimal("1234567.89"),
        useful_life_years=12,
        salvage_rate=Decimal("0.03"),
    )
    make_asset(tag="P-2", parent_id=pump.id, name="电机", asset_class=AssetClass.ELECTRIC_MOTOR)
    login(client, auditor)

    response = client.get("/assets", params={"export": "xlsx"})

    assert response.status_code == 200
    assert response.headers["content-type"] == exports.XLSX_MEDIA_TYPE
    assert quote(f"设备台账_{plant_today()}.xlsx") in response.headers["content-disposition"]
    sheets = read_xlsx(response.content)
    assert list(sheets) == [ABOUT_SHEET, DATA_SHEET], "the header sheet comes first"
    data = sheets[DATA_SHEET]
    assert list(data.columns) == ZH_HEADERS
    assert pd.api.types.is_datetime64_any_dtype(data["投用日期"]), "dates are date cells"
    assert pd.api.types.is_float_dtype(data["原值(元)"]), "money is a number"
    row = by_tag(data)["P-1"]
    assert row["投用日期"] == pd.Timestamp(2024, 3, 5)
    assert row["原值(元)"] == pytest.approx(1234567.89)
    assert row["折旧年限(年)"] == 12
    assert row["残值率"] == pytest.approx(0.03)
    expected = book_value(
        original_value_cny=Decimal("1234567.89"),
        salvage_rate=Decimal("0.03"),
        useful_life_years=12,
        commission_date=date(2024, 3, 5),
        as_of=plant_today(),
    )
    assert row["净值(元)"] == pytest.approx(float(expected.net_book_value_cny))
    assert row["累计折旧(元)"] == pytest.approx(float(expected.accumulated_depreciation_cny))
    assert pd.isna(row["报废日期"]), "an empty date is an empty cell"
    assert by_tag(data)["P-2"]["上级设备位号"] == "P-1"
    with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
        styles = workbook.read("xl/styles.xml").decode()
    assert 'formatCode="#,##0.00"' in styles
    assert 'formatCode="yyyy-mm-dd"' in styles
    header = about(sheets)
    assert header["数据时点"] == "当前"
    assert header["筛选条件"] == "全部设备"
    assert header["导出人"] == f"陈审计 ({auditor.username})"
    assert header["行数"] == 2
    assert pd.Timestamp(header["净值计算日期"]).date() == plant_today()
    assert isinstance(header["导出时间"], datetime | pd.Timestamp)


def test_xlsx_temporary_file_is_removed_after_sending(
    client: TestClient, engineer: User, make_asset: MakeAsset, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_asset(tag="P-1")
    monkeypatch.setattr(core_exports.tempfile, "tempdir", str(tmp_path))
    login(client, engineer)

    response = client.get("/assets", params={"export": "xlsx"})

    assert response.status_code == 200
    assert list(tmp_path.iterdir()) == []


# --- As of a past date --------------------------------------------------------------------


def test_as_of_export_reproduces_the_past_exactly_after_later_changes(
    client: TestClient,
    session: Session,
    auditor: User,
    make_asset: MakeAsset,
    workshop: Workshop,
    other_workshop: Workshop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def changed_at(moment: datetime) -> None:
        monkeypatch.setattr(service, "utcnow", lambda: moment.astimezone(UTC))

    pump = make_asset(
        tag="P-101", name="循环水泵", commission_date=date(2025, 3, 15), install_date=date(2025, 3, 1),
        at=plant_time(2025, 3, 1, 9),
    )  # fmt: skip
    motor = make_asset(
        tag="P-101-M", name="电机", asset_class=AssetClass.ELECTRIC_MOTOR, parent_id=pump.id,
        at=plant_time(2025, 3, 2, 9),
    )  # fmt: skip
    make_asset(tag="C-201", name="压缩机", asset_class=AssetClass.COMPRESSOR, at=plant_time(2025, 6, 1, 9))
    # During the year: moved to another workshop and revalued.
    changed_at(plant_time(2025, 9, 1, 10))
    service.update_asset(
        session, pump, edit(pump, workshop_id=other_workshop.id, original_value_cny=Decimal("150000.00")), actor=ACTOR
    )
    # The last second of 31 December still belongs to that day; the first of 1 January does not.
    changed_at(plant_time(2025, 12, 31, 23, 59, 59))
    service.update_asset(session, pump, edit(pump, custodian="张工"), actor=ACTOR)
    changed_at(plant_time(2026, 1, 1, 0, 0, 0))
    service.update_asset(session, pump, edit(pump, custodian="李工"), actor=ACTOR)
    monkeypatch.undo()
    login(client, auditor)
    year_end = {"as_of": "2025-12-31"}

    csv_then = client.get("/assets", params={**year_end, "export": "csv"})
    xlsx_then = read_xlsx(client.get("/assets", params={**year_end, "export": "xlsx"}).content)

    # Afterwards: the pump is retired and renamed, the compressor edited, a new asset added.
    service.set_status(
        session, pump, AssetStatus.RETIRED, actor=ACTOR, cascade=True, retired_date=plant_today(), retire_reason="腐蚀"
    )
    service.update_asset(session, pump, edit(pump, tag="P-101X"), actor=ACTOR)
    compressor = service.get_asset_by_tag(session, "C-201")
    assert compressor is not None
    service.update_asset(session, compressor, edit(compressor, name="二氧化碳压缩机"), actor=ACTOR)
    make_asset(tag="P-999", name="新泵")

    csv_now = client.get("/assets", params={**year_end, "export": "csv"})
    xlsx_now = read_xlsx(client.get("/assets", params={**year_end, "export": "xlsx"}).content)
    current = by_tag(read_csv(client.get("/assets", params={"export": "csv"})))

    assert csv_now.content == csv_then.content, "the year-end CSV is the same file, byte for byte"
    for sheet in (DATA_SHEET,):
        pd.testing.assert_frame_equal(xlsx_now[sheet], xlsx_then[sheet])
    assert csv_then.headers["x-export-as-of"] == "2025-12-31"
    assert quote("设备台账_2025-12-31.csv") in csv_then.headers["content-disposition"]

    then = by_tag(read_csv(csv_then))
    assert sorted(then) == ["C-201", "P-101", "P-101-M"], "P-999 did not exist yet"
    assert then["P-101"]["车间"] == other_workshop.name
    assert then["P-101"]["状态"] == "在用"
    assert then["P-101"]["保管人"] == "张工"
    assert then["P-101"]["原值(元)"] == "150000.00"
    # 150,000 × 95% ÷ 120 = 1,187.50 a month, April to December 2025: 9 months.
    assert (then["P-101"]["累计折旧(元)"], then["P-101"]["净值(元)"]) == ("10687.50", "139312.50")
    assert then["P-101-M"]["上级设备位号"] == "P-101", "the parent's tag as it was then"
    assert then["C-201"]["设备名称"] == "压缩机"
    assert about(xlsx_then)["数据时点"] == "2025-12-31 日终(按历史版本还原)"
    assert pd.Timestamp(about(xlsx_then)["净值计算日期"]).date() == date(2025, 12, 31)

    # The current export does change.
    assert current["P-101X"]["状态"] == "报废"
    assert current["P-101X"]["保管人"] == "李工"
    assert current["P-101-M"]["状态"] == "报废"
    assert current["P-101-M"]["上级设备位号"] == "P-101X"
    assert current["C-201"]["设备名称"] == "二氧化碳压缩机"
    assert "P-999" in current

    # Mid-year the pump was still in its first workshop, at its first value.
    mid_year = by_tag(read_csv(client.get("/assets", params={"as_of": "2025-06-30", "export": "csv"})))
    assert mid_year["P-101"]["车间"] == workshop.name
    assert mid_year["P-101"]["原值(元)"] == "120000.00"
    assert mid_year["P-101"]["保管人"] == ""
    assert sorted(mid_year) == ["C-201", "P-101", "P-101-M"]
    assert motor.id is not None


def test_as_of_date_in_the_future_is_refused(client: TestClient, engineer: User) -> None:
    login(client, engineer)
    tomorrow = (plant_today() + timedelta(days=1)).isoformat()

    response = client.get("/assets", params={"as_of": tomorrow, "export": "csv"})

    assert response.status_code == 422


def test_unknown_format_is_refused(client: TestClient, engineer: User) -> None:
    login(client, engineer)
    assert client.get("/assets", params={"export": "pdf"}).status_code == 422


# --- Who may export -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.MANAGER, Role.AUDITOR, Role.ADMIN])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_role_may_export(client: TestClient, make_asset: MakeAsset, role: Role, fmt: str) -> None:
    make_asset(tag="P-1")
    login(client, factories.UserFactory(role=role))

    response = client.get("/assets", params={"export": fmt})

    assert response.status_code == 200
    assert response.cookies.get(exports.EXPORT_COOKIE) == fmt, "the page's export button learns it has started"


def test_anonymous_users_are_sent_to_log_in(client: TestClient) -> None:
    response = client.get("/assets", params={"export": "csv"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# --- Large exports ------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_rows(
    client: TestClient,
    session: Session,
    engineer: User,
    make_asset: MakeAsset,
    workshop: Workshop,
    count_queries: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("maintenance.exports.BATCH_SIZE", 7)  # several batches even for a small table
    unit = factories.UnitFactory(workshop_id=workshop.id)
    parent = make_asset(tag="P-0", unit_id=unit.id)
    login(client, engineer)

    def queries(params: dict[str, str]) -> int:
        count_queries.clear()
        response = client.get("/assets", params=params)
        assert response.status_code == 200
        return len(count_queries)

    few = {fmt: queries({"export": fmt}) for fmt in ("csv", "xlsx")}
    few_as_of = queries({"export": "csv", "as_of": plant_today().isoformat()})
    for number in range(1, 41):
        make_asset(tag=f"P-{number}", unit_id=unit.id, parent_id=parent.id)
    many = {fmt: queries({"export": fmt}) for fmt in ("csv", "xlsx")}
    many_as_of = queries({"export": "csv", "as_of": plant_today().isoformat()})

    assert many == few
    assert many_as_of == few_as_of
    assert len(read_csv(client.get("/assets", params={"export": "csv"}))) == 41


def test_csv_is_streamed_in_chunks(session: Session, make_asset: MakeAsset, engineer: User) -> None:
    for number in range(5):
        make_asset(tag=f"P-{number}")
    export = exports.AssetExport.start(session, AssetFilters(), exported_by="test", locale="zh_CN")

    chunks = list(export.csv_chunks(rows_per_chunk=2))

    assert len(chunks) == 3
    assert chunks[0].startswith(BOM)
    assert export.row_count == 5


# --- CLI ----------------------------------------------------------------------------------

_MAKE_ASSETS = textwrap.dedent(
    """
    from datetime import date, datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from maintenance.assets import service
    from maintenance.assets.choices import AssetClass
    from maintenance.assets.models import AssetCreate, AssetUpdate
    from maintenance.audit.service import SystemActor
    from maintenance.db import session_scope
    from maintenance.org import service as org_service
    from maintenance.org.models import SiteCreate, WorkshopCreate
    from maintenance.org.permissions import EVERY_CAPABILITY

    actor = SystemActor(username="test", capabilities=EVERY_CAPABILITY)
    with session_scope() as session:
        site = org_service.create_site(session, SiteCreate(code="EXP", name="导出测试厂"), actor=actor)
        workshop = org_service.create_workshop(
            session, WorkshopCreate(code="EXPT", name="导出测试车间", site_id=site.id), actor=actor
        )
        at = datetime(2025, 3, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
        pump = service.create_asset(session, AssetCreate(
            tag="X-101", name="循环水泵", asset_class=AssetClass.PUMP, workshop_id=workshop.id,
            commission_date=date(2025, 3, 15), original_value_cny=Decimal("120000.00"),
        ), actor=actor, at=at)
        service.create_asset(session, AssetCreate(
            tag="X-102", name="=1+1", asset_class=AssetClass.PUMP, workshop_id=workshop.id,
        ), actor=actor, at=at)
        # Today: revalued. An as-of export of 2025 must not see it.
        service.update_asset(session, pump, AssetUpdate.model_validate(
            pump.model_dump() | {"original_value_cny": Decimal("200000.00")}
        ), actor=actor)
    """
)


@pytest.fixture(scope="module")
def cli_plant(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A SQLite file migrated by the CLI with one workshop EXPT of two assets (no demo plant: the
    export needs only these, and seeding the demo in a subprocess is slow on a busy machine)."""
    folder = tmp_path_factory.mktemp("export-cli")
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAINTENANCE_")}
    env.update(
        MAINTENANCE_DATABASE_URL=f"sqlite:///{folder / 'maintenance.db'}",
        MAINTENANCE_VAR_DIR=str(folder / "var"),
        MAINTENANCE_ENVIRONMENT="test",
        MAINTENANCE_SECRET_KEY=secrets.token_urlsafe(32),
    )
    result = run_cli(env, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    made = subprocess.run([sys.executable, "-c", _MAKE_ASSETS], env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maintenance.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_exports_as_of_a_date_to_csv(cli_plant: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "year-end.csv"

    result = run_cli(
        cli_plant,
        "export",
        "assets",
        "--format",
        "csv",
        "--as-of",
        "2025-12-31",
        "--workshop",
        "EXPT",
        "-o",
        str(output),
    )

    assert result.returncode == 0, result.stderr
    assert "exported 2 assets" in " ".join(result.stdout.split())
    assert output.read_bytes().startswith(BOM)
    frame = pd.read_csv(output, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    rows = by_tag(frame)
    assert sorted(rows) == ["X-101", "X-102"]
    assert rows["X-101"]["原值(元)"] == "120000.00", "the later revaluation is not in the year-end export"
    assert rows["X-101"]["净值(元)"] == "111450.00"  # 9 months × 950.00 off 120,000
    assert rows["X-102"]["设备名称"] == "'=1+1"
    assert not list(tmp_path.glob(".*.part"))


def test_cli_exports_the_current_registry_to_xlsx(cli_plant: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "now.xlsx"

    result = run_cli(cli_plant, "export", "assets", "--format", "xlsx", "--workshop", "EXPT", "-o", str(output))

    assert result.returncode == 0, result.stderr
    sheets = pd.read_excel(output, sheet_name=None, engine="calamine")
    assert by_tag(sheets[DATA_SHEET])["X-101"]["原值(元)"] == pytest.approx(200000.0)
    header = about(sheets)
    assert header["行数"] == 2
    assert header["筛选条件"] == "车间=导出测试车间"
    assert str(header["导出人"]).startswith("cli:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--as-of", "2025-13-01"], "--as-of must be a date as YYYY-MM-DD", id="bad-date"),
        pytest.param(["--workshop", "NOPE"], "unknown workshop code 'NOPE'", id="unknown-workshop"),
        pytest.param(["--as-of", "2999-01-01", "--lang", "en"], "cannot be in the future", id="future-date"),
        pytest.param(["--format", "pdf"], "choose --format xlsx or csv", id="bad-format"),
    ],
)
def test_cli_export_errors_exit_non_zero_and_write_nothing(
    cli_plant: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    output = tmp_path / "out.csv"

    result = run_cli(cli_plant, "export", "assets", "-o", str(output), *args)

    assert result.returncode != 0
    assert message in " ".join(result.stderr.split())
    assert list(tmp_path.iterdir()) == []
