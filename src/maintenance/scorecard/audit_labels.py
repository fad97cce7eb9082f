"""The scorecard domain's names in the change log (see :mod:`maintenance.audit.labels`)."""

from __future__ import annotations

from maintenance.audit.labels import register_labels

NOTE = ("备注", "Note")
OWNER = ("负责人", "Owner")
DUE_DATE = ("计划完成日期", "Due date")
UPDATED_AT = ("修改时间", "Updated at")
CREATED_AT = ("创建时间", "Created at")
WORKSHOP = ("车间", "Workshop")
DESCRIPTION = ("描述", "Description")

register_labels(
    "scorecard_target",
    ("年度指标目标", "Scorecard target"),
    {"year": ("年度", "Year"), "indicator": ("指标", "Indicator"), "value": ("目标值", "Target"), "note": NOTE},
    title_columns=("year", "indicator"),
)
register_labels(
    "savings_entry",
    ("创效台账", "Savings entry"),
    {
        "kind": ("台账", "Ledger"),
        "recorded_on": ("日期", "Date"),
        "workshop_id": WORKSHOP,
        "description": DESCRIPTION,
        "reference": ("物料/招标编号", "Part or tender number"),
        "quantity": ("数量", "Quantity"),
        "reference_price_cny": ("对比价", "Reference price"),
        "actual_price_cny": ("实际价", "Actual price"),
        "saving_cny": ("创效金额", "Saving"),
        "note": NOTE,
        "created_at": CREATED_AT,
        "updated_at": UPDATED_AT,
    },
    title_columns=("description",),
)
register_labels(
    "accident",
    ("设备事故", "Equipment accident"),
    {
        "occurred_on": ("发生日期", "Date"),
        "asset_id": ("设备", "Asset"),
        "workshop_id": WORKSHOP,
        "accident_class": ("类别", "Class"),
        "title": ("事故名称", "Title"),
        "downtime_hours": ("停机时间(小时)", "Downtime (h)"),
        "loss_cny": ("经济损失", "Loss"),
        "description": ("经过", "What happened"),
        "cause": ("原因", "Cause"),
        "recorded_by_id": ("登记人", "Recorded by"),
        "created_at": CREATED_AT,
        "updated_at": UPDATED_AT,
    },
    title_columns=("title",),
)
register_labels(
    "accident_action",
    ("整改措施", "Corrective action"),
    {
        "accident_id": ("事故", "Accident"),
        "description": ("措施", "Action"),
        "owner": OWNER,
        "due_date": DUE_DATE,
        "done_on": ("完成日期", "Done on"),
        "order_id": ("工单", "Work order"),
        "created_at": CREATED_AT,
    },
    title_columns=("description",),
)
register_labels(
    "project",
    ("重点项目", "Key project"),
    {
        "year": ("年度", "Year"),
        "code": ("编号", "Code"),
        "name": ("名称", "Name"),
        "owner": OWNER,
        "workshop_id": WORKSHOP,
        "start_date": ("开始日期", "Start date"),
        "due_date": DUE_DATE,
        "aim_date": ("力争完成日期", "Aim date"),
        "cancelled": ("已取消", "Cancelled"),
        "description": DESCRIPTION,
        "created_at": CREATED_AT,
        "updated_at": UPDATED_AT,
    },
    title_columns=("code", "name"),
)
register_labels(
    "project_milestone",
    ("项目节点", "Milestone"),
    {
        "project_id": ("项目", "Project"),
        "name": ("节点", "Milestone"),
        "owner": OWNER,
        "start_date": ("开始日期", "Start date"),
        "due_date": DUE_DATE,
        "done_on": ("完成日期", "Done on"),
        "position": ("顺序", "Order"),
        "updated_at": UPDATED_AT,
    },
    title_columns=("name",),
)
register_labels(
    "operating_month",
    ("装置运行记录", "Operating log"),
    {
        "unit_id": ("装置", "Unit"),
        "month": ("月份", "Month"),
        "hours_run": ("运行小时", "Hours run"),
        "planned_hours": ("计划运行小时", "Planned hours"),
        "load_pct": ("平均负荷(%)", "Average load (%)"),
        "updated_at": UPDATED_AT,
    },
)
