"""A year's target of an indicator: the one a manager set, else the default."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, col, select

from maintenance.scorecard.indicators import DEFAULT_TARGETS, Indicator
from maintenance.scorecard.models import ScorecardTarget


def targets_of_year(session: Session, year: int) -> dict[Indicator, Decimal]:
    """Every indicator's target for the year that has one (set or default), in one query."""
    targets = dict(DEFAULT_TARGETS)
    rows = session.exec(select(ScorecardTarget).where(col(ScorecardTarget.year) == year))
    targets.update({row.indicator: row.value for row in rows})
    return targets


def target_for(session: Session, year: int, indicator: Indicator) -> Decimal | None:
    return targets_of_year(session, year).get(indicator)
