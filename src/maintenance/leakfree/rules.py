"""The leak-free numbers, in one place (design.md §6, 《无泄漏创建管理办法》). Pure: callers load the
facts and pass the reference date in.

- **Leak rate** of a kind = leaking points ÷ seal points of that kind, an exact ratio. It is shown
  in ‰ with two decimals (half up), but the thresholds compare the ratio itself: 1 leak in 1,990
  static points shows 0.50‰ and does not meet 0.5‰; 1 in 2,000 is exactly 0.5‰ and does.
- **Thresholds**: static ≤ 0.5‰, dynamic ≤ 2‰, and equipment intactness ≥ 90% where that figure
  is available (it comes with the operating log; until then it is not part of the test).
- **Certification**: applied → self-assessed → in company assessment → certified (valid one year:
  through the day before the anniversary) or rejected; a certificate can be revoked. It is *at
  risk* while the workshop's latest survey after it exceeds a threshold.
- **Programme**: at least half of the workshops certified by 30 June, all by 31 December.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from maintenance.leakfree.choices import BoardStanding, CertificationState, SealKind

STATIC_LIMIT = Fraction(5, 10_000)  # 0.5‰
DYNAMIC_LIMIT = Fraction(2, 1_000)  # 2‰
INTACTNESS_MINIMUM = Fraction(90, 100)
SURVEY_RECENT_DAYS = 31  # the self-assessment asks for a survey within the last month
CERTIFICATE_YEARS = 1
H1_SHARE = Fraction(1, 2)
YEAR_SHARE = Fraction(1, 1)


def limit_for(kind: SealKind) -> Fraction:
    return STATIC_LIMIT if kind == SealKind.STATIC else DYNAMIC_LIMIT


def leak_rate(leaking: int, points: int) -> Fraction | None:
    """Leaking points ÷ points; ``None`` when there are no points of the kind (nothing to judge)."""
    if leaking < 0 or points < 0:
        raise ValueError("counts cannot be negative")
    if points == 0:
        return None
    return Fraction(leaking, points)


def per_mille(rate: Fraction | None) -> Decimal | None:
    """The rate in ‰, two decimals, half up (1 in 1,990 → 0.50)."""
    if rate is None:
        return None
    exact = Decimal(rate.numerator * 1000) / Decimal(rate.denominator)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def meets_limit(rate: Fraction | None, kind: SealKind) -> bool:
    """A kind with no points has nothing leaking: it meets its limit."""
    return rate is None or rate <= limit_for(kind)


@dataclass(frozen=True)
class SurveyRates:
    """A survey's leak counts against the points it was taken over."""

    static_points: int
    dynamic_points: int
    static_leaks: int
    dynamic_leaks: int

    @property
    def static_rate(self) -> Fraction | None:
        return leak_rate(self.static_leaks, self.static_points)

    @property
    def dynamic_rate(self) -> Fraction | None:
        return leak_rate(self.dynamic_leaks, self.dynamic_points)

    @property
    def static_per_mille(self) -> Decimal | None:
        return per_mille(self.static_rate)

    @property
    def dynamic_per_mille(self) -> Decimal | None:
        return per_mille(self.dynamic_rate)

    def meets(self, intactness: Fraction | None = None) -> bool:
        """Both rates within their limits, and intactness ≥ 90% when the figure is known."""
        rates_ok = meets_limit(self.static_rate, SealKind.STATIC) and meets_limit(self.dynamic_rate, SealKind.DYNAMIC)
        return rates_ok and (intactness is None or intactness >= INTACTNESS_MINIMUM)


# --- Certification ---------------------------------------------------------------------------

_NEXT_STATES: dict[CertificationState, frozenset[CertificationState]] = {
    CertificationState.APPLIED: frozenset({CertificationState.SELF_ASSESSED}),
    CertificationState.SELF_ASSESSED: frozenset({CertificationState.IN_ASSESSMENT}),
    CertificationState.IN_ASSESSMENT: frozenset({CertificationState.CERTIFIED, CertificationState.REJECTED}),
    CertificationState.CERTIFIED: frozenset({CertificationState.REVOKED}),
    CertificationState.REJECTED: frozenset(),
    CertificationState.REVOKED: frozenset(),
}


def can_move(current: CertificationState, to: CertificationState) -> bool:
    return to in _NEXT_STATES[current]


def next_states(current: CertificationState) -> frozenset[CertificationState]:
    return _NEXT_STATES[current]


def valid_until(certified: date) -> date:
    """The last day of a one-year certificate (certified 2026-03-15 → valid through 2027-03-14;
    certified on 29 February → through 27 February)."""
    anniversary: date = certified + relativedelta(years=CERTIFICATE_YEARS)
    return anniversary - timedelta(days=1)


RENEWAL_DAYS = 30  # a certificate may be renewed (applied for again) in its last 30 days


def renewal_opens(valid_until: date) -> date:
    """The first day a workshop may apply again while its certificate is in force: the last
    ``RENEWAL_DAYS`` days of validity (valid through 2027-03-14 → from 2027-02-13)."""
    return valid_until - timedelta(days=RENEWAL_DAYS - 1)


@dataclass(frozen=True)
class CertificateSpan:
    """When a certificate was in force: certified through valid_until, unless revoked earlier."""

    certified_date: date
    valid_until: date
    revoked_date: date | None = None

    def in_force_on(self, day: date) -> bool:
        if day < self.certified_date or day > self.valid_until:
            return False
        return self.revoked_date is None or day < self.revoked_date


def board_standing(
    spans: Iterable[CertificateSpan],
    open_application: bool,
    latest_survey: tuple[date, SurveyRates] | None,
    as_of: date,
) -> BoardStanding:
    """Where a workshop stands on the board on ``as_of``: certified (at risk when its latest survey
    after the certificate exceeds a threshold), in assessment (an application on its way), or not
    started."""
    in_force = [span for span in spans if span.in_force_on(as_of)]
    if in_force:
        since = max(span.certified_date for span in in_force)
        if latest_survey is not None and latest_survey[0] > since and not latest_survey[1].meets():
            return BoardStanding.AT_RISK
        return BoardStanding.CERTIFIED
    return BoardStanding.IN_ASSESSMENT if open_application else BoardStanding.NOT_STARTED


# --- The programme's targets -----------------------------------------------------------------


def target_share(as_of: date) -> Fraction:
    """The share of workshops that must be certified by ``as_of``'s milestone this year: half by
    30 June, all by 31 December (the year-end target applies from 1 July)."""
    return H1_SHARE if as_of <= date(as_of.year, 6, 30) else YEAR_SHARE


def milestones(year: int) -> list[tuple[date, Fraction]]:
    return [(date(year, 6, 30), H1_SHARE), (date(year, 12, 31), YEAR_SHARE)]


def required_count(workshops: int, share: Fraction) -> int:
    """Workshops needed for a share, rounded up: half of 5 workshops is 3."""
    return -((-share.numerator * workshops) // share.denominator)


def percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    exact = Decimal(part * 100) / Decimal(whole)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
