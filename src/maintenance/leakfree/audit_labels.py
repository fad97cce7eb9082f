"""The leak-free domain's names in the change log (see :mod:`maintenance.audit.labels`)."""

from __future__ import annotations

from maintenance.audit.labels import register_labels

WORKSHOP = ("车间", "Workshop")
CREATED_AT = ("创建时间", "Created at")
UPDATED_AT = ("修改时间", "Updated at")
RECORDED_BY = ("记录人", "Recorded by")
NOTE = ("备注", "Note")

register_labels(
    "seal_point",
    ("密封点", "Seal point"),
    {
        "code": ("编号", "Code"),
        "workshop_id": WORKSHOP,
        "unit_id": ("装置", "Unit"),
        "asset_id": ("设备", "Asset"),
        "seal_type": ("密封点类型", "Seal type"),
        "location": ("部位", "Location"),
        "count": ("数量", "Count"),
        "is_active": ("在用", "In use"),
        "created_at": CREATED_AT,
        "updated_at": UPDATED_AT,
    },
    title_columns=("code",),
)
register_labels(
    "leak_survey",
    ("泄漏检测", "Leak survey"),
    {
        "workshop_id": WORKSHOP,
        "survey_date": ("检测日期", "Survey date"),
        "surveyed_by": ("检测人", "Surveyed by"),
        "note": NOTE,
        "static_points": ("静密封点数", "Static points"),
        "dynamic_points": ("动密封点数", "Dynamic points"),
        "recorded_by_id": RECORDED_BY,
        "created_at": CREATED_AT,
    },
    title_columns=("survey_date",),
)
register_labels(
    "leak",
    ("泄漏点", "Leak"),
    {
        "workshop_id": WORKSHOP,
        "seal_point_id": ("密封点", "Seal point"),
        "asset_id": ("设备", "Asset"),
        "survey_id": ("泄漏检测", "Leak survey"),
        "round_entry_id": ("巡检记录", "Round entry"),
        "kind": ("动/静密封", "Static / dynamic"),
        "severity": ("泄漏程度", "Severity"),
        "found_date": ("发现日期", "Found on"),
        "description": ("描述", "Description"),
        "status": ("状态", "Status"),
        "photo_sha256": ("照片", "Photo"),
        "photo_content_type": ("照片类型", "Photo type"),
        "order_id": ("工单", "Work order"),
        "repaired_date": ("修复日期", "Repaired on"),
        "rechecked_date": ("复查日期", "Re-checked on"),
        "rechecked_by_id": ("复查人", "Re-checked by"),
        "recorded_by_id": RECORDED_BY,
        "created_at": CREATED_AT,
        "updated_at": UPDATED_AT,
    },
)
register_labels(
    "leakfree_certification",
    ("无泄漏车间认证", "Leak-free certification"),
    {
        "workshop_id": WORKSHOP,
        "state": ("状态", "State"),
        "applied_date": ("申请日期", "Applied on"),
        "applied_by_id": ("申请人", "Applied by"),
        "application_note": ("申请说明", "Application note"),
        "inventory_complete": ("密封点台账完整", "Inventory complete"),
        "survey_recent": ("近一月内已检测", "Surveyed within a month"),
        "thresholds_met": ("泄漏率达标", "Thresholds met"),
        "documents_in_place": ("资料齐全", "Documents in place"),
        "self_assessed_date": ("自评日期", "Self-assessed on"),
        "assessor": ("验收人", "Assessor"),
        "assessed_date": ("验收日期", "Assessed on"),
        "assessment_remarks": ("验收意见", "Assessment remarks"),
        "certified_date": ("认证日期", "Certified on"),
        "valid_until": ("有效期至", "Valid until"),
        "revoked_date": ("撤销日期", "Revoked on"),
        "revoke_reason": ("撤销原因", "Reason for revoking"),
        "created_at": CREATED_AT,
        "updated_at": UPDATED_AT,
    },
)
register_labels(
    "rule_document",
    ("管理制度", "Management rule"),
    {
        "kind": ("类别", "Kind"),
        "code": ("文件编号", "Document number"),
        "title": ("标题", "Title"),
        "version_label": ("版本", "Version"),
        "effective_date": ("生效日期", "Effective from"),
        "note": NOTE,
        "file_sha256": ("文件", "File"),
        "filename": ("文件名", "File name"),
        "content_type": ("文件类型", "File type"),
        "uploaded_by_id": ("上传人", "Uploaded by"),
        "created_at": CREATED_AT,
    },
    title_columns=("code", "title", "version_label"),
)
