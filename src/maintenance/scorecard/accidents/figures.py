"""The accident register's figure for the scorecard: the accident rate against last year."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from sqlmodel import Session

from maintenance.i18n import gettext as _
from maintenance.scorecard.accidents import service
from maintenance.scorecard.figures import Figure, ScorecardScope, grouped_source
from maintenance.scorecard.indicators import Indicator

LIST = "/scorecard/accidents"


def accident_rate(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    """This year's accidents (incidents apart) through the scope's day against last year's through
    the same day, as a change (−0.1 = 10 % fewer), judged against the year's target (−10 % by
    default). Without accidents last year the change is no number: ``met`` then says whether the
    target is met (none this year) or not (some). One query."""
    return _figure(scope, targets, service.count_accidents(session, _last_day(scope), workshop_id=scope.workshop_id))


def _last_day(scope: ScorecardScope) -> date:
    return min(scope.as_of, date(scope.year, 12, 31))


def _figure(scope: ScorecardScope, targets: Mapping[Indicator, Decimal], counts: service.AccidentCounts) -> Figure:
    rate = counts.rate
    target = targets.get(Indicator.ACCIDENT_RATE)
    params: dict[str, int] = {"year": scope.year}
    if scope.workshop_id is not None:
        params["workshop_id"] = scope.workshop_id
    detail = _(
        "This year %(this)s, same span last year %(last)s",
        this=rate.this_year,
        last=rate.last_year,
    )
    return Figure(
        indicator=Indicator.ACCIDENT_RATE,
        value=rate.change,
        target=target,
        link=f"{LIST}?{urlencode(params)}",
        detail=detail,
        met=rate.meets(target) if rate.change is None else None,
    )


# Each workshop's :func:`accident_rate`, in one query for them all.
accident_rate_by_workshop = grouped_source(
    lambda session, scope, workshop_ids: service.count_accidents_by_workshop(session, _last_day(scope), workshop_ids),
    _figure,
)
