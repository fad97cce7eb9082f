"""A figure's state against its target, at the edges of each band (numbers worked by hand).

Higher is better for shares, rates and savings; lower is better for the cost and the accident
change. The amber band: 5 points under a share target (2 for intactness, 10 for the leak-free
milestone, 25 for the projects), 5 % of the target over a cost target, 10 % of the target under a
savings target, 10 points above the accident target (up to "as many as last year")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from maintenance.scorecard.figures import Figure
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.states import RULES, State, judge


def state(indicator: Indicator, value: str | None, target: str | None, met: bool | None = None) -> State:
    figure = Figure(
        indicator,
        None if value is None else Decimal(value),
        None if target is None else Decimal(target),
        "/",
        met=met,
    )
    return judge(figure)


def test_every_indicator_has_a_rule() -> None:
    assert set(RULES) == set(Indicator)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.9500", State.GREEN),  # above the target
        ("0.9000", State.GREEN),  # exactly on it
        ("0.8999", State.AMBER),  # just under
        ("0.8500", State.AMBER),  # 5 points under: the band's edge
        ("0.8499", State.RED),  # just beyond the band
    ],
)
def test_pm_compliance_against_90_percent(value: str, expected: State) -> None:
    assert state(Indicator.PM_COMPLIANCE, value, "0.90") is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.9800", State.GREEN), ("0.9799", State.AMBER), ("0.9600", State.AMBER), ("0.9599", State.RED)],
)
def test_intactness_has_a_two_point_band(value: str, expected: State) -> None:
    assert state(Indicator.INTACTNESS, value, "0.98") is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15000000.00", State.GREEN),  # under the 1560万 target
        ("15600000.00", State.GREEN),  # exactly on it
        ("15600000.01", State.AMBER),  # a fen over
        ("16380000.00", State.AMBER),  # 5 % over: 1560万 × 1.05 = 1638万
        ("16380000.01", State.RED),
    ],
)
def test_repair_cost_forecast_against_1560_wan(value: str, expected: State) -> None:
    assert state(Indicator.REPAIR_COST, value, "15600000.00") is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("500000.00", State.GREEN),  # on the pro-rata target (half the year of 100万)
        ("450000.00", State.AMBER),  # 10 % under: 50万 × 0.9 = 45万
        ("449999.99", State.RED),
    ],
)
def test_savings_against_their_pro_rata_target(value: str, expected: State) -> None:
    assert state(Indicator.REFURBISH_SAVINGS, value, "500000.00") is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-0.20", State.GREEN),  # a fifth fewer accidents than last year
        ("-0.10", State.GREEN),  # exactly the −10 % target
        ("-0.09", State.AMBER),  # fewer, but not by 10 %
        ("0.00", State.AMBER),  # as many as last year: the band's edge
        ("0.01", State.RED),  # more than last year
    ],
)
def test_accident_change_against_minus_10_percent(value: str, expected: State) -> None:
    assert state(Indicator.ACCIDENT_RATE, value, "-0.10") is expected


@pytest.mark.parametrize(("value", "expected"), [("0.75", State.AMBER), ("0.74", State.RED), ("1.00", State.GREEN)])
def test_one_of_four_projects_slipping_is_amber(value: str, expected: State) -> None:
    assert state(Indicator.PROJECTS, value, "1.00") is expected


def test_a_source_verdict_decides_whatever_the_numbers() -> None:
    # No accidents this year after none last year: no change to compute, but the target is met.
    assert state(Indicator.ACCIDENT_RATE, None, "-0.10", met=True) is State.GREEN
    assert state(Indicator.ACCIDENT_RATE, "-0.50", "-0.10", met=False) is State.RED


def test_nothing_to_measure_is_no_data_not_red() -> None:
    assert state(Indicator.PM_COMPLIANCE, None, "0.90") is State.NO_DATA


def test_a_figure_without_a_target_is_not_judged() -> None:
    assert state(Indicator.TENDER_SAVINGS, "120000.00", None) is State.NO_TARGET
