"""Choices of the special-equipment register (codes stored; labels and colours shown)."""

from __future__ import annotations

from maintenance.choices import Choice


class InspectionResult(Choice):
    """The conclusion of a statutory inspection report (TSG 21 / TSG D7005 / TSG 11 wording)."""

    PASS = ("pass", "符合要求", "Meets requirements", "success")
    CONDITIONAL = ("conditional", "基本符合要求", "Basically meets requirements", "warning")
    FAIL = ("fail", "不符合要求", "Does not meet requirements", "danger")

    @property
    def passed(self) -> bool:
        """Both "meets" and "basically meets" allow use (the latter with the report's conditions)."""
        return self != InspectionResult.FAIL


class Standing(Choice):
    """Where an item (or one of its required inspections) stands on a reference date, from best to
    worst; an item's standing is the worst of its required inspections'."""

    OK = ("ok", "正常", "OK", "success")
    DUE_SOON = ("due_soon", "30天内到期", "Due within 30 days", "info")
    APPLICATION_OVERDUE = ("application_overdue", "逾期未申报", "Application overdue", "warning")
    OVERDUE = ("overdue", "超期未检", "Overdue", "danger")
    MUST_NOT_OPERATE = ("must_not_operate", "禁止使用", "Must not operate", "dark")

    @property
    def rank(self) -> int:
        return list(Standing).index(self)

    @property
    def must_not_operate(self) -> bool:
        """Uninspected (overdue) or failed equipment must not be used (特种设备安全法 art. 40)."""
        return self in (Standing.OVERDUE, Standing.MUST_NOT_OPERATE)

    @property
    def in_date(self) -> bool:
        """Counts towards coverage: every required inspection in date and passed."""
        return not self.must_not_operate


class RegistrationEventKind(Choice):
    """Changes to a use registration the regulator must be told of (特种设备安全法 art. 47/48)."""

    CHANGE = ("change", "变更登记", "Change of registration", "info")
    CANCELLATION = ("cancellation", "注销登记", "Cancellation", "dark")


class FindingKind(Choice):
    RECTIFICATION = ("rectification", "整改通知", "Rectification notice", "warning")
    SHUTDOWN = ("shutdown", "停用通知", "Shutdown order", "danger")


class FindingStatus(Choice):
    OPEN = ("open", "待整改", "Open", "danger")
    RECTIFYING = ("rectifying", "整改中", "Being rectified", "warning")
    CLOSED = ("closed", "已关闭", "Closed", "success")
