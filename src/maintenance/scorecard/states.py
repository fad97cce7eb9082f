"""A figure's state against its target, and how each indicator is judged and shown (pure).

- **green**: on or better than the target;
- **amber**: worse than the target but within the indicator's band (watch it);
- **red**: worse than the target by more than the band;
- **no data**: nothing to measure yet (the figure's value is None and its source gave no verdict);
- **no target**: a figure without a target for the year (a ledger no target was set for);
- **not built**: the part of the programme that gives the figure is not built yet (no source).

A source that sets :attr:`Figure.met` has judged the figure itself (no accidents this year meets
the target whatever last year had): ``met`` then decides green or red and the band is not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from maintenance.choices import Choice
from maintenance.scorecard.figures import Figure
from maintenance.scorecard.indicators import Indicator


class State(Choice):
    GREEN = ("green", "达标", "On target", "success")
    AMBER = ("amber", "预警", "Near target", "warning")
    RED = ("red", "未达标", "Off target", "danger")
    NO_DATA = ("no_data", "暂无数据", "No data yet", "secondary")
    NO_TARGET = ("no_target", "未设目标", "No target set", "secondary")
    NOT_BUILT = ("not_built", "尚未建设", "Not built yet", "light")


JUDGED = (State.GREEN, State.AMBER, State.RED)


class Kind(Enum):
    """What the number is, which says how it is shown and how its band is measured."""

    MONEY = "money"  # 元, shown in 万元; the band is a share of the target
    SHARE = "share"  # a fraction (0.9 = 90 %); the band is in percentage points
    CHANGE = "change"  # a fraction against last year (−0.1 = −10 %); the band in percentage points


@dataclass(frozen=True)
class Rule:
    kind: Kind
    higher_is_better: bool
    band: Decimal  # how far worse than the target is still amber (see Kind)


HIGHER, LOWER = True, False

RULES: dict[Indicator, Rule] = {
    # The budget calls a cost "drifting" when it is more than 5 % over plan (budget.rules.DRIFT_SHARE):
    # the scorecard agrees, a forecast up to 5 % over the target is amber, beyond it red.
    Indicator.REPAIR_COST: Rule(Kind.MONEY, LOWER, Decimal("0.05")),
    # The shift to condition-based work is slow and steady: 5 points short of the share is a warning.
    Indicator.CBM_SHARE: Rule(Kind.SHARE, HIGHER, Decimal("0.05")),
    # The turnaround's actual cost against its budget, as the repair cost: up to 5 % over is amber.
    Indicator.TURNAROUND: Rule(Kind.MONEY, LOWER, Decimal("0.05")),
    # The share of the four key projects on schedule: one of four slipping (25 points) is amber,
    # two are red.
    Indicator.PROJECTS: Rule(Kind.SHARE, HIGHER, Decimal("0.25")),
    # Workshops certified against the milestone in force: up to 10 points short (one workshop of
    # ten, or of five with the half rounded up) is amber; the rest is a missed milestone.
    Indicator.LEAKFREE: Rule(Kind.SHARE, HIGHER, Decimal("0.10")),
    # The regulator expects every item inspected; the plan's 80 % is already the floor: 5 points
    # under it is amber, more is red.
    Indicator.SPECIAL_COVERAGE: Rule(Kind.SHARE, HIGHER, Decimal("0.05")),
    # The savings accrue over the year and are judged against the pro-rata target: up to 10 %
    # short is amber (a large refurbishment may still be booked this month), beyond it red.
    Indicator.REFURBISH_SAVINGS: Rule(Kind.MONEY, HIGHER, Decimal("0.10")),
    Indicator.LOCALISATION_SAVINGS: Rule(Kind.MONEY, HIGHER, Decimal("0.10")),
    Indicator.TENDER_SAVINGS: Rule(Kind.MONEY, HIGHER, Decimal("0.10")),
    # Accidents against last year (−10 % is the target): fewer than last year but not by 10 % is
    # amber (the band reaches "as many as last year"), more than last year is red.
    Indicator.ACCIDENT_RATE: Rule(Kind.CHANGE, LOWER, Decimal("0.10")),
    # The group benchmark for intactness is tight (98 %): 2 points under it is amber.
    Indicator.INTACTNESS: Rule(Kind.SHARE, HIGHER, Decimal("0.02")),
    # Continuous-run and load rates swing with the market and the weather: 5 points is amber.
    Indicator.CONTINUOUS_RUN: Rule(Kind.SHARE, HIGHER, Decimal("0.05")),
    Indicator.LOAD: Rule(Kind.SHARE, HIGHER, Decimal("0.05")),
    # SMRP's ≥ 90 % PM compliance; 85–90 % is amber.
    Indicator.PM_COMPLIANCE: Rule(Kind.SHARE, HIGHER, Decimal("0.05")),
    # 计划对口率: 5 points under the plan's share is amber.
    Indicator.MATERIAL_MATCH: Rule(Kind.SHARE, HIGHER, Decimal("0.05")),
}


def band_of(rule: Rule, target: Decimal) -> Decimal:
    """The band in the figure's own unit: a share of the target for money, else points."""
    return rule.band * abs(target) if rule.kind is Kind.MONEY else rule.band


def judge(figure: Figure) -> State:
    """The figure's state against its target (see the module's docstring)."""
    if figure.met is not None:
        return State.GREEN if figure.met else State.RED
    if figure.value is None:
        return State.NO_DATA
    if figure.target is None:
        return State.NO_TARGET
    rule = RULES[figure.indicator]
    shortfall = figure.target - figure.value if rule.higher_is_better else figure.value - figure.target
    if shortfall <= 0:
        return State.GREEN
    if shortfall <= band_of(rule, figure.target):
        return State.AMBER
    return State.RED
