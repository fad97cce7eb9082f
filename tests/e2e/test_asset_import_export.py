"""An admin imports a messy spreadsheet; an auditor exports the registry as it stood on a past date.

The import workbook is built in the test the way plants really keep them: a title row above
the header, a blank row, full-width characters, dates and amounts written in several ways, a
合计 row and two bad rows. The export test first changes two assets through the UI "now", then
checks that an as-of-2025-12-31 export shows them (and the seed history in
``seed/assets/history.csv``) as they were then, while the current export shows the change.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import xlsxwriter
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PROJECT_ROOT, log_in

SEED_ASSETS = PROJECT_ROOT / "seed" / "assets" / "assets.csv"
PLANT_TZ = ZoneInfo("Asia/Shanghai")

# --- The import -----------------------------------------------------------------------------

HEADERS = ["位号", "设备名称", "设备类别", "车间", "装置", "状态", "重要度", "原值（元）", "安装日期", "投用日期"]
TITLE_ROW, HEADER_ROW = 1, 2  # Excel row numbers
NEW_TAGS = ("P-7101A", "P-7101B", "E-7102", "V-7103", "V-7104")
Row = list[Any] | None  # None: a blank row


def _good_rows() -> list[Row]:
    """Excel rows 3–6: every way of writing a value the import normalises."""
    return [
        # Full-width tag, name (with an ideographic space), workshop; 12.5万; 2024年3月5日.
        ["Ｐ－７１０１Ａ", "新增循环水泵　Ａ", "泵", "ＵＴＬ", "UTL-CW", "在用", "A类", "12.5万", None, "2024年3月5日"],
        None,
        # Workshop and unit by name; 1,234,567.00; 2024/3/5.
        [
            "P-7101B",
            "新增循环水泵B",
            "泵",
            "公用工程车间",
            "循环水站",
            "备用",
            "B",
            "1,234,567.00",
            "2024/3/1",
            "2024/3/5",
        ],
        # A number cell and real date cells.
        ["E-7102", "新增冷却器", "换热器", "SYN", "SYN-1", "在用", "C", 85000, date(2023, 6, 1), date(2023, 7, 1)],
    ]


def _future_day() -> date:
    return datetime.now(PLANT_TZ).date() + timedelta(days=40)


def _messy_rows(*, fixed: bool) -> list[Row]:
    future = _future_day()
    bad_workshop = "TNK" if fixed else "XYZ"
    commissioned = "2024.03.05" if fixed else f"{future.year}年{future.month}月{future.day}日"
    return [
        *_good_rows(),
        ["V-7103", "新增缓冲罐", "容器", bad_workshop, None, "在用", "C", "5.8万", None, "2024.03.05"],  # row 7
        ["V-7104", "新增分离罐", "容器", "SYN", "SYN-2", "在用", "C", "3.2万", None, commissioned],  # row 8
        ["合计", None, None, None, None, None, None, 1_534_567, None, None],  # row 9
    ]


def _write_workbook(path: Path, rows: list[Row]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("2026新增")
    title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range(TITLE_ROW - 1, 0, TITLE_ROW - 1, len(HEADERS) - 1, "2026年新增设备台账", title)
    sheet.write_row(HEADER_ROW - 1, 0, HEADERS, header)
    for offset, row in enumerate(rows):
        for column, value in enumerate(row or []):
            excel_row = HEADER_ROW + offset  # zero-based: the row under the header
            if isinstance(value, date):
                sheet.write_datetime(excel_row, column, datetime.combine(value, time.min), day)
            elif isinstance(value, int | float):
                sheet.write_number(excel_row, column, value)
            elif value is not None:
                sheet.write_string(excel_row, column, value)
    book.close()
    return path


def _upload(page: Page, path: Path) -> None:
    page.get_by_label("设备清单（XLSX 或 CSV）").set_input_files(path)
    with page.expect_navigation():
        page.get_by_role("button", name="检查并预览").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"导入预览: {path.name}")


def _count(page: Page, name: str) -> Any:
    return page.get_by_test_id("import-counts").locator(f"[data-count={name}]")


def test_admin_imports_a_messy_workbook_after_fixing_it(page: Page, base_url: str, tmp_path: Path) -> None:
    log_in(page, base_url, "admin")
    page.goto(f"{base_url}/assets")
    page.get_by_role("link", name=re.compile(r"导入$")).click()  # the icon is part of the name
    expect(page.get_by_role("heading", name="从表格导入设备")).to_be_visible()

    # 1. The messy file with two bad rows: every problem by Excel row, column and reason.
    _upload(page, _write_workbook(tmp_path / "2026新增设备.xlsx", _messy_rows(fixed=False)))
    source = page.get_by_test_id("import-source")
    expect(source).to_contain_text("XLSX")
    expect(source).to_contain_text(f"表头在第 {HEADER_ROW} 行")
    expect(source).to_contain_text("跳过 1 个空行")
    expect(source).to_contain_text("跳过合计行：9")
    expect(_count(page, "new")).to_have_text("3")
    expect(_count(page, "updated")).to_have_text("0")
    expect(_count(page, "invalid")).to_have_text("2")

    expect(page.get_by_text("2 个问题")).to_be_visible()
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).get_by_role("cell")).to_have_text(["7", "车间", "不存在车间 XYZ（请填写车间编码或名称）。"])
    future = _future_day().isoformat()
    expect(errors.nth(1).get_by_role("cell")).to_have_text(["8", "投用日期", f"{future} 晚于今天。"])

    # The preview shows the rows as they will be saved: codes, numbers and dates normalised, the
    # name as written (full-width space and letter kept), bad cells marked.
    preview = page.locator("#import-preview")
    expect(preview.locator("tbody tr")).to_have_count(5)
    first = preview.get_by_role("row").filter(has=page.get_by_role("cell", name="P-7101A", exact=True))
    for text in ("新增循环水泵　Ａ", "UTL", "UTL-CW", "125,000.00", "2024-03-05"):
        expect(first).to_contain_text(text)
    second = preview.get_by_role("row").filter(has=page.get_by_role("cell", name="P-7101B", exact=True))
    for text in ("UTL", "UTL-CW", "1,234,567.00", "2024-03-01", "2024-03-05"):
        expect(second).to_contain_text(text)
    third = preview.get_by_role("row").filter(has=page.get_by_role("cell", name="E-7102", exact=True))
    for text in ("SYN-1", "85,000.00", "2023-06-01", "2023-07-01"):
        expect(third).to_contain_text(text)
    for tag in ("V-7103", "V-7104"):
        bad = preview.get_by_role("row").filter(has=page.get_by_role("cell", name=tag, exact=True))
        expect(bad).to_contain_text("错误")

    # All-or-nothing (the default) is not offered while rows have errors.
    expect(page.get_by_label("全部导入：所有行都无误时才导入")).to_be_disabled()
    expect(page.get_by_text("无法选择：有 2 行存在错误。")).to_be_visible()

    # Nothing has been written.
    page.goto(f"{base_url}/assets?q=-710")
    expect(page.get_by_text("没有符合条件的设备。")).to_be_visible()

    # 2. The corrected file: no problems, all or nothing, confirmed.
    page.goto(f"{base_url}/assets/import")
    fixed = _write_workbook(tmp_path / "2026新增设备-修改.xlsx", _messy_rows(fixed=True))
    _upload(page, fixed)
    expect(_count(page, "new")).to_have_text("5")
    expect(_count(page, "invalid")).to_have_text("0")
    expect(page.locator("#import-errors")).to_have_count(0)
    all_or_nothing = page.get_by_label("全部导入：所有行都无误时才导入")
    expect(all_or_nothing).to_be_enabled()
    expect(all_or_nothing).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="导入 5 台新设备，更新 0 台设备").click()

    expect(page).to_have_url(f"{base_url}/assets")
    # No sentence end: the route appends an ASCII "." to the translated message.
    expect(page.get_by_role("status").filter(has_text="新建 5 台，更新 0 台")).to_be_visible()

    # The new assets are in the registry, with the normalised values.
    table = page.locator("#asset-table")
    page.get_by_role("searchbox").fill("-710")
    expect(page).to_have_url(re.compile(r"q=-710"))
    for tag in NEW_TAGS:
        expect(table.get_by_role("link", name=tag, exact=True)).to_be_visible()
    expect(page.get_by_text("共 5 台设备")).to_be_visible()

    page.get_by_role("searchbox").fill("P-7101")
    expect(table.locator("tbody tr")).to_have_count(2)
    pump_a = table.get_by_role("row").filter(has=page.get_by_role("link", name="P-7101A", exact=True))
    for text in ("新增循环水泵　Ａ", "公用工程车间", "循环水站", "在用", "125,000.00"):
        expect(pump_a).to_contain_text(text)
    pump_b = table.get_by_role("row").filter(has=page.get_by_role("link", name="P-7101B", exact=True))
    for text in ("公用工程车间", "备用", "1,234,567.00"):
        expect(pump_b).to_contain_text(text)


# --- The as-of export -----------------------------------------------------------------------

AS_OF = date(2025, 12, 31)
STATUS_CHANGED = "VH-6304"  # 4#叉车: moved to 成品库 on 2025-03-01, in service; the test sets it 检修
UNIT_CHANGED = "IP-6202"  # 2#包装秤: moved to 包装二线 on 2025-11-05; the test moves it to 成品库


def _seed_tags_commissioned_by(day: date) -> set[str]:
    """The demo creates each asset on its commission date (maintenance.demo.assets)."""
    with SEED_ASSETS.open(encoding="utf-8") as handle:
        return {row["tag"] for row in csv.DictReader(handle) if date.fromisoformat(row["commission_date"]) <= day}


def _open_asset(page: Page, base_url: str, tag: str) -> None:
    page.goto(f"{base_url}/assets")
    page.get_by_role("searchbox").fill(tag)
    link = page.locator("#asset-table").get_by_role("link", name=tag, exact=True)
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(tag)


def _listed_count(page: Page) -> int:
    summary = page.locator("#results").get_by_text(re.compile(r"共 [\d,]+ 台设备"))
    expect(summary).to_be_visible()
    match = re.search(r"共 ([\d,]+) 台设备", summary.inner_text())
    assert match is not None
    return int(match.group(1).replace(",", ""))


def _download(page: Page, link_name: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.locator("#results").get_by_role("link", name=re.compile(rf"{link_name}$")).click()
    download = info.value
    assert download.failure() is None
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def test_auditor_exports_the_registry_as_it_stood_on_a_past_date(page: Page, base_url: str, tmp_path: Path) -> None:
    # A manager changes two assets now, i.e. after the as-of date.
    log_in(page, base_url, "wangzr")
    _open_asset(page, base_url, STATUS_CHANGED)
    page.get_by_role("button", name="变更状态").click()
    page.get_by_label("新状态").select_option(label="检修")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="确定", exact=True).click()
    expect(page.get_by_role("status").filter(has_text=f"{STATUS_CHANGED} 的状态已改为“检修”。")).to_be_visible()

    _open_asset(page, base_url, UNIT_CHANGED)
    page.get_by_role("link", name=re.compile(r"编辑$")).click()
    page.get_by_label("装置", exact=True).select_option(label="成品库")
    with page.expect_navigation():
        page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("status").filter(has_text=f"设备 {UNIT_CHANGED} 已保存。")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^装置"))).to_contain_text("成品库")

    # The auditor sets the list to the end of 2025 and downloads the XLSX.
    page.context.clear_cookies()
    log_in(page, base_url, "chensj")
    expect(page.get_by_test_id("current-user")).to_contain_text("陈审计")
    page.goto(f"{base_url}/assets")
    page.get_by_label("截至日期").fill(AS_OF.isoformat())
    expect(page.get_by_text("日终时的台账")).to_contain_text("2025年12月31日")
    expect(page).to_have_url(re.compile(rf"as_of={AS_OF.isoformat()}"))
    listed_then = _listed_count(page)
    expected_tags = _seed_tags_commissioned_by(AS_OF)
    assert listed_then == len(expected_tags)

    xlsx = _download(page, "XLSX", tmp_path)
    assert xlsx.name == f"设备台账_{AS_OF.isoformat()}.xlsx"
    sheets = pd.read_excel(xlsx, sheet_name=None, header=None, engine="calamine")
    assert list(sheets) == ["说明", "设备台账"]
    about = {str(row[0]): row[1] for row in sheets["说明"].itertuples(index=False) if isinstance(row[0], str)}
    assert about["数据时点"].startswith(AS_OF.isoformat())
    assert about["行数"] == listed_then
    assert "chensj" in about["导出人"]
    then = pd.read_excel(xlsx, sheet_name="设备台账", engine="calamine").set_index("位号")

    assert len(then) == listed_then
    assert set(then.index) == expected_tags  # no asset commissioned later, none of today's imports
    for later in ("E-1204", "P-2103B", "HB-4103", "PT-4301"):  # commissioned in 2026
        assert later not in then.index
    # Changed by this test after the date: as they were.
    assert then.loc[STATUS_CHANGED, "状态"] == "在用"
    assert then.loc[STATUS_CHANGED, "装置"] == "成品库"
    assert then.loc[UNIT_CHANGED, "车间"] == "包装车间"
    assert then.loc[UNIT_CHANGED, "装置"] == "包装二线"
    # The seed's own history: moved or retired before the date, changed in November 2026.
    assert then.loc["P-2104B", "状态"] == "报废"
    assert then.loc["P-2104B", "报废日期"] == pd.Timestamp("2025-03-18")
    assert then.loc["P-2302", "装置"] == "回收装置"
    assert then.loc["BL-4103", "状态"] == "在用"
    assert then.loc["C-1302A", "状态"] == "在用"
    assert then.loc["C-1302B", "状态"] == "备用"

    # Back to the current registry: the CSV shows the changes.
    page.get_by_label("截至日期").fill("")
    expect(page.get_by_text("日终时的台账")).to_have_count(0)
    listed_now = _listed_count(page)
    current_csv = _download(page, "CSV", tmp_path)
    now = pd.read_csv(current_csv, encoding="utf-8-sig", dtype=str, keep_default_na=False).set_index("位号")
    assert len(now) == listed_now
    assert now.loc[STATUS_CHANGED, "状态"] == "检修"
    assert now.loc[UNIT_CHANGED, "装置"] == "成品库"
    assert now.loc["BL-4103", "状态"] == "检修"
    assert now.loc["C-1302A", "状态"] == "检修"
    assert "E-1204" in now.index
