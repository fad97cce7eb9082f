"""The rounds of the demo plant: a daily route per workshop over its machines' daily points (and
a few checks on the first machines), a per-shift route for the synthesis compressors' eight-hourly
points, and two weeks of history.

The history is made of what the readings part already holds: each past round's reading stops are
the demo readings taken at that round's time (08:00 for daily rounds, the start of the shift for
shift rounds), now marked as entered on the round by the workshop's engineer. The walk is drawn
with ``random.Random`` seeded by the route code: about one round in twenty nobody started, one in
ten started but not finished (both count as missed), and a stop now and then skipped. One daily
round found a seal leaking, which raised a corrective order. Today's rounds are not made, so the
demo shows "Start round".
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, tuple_, update
from sqlmodel import Session, col

from maintenance.audit.service import Actor
from maintenance.demo.seed_files import read_csv
from maintenance.inspections import rounds
from maintenance.inspections.choices import RoundState, RouteFrequency
from maintenance.inspections.models import (
    InspectionRound,
    InspectionRoute,
    RoundEntry,
    RouteCreate,
    RouteStop,
    StopFields,
)
from maintenance.inspections.round_periods import GRACE, period_of, periods_between
from maintenance.monitoring.choices import ConditionState, ReadingSource
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint, Reading
from maintenance.orders import service as order_service
from maintenance.orders.choices import ChecklistResult, OrderType
from maintenance.orders.models import WorkOrderCreate
from maintenance.org.models import UserWorkshop, Workshop

HISTORY_DAYS = 14
READ_QUANTITIES = frozenset({"vibration", "bearing_temp", "current"})
MAX_READING_STOPS = 14
CHECKS = ("机封无泄漏", "地脚螺栓无松动")
SHIFT_ROUTE_WORKSHOP = "SYN"
NOT_STARTED, NOT_FINISHED, STOP_SKIPPED = 0.05, 0.10, 0.03
LEAK_NOTE = "机封渗漏，约 5 滴/分，已通知操作加强监护"


@dataclass(frozen=True)
class RoutePlan:
    code: str
    name: str
    workshop: Workshop
    frequency: RouteFrequency
    point_codes: list[str]
    checks: bool


def plans(session: Session, seed_dir: Path) -> list[RoutePlan]:
    """A daily route per workshop; the synthesis workshop's eight-hourly points get a shift route."""
    rows = [row for row in read_csv(seed_dir / "monitoring" / "points.csv") if row["quantity"] in READ_QUANTITIES]
    workshop_of = dict(
        session.execute(
            select(col(MeasurementPoint.code), Workshop).join(
                Workshop, col(Workshop.id) == col(MeasurementPoint.workshop_id)
            )
        ).all()
    )
    result = []
    for workshop in session.scalars(select(Workshop).order_by(col(Workshop.id))):
        mine = [row for row in rows if workshop_of.get(row["code"]) is workshop]
        shift = (
            [row["code"] for row in mine if row["every_hours"] == "8"] if workshop.code == SHIFT_ROUTE_WORKSHOP else []
        )
        daily = [row["code"] for row in mine if row["code"] not in shift][:MAX_READING_STOPS]
        if daily:
            result.append(
                RoutePlan(
                    f"RT-{workshop.code}-D", f"{workshop.name}机泵日常点检", workshop, RouteFrequency.DAY, daily, True
                )
            )
        if shift:
            result.append(
                RoutePlan(
                    f"RT-{workshop.code}-S",
                    f"{workshop.name}压缩机组特护（每班）",
                    workshop,
                    RouteFrequency.SHIFT,
                    shift,
                    False,
                )
            )
    return result


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    for plan in plans(session, seed_dir):
        route = _create_route(session, plan, actor, now)
        _walk_history(session, route, actor, now)


def _create_route(session: Session, plan: RoutePlan, actor: Actor, now: datetime) -> InspectionRoute:
    route = rounds.create_route(
        session,
        RouteCreate(code=plan.code, name=plan.name, workshop_id=plan.workshop.id, frequency=plan.frequency),  # type: ignore[arg-type]
        actor=actor,
    )
    route.created_at = now - timedelta(days=HISTORY_DAYS + 1)
    points = {
        point.code: point
        for point in session.scalars(select(MeasurementPoint).where(col(MeasurementPoint.code).in_(plan.point_codes)))
    }
    checked: list[int] = []
    for code in plan.point_codes:
        point = points[code]
        rounds.add_stop(session, route, StopFields(point_id=point.id), actor=actor)
        if plan.checks and point.asset_id not in checked and len(checked) < 2:
            checked.append(point.asset_id)
            for text in CHECKS:
                rounds.add_stop(session, route, StopFields(asset_id=point.asset_id, check_text=text), actor=actor)
    session.flush()
    return route


def _walker(session: Session, workshop_id: int) -> int | None:
    return session.scalar(
        select(col(UserWorkshop.user_id)).where(col(UserWorkshop.workshop_id) == workshop_id).limit(1)
    )


def _walk_history(session: Session, route: InspectionRoute, actor: Actor, now: datetime) -> None:
    """Rounds for the periods of the last two weeks that have ended (with their grace)."""
    rng = random.Random(f"rounds-{route.code}")  # noqa: S311 (a reproducible demo, not secrets)
    stops = list(rounds.stops_of(session, route))
    walker = _walker(session, route.workshop_id)
    periods = [
        period
        for period in periods_between(route.frequency, now - timedelta(days=HISTORY_DAYS), now)
        if period[1] + GRACE <= now and period != period_of(route.frequency, now)
    ]
    # Daily rounds start at 08:00 (the daily readings' time); shift rounds at the shift change.
    offset = timedelta(hours=8) if route.frequency == RouteFrequency.DAY else timedelta(0)
    times = [start + offset for start, _end in periods]
    readings = _readings_at(session, stops, times)
    alerts = _alert_orders(session, stops)
    leak_day = rng.randrange(len(periods)) if route.frequency == RouteFrequency.DAY and periods else None
    leak_stop = next((stop.id for stop in stops if stop.check_text == CHECKS[0]), None)
    walked: list[tuple[int, datetime]] = []
    for index, ((start, end), at) in enumerate(zip(periods, times, strict=True)):
        draw = rng.random()
        if draw < NOT_STARTED:
            continue
        found = InspectionRound(
            route_id=route.id,  # type: ignore[arg-type]
            workshop_id=route.workshop_id,
            period_start=start,
            period_end=end,
            stops_due=len(stops),
            state=RoundState.IN_PROGRESS,
            started_at=at,
            started_by_id=walker,
            created_at=start,
        )
        session.add(found)
        session.flush()
        finished = draw >= NOT_STARTED + NOT_FINISHED
        for number, stop in enumerate(stops):
            if rng.random() < STOP_SKIPPED or (not finished and number >= len(stops) // 2):
                continue
            blank = RoundEntry(
                round_id=found.id,  # type: ignore[arg-type]
                stop_id=stop.id,  # type: ignore[arg-type]
                entered_by_id=walker,
                entered_at=at + timedelta(minutes=2 * number),
            )
            reading = readings.get((stop.point_id or 0, at))
            entry = _fill(
                session, route, blank, stop, reading, alerts, index == leak_day and stop.id == leak_stop, actor
            )
            if entry is not None:
                session.add(entry)
                found.stops_done += 1
                if entry.taken_at is not None and stop.point_id is not None:
                    walked.append((stop.point_id, entry.taken_at))
        if finished and found.stops_done:
            found.state = RoundState.COMPLETED
            found.finished_at = at + timedelta(minutes=2 * len(stops) + 5)
            found.finished_by_id = walker
    session.flush()
    if walked:
        session.execute(
            update(Reading)
            .where(tuple_(col(Reading.point_id), col(Reading.taken_at)).in_(walked))
            .values(source=ReadingSource.ROUND, entered_by_id=walker)
        )


def _fill(
    session: Session,
    route: InspectionRoute,
    entry: RoundEntry,
    stop: RouteStop,
    reading: Reading | None,
    alerts: dict[int, list[tuple[datetime, int]]],
    leak: bool,
    actor: Actor,
) -> RoundEntry | None:
    """What was found at ``stop``: the reading taken then (None if there is none), or the check."""
    if stop.point_id is None:
        entry.result = ChecklistResult.OK
        if leak:
            order = order_service.create_order(
                session,
                WorkOrderCreate(
                    order_type=OrderType.CM,
                    asset_id=stop.asset_id,
                    title=f"{stop.check_text}: 异常（点检 {route.code}）",
                    description=LEAK_NOTE,
                ),
                actor=actor,
                at=entry.entered_at,
            )
            entry.result, entry.note, entry.order_id = ChecklistResult.NOT_OK, LEAK_NOTE, order.id
        return entry
    if reading is None:
        return None
    entry.value, entry.taken_at, entry.state = reading.value, reading.taken_at, reading.state
    if reading.state != ConditionState.NORMAL:
        entry.order_id = next(
            (order for since, order in reversed(alerts.get(stop.point_id, [])) if since <= reading.taken_at), None
        )
    return entry


def _readings_at(
    session: Session, stops: Sequence[RouteStop], times: Sequence[datetime]
) -> dict[tuple[int, datetime], Reading]:
    point_ids = [stop.point_id for stop in stops if stop.point_id is not None]
    if not point_ids or not times:
        return {}
    found = session.scalars(
        select(Reading).where(col(Reading.point_id).in_(point_ids), col(Reading.taken_at).in_(list(times)))
    )
    return {(reading.point_id, reading.taken_at): reading for reading in found}


def _alert_orders(session: Session, stops: Sequence[RouteStop]) -> dict[int, list[tuple[datetime, int]]]:
    """Each point's CBM orders by the time of the reading that raised them, oldest first."""
    point_ids = [stop.point_id for stop in stops if stop.point_id is not None]
    result: dict[int, list[tuple[datetime, int]]] = {}
    for alert in session.scalars(
        select(ConditionAlert)
        .where(col(ConditionAlert.point_id).in_(point_ids))
        .order_by(col(ConditionAlert.trigger_taken_at))
    ):
        result.setdefault(alert.point_id, []).append((alert.trigger_taken_at, alert.order_id))
    return result


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(InspectionRoute.id)).limit(1)) is not None
