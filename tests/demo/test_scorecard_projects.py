"""The demo plant's key projects, loaded as of the clock's day and of days where the year turns
or its story changes, tell the same story: the year's four projects, three to six milestones
each, nothing done after the seed day, every date in the year, and one project slipping: 1#主变扩容,
whose last milestones were re-planned after its due date of 31 July.

Loaded on the org part only (the workshops): without the orders' overhaul the tie-ins follow the
overhaul's dates in seed/orders/turnarounds.csv (5 September to 10 October)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from maintenance.config import get_settings
from maintenance.db import plant_timezone, utcnow
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.demo.scorecard import projects as projects_demo
from maintenance.scorecard.projects import service
from maintenance.scorecard.projects.models import Milestone, Project
from maintenance.scorecard.projects.rules import ProjectState

SEED_DIR = get_settings().seed_dir
MOMENTS = {
    "clock": None,
    "new year": datetime(2026, 12, 31, 16, 10, tzinfo=UTC),  # 1 January 2027, 00:10 plant time
    "leap day": datetime(2028, 2, 29, 1, 0, tzinfo=UTC),
    "mid-year": datetime(2026, 6, 30, 4, 0, tzinfo=UTC),
    "year end": datetime(2026, 12, 31, 15, 30, tzinfo=UTC),  # 31 December 2026, 23:30 plant time
}


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[Session]:
    """The demo's org part, loaded once for the module."""
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


@pytest.fixture
def session(org: Session) -> Iterator[Session]:
    """The org session, each test's projects rolled back after it."""
    nested = org.begin_nested()
    yield org
    nested.rollback()
    org.expunge_all()


def _load(session: Session, moment: datetime | None) -> date:
    now = moment or utcnow()
    projects_demo.load(session, SEED_DIR, SEED_ACTOR, now)
    return now.astimezone(plant_timezone()).date()


@pytest.mark.parametrize("moment", MOMENTS.values(), ids=MOMENTS.keys())
def test_the_four_projects_of_the_year_with_one_slipping(session: Session, moment: datetime | None) -> None:
    today = _load(session, moment)

    rows = service.project_rows(session, today.year, today)
    milestones = session.scalars(select(Milestone)).all()

    assert [row.project.code for row in rows] == ["KP-1", "KP-2", "KP-3", "KP-4"]  # by due date
    assert {row.project.name for row in rows} == {"余热发电并网", "1#主变扩容", "二期改造碰头", "无泄漏创建"}
    assert all(3 <= len(row.milestones) <= 6 for row in rows)
    assert [row.project.name for row in rows if row.standing.state == ProjectState.SLIPPING] == ["1#主变扩容"]
    assert all(m.done_on is None or m.done_on <= today for m in milestones)
    for row in rows:
        dates = [row.project.start_date, row.project.due_date]
        dates += [d for m in row.milestones for d in (m.start_date, m.due_date, m.done_on) if d is not None]
        assert all(d.year == today.year for d in dates), row.project.code
    assert projects_demo.is_loaded(session, SEED_DIR)


def test_at_mid_year(session: Session) -> None:
    """30 June 2026: 余热发电并网 done by 29 May; 1#主变扩容 12 days behind (to 12 August against
    31 July), 3 of 5 milestones done (到货 on 8 June); the tie-ins on track before the
    overhaul; 无泄漏创建's half-year milestone done on 27 June."""
    today = _load(session, MOMENTS["mid-year"])
    assert today == date(2026, 6, 30)

    rows = {row.project.code: row for row in service.project_rows(session, 2026, today)}

    assert rows["KP-1"].standing.state == ProjectState.DONE
    assert rows["KP-1"].standing.forecast_end == date(2026, 5, 29)
    transformer = rows["KP-2"].standing
    assert (transformer.state, transformer.slippage_days) == (ProjectState.SLIPPING, 12)
    assert (transformer.done, transformer.milestones) == (3, 5)
    assert rows["KP-2"].project.aim_date == date(2026, 6, 30)
    assert rows["KP-3"].standing.state == ProjectState.ON_TRACK
    assert rows["KP-3"].project.due_date == date(2026, 10, 20)  # the overhaul's end + 10 days
    assert (rows["KP-4"].standing.state, rows["KP-4"].standing.done) == (ProjectState.ON_TRACK, 3)
    assert rows["KP-4"].project.workshop_id is None  # plant-wide


def test_loading_twice_adds_nothing(session: Session) -> None:
    _load(session, MOMENTS["mid-year"])
    again = MOMENTS["mid-year"]
    assert again is not None
    projects_demo.load(session, SEED_DIR, SEED_ACTOR, again)

    assert len(session.scalars(select(col(Project.id))).all()) == 4
