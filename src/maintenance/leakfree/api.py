"""Read API of the leak-free programme (scope ``leakfree:read``).

- ``GET /leakfree/workshops`` is every workshop on ``as_of`` (default: today): its inventory, the
  latest survey's counts and rates (‰ as strings with two decimals), whether it meets the
  thresholds, its open leaks and its standing on the certification board.
- ``GET /leakfree/progress`` is the board's counts and the progress against this year's
  milestone (50% by 30 June, 100% by 31 December).

Both read :mod:`maintenance.leakfree.overview`, so they say what the pages say.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from maintenance.db import SessionDep, plant_today
from maintenance.leakfree import overview
from maintenance.leakfree.choices import BoardStanding
from maintenance.leakfree.overview import WorkshopRow
from maintenance.orders.api import _AUTH_RESPONSES
from maintenance.org.auth import api_scope

router = APIRouter(prefix="/leakfree", tags=["leak-free"])

LeakfreeReader = api_scope("leakfree:read")
AsOf = Annotated[
    date | None,
    Query(description="YYYY-MM-DD: the reference date (default: today)", ge=date(1950, 1, 1), le=date(2999, 12, 31)),
]


class WorkshopLeakRead(BaseModel):
    code: str
    name: str
    static_points: int = Field(description="Active static seal points in the inventory")
    dynamic_points: int = Field(description="Active dynamic seal points in the inventory")
    latest_survey_date: date | None = Field(description="The latest survey made by as_of")
    static_leaks: int | None = Field(description="Static leaks the latest survey found (None: no survey)")
    dynamic_leaks: int | None = Field(description="Dynamic leaks the latest survey found (None: no survey)")
    static_per_mille: str | None = Field(description="The latest survey's static rate in ‰, two decimals half up")
    dynamic_per_mille: str | None = Field(description="The latest survey's dynamic rate in ‰, two decimals half up")
    meets_thresholds: bool | None = Field(description="Static ≤ 0.5‰ and dynamic ≤ 2‰ (exact); None: no survey")
    open_leaks: int = Field(description="Leaks found by as_of and not repaired by then")
    certification_state: BoardStanding
    certified_date: date | None = Field(description="The certificate in force on as_of")
    valid_until: date | None = Field(description="Its last valid day")


class WorkshopLeakPage(BaseModel):
    as_of: date
    data: list[WorkshopLeakRead]


class ProgressRead(BaseModel):
    as_of: date
    workshops: int
    certified: int = Field(description="Certified on as_of, at risk included")
    in_assessment: int
    not_started: int
    at_risk: int
    percent: str | None = Field(description="certified ÷ workshops in percent, two decimals; None for 0 workshops")
    target_percent: str = Field(description="The share this year's milestone asks for, in percent")
    target_date: date = Field(description="30 June until then, 31 December after")
    required: int = Field(description="Workshops the milestone requires (rounded up)")
    on_track: bool = Field(description="certified ≥ required")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _workshop(row: WorkshopRow) -> WorkshopLeakRead:
    status, rates = row.status, row.status.latest_rates
    return WorkshopLeakRead(
        code=status.workshop.code,
        name=status.workshop.name,
        static_points=status.static_points,
        dynamic_points=status.dynamic_points,
        latest_survey_date=status.latest_survey.survey_date if status.latest_survey else None,
        static_leaks=rates.static_leaks if rates else None,
        dynamic_leaks=rates.dynamic_leaks if rates else None,
        static_per_mille=_text(rates.static_per_mille) if rates else None,
        dynamic_per_mille=_text(rates.dynamic_per_mille) if rates else None,
        meets_thresholds=status.meets_thresholds,
        open_leaks=status.open_leaks,
        certification_state=status.standing,
        certified_date=row.certified_date,
        valid_until=row.valid_until,
    )


@router.get(
    "/workshops",
    response_model=WorkshopLeakPage,
    summary="Every workshop's seal points, latest leak rates, open leaks and certification on a date",
    responses=_AUTH_RESPONSES,
)
def list_workshop_leak_status(
    session: SessionDep,
    user: LeakfreeReader,  # type: ignore[valid-type]
    as_of: AsOf = None,
) -> WorkshopLeakPage:
    day = as_of or plant_today()
    return WorkshopLeakPage(as_of=day, data=[_workshop(row) for row in overview.workshop_rows(session, day)])


@router.get(
    "/progress",
    response_model=ProgressRead,
    summary="Certified workshops on a date against this year's milestone (50% by 30 June, 100% by 31 December)",
    responses=_AUTH_RESPONSES,
)
def certification_progress(
    session: SessionDep,
    user: LeakfreeReader,  # type: ignore[valid-type]
    as_of: AsOf = None,
) -> ProgressRead:
    day = as_of or plant_today()
    progress = overview.progress_of_rows(overview.workshop_rows(session, day), day)
    target = Decimal(progress.target.numerator * 100) / Decimal(progress.target.denominator)
    return ProgressRead(
        as_of=day,
        workshops=progress.workshops,
        certified=progress.certified,
        in_assessment=progress.in_assessment,
        not_started=progress.not_started,
        at_risk=progress.at_risk,
        percent=_text(progress.percent),
        target_percent=str(target.quantize(Decimal("0.01"))),
        target_date=progress.target_date,
        required=progress.required,
        on_track=progress.on_track,
    )
