"""Wall thickness (API 570): the assessment of one thickness monitoring location (an htmx fragment
the point page loads) and the register of every location, shortest remaining life first.

The register runs a fixed number of queries whatever the number of locations: one for the points
(with asset and workshop), one for the latest two readings of all of them (``ROW_NUMBER()`` over
each point's readings, newest first — a window function SQLite ≥ 3.25 and PostgreSQL both have).
Every logged-in role reads both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.db import SessionDep, plant_timezone, plant_today
from maintenance.exceptions import NotFound
from maintenance.i18n import gettext as _
from maintenance.monitoring.choices import Quantity
from maintenance.monitoring.filters import workshop_filter
from maintenance.monitoring.models import MeasurementPoint, Reading
from maintenance.monitoring.thickness.assessment import ThicknessAssessment, ThicknessReading, add_years, assess
from maintenance.org import service as org_service
from maintenance.org.auth import CurrentUser
from maintenance.org.models import Workshop
from maintenance.web import RecordId, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ThicknessLocation:
    point: MeasurementPoint
    asset: Asset
    workshop: Workshop
    assessment: ThicknessAssessment


def latest_two_readings(session: Session, point_ids: list[int] | None = None) -> dict[int, list[ThicknessReading]]:
    """The latest two readings (plant-local dates) of every wall-thickness point, or of ``point_ids``: one query."""
    rank = (
        func.row_number().over(partition_by=col(Reading.point_id), order_by=col(Reading.taken_at).desc()).label("rank")
    )
    ranked = (
        select(col(Reading.point_id), col(Reading.taken_at), col(Reading.value), rank)
        .join(MeasurementPoint, col(MeasurementPoint.id) == col(Reading.point_id))
        .where(col(MeasurementPoint.quantity) == Quantity.WALL_THICKNESS)
    )
    if point_ids is not None:
        ranked = ranked.where(col(Reading.point_id).in_(point_ids))
    subquery = ranked.subquery()
    rows = session.execute(
        select(subquery.c.point_id, subquery.c.taken_at, subquery.c.value).where(subquery.c.rank <= 2)
    ).all()
    zone = plant_timezone()
    readings: dict[int, list[ThicknessReading]] = defaultdict(list)
    for point_id, taken_at, value in rows:
        readings[point_id].append(ThicknessReading(taken_at.astimezone(zone).date(), value))
    return readings


def assess_point(point: MeasurementPoint, readings: list[ThicknessReading]) -> ThicknessAssessment:
    return assess(
        initial_mm=point.initial_thickness_mm,
        initial_date=point.initial_date,
        required_mm=point.required_thickness_mm,
        readings=readings,
    )


def thickness_locations(session: Session, workshop_id: int | None = None) -> list[ThicknessLocation]:
    """Every active wall-thickness location with its assessment, shortest remaining life first
    (below required first of all, then at it; unlimited life last); two queries."""
    stmt = (
        select(MeasurementPoint, Asset, Workshop)
        .join(Asset, col(Asset.id) == col(MeasurementPoint.asset_id))
        .join(Workshop, col(Workshop.id) == col(MeasurementPoint.workshop_id))
        .where(col(MeasurementPoint.quantity) == Quantity.WALL_THICKNESS, col(MeasurementPoint.is_active))
        .order_by(col(MeasurementPoint.code))
    )
    if workshop_id is not None:
        stmt = stmt.where(col(MeasurementPoint.workshop_id) == workshop_id)
    rows = session.execute(stmt).all()
    readings = latest_two_readings(session)
    locations = [
        ThicknessLocation(point, asset, workshop, assess_point(point, readings.get(point.id or 0, [])))
        for point, asset, workshop in rows
    ]
    return sorted(locations, key=lambda location: location.assessment.sort_key())


@dataclass(frozen=True)
class RegisterSummary:
    locations: int
    below_required: int
    at_required: int
    overdue: int
    due_within_a_year: int


def summarise(locations: list[ThicknessLocation], today: date) -> RegisterSummary:
    def due_soon(assessment: ThicknessAssessment) -> bool:
        due = assessment.next_inspection_date
        return due is not None and today <= due <= add_years(today, 1)

    return RegisterSummary(
        locations=len(locations),
        below_required=sum(1 for location in locations if location.assessment.below_required),
        at_required=sum(1 for location in locations if location.assessment.at_required),
        overdue=sum(1 for location in locations if location.assessment.is_overdue(today)),
        due_within_a_year=sum(1 for location in locations if due_soon(location.assessment)),
    )


@router.get("/monitoring/thickness")
def thickness_register(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    workshops = org_service.list_workshops(session)
    workshop_id = workshop_filter(request, workshops)
    locations = thickness_locations(session, workshop_id)
    today = plant_today()
    return render(
        request,
        "monitoring/thickness/page.html",
        {
            "locations": locations,
            "summary": summarise(locations, today),
            "today": today,
            "workshops": workshops,
            "workshop_id": workshop_id,
        },
        block="results",
    )


@router.get("/monitoring/points/{point_id:int}/thickness")
def point_thickness(request: Request, point_id: RecordId, session: SessionDep, user: CurrentUser) -> Response:
    point = session.get(MeasurementPoint, point_id)
    if point is None:
        raise NotFound(_("There is no measurement point %(id)s.", id=point_id))
    if point.quantity != Quantity.WALL_THICKNESS:
        raise NotFound(_("Point %(code)s does not measure wall thickness.", code=point.code))
    readings = latest_two_readings(session, [point_id]).get(point_id, [])
    today = plant_today()
    return render(
        request,
        "monitoring/thickness/_assessment.html",
        {"point": point, "assessment": assess_point(point, readings), "today": today},
        block=None,
    )
