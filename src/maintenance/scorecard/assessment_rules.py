"""The monthly workshop assessment's rules (考核细则, pure): each indicator's weight, which
indicators are not assessed per workshop and why, the points a state earns, the score and the rank.

- a green figure earns its indicator's full weight, amber half of it, red none;
- an indicator a workshop has no judged figure for (no data, no target) is *not assessed* for
  that workshop: its weight is left out of the workshop's maximum;
- the score is the points ÷ the weight assessed × 100, to one decimal; a workshop with nothing
  assessed has no score;
- the rank: by score (highest first), ties sharing a rank (1, 1, 3), then by workshop code; the
  workshops without a score share the last rank.

Every indicator is either weighted or named below as not assessed per workshop, with the reason
(a test checks it), so none is left out silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from maintenance.i18n import N_
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.states import State

WEIGHTS: dict[Indicator, int] = {
    # The plan's one key target (cut the repair cost): the largest weight, a fifth of the score.
    Indicator.REPAIR_COST: 20,
    # Accidents against last year: safety comes before the other works.
    Indicator.ACCIDENT_RATE: 12,
    # Special equipment inspected: a statutory duty (特种设备安全法), the regulator can stop a unit.
    Indicator.SPECIAL_COVERAGE: 10,
    # Intactness is the group's benchmark for the workshop's own equipment.
    Indicator.INTACTNESS: 10,
    # PM compliance and the condition-based share are the plan's first focus (planned → condition-based).
    Indicator.PM_COMPLIANCE: 8,
    Indicator.CBM_SHARE: 8,
    # Leak-free certification is one of the four projects and is won or lost by the workshop itself.
    Indicator.LEAKFREE: 8,
    # Continuous run and 计划对口率 are measures the workshop controls day to day.
    Indicator.CONTINUOUS_RUN: 7,
    Indicator.MATERIAL_MATCH: 7,
    # The workshop's key projects: few workshops lead one, so a small weight.
    Indicator.PROJECTS: 5,
    # The load follows the market and the plan more than the maintenance: a small weight.
    Indicator.LOAD: 5,
}

# Not computed per workshop at all: the source ignores the workshop (sources.turnaround reads the
# year's turnarounds and their plant budget whatever the scope), so each workshop would be shown
# the plant's figure.
PLANT_WIDE: dict[Indicator, str] = {
    Indicator.TURNAROUND: N_("Plant-wide, not assessed per workshop: the turnaround and its budget are the plant's."),
}

# The workshop's own figure is shown but not scored: the source sums the workshop's entries, but
# the year's target is the plant's, never divided among the workshops, so every workshop would be
# judged against the whole plant's target.
PLANT_TARGET: dict[Indicator, str] = {
    indicator: N_("Not assessed per workshop: the target is the plant's, not divided among the workshops.")
    for indicator in (Indicator.REFURBISH_SAVINGS, Indicator.LOCALISATION_SAVINGS, Indicator.TENDER_SAVINGS)
}

# The share of an indicator's weight each judged state earns.
EARNED: dict[State, Decimal] = {State.GREEN: Decimal(1), State.AMBER: Decimal("0.5"), State.RED: Decimal(0)}

TENTH = Decimal("0.1")


def points(state: State, weight: int) -> Decimal | None:
    """The points a state earns of ``weight``; None when the state is not a judgement."""
    share = EARNED.get(state)
    return None if share is None else share * weight


def score(earned: Decimal, assessed_weight: int) -> Decimal | None:
    """Points ÷ the weight assessed × 100, to one decimal (half up); None with nothing assessed."""
    if assessed_weight <= 0:
        return None
    return (earned * 100 / Decimal(assessed_weight)).quantize(TENTH, rounding=ROUND_HALF_UP)


def ranks(scores: Sequence[tuple[str, Decimal | None]]) -> list[tuple[str, int]]:
    """Workshop codes with their scores → (code, rank) in ranking order: highest score first,
    equal scores sharing a rank (1, 1, 3), then by code; the codes without a score last, sharing
    the rank after the scored ones."""
    ordered = sorted(scores, key=lambda item: (item[1] is None, -(item[1] or 0), item[0]))
    ranked: list[tuple[str, int]] = []
    previous: tuple[bool, Decimal | None] | None = None
    rank = 0
    for position, (code, value) in enumerate(ordered, start=1):
        key = (value is None, value)
        if key != previous:
            rank, previous = position, key
        ranked.append((code, rank))
    return ranked
