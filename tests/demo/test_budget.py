"""The demo plant's budget, loaded as of the clock's day and the days where a year's arithmetic
breaks (its first minutes, a leap day, mid-year, its last half hour), tells the same story: the
seed year's 1560万 target is half the three years before (3050万, 3210万, 3100万: 3120万 on
average), allocated to the fen by workshop × category × month with the overhaul's months heavy;
the finance journal so far; 热电 (PWR) and 罐区 (TNK) more than 5 % over plan to date.

Loaded on the org and registry parts only (the whole demo takes minutes): the work orders only
add to the actual, so two workshops over plan on the journal alone are over plan on the whole
demo too. Without the orders' overhaul the turnaround cost stays in September and October; a
test of its own adds an overhaul."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, delete, func
from sqlmodel import Session, col, select

from maintenance.budget.models import Allocation, BaselineYear, BudgetYear
from maintenance.budget.service import BudgetReport, budget_report
from maintenance.config import get_settings
from maintenance.db import plant_timezone, utcnow
from maintenance.demo import budget as budget_demo
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.demo.seed_files import read_csv
from maintenance.orders.choices import CostCategory
from maintenance.orders.models import JournalEntry, Turnaround
from maintenance.org.models import Site

SEED_DIR = get_settings().seed_dir
MOMENTS = {
    "clock": None,
    "new year": datetime(2026, 12, 31, 16, 10, tzinfo=UTC),  # 1 January 2027, 00:10 plant time
    "leap day": datetime(2028, 2, 29, 1, 0, tzinfo=UTC),
    "mid-year": datetime(2026, 6, 30, 4, 0, tzinfo=UTC),
    "year end": datetime(2026, 12, 31, 15, 30, tzinfo=UTC),  # 31 December 2026, 23:30 plant time
}
ANNUAL = {"SYN": "4800000", "DIS": "3600000", "UTL": "2400000", "PWR": "2400000", "TNK": "1200000", "PKG": "1200000"}


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
    today: date
    report: BudgetReport

    def code_of(self, workshop_id: int) -> str:
        return next(w.code for w in self.report.workshops if w.id == workshop_id)

    def workshop_id(self, code: str) -> int:
        return next(w.id for w in self.report.workshops if w.code == code)  # type: ignore[misc]


@pytest.fixture(scope="module", params=list(MOMENTS))
def demo(request: pytest.FixtureRequest, registry: Session) -> Iterator[Loaded]:
    now = MOMENTS[request.param] or utcnow()
    today = now.astimezone(plant_timezone()).date()
    savepoint = registry.begin_nested()
    assert not budget_demo.is_loaded(registry, SEED_DIR)
    budget_demo.load(registry, SEED_DIR, SEED_ACTOR, now)
    assert budget_demo.is_loaded(registry, SEED_DIR)
    yield Loaded(registry, today, budget_report(registry, today.year, today))
    savepoint.rollback()


def test_the_seed_year_s_target_is_half_the_three_years_before(demo: Loaded) -> None:
    report = demo.report

    assert report.year == demo.today.year
    assert report.target == Decimal("15600000.00")
    assert report.budget is not None
    assert "降本50%" in report.budget.note
    assert [(b.year, b.actual_cny) for b in report.baselines] == [
        (demo.today.year - 3, Decimal("30500000.00")),
        (demo.today.year - 2, Decimal("32100000.00")),
        (demo.today.year - 1, Decimal("31000000.00")),
    ]
    assert report.baseline == Decimal("31200000.00")
    assert report.change == Decimal("-0.5")


def test_the_allocation_sums_to_the_target_by_workshop(demo: Loaded) -> None:
    report = demo.report

    assert report.plan.total == Decimal("15600000.00")
    assert report.unallocated == Decimal("0.00")
    for code, annual in ANNUAL.items():
        assert report.plan.sum(workshop_id=demo.workshop_id(code)) == Decimal(annual), code
    # 合成's materials: 480万 × 25 % × 11 % in October, its busiest month.
    assert report.plan.sum(workshop_id=demo.workshop_id("SYN"), category=CostCategory.MATERIALS, months=[9]) == Decimal(
        "132000.00"
    )
    cells = demo.session.scalar(select(func.count(col(Allocation.id))))
    assert cells == 4 * 50 + 2 * 48  # four workshops with a turnaround share in two months, two without


def test_the_overhaul_s_months_are_the_heaviest(demo: Loaded) -> None:
    monthly = [demo.report.plan.sum(months=[m]) for m in range(12)]

    assert monthly[9] == max(monthly)  # October
    assert monthly[8] == sorted(monthly)[-2]  # September
    # The turnaround's 30/30/20/20 % of 480/360/240/240万 = 144 + 108 + 48 + 48 = 348万,
    # 40 % in September and 60 % in October.
    assert demo.report.plan.sum(category=CostCategory.TURNAROUND) == Decimal("3480000.00")
    assert demo.report.plan.sum(category=CostCategory.TURNAROUND, months=[8]) == Decimal("1392000.00")
    assert demo.report.plan.sum(category=CostCategory.TURNAROUND, months=[9]) == Decimal("2088000.00")


def test_the_journal_is_booked_in_the_seed_year_up_to_the_seed_day(demo: Loaded) -> None:
    entries = list(demo.session.scalars(select(JournalEntry)))
    days = [entry.booked_on for entry in entries]

    assert entries, "the two quarterly contracts are booked on 1 January"
    assert all(date(demo.today.year, 1, 1) <= day <= demo.today for day in days)
    assert all(entry.reference.startswith(f"CW-{demo.today.year}-") for entry in entries)
    if demo.today == date(demo.today.year, 12, 31):
        assert len(entries) == 21
        assert sum(e.amount_cny for e in entries) == Decimal("4531000.00")
    assert len(entries) == sum(1 for row in _journal_days(demo.today.year) if row <= demo.today)


def _journal_days(year: int) -> list[date]:
    return [
        date(year, *(int(part) for part in row["booked"].split("-")))
        for row in read_csv(SEED_DIR / "budget" / "journal.csv")
    ]


def test_two_workshops_drift_over_plan_and_the_rest_do_not(demo: Loaded) -> None:
    over = {
        demo.code_of(w.id): demo.report.variance(workshop_id=w.id)  # type: ignore[arg-type]
        for w in demo.report.workshops
        if demo.report.variance(workshop_id=w.id).over_plan
    }

    assert sorted(over) == ["PWR", "TNK"]
    assert all(variance.drifting for variance in over.values())
    assert all(variance.share is not None and variance.share > Decimal("0.10") for variance in over.values())


def test_loading_twice_adds_nothing(demo: Loaded) -> None:
    budget_demo.load(demo.session, SEED_DIR, SEED_ACTOR, utcnow())

    assert demo.session.scalar(select(func.count(col(BudgetYear.id)))) == 1


def test_an_overhaul_in_the_seed_year_takes_the_turnaround_cost(registry: Session) -> None:
    # Seeded on the leap day, the demo's overhaul runs from 11 December 2027 to 15 January 2028:
    # only January is in the year, so January carries the whole 348万 of turnaround cost.
    savepoint = registry.begin_nested()
    for table in (Allocation, BaselineYear, BudgetYear, JournalEntry):  # a seed day's budget, if any
        registry.execute(delete(table))
    site_id = registry.scalars(select(col(Site.id))).first()
    registry.add(
        Turnaround(
            code="TA-2027",
            name="2027年度大修",
            start_date=date(2027, 12, 11),
            end_date=date(2028, 1, 15),
            site_id=site_id,  # type: ignore[arg-type]
        )
    )
    registry.flush()
    budget_demo.load(registry, SEED_DIR, SEED_ACTOR, MOMENTS["leap day"])  # type: ignore[arg-type]
    report = budget_report(registry, 2028, date(2028, 2, 29))
    savepoint.rollback()

    assert report.plan.sum(category=CostCategory.TURNAROUND, months=[0]) == Decimal("3480000.00")
    assert report.plan.sum(category=CostCategory.TURNAROUND, months=[8, 9]) == Decimal("0.00")
    assert report.plan.total == Decimal("15600000.00")
