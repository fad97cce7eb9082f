"""Leak-free facts for the tests: a workshop with its engineer, seal-point lines, surveys with
leaks and certificates written straight into the tables (the recording services are tested on
their own)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from maintenance.leakfree import rules
from maintenance.leakfree.choices import CertificationState, LeakSeverity, SealKind, SealType
from maintenance.leakfree.models import Certification, Leak, LeakSurvey, SealPoint
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories

MakeSealPoint = Callable[..., SealPoint]
MakeSurvey = Callable[..., LeakSurvey]
Certify = Callable[..., Certification]


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory()


@pytest.fixture
def workshop_engineer(session: Session, workshop: Workshop) -> User:
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))
    session.flush()
    return user


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def auditor(session: Session) -> User:
    return factories.UserFactory(role=Role.AUDITOR)


@pytest.fixture
def make_seal_point(session: Session, workshop: Workshop) -> MakeSealPoint:
    """An inventory line of ``workshop``: 100 flanges unless told otherwise."""
    made = iter(range(1, 1_000_000))

    def make(**fields: Any) -> SealPoint:
        values: dict[str, Any] = {
            "code": f"SP-{next(made):05d}",
            "workshop_id": workshop.id,
            "seal_type": SealType.FLANGE,
            "count": 100,
        } | fields
        point = SealPoint(**values)
        session.add(point)
        session.flush()
        return point

    return make


@pytest.fixture
def make_survey(session: Session, workshop: Workshop) -> MakeSurvey:
    """A survey of ``workshop`` on ``day`` over the given totals, with ``static_leaks`` and
    ``dynamic_leaks`` leaks (seeps, open)."""

    def make(
        day: date,
        *,
        static_points: int,
        dynamic_points: int,
        static_leaks: int = 0,
        dynamic_leaks: int = 0,
        workshop_id: int | None = None,
    ) -> LeakSurvey:
        survey = LeakSurvey(
            workshop_id=workshop_id or workshop.id,
            survey_date=day,
            surveyed_by="测试组",
            static_points=static_points,
            dynamic_points=dynamic_points,
        )
        session.add(survey)
        session.flush()
        kinds: Sequence[SealKind] = [SealKind.STATIC] * static_leaks + [SealKind.DYNAMIC] * dynamic_leaks
        for kind in kinds:
            session.add(
                Leak(
                    workshop_id=survey.workshop_id,
                    survey_id=survey.id,
                    kind=kind,
                    severity=LeakSeverity.SEEP,
                    found_date=day,
                )
            )
        session.flush()
        return survey

    return make


@pytest.fixture
def certify(session: Session, workshop: Workshop) -> Certify:
    """An application of ``workshop`` made on ``applied``; certified on ``certified`` when given
    (valid one year), rejected on ``rejected``, revoked on ``revoked``."""

    def make(
        applied: date,
        *,
        certified: date | None = None,
        rejected: date | None = None,
        revoked: date | None = None,
        workshop_id: int | None = None,
    ) -> Certification:
        cert = Certification(workshop_id=workshop_id or workshop.id, applied_date=applied)
        if certified is not None:
            cert.state = CertificationState.CERTIFIED
            cert.assessed_date = cert.certified_date = certified
            cert.valid_until = rules.valid_until(certified)
        if rejected is not None:
            cert.state = CertificationState.REJECTED
            cert.assessed_date = rejected
        if revoked is not None:
            cert.state = CertificationState.REVOKED
            cert.revoked_date = revoked
            cert.revoke_reason = "复查超标"
        session.add(cert)
        session.flush()
        return cert

    return make
