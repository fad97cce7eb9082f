"""Importing finance journal vouchers from CSV or XLSX through the served app: preview, then
confirm; the imported amounts land in the budget's actual in their month, workshop and category;
a voucher already imported or repeated in the file is refused; every row error names row, column
and reason; nothing is written while a row has an error; only managers and admins import."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.budget import journal, journal_import, journal_routes, service
from maintenance.exceptions import Conflict
from maintenance.orders.choices import CostCategory
from maintenance.orders.models import JournalEntry, JournalEntryFields
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.budget.conftest import SYSTEM, YEAR
from tests.conftest import login

PAGE = "/budget/journal/import"
HEADERS = ["记账日期", "车间", "费用科目", "金额(元)", "凭证号", "摘要"]
MAR, APR = 2, 3  # month indexes of the year's cells

Book = Callable[..., JournalEntry]


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    """The import is checked on 30 June 2026 (entries booked after it are refused)."""
    day = date(2026, 6, 30)
    monkeypatch.setattr(journal_routes, "plant_today", lambda: day)
    return day


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def in_english(client: TestClient) -> None:
    """Pages in English: the refusals are checked by their words."""
    client.cookies.set("lang", "en")


def csv_file(*rows: str) -> bytes:
    return "\n".join([",".join(HEADERS), *rows]).encode("utf-8-sig")


def workbook(*rows: list[Any]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["2026年财务凭证（维修费用）"])  # a title above the header row
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for number, row in enumerate([HEADERS, *rows], start=1):
        for index, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(number, index, value, dates)
            else:
                sheet.write(number, index, value)
    book.close()
    return buffer.getvalue()


def _entries(session: Session) -> list[tuple[date, str, CostCategory, Decimal, str, str, str]]:
    stmt = select(JournalEntry, Workshop.code).join(Workshop).order_by(JournalEntry.reference)
    return [
        (e.booked_on, code, e.category, e.amount_cny, e.reference, e.description, e.source_file)
        for e, code in session.execute(stmt)
    ]


def _changes(session: Session) -> int:
    stmt = select(func.count()).select_from(ObjectChange).where(ObjectChange.object_type == "journal_entry")
    return session.scalar(stmt) or 0


def _preview(client: TestClient, csrf: str, content: bytes, name: str) -> Any:
    return client.post(f"{PAGE}/preview", data={"csrf_token": csrf}, files={"file": (name, content)})


def _upload_token(html: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f]{64})"', html)
    assert match, html[:3000]
    return match.group(1)


def _errors(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-error-row="(\d*)" data-error-column="([^"]+)"', html)


def _confirm(client: TestClient, csrf: str, preview: Any, name: str) -> Any:
    return client.post(
        f"{PAGE}/confirm", data={"csrf_token": csrf, "token": _upload_token(preview.text), "filename": name}
    )


# --- The happy paths --------------------------------------------------------------------------


def test_a_csv_file_is_previewed_with_its_totals_then_booked_into_the_actual(
    client: TestClient, session: Session, manager: User, workshop: Workshop, other_workshop: Workshop
) -> None:
    csrf = login(client, manager)
    content = csv_file(
        '2026-03-20,SYN,外委服务费,"120,000.00",记-0158,压缩机年度维保 一季度',
        "2026/3/28,SYN,services,-20000,记-0201,红冲 记-0158 多计部分",
        "2026-04-02,UTL,Spare parts,12.5万,记-0233,备件框架协议",
    )

    preview = _preview(client, csrf, content, "三月凭证.csv")

    assert preview.status_code == 200, preview.text[:3000]
    # SYN: 120,000.00 − 20,000.00 = 100,000.00 (10.00万); UTL: 125,000.00 (12.50万).
    assert re.findall(r'data-workshop="(\w+)" data-amount="([\d.-]+)"', preview.text) == [
        ("SYN", "100000.00"),
        ("UTL", "125000.00"),
    ]
    assert _entries(session) == []

    response = _confirm(client, csrf, preview, "三月凭证.csv")

    assert response.status_code == 303, response.text[:3000]
    assert _entries(session) == [
        (
            date(2026, 3, 20),
            "SYN",
            CostCategory.SERVICES,
            Decimal("120000.00"),
            "记-0158",
            "压缩机年度维保 一季度",
            "三月凭证.csv",
        ),
        (
            date(2026, 3, 28),
            "SYN",
            CostCategory.SERVICES,
            Decimal("-20000.00"),
            "记-0201",
            "红冲 记-0158 多计部分",
            "三月凭证.csv",
        ),
        (date(2026, 4, 2), "UTL", CostCategory.SPARES, Decimal("125000.00"), "记-0233", "备件框架协议", "三月凭证.csv"),
    ]
    assert {e.imported_by_id for e in session.scalars(select(JournalEntry))} == {manager.id}
    assert _changes(session) == 3
    report = service.budget_report(session, YEAR, date(YEAR, 12, 31))
    assert report.actual.sum(months=[MAR], workshop_id=workshop.id, category=CostCategory.SERVICES) == Decimal(
        "100000.00"
    )
    assert report.actual.sum(months=[APR], workshop_id=other_workshop.id, category=CostCategory.SPARES) == Decimal(
        "125000.00"
    )
    assert report.actual.total == Decimal("225000.00")


def test_an_xlsx_file_with_date_cells_and_numbers_is_booked(
    client: TestClient, session: Session, manager: User, workshop: Workshop
) -> None:
    csrf = login(client, manager)
    content = workbook(
        [date(2026, 5, 31), "SYN", "材料费", 3456.78, "记-0501", "垫片"],
        [date(2026, 6, 1), "SYN", "turnaround", "(1,000.50)", "记-0602", "大修 红冲"],
    )

    preview = _preview(client, csrf, content, "凭证.xlsx")
    assert preview.status_code == 200, preview.text[:3000]
    response = _confirm(client, csrf, preview, "凭证.xlsx")

    assert response.status_code == 303, response.text[:3000]
    assert _entries(session) == [
        (date(2026, 5, 31), "SYN", CostCategory.MATERIALS, Decimal("3456.78"), "记-0501", "垫片", "凭证.xlsx"),
        (date(2026, 6, 1), "SYN", CostCategory.TURNAROUND, Decimal("-1000.50"), "记-0602", "大修 红冲", "凭证.xlsx"),
    ]
    report = service.budget_report(session, YEAR, date(YEAR, 12, 31))
    assert report.actual.sum(months=[4], category=CostCategory.MATERIALS) == Decimal("3456.78")
    assert report.actual.sum(months=[5], category=CostCategory.TURNAROUND) == Decimal("-1000.50")


# --- Refusals -----------------------------------------------------------------------------------


def test_a_voucher_already_imported_is_refused_naming_row_reference_and_when(
    client: TestClient, session: Session, manager: User, workshop: Workshop, book: Book, in_english: None
) -> None:
    booked = book(workshop, "2026-02-10", CostCategory.SERVICES, "5000.00", "记-0100")
    booked.source_file = "二月凭证.xlsx"
    session.flush()
    csrf = login(client, manager)
    content = csv_file("2026-03-01,SYN,services,800,记-0300,", "2026-03-02,SYN,services,900,记-0100,")

    preview = _preview(client, csrf, content, "三月.csv")

    assert preview.status_code == 422
    assert _errors(preview.text) == [("3", "凭证号")]
    assert "The voucher 记-0100 was already imported on" in preview.text
    assert "二月凭证.xlsx" in preview.text
    assert 'name="token"' not in preview.text
    assert [e.reference for e in session.scalars(select(JournalEntry))] == ["记-0100"]


def test_a_voucher_repeated_in_the_file_is_refused_on_its_second_row(
    client: TestClient, session: Session, manager: User, workshop: Workshop, in_english: None
) -> None:
    csrf = login(client, manager)
    content = csv_file("2026-03-01,SYN,services,800,记-0300,", "2026-03-02,SYN,labour,900,记-0300,")

    preview = _preview(client, csrf, content, "三月.csv")

    assert preview.status_code == 422
    assert _errors(preview.text) == [("3", "凭证号")]
    assert "The voucher 记-0300 is already on row 2." in preview.text


def test_every_row_error_names_row_column_and_reason(
    client: TestClient, session: Session, manager: User, workshop: Workshop, in_english: None
) -> None:
    csrf = login(client, manager)
    content = csv_file(
        "2026-03-01,SYN,services,800.00,记-0001,fine",
        "2026-03-01,XXX,services,800,记-0002,unknown workshop",
        "2026-03-01,SYN,fuel,800,记-0003,unknown category",
        "2026-03-01,SYN,services,0,记-0004,zero",
        "2026-03-01,SYN,services,12.345,记-0005,three decimals",
        "2026-03-01,SYN,services,800,,no reference",
        "03/01/2026,SYN,services,800,记-0007,ambiguous date",
        "2026-07-01,SYN,services,800,记-0008,booked after today",
    )

    preview = _preview(client, csrf, content, "三月.csv")

    assert preview.status_code == 422
    assert _errors(preview.text) == [
        ("3", "车间"),
        ("4", "费用科目"),
        ("5", "金额(元)"),
        ("6", "金额(元)"),
        ("7", "凭证号"),
        ("8", "记账日期"),
        ("9", "记账日期"),
    ]
    assert "Booked after today (2026-06-30)" in preview.text
    assert "No workshop has the code XXX." in preview.text
    assert "0 is zero" in preview.text
    assert "12.345 has more than two decimal places" in preview.text
    assert _entries(session) == []


def test_a_file_without_the_header_row_or_of_another_type_is_refused(
    client: TestClient, session: Session, manager: User, workshop: Workshop, in_english: None
) -> None:
    csrf = login(client, manager)

    no_header = _preview(client, csrf, b"2026-03-01,SYN,services,800,V1,\n", "x.csv")
    wrong_type = _preview(client, csrf, b"%PDF-1.4", "x.pdf")

    assert no_header.status_code == 422
    assert "No header row found" in no_header.text
    assert wrong_type.status_code == 422
    assert ".pdf files cannot be imported" in wrong_type.text


def test_confirming_after_a_voucher_was_booked_meanwhile_writes_nothing(
    client: TestClient, session: Session, manager: User, workshop: Workshop, book: Book, in_english: None
) -> None:
    csrf = login(client, manager)
    content = csv_file("2026-03-01,SYN,services,800,记-0300,", "2026-03-02,SYN,services,900,记-0301,")
    preview = _preview(client, csrf, content, "三月.csv")
    assert preview.status_code == 200
    book(workshop, "2026-03-02", CostCategory.SERVICES, "900.00", "记-0301")

    response = _confirm(client, csrf, preview, "三月.csv")

    assert response.status_code == 422
    assert _errors(response.text) == [("3", "凭证号")]
    assert [e.reference for e in session.scalars(select(JournalEntry))] == ["记-0301"]
    assert _changes(session) == 0


def test_two_imports_confirming_the_same_voucher_at_once_end_in_a_409_not_a_500(
    client: TestClient,
    session: Session,
    manager: User,
    workshop: Workshop,
    book: Book,
    monkeypatch: pytest.MonkeyPatch,
    in_english: None,
) -> None:
    """The other import commits between this one's check and its write: the unique constraint
    refuses the voucher, and the savepoint leaves nothing of this file."""
    csrf = login(client, manager)
    content = csv_file("2026-03-01,SYN,services,800,记-0300,", "2026-03-02,SYN,services,900,记-0301,")
    preview = _preview(client, csrf, content, "三月.csv")
    book(workshop, "2026-03-02", CostCategory.SERVICES, "900.00", "记-0301")
    checked = journal_import._Context.load

    def blind_to_the_other_import(session: Session, data: Any, today: date) -> Any:
        context = checked(session, data, today)
        context.booked = {}
        return context

    monkeypatch.setattr(journal_import._Context, "load", staticmethod(blind_to_the_other_import))

    response = _confirm(client, csrf, preview, "三月.csv")

    assert response.status_code == 409
    assert "the vouchers 记-0301 were imported meanwhile" in response.text
    assert [e.reference for e in session.scalars(select(JournalEntry))] == ["记-0301"]


def test_the_service_refuses_a_booked_voucher_as_a_conflict(
    session: Session, workshop: Workshop, book: Book, english: None
) -> None:
    book(workshop, "2026-03-02", CostCategory.SERVICES, "900.00", "记-0301")
    data = [
        JournalEntryFields(
            booked_on=date(2026, 3, 1),
            workshop_id=workshop.id,
            category=CostCategory.LABOUR,
            amount_cny=Decimal("1"),
            reference=reference,
        )
        for reference in ("记-0300", "记-0301")
    ]

    with pytest.raises(Conflict, match="记-0301"):
        journal.create_entries(session, data, source_file="x.csv", actor=SYSTEM)

    assert [e.reference for e in session.scalars(select(JournalEntry))] == ["记-0301"]


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineers_and_auditors_cannot_import(client: TestClient, session: Session, role: Role) -> None:
    csrf = login(client, factories.UserFactory(role=role))

    pages = [client.get(PAGE), client.get(f"{PAGE}/template.xlsx")]
    preview = _preview(client, csrf, csv_file("2026-03-01,SYN,services,800,V1,"), "x.csv")

    assert [page.status_code for page in pages] == [403, 403]
    assert preview.status_code == 403


def test_the_template_has_the_headers_the_import_reads(client: TestClient, manager: User) -> None:
    login(client, manager)

    response = client.get(f"{PAGE}/template.xlsx")

    assert response.status_code == 200
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert sheet[0] == HEADERS
    assert [column.zh for column in journal_import.COLUMNS] == HEADERS
