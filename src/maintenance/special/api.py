"""JSON API of the special-equipment register (scope ``special:read``).

- ``GET /special-equipment`` pages through the items (optionally of one workshop) with where each
  stands on ``as_of`` (default: today): its registration and, per required inspection, the last
  report, the next due date, the application deadline and the application recorded for it.
- ``GET /special-equipment/coverage`` is coverage on ``as_of``: overall, per workshop and per
  category, as exact ratios.

Both read the register through ``service.register_items``, so they say what the pages say.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.choices import SpecialCategory
from maintenance.assets.models import Asset
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import NotFound
from maintenance.i18n import gettext as _
from maintenance.orders.api import _AUTH_RESPONSES
from maintenance.org import service as org_service
from maintenance.org.auth import api_scope
from maintenance.special import service
from maintenance.special.choices import InspectionResult, Standing
from maintenance.special.rules import COVERAGE_TARGET, Coverage, TypeStanding
from maintenance.special.service import RegisterItem

router = APIRouter(prefix="/special-equipment", tags=["special equipment"])

SpecialReader = api_scope("special:read")
MAX_PAGE_SIZE = 500
_RESPONSES = _AUTH_RESPONSES | {404: {"description": "No workshop has this code"}}


class LastInspectionRead(BaseModel):
    inspected_date: date
    result: InspectionResult
    safety_grade: int | None
    report_number: str
    agency: str


class ApplicationRead(BaseModel):
    applied_date: date
    agency: str
    reference: str


class RequiredInspectionRead(BaseModel):
    type_code: str
    last_inspection: LastInspectionRead | None
    next_due_date: date | None = Field(description="None: no date to count from, or must not operate whatever the date")
    due_source: Literal["report", "rules"] | None = Field(
        description="report: the last report's 下次检验日期; rules: computed from the interval rules"
    )
    application_deadline: date | None = Field(description="Apply by this day (one month before the due date)")
    application: ApplicationRead | None
    standing: Standing


class SpecialItemRead(BaseModel):
    asset_id: int
    tag: str
    name: str
    workshop_code: str
    category: SpecialCategory
    sub_category: str
    certificate_number: str | None
    registration_date: date | None
    in_service: bool
    standing: Standing
    must_not_operate: bool
    registration_missing: bool = Field(description="In service more than 30 days without a use registration")
    inspections: list[RequiredInspectionRead]
    next_due_date: date | None = Field(description="The earliest due date of the required inspections")


class SpecialItemPage(BaseModel):
    data: list[SpecialItemRead]
    count: int = Field(description="Items matching the filter, on all pages")
    page: int
    size: int
    as_of: date


class CoverageRead(BaseModel):
    covered: int
    total: int
    ratio: str | None = Field(description="covered ÷ total, exact decimal with 4 places (half up); None for 0 items")
    percent: str | None = Field(description="The ratio in percent with 2 decimals (half up)")
    target_met: bool = Field(description="ratio ≥ 0.80, the plant's target")


class CoverageReportRead(BaseModel):
    as_of: date
    target: str = Field(description="The target ratio")
    overall: CoverageRead
    by_workshop: dict[str, CoverageRead] = Field(description="By workshop code")
    by_category: dict[str, CoverageRead] = Field(description="By category code")


def _as_of(value: date | None) -> date:
    return value or plant_today()


def _workshop_ids(session: Session, code: str | None) -> list[int] | None:
    if code is None:
        return None
    workshop = org_service.get_workshop_by_code(session, code.strip())
    if workshop is None or workshop.id is None:
        raise NotFound(_("No workshop has the code %(code)s.", code=code))
    return [workshop.id]


def _required(required: TypeStanding) -> RequiredInspectionRead:
    last, application = required.last, required.application
    due_source: Literal["report", "rules"] | None = None
    if required.due_date is not None:
        due_source = "report" if last is not None and last.report_next_due_date is not None else "rules"
    return RequiredInspectionRead(
        type_code=required.rule.inspection_type.code,
        last_inspection=None
        if last is None
        else LastInspectionRead(
            inspected_date=last.inspected_date,
            result=last.result,
            safety_grade=last.safety_grade,
            report_number=last.report_number,
            agency=last.agency,
        ),
        next_due_date=required.due_date,
        due_source=due_source,
        application_deadline=required.application_deadline,
        application=None
        if application is None
        else ApplicationRead(
            applied_date=application.applied_date, agency=application.agency, reference=application.reference
        ),
        standing=required.standing,
    )


def _item(item: RegisterItem, workshop_codes: dict[int, str]) -> SpecialItemRead:
    asset, registration, standing = item.asset, item.registration, item.standing
    assert asset.id is not None
    next_due = standing.next_due
    return SpecialItemRead(
        asset_id=asset.id,
        tag=asset.tag,
        name=asset.name,
        workshop_code=workshop_codes.get(asset.workshop_id, ""),
        category=asset.special_category,
        sub_category=registration.sub_category if registration else "",
        certificate_number=registration.certificate_number if registration else None,
        registration_date=registration.registration_date if registration else None,
        in_service=item.in_service,
        standing=standing.standing,
        must_not_operate=standing.must_not_operate,
        registration_missing=standing.registration_missing,
        inspections=[_required(required) for required in standing.types],
        next_due_date=next_due.due_date if next_due else None,
    )


def _workshop_codes(session: Session) -> dict[int, str]:
    return {w.id: w.code for w in org_service.list_workshops(session) if w.id is not None}


@router.get(
    "",
    response_model=SpecialItemPage,
    summary="The special-equipment register on a date, with each item's status and due dates",
    responses=_RESPONSES,
)
def list_special_equipment(
    session: SessionDep,
    user: SpecialReader,  # type: ignore[valid-type]
    as_of: Annotated[date | None, Query(description="YYYY-MM-DD: the reference date (default: today)")] = None,
    workshop: Annotated[str | None, Query(max_length=20, description="Workshop code")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> SpecialItemPage:
    day = _as_of(as_of)
    stmt = service.special_assets_query(workshop_ids=_workshop_ids(session, workshop))
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page_ids = [
        asset_id
        for asset_id in session.scalars(stmt.with_only_columns(col(Asset.id)).limit(size).offset((page - 1) * size))
        if asset_id is not None
    ]
    items = service.register_items(session, day, asset_ids=page_ids) if page_ids else []
    codes = _workshop_codes(session)
    return SpecialItemPage(data=[_item(item, codes) for item in items], count=count, page=page, size=size, as_of=day)


_RATIO_PLACES = Decimal("0.0001")


def _coverage(coverage: Coverage) -> CoverageRead:
    ratio = coverage.ratio
    exact = None if ratio is None else Decimal(ratio.numerator) / Decimal(ratio.denominator)
    return CoverageRead(
        covered=coverage.covered,
        total=coverage.total,
        ratio=None if exact is None else str(exact.quantize(_RATIO_PLACES, rounding=ROUND_HALF_UP)),
        percent=None if coverage.percent is None else str(coverage.percent),
        target_met=coverage.meets(COVERAGE_TARGET),
    )


@router.get(
    "/coverage",
    response_model=CoverageReportRead,
    summary="Coverage on a date: in-service items with every required inspection in date and passed",
    responses=_AUTH_RESPONSES,
)
def special_equipment_coverage(
    session: SessionDep,
    user: SpecialReader,  # type: ignore[valid-type]
    as_of: Annotated[date | None, Query(description="YYYY-MM-DD: the reference date (default: today)")] = None,
) -> CoverageReportRead:
    day = _as_of(as_of)
    report = service.coverage_report(service.register_items(session, day), day)
    codes = _workshop_codes(session)
    target = Decimal(COVERAGE_TARGET.numerator) / Decimal(COVERAGE_TARGET.denominator)
    return CoverageReportRead(
        as_of=day,
        target=str(target.quantize(Decimal("0.01"))),
        overall=_coverage(report.overall),
        by_workshop={codes.get(key, str(key)): _coverage(value) for key, value in report.by_workshop.items()},
        by_category={key.value: _coverage(value) for key, value in report.by_category.items()},
    )
