"""The demo plant's special equipment, loaded as of two days (the clock's and a leap day), shows
the same register: one overdue item, one application overdue, one failed, one grade-4 vessel in
monitored use, several due within 30 days, coverage above the 80% target, one finding being
rectified. Loaded on the org and registry parts only (the register needs nothing else)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from maintenance.config import get_settings
from maintenance.db import plant_timezone, utcnow
from maintenance.demo import special as special_demo
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.special import rules, service
from maintenance.special.choices import FindingKind, FindingStatus, InspectionResult, Standing
from maintenance.special.models import Finding, InspectionApplication, Registration, SpecialInspection

SEED_DIR = get_settings().seed_dir
LEAP_DAY = datetime(2028, 2, 29, 1, 0, tzinfo=UTC)  # 09:00 plant time


@pytest.fixture(scope="module")
def registry(engine: Engine) -> Iterator[Session]:
    """The demo plant's org and registry, loaded once for the module, rolled back at the end."""
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
    items: list[service.RegisterItem]


@pytest.fixture(scope="module", params=["clock", "leap day"])
def demo(request: pytest.FixtureRequest, registry: Session) -> Iterator[Loaded]:
    """The special-equipment part loaded as of the test clock's now, or of a leap day, in a
    savepoint rolled back afterwards."""
    now = utcnow() if request.param == "clock" else LEAP_DAY
    today = now.astimezone(plant_timezone()).date()
    savepoint = registry.begin_nested()
    assert not special_demo.is_loaded(registry, SEED_DIR)
    special_demo.load(registry, SEED_DIR, SEED_ACTOR, now)
    yield Loaded(registry, today, service.register_items(registry, today))
    savepoint.rollback()


def _by_standing(demo: Loaded) -> dict[Standing, list[str]]:
    tags: dict[Standing, list[str]] = {}
    for item in demo.items:
        tags.setdefault(item.standing.standing, []).append(item.asset.tag)
    return tags


def test_the_register_has_one_of_each_problem_and_several_due_soon(demo: Loaded) -> None:
    tags = _by_standing(demo)
    assert tags[Standing.OVERDUE] == ["PSV-2202"]
    assert tags[Standing.APPLICATION_OVERDUE] == ["CR-6303"]
    assert tags[Standing.MUST_NOT_OPERATE] == ["CR-6301"]
    assert len(tags[Standing.DUE_SOON]) >= 3
    due_soon = [item for item in demo.items if item.standing.standing == Standing.DUE_SOON]
    for item in due_soon:
        next_due = item.standing.next_due
        assert next_due is not None
        assert next_due.due_date is not None
        assert demo.today <= next_due.due_date <= demo.today + timedelta(days=30)
        assert next_due.application is not None


def test_the_crane_failed_its_last_inspection(demo: Loaded) -> None:
    crane = next(item for item in demo.items if item.asset.tag == "CR-6301")
    last = crane.standing.types[0].last
    assert last is not None
    assert last.result == InspectionResult.FAIL
    assert last.inspected_date < demo.today


def test_one_vessel_is_in_monitored_use_at_grade_4(demo: Loaded) -> None:
    graded = [
        (item.asset.tag, t.standing)
        for item in demo.items
        for t in item.standing.types
        if t.last is not None and t.last.safety_grade == 4
    ]
    assert graded == [("V-1101", Standing.OK)]
    vessel = next(item for item in demo.items if item.asset.tag == "V-1101")
    periodic = next(t for t in vessel.standing.types if t.rule.inspection_type.code == "PV-PERIODIC")
    assert periodic.last is not None
    assert periodic.due_date == rules.add_months(periodic.last.inspected_date, 36)


def test_coverage_is_above_the_target(demo: Loaded) -> None:
    coverage = service.coverage_report(demo.items, demo.today).overall
    assert coverage.total == 112  # the 113 special items less the retired forklift
    assert coverage.covered == 110  # all but the overdue valve and the failed crane
    assert coverage.meets(rules.COVERAGE_TARGET)
    assert coverage.percent is not None
    assert 80 <= coverage.percent <= 100


def test_every_item_is_registered_with_its_certificate(demo: Loaded) -> None:
    assert not [item.asset.tag for item in demo.items if item.standing.registration_missing]
    assert all(item.registration is not None for item in demo.items)
    reactor = next(item for item in demo.items if item.asset.tag == "R-1101")
    assert reactor.registration is not None
    assert reactor.registration.certificate_number == reactor.asset.registration_number == "容3R苏E00072(05)"
    cancelled = demo.session.scalars(select(Registration).where(col(Registration.cancelled_date).is_not(None))).all()
    assert len(cancelled) == 1  # the retired 1# forklift


def test_the_history_covers_three_years(demo: Loaded) -> None:
    dates = demo.session.scalars(select(col(SpecialInspection.inspected_date))).all()
    assert all(day < demo.today for day in dates)
    within_three_years = [day for day in dates if day >= rules.add_months(demo.today, -36)]
    assert min(within_three_years) < rules.add_months(demo.today, -30)
    per_year = Counter((demo.today - day).days // 365 for day in within_three_years)
    assert all(per_year[year] >= 40 for year in range(3))


def test_one_regulator_finding_is_being_rectified_and_no_shutdown_order(demo: Loaded) -> None:
    findings = demo.session.scalars(select(Finding)).all()
    open_findings = [finding for finding in findings if finding.status != FindingStatus.CLOSED]
    assert len(open_findings) == 1
    assert open_findings[0].status == FindingStatus.RECTIFYING
    assert open_findings[0].deadline_date is not None
    assert open_findings[0].deadline_date > demo.today
    assert not [finding for finding in findings if finding.kind == FindingKind.SHUTDOWN]


def test_loading_twice_changes_nothing(demo: Loaded) -> None:
    def counts() -> tuple[int, ...]:
        return tuple(
            demo.session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Registration, SpecialInspection, InspectionApplication, Finding)
        )

    before = counts()
    assert special_demo.is_loaded(demo.session, SEED_DIR)
    special_demo.load(demo.session, SEED_DIR, SEED_ACTOR, utcnow())
    assert counts() == before
