"""A manager opens the special-equipment due list and finds the demo's overdue safety valve; its
workshop's engineer records the passing calibration with the report PDF; the must-not-operate
banner leaves the valve's asset page and the plant's coverage rises by one item.

PSV-2202 is the demo's one overdue item (its yearly calibration lapsed; the demo builds it so
on any day), in the distillation workshop, which is zhanggong's.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

OVERDUE_VALVE = "PSV-2202"
CALIBRATION = "SV-CALIBRATION"
# The smallest PDF a reader opens: the store checks the file is what its name says.
REPORT_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _covered(page: Page, base_url: str) -> tuple[int, int]:
    page.goto(f"{base_url}/special-equipment/coverage")
    counts = page.get_by_test_id("coverage-counts")
    expect(counts).to_be_visible()
    return int(counts.get_attribute("data-covered") or -1), int(counts.get_attribute("data-total") or -1)


def test_a_passing_calibration_recorded_with_its_report_lifts_the_ban_and_raises_coverage(
    page: Page, base_url: str, tmp_path
) -> None:
    log_in(page, base_url, "wangzr")
    page.goto(f"{base_url}/special-equipment/due")
    row = page.locator(f"[data-testid='due-row'][data-tag='{OVERDUE_VALVE}'][data-type='{CALIBRATION}']")
    expect(row).to_contain_text(re.compile("超期未检"))
    covered, total = _covered(page, base_url)
    assert covered < total

    page.context.clear_cookies()
    log_in(page, base_url, "zhanggong")
    page.goto(f"{base_url}/special-equipment/due")
    page.locator(f"[data-testid='due-row'][data-tag='{OVERDUE_VALVE}']").get_by_role("link", name=OVERDUE_VALVE).click()
    item_url = page.url
    asset_id = item_url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.get_by_test_id("must-not-operate")).to_be_visible()

    page.get_by_role("button", name=re.compile("记录检验")).click()
    form = page.locator("form[data-form='inspection']")
    form.get_by_label(re.compile("检验类别")).select_option(label="安全阀校验")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    form.locator("[name='inspected_date']").fill(today)
    form.locator("[name='agency']").fill("市特种设备检验研究院")
    form.locator("[name='result']").select_option("pass")
    form.locator("[name='report_number']").fill("SV-2026-0815")
    report = tmp_path / "PSV-2202-校验报告.pdf"
    report.write_bytes(REPORT_PDF)
    form.locator("[name='report_file']").set_input_files(report)
    form.get_by_role("button", name=re.compile("保存")).click()

    expect(page.get_by_test_id("report-pdf").first).to_be_visible()
    page.goto(f"{base_url}/assets/{asset_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(OVERDUE_VALVE)
    # The banner is fetched after the page loads: wait for the fetch, then check it is empty.
    with page.expect_response(re.compile(rf"/special-equipment/{asset_id}/banner")):
        page.reload()
    expect(page.get_by_test_id("must-not-operate")).to_have_count(0)

    assert _covered(page, base_url) == (covered + 1, total)
