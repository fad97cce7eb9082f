"""The certification workflow of a workshop (无泄漏车间认证): apply, self-assess with the
checklist, send to the company's assessment, certify or reject, revoke.

Every step is one function taking the actor and ``today`` (never the clock). Each checks, in this
order: who may take the step, that the form was filled from the stored version (else
:class:`Conflict`, the 409 page), that the rules allow the move from the current state
(``rules.can_move``; else 409 naming both states), then the fields (422 naming them). Nothing is
written before all checks pass; every write goes to the change log. Services never commit.

A workshop has at most one open application, and may not apply while a certificate is in force
except in its last ``rules.RENEWAL_DAYS`` days (renewal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from pydantic import Field as PydanticField
from pydantic import field_validator
from sqlalchemy import Select, select
from sqlmodel import Field, Session, SQLModel, col

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import strip_text, utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.leakfree import rules, service
from maintenance.leakfree.choices import CertificationState
from maintenance.leakfree.models import Certification
from maintenance.org.models import Workshop
from maintenance.org.permissions import Capability, require, require_write_in
from maintenance.web import ListFilters, RecordId, filters_from_query

# --- Forms ------------------------------------------------------------------------------------


class ApplicationForm(SQLModel):
    workshop_id: RecordId
    applied_date: date
    application_note: str = Field(default="", max_length=2000)

    _strip_text = field_validator("application_note", mode="before")(strip_text)


CHECKLIST = ("inventory_complete", "survey_recent", "thresholds_met", "documents_in_place")
CHECKED_BY_RECORDS = ("inventory_complete", "survey_recent", "thresholds_met")  # documents: the workshop's word


class SelfAssessmentForm(SQLModel):
    """The checklist as the workshop confirms it; an unticked box is not sent (false)."""

    version: int
    self_assessed_date: date
    inventory_complete: bool = False
    survey_recent: bool = False
    thresholds_met: bool = False
    documents_in_place: bool = False


class SubmitForm(SQLModel):
    version: int


class AssessmentForm(SQLModel):
    version: int
    assessor: str = Field(min_length=1, max_length=100)
    assessed_date: date
    result: CertificationState
    assessment_remarks: str = Field(default="", max_length=2000)

    _strip_text = field_validator("assessor", "assessment_remarks", mode="before")(strip_text)


class RevokeForm(SQLModel):
    version: int
    revoked_date: date
    revoke_reason: str = Field(min_length=1, max_length=2000)

    _strip_text = field_validator("revoke_reason", mode="before")(strip_text)


def checklist_labels() -> dict[str, str]:
    return {
        "inventory_complete": _("Seal-point inventory complete"),
        "survey_recent": _("Leak survey within the last month"),
        "thresholds_met": _("Leak rates within the thresholds"),
        "documents_in_place": _("Documents in place"),
    }


# --- Reading ----------------------------------------------------------------------------------


SORTABLE: dict[str, Any] = {
    "applied": col(Certification.applied_date),
    "workshop": col(Workshop.code),
    "state": col(Certification.state),
    "valid_until": col(Certification.valid_until),
}


class CertificationFilters(ListFilters):
    sort_keys = SORTABLE

    workshop_id: RecordId | None = None
    state: CertificationState | None = None
    year: int | None = PydanticField(default=None, ge=2000, le=2100)
    sort: str = "-applied"


CertificationFiltersDep = Annotated[CertificationFilters, Depends(filters_from_query(CertificationFilters))]


def list_certifications(filters: CertificationFilters) -> Select[Any]:
    """The applications the filters leave, in the chosen order (the id breaks ties)."""
    stmt = select(Certification).join(Workshop, col(Workshop.id) == col(Certification.workshop_id))
    if filters.workshop_id is not None:
        stmt = stmt.where(col(Certification.workshop_id) == filters.workshop_id)
    if filters.state is not None:
        stmt = stmt.where(col(Certification.state) == filters.state)
    if filters.year is not None:
        stmt = stmt.where(col(Certification.applied_date).between(date(filters.year, 1, 1), date(filters.year, 12, 31)))
    column = SORTABLE[filters.sort.lstrip("-")]
    descending = filters.sort.startswith("-")
    order = column.desc() if descending else column.asc()
    tie = col(Certification.id).desc() if descending else col(Certification.id).asc()
    return stmt.order_by(order, tie)


def get_certification_or_raise(session: Session, certification_id: int, *, for_update: bool = False) -> Certification:
    stmt = select(Certification).where(col(Certification.id) == certification_id)
    if for_update:
        stmt = stmt.with_for_update()
    cert = session.scalar(stmt)
    if cert is None:
        raise NotFound(_("Certification application %(id)s does not exist.", id=certification_id))
    return cert


@dataclass(frozen=True)
class ChecklistFacts:
    """What the system knows of a workshop's checklist on a day (the form's pre-filled ticks);
    documents are the workshop's to confirm."""

    inventory_complete: bool
    survey_recent: bool
    thresholds_met: bool
    documents_in_place: bool = False
    latest_survey_date: date | None = None

    def as_dict(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in CHECKLIST}


def facts_of(status: service.WorkshopLeakStatus, day: date) -> ChecklistFacts:
    survey = status.latest_survey
    recent = survey is not None and 0 <= (day - survey.survey_date).days <= rules.SURVEY_RECENT_DAYS
    return ChecklistFacts(
        inventory_complete=status.total_points > 0,
        survey_recent=recent,
        thresholds_met=status.meets_thresholds is True,
        latest_survey_date=survey.survey_date if survey is not None else None,
    )


def checklist_facts(session: Session, workshop_id: int, day: date) -> ChecklistFacts:
    (status,) = service.workshop_statuses(session, day, [workshop_id])
    return facts_of(status, day)


def application_refusal(history: list[Certification], today: date) -> str | None:
    """Why the workshop may not apply on ``today`` (None: it may)."""
    if any(cert.state.is_open for cert in history):
        return _("The workshop already has an application on its way; finish or decide it first.")
    for span in service.certificate_spans(history, today):
        if span.in_force_on(today) and today < rules.renewal_opens(span.valid_until):
            return _(
                "The workshop's certificate is in force until %(until)s; it can be renewed from %(opens)s.",
                until=span.valid_until.isoformat(),
                opens=rules.renewal_opens(span.valid_until).isoformat(),
            )
    return None


def history_of(session: Session, workshop_id: int) -> list[Certification]:
    stmt = (
        select(Certification)
        .where(col(Certification.workshop_id) == workshop_id)
        .order_by(col(Certification.applied_date), col(Certification.id))
    )
    return list(session.scalars(stmt))


# --- Writing ----------------------------------------------------------------------------------


def apply(session: Session, data: ApplicationForm, *, actor: Actor, today: date) -> Certification:
    """A workshop applies (its engineers, managers, admins)."""
    require_write_in(session, actor, data.workshop_id)
    # The workshop's row is locked so two applications sent at once cannot both pass the check.
    workshop = session.scalar(select(Workshop).where(col(Workshop.id) == data.workshop_id).with_for_update())
    if workshop is None:
        raise ValidationFailed(_("The application was not saved."), [FieldError("workshop_id", _("No such workshop."))])
    if data.applied_date > today:
        message = _("The date cannot be in the future.")
        raise ValidationFailed(_("The application was not saved."), [FieldError("applied_date", message)])
    refusal = application_refusal(history_of(session, data.workshop_id), today)
    if refusal is not None:
        raise ValidationFailed(refusal, [FieldError("workshop_id", refusal)])
    cert = Certification(
        workshop_id=data.workshop_id,
        applied_date=data.applied_date,
        application_note=data.application_note,
        applied_by_id=getattr(actor, "id", None),
    )
    session.add(cert)
    session.flush()
    audit.record_create(session, actor, cert)
    return cert


def _stale() -> Conflict:
    return Conflict(
        _("Someone else changed this application while you were filling in the form. Review it and try again."),
        [FieldError("version", _("stale"))],
    )


def _move(
    session: Session,
    cert: Certification,
    to: CertificationState,
    version: int,
    errors: list[FieldError],
    write: Callable[[], None],
    *,
    actor: Actor,
) -> Certification:
    """The shared shape of a step: stale version, allowed move, the fields' reasons, then the
    write in a savepoint with the change-log row."""
    if version != cert.version:
        raise _stale()
    if not rules.can_move(cert.state, to):
        raise Conflict(
            _(
                "This application is %(current)s: it cannot become %(target)s.",
                current=cert.state.label,
                target=to.label,
            )
        )
    if errors:
        raise ValidationFailed(_("The step was not recorded."), errors)
    before = audit.snapshot(cert)
    with versioned_write(session, cert, _stale):
        write()
        cert.state = to
        cert.version += 1
        cert.updated_at = utcnow()
    audit.record_update(session, actor, cert, before)
    return cert


def _date_errors(field: str, day: date, earliest: date, today: date) -> list[FieldError]:
    if day > today:
        return [FieldError(field, _("The date cannot be in the future."))]
    if day < earliest:
        return [FieldError(field, _("The date cannot be before %(day)s.", day=earliest.isoformat()))]
    return []


def self_assess(
    session: Session, cert: Certification, data: SelfAssessmentForm, *, actor: Actor, today: date
) -> Certification:
    """The workshop confirms its checklist (its engineers, managers, admins); all four items ticked."""
    require_write_in(session, actor, cert.workshop_id)
    errors = _date_errors("self_assessed_date", data.self_assessed_date, cert.applied_date, today)
    labels = checklist_labels()
    errors += [
        FieldError(name, _("Not ticked: %(item)s.", item=labels[name])) for name in CHECKLIST if not getattr(data, name)
    ]
    # The items the records can check are not the workshop's word: a tick the records contradict
    # (no survey in the last month, a rate over its limit, an empty inventory) is refused.
    facts = checklist_facts(session, cert.workshop_id, data.self_assessed_date)
    errors += [
        FieldError(name, _("The records say this is not met: %(item)s.", item=labels[name]))
        for name in CHECKED_BY_RECORDS
        if getattr(data, name) and not getattr(facts, name)
    ]

    def write() -> None:
        for name in CHECKLIST:
            setattr(cert, name, getattr(data, name))
        cert.self_assessed_date = data.self_assessed_date

    return _move(session, cert, CertificationState.SELF_ASSESSED, data.version, errors, write, actor=actor)


def submit(session: Session, cert: Certification, data: SubmitForm, *, actor: Actor) -> Certification:
    """Send the self-assessed application to the company's assessment (managers, admins)."""
    require(actor, Capability.MANAGE, _("Only managers send applications to the company's assessment."))
    return _move(session, cert, CertificationState.IN_ASSESSMENT, data.version, [], lambda: None, actor=actor)


def assess(session: Session, cert: Certification, data: AssessmentForm, *, actor: Actor, today: date) -> Certification:
    """The company's verdict (managers, admins): certified for one year from the assessment
    date, or rejected with the reasons."""
    require(actor, Capability.MANAGE, _("Only managers record the company's assessment."))
    errors = _date_errors("assessed_date", data.assessed_date, cert.applied_date, today)
    if data.result not in (CertificationState.CERTIFIED, CertificationState.REJECTED):
        errors.append(FieldError("result", _("Choose certified or rejected.")))
    if data.result == CertificationState.REJECTED and not data.assessment_remarks:
        errors.append(FieldError("assessment_remarks", _("Give the reasons for rejecting.")))
    to = data.result if data.result == CertificationState.REJECTED else CertificationState.CERTIFIED

    def write() -> None:
        cert.assessor = data.assessor
        cert.assessed_date = data.assessed_date
        cert.assessment_remarks = data.assessment_remarks
        if to == CertificationState.CERTIFIED:
            cert.certified_date = data.assessed_date
            cert.valid_until = rules.valid_until(data.assessed_date)

    return _move(session, cert, to, data.version, errors, write, actor=actor)


def revoke(session: Session, cert: Certification, data: RevokeForm, *, actor: Actor, today: date) -> Certification:
    """Withdraw a certificate (managers, admins), with the date and the reason."""
    require(actor, Capability.MANAGE, _("Only managers revoke certificates."))
    earliest = cert.certified_date or cert.applied_date
    errors = _date_errors("revoked_date", data.revoked_date, earliest, today)

    def write() -> None:
        cert.revoked_date = data.revoked_date
        cert.revoke_reason = data.revoke_reason

    return _move(session, cert, CertificationState.REVOKED, data.version, errors, write, actor=actor)
