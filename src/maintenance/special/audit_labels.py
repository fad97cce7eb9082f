"""The special-equipment register's names in the change log (see :mod:`maintenance.audit.labels`)."""

from __future__ import annotations

from maintenance.audit.labels import register_labels

ASSET = ("设备", "Asset")
INSPECTION_TYPE = ("检验类别", "Inspection type")
AGENCY = ("检验机构", "Inspection agency")
CREATED_AT = ("创建时间", "Created at")
RECORDED_BY = ("记录人", "Recorded by")

register_labels(
    "special_inspection_type",
    ("特种设备检验规则", "Special-equipment inspection rule"),
    {
        "code": ("编码", "Code"),
        "category": ("特种设备类别", "Category"),
        "name": ("名称", "Name"),
        "name_en": ("英文名称", "English name"),
        "interval_months": ("检验周期(月)", "Interval (months)"),
        "first_within_months": ("首检期限(月)", "First inspection within (months)"),
        "reminder_days": ("提前提醒(天)", "Reminder (days ahead)"),
        "is_active": ("启用", "Active"),
    },
    title_columns=("code", "name"),
)
register_labels(
    "special_grade_interval",
    ("按安全状况等级的检验周期", "Interval by safety grade"),
    {
        "inspection_type_id": INSPECTION_TYPE,
        "safety_grade": ("安全状况等级", "Safety grade"),
        "interval_months": ("检验周期(月)", "Interval (months)"),
    },
)
register_labels(
    "special_registration",
    ("使用登记", "Use registration"),
    {
        "asset_id": ASSET,
        "sub_category": ("设备品种", "Sub-category"),
        "certificate_number": ("使用登记证编号", "Certificate number"),
        "equipment_code": ("设备代码", "Equipment code"),
        "registration_date": ("登记日期", "Registration date"),
        "authority": ("登记机关", "Registration authority"),
        "cancelled_date": ("注销日期", "Cancelled on"),
        "created_at": CREATED_AT,
    },
    title_columns=("certificate_number",),
)
register_labels(
    "special_registration_event",
    ("登记变更/注销", "Registration change"),
    {
        "registration_id": ("使用登记", "Registration"),
        "kind": ("类型", "Kind"),
        "event_date": ("日期", "Date"),
        "description": ("说明", "Description"),
        "recorded_by_id": RECORDED_BY,
        "recorded_at": ("记录时间", "Recorded at"),
    },
)
register_labels(
    "special_application",
    ("定期检验申报", "Inspection application"),
    {
        "asset_id": ASSET,
        "inspection_type_id": INSPECTION_TYPE,
        "due_date": ("到期日", "Due date"),
        "applied_date": ("申报日期", "Applied on"),
        "agency": AGENCY,
        "reference": ("申报编号", "Reference"),
        "recorded_by_id": RECORDED_BY,
        "created_at": CREATED_AT,
    },
)
register_labels(
    "special_inspection",
    ("特种设备检验记录", "Statutory inspection"),
    {
        "asset_id": ASSET,
        "inspection_type_id": INSPECTION_TYPE,
        "inspected_date": ("检验日期", "Inspected on"),
        "agency": AGENCY,
        "result": ("检验结论", "Result"),
        "safety_grade": ("安全状况等级", "Safety grade"),
        "report_number": ("报告编号", "Report number"),
        "report_next_due_date": ("报告所载下次检验日期", "Next due date (report)"),
        "notes": ("备注", "Notes"),
        "document_id": ("检验报告", "Report file"),
        "recorded_by_id": RECORDED_BY,
        "created_at": CREATED_AT,
    },
)
register_labels(
    "special_finding",
    ("监管整改/停用通知", "Regulator finding"),
    {
        "kind": ("类型", "Kind"),
        "workshop_id": ("车间", "Workshop"),
        "asset_id": ASSET,
        "issued_date": ("下达日期", "Issued on"),
        "issued_by": ("下达单位", "Issued by"),
        "reference": ("文书编号", "Reference"),
        "description": ("问题描述", "Description"),
        "deadline_date": ("整改期限", "Rectification deadline"),
        "owner": ("责任人", "Owner"),
        "status": ("状态", "Status"),
        "closed_date": ("关闭日期", "Closed on"),
        "rectification": ("整改措施与结果", "Rectification"),
        "evidence_filename": ("整改证据", "Evidence"),
        "created_at": CREATED_AT,
    },
    hidden=("evidence_sha256", "evidence_content_type"),
)
register_labels(
    "special_reminder",
    ("特种设备检验提醒", "Inspection reminder"),
    {
        "asset_id": ASSET,
        "inspection_type_id": INSPECTION_TYPE,
        "due_date": ("到期日", "Due date"),
        "order_id": ("工单", "Work order"),
        "created_at": CREATED_AT,
    },
)
