"""A five-workshop plant for the board and the API, computed by hand.

- W1 (the ``workshop`` fixture): certified 2026-03-15 (valid through 2027-03-14).
- W2: applied 2026-05-01, certified 2026-06-20.
- W3: applied 2026-06-01, not decided: in assessment.
- W4: certified 2026-02-01; its survey of 2026-06-10 found 1 leak in 1,000 static points (1.00‰,
  over 0.5‰): certified, at risk.
- W5: nothing.

On 2026-06-30: certified 3 (W1, W2, W4; at risk 1), in assessment 1, not started 1; half of 5 is 3
by 30 June: on track, 60.00%. On 2026-06-19 (before W2's certificate): 2 certified, not on track.
On 2026-07-01 the target is all 5 by 31 December: not on track. Certified at each month end of
2026 through 30 June: Jan 0, Feb 1, Mar 2, Apr 2, May 2, Jun 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlmodel import Session

from maintenance.leakfree.choices import SealType
from maintenance.org.models import Workshop
from tests import factories
from tests.leakfree.conftest import Certify, MakeSealPoint, MakeSurvey


@dataclass
class Board:
    workshops: list[Workshop]


@pytest.fixture(name="board")
def board_fixture(
    session: Session, workshop: Workshop, make_seal_point: MakeSealPoint, make_survey: MakeSurvey, certify: Certify
) -> Board:
    workshop.code, workshop.name = "W1", "一车间"
    others = [factories.WorkshopFactory(code=f"W{n}", name=f"{'二三四五'[n - 2]}车间") for n in range(2, 6)]
    w2, w3, w4, _w5 = others
    certify(date(2026, 2, 1), certified=date(2026, 3, 15))
    certify(date(2026, 5, 1), certified=date(2026, 6, 20), workshop_id=w2.id)
    certify(date(2026, 6, 1), workshop_id=w3.id)
    certify(date(2026, 1, 10), certified=date(2026, 2, 1), workshop_id=w4.id)
    make_seal_point(seal_type=SealType.FLANGE, count=1_000, workshop_id=w4.id)
    make_seal_point(seal_type=SealType.PUMP_SEAL, count=40, workshop_id=w4.id)
    make_survey(date(2026, 6, 10), static_points=1_000, dynamic_points=40, static_leaks=1, workshop_id=w4.id)
    session.flush()
    return Board([workshop, *others])


def more_workshops(make_survey: MakeSurvey, certify: Certify, n: int) -> None:
    """``n`` more workshops, each certified with a survey (for query-count tests)."""
    for index in range(n):
        # Codes of their own: the factory's W<n> could be one of the board's W2–W5, by test order.
        extra = factories.WorkshopFactory(code=f"M{index + 1}", name=f"增{index + 1}车间")
        certify(date(2026, 1, 5), certified=date(2026, 2, 1 + index), workshop_id=extra.id)
        make_survey(date(2026, 5, 1), static_points=500, dynamic_points=10, static_leaks=1, workshop_id=extra.id)
