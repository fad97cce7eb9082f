"""The demo plant's operating log (运行记录): every unit's months of last year and of the seed
day's year, generated from a small profile, so 连运率 and 负荷率 have a year to read and one to
compare it with.

``seed/scorecard/operating.csv``, one line per unit (``seed/org/units.csv``):

- ``hours_per_day``: the hours the unit is planned to run a day (24 for continuous units, 16 for
  the two-shift loading station and packaging lines);
- ``load_pct``: its usual average load (%), varied a little from month to month;
- ``overhaul``: ``yes`` when the unit stops for the plant's overhaul (大修): its planned hours leave
  out the overhaul's days. The overhaul is the orders part's turnaround of the year when it is
  loaded (dated relative to the seed day), else the dates of ``seed/orders/turnarounds.csv`` in
  that year;
- ``stops``: its unplanned stops, ``MM:hours`` separated by spaces: hours it did not run in
  that month against its plan.

**Dates.** Last year's twelve months in full, and the seed day's year up to the seed day: the
months before its month in full, and its own month for the days before the seed day (a month is
entered as it runs; on the first of a month that month has nothing yet, and on 1 January the year
has no log: the scorecard then says so, while last year's log shows the part is loaded). Nothing is
dated after the seed day.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit.service import Actor, record_create
from maintenance.db import plant_timezone
from maintenance.demo.seed_files import read_csv
from maintenance.orders.models import Turnaround
from maintenance.org.models import Unit
from maintenance.scorecard.operating.models import OperatingMonth

# The load's month-to-month wobble in percentage points, by (month + unit's line) modulo 5.
_WOBBLE = (Decimal("-1.0"), Decimal("-0.5"), Decimal("0.0"), Decimal("0.5"), Decimal("1.0"))


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(OperatingMonth.id)).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    if is_loaded(session, seed_dir):
        return
    today = now.astimezone(plant_timezone()).date()
    units = {unit.code: unit for unit in session.scalars(select(Unit))}
    overhauls = {year: _overhaul_days(session, seed_dir, year) for year in (today.year - 1, today.year)}
    rows: list[OperatingMonth] = []
    for line, profile in enumerate(read_csv(seed_dir / "scorecard" / "operating.csv")):
        unit = units[profile["unit"]]
        stops = dict(_stop(text) for text in profile["stops"].split())
        for month, days in _months_logged(today):
            overhaul = overhauls[month.year] if profile["overhaul"] == "yes" else set()
            planned = Decimal(int(profile["hours_per_day"]) * len(days - overhaul))
            run = max(planned - stops.get(month.month, Decimal(0)), Decimal(0))
            load_pct = Decimal(profile["load_pct"]) + _WOBBLE[(month.month + line) % len(_WOBBLE)]
            rows.append(
                OperatingMonth(
                    unit_id=unit.id,  # type: ignore[arg-type]
                    month=month,
                    hours_run=run,
                    planned_hours=planned,
                    load_pct=load_pct if run else Decimal(0),
                )
            )
    session.add_all(rows)
    session.flush()
    for row in rows:
        record_create(session, actor, row)


def _stop(text: str) -> tuple[int, Decimal]:
    month, hours = text.split(":")
    return int(month), Decimal(hours)


def _months_logged(today: date) -> Iterator[tuple[date, set[date]]]:
    """Each month the log covers (its first day) with the days of it logged: all of last year's
    months and this year's before ``today``'s in full, of ``today``'s own the days before it."""
    for year, last_month in ((today.year - 1, 12), (today.year, today.month)):
        for month in range(1, last_month + 1):
            last = calendar.monthrange(year, month)[1]
            if (year, month) == (today.year, today.month):
                last = today.day - 1
            if last:
                yield date(year, month, 1), {date(year, month, day) for day in range(1, last + 1)}


def _overhaul_days(session: Session, seed_dir: Path, year: int) -> set[date]:
    """The days of ``year`` the plant's overhaul takes."""
    overhaul = session.scalars(
        select(Turnaround)
        .where(col(Turnaround.start_date) <= date(year, 12, 31), col(Turnaround.end_date) >= date(year, 1, 1))
        .order_by(col(Turnaround.end_date).desc())
    ).first()
    if overhaul is not None:
        first, last = overhaul.start_date, overhaul.end_date
    else:
        row = next(iter(read_csv(seed_dir / "orders" / "turnarounds.csv")))
        first = date.fromisoformat(row["start_date"]).replace(year=year)
        last = date.fromisoformat(row["end_date"]).replace(year=year)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return {day for day in days if day.year == year}
