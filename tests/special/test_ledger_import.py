"""Importing the plant's XLSX ledger: rows checked with their row, column and reason; all or
nothing by default, valid rows only on request; a row already in the register is skipped; a
certificate number creates the missing registration; every record is in the change log; the
pages are for managers and admins, through preview then confirm."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.models import ObjectChange
from maintenance.org.models import User
from maintenance.special.choices import InspectionResult
from maintenance.special.ledger_import import ImportMode, LedgerImportFailed, analyse, import_ledger
from maintenance.special.models import Registration, SpecialInspection
from tests.conftest import login
from tests.special.conftest import SYSTEM, MakeItem, Report

HEADERS = [
    "位号",
    "检验类别",
    "上次检验日期",
    "检验结论",
    "安全状况等级",
    "下次检验日期",
    "检验机构",
    "报告编号",
    "使用登记证编号",
    "登记日期",
    "登记机关",
]


def workbook(*rows: list[Any], headers: list[str] = HEADERS) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["XX化工厂特种设备台账"])  # a title above the header row
    for number, row in enumerate([headers, *rows], start=1):
        sheet.write_row(number, 0, row)
    book.close()
    return buffer.getvalue()


GOOD = [
    "V-1",
    "PV-PERIODIC",
    "2024-05-20",
    "符合要求",
    2,
    "2030-05-19",
    "市特检院",
    "DJ-2024-007",
    "容31GD0001",
    "2022-07-01",
    "市场监管局",
]
ANNUAL = ["V-1", "压力容器年度检查", "2024/5/20", "合格", "", "", "市特检院", "NJ-2024-001", "", "", ""]


@pytest.fixture
def v1(make_item: MakeItem) -> Asset:
    return make_item(tag="V-1")


def _inspections(session: Session) -> list[tuple[str, date, InspectionResult, int | None, date | None, str]]:
    rows = session.scalars(select(SpecialInspection).order_by(SpecialInspection.id))
    return [
        (str(r.inspection_type_id), r.inspected_date, r.result, r.safety_grade, r.report_next_due_date, r.report_number)
        for r in rows
    ]


def test_rows_become_audited_inspections_and_the_missing_registration(
    session: Session, v1: Asset, inspection_type: Any
) -> None:
    report = import_ledger(session, workbook(GOOD, ANNUAL), actor=SYSTEM, mode=ImportMode.ALL_OR_NOTHING)

    assert (report.inspections_created, report.registrations_created) == (2, 1)
    periodic, annual = str(inspection_type("PV-PERIODIC").id), str(inspection_type("PV-ANNUAL").id)
    assert _inspections(session) == [
        (periodic, date(2024, 5, 20), InspectionResult.PASS, 2, date(2030, 5, 19), "DJ-2024-007"),
        (annual, date(2024, 5, 20), InspectionResult.PASS, None, None, "NJ-2024-001"),
    ]
    registration = session.scalars(select(Registration)).one()
    assert (registration.asset_id, registration.certificate_number, registration.registration_date) == (
        v1.id,
        "容31GD0001",
        date(2022, 7, 1),
    )
    logged = session.scalars(
        select(ObjectChange.object_type).where(
            ObjectChange.object_type.in_(["special_inspection", "special_registration"])
        )
    ).all()
    assert sorted(logged) == ["special_inspection", "special_inspection", "special_registration"]


def test_reimporting_the_same_rows_skips_them(
    session: Session, v1: Asset, report: Report, inspection_type: Any
) -> None:
    import_ledger(session, workbook(GOOD), actor=SYSTEM, mode=ImportMode.ALL_OR_NOTHING)

    preview = analyse(session, workbook(GOOD, GOOD))
    assert (preview.new, preview.duplicates, preview.invalid) == (0, 2, 0)
    with pytest.raises(LedgerImportFailed):
        import_ledger(session, workbook(GOOD), actor=SYSTEM, mode=ImportMode.ALL_OR_NOTHING)
    assert len(_inspections(session)) == 1


def test_row_errors_name_row_column_and_reason_and_nothing_is_written(
    session: Session, v1: Asset, make_item: MakeItem, english: None
) -> None:
    from maintenance.assets.choices import AssetClass, SpecialCategory

    make_item(tag="PSV-1", asset_class=AssetClass.VALVE, special_category=SpecialCategory.SAFETY_VALVE)
    rows = [
        GOOD,
        ["P-404", "PV-ANNUAL", "2024-05-20", "符合要求", "", "", "市特检院", "", "", "", ""],
        ["PSV-1", "PV-ANNUAL", "2024-05-20", "符合要求", "", "", "市特检院", "", "", "", ""],
        ["V-1", "PV-ANNUAL", "05/20/2024", "良好", 7, "", "", "", "", "", ""],
    ]

    with pytest.raises(LedgerImportFailed) as failure:
        import_ledger(session, workbook(*rows), actor=SYSTEM, mode=ImportMode.ALL_OR_NOTHING)

    errors = [(e.row, e.field) for e in failure.value.report.errors]
    # Row 3 is the first data row (a title, then the header row).
    assert errors == [
        (4, "位号"),
        (5, "检验类别"),
        (6, "上次检验日期"),
        (6, "检验结论"),
        (6, "安全状况等级"),
        (6, "检验机构"),
    ]
    assert "P-404" in failure.value.report.errors[0].message
    assert _inspections(session) == []


def test_the_valid_rows_only_on_request(session: Session, v1: Asset) -> None:
    bad = ["V-404", "PV-ANNUAL", "2024-05-20", "符合要求", "", "", "市特检院", "", "", "", ""]

    report = import_ledger(session, workbook(GOOD, bad), actor=SYSTEM, mode=ImportMode.VALID_ONLY)

    assert (report.inspections_created, report.invalid) == (1, 1)


def test_a_file_without_the_columns_is_refused(session: Session) -> None:
    report = analyse(session, workbook(["V-1"], headers=["名称"]))

    assert report.file_errors
    assert not report.importable


# --- The pages ----------------------------------------------------------------------------


def test_engineers_may_not_import(client: TestClient, workshop_engineer: User) -> None:
    login(client, workshop_engineer)

    assert client.get("/special-equipment/import").status_code == 403
    assert client.get("/special-equipment/import/template.xlsx").status_code == 403


def test_preview_then_confirm(client: TestClient, session: Session, manager: User, v1: Asset) -> None:
    token = login(client, manager)
    template = client.get("/special-equipment/import/template.xlsx")
    assert template.status_code == 200
    assert template.content.startswith(b"PK")

    preview = client.post(
        "/special-equipment/import/preview",
        data={"csrf_token": token},
        files={"file": ("台账.xlsx", workbook(GOOD), "application/octet-stream")},
    )
    assert preview.status_code == 200
    assert _inspections(session) == []  # nothing before the confirmation
    [file_token] = re.findall(r'name="token" value="([0-9a-f]{64})"', preview.text)

    confirmed = client.post(
        "/special-equipment/import/confirm", data={"csrf_token": token, "token": file_token, "mode": "all"}
    )
    assert confirmed.status_code in (200, 303)
    assert session.scalar(select(func.count()).select_from(SpecialInspection)) == 1


def test_a_file_of_another_type_is_a_422_page(client: TestClient, manager: User) -> None:
    token = login(client, manager)

    response = client.post(
        "/special-equipment/import/preview",
        data={"csrf_token": token},
        files={"file": ("ledger.csv", b"a,b\n1,2\n", "text/csv")},
    )

    assert response.status_code == 422
    assert 'data-testid="import-error"' in response.text
