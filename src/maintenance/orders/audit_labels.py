"""The orders domain's names in the change log (see :mod:`maintenance.audit.labels`)."""

from __future__ import annotations

from typing import Any

from maintenance.audit.labels import register_labels
from maintenance.i18n import format_number
from maintenance.orders.choices import CostKind

CREATED_AT = ("创建时间", "Created at")
ASSET = ("设备", "Asset")
ORDER = ("工单", "Work order")


def _cost_line_repr(text: str) -> str:
    """Cost lines were logged as "<kind code> <description>": the kind in words."""
    code, _space, description = text.partition(" ")
    kind = next((member for member in CostKind if member.value == code), None)
    return f"{kind.label} {description}" if kind is not None else text


def _size(name: str, value: Any) -> str | None:
    return f"{format_number(value)} B" if name == "size_bytes" and isinstance(value, int) else None


COST_FIELDS = {
    "kind": ("类别", "Kind"),
    "description": ("描述", "Description"),
    "item_code": ("物料编码", "Item code"),
    "uom": ("计量单位", "Unit of measure"),
    "provider": ("承修方式", "Provider"),
    "quantity": ("数量", "Quantity"),
    "unit_price_cny": ("单价", "Unit price"),
}

register_labels(
    "work_order",
    ORDER,
    {
        "number": ("工单编号", "Order no."),
        "order_type": ("工单类型", "Type"),
        "title": ("标题", "Title"),
        "description": ("描述", "Description"),
        "state": ("状态", "State"),
        "priority": ("优先级", "Priority"),
        "asset_id": ASSET,
        "workshop_id": ("车间", "Workshop"),
        "planned_start_date": ("计划开工", "Planned start"),
        "planned_finish_date": ("计划完工", "Planned finish"),
        "due_date": ("到期日", "Due date"),
        "provider": ("承修方式", "Done by"),
        "assignee_name": ("检修班组或外委单位", "Team or contractor"),
        "assignee_id": ("负责工程师", "Responsible engineer"),
        "turnaround_id": ("大修", "Turnaround"),
        "is_revamp_tie_in": ("技改碰头", "Revamp tie-in"),
        "pm_plan_id": ("预防性维修计划", "PM plan"),
        "plan_due_date": ("计划到期日", "Plan due date"),
        "origin_order_id": ("来源工单", "Raised from order"),
        "requested_by_id": ("申请人", "Requested by"),
        "requested_at": ("申请时间", "Requested at"),
        "approved_by_id": ("审批人", "Approved by"),
        "approved_at": ("审批时间", "Approved at"),
        "actual_start_at": ("实际开始", "Actual start"),
        "actual_finish_at": ("实际完成", "Actual finish"),
        "failure_mode": ("故障模式", "Failure mode"),
        "failure_mechanism": ("故障机理", "Failure mechanism"),
        "failure_cause": ("故障原因", "Failure cause"),
        "detection_method": ("发现方式", "Detection method"),
        "downtime_start_at": ("停机开始", "Downtime start"),
        "downtime_end_at": ("停机结束", "Downtime end"),
        "production_loss_t": ("产量损失（吨）", "Production loss (t)"),
        "production_loss_cny": ("产值损失", "Production loss"),
        "findings": ("检查发现", "Findings"),
        "completion_notes": ("完工说明", "Completion notes"),
        "signed_off_by_id": ("签字确认人", "Signed off by"),
        "signed_off_at": ("签字确认时间", "Signed off at"),
        "planned_cost_cny": ("计划费用", "Planned cost"),
        "actual_cost_cny": ("实际费用", "Actual cost"),
        "labour_hours": ("人工工时", "Labour hours"),
        "created_at": CREATED_AT,
    },
    title_columns=("number", "title"),
)
register_labels(
    "cost_line",
    ("费用明细", "Cost line"),
    {
        "order_id": ORDER,
        **COST_FIELDS,
        "planned_quantity": ("计划数量", "Planned quantity"),
        "planned_unit_price_cny": ("计划单价", "Planned unit price"),
        "quantity": ("领用数量", "Issued quantity"),
        "used_quantity": ("使用数量", "Used quantity"),
        "returned_quantity": ("退库数量", "Returned quantity"),
        "reference_price_cny": ("参考价（新件/进口）", "Reference price (new / imported)"),
        "planned_cny": ("计划金额", "Planned amount"),
        "actual_cny": ("实际金额", "Actual amount"),
        "saving_cny": ("节约额", "Saving"),
        "created_at": CREATED_AT,
    },
    repr_formatter=_cost_line_repr,
)
register_labels(
    "checklist_item",
    ("检查项", "Checklist item"),
    {
        "order_id": ORDER,
        "position": ("序号", "Position"),
        "text": ("检查内容", "Check"),
        "value_unit": ("数值单位", "Value unit"),
        "result": ("结果", "Result"),
        "value": ("数值", "Value"),
        "note": ("备注", "Note"),
        "raised_order_id": ("引发工单", "Raised order"),
    },
    title_columns=("text",),
)
register_labels(
    "order_attachment",
    ("工单附件", "Order attachment"),
    {
        "order_id": ORDER,
        "filename": ("文件名", "File name"),
        "content_type": ("文件类型", "Content type"),
        "size_bytes": ("大小", "Size"),
        "sha256": ("SHA-256 校验值", "SHA-256"),
        "uploaded_by_id": ("上传人", "Uploaded by"),
        "uploaded_at": ("上传时间", "Uploaded at"),
        "order_number": ("工单编号", "Order no."),
    },
    _size,
)
register_labels(
    "pm_plan",
    ("预防性维修计划", "PM plan"),
    {
        "asset_id": ASSET,
        "workshop_id": ("车间", "Workshop"),
        "title": ("标题", "Title"),
        "basis": ("周期类型", "Basis"),
        "interval": ("周期", "Interval"),
        "interval_unit": ("周期单位", "Interval unit"),
        "interval_hours": ("运行小时周期", "Runtime interval (hours)"),
        "start_date": ("开始日期", "Start date"),
        "lead_days": ("提前期（天）", "Lead time (days)"),
        "priority": ("优先级", "Priority"),
        "provider": ("承修方式", "Done by"),
        "assignee_name": ("检修班组或外委单位", "Team or contractor"),
        "checklist_template": ("检查项模板", "Checklist template"),
        "is_active": ("启用", "Active"),
        "last_done_date": ("上次完成", "Last done"),
        "meter_hours": ("运行小时读数", "Runtime meter (h)"),
        "meter_read_at": ("读数时间", "Meter read at"),
        "last_done_meter_hours": ("上次完成时读数", "Meter at last completion (h)"),
        "created_at": CREATED_AT,
    },
    title_columns=("title",),
)
register_labels(
    "pm_plan_cost_line",
    ("计划费用明细", "PM plan cost line"),
    {"plan_id": ("预防性维修计划", "PM plan"), **COST_FIELDS},
)
register_labels(
    "turnaround",
    ("大修", "Turnaround"),
    {
        "code": ("编码", "Code"),
        "name": ("名称", "Name"),
        "start_date": ("开始日期", "Start date"),
        "end_date": ("结束日期", "End date"),
        "budget_cny": ("预算", "Budget"),
        "notes": ("备注", "Notes"),
        "site_id": ("厂区", "Site"),
        "created_at": CREATED_AT,
    },
    title_columns=("code", "name"),
)
register_labels(
    "journal_entry",
    ("财务费用凭证", "Finance journal entry"),
    {
        "booked_on": ("记账日期", "Booked on"),
        "workshop_id": ("车间", "Workshop"),
        "category": ("费用科目", "Category"),
        "amount_cny": ("金额", "Amount"),
        "reference": ("凭证号", "Reference"),
        "description": ("摘要", "Description"),
        "source_file": ("来源文件", "Source file"),
        "imported_by_id": ("导入人", "Imported by"),
        "created_at": CREATED_AT,
    },
    title_columns=("reference",),
)
