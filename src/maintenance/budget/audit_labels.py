"""The budget domain's names in the change log (see :mod:`maintenance.audit.labels`)."""

from __future__ import annotations

from maintenance.audit.labels import register_labels

NOTE = ("备注", "Note")
UPDATED_AT = ("修改时间", "Updated at")

register_labels(
    "budget_year",
    ("年度检修费用目标", "Repair-cost target"),
    {
        "year": ("年度", "Year"),
        "target_cny": ("目标金额", "Target"),
        "note": NOTE,
        "created_at": ("创建时间", "Created at"),
        "updated_at": UPDATED_AT,
    },
    title_columns=("year",),
)
register_labels(
    "budget_baseline",
    ("基准年实际费用", "Baseline year's actual cost"),
    {"year": ("年度", "Year"), "actual_cny": ("实际费用", "Actual cost"), "note": NOTE, "updated_at": UPDATED_AT},
    title_columns=("year",),
)
register_labels(
    "budget_allocation",
    ("预算分解", "Budget allocation"),
    {
        "budget_year_id": ("年度目标", "Budget year"),
        "workshop_id": ("车间", "Workshop"),
        "category": ("费用科目", "Category"),
        "month": ("月份", "Month"),
        "amount_cny": ("预算金额", "Planned amount"),
        "updated_at": UPDATED_AT,
    },
)
