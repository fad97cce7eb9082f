"""The days-to-alarm forecast: a least-squares line over the recent window, worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance.monitoring import trend
from maintenance.monitoring.rules import Limits

DAY0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def daily(*values: float, start: datetime = DAY0) -> list[tuple[datetime, float]]:
    return [(start + timedelta(days=index), value) for index, value in enumerate(values)]


# --- The fit ------------------------------------------------------------------------------


def test_fit_of_a_straight_line_is_that_line() -> None:
    fit = trend.fit_line(daily(1, 2, 3, 4, 5))

    assert fit is not None
    assert fit.slope_per_day == pytest.approx(1.0)
    assert fit.intercept == pytest.approx(1.0)
    assert fit.value_at(DAY0 + timedelta(days=9)) == pytest.approx(10.0)


def test_fit_of_scattered_values_is_the_least_squares_line() -> None:
    # x = 0..4 (mean 2), y = 2,4,3,5,6 (mean 4): Sxy = 4+0+0+1+4 = 9, Sxx = 10 → slope 0.9,
    # intercept 4 − 0.9·2 = 2.2.
    fit = trend.fit_line(daily(2, 4, 3, 5, 6))

    assert fit is not None
    assert fit.slope_per_day == pytest.approx(0.9)
    assert fit.intercept == pytest.approx(2.2)


def test_fit_uses_real_time_spacing_not_reading_order() -> None:
    # Values 0, 1, 4 at days 0, 1, 4: a straight line of slope 1 although the steps differ.
    readings = [(DAY0, 0.0), (DAY0 + timedelta(days=1), 1.0), (DAY0 + timedelta(days=4), 4.0)]

    fit = trend.fit_line(readings)

    assert fit is not None
    assert fit.slope_per_day == pytest.approx(1.0)


def test_no_fit_for_one_reading_or_readings_at_one_instant() -> None:
    assert trend.fit_line(daily(3)) is None
    assert trend.fit_line([(DAY0, 1.0), (DAY0, 2.0)]) is None


# --- Days to alarm ------------------------------------------------------------------------


def test_rising_trend_gives_days_until_the_line_reaches_the_high_alarm() -> None:
    # Slope 1/day, value 5 on day 4 → 10 on day 9: five days after the newest reading.
    days = trend.days_to_alarm(daily(1, 2, 3, 4, 5), Limits(warning_high=4.5, alarm_high=10))

    assert days == pytest.approx(5.0)


def test_scattered_rising_trend_crossing_is_taken_from_the_fit() -> None:
    # The line 2.2 + 0.9·x reaches 7.1 at x = 4.9/0.9 = 5.444 days, i.e. 1.444 after day 4.
    days = trend.days_to_alarm(daily(2, 4, 3, 5, 6), Limits(warning_high=4.5, alarm_high=7.1))

    assert days == pytest.approx(4.9 / 0.9 - 4)


def test_falling_trend_gives_days_until_the_line_reaches_the_low_alarm() -> None:
    # Wall thickness style: 10, 9, 8, 7, 6 → 2 on day 8, four days after the newest reading.
    days = trend.days_to_alarm(daily(10, 9, 8, 7, 6), Limits(alarm_low=2))

    assert days == pytest.approx(4.0)


def test_days_are_counted_from_now_when_given() -> None:
    now = DAY0 + timedelta(days=6)  # two days after the newest reading

    days = trend.days_to_alarm(daily(1, 2, 3, 4, 5), Limits(alarm_high=10), now=now)

    assert days == pytest.approx(3.0)


def test_line_already_past_the_limit_while_reading_is_not_in_alarm_is_due_now() -> None:
    now = DAY0 + timedelta(days=30)

    assert trend.days_to_alarm(daily(1, 2, 3, 4, 5), Limits(alarm_high=10), now=now) == 0.0


@pytest.mark.parametrize(
    ("values", "limits", "why"),
    [
        ((5, 5, 5, 5, 5), Limits(alarm_high=10), "flat"),
        ((5, 4, 3, 2, 1), Limits(alarm_high=10), "falling away from a high limit"),
        ((1, 2, 3, 4, 5), Limits(alarm_low=0.5), "rising away from a low limit"),
        ((1, 2, 3, 4, 5), Limits(warning_high=4), "no alarm limit at all"),
        ((1, 2, 3, 4), Limits(alarm_high=10), "fewer than five readings"),
        ((6, 7, 8, 9, 10), Limits(alarm_high=10), "the newest reading is in alarm already"),
        ((1.0, 1.001, 1.002, 1.003, 1.004), Limits(alarm_high=10), "crossing beyond the horizon"),
    ],
)
def test_no_forecast(values: tuple[float, ...], limits: Limits, why: str) -> None:
    assert trend.days_to_alarm(daily(*values), limits) is None, why


def test_only_the_last_fourteen_days_before_the_newest_reading_are_fitted() -> None:
    # An old fall (day 0–9) then a steady rise of 1/day over the last 14 days (day 10–24):
    # the old readings must not flatten the trend.
    old = daily(50, 40, 30, 20, 10, 5, 4, 3, 2, 1)
    recent = daily(*range(1, 16), start=DAY0 + timedelta(days=10))  # 1..15 on days 10..24

    days = trend.days_to_alarm(old + recent, Limits(alarm_high=20))

    assert days == pytest.approx(5.0)  # 15 → 20 at 1/day


def test_the_window_keeps_at_most_the_newest_readings() -> None:
    readings = [(DAY0 + timedelta(minutes=index), float(index)) for index in range(trend.MAX_READINGS + 100)]

    window = trend.window_of(readings)

    assert len(window) == trend.MAX_READINGS
    assert window[-1] == readings[-1]
    assert window[0] == readings[100]


def test_readings_in_any_order_give_the_same_forecast() -> None:
    readings = daily(1, 2, 3, 4, 5)

    assert trend.days_to_alarm(list(reversed(readings)), Limits(alarm_high=10)) == pytest.approx(5.0)


def test_forecast_keeps_the_fitted_line_for_the_chart() -> None:
    result = trend.forecast(daily(1, 2, 3, 4, 5), Limits(alarm_high=10))

    assert result is not None
    assert result.window_start == DAY0
    assert result.window_end == DAY0 + timedelta(days=4)
    assert result.limit == 10
    assert result.crossing_at == DAY0 + timedelta(days=9)
