"""The topics a user may hear about, and the capability each needs (the one policy module says
who has it): engineers hear about their workshops and their orders, managers also about approvals
and the budget; auditors act on nothing and hear about nothing."""

from __future__ import annotations

from maintenance.choices import Choice
from maintenance.org.permissions import Capability


class Topic(Choice):
    ALARM = ("alarm", "测点报警", "Condition alarms", "danger")
    ASSIGNED = ("assigned", "分派给我的工单", "Orders assigned to me", "primary")
    APPROVAL = ("approval", "待我审批的工单", "Orders awaiting my approval", "warning")
    SPECIAL_DUE = ("special_due", "特种设备检验到期", "Special equipment due for inspection", "info")
    BUDGET_OVER = ("budget_over", "车间费用超计划", "Workshop cost over plan", "dark")


TOPIC_CAPABILITY: dict[Topic, Capability] = {
    Topic.ALARM: Capability.WRITE,
    Topic.ASSIGNED: Capability.WRITE,
    Topic.APPROVAL: Capability.APPROVE,
    Topic.SPECIAL_DUE: Capability.WRITE,
    Topic.BUDGET_OVER: Capability.MANAGE,
}
