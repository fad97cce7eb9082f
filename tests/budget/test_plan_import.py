"""The plan's XLSX import, on hand-computed cases: the preview's totals by workshop against the
target and nothing written; the confirmation replacing the whole allocation (cells the file does
not name removed) and logging each change; every row's error by row, column and reason; all or
nothing."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.budget import plan_import
from maintenance.budget.models import Allocation, BudgetYear
from maintenance.orders.choices import CostCategory
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.budget.conftest import SYSTEM
from tests.conftest import login

PAGE = "/budget/2026/allocation/import"
HEADERS = ["车间", "费用科目", "月份", "金额(元)"]

AllocateFn = Callable[..., Allocation]


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


def workbook(*rows: list[Any], headers: list[str] = HEADERS) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["2026年检修费用预算分解"])  # a title above the header row
    for number, row in enumerate([headers, *rows], start=1):
        sheet.write_row(number, 0, row)
    book.close()
    return buffer.getvalue()


def _cells(session: Session) -> dict[tuple[str, CostCategory, int], Decimal]:
    rows = session.exec(
        select(Workshop.code, Allocation.category, Allocation.month, Allocation.amount_cny).join(Workshop)
    )
    return {(code, category, month): amount for code, category, month, amount in rows}


def _preview(client: TestClient, token: str, content: bytes, name: str = "预算.xlsx") -> Any:
    return client.post(f"{PAGE}/preview", data={"csrf_token": token}, files={"file": (name, content)})


def _upload_token(html: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f]{64})"', html)
    assert match, html[:3000]
    return match.group(1)


def _errors(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-error-row="(\d*)" data-error-column="([^"]+)"', html)


def _text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert match, html[:3000]
    return match.group(1).strip()


PLAN = (
    ["SYN", "materials", 1, 1000000],
    ["SYN", "材料费", 2, "1,000,000.00"],
    ["SYN", "Outsourced services", 12, 500000.5],
    ["UTL", "人工费", "1", "200000"],
)


def test_the_preview_totals_the_plan_by_workshop_against_the_target_and_writes_nothing(
    client: TestClient,
    session: Session,
    manager: User,
    workshop: Workshop,
    other_workshop: Workshop,
    allocate: AllocateFn,
) -> None:
    allocate(workshop, CostCategory.SPARES, 5, "99999.00")
    token = login(client, manager)
    client.cookies.set("lang", "en")

    response = _preview(client, token, workbook(*PLAN))

    assert response.status_code == 200, response.text[:3000]
    assert "4" in re.search(r"<p class=\"mb-2\">([^<]*)</p>", response.text).group(1)  # type: ignore[union-attr]
    totals = re.findall(r'data-workshop="(\w+)"><td>.*?</td><td class="text-end">([^<]*)</td>', response.text)
    # SYN: 1000000 + 1000000 + 500000.50 = 2500000.50 元 = 250.00 万元; UTL: 20.00 万元.
    assert totals == [("SYN", "250.00"), ("UTL", "20.00")]
    assert _text_of(response.text, "plan-total") == "270.00"
    assert _text_of(response.text, "plan-target") == "1,560.00"
    assert _text_of(response.text, "plan-unallocated") == "1,290.00"  # 15600000 − 2700000.50 = 12899999.50
    assert _upload_token(response.text)
    assert _cells(session) == {("SYN", CostCategory.SPARES, 5): Decimal("99999.00")}


def test_confirming_replaces_the_whole_allocation_and_logs_each_change(
    client: TestClient,
    session: Session,
    manager: User,
    workshop: Workshop,
    other_workshop: Workshop,
    allocate: AllocateFn,
) -> None:
    allocate(workshop, CostCategory.SPARES, 5, "99999.00")  # not in the file: removed
    allocate(workshop, CostCategory.MATERIALS, 1, "300000.00")  # changed to 1000000
    allocate(other_workshop, CostCategory.LABOUR, 1, "200000.00")  # the same: untouched
    token = login(client, manager)
    client.cookies.set("lang", "en")
    preview = _preview(client, token, workbook(*PLAN))

    response = client.post(f"{PAGE}/confirm", data={"csrf_token": token, "token": _upload_token(preview.text)})

    assert (response.status_code, response.headers["location"]) == (303, "/budget/2026/allocation")
    assert _cells(session) == {
        ("SYN", CostCategory.MATERIALS, 1): Decimal("1000000.00"),
        ("SYN", CostCategory.MATERIALS, 2): Decimal("1000000.00"),
        ("SYN", CostCategory.SERVICES, 12): Decimal("500000.50"),
        ("UTL", CostCategory.LABOUR, 1): Decimal("200000.00"),
    }
    stmt = select(ObjectChange.action).where(col(ObjectChange.object_type) == "budget_allocation")
    assert sorted(session.exec(stmt)) == sorted(
        [ChangeAction.DELETE, ChangeAction.UPDATE, ChangeAction.CREATE, ChangeAction.CREATE]
    )
    grid = client.get("/budget/2026/allocation").text
    assert "2 cells added, 1 changed, 1 removed" in grid


def test_every_error_names_row_column_and_reason_and_nothing_can_be_confirmed(
    client: TestClient, session: Session, manager: User, workshop: Workshop, allocate: AllocateFn
) -> None:
    allocate(workshop, CostCategory.SPARES, 5, "99999.00")
    token = login(client, manager)
    client.cookies.set("lang", "en")
    content = workbook(
        ["SYN", "materials", 1, 100],  # row 3: fine
        ["XXX", "materials", 1, 100],  # row 4: unknown workshop
        ["SYN", "燃料费", 1, 100],  # row 5: unknown category
        ["SYN", "labour", 13, 100],  # row 6: month out of range
        ["SYN", "labour", 2, "-5"],  # row 7: negative amount
        ["SYN", "labour", 3, "12.345"],  # row 8: finer than the fen
        ["SYN", "Materials", "1", 200],  # row 9: the cell of row 3 again
        ["SYN", "spares", "", 100],  # row 10: no month
    )

    response = _preview(client, token, content)

    assert response.status_code == 422
    assert _errors(response.text) == [
        ("4", "车间"),
        ("5", "费用科目"),
        ("6", "月份"),
        ("7", "金额(元)"),
        ("8", "金额(元)"),
        ("9", "月份"),
        ("10", "月份"),
    ]
    for reason in (
        "No workshop has the code XXX",
        "is not one of",
        "out of range",
        "negative",
        "more than two decimal",
        "already on row 3",
        "required",
    ):
        assert reason in response.text, reason
    assert 'name="token"' not in response.text
    assert _cells(session) == {("SYN", CostCategory.SPARES, 5): Decimal("99999.00")}


def test_the_service_writes_nothing_when_a_row_has_an_error(
    session: Session, workshop: Workshop, allocate: AllocateFn
) -> None:
    allocate(workshop, CostCategory.SPARES, 5, "99999.00")
    content = workbook(["SYN", "materials", 1, 100], ["SYN", "materials", 2, "abc"])

    with pytest.raises(plan_import.PlanImportFailed) as failure, session.begin_nested():
        plan_import.import_plan(session, 2026, content, actor=SYSTEM)

    assert [(e.row, e.field) for e in failure.value.report.errors] == [(4, "金额(元)")]
    assert _cells(session) == {("SYN", CostCategory.SPARES, 5): Decimal("99999.00")}


def test_a_year_without_a_target_cannot_be_imported(
    client: TestClient, session: Session, manager: User, workshop: Workshop
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")
    response = _preview(client, token, workbook(["SYN", "materials", 1, 100]))
    assert response.status_code == 422
    assert _errors(response.text) == [("", "File")]
    assert _cells(session) == {}


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"workshop,category\nSYN,materials\n", "plan.csv"),
        (b"", "plan.xlsx"),
        (workbook(headers=["车间", "金额"]), "p.xlsx"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(
    client: TestClient, manager: User, budget: BudgetYear, content: bytes, name: str
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")
    response = _preview(client, token, content, name)
    assert response.status_code == 422
    assert 'name="token"' not in response.text


def test_confirming_a_file_no_longer_stored_is_not_found(client: TestClient, manager: User, budget: BudgetYear) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")
    response = client.post(f"{PAGE}/confirm", data={"csrf_token": token, "token": "0" * 64})
    assert response.status_code == 404


def test_the_template_has_the_headers_the_import_reads(
    client: TestClient, session: Session, manager: User, workshop: Workshop, budget: BudgetYear
) -> None:
    login(client, manager)
    response = client.get(f"{PAGE}/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == plan_import.XLSX_MEDIA_TYPE
    # Filled in as it comes, the template imports: one row per category for the first workshop.
    report = plan_import.analyse(session, 2026, response.content, actor=SYSTEM)
    assert not report.errors
    assert report.total_cny == Decimal("50000.00")


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineers_and_auditors_cannot_import(
    client: TestClient, session: Session, workshop: Workshop, budget: BudgetYear, role: Role
) -> None:
    token = login(client, factories.UserFactory(role=role))
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/template.xlsx").status_code == 403
    assert _preview(client, token, workbook(["SYN", "materials", 1, 100])).status_code == 403
    assert client.post(f"{PAGE}/confirm", data={"csrf_token": token, "token": "0" * 64}).status_code == 403
    assert _cells(session) == {}
