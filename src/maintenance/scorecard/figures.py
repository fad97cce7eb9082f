"""What every indicator of the scorecard gives: one figure, as of a day, for the plant or one
workshop, with the year's target and the page behind it. Each part of the programme (the savings
ledgers, the accidents, the projects, the operating log, and the other domains' figures read by
the scorecard) has a function ``(session, scope, targets) -> Figure``; the scorecard lists them,
judges each against its target and links to its page. The monthly assessment asks every workshop
at once: each indicator judged per workshop also has a grouped form ``(session, scope,
workshop_ids, targets) -> {workshop_id: Figure}`` that reads its domain once for all of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlmodel import Session

from maintenance.scorecard.indicators import Indicator


@dataclass(frozen=True)
class ScorecardScope:
    """The figures asked for: the year's, as of a day inside it, for the plant or one workshop
    (the monthly assessment asks per workshop)."""

    year: int
    as_of: date
    workshop_id: int | None = None

    def of_workshop(self, workshop_id: int) -> ScorecardScope:
        return replace(self, workshop_id=workshop_id)


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


# Each of the given workshops' figure (the scope's own workshop is not read), from one reading of
# the domain for all of them.
WorkshopFigureSource = Callable[
    [Session, ScorecardScope, Sequence[int], Mapping[Indicator, Decimal]], dict[int, Figure]
]


T = TypeVar("T")


def grouped_source(
    read: Callable[[Session, ScorecardScope, Sequence[int]], Mapping[int, T]],
    build: Callable[[ScorecardScope, Mapping[Indicator, Decimal], T], Figure],
) -> WorkshopFigureSource:
    """A grouped source from what it reads for all the workshops at once (``read``: each one's
    share) and how a scope's figure is built from its share (``build``, the one-scope source's
    own, given the workshop's scope)."""

    def grouped(
        session: Session, scope: ScorecardScope, workshop_ids: Sequence[int], targets: Mapping[Indicator, Decimal]
    ) -> dict[int, Figure]:
        shares = read(session, scope, workshop_ids)
        return {
            workshop_id: build(scope.of_workshop(workshop_id), targets, shares[workshop_id])
            for workshop_id in workshop_ids
        }

    return grouped


def one_workshop(
    grouped: WorkshopFigureSource, session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]
) -> Figure:
    """The figure of the scope's workshop from the grouped source: a group of one."""
    assert scope.workshop_id is not None, "a workshop's scope"
    return grouped(session, scope, [scope.workshop_id], targets)[scope.workshop_id]


def per_workshop(source: FigureSource) -> WorkshopFigureSource:
    """A source without a grouped form asked once per workshop (its queries grow with them)."""

    def grouped(
        session: Session, scope: ScorecardScope, workshop_ids: Sequence[int], targets: Mapping[Indicator, Decimal]
    ) -> dict[int, Figure]:
        return {workshop_id: source(session, scope.of_workshop(workshop_id), targets) for workshop_id in workshop_ids}

    return grouped
