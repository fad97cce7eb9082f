"""The scorecard's key-projects figure: the share of the year's projects (cancelled left out)
not slipping on the day asked, against the target 1.00; the slipping ones named with their
slippage; none entered is no number, not zero; a workshop's scope counts its projects only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.org.models import Workshop
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.indicators import DEFAULT_TARGETS, Indicator
from maintenance.scorecard.projects.figures import key_projects, key_projects_by_workshop
from tests import factories
from tests.scorecard.projects.conftest import MakeProject


def _four(make_project: MakeProject, workshop: Workshop, other_workshop: Workshop) -> None:
    """As of 12 June 2026: 余热发电并网 done; 1#主变扩容 on track; 二期改造碰头 slipping (its
    tie-in milestone due 31 May undone: 12 days); a cancelled one not counted."""
    make_project("KP-1", date(2026, 5, 31), [("并网", date(2026, 5, 31), date(2026, 5, 28))], name="余热发电并网",
                 workshop_id=workshop.id)  # fmt: skip
    make_project("KP-2", date(2026, 7, 31), [("投运", date(2026, 7, 31), None)], name="1#主变扩容",
                 workshop_id=workshop.id)  # fmt: skip
    make_project("KP-3", date(2026, 5, 31), [("碰头", date(2026, 5, 31), None)], name="二期改造碰头",
                 workshop_id=other_workshop.id)  # fmt: skip
    make_project("KP-4", date(2026, 3, 31), [("旧", date(2026, 3, 31), None)], name="取消的项目", cancelled=True)


def test_the_share_not_slipping_with_the_slipping_ones_named(
    session: Session, make_project: MakeProject, workshop: Workshop, other_workshop: Workshop
) -> None:
    _four(make_project, workshop, other_workshop)

    figure = key_projects(session, ScorecardScope(2026, date(2026, 6, 12)), DEFAULT_TARGETS)

    assert figure.indicator == Indicator.PROJECTS
    assert figure.value == Decimal("0.6667")  # 2 of 3 (the cancelled one not counted)
    assert figure.target == Decimal("1.00")
    assert figure.link == "/scorecard/projects?year=2026"
    assert "二期改造碰头" in figure.detail
    assert "12" in figure.detail
    assert "1#主变扩容" not in figure.detail


def test_on_its_due_day_a_project_is_not_yet_slipping(
    session: Session, make_project: MakeProject, workshop: Workshop, other_workshop: Workshop
) -> None:
    _four(make_project, workshop, other_workshop)

    figure = key_projects(session, ScorecardScope(2026, date(2026, 5, 31)), DEFAULT_TARGETS)

    assert figure.value == Decimal("1.0000")


def test_a_workshop_counts_its_own_projects(
    session: Session, make_project: MakeProject, workshop: Workshop, other_workshop: Workshop
) -> None:
    _four(make_project, workshop, other_workshop)
    as_of = date(2026, 6, 12)

    own = key_projects(session, ScorecardScope(2026, as_of, workshop.id), DEFAULT_TARGETS)
    other = key_projects(session, ScorecardScope(2026, as_of, other_workshop.id), DEFAULT_TARGETS)

    assert own.value == Decimal("1.0000")
    assert other.value == Decimal("0.0000")


def test_a_year_without_projects_says_so_instead_of_zero(session: Session, make_project: MakeProject) -> None:
    make_project("KP-1", date(2025, 5, 31), year=2025, start_date=date(2025, 1, 1))

    figure = key_projects(session, ScorecardScope(2026, date(2026, 6, 12)), {Indicator.PROJECTS: Decimal("0.75")})

    assert figure.value is None
    assert figure.target == Decimal("0.75")  # the year's own target when one is set
    assert "2026" in figure.detail


def test_each_workshops_projects_at_once(
    session: Session, make_project: MakeProject, workshop: Workshop, other_workshop: Workshop
) -> None:
    empty = factories.WorkshopFactory(code="ZZZ")
    _four(make_project, workshop, other_workshop)
    make_project("KP-5", date(2026, 6, 1), [("验收", date(2026, 6, 1), None)], name="循环水改造",
                 workshop_id=workshop.id)  # fmt: skip
    ids: list[int] = [workshop.id, other_workshop.id, empty.id]  # type: ignore[list-item]

    figures = key_projects_by_workshop(session, ScorecardScope(2026, date(2026, 6, 12)), ids, DEFAULT_TARGETS)

    # KP-1 done, KP-2 on track, KP-5 slipping 11 days: 2 of 3; KP-3 slipping: 0 of 1; none entered
    assert [figures[w].value for w in ids] == [Decimal("0.6667"), Decimal("0.0000"), None]
    assert "循环水改造" in figures[ids[0]].detail
    assert "二期改造碰头" not in figures[ids[0]].detail
