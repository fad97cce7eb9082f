"""Read API of the year's scorecard (scope ``scorecard:read``); the accident register's is in
:mod:`maintenance.scorecard.accidents.api`.

``GET /scorecard/{year}?as_of=`` is every indicator of the year's programme as of a day (default
today, kept inside the year as the page keeps it): its figure, the target it is judged against on
that day, its state and the page behind it, from the same :func:`service.scorecard` as the page.
Money is 元 as a string with two decimals, shares, rates and the accident change are fractions as
strings with four decimals (0.9000 = 90 %), exact, never floats. The scorecard shows plant-wide
figures: managers', admins' and auditors' tokens read it, an engineer's is refused (403).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from maintenance.budget.api import AsOf
from maintenance.budget.period import YearPath, within
from maintenance.db import SessionDep, plant_today
from maintenance.i18n import gettext as _
from maintenance.orders.api import _AUTH_RESPONSES
from maintenance.org.auth import api_scope
from maintenance.scorecard import routes, service
from maintenance.scorecard.accidents import api as accidents_api
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.states import Kind, State

router = APIRouter(prefix="/scorecard", tags=["scorecard"])
router.include_router(accidents_api.router)  # before /{year}, which would take "accidents" for a year

ScorecardReader = api_scope("scorecard:read")
QUANTUM = {Kind.MONEY: Decimal("0.01"), Kind.SHARE: Decimal("0.0001"), Kind.CHANGE: Decimal("0.0001")}
NUMBER = "元 with two decimals for money; a fraction with four decimals for shares, rates and the change"


class IndicatorRead(BaseModel):
    indicator: Indicator
    group: str = Field(description="The programme's part: target, focuses, projects, works or measures")
    name: str = Field(description="The indicator's name in the request's language")
    kind: str = Field(description="money (元), share (a fraction) or change (a fraction against last year)")
    value: str | None = Field(description=f"The figure ({NUMBER}); null: nothing to measure yet, or not built")
    target: str | None = Field(description=f"The target it is judged against on as_of ({NUMBER}); null: none")
    state: State = Field(description="green, amber, red; no_data, no_target; not_built: its part is not built yet")
    detail: str = Field(description="How the figure was reached, or why there is none")
    link: str | None = Field(description="The page behind the figure; null: not built yet")


class CountsRead(BaseModel):
    green: int
    amber: int
    red: int


class ScorecardRead(BaseModel):
    year: int
    as_of: date = Field(description="The reference date, inside the year")
    counts: CountsRead
    indicators: list[IndicatorRead] = Field(description="Every indicator, in the programme's order")


def _number(value: Decimal | None, kind: Kind) -> str | None:
    return None if value is None else str(value.quantize(QUANTUM[kind], rounding=ROUND_HALF_UP))


@router.get(
    "/{year}",
    response_model=ScorecardRead,
    summary="The year's scorecard as of a date: every indicator's figure, target, state and page",
    responses=_AUTH_RESPONSES,
)
def read_scorecard(
    session: SessionDep,
    user: ScorecardReader,  # type: ignore[valid-type]
    year: YearPath,
    as_of: AsOf = None,
) -> ScorecardRead:
    routes.require_reader(user)
    scope = ScorecardScope(year, within(year, as_of or plant_today()))
    card = service.scorecard(session, scope)
    counts = card.counts
    indicators = []
    for group, tiles in card.groups:
        for tile in tiles:
            figure = tile.figure
            indicators.append(
                IndicatorRead(
                    indicator=tile.indicator,
                    group=group.code,
                    name=tile.indicator.label,
                    kind=tile.kind.value,
                    value=_number(figure.value, tile.kind) if figure else None,
                    target=_number(figure.target, tile.kind) if figure else None,
                    state=tile.state,
                    detail=figure.detail if figure else _(service.NOT_BUILT_TEXT),
                    link=figure.link if figure else None,
                )
            )
    return ScorecardRead(
        year=year,
        as_of=scope.as_of,
        counts=CountsRead(green=counts[State.GREEN], amber=counts[State.AMBER], red=counts[State.RED]),
        indicators=indicators,
    )
