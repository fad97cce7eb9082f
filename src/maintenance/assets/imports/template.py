"""The asset import template: an XLSX workbook with the columns' headers, notes, an example
row and dropdowns for the choices, workshops and units."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.choices import AssetClass, AssetStatus, Criticality, SpecialCategory
from maintenance.assets.imports.columns import COLUMN_BY_FIELD, COLUMNS, Column
from maintenance.org.models import Unit, Workshop

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_ROWS = 1000  # rows that carry the dropdowns


def template_workbook(session: Session) -> bytes:
    """The import template: Chinese headers (English under them and in each header's note),
    one example row, dropdowns for the choices, workshops and units."""
    import xlsxwriter  # loaded when a template is asked for

    workshops = list(session.scalars(select(Workshop).order_by(Workshop.code)))
    units = list(session.scalars(select(Unit).order_by(col(Unit.workshop_id), col(Unit.code))))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("设备台账")
    lists = book.add_worksheet("lists")
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    required = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_color": "#C00000"})
    english = book.add_format({"italic": True, "font_color": "#808080", "border": 1})
    text = book.add_format({"num_format": "@"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "#,##0.00"})
    percent = book.add_format({"num_format": "0.00%"})
    example_note = book.add_format({"font_color": "#808080", "num_format": "@"})

    choice_lists: dict[str, list[str]] = {
        "asset_class": [member.zh for member in AssetClass],
        "status": [member.zh for member in AssetStatus],
        "criticality": [member.zh for member in Criticality],
        "special_category": [member.zh for member in SpecialCategory],
        "workshop": [workshop.code for workshop in workshops],
        "unit": [unit.code for unit in units],
    }
    list_ranges: dict[str, str] = {}
    for index, (name, items) in enumerate(choice_lists.items()):
        lists.write_string(0, index, COLUMN_BY_FIELD[name].zh)
        for offset, item in enumerate(items, start=1):
            lists.write_string(offset, index, item)
        if items:
            letter = xlsxwriter.utility.xl_col_to_name(index)
            list_ranges[name] = f"=lists!${letter}$2:${letter}${len(items) + 1}"
    lists.hide()

    first_unit = next((unit for unit in units if workshops and unit.workshop_id == workshops[0].id), None)
    example: dict[str, Any] = {
        "tag": "P-101A",
        "name": "原料输送泵",
        "asset_class": AssetClass.PUMP.zh,
        "workshop": workshops[0].code if workshops else "",
        "unit": first_unit.code if first_unit else "",
        "manufacturer": "大连耐酸泵厂",
        "spec": "IH80-65-160",
        "serial_number": "2019-0356",
        "install_date": date(2019, 5, 10),
        "commission_date": date(2019, 6, 1),
        "criticality": Criticality.B.zh,
        "status": AssetStatus.IN_SERVICE.zh,
        "fixed_asset_number": "GD-2019-0123",
        "original_value_cny": 85000,
        "useful_life_years": 10,
        "salvage_rate": 0.05,
        "special_category": SpecialCategory.NONE.zh,
        "custodian": "张工",
        "notes": "示例行，导入前请删除 / example row: delete before importing",
    }
    formats = {"date": day, "money": money, "rate": percent}
    for index, column in enumerate(COLUMNS):
        sheet.write_string(0, index, column.zh, required if column.required else header)
        sheet.write_comment(0, index, _template_note(column), {"x_scale": 2, "y_scale": 1.5})
        sheet.write_string(1, index, column.en, english)
        cell_format = formats.get(column.kind, text if column.kind in ("code", "text", "notes", "parent") else None)
        sheet.set_column(index, index, 22 if column.kind in ("notes", "text") else 14, cell_format)
        value = example.get(column.field)
        if isinstance(value, date):
            sheet.write_datetime(2, index, datetime.combine(value, time.min), day)
        elif isinstance(value, int | float):
            sheet.write_number(2, index, value, formats.get(column.kind))
        elif value:
            sheet.write_string(2, index, value, example_note if column.field == "notes" else None)
        if column.field in list_ranges:
            sheet.data_validation(
                2,
                index,
                TEMPLATE_ROWS,
                index,
                {
                    "validate": "list",
                    "source": list_ranges[column.field],
                    # Workshops and units may also be given by name: warn, do not refuse.
                    "error_type": "warning" if column.kind in ("workshop", "unit") else "stop",
                    "error_title": column.zh,
                    "error_message": "请从下拉列表中选择 / choose from the list",
                },
            )
    sheet.freeze_panes(2, 2)
    sheet.set_row(0, 30)
    book.close()
    return buffer.getvalue()


def _template_note(column: Column) -> str:
    lines = [f"{column.zh} / {column.en}" + (" (必填 required)" if column.required else "")]
    if column.choice is not None:
        lines.append("可选 / options: " + "、".join(member.zh for member in column.choice))
    if column.choice is AssetClass:
        lines.append("也可填台账用词（别名），如 离心泵、叉车 / or a ledger word (alias), e.g. 离心泵")
    hints = {
        "date": "日期 date: 2024-03-05 / 2024年3月5日",
        "money": "元 CNY: 1234567.00 / 12.5万",
        "rate": "5% / 0.05",
        "int": "年 years: 1–100",
        "workshop": "车间代码或名称 / workshop code or name",
        "unit": "装置代码或名称 / unit code or name",
        "parent": "上级设备的位号 / tag of the parent asset",
    }
    if column.kind in hints:
        lines.append(hints[column.kind])
    return "\n".join(lines)
