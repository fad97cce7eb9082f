"""The demo plant's accident register: last year's accident with its corrective actions (one done,
one still open), and this year's accident, whose action raised a corrective work order that was
worked and completed, and incident.

What ``seed/scorecard/`` holds (CSV, UTF-8, edited by hand):

- ``accidents.csv``: one accident or incident a line, keyed for its actions, dated ``years_before``
  the seed year on ``day`` (``MM-DD``, never 29 February), on a demo asset named by its tag.
- ``accident_actions.csv``: the corrective actions, ``due_after_days`` and ``done_after_days``
  (blank: still open) counted from the accident's day; ``order_after_days`` (blank: none) raises
  the action's corrective work order that many days after the accident, through the order
  service; when the action is done, its order is approved and started the day it is raised and
  completed, with its ISO 14224 ``failure_mode``, ``failure_mechanism`` and ``failure_cause``
  codes, the day the action is done.

**Dates.** Nothing is dated after the seed day: this year's rows fall on their day or, early in
January before it has come, on the seed day itself (and the days counted after them likewise),
so the register always shows this year's accident and the order it raised is within the past
year, as the orders' history is. Last year's accident (14 March) is in the same span of last
year from 14 March on: the rate is then 1 against 1, no change, which misses the −10 % target;
before, it is 1 against none, no number and missed too, as the plant's rule says.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit.service import Actor, record_create
from maintenance.db import plant_timezone
from maintenance.demo.seed_files import read_csv
from maintenance.orders import service as order_service
from maintenance.orders.choices import FailureCause, FailureMechanism, FailureMode
from maintenance.orders.models import FailureReportUpdate
from maintenance.scorecard.accidents import service
from maintenance.scorecard.accidents.models import Accident, AccidentAction, AccidentClass


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(Accident.id)).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    if is_loaded(session, seed_dir):
        return
    today = now.astimezone(plant_timezone()).date()
    folder = seed_dir / "scorecard"
    rows = list(read_csv(folder / "accidents.csv"))
    assets = {a.tag: a for a in session.scalars(select(Asset).where(col(Asset.tag).in_([r["tag"] for r in rows])))}
    accidents: dict[str, Accident] = {}
    for row in rows:
        month, day = (int(part) for part in row["day"].split("-"))
        asset = assets[row["tag"]]
        accident = Accident(
            occurred_on=min(date(today.year - int(row["years_before"]), month, day), today),
            asset_id=asset.id,  # type: ignore[arg-type]
            workshop_id=asset.workshop_id,
            accident_class=AccidentClass(row["class"]),
            title=row["title"],
            downtime_hours=Decimal(row["downtime_hours"]),
            loss_cny=Decimal(row["loss_cny"]),
            description=row["description"],
            cause=row["cause"],
        )
        session.add(accident)
        session.flush()
        record_create(session, actor, accident)
        accidents[row["key"]] = accident
    for row in read_csv(folder / "accident_actions.csv"):
        _action(session, actor, accidents[row["accident"]], row, now)


def _after(day: date, days: str, today: date) -> date | None:
    return min(day + timedelta(days=int(days)), today) if days else None


def _action(session: Session, actor: Actor, accident: Accident, row: dict[str, str], now: datetime) -> None:
    today = now.astimezone(plant_timezone()).date()
    action = AccidentAction(
        accident_id=accident.id,  # type: ignore[arg-type]
        description=row["description"],
        owner=row["owner"],
        due_date=accident.occurred_on + timedelta(days=int(row["due_after_days"])),
        done_on=_after(accident.occurred_on, row["done_after_days"], today),
    )
    session.add(action)
    session.flush()
    record_create(session, actor, action)
    raised_on = _after(accident.occurred_on, row["order_after_days"], today)
    if raised_on is None:
        return
    raised_at = min(_at(raised_on, 9), now)
    order = service.raise_order(session, accident, action, actor=actor, at=raised_at).order
    if action.done_on is None:
        return
    for step in ("approve", "start"):
        order_service.perform(session, order, step, actor=actor, at=raised_at)
    failure = FailureReportUpdate(
        failure_mode=FailureMode(row["failure_mode"]),
        failure_mechanism=FailureMechanism(row["failure_mechanism"]),
        failure_cause=FailureCause(row["failure_cause"]),
        version=order.version,
    )
    order_service.record_failure(session, order, failure, actor=actor)
    order_service.perform(session, order, "complete", actor=actor, at=max(min(_at(action.done_on, 17), now), raised_at))


def _at(day: date, hour: int) -> datetime:
    """``hour`` o'clock plant time on ``day``, as the UTC instant it is stored as."""
    return datetime.combine(day, time(hour, 0), tzinfo=plant_timezone()).astimezone(UTC)
