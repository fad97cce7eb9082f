"""Importing readings from files: the encodings and headers people's exports have, every way a
time is written, bad rows reported by row and column, the three modes, idempotent re-import,
workshop permissions, the web page, the CLI, and that a file is streamed, never loaded whole.

Files are built in the tests (encoded CSV text, XlsxWriter workbooks), never committed.
"""

from __future__ import annotations

import io
import math
import re
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import Session, col
from typer.testing import CliRunner

from maintenance import cli
from maintenance.config import get_settings
from maintenance.i18n import LOCALE_COOKIE
from maintenance.monitoring.choices import ReadingSource
from maintenance.monitoring.models import MeasurementPoint, Reading
from maintenance.monitoring.readings import imports
from maintenance.monitoring.readings.imports import ReadingImportFailed, ReadingImportReport
from maintenance.monitoring.readings.ingest import IngestMode, IngestReport, ReadingIn
from maintenance.orders.models import WorkOrder
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import bombs, factories, spreadsheet_files
from tests.conftest import login
from tests.monitoring.conftest import SYSTEM, MakePoint

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Building files -----------------------------------------------------------------------


def csv_bytes(rows: Iterable[Iterable[Any]], encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(",".join(str(cell) for cell in row) for row in rows) + "\r\n"
    return text.encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    return spreadsheet_files.xlsx_bytes(rows, sheet="读数", date_format="yyyy-mm-dd hh:mm")


def run_import(session: Session, content: bytes, filename: str = "readings.csv", **options: Any) -> ReadingImportReport:
    options.setdefault("actor", SYSTEM)
    return imports.import_readings(session, io.BytesIO(content), filename, **options)


def stored(session: Session, point: MeasurementPoint) -> list[tuple[datetime, float]]:
    rows = session.execute(
        select(col(Reading.taken_at), col(Reading.value))
        .where(col(Reading.point_id) == point.id)
        .order_by(col(Reading.taken_at))
    ).all()
    return [(taken_at, value) for taken_at, value in rows]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# --- Encodings and headers ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_excel_writes_is_read(session: Session, make_point: MakePoint, encoding: str) -> None:
    point = make_point(code="P-101A-DE-V")
    content = csv_bytes(
        [
            ["测点编号", "时间", "数值"],
            ["P-101A-DE-V", "2026-03-05 08:00", "2.8"],
            ["P-101A-DE-V", "2026-03-05 16:00", "3.1"],
        ],
        encoding,
    )
    report = run_import(session, content)
    assert (report.received, report.inserted, report.rejected) == (2, 2, 0)
    assert report.encoding == {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 BOM", "gb18030": "GB18030"}[encoding]
    # Naive times are plant time (Asia/Shanghai, UTC+8).
    assert stored(session, point) == [(utc(2026, 3, 5, 0, 0), 2.8), (utc(2026, 3, 5, 8, 0), 3.1)]


@pytest.mark.parametrize(
    "header",
    [
        ["point", "taken_at", "value"],
        ["Point code", "Timestamp", "Reading"],
        ["测点", "测量时间", "数值(mm/s)"],
        ["code", "time", "测量值"],
        ["ＰＯＩＮＴ", "时间 ", "Value [mm/s]"],
    ],
)
def test_header_aliases_are_recognised(session: Session, make_point: MakePoint, header: list[str]) -> None:
    make_point(code="K-201")
    report = run_import(session, csv_bytes([header, ["K-201", "2026-03-05 08:00", "1.5"]]))
    assert report.inserted == 1
    assert report.columns["value"] == header[2].strip()


def test_title_rows_extra_columns_and_blank_rows_are_passed_over(session: Session, make_point: MakePoint) -> None:
    make_point(code="K-201")
    content = csv_bytes(
        [
            ["合成车间振动巡检数据导出", "", "", ""],
            ["", "", "", ""],
            ["序号", "测点编号", "时间", "数值", "备注"],
            ["1", "K-201", "2026-03-05 08:00", "1.5", "正常"],
            ["", "", "", "", ""],
            ["2", "K-201", "2026-03-05 09:00", "1.6", ""],
            ["序号", "测点编号", "时间", "数值", "备注"],  # a second page pasted below
            ["3", "K-201", "2026-03-05 10:00", "1.7", ""],
        ]
    )
    report = run_import(session, content)
    assert report.header_row == 3
    assert (report.received, report.inserted, report.skipped_blank) == (3, 3, 1)
    assert report.ignored_columns == ["序号", "备注"]


def test_a_file_without_the_three_columns_is_refused_with_what_it_needs(session: Session) -> None:
    with pytest.raises(ReadingImportFailed) as failure:
        run_import(session, csv_bytes([["测点编号", "数值"], ["K-201", "1.5"]]))
    assert "没有找到表头行" in failure.value.message  # No header row found
    assert "时间 / Taken at" in failure.value.message


def test_two_columns_for_one_field_are_refused(session: Session) -> None:
    with pytest.raises(ReadingImportFailed) as failure:
        run_import(session, csv_bytes([["测点编号", "时间", "数值", "测量值"], ["K-201", "2026-03-05", "1", "2"]]))
    assert "数值" in failure.value.message
    assert "测量值" in failure.value.message


@pytest.mark.parametrize(
    ("filename", "content", "words"),
    [
        ("readings.pdf", b"%PDF-1.4", "cannot be imported"),
        ("readings.csv", b"", "empty"),
        ("readings.xlsx", b"not a zip", "not an Excel workbook"),
        ("readings.csv", b"abc\x00\x00def", "not a text CSV"),
        ("readings.csv", "测点编号,时间,数值\r\n".encode("utf-16-le"), "not a text CSV"),
    ],
)
def test_files_that_cannot_be_read_say_why(
    session: Session, english: None, filename: str, content: bytes, words: str
) -> None:
    with pytest.raises(ReadingImportFailed) as failure:
        run_import(session, content, filename)
    assert words in failure.value.message
    assert failure.value.report.file_errors


# --- Times and values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-03-05 08:00", utc(2026, 3, 5, 0, 0)),
        ("2026-03-05T08:00:00", utc(2026, 3, 5, 0, 0)),
        ("2026-03-05T08:00:00+08:00", utc(2026, 3, 5, 0, 0)),
        ("2026-03-05T08:00:00Z", utc(2026, 3, 5, 8, 0)),
        ("2026/3/5 8:00", utc(2026, 3, 5, 0, 0)),
        ("2026/3/5 8:05:30", utc(2026, 3, 5, 0, 5, 30)),
        ("2026.3.5 8:00", utc(2026, 3, 5, 0, 0)),
        ("2026年3月5日 8:00", utc(2026, 3, 5, 0, 0)),
        ("2026年3月5日8时30分", utc(2026, 3, 5, 0, 30)),
        ("２０２６－０３－０５　０８：００", utc(2026, 3, 5, 0, 0)),
        ("46086.3333333333", utc(2026, 3, 5, 0, 0)),  # an Excel serial written as text
        ("2026-03-05", utc(2026, 3, 4, 16, 0)),  # a date alone is its plant midnight
    ],
)
def test_times_written_every_common_way(
    session: Session, make_point: MakePoint, written: str, expected: datetime
) -> None:
    point = make_point(code="K-201")
    report = run_import(session, csv_bytes([["测点编号", "时间", "数值"], ["K-201", written, "1.5"]]))
    assert report.inserted == 1, report.errors
    assert stored(session, point) == [(expected, 1.5)]


def test_xlsx_date_cells_and_excel_serial_numbers(session: Session, make_point: MakePoint) -> None:
    point = make_point(code="K-201")
    content = xlsx_bytes(
        [
            ["振动数据", None, None],
            ["测点编号", "时间", "数值"],
            ["K-201", datetime(2026, 3, 5, 8, 0), 1.5],  # noqa: DTZ001 - a date cell: naive, as Excel has it
            ["K-201", 46086.5, 1.6],  # a serial number cell: 2026-03-05 12:00
            ["K-201", "2026/3/5 16:00", "２.５"],  # text cells
        ]
    )
    report = run_import(session, content, "读数.xlsx")
    assert (report.file_format, report.sheet, report.header_row) == ("XLSX", "读数", 2)
    assert report.inserted == 3, report.errors
    assert stored(session, point) == [
        (utc(2026, 3, 5, 0, 0), 1.5),
        (utc(2026, 3, 5, 4, 0), 1.6),
        (utc(2026, 3, 5, 8, 0), 2.5),
    ]


@pytest.mark.parametrize(
    ("written", "value"),
    [("2.8", 2.8), ("１２.５", 12.5), ("1,234.5", 1234.5), ("1，234", 1234.0), (" 4.5 ", 4.5), ("1e2", 100.0)],
)
def test_values_with_full_width_digits_and_thousands_separators(
    session: Session, make_point: MakePoint, written: str, value: float
) -> None:
    point = make_point(code="FT-301", quantity="flow", warning_high=None, alarm_high=None)
    report = run_import(
        session, csv_bytes([["测点编号", "时间", "数值"], ["FT-301", "2026-03-05 08:00", f'"{written}"']])
    )
    assert report.inserted == 1, report.errors
    assert stored(session, point)[0][1] == value


# --- Bad rows and modes -------------------------------------------------------------------

BAD_FILE = [
    ["测点编号", "时间", "数值"],
    ["K-201", "2026-03-05 08:00", "1.5"],  # row 2: fine
    ["K-999", "2026-03-05 08:00", "1.5"],  # row 3: unknown point
    ["K-201", "05/03/2026 09:00", "1.5"],  # row 4: ambiguous date
    ["K-201", "2026-03-05 10:00", "abc"],  # row 5: not a number
    ["K-201", "2026-03-05 11:00", "250"],  # row 6: impossible vibration
    ["", "2026-03-05 12:00", "1.5"],  # row 7: no point
    ["K-201", "2026-03-05 13:00", "1.7"],  # row 8: fine
]


def test_all_or_nothing_reports_every_bad_row_by_row_and_column_and_writes_nothing(
    session: Session, make_point: MakePoint
) -> None:
    point = make_point(code="K-201")
    with pytest.raises(ReadingImportFailed) as failure:
        run_import(session, csv_bytes(BAD_FILE))
    report = failure.value.report
    assert not report.written
    assert (report.received, report.rejected) == (7, 5)
    where = [(error.row, error.field) for error in report.errors]
    assert where == [(3, "测点编号"), (4, "时间"), (5, "数值"), (6, "数值"), (7, "测点编号")]
    reasons = {error.row: error.message for error in report.errors}
    assert "K-999" in reasons[3]
    assert "有歧义" in reasons[4]  # ambiguous
    assert "abc" in reasons[5]
    assert "250" in reasons[6]
    assert "7 行中有 5 行存在错误" in failure.value.message  # 5 of 7 rows have errors
    assert stored(session, point) == []


def test_valid_only_keeps_the_good_rows_and_lists_the_others(session: Session, make_point: MakePoint) -> None:
    point = make_point(code="K-201")
    report = run_import(session, csv_bytes(BAD_FILE), mode=IngestMode.VALID_ONLY)
    assert report.written
    assert (report.received, report.inserted, report.rejected) == (7, 2, 5)
    assert [error.row for error in report.errors] == [3, 4, 5, 6, 7]
    assert [value for _taken_at, value in stored(session, point)] == [1.5, 1.7]


def test_dry_run_checks_everything_through_ingest_and_saves_nothing(session: Session, make_point: MakePoint) -> None:
    point = make_point(code="K-201")
    orders_before = session.scalar(select(func.count()).select_from(WorkOrder))
    rows = [*BAD_FILE, ["K-201", "2026-03-05 14:00", "9.5"]]  # an alarm: would raise an order
    report = run_import(session, csv_bytes(rows), dry_run=True)
    assert report.dry_run
    assert not report.written
    assert (report.received, report.inserted, report.rejected) == (8, 3, 5)
    assert len(report.alerts_opened) == 1
    assert stored(session, point) == []
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == orders_before
    session.refresh(point)
    assert point.latest_value is None


def test_reimporting_the_same_file_inserts_nothing_twice(session: Session, make_point: MakePoint) -> None:
    point = make_point(code="K-201")
    content = csv_bytes([["测点编号", "时间", "数值"], *(["K-201", f"2026-03-05 0{h}:00", "1.5"] for h in range(5))])
    first = run_import(session, content)
    again = run_import(session, content)
    assert (first.inserted, first.duplicates) == (5, 0)
    assert (again.received, again.inserted, again.duplicates, again.rejected) == (5, 0, 5, 0)
    assert again.written
    assert len(stored(session, point)) == 5


def test_readings_are_stored_as_imported_by_whoever_imported_them(
    session: Session, make_point: MakePoint, workshop: Workshop
) -> None:
    point = make_point(code="K-201")
    engineer = _engineer_of(session, workshop)
    run_import(session, csv_bytes([["测点编号", "时间", "数值"], ["K-201", "2026-03-05 08:00", "1.5"]]), actor=engineer)
    reading = session.scalars(select(Reading).where(col(Reading.point_id) == point.id)).one()
    assert (reading.source, reading.entered_by_id) == (ReadingSource.IMPORT, engineer.id)


def test_an_alarm_in_the_file_raises_a_condition_based_order(session: Session, make_point: MakePoint) -> None:
    make_point(code="K-201")
    rows = [["测点编号", "时间", "数值"], *(["K-201", f"2026-03-05 0{h}:00", "8.0"] for h in range(4))]
    report = run_import(session, csv_bytes(rows))
    assert len(report.alerts_opened) == 1  # one order per point, not per reading
    order = session.scalars(select(WorkOrder).where(col(WorkOrder.number) == report.alerts_opened[0])).one()
    assert order.order_type.value == "CBM"


# --- Workshops ----------------------------------------------------------------------------


def _engineer_of(session: Session, workshop: Workshop) -> User:
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    return user


def test_an_engineer_cannot_import_readings_of_another_workshops_points(
    session: Session, make_point: MakePoint, workshop: Workshop
) -> None:
    own = make_point(code="K-201")
    other_workshop = factories.WorkshopFactory(name="储运车间")
    other = make_point(code="TK-01-T", asset_id=factories.AssetFactory(workshop_id=other_workshop.id).id)
    engineer = _engineer_of(session, workshop)
    content = csv_bytes(
        [["测点编号", "时间", "数值"], ["K-201", "2026-03-05 08:00", "1.5"], ["TK-01-T", "2026-03-05 08:00", "1.5"]]
    )
    with pytest.raises(ReadingImportFailed) as failure:
        run_import(session, content, actor=engineer)
    [error] = failure.value.report.errors
    assert (error.row, error.field) == (3, "测点编号")
    assert "储运车间" in error.message
    assert "您只能导入本人所属车间的读数" in error.message  # only your own workshops

    report = run_import(session, content, actor=engineer, mode=IngestMode.VALID_ONLY)
    assert (report.inserted, report.rejected) == (1, 1)
    assert len(stored(session, own)) == 1
    assert stored(session, other) == []


# --- Streaming ----------------------------------------------------------------------------


def test_a_large_file_is_streamed_to_ingest_chunk_by_chunk(
    session: Session, make_point: MakePoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest gets an iterator, not a list, and when it has taken its first rows only the start
    of the file has been read."""
    make_point(code="K-201")
    rows = 60_000
    lines = ["测点编号,时间,数值"] + [f"K-201,{46000 + i / 1440:.6f},1.5" for i in range(rows)]
    content = ("\r\n".join(lines) + "\r\n").encode()
    handle = io.BytesIO(content)
    seen: dict[str, Any] = {}

    def spy(session: Session, rows_in: Iterable[ReadingIn], **options: Any) -> IngestReport:
        seen["type"] = type(rows_in)
        iterator: Iterator[ReadingIn] = iter(rows_in)
        first = [next(iterator) for _ in range(options["chunk_size"])]
        seen["position_after_first_chunk"] = handle.tell()
        seen["first_row"] = first[0].row
        seen["total"] = len(first) + sum(1 for _ in iterator)
        return IngestReport(received=seen["total"], inserted=seen["total"])

    monkeypatch.setattr(imports, "ingest_readings", spy)
    report = imports.import_readings(session, handle, "big.csv", actor=SYSTEM, chunk_size=1000)
    assert not isinstance(seen["type"], list | tuple)
    assert seen["first_row"] == 2
    assert seen["total"] == rows == report.received
    assert seen["position_after_first_chunk"] < len(content) / 10


def test_an_engineers_import_is_checked_one_query_per_chunk(
    session: Session,
    make_point: MakePoint,
    workshop: Workshop,
    count_queries: list[str],
) -> None:
    for code in ("K-201", "K-202", "K-203"):
        make_point(code=code)
    engineer = _engineer_of(session, workshop)
    start = datetime(2026, 3, 1)  # noqa: DTZ001 - written without an offset: plant time
    rows: list[list[Any]] = [["测点编号", "时间", "数值"]]
    rows += [[f"K-20{1 + i % 3}", (start + timedelta(hours=i)).isoformat(), "1.5"] for i in range(300)]
    count_queries.clear()
    report = run_import(session, csv_bytes(rows), actor=engineer, chunk_size=100)
    assert report.inserted == 300
    lookups = [
        sql for sql in count_queries if sql.startswith("SELECT measurement_point.code, measurement_point.workshop_id")
    ]
    assert len(lookups) == 1  # the codes of the first chunk; later chunks know them already


# --- The web page -------------------------------------------------------------------------


@pytest.fixture
def engineer_client(client: TestClient, session: Session, workshop: Workshop) -> tuple[TestClient, str]:
    client.cookies.set(LOCALE_COOKIE, "en")
    return client, login(client, _engineer_of(session, workshop))


def upload(client: TestClient, token: str, content: bytes, mode: str = "all", filename: str = "readings.csv") -> Any:
    return client.post(
        "/monitoring/import",
        data={"csrf_token": token, "mode": mode},
        files={"file": (filename, content, XLSX_TYPE if filename.endswith("xlsx") else CSV_TYPE)},
    )


def test_web_import_shows_the_report_with_links_to_the_orders_raised(
    engineer_client: tuple[TestClient, str], session: Session, make_point: MakePoint
) -> None:
    client, token = engineer_client
    page = client.get("/monitoring/import")
    assert page.status_code == 200
    assert 'name="mode"' in page.text
    assert "/monitoring/import/template.csv" in page.text
    make_point(code="K-201")
    rows = [["测点编号", "时间", "数值"], ["K-201", "2026-03-05 08:00", "1.5"], ["K-201", "2026-03-05 09:00", "9.0"]]
    response = upload(client, token, csv_bytes(rows))
    assert response.status_code == 200, response.text
    assert 'data-testid="inserted">2<' in response.text
    order = session.scalars(select(WorkOrder).order_by(col(WorkOrder.id).desc())).first()
    assert order is not None
    assert f'<a href="/orders/{order.id}">{order.number}</a>' in response.text


def test_web_import_with_errors_lists_them_and_saves_nothing(
    engineer_client: tuple[TestClient, str], session: Session, make_point: MakePoint
) -> None:
    client, token = engineer_client
    point = make_point(code="K-201")
    response = upload(client, token, csv_bytes(BAD_FILE))
    assert response.status_code == 422
    assert "No readings were imported" in response.text
    assert "<td>4</td><td>时间</td>" in response.text
    assert stored(session, point) == []
    dry = upload(client, token, csv_bytes(BAD_FILE), mode="dry")
    assert dry.status_code == 200
    assert "Dry run: nothing saved" in dry.text
    assert stored(session, point) == []
    valid = upload(client, token, csv_bytes(BAD_FILE), mode="valid")
    assert valid.status_code == 200
    assert len(stored(session, point)) == 2


def report_figures(page: str) -> dict[str, str]:
    """The report card's figures as the user reads them: label → number."""
    card = page[page.index('id="import-report"') :].split("</dl>")[0]
    return dict(re.findall(r"<dt[^>]*>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", card))


def test_web_import_result_says_only_what_was_stored(
    engineer_client: tuple[TestClient, str], session: Session, make_point: MakePoint
) -> None:
    client, token = engineer_client
    point = make_point(code="K-201")
    one_good_one_bad = csv_bytes(
        [["测点编号", "时间", "数值"], ["K-201", "2026-03-05 08:00", "1.5"], ["K-999", "2026-03-05 08:00", "1"]]
    )

    refused = upload(client, token, one_good_one_bad, mode="all")
    dry = upload(client, token, one_good_one_bad, mode="dry")
    assert stored(session, point) == []
    saved = upload(client, token, one_good_one_bad, mode="valid")

    assert "Nothing saved" in refused.text
    assert report_figures(refused.text) == {
        "Rows read": "2",
        "Inserted": "0",
        "Valid, not saved": "1",
        "Duplicates": "0",
        "Rows refused": "1",
    }
    assert "Dry run: nothing saved" in dry.text
    assert report_figures(dry.text) == {
        "Rows read": "2",
        "Would be inserted": "1",
        "Duplicates": "0",
        "Rows refused": "1",
    }
    assert "Stored" in saved.text
    assert report_figures(saved.text) == {"Rows read": "2", "Inserted": "1", "Duplicates": "0", "Rows refused": "1"}
    assert len(stored(session, point)) == 1


def test_web_import_of_another_workshops_points_is_refused_per_row(
    engineer_client: tuple[TestClient, str], session: Session, make_point: MakePoint
) -> None:
    client, token = engineer_client
    other_workshop = factories.WorkshopFactory(name="储运车间")
    make_point(code="TK-01-T", asset_id=factories.AssetFactory(workshop_id=other_workshop.id).id)
    response = upload(client, token, csv_bytes([["测点编号", "时间", "数值"], ["TK-01-T", "2026-03-05 08:00", "1"]]))
    assert response.status_code == 422
    assert "your own workshops" in response.text


def test_web_template_downloads_and_imports_as_it_is(
    engineer_client: tuple[TestClient, str], session: Session, make_point: MakePoint
) -> None:
    client, token = engineer_client
    point = make_point(code="K-201")
    template = client.get("/monitoring/import/template.csv")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("text/csv")
    assert template.content.startswith("\ufeff测点编号,时间,数值".encode())
    assert b"K-201" in template.content  # an example with a point the user may import
    response = upload(client, token, template.content)
    assert response.status_code == 200, response.text
    assert len(stored(session, point)) == 2


def test_web_upload_without_a_file_asks_for_one(engineer_client: tuple[TestClient, str]) -> None:
    client, token = engineer_client
    response = client.post("/monitoring/import", data={"csrf_token": token, "mode": "all"})
    assert response.status_code == 422
    assert "Choose a CSV or XLSX file" in response.text


def test_auditors_cannot_import(client: TestClient, session: Session) -> None:
    login(client, factories.UserFactory(role=Role.AUDITOR))
    assert client.get("/monitoring/import").status_code == 403


# --- The CLI ------------------------------------------------------------------------------


def test_cli_imports_readings_and_prints_a_summary(
    cli_in_test_session: CliRunner, session: Session, make_point: MakePoint, tmp_path: Path
) -> None:
    point = make_point(code="K-201")
    session.commit()  # releases the test's savepoint only: the command's rollback must not take the point
    path = tmp_path / "读数.csv"
    path.write_bytes(csv_bytes([["测点编号", "时间", "数值"], ["K-201", "2026-03-05 08:00", "1.5"]], "gb18030"))
    result = cli_in_test_session.invoke(cli.app, ["import", "readings", str(path)])
    assert result.exit_code == 0, result.output
    assert "GB18030" in result.output
    assert "written" in result.output
    assert len(stored(session, point)) == 1
    again = cli_in_test_session.invoke(cli.app, ["import", "readings", str(path)])
    assert again.exit_code == 0
    assert len(stored(session, point)) == 1


def test_cli_all_or_nothing_exits_1_and_writes_nothing(
    cli_in_test_session: CliRunner, session: Session, make_point: MakePoint, tmp_path: Path
) -> None:
    point = make_point(code="K-201")
    session.commit()  # releases the test's savepoint only: the command's rollback must not take the point
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(BAD_FILE))
    result = cli_in_test_session.invoke(cli.app, ["import", "readings", str(path)])
    assert result.exit_code == 1
    assert "row 4, 时间:" in result.output
    assert "未导入任何读数" in result.output  # No readings were imported
    assert stored(session, point) == []

    dry = cli_in_test_session.invoke(cli.app, ["import", "readings", str(path), "--dry-run"])
    assert dry.exit_code == 1
    assert "dry run: nothing written" in dry.output
    assert stored(session, point) == []

    valid = cli_in_test_session.invoke(cli.app, ["import", "readings", str(path), "--valid-only"])
    assert valid.exit_code == 0, valid.output
    assert len(stored(session, point)) == 2


def test_cli_refuses_a_missing_file(cli_in_test_session: CliRunner, session: Session, tmp_path: Path) -> None:
    missing = tmp_path / "none.csv"
    before = reading_count(session)
    result = cli_in_test_session.invoke(cli.app, ["import", "readings", str(missing)])
    assert isinstance(result.exception, SystemExit), result.exception  # refused, not crashed
    assert result.exit_code == 1
    assert f"error: no such file: {missing}" in result.stderr
    assert result.stdout == ""
    assert reading_count(session) == before


# --- Hostile files (issue 12) -------------------------------------------------------------
#
# Workbooks of a few KB that declare or hold more than a readings file may (a cell at
# XFD1048576 is 512 GiB to calamine), zips that unpack a thousandfold, CSV rows without end:
# refused with the limit named before any parser sees them (``parser_must_not_run`` fails the
# test instead of letting calamine allocate), nothing written, nothing kept under var/imports.

WORKBOOK_BOMBS = {
    "cell at XFD1048576": (bombs.CELL_BOMB, "the sheet has 16384 columns, the limit is 50 columns"),
    "declared A1:XFD1048576": (bombs.DIMENSION_BOMB, "the sheet declares 16384 columns, the limit is 50 columns"),
    "cells without references": (bombs.WIDE_ROW_WITHOUT_REFS, "the sheet has 51 columns, the limit is 50 columns"),
    "shared string in every cell": (bombs.SHARED_STRING_BOMB, "more than 100 million characters"),
    "deflate bomb": (bombs.deflate_bomb(16), "times its size, the limit is 100"),
}


def reading_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Reading)) or 0


def kept_uploads() -> set[str]:
    folder = get_settings().var_dir / "imports"
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


@pytest.mark.parametrize("bomb", list(WORKBOOK_BOMBS))
def test_web_import_refuses_a_workbook_bomb_before_parsing_it(
    engineer_client: tuple[TestClient, str], session: Session, make_point: MakePoint, no_parser: None, bomb: str
) -> None:
    client, token = engineer_client
    make_point(code="K-201")
    content, reason = WORKBOOK_BOMBS[bomb]
    before, kept = reading_count(session), kept_uploads()

    response = upload(client, token, content, filename="读数.xlsx")

    assert response.status_code == 422
    assert reason in response.text
    assert reading_count(session) == before
    assert kept_uploads() == kept


def test_web_import_refuses_a_csv_row_of_a_million_columns(
    engineer_client: tuple[TestClient, str], session: Session
) -> None:
    client, token = engineer_client
    before = reading_count(session)
    response = upload(client, token, ("测点编号,时间,数值" + "," * 999_997 + "\r\n").encode())
    assert response.status_code == 422
    assert "row 1 has 1000000 columns, the limit is 50 columns" in response.text
    assert reading_count(session) == before


def test_web_import_refuses_csv_rows_beyond_the_limit_and_writes_none_of_them(
    engineer_client: tuple[TestClient, str], session: Session, make_point: MakePoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit is met part-way, after rows were already read and checked: nothing is kept."""
    monkeypatch.setattr(get_settings(), "reading_import_max_rows", 20)
    client, token = engineer_client
    point = make_point(code="K-201")
    rows = [["测点编号", "时间", "数值"], *(["K-201", f"2026-03-05 {hour:02d}:00", "1.5"] for hour in range(24))]
    response = upload(client, token, csv_bytes(rows), mode="valid")
    assert response.status_code == 422
    assert "more than 20 rows" in response.text
    assert stored(session, point) == []


@pytest.mark.parametrize("bomb", ["cell at XFD1048576", "deflate bomb"])
def test_cli_refuses_a_workbook_bomb_before_parsing_it(
    cli_in_test_session: CliRunner, session: Session, tmp_path: Path, no_parser: None, bomb: str
) -> None:
    path = tmp_path / "读数.xlsx"
    path.write_bytes(WORKBOOK_BOMBS[bomb][0])
    before = reading_count(session)
    result = cli_in_test_session.invoke(cli.app, ["import", "readings", str(path)])
    assert result.exit_code == 1
    assert "上限" in result.output  # the limit, named
    assert reading_count(session) == before


# --- Any file at all (property-based) -----------------------------------------------------

_TIMES = st.one_of(
    st.sampled_from(["2026-03-05 08:00", "2026/3/5 8:00", "2026年3月5日 8:00", "05/03/2026", "46086.5", "", "—"]),
    st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2200, 1, 1)),  # noqa: DTZ001
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(["2.8", "1,234.5", "１２.５", "1,2", "1e400", "-", ""]),
    st.text(max_size=12),
)
_CODES = st.one_of(st.sampled_from(["K-201", "K-202", "NOPE", "", "测点编号"]), st.text(max_size=12))


@st.composite
def reading_files(draw: st.DrawFn) -> tuple[bytes, str]:
    header = draw(
        st.one_of(st.just(["测点编号", "时间", "数值"]), st.lists(st.sampled_from(["point", "时间", "值", "x", ""])))
    )
    rows = draw(st.lists(st.tuples(_CODES, _TIMES, _VALUES).map(list), max_size=20))
    table: list[list[Any]] = [header, *rows]
    kind = draw(st.sampled_from(["xlsx", "csv-utf-8", "csv-utf-8-sig", "csv-gb18030", "garbage"]))
    if kind == "garbage":
        return draw(st.binary(max_size=300)), draw(st.sampled_from(["读数.csv", "读数.xlsx", "读数.xls"]))
    if kind == "xlsx":
        return xlsx_bytes([[_xlsx_safe(cell) for cell in row] for row in table]), "读数.xlsx"
    text = "\r\n".join(",".join(_csv_quoted(cell) for cell in row) for row in table) + "\r\n"
    return text.encode(kind.removeprefix("csv-"), errors="replace"), "读数.csv"


def _csv_quoted(cell: Any) -> str:
    text = str(cell)
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(ch in text for ch in ',"\r\n') else text


def _xlsx_safe(value: Any) -> Any:
    """What XlsxWriter can write: no infinities or NaN, dates within Excel's calendar."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, datetime) and not 1900 <= value.year <= 9999:
        return value.isoformat()
    return value


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(file=reading_files(), mode=st.sampled_from(["all", "valid", "dry"]))
def test_any_file_is_imported_or_refused_with_a_reason_and_never_half_written(
    session: Session, workshop_engineer: User, make_point: MakePoint, file: tuple[bytes, str], mode: str
) -> None:
    if not session.scalar(
        select(func.count()).select_from(MeasurementPoint).where(col(MeasurementPoint.code) == "K-201")
    ):
        make_point(code="K-201")
        make_point(code="K-202")
    content, filename = file
    ingest_mode = IngestMode.VALID_ONLY if mode != "all" else IngestMode.ALL_OR_NOTHING
    outer = session.begin_nested()  # each example starts from the same readings
    try:
        before = reading_count(session)
        started = time.monotonic()
        outcome: ReadingImportReport | ReadingImportFailed
        try:
            outcome = run_import(
                session, content, filename, actor=workshop_engineer, mode=ingest_mode, dry_run=mode == "dry"
            )
        except ReadingImportFailed as failure:  # the import's own refusal, with its reasons
            outcome = failure
        assert time.monotonic() - started < 30
        if isinstance(outcome, ReadingImportFailed):
            assert outcome.message
            assert reading_count(session) == before  # nothing written
        elif mode == "dry":
            assert reading_count(session) == before
        else:
            assert outcome.written
            assert reading_count(session) == before + outcome.inserted
    finally:
        outer.rollback()
