"""The assets domain's names in the change log (see :mod:`maintenance.audit.labels`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from maintenance.audit.labels import join_texts, register_labels
from maintenance.i18n import current_locale, format_number

CREATED_AT = ("创建时间", "Created at")
# A stocktake's log row lists every line it marked missing; the page shows the first few.
MISSING_SHOWN = 20


def _asset_value(name: str, value: Any) -> str | None:
    if name == "salvage_rate":
        try:
            return f"{format_number(Decimal(str(value)) * 100, 1)}%"
        except InvalidOperation:
            return None
    return None


def _size(name: str, value: Any) -> str | None:
    return f"{format_number(value)} B" if name == "size_bytes" and isinstance(value, int) else None


def _stocktake_value(name: str, value: Any) -> str | None:
    if name == "marked_missing" and isinstance(value, list):
        tags = [str(line.get("tag", "")) if isinstance(line, dict) else str(line) for line in value]
        shown = join_texts(tags[:MISSING_SHOWN])
        rest = len(tags) - MISSING_SHOWN
        if rest <= 0:
            return shown
        return f"{shown} 等另外 {rest} 项" if current_locale() == "zh_CN" else f"{shown} and {rest} more"
    return None


ASSET_FIELDS = {
    "tag": ("位号", "Tag"),
    "name": ("设备名称", "Name"),
    "asset_class": ("设备类别", "Class"),
    "workshop_id": ("车间", "Workshop"),
    "unit_id": ("装置", "Unit"),
    "parent_id": ("上级设备", "Parent asset"),
    "manufacturer": ("制造厂", "Manufacturer"),
    "spec": ("规格型号", "Model / spec"),
    "serial_number": ("出厂编号", "Serial no."),
    "install_date": ("安装日期", "Install date"),
    "commission_date": ("投用日期", "Commission date"),
    "criticality": ("重要度", "Criticality"),
    "status": ("状态", "Status"),
    "fixed_asset_number": ("固定资产编号", "Fixed-asset no."),
    "original_value_cny": ("原值", "Original value"),
    "useful_life_years": ("折旧年限（年）", "Useful life (years)"),
    "salvage_rate": ("残值率", "Salvage rate"),
    "special_category": ("特种设备类别", "Special equipment category"),
    "registration_number": ("使用登记证编号", "Registration no."),
    "custodian": ("保管人", "Custodian"),
    "notes": ("备注", "Notes"),
    "retired_date": ("报废日期", "Retired date"),
    "retire_reason": ("报废原因", "Retire reason"),
    "site_id": ("厂区", "Site"),
    "created_at": CREATED_AT,
}

register_labels(
    "asset",
    ("设备", "Asset"),
    ASSET_FIELDS,
    _asset_value,
    title_columns=("tag", "name"),
    hidden=("name_initials",),  # the search key derived from the name
)
register_labels(
    "asset_document",
    ("设备资料", "Asset document"),
    {
        "asset_id": ("设备", "Asset"),
        "filename": ("文件名", "File name"),
        "content_type": ("文件类型", "Content type"),
        "size_bytes": ("大小", "Size"),
        "sha256": ("SHA-256 校验值", "SHA-256"),
        "uploaded_by_id": ("上传人", "Uploaded by"),
        "uploaded_at": ("上传时间", "Uploaded at"),
        "asset_tag": ("设备位号", "Asset tag"),
    },
    _size,
    title_columns=("filename",),
)
register_labels(
    "asset_class_alias",
    ("设备类别别名", "Equipment class alias"),
    {
        "alias": ("别名", "Alias"),
        "asset_class": ("设备类别", "Class"),
        "match_key": ("匹配键", "Match key"),
        "created_at": CREATED_AT,
    },
    title_columns=("alias",),
)
register_labels(
    "stocktake",
    ("资产盘点", "Stocktake"),
    {
        "workshop_id": ("车间", "Workshop"),
        "state": ("状态", "State"),
        "as_of_date": ("截至日期", "As of"),
        "note": ("备注", "Note"),
        "started_by_id": ("发起人", "Started by"),
        "started_at": ("发起时间", "Started at"),
        "closed_by_id": ("关闭人", "Closed by"),
        "closed_at": ("关闭时间", "Closed at"),
        "signed_by_name": ("签字人", "Signed by"),
        "sign_off_statement": ("签字确认意见", "Sign-off statement"),
        # Logged beside the columns by the stocktake service.
        "expected_assets": ("应盘设备数", "Assets to count"),
        "expected_original_value_cny": ("应盘原值", "Original value to count"),
        "expected_net_book_value_cny": ("应盘净值", "Net book value to count"),
        "counted_lines": ("已盘点行数", "Lines counted"),
        "surplus_items": ("盘盈项数", "Surplus items"),
        "uncounted_lines": ("未盘点行数", "Lines not counted"),
        "marked_missing": ("标记为盘亏", "Marked missing"),
    },
    _stocktake_value,
)
register_labels(
    "stocktake_line",
    ("盘点明细", "Stocktake line"),
    {
        "stocktake_id": ("资产盘点", "Stocktake"),
        "asset_id": ("设备", "Asset"),
        "tag": ("位号", "Tag"),
        "name": ("设备名称", "Name"),
        "location": ("位置", "Location"),
        "fixed_asset_number": ("固定资产编号", "Fixed-asset no."),
        "original_value_cny": ("原值", "Original value"),
        "net_book_value_cny": ("净值", "Net book value"),
        "result": ("盘点结果", "Result"),
        "condition": ("设备状况", "Condition"),
        "note": ("备注", "Note"),
        "found_by_scan": ("扫码找到", "Found by scanning"),
        "counted_by_id": ("盘点人", "Counted by"),
        "counted_at": ("盘点时间", "Counted at"),
    },
)
register_labels(
    "stocktake_surplus",
    ("盘盈", "Surplus"),
    {
        "stocktake_id": ("资产盘点", "Stocktake"),
        "asset_id": ("设备", "Asset"),
        "description": ("描述", "Description"),
        "location": ("位置", "Location"),
        "estimated_value_cny": ("估计价值", "Estimated value"),
        "condition": ("设备状况", "Condition"),
        "note": ("备注", "Note"),
        "recorded_by_id": ("登记人", "Recorded by"),
        "recorded_at": ("登记时间", "Recorded at"),
    },
)
