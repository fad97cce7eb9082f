"""连运率, 负荷率 and 完好率 on small cases computed by hand, and the hours a month may hold."""

from datetime import date
from decimal import Decimal

import pytest

from maintenance.scorecard.operating.rules import (
    MonthEntry,
    continuous_run_rate,
    hours_in_month,
    intactness_rate,
    load_rate,
    month_problems,
)


def entry(hours_run: str, planned: str, load: str) -> MonthEntry:
    return MonthEntry(Decimal(hours_run), Decimal(planned), Decimal(load))


def test_continuous_run_is_hours_run_over_hours_planned_summed_over_the_unit_months() -> None:
    # (700 + 380) / (720 + 720) = 1080 / 1440
    assert continuous_run_rate([entry("700", "720", "90"), entry("380", "720", "60")]) == Decimal("0.7500")


def test_a_month_not_reported_is_left_out_not_counted_as_zero() -> None:
    # Two units, one reported January only: its missing February would halve the rate if it were zero.
    january = [entry("720", "720", "90"), entry("360", "720", "90")]
    february = [entry("720", "720", "90")]

    assert continuous_run_rate(january + february) == Decimal("0.8333")  # 1800 / 2160
    assert continuous_run_rate([*january, *february, entry("0", "0", "0")]) == Decimal("0.8333")


def test_continuous_run_is_none_when_nothing_was_planned() -> None:
    assert continuous_run_rate([]) is None
    assert continuous_run_rate([entry("0", "0", "0")]) is None


def test_continuous_run_may_pass_one_when_a_unit_ran_through_a_planned_stop() -> None:
    assert continuous_run_rate([entry("744", "600", "80")]) == Decimal("1.2400")


def test_load_is_weighted_by_the_hours_run() -> None:
    # (90 × 700 + 60 × 300) / (700 + 300) / 100 = 81000 / 1000 / 100
    assert load_rate([entry("700", "720", "90"), entry("300", "720", "60")]) == Decimal("0.8100")


def test_a_month_that_did_not_run_weighs_nothing_in_the_load() -> None:
    assert load_rate([entry("700", "720", "90"), entry("0", "720", "0")]) == Decimal("0.9000")


def test_load_is_none_when_nothing_ran() -> None:
    assert load_rate([]) is None
    assert load_rate([entry("0", "720", "0")]) is None


def test_rates_are_rounded_half_up_to_four_places() -> None:
    assert continuous_run_rate([entry("2", "3", "0")]) == Decimal("0.6667")
    assert continuous_run_rate([entry("1", "16", "0")]) == Decimal("0.0625")
    assert intactness_rate(1, 3) == Decimal("0.3333")


def test_intactness_is_intact_over_in_service_and_none_without_assets() -> None:
    assert intactness_rate(49, 50) == Decimal("0.9800")
    assert intactness_rate(0, 0) is None


@pytest.mark.parametrize(
    ("month", "hours"),
    [(date(2026, 1, 1), 744), (date(2026, 2, 1), 672), (date(2028, 2, 1), 696), (date(2026, 4, 1), 720)],
)
def test_a_month_has_its_days_times_24_hours(month: date, hours: int) -> None:
    assert hours_in_month(month) == hours


def test_hours_beyond_the_month_are_refused_by_field() -> None:
    assert month_problems(entry("744", "744", "100"), date(2026, 1, 1)) == {}
    problems = month_problems(entry("673", "680", "100"), date(2026, 2, 1))

    assert set(problems) == {"hours_run", "planned_hours"}
    assert "672" in problems["planned_hours"]
