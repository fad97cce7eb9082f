"""The leak-free standing of every workshop on a reference date, and the programme's progress.

Every page, export and API answer about rates, thresholds and certification starts here and reads
the facts in a fixed number of queries whatever the number of workshops, seal points, surveys or
leaks: the inventory is summed by the database, a survey's leaks are counted by it, and only the
small tables (workshops, certifications) are loaded whole.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from maintenance.leakfree import rules
from maintenance.leakfree.choices import BoardStanding, CertificationState, SealKind, SealType
from maintenance.leakfree.models import Certification, Leak, LeakSurvey, SealPoint
from maintenance.leakfree.rules import CertificateSpan, SurveyRates
from maintenance.org.models import Workshop


@dataclass(frozen=True)
class WorkshopLeakStatus:
    """One workshop on ``as_of``: its inventory today, its latest survey's rates, its open leaks and
    where it stands on the certification board."""

    workshop: Workshop
    as_of: date
    static_points: int
    dynamic_points: int
    latest_survey: LeakSurvey | None
    latest_rates: SurveyRates | None
    open_leaks: int
    oldest_open_leak_date: date | None
    certification: Certification | None  # the latest application, whatever its state
    certificate: Certification | None  # the certificate in force on as_of (a renewal may be on its way)
    standing: BoardStanding

    @property
    def workshop_id(self) -> int:
        assert self.workshop.id is not None
        return self.workshop.id

    @property
    def total_points(self) -> int:
        return self.static_points + self.dynamic_points

    @property
    def meets_thresholds(self) -> bool | None:
        """``None`` until the workshop has a survey: no survey, no judgement."""
        return None if self.latest_rates is None else self.latest_rates.meets()

    @property
    def oldest_open_leak_days(self) -> int | None:
        return None if self.oldest_open_leak_date is None else (self.as_of - self.oldest_open_leak_date).days

    @property
    def certified_date(self) -> date | None:
        return None if self.certificate is None else self.certificate.certified_date

    @property
    def valid_until(self) -> date | None:
        return None if self.certificate is None else self.certificate.valid_until


def inventory_totals(session: Session, workshop_ids: Sequence[int] | None = None) -> dict[int, dict[SealKind, int]]:
    """Active seal points per workshop and kind (one grouped query)."""
    query = (
        select(col(SealPoint.workshop_id), col(SealPoint.seal_type), func.sum(SealPoint.count))
        .where(col(SealPoint.is_active))
        .group_by(col(SealPoint.workshop_id), col(SealPoint.seal_type))
    )
    if workshop_ids is not None:
        query = query.where(col(SealPoint.workshop_id).in_(workshop_ids))
    totals: dict[int, dict[SealKind, int]] = defaultdict(lambda: {SealKind.STATIC: 0, SealKind.DYNAMIC: 0})
    for workshop_id, seal_type, count in session.execute(query):
        totals[workshop_id][SealType(seal_type).kind] += int(count)
    return totals


def survey_leak_counts(session: Session, survey_ids: Sequence[int]) -> dict[int, dict[SealKind, int]]:
    """Leaks recorded on each survey, by kind (one grouped query)."""
    counts: dict[int, dict[SealKind, int]] = defaultdict(lambda: {SealKind.STATIC: 0, SealKind.DYNAMIC: 0})
    if not survey_ids:
        return counts
    query = (
        select(col(Leak.survey_id), col(Leak.kind), func.count())
        .where(col(Leak.survey_id).in_(survey_ids))
        .group_by(col(Leak.survey_id), col(Leak.kind))
    )
    for survey_id, kind, count in session.execute(query):
        counts[survey_id][SealKind(kind)] = int(count)
    return counts


def survey_rates(survey: LeakSurvey, counts: dict[SealKind, int]) -> SurveyRates:
    return SurveyRates(
        static_points=survey.static_points,
        dynamic_points=survey.dynamic_points,
        static_leaks=counts[SealKind.STATIC],
        dynamic_leaks=counts[SealKind.DYNAMIC],
    )


def rates_of_surveys(session: Session, surveys: Sequence[LeakSurvey]) -> list[tuple[LeakSurvey, SurveyRates]]:
    """Each survey with its rates, in two queries whatever their number (the trend by survey)."""
    counts = survey_leak_counts(session, [survey.id for survey in surveys if survey.id is not None])
    return [(survey, survey_rates(survey, counts[survey.id or 0])) for survey in surveys]


def _latest_surveys(session: Session, as_of: date) -> dict[int, LeakSurvey]:
    latest = (
        select(col(LeakSurvey.workshop_id), func.max(col(LeakSurvey.survey_date)).label("survey_date"))
        .where(col(LeakSurvey.survey_date) <= as_of)
        .group_by(col(LeakSurvey.workshop_id))
        .subquery()
    )
    query = select(LeakSurvey).join(
        latest,
        and_(col(LeakSurvey.workshop_id) == latest.c.workshop_id, col(LeakSurvey.survey_date) == latest.c.survey_date),
    )
    return {survey.workshop_id: survey for survey in session.scalars(query)}


def _open_leaks(session: Session, as_of: date) -> dict[int, tuple[int, date]]:
    """Leaks found by ``as_of`` and not yet repaired by then, per workshop: count and oldest."""
    still_open = (col(Leak.repaired_date).is_(None)) | (col(Leak.repaired_date) > as_of)
    query = (
        select(col(Leak.workshop_id), func.count(), func.min(col(Leak.found_date)))
        .where(col(Leak.found_date) <= as_of, still_open)
        .group_by(col(Leak.workshop_id))
    )
    return {workshop_id: (int(count), oldest) for workshop_id, count, oldest in session.execute(query)}


def certifications_by_workshop(session: Session, as_of: date) -> dict[int, list[Certification]]:
    """Every application made by ``as_of``, oldest first, per workshop (a few a year each)."""
    query = (
        select(Certification)
        .where(col(Certification.applied_date) <= as_of)
        .order_by(col(Certification.applied_date), col(Certification.id))
    )
    grouped: dict[int, list[Certification]] = defaultdict(list)
    for cert in session.scalars(query):
        grouped[cert.workshop_id].append(cert)
    return grouped


def _span_known_on(cert: Certification, as_of: date) -> CertificateSpan | None:
    """An application's certificate as known on ``as_of`` (a revocation after it is not known yet);
    ``None`` when it had none by then."""
    if cert.certified_date is None or cert.valid_until is None or cert.certified_date > as_of:
        return None
    revoked = cert.revoked_date if cert.revoked_date is not None and cert.revoked_date <= as_of else None
    return CertificateSpan(cert.certified_date, cert.valid_until, revoked)


def certificate_spans(certifications: Sequence[Certification], as_of: date) -> list[CertificateSpan]:
    """The certificates among the applications, as known on ``as_of``."""
    return [span for cert in certifications if (span := _span_known_on(cert, as_of)) is not None]


def certificate_in_force(certifications: Sequence[Certification], as_of: date) -> Certification | None:
    """The latest of the applications whose certificate is in force on ``as_of``."""
    for cert in reversed(certifications):
        span = _span_known_on(cert, as_of)
        if span is not None and span.in_force_on(as_of):
            return cert
    return None


def decided_date(cert: Certification) -> date | None:
    """The day the company decided an application: certified on, or rejected on."""
    if cert.certified_date is not None:
        return cert.certified_date
    return cert.assessed_date if cert.state == CertificationState.REJECTED else None


def undecided_on(cert: Certification, as_of: date) -> bool:
    """An application (made by ``as_of``) still on its way that day: not decided by then."""
    decided = decided_date(cert)
    return decided is None or decided > as_of


def _open_application(certifications: Sequence[Certification], as_of: date) -> bool:
    return any(undecided_on(cert, as_of) for cert in certifications)


def workshop_statuses(
    session: Session, as_of: date, workshop_ids: Sequence[int] | None = None
) -> list[WorkshopLeakStatus]:
    """Every workshop (or the given ones) on ``as_of``, by workshop code, in six queries."""
    workshop_query = select(Workshop).order_by(col(Workshop.code))
    if workshop_ids is not None:
        workshop_query = workshop_query.where(col(Workshop.id).in_(workshop_ids))
    workshops = list(session.scalars(workshop_query))
    totals = inventory_totals(session, workshop_ids)
    surveys = _latest_surveys(session, as_of)
    counts = survey_leak_counts(session, [survey.id for survey in surveys.values() if survey.id is not None])
    open_leaks = _open_leaks(session, as_of)
    certifications = certifications_by_workshop(session, as_of)
    statuses = []
    for workshop in workshops:
        assert workshop.id is not None
        survey = surveys.get(workshop.id)
        rates = survey_rates(survey, counts[survey.id or 0]) if survey is not None else None
        history = certifications.get(workshop.id, [])
        standing = rules.board_standing(
            certificate_spans(history, as_of),
            _open_application(history, as_of),
            (survey.survey_date, rates) if survey is not None and rates is not None else None,
            as_of,
        )
        open_count, oldest = open_leaks.get(workshop.id, (0, None))
        statuses.append(
            WorkshopLeakStatus(
                workshop=workshop,
                as_of=as_of,
                static_points=totals[workshop.id][SealKind.STATIC],
                dynamic_points=totals[workshop.id][SealKind.DYNAMIC],
                latest_survey=survey,
                latest_rates=rates,
                open_leaks=open_count,
                oldest_open_leak_date=oldest,
                certification=history[-1] if history else None,
                certificate=certificate_in_force(history, as_of),
                standing=standing,
            )
        )
    return statuses


# --- Progress against the programme ----------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Certified workshops on ``as_of`` against this year's milestones."""

    as_of: date
    workshops: int
    certified: int
    in_assessment: int
    not_started: int
    at_risk: int

    @property
    def share(self) -> Fraction | None:
        return None if self.workshops == 0 else Fraction(self.certified, self.workshops)

    @property
    def percent(self) -> Decimal | None:
        return rules.percent(self.certified, self.workshops)

    @property
    def target(self) -> Fraction:
        return rules.target_share(self.as_of)

    @property
    def target_date(self) -> date:
        return date(self.as_of.year, 6, 30) if self.target == rules.H1_SHARE else date(self.as_of.year, 12, 31)

    @property
    def required(self) -> int:
        return rules.required_count(self.workshops, self.target)

    @property
    def on_track(self) -> bool:
        return self.certified >= self.required


def progress_of(statuses: Sequence[WorkshopLeakStatus], as_of: date) -> Progress:
    by_standing: dict[BoardStanding, int] = defaultdict(int)
    for status in statuses:
        by_standing[status.standing] += 1
    return Progress(
        as_of=as_of,
        workshops=len(statuses),
        certified=by_standing[BoardStanding.CERTIFIED] + by_standing[BoardStanding.AT_RISK],
        in_assessment=by_standing[BoardStanding.IN_ASSESSMENT],
        not_started=by_standing[BoardStanding.NOT_STARTED],
        at_risk=by_standing[BoardStanding.AT_RISK],
    )


def progress(session: Session, as_of: date) -> Progress:
    return progress_of(workshop_statuses(session, as_of), as_of)


def certified_by_month(session: Session, year: int, through: date) -> list[tuple[date, int]]:
    """Workshops with a certificate in force at each month end of ``year`` up to ``through`` (the
    board's chart), from one load of the applications."""
    certifications = certifications_by_workshop(session, through)
    points = []
    for month in range(1, 13):
        if date(year, month, 1) > through:
            break
        day = min(date(year, month, calendar.monthrange(year, month)[1]), through)
        certified = sum(
            1
            for history in certifications.values()
            if any(span.in_force_on(day) for span in certificate_spans(history, day))
        )
        points.append((day, certified))
    return points
