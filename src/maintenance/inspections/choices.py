"""Choices of inspections: route frequencies, round states, what became of a synced entry and campaign kinds."""

from __future__ import annotations

from maintenance.choices import Choice


class RouteFrequency(Choice):
    """How often a round (点检路线) is walked; periods are cut in plant time (see :mod:`round_periods`)."""

    SHIFT = ("shift", "每班", "Every shift", "primary")
    DAY = ("day", "每天", "Daily", "info")
    WEEK = ("week", "每周", "Weekly", "secondary")


class RoundState(Choice):
    """A round of one period. One not finished by the end of its period (plus the grace time)
    counts as missed; that is derived from the clock, not stored."""

    DUE = ("due", "待点检", "Due", "secondary")
    IN_PROGRESS = ("in_progress", "点检中", "In progress", "primary")
    COMPLETED = ("completed", "已完成", "Completed", "success")


class SyncOutcome(Choice):
    """What the server did with one entry a phone kept while it had no signal."""

    SYNCED = ("synced", "已同步", "Synced", "success")
    ALREADY_SYNCED = ("already_synced", "已同步过", "Already synced", "secondary")
    REFUSED = ("refused", "未接受", "Refused", "danger")


class CampaignKind(Choice):
    """Seasonal special inspections (季节性专项检查)."""

    WINTERIZATION = ("winterization", "防冻防凝", "Winterization", "info")
    FLOOD = ("flood", "防汛", "Flood protection", "primary")
    HEAT = ("heat", "防暑降温", "Summer heat", "warning")
    LIGHTNING = ("lightning", "防雷防静电", "Lightning and static", "secondary")
    TYPHOON = ("typhoon", "防台风", "Typhoon", "dark")
    OTHER = ("other", "其他专项检查", "Other", "light")
