"""The accident rate's rules on hand-computed cases: the spans compared (29 February against
28 February), the change as a fraction, and the verdict against the target when the change is no
number."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from maintenance.scorecard.accidents.rules import AccidentRate, last_year_span, same_day_last_year, this_year_span

TARGET = Decimal("-0.10")


@pytest.mark.parametrize(
    ("day", "last_year"),
    [
        (date(2026, 6, 30), date(2025, 6, 30)),
        (date(2028, 2, 29), date(2027, 2, 28)),  # leap day: last year had none
        (date(2029, 2, 28), date(2028, 2, 28)),  # the day before last year's leap day
        (date(2029, 3, 1), date(2028, 3, 1)),  # so last year's 29 Feb is inside the span
        (date(2027, 1, 1), date(2026, 1, 1)),
    ],
)
def test_the_same_day_last_year(day: date, last_year: date) -> None:
    assert same_day_last_year(day) == last_year


def test_the_spans_run_from_1_january_through_the_day() -> None:
    assert this_year_span(date(2028, 2, 29)) == (date(2028, 1, 1), date(2028, 2, 29))
    assert last_year_span(date(2028, 2, 29)) == (date(2027, 1, 1), date(2027, 2, 28))


@pytest.mark.parametrize(
    ("this", "last", "change", "met"),
    [
        (1, 2, Decimal("-0.5000"), True),  # (1 − 2) ÷ 2
        (9, 10, Decimal("-0.1000"), True),  # exactly the target
        (10, 11, Decimal("-0.0909"), False),  # (10 − 11) ÷ 11 = −0.0909…: not enough fewer
        (3, 3, Decimal("0.0000"), False),
        (4, 3, Decimal("0.3333"), False),  # (4 − 3) ÷ 3
        (0, 2, Decimal("-1.0000"), True),
    ],
)
def test_the_change_against_last_year_and_its_verdict(this: int, last: int, change: Decimal, met: bool) -> None:
    rate = AccidentRate(this_year=this, last_year=last)

    assert rate.change == change
    assert rate.meets(TARGET) is met


def test_none_last_year_and_none_this_year_is_no_number_but_meets_the_target() -> None:
    rate = AccidentRate(this_year=0, last_year=0)

    assert rate.change is None
    assert rate.meets(TARGET) is True


def test_none_last_year_and_some_this_year_is_no_number_and_misses_the_target() -> None:
    rate = AccidentRate(this_year=1, last_year=0)

    assert rate.change is None
    assert rate.meets(TARGET) is False


def test_without_a_target_a_change_is_not_judged() -> None:
    assert AccidentRate(this_year=2, last_year=4).meets(None) is None
