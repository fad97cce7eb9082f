"""A workshop's leak-free standing on a date, from the tables: the latest survey's rates, open
leaks and their age, the certification board, and the programme's progress against 50% / 100%."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.leakfree import service
from maintenance.leakfree.choices import BoardStanding, LeakSeverity, SealKind, SealType
from maintenance.leakfree.models import Leak
from maintenance.org.models import Workshop
from tests import factories
from tests.leakfree.conftest import Certify, MakeSealPoint, MakeSurvey


def status_of(session: Session, workshop: Workshop, as_of: date) -> service.WorkshopLeakStatus:
    (found,) = service.workshop_statuses(session, as_of, [workshop.id])
    return found


def test_the_inventory_counts_active_lines_by_kind(
    session: Session, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    make_seal_point(seal_type=SealType.FLANGE, count=1_500)
    make_seal_point(seal_type=SealType.VALVE_PACKING, count=490)
    make_seal_point(seal_type=SealType.PUMP_SEAL, count=12)
    make_seal_point(seal_type=SealType.PLUG, count=7, is_active=False)

    status = status_of(session, workshop, date(2026, 6, 1))

    assert (status.static_points, status.dynamic_points, status.total_points) == (1_990, 12, 2_002)


def test_the_rates_are_the_latest_survey_s_on_the_day(
    session: Session, workshop: Workshop, make_survey: MakeSurvey
) -> None:
    make_survey(date(2026, 4, 1), static_points=2_000, dynamic_points=500, static_leaks=3)
    make_survey(date(2026, 5, 1), static_points=1_990, dynamic_points=500, static_leaks=1, dynamic_leaks=1)

    in_april = status_of(session, workshop, date(2026, 4, 30))
    in_may = status_of(session, workshop, date(2026, 5, 1))

    assert in_april.latest_rates is not None
    assert in_april.latest_rates.static_per_mille == Decimal("1.50")
    assert in_may.latest_rates is not None
    assert (in_may.latest_rates.static_per_mille, in_may.latest_rates.dynamic_per_mille) == (
        Decimal("0.50"),
        Decimal("2.00"),
    )
    # 1 in 1,990 shows 0.50‰ and is over 0.5‰.
    assert in_may.meets_thresholds is False


def test_no_survey_no_judgement(session: Session, workshop: Workshop) -> None:
    status = status_of(session, workshop, date(2026, 6, 1))
    assert status.latest_rates is None
    assert status.meets_thresholds is None
    assert status.standing == BoardStanding.NOT_STARTED


def test_open_leaks_are_those_not_repaired_on_the_day_with_the_oldest_s_age(
    session: Session, workshop: Workshop
) -> None:
    for found, repaired in [(date(2026, 3, 1), date(2026, 3, 20)), (date(2026, 3, 10), None), (date(2026, 4, 1), None)]:
        session.add(
            Leak(
                workshop_id=workshop.id,
                kind=SealKind.STATIC,
                severity=LeakSeverity.DRIP,
                found_date=found,
                repaired_date=repaired,
            )
        )
    session.flush()

    on_march_15 = status_of(session, workshop, date(2026, 3, 15))
    on_april_10 = status_of(session, workshop, date(2026, 4, 10))

    assert (on_march_15.open_leaks, on_march_15.oldest_open_leak_days) == (2, 14)
    assert (on_april_10.open_leaks, on_april_10.oldest_open_leak_date) == (2, date(2026, 3, 10))


def test_a_certificate_goes_at_risk_when_a_later_survey_exceeds_a_threshold(
    session: Session, workshop: Workshop, make_survey: MakeSurvey, certify: Certify
) -> None:
    make_survey(date(2026, 3, 1), static_points=2_000, dynamic_points=500)
    certify(date(2026, 3, 5), certified=date(2026, 3, 20))
    make_survey(date(2026, 5, 1), static_points=2_000, dynamic_points=500, dynamic_leaks=2)

    assert status_of(session, workshop, date(2026, 4, 30)).standing == BoardStanding.CERTIFIED
    assert status_of(session, workshop, date(2026, 5, 1)).standing == BoardStanding.AT_RISK


def test_an_application_is_in_assessment_until_decided(session: Session, workshop: Workshop, certify: Certify) -> None:
    certify(date(2026, 2, 1), rejected=date(2026, 3, 1))
    certify(date(2026, 4, 1), certified=date(2026, 5, 10))

    assert status_of(session, workshop, date(2026, 1, 31)).standing == BoardStanding.NOT_STARTED
    assert status_of(session, workshop, date(2026, 2, 15)).standing == BoardStanding.IN_ASSESSMENT
    assert status_of(session, workshop, date(2026, 3, 15)).standing == BoardStanding.NOT_STARTED
    assert status_of(session, workshop, date(2026, 4, 15)).standing == BoardStanding.IN_ASSESSMENT
    assert status_of(session, workshop, date(2026, 5, 10)).standing == BoardStanding.CERTIFIED
    assert status_of(session, workshop, date(2027, 5, 10)).standing == BoardStanding.NOT_STARTED


def test_a_revoked_certificate_stops_counting_on_its_revocation_day(
    session: Session, workshop: Workshop, certify: Certify
) -> None:
    certify(date(2026, 2, 1), certified=date(2026, 3, 1), revoked=date(2026, 8, 1))

    assert status_of(session, workshop, date(2026, 7, 31)).standing == BoardStanding.CERTIFIED
    assert status_of(session, workshop, date(2026, 8, 1)).standing == BoardStanding.NOT_STARTED


def test_progress_against_half_by_june_and_all_by_december(session: Session, certify: Certify) -> None:
    workshops = [factories.WorkshopFactory() for _ in range(4)]
    certify(date(2026, 2, 1), certified=date(2026, 3, 1), workshop_id=workshops[0].id)
    certify(date(2026, 5, 1), certified=date(2026, 6, 30), workshop_id=workshops[1].id)
    certify(date(2026, 9, 1), workshop_id=workshops[2].id)
    ids = [w.id for w in workshops]

    def progress(day: date) -> service.Progress:
        return service.progress_of(service.workshop_statuses(session, day, ids), day)

    june_29, june_30, october = progress(date(2026, 6, 29)), progress(date(2026, 6, 30)), progress(date(2026, 10, 1))

    assert (june_29.certified, june_29.required, june_29.on_track) == (1, 2, False)
    assert (june_30.certified, june_30.required, june_30.on_track, june_30.percent) == (2, 2, True, Decimal("50.00"))
    assert (october.certified, october.in_assessment, october.not_started) == (2, 1, 1)
    assert (october.required, october.on_track, october.target_date) == (4, False, date(2026, 12, 31))


def test_certified_by_month_counts_certificates_in_force_at_each_month_end(
    session: Session, workshop: Workshop, certify: Certify
) -> None:
    certify(date(2026, 2, 1), certified=date(2026, 3, 31), revoked=date(2026, 5, 15))

    series = service.certified_by_month(session, 2026, date(2026, 6, 10))

    assert series == [
        (date(2026, 1, 31), 0),
        (date(2026, 2, 28), 0),
        (date(2026, 3, 31), 1),
        (date(2026, 4, 30), 1),
        (date(2026, 5, 31), 0),
        (date(2026, 6, 10), 0),
    ]


def test_workshop_statuses_run_a_fixed_number_of_queries(
    session: Session, make_survey: MakeSurvey, certify: Certify, count_queries: list[str]
) -> None:
    def queries() -> int:
        count_queries.clear()
        service.workshop_statuses(session, date(2026, 6, 1))
        return len(count_queries)

    make_survey(date(2026, 5, 1), static_points=100, dynamic_points=10, static_leaks=1)
    few = queries()
    for _ in range(5):
        other = factories.WorkshopFactory()
        make_survey(date(2026, 5, 1), static_points=100, dynamic_points=10, static_leaks=2, workshop_id=other.id)
        certify(date(2026, 3, 1), certified=date(2026, 4, 1), workshop_id=other.id)
    assert queries() == few
