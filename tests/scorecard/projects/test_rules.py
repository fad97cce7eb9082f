"""The schedule rules of a key project, read as their definition: small cases on dates, each at
its boundary (due today is not late; done on the due day is not done late)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from maintenance.scorecard.projects import rules
from maintenance.scorecard.projects.rules import MilestoneState, ProjectState


@dataclass
class M:
    due_date: date
    done_on: date | None = None


@dataclass
class P:
    start_date: date = date(2026, 3, 1)
    due_date: date = date(2026, 7, 31)
    cancelled: bool = False


def d(month: int, day: int) -> date:
    return date(2026, month, day)


# --- Milestones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("milestone", "today", "state", "slippage", "forecast"),
    [
        # not done, due tomorrow / today: pending, no slippage, ends on its due date
        (M(d(5, 31)), d(5, 30), MilestoneState.PENDING, 0, d(5, 31)),
        (M(d(5, 31)), d(5, 31), MilestoneState.PENDING, 0, d(5, 31)),
        # not done, due yesterday: late by one day, cannot end before today
        (M(d(5, 31)), d(6, 1), MilestoneState.LATE, 1, d(6, 1)),
        # not done, 12 days past due
        (M(d(5, 31)), d(6, 12), MilestoneState.LATE, 12, d(6, 12)),
        # done on the due day, or before it: done, no slippage, ends when done
        (M(d(5, 31), d(5, 31)), d(6, 12), MilestoneState.DONE, 0, d(5, 31)),
        (M(d(5, 31), d(5, 20)), d(6, 12), MilestoneState.DONE, 0, d(5, 20)),
        # done three days after its due date: done late by 3 whatever today is
        (M(d(5, 31), d(6, 3)), d(6, 3), MilestoneState.DONE_LATE, 3, d(6, 3)),
        (M(d(5, 31), d(6, 3)), d(12, 1), MilestoneState.DONE_LATE, 3, d(6, 3)),
    ],
)
def test_a_milestone_is_done_late_or_pending_with_its_slippage_and_forecast(
    milestone: M, today: date, state: MilestoneState, slippage: int, forecast: date
) -> None:
    assert rules.milestone_state(milestone, today) == state
    assert rules.milestone_slippage(milestone, today) == slippage
    assert rules.milestone_forecast(milestone, today) == forecast


def test_due_today_is_not_late_and_the_day_after_is() -> None:
    assert not rules.is_late(M(d(7, 31)), d(7, 31))
    assert rules.is_late(M(d(7, 31)), d(8, 1))
    assert not rules.is_late(M(d(7, 31), d(8, 5)), d(8, 6))  # done: no longer late …
    assert rules.is_done_late(M(d(7, 31), d(8, 5)))  # … but done late


# --- Projects -----------------------------------------------------------------------------------


def test_a_cancelled_project_is_cancelled_whatever_its_milestones() -> None:
    late = [M(d(4, 1))]
    assert rules.project_state(P(cancelled=True), late, d(6, 1)) == ProjectState.CANCELLED


def test_a_project_is_done_when_every_milestone_is_done_and_it_has_one() -> None:
    assert rules.project_state(P(), [M(d(4, 1), d(4, 1)), M(d(7, 1), d(6, 30))], d(7, 2)) == ProjectState.DONE
    assert rules.project_state(P(), [M(d(4, 1), d(4, 1)), M(d(7, 1))], d(7, 1)) == ProjectState.ON_TRACK
    # without milestones nothing says it is done
    assert rules.project_state(P(), [], d(5, 1)) == ProjectState.ON_TRACK


def test_a_project_finished_after_its_due_date_is_done_with_its_slippage() -> None:
    # due 31 July, last milestone done 12 August: 12 days late
    milestones = [M(d(7, 31), d(8, 12))]
    assert rules.project_state(P(), milestones, d(9, 1)) == ProjectState.DONE
    assert rules.project_slippage(P(), milestones, d(9, 1)) == 12


def test_before_its_start_a_project_is_not_started() -> None:
    assert rules.project_state(P(), [M(d(4, 1))], d(2, 28)) == ProjectState.NOT_STARTED
    assert rules.project_state(P(), [M(d(4, 1))], d(3, 1)) == ProjectState.ON_TRACK  # the start day


def test_a_late_milestone_makes_the_project_slip_though_its_end_still_holds() -> None:
    # milestone due 1 April undone on 11 April; the last one (due 31 July) still on time:
    # slipping by the late milestone's 10 days, though the project's end is not moved
    milestones = [M(d(4, 1)), M(d(7, 31))]
    assert rules.project_state(P(), milestones, d(4, 1)) == ProjectState.ON_TRACK
    assert rules.project_state(P(), milestones, d(4, 2)) == ProjectState.SLIPPING
    assert rules.project_slippage(P(), milestones, d(4, 11)) == 10


def test_a_milestone_done_late_whose_delay_the_plan_absorbs_does_not_make_it_slip() -> None:
    # done 10 days late in April, the rest on time: on track
    milestones = [M(d(4, 1), d(4, 11)), M(d(7, 31))]
    assert rules.project_state(P(), milestones, d(5, 1)) == ProjectState.ON_TRACK
    assert rules.project_slippage(P(), milestones, d(5, 1)) == 0


def test_a_milestone_planned_after_the_due_date_makes_it_slip_by_the_difference() -> None:
    # the last milestone re-planned to 12 August against a due date of 31 July: 12 days
    milestones = [M(d(4, 1), d(4, 1)), M(d(8, 12))]
    assert rules.project_state(P(), milestones, d(5, 1)) == ProjectState.SLIPPING
    assert rules.project_slippage(P(), milestones, d(5, 1)) == 12
    assert rules.forecast_end(P(), milestones, d(5, 1)) == d(8, 12)


def test_an_overdue_last_milestone_slips_the_project_a_day_a_day() -> None:
    milestones = [M(d(7, 31))]
    assert rules.project_slippage(P(), milestones, d(7, 31)) == 0
    assert rules.project_slippage(P(), milestones, d(8, 1)) == 1
    assert rules.project_slippage(P(), milestones, d(8, 12)) == 12


def test_a_project_without_milestones_slips_once_past_its_due_date() -> None:
    assert rules.project_state(P(), [], d(7, 31)) == ProjectState.ON_TRACK
    assert rules.project_state(P(), [], d(8, 2)) == ProjectState.SLIPPING
    assert rules.project_slippage(P(), [], d(8, 2)) == 2


def test_progress_and_the_next_milestone() -> None:
    first, second, third = M(d(4, 1), d(4, 1)), M(d(6, 30)), M(d(5, 15))
    assert rules.progress([first, second, third]) == (1, 3)
    assert rules.next_milestone([first, second, third]) is third  # the undone one due first
    assert rules.next_milestone([first]) is None
    standing = rules.standing(P(), [first, second, third], d(5, 1))
    assert (standing.done, standing.milestones, standing.progress_pct) == (1, 3, 33.3)
    assert rules.standing(P(), [], d(5, 1)).progress_pct is None
