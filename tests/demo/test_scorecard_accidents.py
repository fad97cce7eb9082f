"""The demo plant's accident register, loaded as of the clock's day and the days where a year's
arithmetic breaks (its first minutes, a leap day, mid-year, its last half hour): last year's
accident on 14 March with one action done and one open; this year's accident on 20 January (the
seed day itself before then) with its action done five days later and its corrective order raised
the day after the accident and completed that day (each on the seed day at the latest), and the
incident on 18 February (likewise); nothing after the seed day; the scorecard's rate as the
plant's rule gives it on that day.

Loaded on the org and registry parts only (the whole demo takes minutes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from maintenance.assets.models import Asset
from maintenance.config import get_settings
from maintenance.db import plant_timezone, utcnow
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.demo.scorecard import accidents as accidents_demo
from maintenance.orders.choices import FailureCause, FailureMechanism, FailureMode, OrderState, OrderType
from maintenance.orders.models import WorkOrder
from maintenance.scorecard.accidents.figures import accident_rate
from maintenance.scorecard.accidents.models import Accident, AccidentAction, AccidentClass
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.indicators import DEFAULT_TARGETS

SEED_DIR = get_settings().seed_dir
MOMENTS = {
    "clock": None,
    "new year": datetime(2026, 12, 31, 16, 10, tzinfo=UTC),  # 1 January 2027, 00:10 plant time
    "leap day": datetime(2028, 2, 29, 1, 0, tzinfo=UTC),
    "mid-year": datetime(2026, 6, 30, 4, 0, tzinfo=UTC),
    "year end": datetime(2026, 12, 31, 15, 30, tzinfo=UTC),  # 31 December 2026, 23:30 plant time
}
# The rate on the fixed days: (this year, last year's same span) → the figure's value and verdict.
RATES = {
    "new year": (None, False),  # 1 (on 1 January) against none by 1 January 2026
    "leap day": (None, False),  # 1 against none by 28 February 2027
    "mid-year": (Decimal("0.0000"), None),  # 1 against 1: no change, judged by the scorecard
    "year end": (Decimal("0.0000"), None),
}


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
    moment: str
    today: date

    def accidents(self) -> dict[str, Accident]:
        return {a.title: a for a in self.session.scalars(select(Accident))}


@pytest.fixture(scope="module", params=list(MOMENTS))
def demo(request: pytest.FixtureRequest, registry: Session) -> Iterator[Loaded]:
    now = MOMENTS[request.param] or utcnow()
    savepoint = registry.begin_nested()
    assert not accidents_demo.is_loaded(registry, SEED_DIR)
    accidents_demo.load(registry, SEED_DIR, SEED_ACTOR, now)
    assert accidents_demo.is_loaded(registry, SEED_DIR)
    yield Loaded(registry, request.param, now.astimezone(plant_timezone()).date())
    savepoint.rollback()


def test_two_accidents_and_an_incident_on_real_assets_never_after_the_seed_day(demo: Loaded) -> None:
    accidents = demo.accidents()
    year = demo.today.year

    assert {title: (a.occurred_on, a.accident_class) for title, a in accidents.items()} == {
        "合成液泵A机封泄漏着火": (date(year - 1, 3, 14), AccidentClass.GENERAL),
        "1#锅炉引风机轴承烧毁": (min(date(year, 1, 20), demo.today), AccidentClass.GENERAL),
        "循环气压缩机振动高联锁停车": (min(date(year, 2, 18), demo.today), AccidentClass.INCIDENT),
    }
    tags = {a.id: a.tag for a in demo.session.scalars(select(Asset))}
    assert sorted(tags[a.asset_id] for a in accidents.values()) == ["BL-4101", "C-1201", "P-1101A"]
    for accident in accidents.values():
        asset = demo.session.get(Asset, accident.asset_id)
        assert asset is not None
        assert accident.workshop_id == asset.workshop_id


def _actions(demo: Loaded, accident: Accident) -> list[AccidentAction]:
    stmt = select(AccidentAction).where(col(AccidentAction.accident_id) == accident.id)
    return list(demo.session.scalars(stmt.order_by(col(AccidentAction.id))))


def test_last_year_s_accident_has_one_action_done_and_one_open(demo: Loaded) -> None:
    fire = demo.accidents()["合成液泵A机封泄漏着火"]
    last_year = demo.today.year - 1

    assert [(a.due_date, a.done_on, a.order_id) for a in _actions(demo, fire)] == [
        (date(last_year, 4, 3), date(last_year, 3, 26), None),
        (date(last_year, 5, 13), None, None),
    ]


def test_this_year_s_accident_raised_a_corrective_order_worked_to_completion(demo: Loaded) -> None:
    fan = demo.accidents()["1#锅炉引风机轴承烧毁"]
    today = demo.today

    [action] = _actions(demo, fan)
    order = demo.session.get(WorkOrder, action.order_id)

    assert action.done_on == min(fan.occurred_on + timedelta(days=5), today)
    assert order is not None
    assert (order.order_type, order.asset_id, order.state) == (OrderType.CM, fan.asset_id, OrderState.COMPLETED)
    assert (order.failure_mode, order.failure_mechanism, order.failure_cause) == (
        FailureMode.OHE,
        FailureMechanism.OVERHEATING,
        FailureCause.MANAGEMENT,
    )
    assert order.number.startswith(f"WO-{today.year}-")
    assert order.requested_at.astimezone(plant_timezone()).date() == min(fan.occurred_on + timedelta(days=1), today)
    assert order.actual_finish_at is not None
    assert order.actual_finish_at.astimezone(plant_timezone()).date() == action.done_on


def test_the_scorecard_s_rate_on_the_seed_day(demo: Loaded) -> None:
    scope = ScorecardScope(year=demo.today.year, as_of=demo.today)

    figure = accident_rate(demo.session, scope, DEFAULT_TARGETS)

    if demo.moment in RATES:
        assert (figure.value, figure.met) == RATES[demo.moment]
    elif demo.today >= date(demo.today.year, 3, 14):  # the clock's day: last year's accident in the span
        assert (figure.value, figure.met) == (Decimal("0.0000"), None)
    else:
        assert (figure.value, figure.met) == (None, False)


def test_loading_twice_adds_nothing(demo: Loaded) -> None:
    before = len(demo.accidents())

    accidents_demo.load(demo.session, SEED_DIR, SEED_ACTOR, utcnow())

    assert len(demo.accidents()) == before
