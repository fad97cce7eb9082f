"""The monitoring domain's names in the change log (see :mod:`maintenance.audit.labels`).

Alerts were logged with English descriptions made of ids ("alert 5 point 1"): the log shows them
as ``#id``, and their fields name the point and order they belong to.
"""

from __future__ import annotations

from maintenance.audit.labels import register_labels

CREATED_AT = ("创建时间", "Created at")
ASSET = ("设备", "Asset")
POINT = ("测点", "Measurement point")
ORDER = ("工单", "Work order")
WORKSHOP = ("车间", "Workshop")

register_labels(
    "measurement_point",
    POINT,
    {
        "code": ("测点编码", "Point code"),
        "asset_id": ASSET,
        "name": ("测点名称", "Point name"),
        "quantity": ("测量参数", "Quantity"),
        "unit": ("单位", "Unit of measure"),
        "preset": ("限值预设", "Limit preset"),
        "warning_high": ("高预警值", "Warning high"),
        "alarm_high": ("高报警值", "Alarm high"),
        "warning_low": ("低预警值", "Warning low"),
        "alarm_low": ("低报警值", "Alarm low"),
        "warnings_to_raise": ("连续预警次数触发", "Warnings in a row to raise an order"),
        "initial_thickness_mm": ("初始壁厚（mm）", "Initial thickness (mm)"),
        "initial_date": ("初始测量日期", "Initial thickness date"),
        "required_thickness_mm": ("要求壁厚（mm）", "Required thickness (mm)"),
        "is_active": ("启用", "Active"),
        "workshop_id": WORKSHOP,
        "latest_value": ("最新值", "Latest value"),
        "latest_taken_at": ("测量时间", "Taken at"),
        "latest_state": ("状态", "State"),
        "state_since": ("状态起始", "State since"),
        "consecutive_warnings": ("连续预警次数", "Warnings in a row"),
        "created_at": CREATED_AT,
    },
    title_columns=("code", "name"),
)
register_labels(
    "condition_alert",
    ("状态报警", "Condition alert"),
    {
        "point_id": POINT,
        "order_id": ORDER,
        "state": ("状态", "State"),
        "trigger_state": ("触发状态", "Triggered by"),
        "trigger_taken_at": ("触发读数时间", "Trigger reading taken at"),
        "trigger_value": ("触发值", "Trigger value"),
        "opened_at": ("报警时间", "Opened at"),
        "normal_again_at": ("恢复正常时间", "Normal again at"),
        "closed_at": ("关闭时间", "Closed at"),
        "readings_since": ("其后读数", "Readings since"),
        "order_number": ("工单编号", "Order no."),
    },
    show_repr=False,
)
