"""The scorecard's indicators: one code per figure of the year's programme, with its labels and
the target it has when a manager has set none for the year (the plan's or the group benchmark's).
Targets are stored per year in :class:`maintenance.scorecard.models.ScorecardTarget`."""

from __future__ import annotations

from decimal import Decimal

from maintenance.choices import Choice


class Indicator(Choice):
    REPAIR_COST = ("repair_cost", "检修费用", "Repair cost", "primary")
    CBM_SHARE = ("cbm_share", "状态检修占比", "Condition-based share of orders", "info")
    TURNAROUND = ("turnaround", "大修进度", "Turnaround progress", "info")
    PROJECTS = ("projects", "重点项目", "Key projects", "info")
    LEAKFREE = ("leakfree", "无泄漏车间达标率", "Leak-free workshops certified", "success")
    SPECIAL_COVERAGE = ("special_coverage", "特种设备检验覆盖率", "Special equipment inspected", "success")
    REFURBISH_SAVINGS = ("refurbish_savings", "修旧利废创效", "Refurbish-and-reuse savings", "success")
    LOCALISATION_SAVINGS = ("localisation_savings", "备件国产化创效", "Spares localisation savings", "success")
    TENDER_SAVINGS = ("tender_savings", "招标比价创效", "Tender savings", "success")
    ACCIDENT_RATE = ("accident_rate", "设备事故率同比", "Equipment accidents against last year", "danger")
    INTACTNESS = ("intactness", "设备完好率", "Equipment intactness", "success")
    CONTINUOUS_RUN = ("continuous_run", "装置连运率", "Continuous-run rate", "success")
    LOAD = ("load", "装置负荷率", "Load rate", "success")
    PM_COMPLIANCE = ("pm_compliance", "预防性维护完成率", "PM compliance", "primary")
    MATERIAL_MATCH = ("material_match", "计划对口率", "Issued materials matching the plan", "primary")


# The target an indicator has for a year until a manager sets one: money in 元, shares and rates
# as fractions (0.9 = 90 %), the accident change as a fraction against last year (−0.1 = −10 %).
# The repair cost's target is the budget's (maintenance.budget), never set here; an indicator
# absent here has no target until one is set.
DEFAULT_TARGETS: dict[Indicator, Decimal] = {
    Indicator.CBM_SHARE: Decimal("0.30"),
    Indicator.PROJECTS: Decimal("1.00"),
    Indicator.LEAKFREE: Decimal("1.00"),
    Indicator.SPECIAL_COVERAGE: Decimal("0.80"),
    Indicator.REFURBISH_SAVINGS: Decimal("1000000"),
    Indicator.ACCIDENT_RATE: Decimal("-0.10"),
    Indicator.INTACTNESS: Decimal("0.98"),
    Indicator.CONTINUOUS_RUN: Decimal("0.95"),
    Indicator.LOAD: Decimal("0.90"),
    Indicator.PM_COMPLIANCE: Decimal("0.90"),
    Indicator.MATERIAL_MATCH: Decimal("0.90"),
}
