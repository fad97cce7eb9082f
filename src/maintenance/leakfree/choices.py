"""Choices of the leak-free domain (codes stored; labels and colours shown)."""

from __future__ import annotations

from maintenance.choices import Choice


class SealKind(Choice):
    """Static and dynamic seal points have separate leak-rate limits (design.md §6)."""

    STATIC = ("static", "静密封", "Static", "secondary")
    DYNAMIC = ("dynamic", "动密封", "Dynamic", "primary")


class SealType(Choice):
    """The sub-type of a seal point line; each belongs to one kind."""

    FLANGE = ("flange", "法兰", "Flange", "secondary")
    VALVE_BONNET = ("valve_bonnet", "阀门阀盖", "Valve bonnet", "secondary")
    VALVE_PACKING = ("valve_packing", "阀门填料", "Valve packing", "secondary")
    THREADED_UNION = ("threaded_union", "丝扣连接", "Threaded union", "secondary")
    PLUG = ("plug", "丝堵/盲板", "Plug / blind", "secondary")
    GAUGE_CONNECTION = ("gauge_connection", "仪表接头", "Gauge connection", "secondary")
    PUMP_SEAL = ("pump_seal", "泵机械密封", "Pump mechanical seal", "primary")
    COMPRESSOR_SEAL = ("compressor_seal", "压缩机轴封", "Compressor shaft seal", "primary")
    AGITATOR_SEAL = ("agitator_seal", "搅拌器密封", "Agitator seal", "primary")

    @property
    def kind(self) -> SealKind:
        return SealKind.DYNAMIC if self in _DYNAMIC_TYPES else SealKind.STATIC


_DYNAMIC_TYPES = frozenset({SealType.PUMP_SEAL, SealType.COMPRESSOR_SEAL, SealType.AGITATOR_SEAL})


class LeakSeverity(Choice):
    """渗 (seep) < 滴 (drip) < 漏 (leak) < 喷 (spray)."""

    SEEP = ("seep", "渗", "Seep", "info")
    DRIP = ("drip", "滴", "Drip", "warning")
    LEAK = ("leak", "漏", "Leak", "danger")
    SPRAY = ("spray", "喷", "Spray", "dark")


class LeakStatus(Choice):
    """Where a leak is on its way to closed: found, repaired, re-checked tight."""

    OPEN = ("open", "待处理", "Open", "danger")
    REPAIRED = ("repaired", "已修复待复查", "Repaired, awaiting re-check", "warning")
    CLOSED = ("closed", "复查合格", "Re-checked tight", "success")


class CertificationState(Choice):
    """A workshop's application, from applying to certified (valid one year), rejected or revoked."""

    APPLIED = ("applied", "已申请", "Applied", "info")
    SELF_ASSESSED = ("self_assessed", "自评完成", "Self-assessed", "info")
    IN_ASSESSMENT = ("in_assessment", "公司验收中", "In company assessment", "warning")
    CERTIFIED = ("certified", "已认证", "Certified", "success")
    REJECTED = ("rejected", "未通过", "Rejected", "danger")
    REVOKED = ("revoked", "已撤销", "Revoked", "dark")

    @property
    def is_open(self) -> bool:
        """An application still on its way (a workshop has at most one)."""
        return self in (CertificationState.APPLIED, CertificationState.SELF_ASSESSED, CertificationState.IN_ASSESSMENT)


class BoardStanding(Choice):
    """A workshop on the certification board on a given date."""

    CERTIFIED = ("certified", "已认证", "Certified", "success")
    AT_RISK = ("at_risk", "已认证·有风险", "Certified, at risk", "warning")
    IN_ASSESSMENT = ("in_assessment", "创建中", "In assessment", "info")
    NOT_STARTED = ("not_started", "未启动", "Not started", "secondary")

    @property
    def counts_as_certified(self) -> bool:
        return self in (BoardStanding.CERTIFIED, BoardStanding.AT_RISK)


class RuleDocumentKind(Choice):
    LEAK_FREE = ("leak_free", "无泄漏管理", "Leak-free management", "primary")
    EQUIPMENT = ("equipment", "设备管理", "Equipment management", "secondary")
    SAFETY = ("safety", "安全管理", "Safety management", "warning")
