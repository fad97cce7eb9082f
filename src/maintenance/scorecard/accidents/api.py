"""Read API of the accident register (scope ``scorecard:read``): ``GET /scorecard/accidents`` lists
the accidents and incidents of a year (default this year), newest first, each with its corrective
actions and the number of the order an action raised, in a fixed number of queries per page.
Everyone reads the register on its page, so every role's token reads it here too (the scorecard
figures of :mod:`maintenance.scorecard.api` are the managers')."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.budget.period import FIRST_YEAR, LAST_YEAR
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders.api import _AUTH_RESPONSES, MAX_PAGE_SIZE
from maintenance.orders.models import WorkOrder
from maintenance.org.auth import api_scope
from maintenance.org.models import Workshop
from maintenance.org.service import get_workshop_by_code
from maintenance.scorecard.accidents import service
from maintenance.scorecard.accidents.models import Accident, AccidentAction, AccidentClass

router = APIRouter()

RegisterReader = api_scope("scorecard:read")


class AccidentActionRead(BaseModel):
    description: str
    owner: str
    due_date: date | None
    done_on: date | None = Field(description="null: still open")
    order_number: str | None = Field(description="The work order the action raised, if any")


class AccidentRead(BaseModel):
    id: int
    occurred_on: date
    accident_class: AccidentClass = Field(description="major, serious, general; incident: not counted in the rate")
    title: str
    asset_tag: str
    workshop_code: str = Field(description="The workshop it is assessed against (the asset's when recorded)")
    downtime_hours: str = Field(description="Hours, one decimal, as a string")
    loss_cny: str = Field(description="元 with two decimals, as a string")
    description: str
    cause: str
    actions: list[AccidentActionRead]


class AccidentPage(BaseModel):
    data: list[AccidentRead]
    count: int = Field(description="Accidents and incidents matching the filter, on all pages")
    page: int
    size: int


@router.get(
    "/accidents",
    response_model=AccidentPage,
    summary="The accident register of a year: accidents and incidents with their corrective actions",
    responses=_AUTH_RESPONSES,
)
def list_accidents(
    session: SessionDep,
    user: RegisterReader,  # type: ignore[valid-type]
    year: Annotated[int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR, description="Default: this year")] = None,
    workshop: Annotated[str | None, Query(max_length=20, description="Workshop code")] = None,
    accident_class: Annotated[AccidentClass | None, Query(alias="class", description="Class code")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> AccidentPage:
    workshop_id = None
    if workshop:
        found = get_workshop_by_code(session, workshop.strip())
        if found is None:
            raise ValidationFailed(
                _("Some input is not valid."),
                [FieldError("workshop", _("No workshop has the code %(code)s.", code=workshop.strip()))],
            )
        workshop_id = found.id
    filters = service.AccidentFilters(
        year=year or plant_today().year, workshop_id=workshop_id, accident_class=accident_class, sort="-date"
    )
    stmt = service.list_accidents(filters)
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(
        stmt.add_columns(col(Workshop.code).label("workshop_code"))
        .join(Workshop, col(Workshop.id) == col(Accident.workshop_id))
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    actions = _actions_of(session, [row.Accident.id for row in rows])
    return AccidentPage(
        data=[
            AccidentRead(
                **row.Accident.model_dump(include=set(AccidentRead.model_fields) - {"downtime_hours", "loss_cny"}),
                downtime_hours=f"{row.Accident.downtime_hours:.1f}",
                loss_cny=f"{row.Accident.loss_cny:.2f}",
                asset_tag=row.asset_tag,
                workshop_code=row.workshop_code,
                actions=actions[row.Accident.id],
            )
            for row in rows
        ],
        count=count,
        page=page,
        size=size,
    )


def _actions_of(session: Session, accident_ids: list[int]) -> dict[int, list[AccidentActionRead]]:
    """The corrective actions of the page's accidents, in the order they were added, in one query."""
    rows = session.execute(
        select(AccidentAction, col(WorkOrder.number))
        .outerjoin(WorkOrder, col(WorkOrder.id) == col(AccidentAction.order_id))
        .where(col(AccidentAction.accident_id).in_(accident_ids))
        .order_by(col(AccidentAction.id))
    )
    fields = set(AccidentActionRead.model_fields)
    by_accident: dict[int, list[AccidentActionRead]] = defaultdict(list)
    for action, order_number in rows:
        by_accident[action.accident_id].append(
            AccidentActionRead(**action.model_dump(include=fields), order_number=order_number)
        )
    return by_accident
