"""The demo plant's savings entered by hand, loaded at a few moments of the seed year (its first
minutes, a leap day, mid-year, its last half hour, and the clock's day): five entries a ledger over
the year, nothing after the seed day, the references in the seed year, each entry in the change
log. Loaded on the org part only: the work orders' savings are the orders' own demo's.

The ledgers' totals by hand from ``seed/scorecard/savings.csv`` (saving = (reference − actual) ×
quantity):

- refurbish: 01-01 13 500; 02-20 192 000; 04-12 (12 500 − 3 200) × 6 = 55 800; 06-05 (9 800 −
  2 600) × 2 = 14 400; 09-18 (6 400 − 1 500) × 3 = 14 700; the year 290 400;
- localisation: 01-15 (4 850 − 1 620) × 8 = 25 840; 03-08 (2 680 − 980) × 12 = 20 400; 05-22
  (15 600 − 6 800) × 4 = 35 200; 07-30 (1 960 − 720) × 10 = 12 400; 10-14 (8 200 − 3 100) × 20 =
  102 000; the year 195 840;
- tender: 02-10 234 000; 03-25 147 500; 06-18 55 000; 08-08 41 200; 11-20 14 500; the year 492 200.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from maintenance.audit.models import ObjectChange
from maintenance.config import get_settings
from maintenance.db import plant_timezone, utcnow
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.demo.scorecard import savings as savings_demo
from maintenance.scorecard.savings.ledger import savings_totals
from maintenance.scorecard.savings.models import SavingsEntry, SavingsKind

SEED_DIR = get_settings().seed_dir
MOMENTS = {
    "clock": None,
    "new year": datetime(2026, 12, 31, 16, 10, tzinfo=UTC),  # 1 January 2027, 00:10 plant time
    "leap day": datetime(2028, 2, 29, 1, 0, tzinfo=UTC),
    "mid-year": datetime(2026, 6, 30, 4, 0, tzinfo=UTC),
    "year end": datetime(2026, 12, 31, 15, 30, tzinfo=UTC),  # 31 December 2026, 23:30 plant time
}
R, L, T = SavingsKind.REFURBISH, SavingsKind.LOCALISATION, SavingsKind.TENDER
# The ledgers' totals through the seed day, from the module's sums by hand.
EXPECTED = {
    "new year": {R: "13500.00", L: "0.00", T: "0.00"},
    "leap day": {R: "205500.00", L: "25840.00", T: "234000.00"},
    "mid-year": {R: "275700.00", L: "81440.00", T: "436500.00"},
    "year end": {R: "290400.00", L: "195840.00", T: "492200.00"},
}


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    for name, part in PARTS:
        if name == "org":
            part.load(session, SEED_DIR, SEED_ACTOR, utcnow())
    yield session
    session.close()
    outer.rollback()
    connection.close()


@dataclass(frozen=True)
class Loaded:
    session: Session
    moment: str
    today: date


@pytest.fixture(scope="module", params=list(MOMENTS))
def demo(request: pytest.FixtureRequest, org: Session) -> Iterator[Loaded]:
    now = MOMENTS[request.param] or utcnow()
    savepoint = org.begin_nested()
    assert not savings_demo.is_loaded(org, SEED_DIR)
    savings_demo.load(org, SEED_DIR, SEED_ACTOR, now)
    yield Loaded(org, request.param, now.astimezone(plant_timezone()).date())
    savepoint.rollback()


def test_entries_are_of_the_seed_year_up_to_the_seed_day(demo: Loaded) -> None:
    entries = list(demo.session.scalars(select(SavingsEntry)))

    assert entries, "the first refurbished impeller is entered on 1 January"
    assert all(date(demo.today.year, 1, 1) <= e.recorded_on <= demo.today for e in entries)
    assert all(str(demo.today.year) in e.reference for e in entries if e.kind == T)
    logged = demo.session.scalar(
        select(func.count(col(ObjectChange.id))).where(col(ObjectChange.object_type) == "savings_entry")
    )
    assert logged == len(entries)


def test_the_ledgers_totals_through_the_seed_day(demo: Loaded) -> None:
    if demo.moment not in EXPECTED:
        pytest.skip("the clock's day has no total worked out by hand")
    totals = savings_totals(demo.session, date(demo.today.year, 1, 1), demo.today)

    assert {kind: str(total.entered_cny) for kind, total in totals.items()} == EXPECTED[demo.moment]
    assert all(total.from_orders_cny == Decimal("0.00") for total in totals.values())


def test_the_year_has_five_entries_a_ledger_in_several_workshops(demo: Loaded) -> None:
    if demo.moment != "year end":
        pytest.skip("the whole year is loaded on its last day")
    entries = list(demo.session.scalars(select(SavingsEntry)))

    assert {kind: sum(1 for e in entries if e.kind == kind) for kind in SavingsKind} == {R: 5, L: 5, T: 5}
    assert len({e.workshop_id for e in entries if e.workshop_id is not None}) == 6
    assert sum(1 for e in entries if e.workshop_id is None) == 3
