"""The leak-free numbers (design.md §6): exact rates against 0.5‰ and 2‰, the ‰ shown, the
certificate's year, the board's standing and the programme's 50% / 100% milestones."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from maintenance.leakfree import rules
from maintenance.leakfree.choices import BoardStanding, CertificationState, SealKind
from maintenance.leakfree.rules import CertificateSpan, SurveyRates


@pytest.mark.parametrize(
    ("leaking", "points", "kind", "meets"),
    [
        (1, 2_000, SealKind.STATIC, True),  # exactly 0.5‰
        (1, 1_999, SealKind.STATIC, False),
        (1, 1_990, SealKind.STATIC, False),  # shows 0.50‰, but is over
        (0, 10, SealKind.STATIC, True),
        (2, 1_000, SealKind.DYNAMIC, True),  # exactly 2‰
        (1, 500, SealKind.DYNAMIC, True),
        (1, 499, SealKind.DYNAMIC, False),
        (3, 1_000, SealKind.DYNAMIC, False),
    ],
)
def test_the_threshold_compares_the_exact_ratio(leaking: int, points: int, kind: SealKind, meets: bool) -> None:
    assert rules.meets_limit(rules.leak_rate(leaking, points), kind) is meets


@pytest.mark.parametrize(
    ("leaking", "points", "shown"),
    [(1, 1_990, "0.50"), (1, 2_000, "0.50"), (1, 3, "333.33"), (2, 3, "666.67"), (0, 5, "0.00"), (1, 8_000, "0.13")],
)
def test_the_rate_is_shown_in_per_mille_to_two_decimals_half_up(leaking: int, points: int, shown: str) -> None:
    assert rules.per_mille(rules.leak_rate(leaking, points)) == Decimal(shown)


def test_a_kind_without_points_has_no_rate_and_nothing_over_its_limit() -> None:
    assert rules.leak_rate(0, 0) is None
    assert rules.per_mille(None) is None
    assert rules.meets_limit(None, SealKind.DYNAMIC)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        rules.leak_rate(-1, 10)


def test_a_survey_meets_the_thresholds_only_when_both_kinds_do() -> None:
    assert SurveyRates(2_000, 1_000, 1, 2).meets()
    assert not SurveyRates(2_000, 1_000, 2, 0).meets()
    assert not SurveyRates(2_000, 1_000, 0, 3).meets()


def test_intactness_counts_only_when_it_is_known() -> None:
    rates = SurveyRates(2_000, 1_000, 0, 0)
    assert rates.meets(None)
    assert rates.meets(Fraction(90, 100))
    assert not rates.meets(Fraction(899, 1000))


@pytest.mark.parametrize(
    ("certified", "last_day"),
    [
        (date(2026, 3, 15), date(2027, 3, 14)),
        (date(2024, 2, 29), date(2025, 2, 27)),
        (date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_a_certificate_is_valid_one_year(certified: date, last_day: date) -> None:
    assert rules.valid_until(certified) == last_day


def test_a_certificate_is_in_force_from_its_day_through_its_last_until_revoked() -> None:
    span = CertificateSpan(date(2026, 3, 15), date(2027, 3, 14), revoked_date=date(2026, 9, 1))
    assert not span.in_force_on(date(2026, 3, 14))
    assert span.in_force_on(date(2026, 3, 15))
    assert span.in_force_on(date(2026, 8, 31))
    assert not span.in_force_on(date(2026, 9, 1))
    assert CertificateSpan(date(2026, 3, 15), date(2027, 3, 14)).in_force_on(date(2027, 3, 14))
    assert not CertificateSpan(date(2026, 3, 15), date(2027, 3, 14)).in_force_on(date(2027, 3, 15))


CERT = CertificateSpan(date(2026, 3, 15), date(2027, 3, 14))
OVER = SurveyRates(2_000, 1_000, 2, 0)
WITHIN = SurveyRates(2_000, 1_000, 1, 2)


@pytest.mark.parametrize(
    ("spans", "open_application", "survey", "standing"),
    [
        ([CERT], False, None, BoardStanding.CERTIFIED),
        ([CERT], False, (date(2026, 5, 1), WITHIN), BoardStanding.CERTIFIED),
        ([CERT], False, (date(2026, 5, 1), OVER), BoardStanding.AT_RISK),
        # The survey the certificate was granted on is not "a later survey".
        ([CERT], False, (date(2026, 3, 15), OVER), BoardStanding.CERTIFIED),
        ([], True, (date(2026, 5, 1), WITHIN), BoardStanding.IN_ASSESSMENT),
        ([], False, None, BoardStanding.NOT_STARTED),
        ([CertificateSpan(date(2025, 1, 1), date(2025, 12, 31))], False, None, BoardStanding.NOT_STARTED),
    ],
)
def test_board_standing_on_a_day(
    spans: list[CertificateSpan],
    open_application: bool,
    survey: tuple[date, SurveyRates] | None,
    standing: BoardStanding,
) -> None:
    assert rules.board_standing(spans, open_application, survey, date(2026, 6, 1)) == standing


@pytest.mark.parametrize(
    ("current", "allowed"),
    [
        (CertificationState.APPLIED, {CertificationState.SELF_ASSESSED}),
        (CertificationState.SELF_ASSESSED, {CertificationState.IN_ASSESSMENT}),
        (CertificationState.IN_ASSESSMENT, {CertificationState.CERTIFIED, CertificationState.REJECTED}),
        (CertificationState.CERTIFIED, {CertificationState.REVOKED}),
        (CertificationState.REJECTED, set()),
        (CertificationState.REVOKED, set()),
    ],
)
def test_certification_moves_one_way(current: CertificationState, allowed: set[CertificationState]) -> None:
    assert set(rules.next_states(current)) == allowed
    for state in CertificationState:
        assert rules.can_move(current, state) is (state in allowed)


@pytest.mark.parametrize(
    ("day", "share"),
    [
        (date(2026, 1, 1), Fraction(1, 2)),
        (date(2026, 6, 30), Fraction(1, 2)),
        (date(2026, 7, 1), Fraction(1)),
        (date(2026, 12, 31), Fraction(1)),
    ],
)
def test_the_target_is_half_by_june_and_all_by_december(day: date, share: Fraction) -> None:
    assert rules.target_share(day) == share


@pytest.mark.parametrize(
    ("workshops", "share", "needed"),
    [(6, Fraction(1, 2), 3), (5, Fraction(1, 2), 3), (6, Fraction(1), 6), (0, Fraction(1, 2), 0)],
)
def test_required_workshops_round_up(workshops: int, share: Fraction, needed: int) -> None:
    assert rules.required_count(workshops, share) == needed
