"""Importing the asset registry from messy spreadsheets: each normalisation rule, each kind
of bad row (and that a refused import writes nothing), the modes, the web flow and the CLI.

Spreadsheets are built in the tests (XlsxWriter / encoded CSV text), never committed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time
import zipfile
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import xlsxwriter
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from typer.testing import CliRunner

from maintenance import cli
from maintenance.assets import class_aliases, imports, service
from maintenance.assets.choices import AssetClass, AssetStatus, Criticality, SpecialCategory
from maintenance.assets.imports import columns, reading, template
from maintenance.assets.imports.report import ImportFailed, ImportMode, ImportReport
from maintenance.assets.models import Asset, AssetClassAliasCreate, AssetCreate
from maintenance.audit.models import ObjectChange
from maintenance.audit.service import SystemActor
from maintenance.config import get_settings
from maintenance.db import plant_today
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import LOCALE_COOKIE
from maintenance.org.models import Role, Site, Unit, User, Workshop
from tests import bombs, factories, spreadsheet_files
from tests.conftest import login

ACTOR = SystemActor(username="test-import")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["位号", "设备名称", "设备类别", "车间", "装置", "上级设备", "安装日期", "原值(元)", "状态", "备注"]


# --- Building spreadsheets ----------------------------------------------------------------


def xlsx_bytes(rows: list[list[Any]], *, sheet: str = "设备台账") -> bytes:
    return spreadsheet_files.xlsx_bytes(rows, sheet=sheet)


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(",".join(_csv_cell(value) for value in row) for row in rows) + "\r\n"
    return text.encode(encoding)


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(ch in text for ch in ',"\n') else text


def line(
    tag: str,
    name: str = "离心泵",
    asset_class: Any = "泵",
    workshop: Any = "SYN",
    unit: Any = "SYN-1",
    parent: Any = "",
    installed: Any = "2020-01-15",
    value: Any = "10000",
    status: Any = "在用",
    notes: Any = "",
) -> list[Any]:
    return [tag, name, asset_class, workshop, unit, parent, installed, value, status, notes]


def sheet(*lines: list[Any], title: bool = True) -> list[list[Any]]:
    """A title row and a blank row above the header, as plant sheets have them (header on row 3)."""
    top: list[list[Any]] = [["2026年设备台账"], []] if title else []
    return [*top, HEADER, *lines]


@dataclass
class Plant:
    site: Site
    syn: Workshop
    dis: Workshop
    syn1: Unit
    dis1: Unit


@pytest.fixture
def plant(session: Session) -> Plant:
    site = factories.SiteFactory()
    syn = factories.WorkshopFactory(code="SYN", name="合成车间", site_id=site.id)
    dis = factories.WorkshopFactory(code="DIS", name="精馏车间", site_id=site.id)
    syn1 = factories.UnitFactory(code="SYN-1", name="合成一工段", workshop_id=syn.id)
    dis1 = factories.UnitFactory(code="DIS-1", name="精馏一装置", workshop_id=dis.id)
    return Plant(site, syn, dis, syn1, dis1)


def run_import(session: Session, content: bytes, filename: str = "台账.xlsx", **options: Any) -> ImportReport:
    """As the web and CLI do it: inside a savepoint, so a refused import leaves nothing behind."""
    with session.begin_nested():
        return imports.import_assets(session, content, filename, actor=ACTOR, **options)


def counts(session: Session) -> tuple[int, int]:
    assets = session.scalar(select(func.count()).select_from(Asset)) or 0
    changes = session.scalar(select(func.count()).select_from(ObjectChange)) or 0
    return assets, changes


def asset(session: Session, tag: str) -> Asset:
    found = service.get_asset_by_tag(session, tag)
    assert found is not None, f"asset {tag} was imported"
    return found


def errors_of(report: ImportReport) -> list[tuple[int | None, str]]:
    return [(error.row, error.field) for error in report.errors]


# --- Finding the table --------------------------------------------------------------------


def test_title_row_blank_rows_and_total_rows_are_skipped_and_rows_keep_excel_numbers(
    session: Session, plant: Plant
) -> None:
    rows = sheet(
        line("P-101"),
        [],
        line("P-102"),
        [None, None, None],
        line("P-103"),
        ["合计", "", "", "", "", "", "", "30000"],
        ["", "小计：3台"],
        ["总计", "", "", "", "", "", "", "30000"],
    )
    report = run_import(session, xlsx_bytes(rows))
    assert report.written
    assert report.created == 3
    assert report.header_row == 3
    assert [row.row for row in report.rows] == [4, 6, 8]
    assert report.skipped_totals == [9, 10, 11]
    assert report.skipped_blank == 2
    assert asset(session, "P-103").workshop_id == plant.syn.id


def test_header_in_english_with_aliases_and_ignored_columns(session: Session, plant: Plant) -> None:
    rows = [
        ["序号", "Tag", "Name", "Class", "Workshop", "Unit", "Original value", "Criticality", "Status"],
        [1, "C-201", "Air compressor", "Compressor", "DIS", "精馏一装置", 250000, "A", "standby"],
    ]
    report = run_import(session, xlsx_bytes(rows))
    assert report.created == 1
    assert report.ignored_columns == ["序号"]
    compressor = asset(session, "C-201")
    assert compressor.asset_class == AssetClass.COMPRESSOR
    assert compressor.unit_id == plant.dis1.id
    assert compressor.criticality == Criticality.A
    assert compressor.status == AssetStatus.STANDBY
    assert compressor.original_value_cny == Decimal("250000.00")


def test_template_english_header_row_and_repeated_headers_are_skipped(session: Session, plant: Plant) -> None:
    english = ["Tag", "Name", "Class", "Workshop", "Unit", "Parent tag", "Install date", "Original value (CNY)"]
    rows = [HEADER, english, line("P-101"), HEADER, line("P-102")]
    report = run_import(session, xlsx_bytes(rows))
    assert report.created == 2
    assert report.skipped_headers == [2, 4]


def test_a_sheet_without_a_header_row_is_refused_with_the_reason(session: Session, plant: Plant) -> None:
    before = counts(session)
    with pytest.raises(ImportFailed) as failure:
        run_import(session, xlsx_bytes([["2026年设备台账"], ["a", "b", "c"], ["1", "2", "3"]]))
    assert failure.value.report.file_errors
    assert "位号" in failure.value.report.file_errors[0].message
    assert counts(session) == before


def test_a_missing_required_column_is_named(session: Session, plant: Plant) -> None:
    with pytest.raises(ImportFailed) as failure:
        run_import(session, xlsx_bytes([["位号", "设备名称", "车间"], ["P-1", "泵", "SYN"]]))
    [error] = failure.value.report.file_errors
    assert error.row == 1
    assert "设备类别" in error.message


def test_a_column_named_as_in_the_template_wins_over_an_alias(session: Session, plant: Plant) -> None:
    rows = [["设备编号", "位号", "名称", "设备类别", "车间"], ["EQ-0001", "P-101", "泵", "泵", "SYN"]]
    report = run_import(session, xlsx_bytes(rows))
    assert report.ignored_columns == ["设备编号"]
    assert asset(session, "P-101").name == "泵"


def test_two_columns_for_the_same_field_are_refused(session: Session, plant: Plant) -> None:
    rows = [["位号", "设备名称", "设备类别", "车间", "位号"], ["P-101", "泵", "泵", "SYN", "P-102"]]
    with pytest.raises(ImportFailed) as failure:
        run_import(session, xlsx_bytes(rows))
    assert errors_of(failure.value.report) == [(1, "位号")]


def test_the_first_sheet_with_a_header_is_used(session: Session, plant: Plant) -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("填写说明").write_string(0, 0, "请在第二页填写")
    data = book.add_worksheet("台账")
    for c, value in enumerate(HEADER):
        data.write_string(0, c, value)
    for c, value in enumerate(line("P-101")):
        data.write_string(1, c, value)
    book.close()
    report = run_import(session, buffer.getvalue())
    assert report.sheet == "台账"
    assert report.created == 1


# --- Normalising cells --------------------------------------------------------------------


def test_full_width_codes_and_numbers_are_normalised_and_names_only_trimmed(session: Session, plant: Plant) -> None:
    rows = sheet(
        line("Ｐ－１０１Ａ", name="\u3000循环　水泵  ", workshop="ＳＹＮ", unit=" syn－1 ", value="１２，０００．００")
    )
    report = run_import(session, xlsx_bytes(rows))
    assert report.created == 1
    pump = asset(session, "P-101A")
    assert pump.name == "循环　水泵"  # surrounding spaces go, the one inside is the user's
    assert pump.unit_id == plant.syn1.id
    assert pump.original_value_cny == Decimal("12000.00")


@pytest.mark.parametrize("filename", ["a.xlsx", "a.csv"])
def test_free_text_is_stored_as_written(session: Session, plant: Plant, filename: str) -> None:
    header = [*HEADER, "规格型号", "制造厂", "保管人", "出厂编号", "固定资产编号", "使用登记证号"]
    rows = [
        header,
        [
            *line("Ｐ－１０１", name=" 原料泵（备） ", notes="  出口压力≤１.６MPa（表压）\n  备用：Ａ泵  "),
            "5000m³  ＤＮ８０",
            "大连耐酸泵厂（集团）",
            "张　工",
            "ＳＮ－２０１９",
            "ＧＤ－０１２３",
            "容１１ＳＹ０１２３",
        ],
    ]
    content = xlsx_bytes(rows) if filename.endswith("xlsx") else csv_bytes(rows, "utf-8-sig")
    run_import(session, content, filename)
    pump = asset(session, "P-101")
    assert pump.name == "原料泵（备）"
    assert pump.spec == "5000m³  ＤＮ８０"
    assert pump.manufacturer == "大连耐酸泵厂（集团）"
    assert pump.custodian == "张　工"
    assert pump.notes == "出口压力≤１.６MPa（表压）\n  备用：Ａ泵"
    # Codes are codes: written in full-width forms, they are the plain ones.
    assert (pump.serial_number, pump.fixed_asset_number, pump.registration_number) == (
        "SN-2019",
        "GD-0123",
        "容11SY0123",
    )


def test_the_preview_shows_free_text_as_it_will_be_stored(session: Session, plant: Plant) -> None:
    report = run_import(session, xlsx_bytes(sheet(line("P-101", name="原料泵（备）"))), dry_run=True)
    assert report.rows[0].display["name"] == "原料泵（备）"


def test_date_cells_and_excel_serials_in_a_workbook(session: Session, plant: Plant) -> None:
    rows = sheet(
        line("P-101", installed=date(2019, 5, 10)),
        line("P-102", installed=datetime(2019, 5, 10, 8, 0)),  # noqa: DTZ001
        line("P-103", installed=43595),  # the serial number of 2019-05-10 in a General-formatted cell
        line("P-104", installed="2019年5月10日"),
    )
    report = run_import(session, xlsx_bytes(rows))
    assert report.created == 4
    assert {asset(session, f"P-10{i}").install_date for i in range(1, 5)} == {date(2019, 5, 10)}


def test_amounts_under_a_wan_yuan_header_are_scaled(session: Session, plant: Plant) -> None:
    rows = [["位号", "设备名称", "设备类别", "车间", "原值(万元)"], ["P-101", "泵", "泵", "SYN", 12.5]]
    run_import(session, xlsx_bytes(rows))
    assert asset(session, "P-101").original_value_cny == Decimal("125000.00")


def test_choices_match_codes_labels_and_common_variants() -> None:
    assert columns.parse_choice("A类", Criticality) == Criticality.A
    assert columns.parse_choice("a", Criticality) == Criticality.A
    assert columns.parse_choice("B类(重要)", Criticality) == Criticality.B
    assert columns.parse_choice("B类（重要）", Criticality) == Criticality.B
    assert columns.parse_choice("检修", AssetStatus) == AssetStatus.UNDER_REPAIR
    assert columns.parse_choice("under_repair", AssetStatus) == AssetStatus.UNDER_REPAIR
    assert columns.parse_choice("塔器", AssetClass) == AssetClass.VESSEL
    assert columns.parse_choice("Heat exchanger", AssetClass) == AssetClass.HEAT_EXCHANGER
    assert columns.parse_choice("场（厂）内专用机动车辆", SpecialCategory) == SpecialCategory.VEHICLE
    assert columns.parse_choice("无", SpecialCategory) == SpecialCategory.NONE
    assert columns.parse_choice("/", SpecialCategory) == SpecialCategory.NONE


# The words plant ledgers use for equipment classes, and the ISO 14224 class each one is.
PLANT_WORDS: dict[str, AssetClass] = {
    "离心泵": AssetClass.PUMP,
    "计量泵": AssetClass.PUMP,
    "螺杆压缩机": AssetClass.COMPRESSOR,
    "电机": AssetClass.ELECTRIC_MOTOR,
    "变压器": AssetClass.POWER_TRANSFORMER,
    "冷凝器": AssetClass.HEAT_EXCHANGER,
    "换热器": AssetClass.HEAT_EXCHANGER,
    "精馏塔": AssetClass.VESSEL,
    "反应器": AssetClass.VESSEL,
    "反应釜": AssetClass.VESSEL,
    "储罐": AssetClass.STORAGE_TANK,
    "球罐": AssetClass.STORAGE_TANK,
    "工业管道": AssetClass.PIPING,
    "安全阀": AssetClass.VALVE,
    "调节阀": AssetClass.VALVE,
    "起重机": AssetClass.CRANE,
    "行车": AssetClass.CRANE,
    "电梯": AssetClass.CRANE,
    "叉车": AssetClass.VEHICLE,
    "场内机动车辆": AssetClass.VEHICLE,
    "锅炉": AssetClass.HEATER_BOILER,
}


def test_plant_words_for_equipment_classes_are_accepted(session: Session, plant: Plant) -> None:
    tags = {word: f"EQ-{number}" for number, word in enumerate(PLANT_WORDS, start=1)}
    report = run_import(session, xlsx_bytes(sheet(*(line(tag, asset_class=word) for word, tag in tags.items()))))
    assert report.created == len(PLANT_WORDS), report.errors
    assert {word: asset(session, tag).asset_class for word, tag in tags.items()} == PLANT_WORDS


def test_an_unknown_class_names_the_closest_classes(session: Session, plant: Plant) -> None:
    with pytest.raises(ImportFailed) as failure:
        run_import(session, xlsx_bytes(sheet(line("P-1"), line("P-12", asset_class="离芯泵"))))
    [error] = failure.value.report.errors
    assert (error.row, error.field) == (5, "设备类别")
    assert error.message.startswith("未知类别“离芯泵”，是否为：离心泵(泵)")


@pytest.mark.usefixtures("english")
def test_an_unknown_class_names_the_closest_classes_in_english(session: Session, plant: Plant) -> None:
    with pytest.raises(ImportFailed) as failure:
        run_import(session, xlsx_bytes(sheet(line("P-12", asset_class="Compresor"))))
    [error] = failure.value.report.errors
    assert error.message.startswith("Unknown class “Compresor”. Did you mean: Compressor")


def test_a_class_alias_an_administrator_adds_is_accepted(session: Session, plant: Plant) -> None:
    with pytest.raises(ImportFailed):
        run_import(session, xlsx_bytes(sheet(line("M-1", asset_class="造粒机"))))
    class_aliases.create_alias(
        session, AssetClassAliasCreate(alias="造粒机", asset_class=AssetClass.MIXER), actor=ACTOR
    )
    run_import(session, xlsx_bytes(sheet(line("M-1", asset_class="造粒机"))))
    assert asset(session, "M-1").asset_class == AssetClass.MIXER


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_the_encodings_chinese_excel_writes(session: Session, plant: Plant, encoding: str) -> None:
    rows = sheet(
        line("P-101", name="循环水泵", installed="2024/3/5", value="12.5万"), ["合计", "", "", "", "", "", "", "12.5万"]
    )
    report = run_import(session, csv_bytes(rows, encoding), "台账.csv")
    assert report.encoding == {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 BOM", "gb18030": "GB18030"}[encoding]
    assert report.header_row == 3
    pump = asset(session, "P-101")
    assert pump.name == "循环水泵"
    assert pump.install_date == date(2024, 3, 5)
    assert pump.original_value_cny == Decimal("125000.00")


@pytest.mark.parametrize("filename", ["a.xlsx", "a.csv"])
def test_formula_like_cells_are_stored_as_text(session: Session, plant: Plant, filename: str) -> None:
    header = [*HEADER, "制造厂", "保管人", "规格型号"]
    rows = [
        header,
        [*line("P-101", name='\'=HYPERLINK("http://x")', notes="=SUM(A1:A3)"), "-泵厂", "@张工", "+IH80"],
    ]
    content = xlsx_bytes(rows) if filename.endswith("xlsx") else csv_bytes(rows, "utf-8-sig")
    run_import(session, content, filename)
    pump = asset(session, "P-101")
    assert pump.name == '=HYPERLINK("http://x")'  # the apostrophe an export added to protect it is removed
    assert pump.notes == "=SUM(A1:A3)"
    assert (pump.manufacturer, pump.custodian, pump.spec) == ("-泵厂", "@张工", "+IH80")


# --- Bad rows -----------------------------------------------------------------------------

FUTURE = (plant_today() + timedelta(days=30)).isoformat()

BAD_ROWS: dict[str, tuple[list[Any], str, str]] = {
    # what is wrong: (the row, the column named in the error, a word the reason contains)
    "missing tag": (line(""), "位号", ""),
    "missing name": (line("P-9", name=""), "设备名称", ""),
    "missing class": (line("P-9", asset_class=""), "设备类别", ""),
    "unknown class": (line("P-9", asset_class="飞船"), "设备类别", "飞船"),
    "unknown status": (line("P-9", status="坏了"), "状态", "坏了"),
    "future date": (line("P-9", installed=FUTURE), "安装日期", FUTURE),
    "ambiguous date": (line("P-9", installed="03/05/24"), "安装日期", "03/05/24"),
    "negative value": (line("P-9", value="-100"), "原值(元)", "-100"),
    "not an amount": (line("P-9", value="很贵"), "原值(元)", "很贵"),
    "unknown workshop": (line("P-9", workshop="XYZ"), "车间", "XYZ"),
    "missing workshop": (line("P-9", workshop="", unit=""), "车间", ""),
    "unknown unit": (line("P-9", unit="SYN-99"), "装置", "SYN-99"),
    "unit not in workshop": (line("P-9", workshop="SYN", unit="DIS-1"), "装置", "DIS-1"),
    "unknown parent": (line("P-9", parent="NOPE-1"), "上级设备", "NOPE-1"),
    "own parent": (line("P-9", parent="P-9"), "上级设备", ""),
}


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_written(
    session: Session, plant: Plant, kind: str
) -> None:
    bad, column, reason = BAD_ROWS[kind]
    before = counts(session)
    content = xlsx_bytes(sheet(line("P-1"), bad, line("P-2")))

    with pytest.raises(ImportFailed) as failure:
        run_import(session, content)

    report = failure.value.report
    assert (5, column) in errors_of(report), report.errors
    assert all(error.row == 5 for error in report.errors)
    assert reason in " ".join(error.message for error in report.errors)
    assert report.invalid == 1
    assert report.new == 2
    assert not report.written
    assert counts(session) == before


def test_a_useful_life_of_zero_years_is_refused(session: Session, plant: Plant) -> None:
    header = [*HEADER, "折旧年限"]
    before = counts(session)
    with pytest.raises(ImportFailed) as failure:
        run_import(session, xlsx_bytes([header, [*line("P-1"), 10], [*line("P-2"), 0], [*line("P-3"), "0年"]]))
    assert errors_of(failure.value.report) == [(3, "折旧年限"), (4, "折旧年限")]
    assert "1" in failure.value.report.errors[0].message
    assert counts(session) == before


@pytest.mark.parametrize(
    ("retired_on", "reason", "unknown"),
    [("", "", ("报废日期", "报废原因")), ("2024-06-30", "", ("报废原因",)), ("", "腐蚀穿孔", ("报废日期",))],
)
def test_a_retired_row_without_its_date_or_reason_is_imported_as_retired_with_a_warning(
    session: Session, plant: Plant, retired_on: str, reason: str, unknown: tuple[str, ...]
) -> None:
    header = [*HEADER, "报废日期", "报废原因"]
    rows = [header, [*line("P-1"), "", ""], [*line("P-9", status="报废"), retired_on, reason]]

    report = run_import(session, xlsx_bytes(rows))

    assert report.written
    assert report.created == 2
    assert report.errors == []
    [warning] = report.warnings
    assert (warning.row, warning.field) == (3, "状态")
    assert all(word in warning.message for word in unknown)
    assert "未知" in warning.message
    retired = asset(session, "P-9")
    assert retired.status == AssetStatus.RETIRED
    assert retired.retired_date == (date.fromisoformat(retired_on) if retired_on else None)
    assert retired.retire_reason == reason


def test_only_an_import_may_retire_an_asset_without_date_and_reason(session: Session, plant: Plant) -> None:
    with pytest.raises(ValidationFailed) as refused:
        service.create_asset(
            session,
            AssetCreate(tag="P-9", name="泵", asset_class=AssetClass.PUMP, workshop_id=plant.syn.id, status="retired"),
            actor=ACTOR,
        )
    assert "retire_reason" in {error.field for error in refused.value.errors}


def test_a_tag_twice_in_the_file_is_reported_on_both_rows(session: Session, plant: Plant) -> None:
    before = counts(session)
    with pytest.raises(ImportFailed) as failure:
        run_import(session, xlsx_bytes(sheet(line("P-1"), line("P-2"), line("P-1"))))
    assert errors_of(failure.value.report) == [(4, "位号"), (6, "位号")]
    assert "4, 6" in failure.value.report.errors[0].message
    assert counts(session) == before


def test_a_parent_loop_in_the_file_is_refused(session: Session, plant: Plant) -> None:
    with pytest.raises(ImportFailed) as failure:
        run_import(session, xlsx_bytes(sheet(line("A-1", parent="B-1"), line("B-1", parent="A-1"))))
    assert errors_of(failure.value.report) == [(4, "上级设备"), (5, "上级设备")]


def test_every_error_of_a_row_is_listed(session: Session, plant: Plant) -> None:
    with pytest.raises(ImportFailed) as failure:
        run_import(session, xlsx_bytes(sheet(line("P-1", asset_class="x", installed="03/05/24", value="-1"))))
    assert errors_of(failure.value.report) == [(4, "设备类别"), (4, "安装日期"), (4, "原值(元)")]


def test_a_row_refused_by_the_service_while_saving_leaves_nothing_written(session: Session, plant: Plant) -> None:
    """Checks the file cannot see (a loop through parents already stored) stop the whole import,
    including the rows saved before it."""
    top = service.create_asset(
        session,
        AssetCreate(tag="T-1", name="塔", asset_class=AssetClass.VESSEL, workshop_id=plant.syn.id),
        actor=ACTOR,
    )
    service.create_asset(
        session,
        AssetCreate(
            tag="T-1-1",
            name="再沸器",
            asset_class=AssetClass.HEAT_EXCHANGER,
            workshop_id=plant.syn.id,
            parent_id=top.id,
        ),
        actor=ACTOR,
    )
    before = counts(session)
    content = xlsx_bytes(sheet(line("P-1"), line("T-1", name="塔", asset_class="塔器", parent="T-1-1")))

    with pytest.raises(ImportFailed) as failure:
        run_import(session, content)

    assert errors_of(failure.value.report) == [(5, "上级设备")]
    assert counts(session) == before
    assert service.get_asset_by_tag(session, "P-1") is None


# --- Modes --------------------------------------------------------------------------------


def test_valid_only_writes_the_valid_rows_and_reports_the_others(session: Session, plant: Plant) -> None:
    before_assets, _ = counts(session)
    content = xlsx_bytes(
        sheet(line("P-1"), line("P-2", asset_class="飞船"), line("P-3", parent="P-2"), line("P-4", parent="P-1"))
    )
    report = run_import(session, content, mode=ImportMode.VALID_ONLY)
    assert report.written
    assert (report.created, report.updated, report.invalid) == (2, 0, 2)
    # P-3's parent is the refused P-2, so P-3 cannot be imported either.
    assert errors_of(report) == [(5, "设备类别"), (6, "上级设备")]
    assert counts(session)[0] == before_assets + 2
    assert asset(session, "P-4").parent_id == asset(session, "P-1").id


def test_valid_only_with_no_valid_row_writes_nothing(session: Session, plant: Plant) -> None:
    before = counts(session)
    with pytest.raises(ImportFailed):
        run_import(session, xlsx_bytes(sheet(line("P-1", asset_class="x"))), mode=ImportMode.VALID_ONLY)
    assert counts(session) == before


def test_dry_run_reports_and_writes_nothing(session: Session, plant: Plant) -> None:
    before = counts(session)
    report = run_import(session, xlsx_bytes(sheet(line("P-1"), line("P-2", asset_class="x"))), dry_run=True)
    assert (report.new, report.invalid, report.written) == (1, 1, False)
    assert errors_of(report) == [(5, "设备类别")]
    assert counts(session) == before


def test_an_existing_tag_updates_that_asset_and_logs_the_change(session: Session, plant: Plant) -> None:
    existing = service.create_asset(
        session,
        AssetCreate(
            tag="P-101",
            name="旧泵",
            asset_class=AssetClass.PUMP,
            workshop_id=plant.syn.id,
            manufacturer="沈阳水泵厂",
            original_value_cny=Decimal("5000.00"),
        ),
        actor=ACTOR,
    )
    rows = [
        ["位号", "设备名称", "设备类别", "车间", "原值(元)"],
        ["P-101", "新泵", "泵", "DIS", "6,000"],
        ["P-102", "泵", "泵", "SYN", ""],
    ]

    report = run_import(session, xlsx_bytes(rows))

    assert (report.created, report.updated) == (1, 1)
    session.refresh(existing)
    assert (existing.name, existing.workshop_id, existing.version) == ("新泵", plant.dis.id, 2)
    assert existing.original_value_cny == Decimal("6000.00")
    assert existing.manufacturer == "沈阳水泵厂"  # no such column in the file: kept
    change = session.scalars(
        select(ObjectChange)
        .where(ObjectChange.object_type == "asset", ObjectChange.object_id == str(existing.id))
        .order_by(ObjectChange.id.desc())  # type: ignore[union-attr]
    ).first()
    assert change is not None
    assert change.action.value == "update"
    assert change.actor_name == ACTOR.username

    again = run_import(session, xlsx_bytes(rows), dry_run=True)
    assert (again.new, again.updates, again.unchanged) == (0, 0, 2)


def test_empty_cells_keep_stored_values_on_update(session: Session, plant: Plant) -> None:
    service.create_asset(
        session,
        AssetCreate(tag="P-101", name="泵", asset_class=AssetClass.PUMP, workshop_id=plant.syn.id, custodian="张工"),
        actor=ACTOR,
    )
    rows = [["位号", "设备名称", "设备类别", "车间", "保管人"], ["P-101", "泵", "泵", "SYN", ""]]
    report = run_import(session, xlsx_bytes(rows), dry_run=True)
    assert report.unchanged == 1


def test_a_parent_defined_later_in_the_file_is_created_first(session: Session, plant: Plant) -> None:
    content = xlsx_bytes(
        sheet(
            line("P-101-M", name="电机", asset_class="电动机", parent="P-101"),
            line("P-101-M-B", name="轴承", asset_class="电动机", parent="P-101-M"),
            line("P-101", name="循环水泵"),
        )
    )
    report = run_import(session, content)
    assert report.created == 3
    pump, motor, bearing = (asset(session, tag) for tag in ("P-101", "P-101-M", "P-101-M-B"))
    assert motor.parent_id == pump.id
    assert bearing.parent_id == motor.id


def test_a_parent_already_in_the_registry(session: Session, plant: Plant) -> None:
    pump = service.create_asset(
        session, AssetCreate(tag="P-101", name="泵", asset_class=AssetClass.PUMP, workshop_id=plant.syn.id), actor=ACTOR
    )
    run_import(session, xlsx_bytes(sheet(line("P-101-M", asset_class="电动机", parent="P-101"))))
    assert asset(session, "P-101-M").parent_id == pump.id


def test_a_unit_alone_names_its_workshop(session: Session, plant: Plant) -> None:
    run_import(session, xlsx_bytes(sheet(line("P-1", workshop="", unit="精馏一装置"))))
    assert asset(session, "P-1").workshop_id == plant.dis.id


# --- Template -----------------------------------------------------------------------------


def test_template_has_the_columns_dropdowns_and_an_example_that_imports(session: Session, plant: Plant) -> None:
    content = template.template_workbook(session)
    frame = pd.read_excel(io.BytesIO(content), engine="calamine", header=None, dtype=object, na_filter=False)
    assert list(frame.iloc[0])[:4] == ["位号", "设备名称", "设备类别", "车间"]
    assert list(frame.iloc[1])[:2] == ["Tag", "Name"]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        data_sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert data_sheet.count("<dataValidation ") == 6  # class, workshop, unit, criticality, status, special category
    report = run_import(session, content, "template.xlsx", dry_run=True)
    assert (report.new, report.invalid, report.skipped_headers) == (1, 0, [2]), report.errors


# --- Web ----------------------------------------------------------------------------------


@pytest.fixture
def manager_client(client: TestClient, session: Session, plant: Plant) -> tuple[TestClient, str]:
    client.cookies.set(LOCALE_COOKIE, "en")
    token = login(client, factories.UserFactory(role=Role.MANAGER))
    return client, token


def upload(client: TestClient, token: str, content: bytes, filename: str = "台账.xlsx") -> Any:
    return client.post("/assets/import/preview", data={"csrf_token": token}, files={"file": (filename, content, XLSX)})


def test_web_upload_preview_lists_every_error_then_confirm_imports_the_valid_rows(
    manager_client: tuple[TestClient, str], session: Session, imports_dir: Path
) -> None:
    client, token = manager_client
    page = client.get("/assets/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    content = xlsx_bytes(sheet(line("P-1"), line("P-2", asset_class="飞船"), line("P-3", installed="03/05/24")))
    before = counts(session)

    preview = upload(client, token, content)

    assert preview.status_code == 200
    assert counts(session) == before  # the preview writes nothing
    text = preview.text
    assert 'data-count="new">1<' in text
    assert 'data-count="invalid">2<' in text
    assert "<td>5</td><td>设备类别</td>" in text
    assert "飞船" in text
    assert "<td>6</td><td>安装日期</td>" in text
    assert "03/05/24" in text
    digest = hashlib.sha256(content).hexdigest()
    assert (imports_dir / f"{digest}.xlsx").is_file()
    assert f'name="token" value="{digest}"' in text

    done = client.post(
        "/assets/import/confirm",
        data={"csrf_token": token, "token": digest, "mode": "valid_only", "filename": "台账.xlsx"},
    )

    assert done.status_code == 303
    assert done.headers["location"] == "/assets"
    assert counts(session)[0] == before[0] + 1
    assert service.get_asset_by_tag(session, "P-1") is not None
    assert "1 created, 0 updated" in client.get("/assets").text
    assert not (imports_dir / f"{digest}.xlsx").exists()


def test_web_all_or_nothing_confirm_with_errors_writes_nothing_and_shows_them(
    manager_client: tuple[TestClient, str], session: Session, imports_dir: Path
) -> None:
    client, token = manager_client
    content = xlsx_bytes(sheet(line("P-1"), line("P-2", asset_class="飞船")))
    upload(client, token, content)
    digest = hashlib.sha256(content).hexdigest()
    before = counts(session)

    response = client.post("/assets/import/confirm", data={"csrf_token": token, "token": digest, "mode": "all"})

    assert response.status_code == 422
    assert "<td>5</td><td>设备类别</td>" in response.text
    assert counts(session) == before


def test_web_clean_file_imports_all_or_nothing(
    manager_client: tuple[TestClient, str], session: Session, imports_dir: Path
) -> None:
    client, token = manager_client
    content = csv_bytes(sheet(line("P-1"), line("P-2")), "gb18030")
    preview = upload(client, token, content, "台账.csv")
    assert "GB18030" in preview.text
    digest = hashlib.sha256(content).hexdigest()
    done = client.post("/assets/import/confirm", data={"csrf_token": token, "token": digest, "mode": "all"})
    assert done.status_code == 303
    assert "2 created, 0 updated" in client.get("/assets").text


def test_web_preview_lists_warnings_apart_from_errors(
    manager_client: tuple[TestClient, str], session: Session, imports_dir: Path
) -> None:
    client, token = manager_client
    content = xlsx_bytes(sheet(line("P-1"), line("P-9", status="报废"), line("P-3", asset_class="飞船")))

    text = upload(client, token, content).text

    warnings = text.split('id="import-warnings"')[1].split("</table>")[0]
    errors = text.split('id="import-errors"')[1].split("</table>")[0]
    assert "<td>5</td><td>状态</td>" in warnings
    assert "unknown" in warnings
    assert "<td>5</td>" not in errors
    assert "<td>6</td><td>设备类别</td>" in errors
    assert "<td>6</td>" not in warnings
    assert 'data-count="invalid">1<' in text
    assert 'data-count="new">2<' in text


def _cell(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    assert match, name
    return " ".join(match.group(1).split())


@pytest.mark.parametrize(("language", "word"), [("zh_CN", "未知"), ("en", "unknown")])
def test_a_retirement_of_unknown_date_and_reason_shows_as_unknown_on_the_page_the_list_and_exports(
    client: TestClient, session: Session, plant: Plant, language: str, word: str
) -> None:
    run_import(session, xlsx_bytes(sheet(line("P-9", status="报废"))))
    retired = asset(session, "P-9")
    client.cookies.set(LOCALE_COOKIE, language)
    login(client, factories.UserFactory(role=Role.AUDITOR))

    page = client.get(f"/assets/{retired.id}").text
    assert _cell(page, "retired-on") == word
    assert _cell(page, "retire-reason") == word
    listing = client.get("/assets?q=P-9").text
    assert _cell(listing, "retired-on") == word
    exported = client.get("/assets?q=P-9&export=csv")
    frame = pd.read_csv(io.BytesIO(exported.content), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    date_header, reason_header = ("报废日期", "报废原因") if language == "zh_CN" else ("Retired date", "Retire reason")
    assert (frame.loc[0, date_header], frame.loc[0, reason_header]) == (word, word)
    workbook = client.get("/assets?q=P-9&export=xlsx").content
    data = pd.read_excel(io.BytesIO(workbook), sheet_name=1, dtype=object, engine="calamine")
    assert (data.loc[0, date_header], data.loc[0, reason_header]) == (word, word)


def test_an_asset_retired_on_an_unknown_date_can_still_be_edited(
    client: TestClient, session: Session, plant: Plant
) -> None:
    run_import(session, xlsx_bytes(sheet(line("P-9", status="报废"))))
    retired = asset(session, "P-9")
    token = login(client, factories.UserFactory(role=Role.MANAGER))
    form = {
        "csrf_token": token,
        "version": str(retired.version),
        "tag": "P-9",
        "name": "旧离心泵",
        "asset_class": "PU",
        "workshop_id": str(plant.syn.id),
        "status": "retired",
        "criticality": "C",
        "useful_life_years": "10",
        "salvage_rate": "0.05",
        "special_category": "none",
    }
    response = client.post(f"/assets/{retired.id}/edit", data=form)
    assert response.status_code == 303, response.text
    session.refresh(retired)
    assert (retired.name, retired.status, retired.retired_date) == ("旧离心泵", AssetStatus.RETIRED, None)


@pytest.mark.parametrize(
    ("filename", "content", "status", "words"),
    [
        ("list.pdf", b"%PDF-1.4", 422, ".pdf"),
        ("list.xlsx", b"not a workbook", 422, "not an Excel workbook"),
        ("list.csv", b"", 422, "empty"),
    ],
)
def test_web_refuses_other_file_types_with_a_clear_message(
    manager_client: tuple[TestClient, str], filename: str, content: bytes, status: int, words: str
) -> None:
    client, token = manager_client
    response = upload(client, token, content, filename)
    assert response.status_code == status
    assert words in response.text


def test_web_refuses_files_over_the_size_limit(
    manager_client: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, token = manager_client
    monkeypatch.setattr(reading, "MAX_UPLOAD_BYTES", 1000)
    response = upload(client, token, b"x" * 1001, "big.csv")
    assert response.status_code == 413


def test_web_upload_without_a_file_asks_for_one(manager_client: tuple[TestClient, str]) -> None:
    client, token = manager_client
    response = client.post("/assets/import/preview", data={"csrf_token": token})
    assert response.status_code == 422
    assert 'data-testid="import-error"' in response.text


@pytest.mark.parametrize("bad_token", ["../../etc/passwd", "a" * 64, "ABC", ""])
def test_web_confirm_accepts_only_the_hash_of_a_stored_upload(
    manager_client: tuple[TestClient, str], session: Session, bad_token: str
) -> None:
    client, token = manager_client
    before = counts(session)
    response = client.post("/assets/import/confirm", data={"csrf_token": token, "token": bad_token})
    assert response.status_code == 404
    assert counts(session) == before


def test_web_template_download(manager_client: tuple[TestClient, str]) -> None:
    client, _token = manager_client
    response = client.get("/assets/import/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"PK")


def test_engineers_may_not_import(client: TestClient, engineer: User, plant: Plant, session: Session) -> None:
    token = login(client, engineer)
    before = counts(session)
    assert client.get("/assets/import").status_code == 403
    assert client.get("/assets/import/template.xlsx").status_code == 403
    content = xlsx_bytes(sheet(line("P-1")))
    assert upload(client, token, content).status_code == 403
    digest = hashlib.sha256(content).hexdigest()
    confirm = client.post("/assets/import/confirm", data={"csrf_token": token, "token": digest})
    assert confirm.status_code == 403
    assert counts(session) == before


@pytest.fixture
def imports_dir() -> Path:
    from maintenance.assets.import_routes import imports_dir as folder

    return folder()


# --- CLI ----------------------------------------------------------------------------------

CLI = [sys.executable, "-m", "maintenance.cli"]


@dataclass
class CliPlant:
    path: Path
    var_dir: Path
    secret: str

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAINTENANCE_")}
        env.update(
            MAINTENANCE_DATABASE_URL=f"sqlite:///{self.path}",
            MAINTENANCE_VAR_DIR=str(self.var_dir),
            MAINTENANCE_ENVIRONMENT="test",
            MAINTENANCE_SECRET_KEY=self.secret,
            COLUMNS="200",
        )
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], capture_output=True, text=True, env=self.env, cwd=self.var_dir.parent, timeout=180
        )

    def count(self, sql: str) -> int:
        with closing(sqlite3.connect(self.path)) as connection:
            return int(connection.execute(sql).fetchone()[0])

    def assets(self) -> int:
        return self.count("SELECT count(*) FROM asset")

    def changes(self) -> int:
        return self.count("SELECT count(*) FROM object_change")


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> CliPlant:
    folder = tmp_path_factory.mktemp("cli-import")
    plant = CliPlant(folder / "plant.db", folder / "var", secrets.token_urlsafe(32))
    for args in (("db", "upgrade"), ("seed", "--demo")):
        result = plant.run(*args)
        assert result.returncode == 0, result.stderr
    return plant


@pytest.fixture
def cli_plant(demo_database: CliPlant, tmp_path: Path) -> CliPlant:
    """A copy of the seeded database per test."""
    copy = CliPlant(tmp_path / "plant.db", tmp_path / "var", demo_database.secret)
    copy.var_dir.mkdir()
    with closing(sqlite3.connect(demo_database.path)) as source, closing(sqlite3.connect(copy.path)) as target:
        source.backup(target)
    return copy


def cli_sheet(*lines: list[Any]) -> bytes:
    return xlsx_bytes(sheet(*lines))


def test_cli_imports_a_file_and_prints_a_summary(cli_plant: CliPlant, tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    path.write_bytes(cli_sheet(line("IMP-101"), line("IMP-101-M", asset_class="电动机", parent="IMP-101")))
    before = cli_plant.assets()
    result = cli_plant.run("import", "assets", str(path))
    assert result.returncode == 0, result.stderr
    assert "2 created, 0 updated" in result.stdout
    assert cli_plant.assets() == before + 2


def test_cli_all_or_nothing_prints_every_error_and_writes_nothing(cli_plant: CliPlant, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_bytes(sheet(line("IMP-1"), line("IMP-2", asset_class="飞船"), line("IMP-3", unit="DIS-1")), "gb18030")
    )
    before = (cli_plant.assets(), cli_plant.changes())
    result = cli_plant.run("import", "assets", str(path))
    assert result.returncode == 1
    assert "row 5, 设备类别: " in result.stderr
    assert "row 6, 装置: " in result.stderr
    assert "nothing written" in result.stdout
    assert (cli_plant.assets(), cli_plant.changes()) == before


def test_cli_dry_run_and_valid_only(cli_plant: CliPlant, tmp_path: Path) -> None:
    path = tmp_path / "mixed.xlsx"
    path.write_bytes(cli_sheet(line("IMP-1"), line("IMP-2", installed="03/05/24")))
    before = (cli_plant.assets(), cli_plant.changes())

    dry = cli_plant.run("import", "assets", str(path), "--dry-run")
    assert dry.returncode == 1  # a dry run that found errors says so
    assert "dry run: nothing written" in dry.stdout
    assert "row 5, 安装日期: " in dry.stderr
    assert (cli_plant.assets(), cli_plant.changes()) == before

    valid = cli_plant.run("import", "assets", str(path), "--valid-only")
    assert valid.returncode == 0, valid.stderr
    assert "1 created, 0 updated" in valid.stdout
    assert "row 5, 安装日期: " in valid.stderr
    assert cli_plant.assets() == before[0] + 1


def test_cli_accepts_plant_words_for_classes_and_suggests_for_a_misspelt_one(
    cli_plant: CliPlant, tmp_path: Path
) -> None:
    path = tmp_path / "台账.xlsx"
    path.write_bytes(cli_sheet(line("IMP-201", asset_class="离心泵"), line("IMP-202", asset_class="叉车")))
    result = cli_plant.run("import", "assets", str(path))
    assert result.returncode == 0, result.stderr
    assert "2 created, 0 updated" in result.stdout
    classes = {
        cli_plant.count("SELECT count(*) FROM asset WHERE tag = 'IMP-201' AND asset_class = 'PU'"),
        cli_plant.count("SELECT count(*) FROM asset WHERE tag = 'IMP-202' AND asset_class = 'VH'"),
    }
    assert classes == {1}

    path.write_bytes(cli_sheet(line("IMP-203", asset_class="离芯泵")))
    refused = cli_plant.run("import", "assets", str(path))
    assert refused.returncode == 1
    assert "离心泵" in refused.stderr


def test_cli_refuses_an_unknown_file_type(cli_plant: CliPlant, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("位号\n")
    result = cli_plant.run("import", "assets", str(path))
    assert result.returncode == 1
    assert ".txt" in result.stderr


# --- Hostile files (issue 12) -------------------------------------------------------------
#
# Workbooks of a few KB that declare or hold millions of cells, zips that unpack a
# thousandfold, a CSV row of a million columns: refused with the limit named, before any parser
# sees them (``parser_must_not_run`` fails the test instead of letting calamine allocate), with
# nothing written and nothing kept under var/imports.

WORKBOOK_BOMBS = {
    "cell at XFD1048576": (bombs.CELL_BOMB, "the sheet has 1048576 rows, the limit is 200000 rows"),
    "declared A1:XFD1048576": (bombs.DIMENSION_BOMB, "the sheet declares 1048576 rows, the limit is 200000 rows"),
    "a million rows tall": (bombs.TALL_SHEET, "the sheet has 1048576 rows, the limit is 200000 rows"),
    "cells without references": (bombs.WIDE_ROW_WITHOUT_REFS, "the sheet has 201 columns, the limit is 200 columns"),
    "shared string in every cell": (bombs.SHARED_STRING_BOMB, "more than 50 million characters"),
    "deflate bomb": (bombs.deflate_bomb(16), "times its size, the limit is 100"),
}


def stored_uploads(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


@pytest.mark.parametrize("bomb", list(WORKBOOK_BOMBS))
def test_web_preview_refuses_a_workbook_bomb_before_parsing_it(
    manager_client: tuple[TestClient, str], session: Session, imports_dir: Path, no_parser: None, bomb: str
) -> None:
    client, token = manager_client
    content, reason = WORKBOOK_BOMBS[bomb]
    before, kept = counts(session), stored_uploads(imports_dir)

    response = upload(client, token, content, "台账.xlsx")

    assert response.status_code == 422
    assert reason in response.text
    assert counts(session) == before
    assert stored_uploads(imports_dir) == kept


def test_web_preview_reads_what_a_workbook_unpacks_to_not_what_it_declares(
    manager_client: tuple[TestClient, str],
    session: Session,
    imports_dir: Path,
    no_parser: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "import_max_unpacked_mb", 1)
    client, token = manager_client
    response = upload(client, token, bombs.lying_sizes(bombs.deflate_bomb(8), declared=10))
    assert response.status_code == 422
    assert "the workbook unpacks to more than 1 MB" in response.text


def test_web_preview_refuses_a_csv_row_of_a_million_columns(
    manager_client: tuple[TestClient, str], session: Session, imports_dir: Path
) -> None:
    client, token = manager_client
    before, kept = counts(session), stored_uploads(imports_dir)
    response = upload(client, token, ("位号" + "," * 999_999 + "\r\n").encode(), "台账.csv")
    assert response.status_code == 422
    assert "row 1 has 1000000 columns, the limit is 200 columns" in response.text
    assert counts(session) == before
    assert stored_uploads(imports_dir) == kept


def test_web_preview_refuses_csv_rows_beyond_the_configured_limit(
    manager_client: tuple[TestClient, str], imports_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "import_max_rows", 5)
    client, token = manager_client
    response = upload(client, token, csv_bytes(sheet(*(line(f"P-{n}") for n in range(10)))), "台账.csv")
    assert response.status_code == 422
    assert "more than 5 rows" in response.text


def test_a_refused_upload_is_not_kept(
    manager_client: tuple[TestClient, str], session: Session, imports_dir: Path
) -> None:
    """A file the preview cannot offer to import (here: no header) is not stored for a
    confirmation that cannot come; an importable one is."""
    client, token = manager_client
    kept = stored_uploads(imports_dir)
    refused = upload(client, token, xlsx_bytes([["just", "some", "words"]]))
    assert refused.status_code == 422
    assert stored_uploads(imports_dir) == kept
    content = xlsx_bytes(sheet(line("P-1")))
    assert upload(client, token, content).status_code == 200
    assert stored_uploads(imports_dir) == kept | {f"{hashlib.sha256(content).hexdigest()}.xlsx"}


def test_a_confirmation_refused_with_nothing_importable_removes_the_file(
    manager_client: tuple[TestClient, str], session: Session, imports_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, token = manager_client
    content = xlsx_bytes(sheet(line("P-1")))
    upload(client, token, content)
    digest = hashlib.sha256(content).hexdigest()
    assert (imports_dir / f"{digest}.xlsx").is_file()

    def unreadable(*_args: Any, **_kwargs: Any) -> ImportReport:
        report = ImportReport(filename="台账.xlsx")
        report.file_errors.append(FieldError("File", "The file changed."))
        raise ImportFailed("Nothing was imported: the file cannot be read as an asset list.", report)

    monkeypatch.setattr(imports, "import_assets", unreadable)
    response = client.post("/assets/import/confirm", data={"csrf_token": token, "token": digest, "mode": "all"})
    assert response.status_code == 422
    assert not (imports_dir / f"{digest}.xlsx").exists()


def test_a_confirmation_whose_commit_fails_keeps_the_file_for_another_try(
    manager_client: tuple[TestClient, str], session: Session, imports_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload is removed only once the import is committed: a commit that fails (the
    database gone, the server killed before it) leaves it to be confirmed again."""
    client, token = manager_client
    content = xlsx_bytes(sheet(line("P-1")))
    upload(client, token, content)
    digest = hashlib.sha256(content).hexdigest()

    def connection_lost() -> None:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(session, "commit", connection_lost)
    with pytest.raises(OperationalError):
        client.post("/assets/import/confirm", data={"csrf_token": token, "token": digest, "mode": "all"})
    assert (imports_dir / f"{digest}.xlsx").is_file()


@pytest.mark.parametrize(
    ("bomb", "reason"),
    [
        ("cell at XFD1048576", "文件过大：工作表有 1048576 行，上限 200000 行"),
        ("declared A1:XFD1048576", "文件过大：工作表声明了 1048576 行，上限 200000 行"),
        ("deflate bomb", "解压后是压缩大小的 1013 倍，上限 100 倍"),
    ],
)
def test_cli_refuses_a_workbook_bomb_before_parsing_it(
    cli_in_test_session: CliRunner,
    session: Session,
    plant: Plant,
    tmp_path: Path,
    no_parser: None,
    bomb: str,
    reason: str,
) -> None:
    path = tmp_path / "台账.xlsx"
    path.write_bytes(WORKBOOK_BOMBS[bomb][0])
    before = counts(session)
    result = cli_in_test_session.invoke(cli.app, ["import", "assets", str(path)])
    assert result.exit_code == 1
    assert reason in result.output
    assert counts(session) == before


# --- Any file at all (property-based) -----------------------------------------------------

_CELL_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_CELLS = st.one_of(
    st.none(),
    _CELL_TEXT,
    st.sampled_from(["P-1", "泵", "SYN", "SYN-1", "2020-01-15", "03/05/24", "10000", "1,234.5", "在用", "报废", "—"]),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
)
_HEADERS = st.lists(st.sampled_from([*HEADER, "位号", "Tag", "原值(万元)", "残值率(%)", "", "备注"]), max_size=12)


@st.composite
def asset_files(draw: st.DrawFn) -> tuple[bytes, str]:
    header = draw(st.one_of(st.just(HEADER), _HEADERS))
    rows = draw(st.lists(st.lists(_CELLS, max_size=12), max_size=15))
    table = [header, *rows]
    kind = draw(st.sampled_from(["xlsx", "csv-utf-8", "csv-utf-8-sig", "csv-gb18030", "garbage"]))
    if kind == "garbage":
        return draw(st.binary(max_size=300)), draw(st.sampled_from(["台账.xlsx", "台账.csv", "台账.xls"]))
    if kind == "xlsx":
        cells = [[value if not isinstance(value, float) or value == value else None for value in row] for row in table]
        return xlsx_bytes([[_xlsx_safe(value) for value in row] for row in cells]), "台账.xlsx"
    return csv_bytes(table, kind.removeprefix("csv-")), "台账.csv"


def _xlsx_safe(value: Any) -> Any:
    """What XlsxWriter can write: no infinities, dates within Excel's calendar."""
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, date) and not 1900 <= value.year <= 9999:
        return value.isoformat()
    return value


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(file=asset_files(), mode=st.sampled_from(list(ImportMode)), dry_run=st.booleans())
def test_any_file_is_imported_or_refused_with_a_reason_and_never_half_written(
    session: Session, plant: Plant, file: tuple[bytes, str], mode: ImportMode, dry_run: bool
) -> None:
    content, filename = file
    before = counts(session)
    outer = session.begin_nested()  # each example starts from the same registry
    try:
        started = time.monotonic()
        outcome: ImportReport | ImportFailed
        try:
            outcome = run_import(session, content, filename, mode=mode, dry_run=dry_run)
        except ImportFailed as failure:  # the import's own refusal, with its reasons
            outcome = failure
        assert time.monotonic() - started < 30
        if isinstance(outcome, ImportFailed):
            assert outcome.message
            assert outcome.report.errors
            assert counts(session) == before  # nothing written
        elif dry_run:
            assert counts(session) == before
        else:
            assert outcome.written
    finally:
        outer.rollback()
