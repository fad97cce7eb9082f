"""The scorecard as a whole: tiles grouped as the programme is, the year's targets handed to
every source, and an indicator without a source shown as not built."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlmodel import Session

from maintenance.scorecard.figures import Figure, ScorecardScope
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.models import ScorecardTarget
from maintenance.scorecard.service import GROUPS, scorecard
from maintenance.scorecard.states import State

SCOPE = ScorecardScope(2026, date(2026, 6, 30))


def fewer_accidents(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    """A stand-in for the accident register's source: 9 accidents after 10 last year."""
    return Figure(Indicator.ACCIDENT_RATE, Decimal("-0.10"), targets.get(Indicator.ACCIDENT_RATE), "/accidents")


def test_every_indicator_has_one_tile_in_the_programme_s_order() -> None:
    shown = [indicator for group in GROUPS for indicator in group.indicators]
    assert sorted(shown) == sorted(Indicator)
    assert [group.code for group in GROUPS] == ["target", "focuses", "projects", "works", "measures"]


def test_a_source_added_to_the_list_is_judged_against_the_year_s_target(session: Session) -> None:
    session.add(
        ScorecardTarget(
            year=2026,
            indicator=Indicator.ACCIDENT_RATE,
            value=Decimal("-0.20"),
            updated_at=datetime(2026, 1, 2, tzinfo=UTC),
        )
    )
    session.flush()

    card = scorecard(session, SCOPE, {Indicator.ACCIDENT_RATE: fewer_accidents})

    [accidents] = [tile for tile in card.tiles if tile.indicator is Indicator.ACCIDENT_RATE]
    assert accidents.figure is not None
    assert accidents.figure.target == Decimal("-0.20")  # the manager's, not the default −10 %
    assert accidents.state is State.AMBER  # −10 % against −20 %: within the 10-point band
    others = [tile for tile in card.tiles if tile.indicator is not Indicator.ACCIDENT_RATE]
    assert {tile.state for tile in others} == {State.NOT_BUILT}
    assert all(tile.figure is None for tile in others)
    assert card.counts == {State.GREEN: 0, State.AMBER: 1, State.RED: 0, State.NOT_BUILT: 14}
