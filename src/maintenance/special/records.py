"""Recording the register of one item: its use registration (with changes and the
cancellation), applications for inspection and inspection reports (with the report PDF).

Every writer takes the actor and ``today`` (never the clock), checks that the actor writes in
the asset's workshop before anything else, refuses assets that are not special equipment, and
logs each row it writes in the change log. Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from pydantic import field_validator
from sqlalchemy import select
from sqlmodel import Field, Session, SQLModel, col

from maintenance.assets.choices import SpecialCategory
from maintenance.assets.documents.service import attach_document
from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import strip_text, utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.files import extension_of
from maintenance.i18n import gettext as _
from maintenance.org.permissions import require_write_in
from maintenance.special import service
from maintenance.special.choices import RegistrationEventKind
from maintenance.special.models import (
    InspectionApplication,
    InspectionCreate,
    InspectionType,
    Registration,
    RegistrationCreate,
    RegistrationEvent,
    RegistrationUpdate,
    SpecialInspection,
)


class RegistrationEventCreate(SQLModel):
    """A change of registration or the cancellation, as the form sends it."""

    kind: RegistrationEventKind
    event_date: date
    description: str = Field(min_length=1, max_length=500)

    _strip_text = field_validator("description", mode="before")(strip_text)


class ApplicationForm(SQLModel):
    """An application as the user enters it: the due date applied for is not asked, it is the
    item's current due date for that inspection type (from the status function)."""

    inspection_type_id: int
    applied_date: date
    agency: str = Field(min_length=1, max_length=100)
    reference: str = Field(default="", max_length=60)

    _strip_text = field_validator("agency", "reference", mode="before")(strip_text)


@dataclass(frozen=True)
class ReportFile:
    """The uploaded report PDF."""

    stream: BinaryIO
    filename: str


# --- Checks shared by the writers ------------------------------------------------------------


def _check_special(asset: Asset) -> None:
    if asset.special_category == SpecialCategory.NONE:
        raise ValidationFailed(
            _(
                "%(tag)s is not special equipment: set its special-equipment category on the asset first.",
                tag=asset.tag,
            )
        )


def _check_not_future(field: str, day: date, today: date) -> None:
    if day > today:
        raise ValidationFailed(_("The date is in the future."), [FieldError(field, _("Must be today or earlier."))])


def _inspection_type_of(session: Session, asset: Asset, inspection_type_id: int) -> InspectionType:
    """The inspection type, which must be one the asset's category requires."""
    inspection_type = session.get(InspectionType, inspection_type_id)
    if inspection_type is None or inspection_type.category != asset.special_category:
        raise ValidationFailed(
            _("This inspection type is not one a %(category)s needs.", category=asset.special_category.label),
            [FieldError("inspection_type_id", _("Choose an inspection type of this equipment's category."))],
        )
    return inspection_type


def registration_of(session: Session, asset: Asset) -> Registration | None:
    return session.scalar(select(Registration).where(col(Registration.asset_id) == asset.id))


def registration_or_raise(session: Session, asset: Asset, *, for_update: bool = False) -> Registration:
    stmt = select(Registration).where(col(Registration.asset_id) == asset.id)
    if for_update:
        stmt = stmt.with_for_update()
    registration = session.scalar(stmt)
    if registration is None:
        raise NotFound(_("%(tag)s has no use registration yet.", tag=asset.tag))
    return registration


# --- Registration --------------------------------------------------------------------------------


def register_asset(
    session: Session, asset: Asset, data: RegistrationCreate, *, actor: Actor, today: date
) -> Registration:
    """The asset's use registration (使用登记); an asset has one."""
    require_write_in(session, actor, asset.workshop_id)
    _check_special(asset)
    _check_not_future("registration_date", data.registration_date, today)
    existing = registration_of(session, asset)
    if existing is not None:
        raise ValidationFailed(
            _(
                "%(tag)s is already registered (certificate %(number)s): change that registration instead.",
                tag=asset.tag,
                number=existing.certificate_number,
            )
        )
    registration = Registration(asset_id=asset.id, **data.model_dump())  # type: ignore[arg-type]
    session.add(registration)
    session.flush()
    audit.record_create(session, actor, registration, asset_tag=asset.tag)
    return registration


def _stale_registration(asset: Asset) -> Conflict:
    return Conflict(
        _("Someone else changed the registration of %(tag)s while you were editing it.", tag=asset.tag),
        [FieldError("version", _("stale"))],
    )


def _check_not_cancelled(registration: Registration) -> None:
    if registration.cancelled_date is not None:
        raise ValidationFailed(
            _(
                "This registration was cancelled on %(day)s and can no longer be changed.",
                day=registration.cancelled_date.isoformat(),
            )
        )


def update_registration(
    session: Session, asset: Asset, registration: Registration, data: RegistrationUpdate, *, actor: Actor, today: date
) -> Registration:
    """Correct the registration's details, from the version the user edited."""
    require_write_in(session, actor, asset.workshop_id)
    if data.version != registration.version:
        raise _stale_registration(asset)
    _check_not_cancelled(registration)
    _check_not_future("registration_date", data.registration_date, today)
    before = audit.snapshot(registration)
    with versioned_write(session, registration, lambda: _stale_registration(asset)):
        registration.sqlmodel_update(data.model_dump(exclude={"version"}))
        changed = audit.snapshot(registration) != before
        if changed:
            registration.version += 1
            registration.updated_at = utcnow()
    if changed:
        audit.record_update(session, actor, registration, before)
    return registration


def record_registration_event(
    session: Session,
    asset: Asset,
    registration: Registration,
    data: RegistrationEventCreate,
    *,
    actor: Actor,
    today: date,
) -> RegistrationEvent:
    """A change of registration or its cancellation (art. 47/48); a cancellation ends the
    registration: nothing may be recorded against it afterwards."""
    require_write_in(session, actor, asset.workshop_id)
    _check_not_cancelled(registration)
    _check_not_future("event_date", data.event_date, today)
    if data.event_date < registration.registration_date:
        raise ValidationFailed(
            _("The date is before the registration."),
            [
                FieldError(
                    "event_date",
                    _("Must be on or after %(day)s.", day=registration.registration_date.isoformat()),
                )
            ],
        )
    if data.kind == RegistrationEventKind.CANCELLATION:
        before = audit.snapshot(registration)
        with versioned_write(session, registration, lambda: _stale_registration(asset)):
            registration.cancelled_date = data.event_date
            registration.version += 1
            registration.updated_at = utcnow()
        audit.record_update(session, actor, registration, before)
    event = RegistrationEvent(registration_id=registration.id, recorded_by_id=actor.id, **data.model_dump())  # type: ignore[arg-type]
    session.add(event)
    session.flush()
    audit.record_create(session, actor, event, asset_tag=asset.tag)
    return event


# --- Applications and inspections ----------------------------------------------------------


def record_application(
    session: Session, asset: Asset, data: ApplicationForm, *, actor: Actor, today: date
) -> InspectionApplication:
    """An application for the inspection of this type that is due now (art. 40)."""
    require_write_in(session, actor, asset.workshop_id)
    _check_special(asset)
    inspection_type = _inspection_type_of(session, asset, data.inspection_type_id)
    _check_not_future("applied_date", data.applied_date, today)
    item = service.item_standing(session, asset, today)
    current = next((t for t in item.standing.types if t.rule.type_id == inspection_type.id), None) if item else None
    if current is None or current.due_date is None:
        raise ValidationFailed(
            _("%(tag)s has no due date for %(type)s to apply for.", tag=asset.tag, type=inspection_type.name),
            [FieldError("inspection_type_id", _("No due date is known for this inspection."))],
        )
    if current.last is not None and data.applied_date <= current.last.inspected_date:
        raise ValidationFailed(
            _("The application must come after the last inspection."),
            [FieldError("applied_date", _("Must be after %(day)s.", day=current.last.inspected_date.isoformat()))],
        )
    earlier = session.scalar(
        select(InspectionApplication).where(
            col(InspectionApplication.asset_id) == asset.id,
            col(InspectionApplication.inspection_type_id) == inspection_type.id,
            col(InspectionApplication.due_date) == current.due_date,
        )
    )
    if earlier is not None:
        raise ValidationFailed(
            _(
                "The %(type)s due on %(due)s was already applied for on %(applied)s (%(agency)s).",
                type=inspection_type.name,
                due=current.due_date.isoformat(),
                applied=earlier.applied_date.isoformat(),
                agency=earlier.agency,
            )
        )
    application = InspectionApplication(
        asset_id=asset.id,  # type: ignore[arg-type]
        due_date=current.due_date,
        recorded_by_id=actor.id,
        **data.model_dump(),
    )
    session.add(application)
    session.flush()
    audit.record_create(session, actor, application, asset_tag=asset.tag)
    return application


def record_inspection(
    session: Session,
    asset: Asset,
    data: InspectionCreate,
    *,
    actor: Actor,
    today: date,
    report_file: ReportFile | None = None,
) -> SpecialInspection:
    """An inspection report; its PDF (optional) is kept with the asset's documents."""
    require_write_in(session, actor, asset.workshop_id)
    _check_special(asset)
    _inspection_type_of(session, asset, data.inspection_type_id)
    _check_not_future("inspected_date", data.inspected_date, today)
    if data.report_next_due_date is not None and data.report_next_due_date <= data.inspected_date:
        raise ValidationFailed(
            _("The next due date must come after the inspection."),
            [FieldError("report_next_due_date", _("Must be after %(day)s.", day=data.inspected_date.isoformat()))],
        )
    if report_file is not None and extension_of(report_file.filename) != "pdf":
        raise ValidationFailed(
            _("The inspection report must be a PDF."), [FieldError("report_file", _("Choose a PDF file."))]
        )
    inspection = SpecialInspection(asset_id=asset.id, recorded_by_id=actor.id, **data.model_dump())  # type: ignore[arg-type]
    if report_file is not None:
        document = attach_document(session, asset, report_file.stream, report_file.filename, actor=actor)  # type: ignore[arg-type]
        inspection.document_id = document.id
    session.add(inspection)
    session.flush()
    audit.record_create(session, actor, inspection, asset_tag=asset.tag)
    return inspection
