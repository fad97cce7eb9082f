"""The periods a round is walked in, cut in plant time.

- **shift**: the three eight-hour shifts of 四班三运转, 00:00–08:00, 08:00–16:00 and 16:00–24:00;
- **day**: the plant calendar day, 00:00–24:00;
- **week**: Monday 00:00 to the next Monday 00:00 (ISO weeks).

A round still takes entries for :data:`GRACE` after its period ends, so a value keyed in at the
last stop while the shift changes over (or retried on a flaky network) is not lost; after that the
round is missed if it was not finished.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maintenance.db import plant_timezone
from maintenance.inspections.choices import RouteFrequency

SHIFT_HOURS = 8
GRACE = timedelta(hours=2)


def period_of(frequency: RouteFrequency, instant: datetime) -> tuple[datetime, datetime]:
    """The period of ``frequency`` that contains ``instant``, as aware UTC (start inclusive, end
    exclusive). Boundaries are plant-local midnights and shift changes; a DST-free plant
    timezone is assumed only in that a day is 24 hours long (true of Asia/Shanghai)."""
    local = instant.astimezone(plant_timezone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if frequency == RouteFrequency.SHIFT:
        start = midnight + timedelta(hours=local.hour // SHIFT_HOURS * SHIFT_HOURS)
        length = timedelta(hours=SHIFT_HOURS)
    elif frequency == RouteFrequency.DAY:
        start, length = midnight, timedelta(days=1)
    else:
        start, length = midnight - timedelta(days=local.weekday()), timedelta(weeks=1)
    return start.astimezone(UTC), (start + length).astimezone(UTC)


def periods_between(frequency: RouteFrequency, first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    """Every period from the one containing ``first`` to the one containing ``last`` (demo history
    and backfills)."""
    periods = []
    start, end = period_of(frequency, first)
    while start <= last:
        periods.append((start, end))
        start, end = period_of(frequency, end)
    return periods


def accepts_entries(period_end: datetime, now: datetime) -> bool:
    return now < period_end + GRACE
