"""Exports of the work-order list: CSV (streamed, UTF-8 with BOM) and XLSX (typed cells, a header
sheet) of exactly the list's filtered query. A turnaround's scope list is the same export filtered
by turnaround, with its code and the revamp tie-in flag as columns."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.db import plant_today
from maintenance.exports import EXPORT_COOKIE, XLSX_MEDIA_TYPE
from maintenance.orders import exports
from maintenance.orders.choices import FailureMode, OrderState, OrderType, Priority
from maintenance.orders.filters import OrderFilters
from maintenance.orders.models import Turnaround, WorkOrder
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.conftest import login
from tests.orders.conftest import MakeOrder

PLANT = ZoneInfo("Asia/Shanghai")
BOM = "\ufeff".encode()
DATA_SHEET, ABOUT_SHEET = "工单", "说明"
# The headers as users know them (the catalog translates the English msgids in the export's context).
ZH_HEADERS = [
    "工单号",
    "工单类型",
    "标题",
    "设备位号",
    "设备名称",
    "车间",
    "状态",
    "优先级",
    "申请时间",
    "计划开始",
    "计划完成",
    "到期日",
    "实际开始",
    "实际完成",
    "承修方式",
    "负责人/承修单位",
    "工时(小时)",
    "计划费用(元)",
    "实际费用(元)",
    "大修编号",
    "技改碰头",
    "故障模式",
]
EN_HEADERS = [
    "Order no.",
    "Type",
    "Title",
    "Asset tag",
    "Asset name",
    "Workshop",
    "State",
    "Priority",
    "Requested at",
    "Planned start",
    "Planned finish",
    "Due date",
    "Actual start",
    "Actual finish",
    "Provider",
    "Assignee",
    "Labour hours",
    "Planned cost (CNY)",
    "Actual cost (CNY)",
    "Turnaround",
    "Revamp tie-in",
    "Failure mode",
]


def read_csv(response: Any) -> pd.DataFrame:
    assert response.status_code == 200, response.text
    return pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def read_xlsx(response: Any) -> dict[str, pd.DataFrame]:
    assert response.status_code == 200, response.text
    return pd.read_excel(io.BytesIO(response.content), sheet_name=None, engine="calamine")


def about(sheets: dict[str, pd.DataFrame]) -> dict[str, Any]:
    frame = sheets[ABOUT_SHEET]
    return {str(row.iloc[0]): row.iloc[1] for _, row in frame.iterrows() if isinstance(row.iloc[0], str)}


def by_number(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["工单号"]: row for row in frame.to_dict("records")}


@pytest.fixture
def scope(session: Session, make_order: MakeOrder, turnaround: Turnaround, workshop_engineer: User) -> WorkOrder:
    """A turnaround scope order with everything filled in, plus an order outside the scope."""
    order = make_order(
        order_type=OrderType.TA,
        title="反应器R-101内件检修",
        priority=Priority.HIGH,
        planned_start_date=date(2026, 9, 3),
        planned_finish_date=date(2026, 9, 12),
        assignee_id=workshop_engineer.id,
        assignee_name="化建公司",
        turnaround_id=turnaround.id,
        is_revamp_tie_in=True,
    )
    order.requested_at = datetime(2026, 8, 1, 9, 30, tzinfo=PLANT)
    order.planned_cost_cny, order.actual_cost_cny = Decimal("250000.00"), Decimal("1234567.89")
    order.labour_hours = Decimal("36.5")
    order.failure_mode = FailureMode.INL
    session.flush()
    make_order(title="不在大修范围")
    return order


# --- CSV ----------------------------------------------------------------------------------


def test_csv_has_a_bom_and_the_same_rows_in_the_same_order_as_the_list(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder, asset: Asset
) -> None:
    first = make_order(title="泵体泄漏", priority=Priority.LOW)
    second = make_order(title="轴承异响", priority=Priority.URGENT)
    make_order(order_type=OrderType.PM, title="月度保养")
    login(client, workshop_engineer)
    params = {"order_type": "CM", "sort": "priority"}

    response = client.get("/orders", params={**params, "export": "csv"})

    assert response.content.startswith(BOM), "Excel needs the BOM to read UTF-8 Chinese"
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert quote(f"工单_{plant_today()}.csv") in disposition
    frame = read_csv(response)
    assert list(frame.columns) == ZH_HEADERS
    expected = [
        order.number
        for order in session.scalars(OrderFilters.model_validate(params).apply(select(WorkOrder), workshop_engineer))
    ]
    assert list(frame["工单号"]) == expected == [second.number, first.number], "same rows, same order"
    row = by_number(frame)[first.number]
    assert (row["工单类型"], row["状态"], row["优先级"]) == ("故障维修", "草稿", "低")
    assert (row["设备位号"], row["标题"]) == (asset.tag, "泵体泄漏")
    assert row["技改碰头"] == "否"


def test_csv_of_a_turnaround_scope_carries_its_code_tie_in_flag_and_money(
    client: TestClient, auditor: User, scope: WorkOrder, workshop_engineer: User, workshop: Workshop
) -> None:
    login(client, auditor)

    response = client.get("/orders", params={"turnaround_id": scope.turnaround_id, "export": "csv"})

    assert quote(f"工单_TA2026_{plant_today()}.csv") in response.headers["content-disposition"]
    frame = read_csv(response)
    assert list(frame["工单号"]) == [scope.number], "only the scope"
    row = frame.iloc[0]
    assert (row["大修编号"], row["技改碰头"]) == ("TA2026", "是")
    assert (row["计划费用(元)"], row["实际费用(元)"], row["工时(小时)"]) == ("250000.00", "1234567.89", "36.500")
    assert (row["计划开始"], row["计划完成"], row["到期日"]) == ("2026-09-03", "2026-09-12", "")
    assert row["申请时间"] == "2026-08-01 09:30:00", "plant wall-clock time"
    assert row["负责人/承修单位"] == f"{workshop_engineer.display_name} / 化建公司"
    assert row["车间"] == workshop.name
    assert row["故障模式"] == "内部泄漏"


def test_headers_and_labels_follow_the_language(client: TestClient, engineer: User, make_order: MakeOrder) -> None:
    make_order(order_type=OrderType.CBM)
    login(client, engineer)
    client.cookies.set("lang", "en")

    frame = read_csv(client.get("/orders", params={"export": "csv"}))

    assert list(frame.columns) == EN_HEADERS
    assert (frame.loc[0, "Type"], frame.loc[0, "State"], frame.loc[0, "Revamp tie-in"]) == (
        "Condition-based (CBM)",
        "Draft",
        "no",
    )


def test_formula_like_text_is_never_a_formula(client: TestClient, engineer: User, make_order: MakeOrder) -> None:
    hostile = '=HYPERLINK("http://evil.example","点我")'
    make_order(title=hostile, assignee_name="@SUM(1+1)")
    login(client, engineer)

    row = read_csv(client.get("/orders", params={"export": "csv"})).iloc[0]
    xlsx = client.get("/orders", params={"export": "xlsx"})

    assert row["标题"] == "'" + hostile, "OWASP: a leading apostrophe keeps Excel from evaluating"
    assert row["负责人/承修单位"] == "'@SUM(1+1)"
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as workbook:
        sheets_xml = b"".join(workbook.read(name) for name in workbook.namelist() if name.startswith("xl/worksheets/"))
    assert not re.search(rb"<f[ >]", sheets_xml), "no cell of the workbook is a formula"
    assert read_xlsx(xlsx)[DATA_SHEET].iloc[0]["标题"] == hostile


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_has_typed_cells_and_a_header_sheet(client: TestClient, auditor: User, scope: WorkOrder) -> None:
    login(client, auditor)

    response = client.get("/orders", params={"turnaround_id": scope.turnaround_id, "export": "xlsx"})

    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    assert quote(f"工单_TA2026_{plant_today()}.xlsx") in response.headers["content-disposition"]
    assert response.headers["x-export-rows"] == "1"
    sheets = read_xlsx(response)
    assert list(sheets) == [ABOUT_SHEET, DATA_SHEET]
    data = sheets[DATA_SHEET]
    assert list(data.columns) == ZH_HEADERS
    row = data.iloc[0]
    assert row["计划开始"] == pd.Timestamp(2026, 9, 3), "dates are date cells"
    assert row["申请时间"] == pd.Timestamp(2026, 8, 1, 9, 30)
    assert row["实际费用(元)"] == pytest.approx(1234567.89), "money is a number"
    assert row["工时(小时)"] == pytest.approx(36.5)
    assert (row["大修编号"], row["技改碰头"]) == ("TA2026", "是")
    assert pd.isna(row["到期日"]), "an empty date is an empty cell"
    with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
        styles = workbook.read("xl/styles.xml").decode()
    assert 'formatCode="#,##0.00"' in styles
    header = about(sheets)
    assert header["筛选条件"] == "大修=TA2026"
    assert header["大修"] == "TA2026 2026年大修"
    assert header["导出人"] == f"陈审计 ({auditor.username})"
    assert header["行数"] == 1


def test_the_queue_and_filters_are_respected_and_described(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder, workshop: Workshop
) -> None:
    late = make_order(planned_finish_date=plant_today() - timedelta(days=2))
    make_order(planned_finish_date=plant_today() + timedelta(days=2))
    late_pm = make_order(order_type=OrderType.PM, due_date=plant_today() - timedelta(days=1))
    done = make_order(planned_finish_date=plant_today() - timedelta(days=2))
    done.state = OrderState.COMPLETED
    session.flush()
    login(client, workshop_engineer)
    params = {"queue": "overdue", "order_type": "CM", "workshop_id": workshop.id, "q": "泵"}

    csv_rows = read_csv(client.get("/orders", params={**params, "export": "csv"}))
    sheets = read_xlsx(client.get("/orders", params={**params, "export": "xlsx"}))

    assert list(csv_rows["工单号"]) == [late.number]
    assert list(sheets[DATA_SHEET]["工单号"]) == [late.number]
    assert late_pm.number not in set(csv_rows["工单号"])
    assert about(sheets)["筛选条件"] == f"队列=逾期工单；类型=故障维修；车间={workshop.name}；关键字“泵”"


# --- Who may export -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.MANAGER, Role.AUDITOR, Role.ADMIN])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_role_may_export(client: TestClient, make_order: MakeOrder, role: Role, fmt: str) -> None:
    make_order()
    login(client, factories.UserFactory(role=role))

    response = client.get("/orders", params={"export": fmt})

    assert response.status_code == 200
    assert response.cookies.get(EXPORT_COOKIE) == fmt, "the page's export button learns it has started"


def test_unknown_format_is_refused(client: TestClient, engineer: User) -> None:
    login(client, engineer)
    assert client.get("/orders", params={"export": "pdf"}).status_code == 422


def test_anonymous_users_are_sent_to_log_in(client: TestClient) -> None:
    response = client.get("/orders", params={"export": "xlsx"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# --- Large exports ------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_rows(
    client: TestClient,
    session: Session,
    engineer: User,
    make_order: MakeOrder,
    turnaround: Turnaround,
    count_queries: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("maintenance.exports.BATCH_SIZE", 7)  # several batches even for a small table
    users = [factories.UserFactory(role=Role.ENGINEER) for _ in range(3)]

    def add(count: int) -> None:
        for index in range(count):
            make_order(assignee_id=users[index % 3].id, turnaround_id=turnaround.id if index % 2 else None)

    def queries(params: dict[str, Any]) -> int:
        count_queries.clear()
        response = client.get("/orders", params=params)
        assert response.status_code == 200
        return len(count_queries)

    login(client, engineer)
    add(2)
    few = {fmt: queries({"export": fmt, "sort": "asset"}) for fmt in ("csv", "xlsx")}
    add(38)
    many = {fmt: queries({"export": fmt, "sort": "asset"}) for fmt in ("csv", "xlsx")}

    assert many == few
    assert len(read_csv(client.get("/orders", params={"export": "csv"}))) == 40


def test_csv_is_streamed_in_chunks(session: Session, make_order: MakeOrder, engineer: User) -> None:
    for _ in range(5):
        make_order()
    export = exports.OrderExport.start(session, OrderFilters(), user=engineer, locale="zh_CN")

    chunks = list(export.csv_chunks(rows_per_chunk=2))

    assert len(chunks) == 3
    assert chunks[0].startswith(BOM)
    assert export.row_count == 5
