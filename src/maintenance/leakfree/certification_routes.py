"""The certification workflow's pages: the list of applications (page, htmx fragment and CSV/XLSX
export from one view), applying, and the application page with the form of the next step the
user may take (self-assessment, sending to the company, the assessment, revoking).

The list runs a fixed number of queries whatever the number of applications: the workshops, the
user's workshops, the count and the page's rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Select, String, type_coerce
from sqlmodel import Session, col

from maintenance import exports as core
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import Conflict, PermissionDenied, ValidationFailed
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage, current_locale
from maintenance.i18n import gettext as _
from maintenance.leakfree import certifications, rules, service
from maintenance.leakfree.certifications import (
    ApplicationForm,
    AssessmentForm,
    CertificationFilters,
    CertificationFiltersDep,
    RevokeForm,
    SelfAssessmentForm,
    SubmitForm,
)
from maintenance.leakfree.choices import BoardStanding, CertificationState
from maintenance.leakfree.models import Certification
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser, ManagerUser, WriterUser
from maintenance.org.models import User, Workshop
from maintenance.org.permissions import Capability, can, writable_workshop_ids
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    field_errors,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

LIST = "/leakfree/certifications"


def _writable(session: Session, user: User, workshops: Iterable[Workshop]) -> list[Workshop]:
    """The workshops ``user`` may apply for."""
    if not (can(user, Capability.WRITE) or can(user, Capability.WRITE_EVERYWHERE)):
        return []
    allowed = writable_workshop_ids(session, user)
    return [w for w in workshops if allowed is None or w.id in allowed]


# --- The list ---------------------------------------------------------------------------------


@router.get(LIST)
def certification_list(
    request: Request, session: SessionDep, user: CurrentUser, filters: CertificationFiltersDep, page: int = 1
) -> Response:
    workshops = org_service.list_workshops(session)
    workshop_by_id = {w.id: w for w in workshops}
    export_format = request.query_params.get("export")
    if export_format:
        export = CertificationExport(
            session=session,
            filters=filters,
            workshops=workshop_by_id,  # type: ignore[arg-type]
            locale=current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
        )
        return export.response(core.check_format(export_format), request)
    rows = paginate(session, certifications.list_certifications(filters), page)
    return render(
        request,
        "leakfree/certifications/list.html",
        {
            "page": rows,
            "filters": filters,
            "workshops": workshops,
            "workshop_by_id": workshop_by_id,
            "states": CertificationState,
            "can_apply": bool(_writable(session, user, workshops)),
        },
        block="results",
    )


# --- Applying ---------------------------------------------------------------------------------


def _application_page(
    request: Request,
    session: Session,
    user: User,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "leakfree/certifications/new.html",
        {
            "values": values,
            "errors": errors,
            "workshops": _writable(session, user, org_service.list_workshops(session)),
        },
        status_code=status_code,
    )


@router.get(LIST + "/new")
def new_application_page(
    request: Request, session: SessionDep, user: WriterUser, workshop_id: RecordId | None = None
) -> Response:
    workshops = _writable(session, user, org_service.list_workshops(session))
    if workshop_id is not None and workshop_id not in {w.id for w in workshops}:
        raise PermissionDenied(_("You can only change records of your own workshops."))
    chosen = workshop_id or (workshops[0].id if len(workshops) == 1 else None)
    values = {"workshop_id": str(chosen or ""), "applied_date": plant_today().isoformat()}
    return _application_page(request, session, user, values, {})


@router.post(LIST + "/new")
def apply(request: Request, session: SessionDep, user: WriterUser, form: FormDep) -> Response:
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    data, errors = validate_form(ApplicationForm, values)
    if data is not None:
        try:
            cert = certifications.apply(session, data, actor=user, today=plant_today())
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, _("Application recorded."))
            return redirect(request, f"{LIST}/{cert.id}")
    return _application_page(request, session, user, values, errors, status_code=422)


# --- The application page ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One line of the timeline: what happened, when, and the details."""

    label: str
    day: date | None
    detail: str = ""
    done: bool = True


def _timeline(cert: Certification) -> list[Step]:
    steps = [Step(_("Applied"), cert.applied_date, cert.application_note)]
    if cert.self_assessed_date is not None:
        steps.append(Step(_("Self-assessed"), cert.self_assessed_date))
    if cert.state == CertificationState.IN_ASSESSMENT:
        steps.append(Step(_("Sent to the company's assessment"), None, done=False))
    if cert.assessed_date is not None:
        label = _("Rejected") if cert.state == CertificationState.REJECTED else _("Certified")
        detail = " · ".join(part for part in (cert.assessor, cert.assessment_remarks) if part)
        steps.append(Step(label, cert.assessed_date, detail))
    if cert.revoked_date is not None:
        steps.append(Step(_("Revoked"), cert.revoked_date, cert.revoke_reason))
    return steps


def _next_step(session: Session, user: User, cert: Certification) -> str | None:
    """The form this user may fill in now (the rules' next states, the user's rights)."""
    nexts = rules.next_states(cert.state)
    manages = can(user, Capability.MANAGE)
    if CertificationState.SELF_ASSESSED in nexts:
        allowed = writable_workshop_ids(session, user)
        if can(user, Capability.WRITE) and (allowed is None or cert.workshop_id in allowed):
            return "self-assessment"
        return None
    if CertificationState.IN_ASSESSMENT in nexts:
        return "submit" if manages else None
    if CertificationState.CERTIFIED in nexts:
        return "assessment" if manages else None
    if CertificationState.REVOKED in nexts:
        return "revoke" if manages else None
    return None


def _default_values(cert: Certification, facts: certifications.ChecklistFacts, today: date) -> dict[str, Any]:
    return {
        "version": cert.version,
        "self_assessed_date": today.isoformat(),
        **facts.as_dict(),
        "assessed_date": today.isoformat(),
        "result": CertificationState.CERTIFIED.value,
        "revoked_date": today.isoformat(),
    }


def _detail_page(
    request: Request,
    session: Session,
    user: User,
    cert: Certification,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    today = plant_today()
    (status,) = service.workshop_statuses(session, today, [cert.workshop_id])
    facts = certifications.facts_of(status, today)
    at_risk = status.standing == BoardStanding.AT_RISK and cert.state == CertificationState.CERTIFIED
    return render(
        request,
        "leakfree/certifications/detail.html",
        {
            "cert": cert,
            "workshop": status.workshop,
            "status": status,
            "facts": facts,
            "at_risk": at_risk,
            "timeline": _timeline(cert),
            "next_step": _next_step(session, user, cert),
            "values": _default_values(cert, facts, today) | (values or {}),
            "errors": errors or {},
            "checklist": certifications.checklist_labels(),
            "today": today,
            "renewal_opens": rules.renewal_opens(cert.valid_until) if cert.valid_until else None,
        },
        status_code=status_code,
    )


@router.get(LIST + "/{certification_id:int}")
def certification_page(
    request: Request, session: SessionDep, user: CurrentUser, certification_id: RecordId
) -> Response:
    cert = certifications.get_certification_or_raise(session, certification_id)
    return _detail_page(request, session, user, cert)


def _step(
    request: Request,
    session: Session,
    user: User,
    certification_id: int,
    form: FormDep,
    model: type[Any],
    take: Any,
    done: str,
) -> Response:
    """Validate the step's form, take the step, and answer: back to the page, the 409 page of a
    stale form or an impossible move, or the page again with the reasons (422)."""
    cert = certifications.get_certification_or_raise(session, certification_id, for_update=True)
    values: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    data, errors = validate_form(model, values)
    if data is not None:
        try:
            take(cert, data)
        except Conflict as error:
            return conflict_response(
                request,
                heading=error.message,
                changes=None,
                audit=("leakfree_certification", cert.id),
                back=(f"{LIST}/{cert.id}", _("Back to the application")),
                note=_("The application is now: %(state)s.", state=cert.state.label),
            )
        except ValidationFailed as error:
            errors = field_errors(error.errors) | {"__all__": error.message}
        else:
            add_toast(request, done)
            return redirect(request, f"{LIST}/{cert.id}")
    # Unticked boxes are not sent: the page shows them unticked, as the user left them.
    if model is SelfAssessmentForm:
        values = {name: name in values for name in certifications.CHECKLIST} | values
    return _detail_page(request, session, user, cert, values, errors, status_code=422)


@router.post(LIST + "/{certification_id:int}/self-assessment")
def self_assessment(
    request: Request, session: SessionDep, user: WriterUser, certification_id: RecordId, form: FormDep
) -> Response:
    def take(cert: Certification, data: SelfAssessmentForm) -> None:
        certifications.self_assess(session, cert, data, actor=user, today=plant_today())

    return _step(
        request, session, user, certification_id, form, SelfAssessmentForm, take, _("Self-assessment recorded.")
    )


@router.post(LIST + "/{certification_id:int}/submit")
def submit(
    request: Request, session: SessionDep, user: ManagerUser, certification_id: RecordId, form: FormDep
) -> Response:
    def take(cert: Certification, data: SubmitForm) -> None:
        certifications.submit(session, cert, data, actor=user)

    return _step(
        request, session, user, certification_id, form, SubmitForm, take, _("Sent to the company's assessment.")
    )


@router.post(LIST + "/{certification_id:int}/assessment")
def assessment(
    request: Request, session: SessionDep, user: ManagerUser, certification_id: RecordId, form: FormDep
) -> Response:
    def take(cert: Certification, data: AssessmentForm) -> None:
        certifications.assess(session, cert, data, actor=user, today=plant_today())

    return _step(request, session, user, certification_id, form, AssessmentForm, take, _("Assessment recorded."))


@router.post(LIST + "/{certification_id:int}/revoke")
def revoke(
    request: Request, session: SessionDep, user: ManagerUser, certification_id: RecordId, form: FormDep
) -> Response:
    def take(cert: Certification, data: RevokeForm) -> None:
        certifications.revoke(session, cert, data, actor=user, today=plant_today())

    return _step(request, session, user, certification_id, form, RevokeForm, take, _("Certificate revoked."))


# --- The export -------------------------------------------------------------------------------

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("workshop", NP_("certification export", "Workshop"), width=16),
    ExportColumn("state", NP_("certification export", "State"), width=12),
    ExportColumn("applied_date", NP_("certification export", "Applied on"), "date", 12),
    ExportColumn("self_assessed_date", NP_("certification export", "Self-assessed on"), "date", 12),
    ExportColumn("assessor", NP_("certification export", "Assessor"), width=12),
    ExportColumn("assessed_date", NP_("certification export", "Assessed on"), "date", 12),
    ExportColumn("certified_date", NP_("certification export", "Certified on"), "date", 12),
    ExportColumn("valid_until", NP_("certification export", "Valid until"), "date", 12),
    ExportColumn("revoked_date", NP_("certification export", "Revoked on"), "date", 12),
    ExportColumn("remarks", NP_("certification export", "Remarks"), width=40),
)


@dataclass(kw_only=True)
class CertificationExport(core.TableExport):
    """The list's filtered query (same filters, same order) as CSV or XLSX."""

    columns = COLUMNS
    title = NP_("certification export", "Leak-free certification applications")
    sheet_name = NP_("certification export", "Applications")
    file_stem = NP_("certification export", "leakfree-certifications")
    temp_prefix = "leakfree-certification-export-"

    filters: CertificationFilters
    workshops: dict[int, Workshop]

    def select(self) -> Select[Any]:
        columns: list[Any] = [
            col(Certification.workshop_id),
            type_coerce(col(Certification.state), String()).label("state"),
            col(Certification.applied_date),
            col(Certification.self_assessed_date),
            col(Certification.assessor),
            col(Certification.assessed_date),
            col(Certification.certified_date),
            col(Certification.valid_until),
            col(Certification.revoked_date),
            col(Certification.assessment_remarks),
            col(Certification.revoke_reason),
        ]
        return certifications.list_certifications(self.filters).with_only_columns(*columns)

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        labels = core.choice_labels({"state": CertificationState}, zh=self.zh)["state"]
        for (
            workshop_id,
            state,
            applied,
            self_assessed,
            assessor,
            assessed,
            certified,
            until,
            revoked,
            remarks,
            reason,
        ) in result:
            workshop = self.workshops.get(workshop_id)
            yield (
                workshop.name if workshop else "",
                labels.get(state, state),
                applied,
                self_assessed,
                assessor,
                assessed,
                certified,
                until,
                revoked,
                " / ".join(part for part in (remarks, reason) if part),
            )

    def filter_text(self) -> str:
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        if self.filters.workshop_id is not None:
            workshop = self.workshops.get(self.filters.workshop_id)
            add(NP_("certification export", "workshop"), workshop.name if workshop else f"#{self.filters.workshop_id}")
        if self.filters.state is not None:
            add(NP_("certification export", "state"), self.filters.state.zh if self.zh else self.filters.state.en)
        if self.filters.year is not None:
            add(NP_("certification export", "year"), str(self.filters.year))
        return self.join_filters(parts, NP_("certification export", "all applications"))
