"""Importing the seal-point inventory from XLSX through the served app: preview, then confirm;
rows checked with their row, column and reason; all or nothing; an existing code updates its
line; engineers import only their own workshops' lines; every write in the change log."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.leakfree.choices import SealType
from maintenance.leakfree.models import SealPoint
from maintenance.org.models import User, Workshop
from tests import factories
from tests.conftest import login
from tests.leakfree.conftest import MakeSealPoint

PAGE = "/leakfree/seal-points/import"
HEADERS = ["编号", "车间", "装置", "设备位号", "密封点类型", "部位", "数量"]


def workbook(*rows: list[Any], headers: list[str] = HEADERS) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["一车间密封点台账"])  # a title above the header row
    for number, row in enumerate([headers, *rows], start=1):
        sheet.write_row(number, 0, row)
    book.close()
    return buffer.getvalue()


@pytest.fixture
def plant(session: Session, workshop: Workshop) -> dict[str, Any]:
    """Workshop W-A (the fixture's, recoded) with unit U-A1 and pump P-101A; workshop W-B with
    tower T-201."""
    workshop.code = "W-A"
    other = factories.WorkshopFactory(code="W-B")
    session.add(workshop)
    session.flush()
    return {
        "unit": factories.UnitFactory(code="U-A1", workshop_id=workshop.id),
        "other_unit": factories.UnitFactory(code="U-B1", workshop_id=other.id),
        "pump": factories.AssetFactory(tag="P-101A", workshop_id=workshop.id),
        "tower": factories.AssetFactory(tag="T-201", workshop_id=other.id),
        "other": other,
    }


def _points(session: Session) -> list[tuple[str, SealType, str, int, int | None, int | None]]:
    rows = session.scalars(select(SealPoint).order_by(SealPoint.code))
    return [(p.code, p.seal_type, p.location, p.count, p.unit_id, p.asset_id) for p in rows]


def _changes(session: Session) -> int:
    stmt = select(func.count()).select_from(ObjectChange).where(ObjectChange.object_type == "seal_point")
    return session.scalar(stmt) or 0


def _preview(client: TestClient, token: str, content: bytes, name: str = "台账.xlsx") -> Any:
    return client.post(f"{PAGE}/preview", data={"csrf_token": token}, files={"file": (name, content)})


def _upload_token(html: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f]{64})"', html)
    assert match, html[:3000]
    return match.group(1)


def _errors(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-error-row="(\d*)" data-error-column="([^"]+)"', html)


def _import(client: TestClient, token: str, content: bytes) -> Any:
    preview = _preview(client, token, content)
    assert preview.status_code == 200, preview.text[:3000]
    return client.post(f"{PAGE}/confirm", data={"csrf_token": token, "token": _upload_token(preview.text)})


# --- The happy path ---------------------------------------------------------------------------


def test_the_preview_says_what_each_row_would_do_and_writes_nothing(
    client: TestClient, session: Session, manager: User, workshop: Workshop, plant: dict[str, Any]
) -> None:
    token = login(client, manager)
    content = workbook(
        ["A-F-01", "W-A", "U-A1", "P-101A", "法兰", "P-101A 出口法兰", 12],
        ["A-S-01", "w-a", "", "", "Pump mechanical seal", "", "2"],
        ["B-V-01", "W-B", "U-B1", "T-201", "valve_packing", "塔顶阀", 30.0],
    )

    preview = _preview(client, token, content)

    assert preview.status_code == 422
    assert re.findall(r'data-row="(\d+)" data-action="(\w+)"', preview.text) == [
        ("3", "create"),
        ("4", "error"),
        ("5", "create"),
    ]
    # 车间 codes are exact: "w-a" names no workshop.
    assert _errors(preview.text) == [("4", "车间")]
    assert _points(session) == []


def test_confirming_writes_every_line_and_logs_each(
    client: TestClient, session: Session, manager: User, workshop: Workshop, plant: dict[str, Any]
) -> None:
    token = login(client, manager)
    content = workbook(
        ["A-F-01", "W-A", "U-A1", "P-101A", "法兰", "P-101A 出口法兰", 12],
        ["A-S-01", "W-A", "", "", "Pump mechanical seal", "", "2"],
        ["B-V-01", "W-B", "U-B1", "T-201", "valve_packing", "塔顶阀", 30.0],
    )

    response = _import(client, token, content)

    assert response.status_code == 303
    assert _points(session) == [
        ("A-F-01", SealType.FLANGE, "P-101A 出口法兰", 12, plant["unit"].id, plant["pump"].id),
        ("A-S-01", SealType.PUMP_SEAL, "", 2, None, None),
        ("B-V-01", SealType.VALVE_PACKING, "塔顶阀", 30, plant["other_unit"].id, plant["tower"].id),
    ]
    assert _changes(session) == 3


def test_re_importing_updates_existing_codes_and_reports_them(
    client: TestClient,
    session: Session,
    manager: User,
    workshop: Workshop,
    plant: dict[str, Any],
    make_seal_point: MakeSealPoint,
) -> None:
    kept = make_seal_point(code="A-F-01", seal_type=SealType.FLANGE, count=10, location="旧位置")
    make_seal_point(code="A-F-02", seal_type=SealType.FLANGE, count=5, location="不变")
    token = login(client, manager)
    client.cookies.set("lang", "en")
    content = workbook(
        ["A-F-01", "W-A", "", "", "丝堵/盲板", "新位置", 14],
        ["A-F-02", "W-A", "", "", "flange", "不变", 5],
        ["A-F-03", "W-A", "", "", "flange", "", 1],
    )

    preview = _preview(client, token, content)
    actions = re.findall(r'data-row="(\d+)" data-action="(\w+)"', preview.text)
    response = client.post(f"{PAGE}/confirm", data={"csrf_token": token, "token": _upload_token(preview.text)})

    assert actions == [("3", "update"), ("4", "unchanged"), ("5", "create")]
    assert response.status_code == 303
    assert "1 lines added, 1 updated, 1 unchanged" in client.get(response.headers["location"]).text
    session.refresh(kept)
    assert (kept.id, kept.seal_type, kept.location, kept.count, kept.version) == (
        kept.id,
        SealType.PLUG,
        "新位置",
        14,
        2,
    )
    assert [code for code, *_rest in _points(session)] == ["A-F-01", "A-F-02", "A-F-03"]
    assert _changes(session) == 2  # the update and the new line; the unchanged line is not touched


def test_a_retired_line_the_file_names_comes_back_into_service(
    client: TestClient, session: Session, manager: User, plant: dict[str, Any], make_seal_point: MakeSealPoint
) -> None:
    retired = make_seal_point(code="A-F-09", seal_type=SealType.FLANGE, count=6, location="旧管线", is_active=False)
    token = login(client, manager)

    preview = _preview(client, token, workbook(["A-F-09", "W-A", "", "", "flange", "旧管线", 6]))
    actions = re.findall(r'data-row="(\d+)" data-action="(\w+)"', preview.text)
    response = client.post(f"{PAGE}/confirm", data={"csrf_token": token, "token": _upload_token(preview.text)})

    assert actions == [("3", "update")]
    assert response.status_code == 303
    session.refresh(retired)
    assert (retired.is_active, retired.count) == (True, 6)


# --- Every kind of error, and all or nothing --------------------------------------------------


def test_every_error_names_row_column_and_reason_and_nothing_is_written(
    client: TestClient,
    session: Session,
    manager: User,
    workshop: Workshop,
    plant: dict[str, Any],
    make_seal_point: MakeSealPoint,
) -> None:
    make_seal_point(code="B-TAKEN", workshop_id=plant["other"].id)
    token = login(client, manager)
    client.cookies.set("lang", "en")
    content = workbook(
        ["A-OK-1", "W-A", "", "", "flange", "", 1],  # row 3: fine
        ["", "W-A", "", "", "flange", "", 1],  # 4: no code
        ["A-2", "W-X", "", "", "flange", "", 1],  # 5: unknown workshop
        ["A-3", "W-A", "U-B1", "", "flange", "", 1],  # 6: unit of another workshop
        ["A-4", "W-A", "", "T-201", "flange", "", 1],  # 7: asset of another workshop
        ["A-5", "W-A", "", "NO-TAG", "flange", "", 1],  # 8: unknown asset
        ["A-6", "W-A", "", "", "gasket", "", 1],  # 9: unknown seal type
        ["A-7", "W-A", "", "", "flange", "", 0],  # 10: count below 1
        ["A-8", "W-A", "", "", "flange", "", "十二"],  # 11: count not a number
        ["A-OK-1", "W-A", "", "", "flange", "", 2],  # 12: code repeated in the file
        ["B-TAKEN", "W-A", "", "", "flange", "", 2],  # 13: code of another workshop's line
        ["A 9", "W-A", "", "", "flange", "", 2],  # 14: a code with a space
        ["A-10", "W-A", "", "", "", "", ""],  # 15: no type, no count
    )

    preview = _preview(client, token, content)
    confirm = client.post(f"{PAGE}/confirm", data={"csrf_token": token, "token": "0" * 64})

    assert preview.status_code == 422
    assert _errors(preview.text) == [
        ("4", "编号"),
        ("5", "车间"),
        ("6", "装置"),
        ("7", "设备位号"),
        ("8", "设备位号"),
        ("9", "密封点类型"),
        ("10", "数量"),
        ("11", "数量"),
        ("12", "编号"),
        ("13", "编号"),
        ("14", "编号"),
        ("15", "密封点类型"),
        ("15", "数量"),
    ]
    text = preview.text
    assert "No workshop has the code W-X." in text
    assert "Workshop W-A has no unit U-B1." in text
    assert "Asset T-201 belongs to another workshop." in text
    assert "No asset has the tag NO-TAG." in text
    assert "gasket is not one of" in text
    assert "0 is out of range: enter 1 to 100000." in text
    assert "The code A-OK-1 is already on row 3." in text
    assert "The line B-TAKEN belongs to another workshop." in text
    assert 'name="token"' not in text  # nothing to confirm
    assert confirm.status_code == 404
    assert [code for code, *_rest in _points(session)] == ["B-TAKEN"]
    assert _changes(session) == 0


def test_confirming_a_file_with_an_error_writes_nothing(
    client: TestClient, session: Session, manager: User, workshop: Workshop, plant: dict[str, Any]
) -> None:
    """The file is checked again on confirmation: a line added meanwhile with a code the file
    uses elsewhere makes the whole import fail, and the valid rows are not written either."""
    token = login(client, manager)
    content = workbook(["A-1", "W-A", "", "", "flange", "", 1], ["A-2", "W-A", "", "", "flange", "", 1])
    preview = _preview(client, token, content)
    elsewhere = SealPoint(code="A-2", workshop_id=plant["other"].id, seal_type=SealType.FLANGE, count=1)
    session.add(elsewhere)
    session.flush()

    response = client.post(f"{PAGE}/confirm", data={"csrf_token": token, "token": _upload_token(preview.text)})

    assert response.status_code == 422
    assert _errors(response.text) == [("4", "编号")]
    assert [code for code, *_rest in _points(session)] == ["A-2"]
    assert _changes(session) == 0


def test_a_file_without_the_header_row_is_refused(
    client: TestClient, session: Session, manager: User, plant: dict[str, Any]
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")

    response = _preview(client, token, workbook(["A-1", "W-A"], headers=["名称", "说明"]))

    assert response.status_code == 422
    assert "No header row found" in response.text
    assert "编号" in response.text


def test_a_file_that_is_not_xlsx_is_refused(client: TestClient, manager: User) -> None:
    token = login(client, manager)

    assert _preview(client, token, b"code,count\nA,1\n", name="台账.csv").status_code == 422
    assert _preview(client, token, b"not a workbook", name="台账.xlsx").status_code == 422
    assert client.post(f"{PAGE}/preview", data={"csrf_token": token}).status_code == 422


# --- Who may import ---------------------------------------------------------------------------


def test_an_engineer_imports_only_their_own_workshop(
    client: TestClient, session: Session, workshop_engineer: User, workshop: Workshop, plant: dict[str, Any]
) -> None:
    token = login(client, workshop_engineer)
    client.cookies.set("lang", "en")
    mixed = workbook(["A-1", "W-A", "", "", "flange", "", 1], ["B-1", "W-B", "", "", "flange", "", 1])

    refused = _preview(client, token, mixed)
    accepted = _import(client, token, workbook(["A-1", "W-A", "", "", "flange", "", 1]))

    assert refused.status_code == 422
    assert _errors(refused.text) == [("4", "车间")]
    assert "You can only import the seal points of your own workshops." in refused.text
    assert accepted.status_code == 303
    assert [code for code, *_rest in _points(session)] == ["A-1"]


def test_an_auditor_cannot_import(client: TestClient, session: Session, auditor: User, plant: dict[str, Any]) -> None:
    token = login(client, auditor)

    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/template.xlsx").status_code == 403
    assert _preview(client, token, workbook(["A-1", "W-A", "", "", "flange", "", 1])).status_code == 403
    assert _points(session) == []


def test_the_template_has_the_headers_the_import_reads(client: TestClient, manager: User) -> None:
    login(client, manager)

    response = client.get(f"{PAGE}/template.xlsx")

    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0] == HEADERS
