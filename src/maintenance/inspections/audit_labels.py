"""The inspections domain's names in the change log (see :mod:`maintenance.audit.labels`).

Stops, rounds, entries and campaign parts were logged with English descriptions made of ids
("round 5 of route 1"): the log shows them as ``#id``, and their fields name the route, point or
order they belong to.
"""

from __future__ import annotations

from maintenance.audit.labels import register_labels

CREATED_AT = ("创建时间", "Created at")
ASSET = ("设备", "Asset")
POINT = ("测点", "Measurement point")
ORDER = ("工单", "Work order")
WORKSHOP = ("车间", "Workshop")
RESULT = ("结果", "Result")
NOTE = ("备注", "Note")

register_labels(
    "inspection_route",
    ("点检路线", "Inspection route"),
    {
        "code": ("编码", "Code"),
        "name": ("名称", "Name"),
        "workshop_id": WORKSHOP,
        "frequency": ("频次", "Frequency"),
        "is_active": ("启用", "Active"),
        "created_at": CREATED_AT,
    },
    title_columns=("code", "name"),
)
register_labels(
    "route_stop",
    ("点检站点", "Route stop"),
    {
        "route_id": ("点检路线", "Inspection route"),
        "position": ("顺序", "Position"),
        "point_id": POINT,
        "asset_id": ASSET,
        "check_text": ("检查内容", "Check"),
        "is_active": ("启用", "Active"),
        "route": ("路线编码", "Route code"),
    },
    title_columns=("check_text",),
    show_repr=False,
)
register_labels(
    "inspection_round",
    ("点检", "Round"),
    {
        "route_id": ("点检路线", "Inspection route"),
        "workshop_id": WORKSHOP,
        "period_start": ("周期开始", "Period start"),
        "period_end": ("周期结束", "Period end"),
        "state": ("状态", "State"),
        "stops_due": ("应检点位", "Stops due"),
        "stops_done": ("已检点位", "Stops walked"),
        "started_at": ("开始时间", "Started at"),
        "started_by_id": ("开始人", "Started by"),
        "finished_at": ("完成时间", "Finished at"),
        "finished_by_id": ("完成人", "Finished by"),
        "created_at": CREATED_AT,
        "missed": ("漏检点位", "Stops missed"),
    },
    show_repr=False,
)
register_labels(
    "round_entry",
    ("点检记录", "Round entry"),
    {
        "round_id": ("点检", "Round"),
        "stop_id": ("点检站点", "Route stop"),
        "value": ("数值", "Value"),
        "taken_at": ("测量时间", "Taken at"),
        "state": ("状态", "State"),
        "result": RESULT,
        "note": NOTE,
        "photo_sha256": ("照片 SHA-256", "Photo SHA-256"),
        "photo_content_type": ("照片类型", "Photo type"),
        "order_id": ORDER,
        "entered_by_id": ("录入人", "Entered by"),
        "entered_at": ("录入时间", "Entered at"),
        "client_id": ("手机端记录号", "Phone's entry id"),
    },
    show_repr=False,
)
register_labels(
    "inspection_campaign",
    ("季节性专项检查", "Seasonal inspection"),
    {
        "name": ("名称", "Name"),
        "kind": ("类别", "Kind"),
        "starts_on": ("开始日期", "Starts on"),
        "deadline": ("截止日期", "Deadline"),
        "instructions": ("检查要求", "Instructions"),
        "created_by_id": ("创建人", "Created by"),
        "created_at": CREATED_AT,
    },
    title_columns=("name",),
)
register_labels(
    "campaign_item",
    ("专项检查项目", "Inspection item"),
    {
        "campaign_id": ("季节性专项检查", "Seasonal inspection"),
        "position": ("序号", "Position"),
        "text": ("检查内容", "Check"),
    },
    title_columns=("text",),
)
register_labels(
    "campaign_workshop",
    ("专项检查车间", "Inspection workshop"),
    {
        "campaign_id": ("季节性专项检查", "Seasonal inspection"),
        "workshop_id": WORKSHOP,
        "items_answered": ("已填项", "Items answered"),
        "findings": ("发现问题", "Findings"),
        "submitted_at": ("提交时间", "Submitted at"),
        "submitted_by_id": ("提交人", "Submitted by"),
    },
    show_repr=False,
)
register_labels(
    "campaign_result",
    ("专项检查结果", "Inspection result"),
    {
        "campaign_workshop_id": ("专项检查车间", "Inspection workshop"),
        "item_id": ("专项检查项目", "Inspection item"),
        "result": RESULT,
        "note": NOTE,
        "asset_id": ASSET,
        "order_id": ORDER,
        "answered_by_id": ("填写人", "Answered by"),
        "answered_at": ("填写时间", "Answered at"),
    },
    show_repr=False,
)
