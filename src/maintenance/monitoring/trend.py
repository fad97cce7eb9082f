"""Trend and forecast: a least-squares line through a point's recent readings, and the days until
that line reaches the alarm limit ("predicted alarm in 12 days").

The window (a documented choice):

- the readings of the **14 days up to the newest reading** (:data:`WINDOW`) — long enough that a
  weekly round gives a few values, short enough that a fault developing now is not hidden under
  months of normal running;
- of those, at most the newest :data:`MAX_READINGS` (500), so a point logged every minute by a DCS
  is fitted over its last ~8 hours rather than 20,000 values;
- at least :data:`MIN_READINGS` (5) are needed, else there is no forecast.

The forecast is ``None`` when there is too little data, when the latest value is in alarm already,
when the line is flat or heads away from the alarm limits (rising with only a low limit, falling
with only a high one), or when the crossing is further off than :data:`HORIZON_DAYS` (a slope that
small is noise, not a trend). A line that has passed the limit already while the latest reading is
not yet in alarm gives 0 ("due now").

:func:`fit_line` and :func:`days_to_alarm` are pure; :func:`recent_readings` is the one query that
feeds them for any number of points at once (the alarm board).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from maintenance.monitoring.choices import ConditionState
from maintenance.monitoring.models import MeasurementPoint, Reading
from maintenance.monitoring.rules import Limits, evaluate

WINDOW = timedelta(days=14)
MAX_READINGS = 500
MIN_READINGS = 5
HORIZON_DAYS = 365.0
SECONDS_PER_DAY = 86_400.0

Sample = tuple[datetime, float]


@dataclass(frozen=True)
class LinearFit:
    """value ≈ intercept + slope_per_day × (days since ``origin``)."""

    origin: datetime
    intercept: float
    slope_per_day: float

    def value_at(self, moment: datetime) -> float:
        return self.intercept + self.slope_per_day * _days(moment - self.origin)

    def reaches(self, limit: float) -> datetime | None:
        """When the line has the value ``limit`` (None if it is flat)."""
        if self.slope_per_day == 0:
            return None
        return self.origin + timedelta(days=(limit - self.intercept) / self.slope_per_day)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / SECONDS_PER_DAY


def window_of(readings: Iterable[Sample]) -> list[Sample]:
    """The readings the forecast uses, oldest first: those within :data:`WINDOW` of the newest,
    at most the newest :data:`MAX_READINGS`."""
    ordered = sorted(readings, key=lambda sample: sample[0])
    if not ordered:
        return []
    start = ordered[-1][0] - WINDOW
    recent = [sample for sample in ordered if sample[0] >= start]
    return recent[-MAX_READINGS:]


def fit_line(readings: Sequence[Sample]) -> LinearFit | None:
    """Ordinary least squares of value on time (in days from the first reading). None for fewer
    than two readings or when all were taken at the same instant."""
    if len(readings) < 2:
        return None
    origin = min(moment for moment, _ in readings)
    days = [_days(moment - origin) for moment, _ in readings]
    values = [value for _, value in readings]
    try:
        slope, intercept = statistics.linear_regression(days, values)
    except statistics.StatisticsError:  # every reading at one instant: no line through them
        return None
    return LinearFit(origin=origin, intercept=intercept, slope_per_day=slope)


@dataclass(frozen=True)
class Forecast:
    """The fitted line over the window and, when it heads for an alarm limit, when it gets there."""

    fit: LinearFit
    window_start: datetime
    window_end: datetime
    limit: float | None = None
    crossing_at: datetime | None = None
    days_to_alarm: float | None = None


def forecast(readings: Iterable[Sample], limits: Limits, *, now: datetime | None = None) -> Forecast | None:
    """The trend of the window (None with fewer than :data:`MIN_READINGS`) and its days to alarm,
    counted from ``now`` (default: the newest reading's time)."""
    window = window_of(readings)
    if len(window) < MIN_READINGS:
        return None
    fit = fit_line(window)
    if fit is None:
        return None
    start, (newest_at, newest_value) = window[0][0], window[-1]
    result = Forecast(fit=fit, window_start=start, window_end=newest_at)
    if evaluate(newest_value, limits) == ConditionState.ALARM:
        return result
    if fit.slope_per_day > 0 and limits.alarm_high is not None:
        limit = limits.alarm_high
    elif fit.slope_per_day < 0 and limits.alarm_low is not None:
        limit = limits.alarm_low
    else:
        return result  # flat, or heading away from the limits there are
    crossing = fit.reaches(limit)
    if crossing is None:
        return result
    days = max(0.0, _days(crossing - (now or newest_at)))
    if days > HORIZON_DAYS:
        return result
    return Forecast(fit, start, newest_at, limit, crossing, days)


def days_to_alarm(readings: Iterable[Sample], limits: Limits, *, now: datetime | None = None) -> float | None:
    """Days until the recent trend reaches an alarm limit, or None (see the module's rules)."""
    result = forecast(readings, limits, now=now)
    return None if result is None else result.days_to_alarm


# --- The one query ------------------------------------------------------------------------


def recent_readings(session: Session, points: Sequence[MeasurementPoint]) -> dict[int, list[Sample]]:
    """The forecast window of every point given, oldest first, in ONE query whatever the number
    of points: each point's 14 days up to its own newest reading (a range on the (point, taken_at)
    key), at most :data:`MAX_READINGS` each (``row_number()`` per point)."""
    ranges = [
        and_(col(Reading.point_id) == point.id, col(Reading.taken_at) >= point.latest_taken_at - WINDOW)
        for point in points
        if point.id is not None and point.latest_taken_at is not None
    ]
    if not ranges:
        return {}
    newest_first = (
        func.row_number()
        .over(partition_by=col(Reading.point_id), order_by=col(Reading.taken_at).desc())
        .label("newest_rank")
    )
    ranked = select(col(Reading.point_id), col(Reading.taken_at), col(Reading.value), newest_first).where(or_(*ranges))
    inner = ranked.subquery()
    stmt = (
        select(inner.c.point_id, inner.c.taken_at, inner.c.value)
        .where(inner.c.newest_rank <= MAX_READINGS)
        .order_by(inner.c.point_id, inner.c.taken_at)
    )
    series: dict[int, list[Sample]] = defaultdict(list)
    for point_id, taken_at, value in session.execute(stmt):
        series[point_id].append((taken_at, value))
    return dict(series)
