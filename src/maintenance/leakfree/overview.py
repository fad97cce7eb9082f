"""Each workshop's row on the managers' pages, the board export and the read API: its standing on
the reference date (``service.workshop_statuses``) with the certificate in force that day, and
which of its rates exceed their limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from maintenance.leakfree import rules, service
from maintenance.leakfree.choices import SealKind
from maintenance.leakfree.models import Certification
from maintenance.leakfree.rules import SurveyRates
from maintenance.leakfree.service import WorkshopLeakStatus


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

    @property
    def static_over(self) -> bool:
        return over_limit(self.status.latest_rates, SealKind.STATIC)

    @property
    def dynamic_over(self) -> bool:
        return over_limit(self.status.latest_rates, SealKind.DYNAMIC)

    @property
    def certificate(self) -> Certification | None:
        return self.status.certificate

    @property
    def certified_date(self) -> date | None:
        return self.status.certified_date

    @property
    def valid_until(self) -> date | None:
        return self.status.valid_until

    @property
    def open_application(self) -> Certification | None:
        """The application on its way on the reference date, shown beside the standing."""
        cert = self.status.certification
        return cert if cert is not None and service.undecided_on(cert, self.status.as_of) else None


def workshop_rows(session: Session, as_of: date, workshop_ids: Sequence[int] | None = None) -> list[WorkshopRow]:
    """Every workshop (or the given ones) on ``as_of``, by code, in a fixed number of queries."""
    return [WorkshopRow(status) for status in service.workshop_statuses(session, as_of, workshop_ids)]


def progress_of_rows(rows: Sequence[WorkshopRow], as_of: date) -> service.Progress:
    return service.progress_of([row.status for row in rows], as_of)
