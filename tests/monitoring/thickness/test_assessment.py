"""API 570 wall-thickness assessment on hand-computed cases (design.md §6).

Years are days / 365.25, so ten calendar years (3,652 days) are 9.9986 years: rates are compared
to 3 decimals, and half the remaining life falls on the same calendar date five years on.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from maintenance.monitoring.thickness.assessment import ThicknessReading, add_years, assess


def reading(day: str, mm: float) -> ThicknessReading:
    return ThicknessReading(date.fromisoformat(day), mm)


def test_rates_remaining_life_and_next_inspection_of_a_corroding_line() -> None:
    # 12.0 mm new on 2016-05-01; 10.4 mm on 2022-05-01; 10.0 mm on 2026-05-01; 8.0 mm required.
    result = assess(
        initial_mm=Decimal("12.00"),
        initial_date=date(2016, 5, 1),
        required_mm=Decimal("8.00"),
        readings=[reading("2026-05-01", 10.0), reading("2022-05-01", 10.4)],
    )
    assert result.long_term_rate == pytest.approx(0.2, abs=1e-3)  # 2.0 mm / 10 y
    assert result.short_term_rate == pytest.approx(0.1, abs=1e-3)  # 0.4 mm / 4 y
    assert result.governing_rate == result.long_term_rate
    assert result.governing_basis == "long"
    assert result.remaining_life_years == pytest.approx(10.0, abs=1e-2)  # 2.0 mm / 0.2 mm/y
    assert result.next_inspection_date == date(2031, 5, 1)  # + ½ × 10 y
    assert not result.below_required
    assert result.actual == reading("2026-05-01", 10.0)
    assert result.previous == reading("2022-05-01", 10.4)


def test_the_short_term_rate_governs_when_corrosion_speeds_up() -> None:
    # 10.0 → 9.0 mm in the last 2 years: 0.5 mm/y against 3.0 mm / 10 y = 0.3 mm/y long-term.
    result = assess(
        initial_mm=12.0,
        initial_date=date(2016, 5, 1),
        required_mm=7.0,
        readings=[reading("2024-05-01", 10.0), reading("2026-05-01", 9.0)],
    )
    assert result.long_term_rate == pytest.approx(0.3, abs=1e-3)
    assert result.short_term_rate == pytest.approx(0.5, abs=1e-3)
    assert result.governing_rate == result.short_term_rate
    assert result.governing_basis == "short"
    assert result.remaining_life_years == pytest.approx(4.0, abs=1e-2)  # 2.0 mm / 0.5 mm/y
    # Half the life is exactly the 730 days the last 1.0 mm took: 2026-05-01 + 730 days (2028 is a leap year).
    assert result.next_inspection_date == date(2028, 4, 30)


def test_the_next_inspection_is_at_most_ten_years_away() -> None:
    # 0.02 mm/y with 4 mm to spare: 200 years of life, half would be 100 years.
    result = assess(
        initial_mm=12.0,
        initial_date=date(2016, 5, 1),
        required_mm=8.0,
        readings=[reading("2026-05-01", 11.8)],
    )
    assert result.remaining_life_years == pytest.approx(190.0, rel=1e-3)  # 3.8 mm / 0.02 mm/y
    assert result.next_inspection_date == date(2036, 5, 1)


def test_below_required_thickness_is_flagged_and_due_now() -> None:
    result = assess(
        initial_mm=12.0,
        initial_date=date(2016, 5, 1),
        required_mm=8.0,
        readings=[reading("2022-05-01", 8.6), reading("2026-05-01", 7.8)],
    )
    assert result.below_required
    assert result.remaining_life_years == 0
    assert result.next_inspection_date == date(2026, 5, 1)
    assert result.is_overdue(date(2026, 5, 2))
    assert result.short_term_rate == pytest.approx(0.2, abs=1e-3)


@pytest.mark.parametrize(
    ("readings", "initial_mm"),
    [
        ([reading("2022-05-01", 8.6), reading("2026-05-01", 8.0)], 12.0),  # corroding down to the minimum
        ([reading("2022-05-01", 8.0), reading("2026-05-01", 8.0)], None),  # no measurable corrosion, at the minimum
    ],
    ids=["corroding", "not corroding"],
)
def test_at_the_required_thickness_there_is_no_remaining_life(
    readings: list[ThicknessReading], initial_mm: float | None
) -> None:
    result = assess(
        initial_mm=initial_mm,
        initial_date=date(2016, 5, 1) if initial_mm else None,
        required_mm=Decimal("8.00"),
        readings=readings,
    )
    assert result.at_required
    assert not result.below_required
    assert result.remaining_life_years == 0
    assert not result.remaining_life_unlimited
    assert result.next_inspection_date == date(2026, 5, 1)
    assert result.is_overdue(date(2026, 5, 2))


def test_above_or_below_the_required_thickness_is_not_at_it() -> None:
    base = {"initial_mm": 12.0, "initial_date": date(2016, 5, 1), "required_mm": Decimal("8.00")}
    assert not assess(**base, readings=[reading("2026-05-01", 8.01)]).at_required  # type: ignore[arg-type]
    below = assess(**base, readings=[reading("2026-05-01", 7.99)])  # type: ignore[arg-type]
    assert below.below_required
    assert not below.at_required


def test_no_corrosion_means_unlimited_life_and_the_ten_year_interval() -> None:
    result = assess(
        initial_mm=12.0,
        initial_date=date(2016, 5, 1),
        required_mm=8.0,
        readings=[reading("2022-05-01", 12.0), reading("2026-05-01", 12.1)],  # gauge scatter
    )
    assert result.long_term_rate == pytest.approx(-0.01, abs=1e-3)
    assert result.governing_rate is not None
    assert result.governing_rate <= 0
    assert result.remaining_life_years is None
    assert result.remaining_life_unlimited
    assert result.next_inspection_date == date(2036, 5, 1)


def test_a_single_reading_has_no_short_term_rate() -> None:
    result = assess(
        initial_mm=12.0,
        initial_date=date(2016, 5, 1),
        required_mm=8.0,
        readings=[reading("2026-05-01", 10.0)],
    )
    assert result.previous is None
    assert result.short_term_rate is None
    assert result.governing_rate == result.long_term_rate
    assert result.remaining_life_years == pytest.approx(10.0, abs=1e-2)
    assert result.next_inspection_date == date(2031, 5, 1)


def test_without_readings_nothing_can_be_assessed() -> None:
    result = assess(initial_mm=12.0, initial_date=date(2016, 5, 1), required_mm=8.0, readings=[])
    assert not result.has_readings
    assert result.governing_rate is None
    assert result.next_inspection_date is None
    assert not result.below_required
    assert not result.is_overdue(date(2040, 1, 1))


def test_without_an_initial_thickness_only_the_short_term_rate_is_known() -> None:
    result = assess(
        initial_mm=None,
        initial_date=None,
        required_mm=8.0,
        readings=[reading("2022-05-01", 10.4), reading("2026-05-01", 10.0)],
    )
    assert result.long_term_rate is None
    assert result.governing_rate == pytest.approx(0.1, abs=1e-3)
    assert result.remaining_life_years == pytest.approx(20.0, abs=1e-2)
    # Half of 20 years is 10 × 365.25 = 3652.5 days → 3652 days, a day before the calendar cap.
    assert result.next_inspection_date == date(2036, 4, 30)


def test_without_a_required_thickness_there_is_no_remaining_life() -> None:
    result = assess(
        initial_mm=12.0, initial_date=date(2016, 5, 1), required_mm=None, readings=[reading("2026-05-01", 10.0)]
    )
    assert result.governing_rate == pytest.approx(0.2, abs=1e-3)
    assert result.remaining_life_years is None
    assert not result.remaining_life_unlimited
    assert result.next_inspection_date is None


def test_shortest_remaining_life_sorts_first_and_unlimited_last() -> None:
    base = {"initial_mm": 12.0, "initial_date": date(2016, 5, 1), "required_mm": 8.0}
    short = assess(**base, readings=[reading("2026-05-01", 9.0)])  # type: ignore[arg-type]
    long = assess(**base, readings=[reading("2026-05-01", 11.0)])  # type: ignore[arg-type]
    unlimited = assess(**base, readings=[reading("2026-05-01", 12.0)])  # type: ignore[arg-type]
    unknown = assess(**base, readings=[])  # type: ignore[arg-type]
    assert sorted([unlimited, unknown, long, short], key=lambda a: a.sort_key()) == [short, long, unknown, unlimited]


def test_ten_years_from_a_leap_day_is_the_28th_of_february() -> None:
    assert add_years(date(2024, 2, 29), 10) == date(2034, 2, 28)
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2025, 2, 28), -1) == date(2024, 2, 28)
