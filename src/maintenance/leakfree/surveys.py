"""Leak surveys (泄漏检测): recording a survey with the leaks it found, and the list of surveys.

A survey snapshots its workshop's active inventory totals (``service.inventory_totals``) on the
day it is recorded, so its rates never move when the inventory changes later. Each leak row names
an active seal point of the workshop; the leak's kind is the point's (static/dynamic by its type).
Everything is validated before anything is written: a refused survey writes nothing. One survey
per workshop and day: a second is refused with the day named (422), also when two arrive at once
(the unique constraint, caught in a savepoint).

Rates and thresholds are computed by ``service.rates_of_surveys`` / ``rules`` only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, BinaryIO

from fastapi import Depends
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance import files
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.exceptions import FieldError, NotFound, ValidationFailed
from maintenance.files import StoredFile
from maintenance.i18n import gettext as _
from maintenance.leakfree import service
from maintenance.leakfree.choices import LeakSeverity, SealKind
from maintenance.leakfree.models import Leak, LeakSurvey, SealPoint, SurveyCreate
from maintenance.org.models import Workshop
from maintenance.org.permissions import require_write_in
from maintenance.web import ListFilters, RecordId, filters_from_query

DEFAULT_SORT = "-date"
SORTABLE = {
    "date": (col(LeakSurvey.survey_date),),
    "workshop": (col(LeakSurvey.workshop_id), col(LeakSurvey.survey_date)),
}

# --- Reading ------------------------------------------------------------------------------


class SurveyFilters(ListFilters):
    sort_keys = SORTABLE

    workshop_id: RecordId | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT


SurveyFiltersDep = Annotated[SurveyFilters, Depends(filters_from_query(SurveyFilters))]


def list_surveys(filters: SurveyFilters) -> Select[Any]:
    """The surveys the filters leave, in the chosen order (the id breaks ties)."""
    stmt = select(LeakSurvey)
    if filters.workshop_id is not None:
        stmt = stmt.where(col(LeakSurvey.workshop_id) == filters.workshop_id)
    if filters.date_from is not None:
        stmt = stmt.where(col(LeakSurvey.survey_date) >= filters.date_from)
    if filters.date_to is not None:
        stmt = stmt.where(col(LeakSurvey.survey_date) <= filters.date_to)
    descending = filters.sort.startswith("-")
    keys = SORTABLE[filters.sort.lstrip("-")]
    order = [key.desc() if descending else key.asc() for key in keys]
    tie = col(LeakSurvey.id).desc() if descending else col(LeakSurvey.id).asc()
    return stmt.order_by(*order, tie)


def get_survey_or_raise(session: Session, survey_id: int) -> LeakSurvey:
    survey = session.get(LeakSurvey, survey_id)
    if survey is None:
        raise NotFound(_("Leak survey %(id)s does not exist.", id=survey_id))
    return survey


def leaks_of(session: Session, survey_id: int) -> list[Leak]:
    return list(session.scalars(select(Leak).where(col(Leak.survey_id) == survey_id).order_by(col(Leak.id))))


def active_points(session: Session, workshop_id: int) -> list[SealPoint]:
    """The inventory lines a leak row may name: the workshop's active ones, by code."""
    query = (
        select(SealPoint)
        .where(col(SealPoint.workshop_id) == workshop_id, col(SealPoint.is_active))
        .order_by(col(SealPoint.code))
    )
    return list(session.scalars(query))


# --- Recording ----------------------------------------------------------------------------


class SurveyLeakInput(BaseModel):
    """One leak row of the survey form."""

    seal_point_id: RecordId
    severity: LeakSeverity
    description: str = Field(default="", max_length=500)

    @field_validator("description", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


@dataclass(frozen=True)
class LeakRow:
    """A validated leak row, its 1-based number on the form and its stored photo (if any)."""

    number: int
    data: SurveyLeakInput
    photo: StoredFile | None = None


def row_field(number: int, name: str) -> str:
    """The form name of a leak row's field (rows are numbered from 1, as users count them)."""
    return f"leaks-{number}-{name}"


def _duplicate_day(workshop: Workshop | None, day: date) -> ValidationFailed:
    name = workshop.name if workshop else ""
    message = _("%(workshop)s already has a survey on %(day)s.", workshop=name, day=day.isoformat())
    return ValidationFailed(message, [FieldError("survey_date", message)])


def record_survey(
    session: Session, data: SurveyCreate, rows: Sequence[LeakRow], *, today: date, actor: Actor
) -> LeakSurvey:
    """Record ``data`` with its leak rows, or refuse all of it with every reason found."""
    workshop = session.get(Workshop, data.workshop_id)
    if workshop is None:
        raise ValidationFailed(_("The survey was not saved."), [FieldError("workshop_id", _("No such workshop."))])
    require_write_in(session, actor, data.workshop_id)
    errors: list[FieldError] = []
    if data.survey_date > today:
        errors.append(FieldError("survey_date", _("The survey date cannot be in the future.")))
    exists = session.scalar(
        select(col(LeakSurvey.id)).where(
            col(LeakSurvey.workshop_id) == data.workshop_id, col(LeakSurvey.survey_date) == data.survey_date
        )
    )
    if exists is not None:
        errors.extend(_duplicate_day(workshop, data.survey_date).errors)
    point_ids = {row.data.seal_point_id for row in rows}
    points = (
        {p.id: p for p in session.scalars(select(SealPoint).where(col(SealPoint.id).in_(point_ids)))}
        if point_ids
        else {}
    )
    leaking_on: Counter[int] = Counter()
    for row in rows:
        point = points.get(row.data.seal_point_id)
        if point is None or point.workshop_id != data.workshop_id or not point.is_active:
            message = _("Leak row %(n)s: choose an active seal point of this workshop.", n=row.number)
            errors.append(FieldError(row_field(row.number, "seal_point_id"), message))
            continue
        # Each row is one leaking point: a line of n points cannot leak at more than n of them.
        leaking_on[point.id or 0] += 1
        if leaking_on[point.id or 0] > point.count:
            message = _(
                "Leak row %(n)s: %(code)s counts %(count)s seal points, and more rows than that name it.",
                n=row.number,
                code=point.code,
                count=point.count,
            )
            errors.append(FieldError(row_field(row.number, "seal_point_id"), message))
    if errors:
        raise ValidationFailed(_("The survey was not saved."), errors)
    totals = service.inventory_totals(session, [data.workshop_id])[data.workshop_id]
    survey = LeakSurvey.model_validate(
        data,
        update={
            "static_points": totals[SealKind.STATIC],
            "dynamic_points": totals[SealKind.DYNAMIC],
            "recorded_by_id": actor.id,
        },
    )
    try:
        with session.begin_nested():
            session.add(survey)
            session.flush()
    except IntegrityError:
        # Another survey of the day was saved between the check and this insert.
        raise _duplicate_day(workshop, data.survey_date) from None
    audit.record_create(session, actor, survey)
    for row in rows:
        point = points[row.data.seal_point_id]
        leak = Leak(
            workshop_id=data.workshop_id,
            seal_point_id=point.id,
            asset_id=point.asset_id,
            survey_id=survey.id,
            kind=point.kind,
            severity=row.data.severity,
            found_date=data.survey_date,
            description=row.data.description,
            photo_sha256=row.photo.sha256 if row.photo else "",
            photo_content_type=row.photo.content_type if row.photo else "",
            recorded_by_id=actor.id,
        )
        session.add(leak)
        session.flush()
        audit.record_create(session, actor, leak)
    return survey


# --- Photos -------------------------------------------------------------------------------

PHOTO_EXTENSIONS = ("jpg", "jpeg", "png")
PHOTO_ACCEPT = ",".join(f".{extension}" for extension in PHOTO_EXTENSIONS)


def store_photo(stream: BinaryIO, filename: str) -> StoredFile:
    """A leak's photo (JPEG or PNG) in the file store; anything else is refused by name."""
    if files.extension_of(filename) not in PHOTO_EXTENSIONS:
        message = _("“%(name)s” is not a photo: choose a JPEG or PNG file.", name=filename)
        raise ValidationFailed(message, [FieldError("photo", message)])
    _name, stored = files.store_named_upload(stream, filename)
    return stored
