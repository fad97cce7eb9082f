"""The year's scorecard: every indicator's figure judged against its target, grouped as the
programme is ("12345": 1 key target, 2 focuses, 4 projects, 5 works, and the measures).

The targets are read once (:func:`targets.targets_of_year`) and handed to every source; an
indicator without a source is a tile that says its part is not built yet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from maintenance.i18n import N_
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can
from maintenance.scorecard.figures import Figure, FigureSource, ScorecardScope
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.sources import SOURCES
from maintenance.scorecard.states import JUDGED, RULES, Kind, Rule, State, judge
from maintenance.scorecard.targets import targets_of_year

NOT_BUILT_TEXT = N_(
    "Not built yet: the part of the programme that gives this figure is still being built, so there is no "
    "figure to show."
)


@dataclass(frozen=True)
class Group:
    code: str
    title: str  # a msgid (N_), translated when drawn
    indicators: tuple[Indicator, ...]


GROUPS: tuple[Group, ...] = (
    Group("target", N_("1 key target"), (Indicator.REPAIR_COST,)),
    Group("focuses", N_("2 focuses"), (Indicator.CBM_SHARE, Indicator.TURNAROUND)),
    Group("projects", N_("4 projects"), (Indicator.PROJECTS, Indicator.LEAKFREE)),
    Group(
        "works",
        N_("5 works"),
        (Indicator.REFURBISH_SAVINGS, Indicator.SPECIAL_COVERAGE, Indicator.ACCIDENT_RATE),
    ),
    Group(
        "measures",
        N_("Measures"),
        (
            Indicator.MATERIAL_MATCH,
            Indicator.LOCALISATION_SAVINGS,
            Indicator.TENDER_SAVINGS,
            Indicator.INTACTNESS,
            Indicator.CONTINUOUS_RUN,
            Indicator.LOAD,
            Indicator.PM_COMPLIANCE,
        ),
    ),
)


def may_read_scorecard(user: User) -> bool:
    """The scorecard shows plant-wide figures (the cost among them): managers, admins and auditors
    read it; an engineer (who writes in their own workshops only) will read their workshop's in the
    monthly assessment."""
    return not (can(user, Capability.WRITE) and not can(user, Capability.WRITE_EVERYWHERE))


@dataclass(frozen=True)
class Tile:
    indicator: Indicator
    state: State
    figure: Figure | None  # None: the part that gives it is not built yet

    @property
    def rule(self) -> Rule:
        return RULES[self.indicator]

    @property
    def kind(self) -> Kind:
        return self.rule.kind


@dataclass(frozen=True)
class Scorecard:
    scope: ScorecardScope
    groups: list[tuple[Group, list[Tile]]]

    @property
    def tiles(self) -> list[Tile]:
        return [tile for _group, tiles in self.groups for tile in tiles]

    @property
    def counts(self) -> dict[State, int]:
        """Tiles per state, the judged ones (green, amber, red) always present."""
        counted = Counter(tile.state for tile in self.tiles)
        return {state: counted.get(state, 0) for state in State if state in JUDGED or counted.get(state)}


def tile_of(
    session: Session,
    scope: ScorecardScope,
    indicator: Indicator,
    source: FigureSource | None,
    targets: Mapping[Indicator, Decimal],
) -> Tile:
    if source is None:
        return Tile(indicator, State.NOT_BUILT, None)
    figure = source(session, scope, targets)
    return Tile(indicator, judge(figure), figure)


def scorecard(
    session: Session, scope: ScorecardScope, sources: Mapping[Indicator, FigureSource] = SOURCES
) -> Scorecard:
    """Every indicator's tile, group by group; each source runs a fixed number of queries."""
    targets = targets_of_year(session, scope.year)
    return Scorecard(
        scope,
        [(group, [tile_of(session, scope, i, sources.get(i), targets) for i in group.indicators]) for group in GROUPS],
    )
