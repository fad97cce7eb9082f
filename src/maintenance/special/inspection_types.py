"""The inspection rules as data administrators edit: each inspection type of a special-equipment
category, its interval, first-inspection period, reminder lead and, per safety grade (1–5), an
interval of its own or "must not operate". A grade without a rule of its own falls back to the
type's interval (see :class:`maintenance.special.rules.TypeRule`).

The grade rules are edited as a mapping ``{grade: months | None}`` (None: must not operate); a
grade missing from it has no row. Every change of the type and of each grade row is logged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.choices import SpecialCategory
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.permissions import Capability, require
from maintenance.special.models import (
    SAFETY_GRADES,
    InspectionGradeInterval,
    InspectionType,
    InspectionTypeFields,
    InspectionTypeUpdate,
)

GradeRules = Mapping[int, int | None]
MIN_MONTHS, MAX_MONTHS = 1, 240


# --- Reading ------------------------------------------------------------------------------


def list_types(session: Session) -> list[InspectionType]:
    """Every inspection type, by category (in the choices' order), then by code."""
    order = {member: index for index, member in enumerate(SpecialCategory)}
    types = session.scalars(select(InspectionType)).all()
    return sorted(types, key=lambda t: (order[t.category], t.code))


def grade_rules_by_type(session: Session) -> dict[int, dict[int, int | None]]:
    rules: dict[int, dict[int, int | None]] = defaultdict(dict)
    for row in session.scalars(select(InspectionGradeInterval)):
        rules[row.inspection_type_id][row.safety_grade] = row.interval_months
    return dict(rules)


def grade_rows_of(session: Session, inspection_type: InspectionType) -> list[InspectionGradeInterval]:
    return list(
        session.scalars(
            select(InspectionGradeInterval)
            .where(col(InspectionGradeInterval.inspection_type_id) == inspection_type.id)
            .order_by(col(InspectionGradeInterval.safety_grade))
        )
    )


def get_type_or_raise(session: Session, type_id: int) -> InspectionType:
    found = session.get(InspectionType, type_id)
    if found is None:
        raise NotFound(_("There is no inspection type %(id)s.", id=type_id))
    return found


# --- The grade rules as a form gives them -------------------------------------------------


def parse_grade_rules(form: Mapping[str, Any]) -> tuple[dict[int, int | None], dict[str, str]]:
    """Per safety grade N: the checkbox ``grade_N_stop`` (must not operate), else ``grade_N``: empty
    (falls back to the type's interval) or a number of months. Returns the rules and, per field,
    why one was refused."""
    rules: dict[int, int | None] = {}
    errors: dict[str, str] = {}
    for grade in SAFETY_GRADES:
        name = f"grade_{grade}"
        text = str(form.get(name) or "").strip()
        if form.get(f"{name}_stop"):
            rules[grade] = None
        elif not text:
            continue
        elif not text.isdigit():
            errors[name] = _("Enter a whole number of months.")
        elif not MIN_MONTHS <= int(text) <= MAX_MONTHS:
            errors[name] = _("Enter between %(low)s and %(high)s months.", low=MIN_MONTHS, high=MAX_MONTHS)
        else:
            rules[grade] = int(text)
    return rules, errors


def grade_form_values(rules: GradeRules) -> dict[str, str]:
    """The ``grade_N`` form values of stored rules (the inverse of :func:`parse_grade_rules`)."""
    return {
        f"grade_{grade}_stop" if months is None else f"grade_{grade}": "true" if months is None else str(months)
        for grade, months in rules.items()
    }


# --- Writing ------------------------------------------------------------------------------


def _validate(session: Session, data: InspectionTypeFields, current: InspectionType | None) -> None:
    errors: list[FieldError] = []
    if data.category == SpecialCategory.NONE:
        errors.append(FieldError("category", _("Choose a special-equipment category.")))
    same_code = select(InspectionType).where(func.upper(col(InspectionType.code)) == data.code.upper())
    if current is not None:
        same_code = same_code.where(col(InspectionType.id) != current.id)
    if session.scalar(same_code) is not None:
        errors.append(FieldError("code", _("Another inspection type has the code %(code)s.", code=data.code)))
    if errors:
        raise ValidationFailed(_("The inspection type was not saved."), errors)


def _sync_grades(session: Session, inspection_type: InspectionType, rules: GradeRules, *, actor: Actor) -> bool:
    """Make the type's grade rows say ``rules``; each row added, changed or removed is logged.
    Returns whether anything changed."""
    rows = {row.safety_grade: row for row in grade_rows_of(session, inspection_type)}
    changed = False
    for grade in SAFETY_GRADES:
        row = rows.get(grade)
        if grade not in rules:
            if row is not None:
                audit.record_delete(session, actor, row)
                session.delete(row)
                changed = True
        elif row is None:
            row = InspectionGradeInterval(
                inspection_type_id=inspection_type.id,  # type: ignore[arg-type]
                safety_grade=grade,
                interval_months=rules[grade],
            )
            session.add(row)
            session.flush()
            audit.record_create(session, actor, row)
            changed = True
        elif row.interval_months != rules[grade]:
            before = audit.snapshot(row)
            row.interval_months = rules[grade]
            session.flush()
            audit.record_update(session, actor, row, before)
            changed = True
    session.flush()
    return changed


def create_type(session: Session, data: InspectionTypeFields, rules: GradeRules, *, actor: Actor) -> InspectionType:
    require(actor, Capability.ADMINISTER)
    _validate(session, data, None)
    inspection_type = InspectionType.model_validate(data)
    session.add(inspection_type)
    session.flush()
    audit.record_create(session, actor, inspection_type)
    _sync_grades(session, inspection_type, rules, actor=actor)
    return inspection_type


def _stale(inspection_type: InspectionType) -> Conflict:
    return Conflict(
        _(
            "Someone else changed inspection type %(code)s while you were editing it. Review and edit again.",
            code=inspection_type.code,
        ),
        [FieldError("version", _("stale"))],
    )


def update_type(
    session: Session, inspection_type: InspectionType, data: InspectionTypeUpdate, rules: GradeRules, *, actor: Actor
) -> InspectionType:
    """Apply a full edit made from ``data.version``; a change of the grade rules alone moves the
    version on too, so an open form of the same type goes stale."""
    require(actor, Capability.ADMINISTER)
    if data.version != inspection_type.version:
        raise _stale(inspection_type)
    _validate(session, data, inspection_type)
    before = audit.snapshot(inspection_type)
    with versioned_write(session, inspection_type, lambda: _stale(inspection_type)):
        inspection_type.sqlmodel_update(data.model_dump(exclude={"version"}))
        fields_changed = audit.snapshot(inspection_type) != before
        grades_changed = _sync_grades(session, inspection_type, rules, actor=actor)
        if fields_changed or grades_changed:
            inspection_type.version += 1
    if fields_changed or grades_changed:
        audit.record_update(session, actor, inspection_type, before)
    return inspection_type


def categories() -> Sequence[SpecialCategory]:
    """The categories an inspection type may belong to (every one but "not special equipment")."""
    return [member for member in SpecialCategory if member != SpecialCategory.NONE]
