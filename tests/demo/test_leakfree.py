"""The demo plant's leak-free programme, loaded as of two days (the clock's and a leap day), tells
the same story: six workshops with inventories in the thousands, three certified (one of them at
risk), one rejected then certified, one in assessment, one not started; open leaks, one with a
work order; a year of monthly surveys; the management rules with their files. Loaded on the org
and registry parts only."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from maintenance import files
from maintenance.config import get_settings
from maintenance.db import plant_timezone, utcnow
from maintenance.demo import leakfree as leakfree_demo
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.leakfree import rule_documents, service
from maintenance.leakfree.choices import BoardStanding, CertificationState, LeakStatus
from maintenance.leakfree.models import Certification, Leak, LeakSurvey
from maintenance.orders.models import WorkOrder

SEED_DIR = get_settings().seed_dir
LEAP_DAY = datetime(2028, 2, 29, 1, 0, tzinfo=UTC)  # 09:00 plant time
NEW_YEAR = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)  # the year's first half is still to come


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
    statuses: dict[str, service.WorkshopLeakStatus]


@pytest.fixture(scope="module", params=["clock", "leap day", "new year"])
def demo(request: pytest.FixtureRequest, registry: Session) -> Iterator[Loaded]:
    now = {"clock": utcnow(), "leap day": LEAP_DAY, "new year": NEW_YEAR}[request.param]
    today = now.astimezone(plant_timezone()).date()
    savepoint = registry.begin_nested()
    assert not leakfree_demo.is_loaded(registry, SEED_DIR)
    leakfree_demo.load(registry, SEED_DIR, SEED_ACTOR, now)
    assert leakfree_demo.is_loaded(registry, SEED_DIR)
    statuses = {status.workshop.code: status for status in service.workshop_statuses(registry, today)}
    yield Loaded(registry, today, statuses)
    savepoint.rollback()


def test_six_workshops_have_inventories_in_the_thousands(demo: Loaded) -> None:
    assert sorted(demo.statuses) == ["DIS", "PKG", "PWR", "SYN", "TNK", "UTL"]
    for status in demo.statuses.values():
        assert 1_500 <= status.static_points <= 6_000
        assert 20 <= status.dynamic_points <= 150
    assert sum(status.total_points for status in demo.statuses.values()) > 15_000


def test_the_board_shows_each_standing(demo: Loaded) -> None:
    standings = {code: status.standing for code, status in demo.statuses.items()}

    assert standings == {
        "SYN": BoardStanding.CERTIFIED,
        "DIS": BoardStanding.CERTIFIED,
        "UTL": BoardStanding.CERTIFIED,
        "PWR": BoardStanding.AT_RISK,
        "TNK": BoardStanding.IN_ASSESSMENT,
        "PKG": BoardStanding.NOT_STARTED,
    }
    progress = service.progress(demo.session, demo.today)
    assert (progress.certified, progress.at_risk, progress.in_assessment, progress.not_started) == (4, 1, 1, 1)


def test_the_at_risk_workshop_exceeds_the_dynamic_limit_after_its_certificate(demo: Loaded) -> None:
    pwr = demo.statuses["PWR"]
    assert pwr.latest_rates is not None
    assert pwr.latest_survey is not None
    assert pwr.latest_rates.dynamic_leaks == 1  # one in a few dozen dynamic points: far over 2‰
    assert not pwr.latest_rates.meets()
    assert pwr.certified_date is not None
    assert pwr.latest_survey.survey_date > pwr.certified_date
    for code in ("SYN", "DIS", "UTL"):
        assert demo.statuses[code].meets_thresholds is True


def test_every_certificate_is_in_force_on_the_seed_date_and_from_the_last_year(demo: Loaded) -> None:
    certified = demo.session.scalars(
        select(Certification).where(col(Certification.state) == CertificationState.CERTIFIED)
    ).all()
    assert len(certified) == 4
    for cert in certified:
        assert cert.certified_date is not None
        assert cert.valid_until is not None
        assert demo.today - timedelta(days=365) < cert.certified_date < demo.today < cert.valid_until


def test_one_workshop_was_rejected_then_certified(demo: Loaded) -> None:
    utl = demo.statuses["UTL"].workshop
    history = demo.session.scalars(
        select(Certification).where(col(Certification.workshop_id) == utl.id).order_by(col(Certification.applied_date))
    ).all()

    assert [cert.state for cert in history] == [CertificationState.REJECTED, CertificationState.CERTIFIED]
    assert history[0].assessed_date is not None
    assert history[1].applied_date > history[0].assessed_date
    every = demo.session.scalars(select(Certification)).all()
    rejected = [cert for cert in every if cert.state == CertificationState.REJECTED]
    assert [cert.workshop_id for cert in rejected] == [utl.id]


def test_a_year_of_monthly_surveys_ends_within_the_last_month(demo: Loaded) -> None:
    for status in demo.statuses.values():
        days = demo.session.scalars(
            select(col(LeakSurvey.survey_date))
            .where(col(LeakSurvey.workshop_id) == status.workshop_id)
            .order_by(col(LeakSurvey.survey_date))
        ).all()
        assert len(days) == 12
        assert demo.today - timedelta(days=31) <= days[-1] < demo.today
        assert days[0] >= demo.today - timedelta(days=366)
        assert all(27 <= (later - earlier).days <= 31 for earlier, later in itertools.pairwise(days))


def test_leaks_are_mostly_rechecked_a_few_open_one_with_a_work_order(demo: Loaded) -> None:
    leaks = demo.session.scalars(select(Leak)).all()
    by_status = {status: [leak for leak in leaks if leak.status == status] for status in LeakStatus}

    assert len(by_status[LeakStatus.CLOSED]) > len(leaks) // 2
    assert 3 <= len(by_status[LeakStatus.OPEN]) <= 15
    assert by_status[LeakStatus.REPAIRED]
    assert sum(status.open_leaks for status in demo.statuses.values()) == len(by_status[LeakStatus.OPEN])
    for leak in by_status[LeakStatus.CLOSED]:
        assert leak.repaired_date is not None
        assert leak.rechecked_date is not None
        assert leak.found_date <= leak.repaired_date <= leak.rechecked_date <= demo.today
    with_order = [leak for leak in leaks if leak.order_id is not None]
    assert len(with_order) == 1
    order = demo.session.get(WorkOrder, with_order[0].order_id)
    assert order is not None
    assert order.asset_id == with_order[0].asset_id
    assert with_order[0].status == LeakStatus.OPEN
    assert {leak.severity for leak in leaks} >= {"seep", "drip", "leak"}


def test_the_rules_register_has_both_rules_with_their_files(demo: Loaded) -> None:
    entries = {entry.code: entry for entry in rule_documents.register(demo.session, demo.today)}

    assert set(entries) == {"SB-ZD-001", "SB-ZD-012"}
    leak_free = entries["SB-ZD-012"]
    assert leak_free.current is not None
    assert (leak_free.current.title, leak_free.current.version_label) == ("无泄漏创建管理办法", "2026版")
    equipment = entries["SB-ZD-001"]
    assert equipment.current is not None
    assert equipment.current.version_label == "A/2"
    assert [version.version_label for version in equipment.superseded] == ["A/1"]
    for entry in entries.values():
        assert entry.current is not None
        blob = files.blob_path(entry.current.file_sha256).read_bytes()
        assert blob.startswith(b"%PDF-1.4")
        assert blob.rstrip().endswith(b"%%EOF")
        assert entry.current.content_type == "application/pdf"


def test_loading_twice_adds_nothing(demo: Loaded) -> None:
    before = demo.session.scalar(select(func.count()).select_from(Leak))
    leakfree_demo.load(demo.session, SEED_DIR, SEED_ACTOR, utcnow())
    assert demo.session.scalar(select(func.count()).select_from(Leak)) == before
