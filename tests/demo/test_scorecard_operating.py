"""The demo plant's operating log, loaded as of the clock's day and a few fixed moments: every
unit's months of last year in full and of the seed year up to the seed day (the seed day's month
for the days before it), the overhaul's days out of the plan of the units that stop for it, the
unplanned stops out of their hours run; on 1 January the year has no log yet and the scorecard
says so, while last year's log shows the part is loaded.

Loaded on the org and registry parts only: without the orders' turnaround the overhaul takes the
dates of seed/orders/turnarounds.csv in the seed year (5 September to 10 October)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from maintenance.config import get_settings
from maintenance.db import plant_timezone, utcnow
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.demo.scorecard import operating as operating_demo
from maintenance.org.models import Unit, Workshop
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.operating.figures import continuous_run, load_rate
from maintenance.scorecard.operating.models import OperatingMonth
from maintenance.scorecard.operating.rules import hours_in_month

SEED_DIR = get_settings().seed_dir
MOMENTS = {
    "clock": None,
    "new year": datetime(2026, 12, 31, 16, 10, tzinfo=UTC),  # 1 January 2027, 00:10 plant time
    "mid-year": datetime(2026, 6, 30, 4, 0, tzinfo=UTC),  # 30 June 2026, 12:00 plant time
    "year end": datetime(2026, 12, 31, 15, 30, tzinfo=UTC),  # 31 December 2026, 23:30 plant time
}
UNITS = 18


@pytest.fixture(scope="module")
def registry(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    for name, part in PARTS:
        if name in ("org", "assets"):
            part.load(session, SEED_DIR, SEED_ACTOR, utcnow())
    yield session
    session.close()
    outer.rollback()
    connection.close()


@dataclass(frozen=True)
class Loaded:
    session: Session
    now: datetime
    today: date
    moment: str

    def rows(self, code: str | None = None, *, year: int | None = None) -> dict[tuple[str, int], OperatingMonth]:
        """The log's rows of ``year`` (the seed day's by default) by unit code and month number."""
        stmt = select(OperatingMonth, Unit.code).join(Unit, Unit.id == OperatingMonth.unit_id)  # type: ignore[arg-type]
        return {
            (unit_code, row.month.month): row
            for row, unit_code in self.session.exec(stmt)
            if (code is None or unit_code == code) and row.month.year == (year or self.today.year)
        }

    def workshop_id(self, code: str) -> int:
        workshop = self.session.exec(select(Workshop).where(Workshop.code == code)).one()
        assert workshop.id is not None
        return workshop.id


@pytest.fixture(scope="module", params=list(MOMENTS))
def demo(request: pytest.FixtureRequest, registry: Session) -> Iterator[Loaded]:
    now = MOMENTS[request.param] or utcnow()
    savepoint = registry.begin_nested()
    assert not operating_demo.is_loaded(registry, SEED_DIR)
    operating_demo.load(registry, SEED_DIR, SEED_ACTOR, now)
    yield Loaded(registry, now, now.astimezone(plant_timezone()).date(), request.param)
    savepoint.rollback()


def test_every_unit_has_its_months_up_to_the_seed_day_and_none_after(demo: Loaded) -> None:
    rows = demo.rows()
    months = demo.today.month if demo.today.day > 1 else demo.today.month - 1

    assert len(rows) == UNITS * months
    for row in rows.values():
        assert row.month.year == demo.today.year
        assert row.month <= demo.today
        assert row.hours_run <= row.planned_hours <= hours_in_month(row.month)
        if row.month.month == demo.today.month:  # the days before the seed day
            assert row.planned_hours <= (demo.today.day - 1) * 24


def test_last_year_is_logged_in_full_for_every_unit(demo: Loaded) -> None:
    last_year = demo.rows(year=demo.today.year - 1)
    syn = demo.rows("SYN-1", year=demo.today.year - 1)

    assert len(last_year) == UNITS * 12
    assert syn[("SYN-1", 1)].planned_hours == Decimal(744)  # 31 days × 24 hours
    assert syn[("SYN-1", 3)].hours_run == Decimal(708)  # its 36 hours' stop in March


def test_on_new_year_s_day_the_scorecard_says_there_is_no_log_yet(demo: Loaded) -> None:
    if demo.moment != "new year":
        pytest.skip("1 January only")
    figure = continuous_run(demo.session, ScorecardScope(2027, demo.today), {})

    assert demo.rows() == {}
    assert operating_demo.is_loaded(demo.session, SEED_DIR)  # by last year's log: loading again adds nothing
    assert figure.value is None
    assert "2027" in figure.detail


def test_the_overhaul_and_the_unplanned_stops_at_year_end(demo: Loaded) -> None:
    if demo.moment != "year end":
        pytest.skip("31 December only")
    syn = demo.rows("SYN-1")
    air = demo.rows("UTL-AIR")

    # SYN-1 stops for the overhaul, 5 September to 10 October: 4 days planned in September, 21 in October.
    assert (syn[("SYN-1", 9)].planned_hours, syn[("SYN-1", 9)].hours_run) == (Decimal(96), Decimal(96))
    assert syn[("SYN-1", 10)].planned_hours == Decimal(504)
    # Its unplanned stops: 36 hours in March, 18 in July.
    assert (syn[("SYN-1", 3)].planned_hours, syn[("SYN-1", 3)].hours_run) == (Decimal(744), Decimal(708))
    assert syn[("SYN-1", 7)].hours_run == Decimal(726)
    # December up to the 30th: the seed day is not run yet.
    assert syn[("SYN-1", 12)].planned_hours == Decimal(720)
    # The air compressors run through the overhaul.
    assert air[("UTL-AIR", 9)].planned_hours == Decimal(720)
    assert air[("UTL-AIR", 1)].hours_run == Decimal(734)


def test_utl_s_continuous_run_rate_by_hand(demo: Loaded) -> None:
    if demo.moment not in ("mid-year", "year end"):
        pytest.skip("fixed moments only")
    scope = ScorecardScope(demo.today.year, demo.today, demo.workshop_id("UTL"))

    figure = continuous_run(demo.session, scope, {})
    load = load_rate(demo.session, scope, {})

    if demo.moment == "mid-year":
        # 3 units × (744 + 672 + 744 + 720 + 744 + 29 × 24) = 12960 planned; UTL-AIR lost 10 in January.
        assert figure.value == Decimal("0.9992")  # 12950 / 12960
    else:
        # 3 × 364 days × 24 = 26208, less UTL-CW's 36 overhaul days (864) = 25344; lost 10 + 6.
        assert figure.value == Decimal("0.9994")  # 25328 / 25344
    assert load.value is not None
    assert Decimal("0.79") <= load.value <= Decimal("0.91")  # 90, 85 and 80 % loads, ±1 point a month


def test_loading_twice_adds_nothing(demo: Loaded) -> None:
    before = len(demo.rows())

    operating_demo.load(demo.session, SEED_DIR, SEED_ACTOR, demo.now)

    assert len(demo.rows()) == before
