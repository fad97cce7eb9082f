"""What every indicator of the scorecard gives: one figure, as of a day, for the plant or one
workshop, with the year's target and the page behind it. Each part of the programme (the savings
ledgers, the accidents, the projects, the operating log, and the other domains' figures read by
the scorecard) has a function ``(session, scope, targets) -> Figure``; the scorecard lists them,
judges each against its target and links to its page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.scorecard.indicators import Indicator


@dataclass(frozen=True)
class ScorecardScope:
    """The figures asked for: the year's, as of a day inside it, for the plant or one workshop
    (the monthly assessment asks per workshop)."""

    year: int
    as_of: date
    workshop_id: int | None = None


@dataclass(frozen=True)
class Figure:
    """One indicator's figure. Money is 元, shares and rates are fractions (0.9 = 90 %), a change
    against last year is a fraction (−0.1 = −10 %). ``value`` is None when there is nothing to
    measure yet (no operating log, no orders in the period), which is not zero: ``detail`` then
    says why.

    ``target`` is what the figure is judged against on the day asked: a source whose target is
    for the whole year and accrues over it (the savings) judges the year to date against the
    share of the year gone by, and one with a dated target (half the workshops certified by
    30 June, all by year end) uses the one in force; ``detail`` names the year's target."""

    indicator: Indicator
    value: Decimal | None
    target: Decimal | None
    link: str
    detail: str = ""
    # Set by a source whose figure alone cannot be judged against its target: no accidents this
    # year meets the target whatever last year had, though the change against a year without any
    # is no number.
    met: bool | None = None


FigureSource = Callable[[Session, ScorecardScope, Mapping[Indicator, Decimal]], Figure]
