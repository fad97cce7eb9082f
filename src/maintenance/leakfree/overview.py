"""Each workshop's row on the managers' pages, the board export and the read API: its standing on
the reference date (``service.workshop_statuses``) with the certificate in force that day.

The status carries the workshop's *latest* application, whatever its state; while a renewal is on
its way that is not the certificate in force, so the certificate is looked up in the workshop's
history (one more query, whatever the number of workshops).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from maintenance.leakfree import rules, service
from maintenance.leakfree.choices import SealKind
from maintenance.leakfree.models import Certification
from maintenance.leakfree.rules import CertificateSpan, SurveyRates
from maintenance.leakfree.service import WorkshopLeakStatus


def certificate_in_force(history: Sequence[Certification], as_of: date) -> Certification | None:
    """The latest certificate in force on ``as_of`` among a workshop's applications (a
    revocation after ``as_of`` is not known yet)."""
    for cert in reversed(history):
        if cert.certified_date is None or cert.valid_until is None:
            continue
        revoked = cert.revoked_date if cert.revoked_date is not None and cert.revoked_date <= as_of else None
        if CertificateSpan(cert.certified_date, cert.valid_until, revoked).in_force_on(as_of):
            return cert
    return None


def over_limit(rates: SurveyRates | None, kind: SealKind) -> bool:
    """A survey's rate of ``kind`` exceeds its limit (1 in 1,990 static points does, though it
    shows 0.50‰); no survey exceeds nothing."""
    if rates is None:
        return False
    rate = rates.static_rate if kind == SealKind.STATIC else rates.dynamic_rate
    return not rules.meets_limit(rate, kind)


@dataclass(frozen=True)
class WorkshopRow:
    status: WorkshopLeakStatus
    certificate: Certification | None  # in force on the reference date

    @property
    def static_over(self) -> bool:
        return over_limit(self.status.latest_rates, SealKind.STATIC)

    @property
    def dynamic_over(self) -> bool:
        return over_limit(self.status.latest_rates, SealKind.DYNAMIC)

    @property
    def certified_date(self) -> date | None:
        return None if self.certificate is None else self.certificate.certified_date

    @property
    def valid_until(self) -> date | None:
        return None if self.certificate is None else self.certificate.valid_until

    @property
    def open_application(self) -> Certification | None:
        """The application on its way, shown beside the standing."""
        cert = self.status.certification
        return cert if cert is not None and cert.state.is_open else None


def workshop_rows(session: Session, as_of: date, workshop_ids: Sequence[int] | None = None) -> list[WorkshopRow]:
    """Every workshop (or the given ones) on ``as_of``, by code, in seven queries."""
    statuses = service.workshop_statuses(session, as_of, workshop_ids)
    histories = service.certifications_by_workshop(session, as_of)
    return [
        WorkshopRow(status, certificate_in_force(histories.get(status.workshop_id, []), as_of)) for status in statuses
    ]


def progress_of_rows(rows: Sequence[WorkshopRow], as_of: date) -> service.Progress:
    return service.progress_of([row.status for row in rows], as_of)
