"""The rules of a key project's schedule, on dates alone (no database, ``today`` passed in).

A **milestone** is *done* once it has a done date; *late* when it is not done and today is after
its due date (due today is not late); *done late* when its done date is after its due date. Its
**slippage** in days is done − due when done late, today − due when late, else 0. The **forecast
end** of a milestone is its done date when done, else the later of its due date and today (an
undone milestone cannot end before today).

A **project** is, in this order of precedence:

- *cancelled* when cancelled;
- *done* when it has at least one milestone and every milestone is done;
- *slipping* when its forecast end (the latest forecast end of its milestones; without
  milestones the later of its due date and today) is after its due date, or any undone milestone
  is late: a late milestone whose slack still absorbs it counts as slipping until it is done,
  a milestone done late whose delay the later milestones absorb does not;
- *not started* when today is before its start date;
- *on track* otherwise.

Its **slippage** is max(0, forecast end − due date, the most overdue undone milestone's slippage)
in days, also for a done project (how late it finished).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from maintenance.choices import Choice


class MilestoneState(Choice):
    PENDING = ("pending", "未到期", "Pending", "secondary")
    LATE = ("late", "已逾期", "Late", "danger")
    DONE = ("done", "已完成", "Done", "success")
    DONE_LATE = ("done_late", "逾期完成", "Done late", "warning")


class ProjectState(Choice):
    NOT_STARTED = ("not_started", "未开始", "Not started", "secondary")
    ON_TRACK = ("on_track", "按计划", "On track", "success")
    SLIPPING = ("slipping", "滞后", "Slipping", "danger")
    DONE = ("done", "已完成", "Done", "primary")
    CANCELLED = ("cancelled", "已取消", "Cancelled", "dark")


class MilestoneDates(Protocol):
    @property
    def due_date(self) -> date: ...
    @property
    def done_on(self) -> date | None: ...


class ProjectDates(Protocol):
    @property
    def start_date(self) -> date: ...
    @property
    def due_date(self) -> date: ...
    @property
    def cancelled(self) -> bool: ...


_M = TypeVar("_M", bound=MilestoneDates)


# --- Milestones ------------------------------------------------------------------------------


def is_late(milestone: MilestoneDates, today: date) -> bool:
    return milestone.done_on is None and today > milestone.due_date


def is_done_late(milestone: MilestoneDates) -> bool:
    return milestone.done_on is not None and milestone.done_on > milestone.due_date


def milestone_state(milestone: MilestoneDates, today: date) -> MilestoneState:
    if milestone.done_on is not None:
        return MilestoneState.DONE_LATE if is_done_late(milestone) else MilestoneState.DONE
    return MilestoneState.LATE if is_late(milestone, today) else MilestoneState.PENDING


def milestone_slippage(milestone: MilestoneDates, today: date) -> int:
    """Days behind its due date: done − due when done late, today − due when late, else 0."""
    if milestone.done_on is not None:
        return max(0, (milestone.done_on - milestone.due_date).days)
    return max(0, (today - milestone.due_date).days)


def milestone_forecast(milestone: MilestoneDates, today: date) -> date:
    """When it ends: its done date, else the later of its due date and today."""
    if milestone.done_on is not None:
        return milestone.done_on
    return max(milestone.due_date, today)


# --- Projects --------------------------------------------------------------------------------


def forecast_end(project: ProjectDates, milestones: Sequence[MilestoneDates], today: date) -> date:
    """The latest forecast end of its milestones; without any, the later of its due date and
    today (the project is then its own one undone milestone)."""
    if not milestones:
        return max(project.due_date, today)
    return max(milestone_forecast(m, today) for m in milestones)


def is_complete(milestones: Sequence[MilestoneDates]) -> bool:
    return bool(milestones) and all(m.done_on is not None for m in milestones)


def project_state(project: ProjectDates, milestones: Sequence[MilestoneDates], today: date) -> ProjectState:
    if project.cancelled:
        return ProjectState.CANCELLED
    if is_complete(milestones):
        return ProjectState.DONE
    if forecast_end(project, milestones, today) > project.due_date or any(is_late(m, today) for m in milestones):
        return ProjectState.SLIPPING
    if today < project.start_date:
        return ProjectState.NOT_STARTED
    return ProjectState.ON_TRACK


def project_slippage(project: ProjectDates, milestones: Sequence[MilestoneDates], today: date) -> int:
    """How many days the project is behind: its forecast end past its due date, or its most
    overdue undone milestone, whichever is more (a project slipping on a milestone while its end
    still looks safe is not "0 days" behind)."""
    overdue = [milestone_slippage(m, today) for m in milestones if is_late(m, today)]
    return max(0, (forecast_end(project, milestones, today) - project.due_date).days, *overdue)


def progress(milestones: Sequence[MilestoneDates]) -> tuple[int, int]:
    """(milestones done, milestones)."""
    return sum(1 for m in milestones if m.done_on is not None), len(milestones)


def next_milestone(milestones: Sequence[_M]) -> _M | None:
    """The undone milestone due first (the earlier listed on the same day)."""
    undone = [m for m in milestones if m.done_on is None]
    return min(undone, key=lambda m: m.due_date) if undone else None


@dataclass(frozen=True)
class Standing:
    """A project's schedule on a day, as the list, the Gantt and the scorecard show it."""

    state: ProjectState
    forecast_end: date
    slippage_days: int
    done: int
    milestones: int

    @property
    def progress_pct(self) -> float | None:
        return None if not self.milestones else round(self.done * 100 / self.milestones, 1)


def standing(project: ProjectDates, milestones: Sequence[MilestoneDates], today: date) -> Standing:
    done, total = progress(milestones)
    return Standing(
        state=project_state(project, milestones, today),
        forecast_end=forecast_end(project, milestones, today),
        slippage_days=project_slippage(project, milestones, today),
        done=done,
        milestones=total,
    )
