"""The demo plant's key projects of the year (重点项目) and their milestones.

What ``seed/scorecard/`` holds for them (CSV, UTF-8, edited by hand):

- ``projects.csv``: the year's four projects: 余热发电并网 by 31 May, 1#主变扩容 by 31 July (aim
  30 June), 二期改造碰头 with the overhaul, 无泄漏创建 (half the workshops by 30 June, all by
  31 December); each with its owner and workshop (code; empty: plant-wide).
- ``milestones.csv``: three to five milestones each, with owner, start, due and done dates.

**Dates** are month-days (``MM-DD``) of the seed day's year, or ``ta_start±N`` / ``ta_end±N``: N
days from the start or the end of the year's overhaul, the one the orders part loaded when it
falls in the seed year, else the overhaul's dates in ``seed/orders/turnarounds.csv`` (moved to
the seed year). Every date is kept inside the year; a done date is never after its due date and
is loaded only when it is not after the seed day, so nothing is dated after the seed day.

**The story on any day:** 1#主变扩容 is the one slipping: its last two milestones were re-planned
to 5 and 12 August, after its due date of 31 July, so its forecast end is 12 days late (more once
12 August has passed undone). Every other milestone is done by its due date, so no other project
slips whatever the day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit.service import Actor, record_create
from maintenance.db import plant_timezone
from maintenance.demo.seed_files import read_csv
from maintenance.orders.models import Turnaround
from maintenance.org.models import Workshop
from maintenance.scorecard.projects.models import Milestone, Project


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(Project.id)).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    if is_loaded(session, seed_dir):
        return
    today = now.astimezone(plant_timezone()).date()
    days = _Days(today.year, _overhaul(session, seed_dir, today.year))
    workshops = {w.code: w.id for w in session.scalars(select(Workshop))}
    projects: dict[str, Project] = {}
    for row in read_csv(seed_dir / "scorecard" / "projects.csv"):
        project = Project(
            year=today.year,
            code=row["code"],
            name=row["name"],
            owner=row["owner"],
            workshop_id=workshops[row["workshop"]] if row["workshop"] else None,
            start_date=days(row["start"]),
            due_date=days(row["due"]),
            aim_date=days(row["aim"]) if row["aim"] else None,
            description=row["description"],
        )
        projects[project.code] = project
    session.add_all(projects.values())
    session.flush()
    milestones = []
    for position, row in enumerate(read_csv(seed_dir / "scorecard" / "milestones.csv")):
        due = days(row["due"])
        done = min(days(row["done"]), due) if row["done"] else None
        milestones.append(
            Milestone(
                project_id=projects[row["project"]].id,  # type: ignore[arg-type]
                name=row["name"],
                owner=row["owner"],
                start_date=min(days(row["start"]), due) if row["start"] else None,
                due_date=due,
                done_on=done if done is not None and done <= today else None,
                position=position,
            )
        )
    session.add_all(milestones)
    session.flush()
    for record in [*projects.values(), *milestones]:
        record_create(session, actor, record)


def _overhaul(session: Session, seed_dir: Path, year: int) -> tuple[date, date]:
    """The (start, end) of the year's overhaul: the one loaded when it starts in ``year``, else
    the seed's month-days in ``year``."""
    loaded = session.scalars(
        select(Turnaround)
        .where(col(Turnaround.start_date) >= date(year, 1, 1), col(Turnaround.start_date) <= date(year, 12, 31))
        .order_by(col(Turnaround.start_date).desc())
    ).first()
    if loaded is not None:
        return loaded.start_date, min(loaded.end_date, date(year, 12, 31))
    row = next(iter(read_csv(seed_dir / "orders" / "turnarounds.csv")))
    return _month_day(year, row["start_date"][5:]), _month_day(year, row["end_date"][5:])


def _month_day(year: int, text: str) -> date:
    month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)


class _Days:
    """A seed date (``MM-DD``, ``ta_start±N``, ``ta_end±N``) as a day of the year, kept in it."""

    def __init__(self, year: int, overhaul: tuple[date, date]) -> None:
        self.first, self.last = date(year, 1, 1), date(year, 12, 31)
        self.anchors = {"ta_start": overhaul[0], "ta_end": overhaul[1]}

    def __call__(self, text: str) -> date:
        for name, anchor in self.anchors.items():
            if text.startswith(name):
                day = anchor + timedelta(days=int(text[len(name) :]))
                break
        else:
            day = _month_day(self.first.year, text)
        return min(max(day, self.first), self.last)
