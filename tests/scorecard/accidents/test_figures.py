"""The scorecard's accident-rate figure on small hand-counted registers: which accidents count
(incidents apart, the spans' first and last days in, the day after out), the change, the target,
the verdict when the change is no number, a workshop's own figure and the link to the list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.scorecard.accidents.figures import accident_rate, accident_rate_by_workshop
from maintenance.scorecard.accidents.models import AccidentClass
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.indicators import DEFAULT_TARGETS, Indicator
from maintenance.scorecard.models import ScorecardTarget
from maintenance.scorecard.targets import targets_of_year
from tests import factories
from tests.scorecard.accidents.conftest import Record

INCIDENT = AccidentClass.INCIDENT


def test_this_year_to_date_against_the_same_span_last_year(
    session: Session, pump: Asset, other_pump: Asset, record: Record, english: None
) -> None:
    record(pump, "2026-01-01", AccidentClass.SERIOUS)  # first day of the year: counted
    record(pump, "2026-06-30")  # the day asked: counted
    record(pump, "2026-07-01")  # after the day asked: not yet
    record(pump, "2026-03-01", INCIDENT)  # incidents are listed apart
    record(other_pump, "2025-01-01", AccidentClass.MAJOR)
    record(other_pump, "2025-04-10")
    record(pump, "2025-06-30")  # last year's same day: counted
    record(pump, "2025-07-01")  # after it: not in the span
    record(pump, "2024-12-31")  # the year before last: not counted
    scope = ScorecardScope(year=2026, as_of=date(2026, 6, 30))

    figure = accident_rate(session, scope, targets_of_year(session, 2026))

    # this year 2, last year 3: (2 − 3) ÷ 3 = −0.3333
    assert figure.indicator == Indicator.ACCIDENT_RATE
    assert figure.value == Decimal("-0.3333")
    assert figure.target == Decimal("-0.10")
    assert figure.met is None  # the scorecard judges a number itself
    assert figure.link == "/scorecard/accidents?year=2026"
    assert figure.detail == "This year 2, same span last year 3"


def test_the_detail_names_both_counts(session: Session, pump: Asset, record: Record, english: None) -> None:
    record(pump, "2026-02-01")
    record(pump, "2025-02-01")
    record(pump, "2025-02-02")

    figure = accident_rate(session, ScorecardScope(year=2026, as_of=date(2026, 3, 1)), DEFAULT_TARGETS)

    assert figure.detail == "This year 1, same span last year 2"
    assert figure.value == Decimal("-0.5000")


def test_a_leap_day_counts_against_28_february_of_last_year(session: Session, pump: Asset, record: Record) -> None:
    record(pump, "2028-02-29")
    record(pump, "2027-02-28")  # last year's same day (it had no 29th)
    record(pump, "2027-02-27")
    record(pump, "2027-03-01")  # outside the span

    figure = accident_rate(session, ScorecardScope(year=2028, as_of=date(2028, 2, 29)), DEFAULT_TARGETS)

    assert figure.value == Decimal("-0.5000")  # (1 − 2) ÷ 2


def test_none_last_year_and_none_this_year_meets_the_target_without_a_number(
    session: Session, pump: Asset, record: Record
) -> None:
    record(pump, "2026-02-01", INCIDENT)  # an incident is no accident
    record(pump, "2025-12-31")  # after last year's same day

    figure = accident_rate(session, ScorecardScope(year=2026, as_of=date(2026, 6, 30)), DEFAULT_TARGETS)

    assert figure.value is None
    assert figure.met is True


def test_none_last_year_and_one_this_year_misses_the_target_without_a_number(
    session: Session, pump: Asset, record: Record
) -> None:
    record(pump, "2026-05-01")
    record(pump, "2025-05-01", INCIDENT)

    figure = accident_rate(session, ScorecardScope(year=2026, as_of=date(2026, 6, 30)), DEFAULT_TARGETS)

    assert figure.value is None
    assert figure.met is False


def test_a_workshop_s_figure_counts_its_own_accidents(
    session: Session, pump: Asset, other_pump: Asset, record: Record
) -> None:
    record(pump, "2026-02-01")
    record(pump, "2025-02-01")
    record(other_pump, "2026-03-01")
    record(other_pump, "2026-03-02")
    record(other_pump, "2025-03-01")
    scope = ScorecardScope(year=2026, as_of=date(2026, 6, 30), workshop_id=other_pump.workshop_id)

    figure = accident_rate(session, scope, DEFAULT_TARGETS)

    assert figure.value == Decimal("1.0000")  # (2 − 1) ÷ 1
    assert figure.link == f"/scorecard/accidents?year=2026&workshop_id={other_pump.workshop_id}"


def test_the_target_is_the_one_set_for_the_year(session: Session, pump: Asset, record: Record) -> None:
    session.add(ScorecardTarget(year=2026, indicator=Indicator.ACCIDENT_RATE, value=Decimal("-0.2000")))
    session.flush()

    figure = accident_rate(session, ScorecardScope(year=2026, as_of=date(2026, 6, 30)), targets_of_year(session, 2026))

    assert figure.target == Decimal("-0.2000")


def test_each_workshops_figure_at_once(session: Session, pump: Asset, other_pump: Asset, record: Record) -> None:
    empty = factories.WorkshopFactory(code="ZZZ")
    record(pump, "2026-02-01")
    record(pump, "2026-07-01")  # after the day asked
    record(pump, "2025-02-01")
    record(pump, "2025-03-01")
    record(other_pump, "2026-03-01")
    record(other_pump, "2026-03-02")
    record(other_pump, "2026-04-01", INCIDENT)  # listed apart
    record(other_pump, "2025-03-01")
    ids: list[int] = [pump.workshop_id, other_pump.workshop_id, empty.id]  # type: ignore[list-item]

    figures = accident_rate_by_workshop(session, ScorecardScope(2026, date(2026, 6, 30)), ids, DEFAULT_TARGETS)

    # (1 − 2) ÷ 2 = −0.5; (2 − 1) ÷ 1 = 1.0; none either year: no number, but the target is met
    assert [(figures[w].value, figures[w].met) for w in ids] == [
        (Decimal("-0.5000"), None),
        (Decimal("1.0000"), None),
        (None, True),
    ]
    assert figures[ids[1]].link == f"/scorecard/accidents?year=2026&workshop_id={ids[1]}"
