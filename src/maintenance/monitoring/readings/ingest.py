"""Readings in: the one path every source takes (form, round, file import, API).

:func:`ingest_readings` consumes its rows lazily, ``chunk_size`` at a time, so a generator of a
million rows is never held in memory. Per chunk it

1. resolves the chunk's distinct point codes in one query (plain rows of the columns ingest
   needs, not ORM objects; on SQLite with the time of each point's newest stored reading, and
   run on the driver), and closes the alerts of those points
   whose CBM order has meanwhile been completed, closed or cancelled (one query);
2. checks and evaluates every row in Python: unknown or inactive point, a value outside the
   quantity's physically possible range (:func:`rules.out_of_range`), a time in the future
   (more than :data:`FUTURE_TOLERANCE` ahead) are refused with the row number; the state
   (normal/warning/alarm) of each accepted row is computed from the point's limits;
3. inserts the accepted rows with one executemany ``INSERT … ON CONFLICT DO NOTHING`` (the
   dialect's insert on SQLite and PostgreSQL): a re-sent (point, taken_at) is counted as a
   duplicate and never stored twice;
4. per point (not per reading) moves ``latest_*``, ``state_since`` and the warning streak when the
   chunk holds a newer reading than the stored latest one — late or out-of-order readings are
   stored but do not move "latest" — and runs the alert logic (:mod:`alerts`) over the new
   readings in time order; runtime-hours points move the asset's runtime PM plan meters. Only
   points with an active alert or a warning/alarm reading are loaded as ORM objects (one query)
   for the alert logic; the moved points are stored with one executemany UPDATE of their
   ``latest_*``, ``state_since`` and ``consecutive_warnings`` (``version`` and ``updated_at``
   stay: readings are not an edit of the point).

Readings are measurements: append-only and idempotent. They are not written to the change log one
by one (a million rows would be a million log entries); the change log records what they cause —
the CBM orders and alerts raised, the PM plan meters moved — and every edit of a point.

In ``ALL_OR_NOTHING`` mode the first refused row stops all writing; the remaining rows are still
checked so that every error is reported, then :class:`ValidationFailed` is raised and the caller's
transaction rolls back whatever earlier chunks flushed. In ``VALID_ONLY`` mode the valid rows are
stored and the refused ones listed in the report.

Services never commit: the caller owns the transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from maintenance.audit.service import Actor
from maintenance.db import plant_timezone, utcnow
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.monitoring import alerts, rules
from maintenance.monitoring.choices import ConditionState, Quantity, ReadingSource
from maintenance.monitoring.models import MeasurementPoint, Reading
from maintenance.orders.pm import scheduler
from maintenance.org.models import Workshop
from maintenance.security import NUL

FUTURE_TOLERANCE = timedelta(minutes=5)
# A reading before this is a typing error (no plant kept records then); the bound also keeps
# every time convertible to UTC (1 January of year 1 east of Greenwich is not).
EARLIEST_TAKEN_AT = datetime(1900, 1, 1, tzinfo=UTC)
# At most this many refused rows are listed in a report (all are counted): a file of a million
# bad rows must not build a million messages.
MAX_REPORTED_ERRORS = 10_000
# Points per range query when looking for already stored readings (3 parameters each).
_RANGE_QUERY_POINTS = 300

READING_TABLE = Reading.__table__  # type: ignore[attr-defined]


class ReadingIn(NamedTuple):
    """One reading as a source gives it. An immutable NamedTuple rather than a frozen dataclass:
    built a million times by an import, it is four times cheaper to make."""

    point_code: str
    taken_at: datetime  # timezone-aware (naive input is plant time: the caller converts with db.plant_timezone())
    value: float
    row: int | None = None  # the file row / list index (1-based) for error messages


class IngestMode(StrEnum):
    ALL_OR_NOTHING = "all"
    VALID_ONLY = "valid"


@dataclass
class IngestReport:
    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: list[FieldError] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS
    alerts_opened: list[str] = field(default_factory=list)  # numbers of CBM orders raised
    rejected_count: int = 0  # every refused row, listed or not

    def reject(self, error: FieldError) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED_ERRORS:
            self.rejected.append(error)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": [error.as_dict() for error in self.rejected],
            "rejected_count": self.rejected_count,
            "alerts_opened": list(self.alerts_opened),
        }


def _chunks(rows: Iterable[ReadingIn], size: int) -> Iterator[list[ReadingIn]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


_MISSING: Any = object()
_INF = math.inf

# A point's readings in a chunk: (taken_at, value, state), sorted by time once checked.
_Readings = list[tuple[datetime, float, ConditionState]]


def within_workshops(
    session: Session,
    rows: Iterable[ReadingIn],
    allowed: Collection[int],
    refuse: Callable[[ReadingIn, str], None],
    chunk_size: int = 5000,
) -> Iterator[ReadingIn]:
    """``rows`` of points in the ``allowed`` workshops (and of unknown points, which ingest
    refuses itself); each other row is handed to ``refuse`` with its point's workshop name.
    Lazy like ingest: a chunk's new point codes are looked up in one query and a point's
    workshop is remembered for the rest of the rows."""
    workshop_of: dict[str, int | None] = {}  # code → workshop id (None: no such point)
    names: dict[int, str] = {}
    iterator = iter(rows)
    while chunk := list(islice(iterator, chunk_size)):
        # Looked up as ingest looks them up (trimmed): " P-1" is P-1 here too.
        unknown = {row.point_code.strip() for row in chunk} - workshop_of.keys()
        if unknown:
            found = session.execute(
                select(col(MeasurementPoint.code), col(MeasurementPoint.workshop_id)).where(
                    col(MeasurementPoint.code).in_([code for code in unknown if NUL not in code])
                )
            ).all()
            workshop_of.update(dict.fromkeys(unknown))
            workshop_of.update(dict(found))
        for row in chunk:
            workshop_id = workshop_of[row.point_code.strip()]
            if workshop_id is None or workshop_id in allowed:
                yield row
                continue
            if workshop_id not in names:
                workshop = session.get(Workshop, workshop_id)
                names[workshop_id] = workshop.name if workshop else str(workshop_id)
            refuse(row, names[workshop_id])


def ingest_readings(
    session: Session,
    rows: Iterable[ReadingIn],
    *,
    source: ReadingSource,
    actor: Actor,
    mode: IngestMode = IngestMode.ALL_OR_NOTHING,
    entered_by_id: int | None = None,
    chunk_size: int = 5000,
    rejected: Sequence[FieldError] = (),
) -> IngestReport:
    """Check, evaluate and store ``rows``; raise the alerts they call for. See the module docstring.

    ``rejected`` are rows the caller already refused (malformed JSON items, unparsable cells):
    they are reported with the others and, in ``ALL_OR_NOTHING`` mode, stop all writing."""
    report = IngestReport()
    for error in rejected:
        report.reject(error)
    report.received = len(rejected)
    writing = True
    plant_tz = plant_timezone()
    dialect = session.get_bind().dialect.name
    for chunk in _chunks(rows, chunk_size):
        report.received += len(chunk)
        points = _points_by_code(session, {row[0].strip() for row in chunk}, dialect)
        by_point = _check(chunk, points, report, plant_tz)
        if mode == IngestMode.ALL_OR_NOTHING and report.rejected_count:
            writing = False
        if not writing or not by_point:
            continue
        _sort_and_drop_repeats(by_point, report)
        point_by_id = {point.id: point for point in points.values()}
        active_alerts = alerts.close_alerts_of_finished_orders(session, list(by_point))
        _insert(session, point_by_id, by_point, source, entered_by_id, dialect, report)
        _apply(session, point_by_id, by_point, active_alerts, actor, report)
    if rejected:
        report.rejected.sort(key=lambda error: error.row or 0)
    if mode == IngestMode.ALL_OR_NOTHING and report.rejected_count:
        raise ValidationFailed(
            _(
                "No readings were saved: %(refused)s of %(total)s rows were refused.",
                refused=report.rejected_count,
                total=report.received,
            ),
            report.rejected,
        )
    return report


# What ingest needs of a point, read as plain rows: building 1,000 ORM objects per chunk (and
# flushing them one UPDATE each) was most of the cost of a batch.
_POINT = MeasurementPoint.__table__  # type: ignore[attr-defined]


class _Point(NamedTuple):
    """A point as ingest reads it (the columns of :data:`_POINT_COLUMNS`, in their order)."""

    id: int
    code: str
    is_active: bool
    quantity: Quantity
    asset_id: int
    warning_high: float | None
    alarm_high: float | None
    warning_low: float | None
    alarm_low: float | None
    latest_value: float | None
    latest_taken_at: datetime | None
    latest_state: ConditionState | None
    state_since: datetime | None
    # SQLite only: the time of the point's newest stored reading (see :func:`_existing_times`).
    newest_stored: datetime | None = None


_POINT_COLUMNS = tuple(_POINT.c[name] for name in _Point._fields[:-1])
# The columns ingest moves: one executemany per chunk. ``version`` and ``updated_at`` are not
# touched — new readings are not an edit of the point (nobody's open edit form goes stale).
_LATEST_COLUMNS = ("latest_value", "latest_taken_at", "latest_state", "state_since", "consecutive_warnings")
_UPDATE_LATEST = (
    update(_POINT)
    .where(_POINT.c.id == bindparam("point_id"))
    .values({name: bindparam(f"new_{name}") for name in _LATEST_COLUMNS})
)


def _points_by_code(session: Session, codes: set[str], dialect: str) -> dict[str, _Point]:
    # No point's code holds a NUL, and PostgreSQL cannot compare one: such a row is an unknown point.
    codes = {code for code in codes if NUL not in code}
    if not codes:
        return {}
    if dialect == "sqlite":
        rows = session.connection().exec_driver_sql(_sqlite_points_sql(), (json.dumps(list(codes)),)).all()
        return _sqlite_points(rows)
    found = session.execute(select(*_POINT_COLUMNS).where(_POINT.c.code.in_(codes))).all()
    return {point.code: _Point(*point) for point in found}


@cache
def _sqlite_points_sql() -> str:
    """The points of a JSON list of codes with the time of each one's newest stored reading (an
    index probe per point: SQLite's min/max optimisation), one parameter whatever the number of
    codes. Run on the driver: SQLAlchemy's expanding IN and its result processing of 1,000 rows
    cost several times the query itself, every chunk."""
    codes = func.json_each(bindparam("codes")).table_valued("value")
    newest = select(func.max(READING_TABLE.c.taken_at)).where(READING_TABLE.c.point_id == _POINT.c.id)
    stmt = select(*_POINT_COLUMNS, newest.scalar_subquery()).where(_POINT.c.code.in_(select(codes.c.value)))
    return str(stmt.compile(dialect=sqlite.dialect()))


_QUANTITIES: dict[str, Quantity] = {quantity.value: quantity for quantity in Quantity}
_STATES: dict[str | None, ConditionState | None] = {None: None} | {state.value: state for state in ConditionState}


def _sqlite_points(rows: Sequence[Sequence[Any]]) -> dict[str, _Point]:
    """Driver rows of :func:`_sqlite_points_sql` as :class:`_Point` by code: choices as members,
    times as the aware UTC datetimes :class:`db.UTCDateTime` reads (stored as naive UTC text),
    each distinct text parsed once (a source reads its points at the same instants)."""
    times: dict[str | None, datetime | None] = {None: None}

    def utc(text: str | None) -> datetime | None:
        found = times.get(text, _MISSING)
        if found is _MISSING:
            found = times[text] = datetime.fromisoformat(text).replace(tzinfo=UTC)  # type: ignore[arg-type]
        return found  # type: ignore[no-any-return]

    points: dict[str, _Point] = {}
    for (id_, code, is_active, quantity, asset_id, warning_high, alarm_high, warning_low, alarm_low,
         latest_value, latest_taken_at, latest_state, state_since, newest_stored) in rows:  # fmt: skip
        points[code] = _Point(
            id_,
            code,
            bool(is_active),
            _QUANTITIES[quantity],
            asset_id,
            warning_high,
            alarm_high,
            warning_low,
            alarm_low,
            latest_value,
            utc(latest_taken_at),
            _STATES[latest_state],
            utc(state_since),
            utc(newest_stored),
        )
    return points


def _check(
    chunk: list[ReadingIn], points: dict[str, _Point], report: IngestReport, plant_tz: Any
) -> dict[int, _Readings]:
    """The chunk's valid rows with their state, by point id; the others go to ``report``."""
    latest_allowed = utcnow() + FUTURE_TOLERANCE
    # Per point, looked up once (not per row): its list, possible range, and the limits with "no
    # limit" as ±infinity, so that the state is four comparisons (as rules.evaluate decides it).
    by_point: dict[int, _Readings] = {}
    specs: dict[str, tuple[_Readings, float, float, float, float, float, float] | None] = {}
    for code, point in points.items():
        if point.is_active and point.id is not None:
            quantity = rules.QUANTITIES[point.quantity]
            specs[code] = (
                by_point.setdefault(point.id, []),
                quantity.minimum,
                quantity.maximum,
                _INF if point.warning_high is None else point.warning_high,
                _INF if point.alarm_high is None else point.alarm_high,
                -_INF if point.warning_low is None else point.warning_low,
                -_INF if point.alarm_low is None else point.alarm_low,
            )
        else:
            specs[code] = None
    normal, warning, alarm = ConditionState.NORMAL, ConditionState.WARNING, ConditionState.ALARM
    for row in chunk:
        code, taken_at, value, row_number = row
        spec = specs.get(code, _MISSING)
        if spec is _MISSING:
            code = code.strip()
            spec = specs.get(code, _MISSING)
            if spec is _MISSING:
                report.reject(FieldError("point", _("Unknown measurement point %(code)s.", code=code), row_number))
                continue
        if spec is None:
            report.reject(FieldError("point", _("Measurement point %(code)s is not active.", code=code), row_number))
            continue
        readings, minimum, maximum, warning_high, alarm_high, warning_low, alarm_low = spec
        if type(value) is not float:
            try:
                value = float(value)
            except (TypeError, ValueError):
                report.reject(FieldError("value", _("Enter a number."), row_number))
                continue
        if not minimum <= value <= maximum:  # also refuses NaN
            report.reject(FieldError("value", _range_message(points[code], value, minimum, maximum), row_number))
            continue
        if taken_at.tzinfo is None:
            taken_at = taken_at.replace(tzinfo=plant_tz)
        if taken_at.tzinfo is not UTC:
            # In UTC from here on: comparing, sorting and hashing times of the same zone object is
            # a fraction of the cost with the source's zones (pydantic's, the plant's) — per row.
            with suppress(OverflowError):  # year 1 east of Greenwich, 9999 west of it: refused below
                taken_at = taken_at.astimezone(UTC)
        if taken_at > latest_allowed:
            report.reject(FieldError("taken_at", _("The time cannot be in the future."), row_number))
            continue
        if taken_at < EARLIEST_TAKEN_AT:
            message = _("The time cannot be before %(year)s.", year=EARLIEST_TAKEN_AT.year)
            report.reject(FieldError("taken_at", message, row_number))
            continue
        if value >= alarm_high or value <= alarm_low:
            readings.append((taken_at, value, alarm))
        elif value >= warning_high or value <= warning_low:
            readings.append((taken_at, value, warning))
        else:
            readings.append((taken_at, value, normal))
    return {point_id: readings for point_id, readings in by_point.items() if readings}


def _range_message(point: _Point, value: float, minimum: float, maximum: float) -> str:
    if not math.isfinite(value):
        return _("Enter a finite number.")
    return _(
        "%(value)s is outside the possible range %(minimum)s…%(maximum)s %(unit)s of %(quantity)s.",
        value=f"{value:g}",
        minimum=f"{minimum:g}",
        maximum=f"{maximum:g}",
        unit=rules.QUANTITIES[point.quantity].unit,
        quantity=point.quantity.label,
    )


def _by_time(reading: tuple[datetime, float, ConditionState]) -> datetime:
    return reading[0]


def _sort_and_drop_repeats(by_point: dict[int, _Readings], report: IngestReport) -> None:
    """Sort each point's readings by time (stable: of a (point, time) given twice in the chunk
    the first is kept, as the database would keep it) and count the repeats as duplicates."""
    for point_id, readings in by_point.items():
        readings.sort(key=_by_time)
        previous = readings[0][0]
        repeats = False
        for reading in islice(readings, 1, None):
            if reading[0] == previous:
                repeats = True
                break
            previous = reading[0]
        if repeats:
            kept = [readings[0]]
            for reading in islice(readings, 1, None):
                if reading[0] != kept[-1][0]:
                    kept.append(reading)
            report.duplicates += len(readings) - len(kept)
            by_point[point_id] = kept


def _insert(
    session: Session,
    points: dict[int, _Point],
    by_point: dict[int, _Readings],
    source: ReadingSource,
    entered_by_id: int | None,
    dialect: str,
    report: IngestReport,
) -> None:
    """Store the readings; leave in ``by_point`` only those actually inserted (the others were
    stored before: duplicates)."""
    offered = sum(len(readings) for readings in by_point.values())
    connection = session.connection()
    if dialect == "postgresql":
        # RETURNING names exactly the rows inserted, even when another transaction stores the
        # same readings at the same moment.
        stmt = (
            postgresql.insert(READING_TABLE)
            .on_conflict_do_nothing()
            .returning(READING_TABLE.c.point_id, READING_TABLE.c.taken_at)
        )
        params = [
            {
                "point_id": point_id,
                "taken_at": taken_at,
                "value": value,
                "state": state,
                "source": source,
                "entered_by_id": entered_by_id,
            }
            for point_id, readings in by_point.items()
            for taken_at, value, state in readings
        ]
        stored: dict[int, set[datetime]] = {}
        for point_id, taken_at in connection.execute(stmt, params):
            stored.setdefault(point_id, set()).add(taken_at)
        _keep_only(by_point, stored, keep_listed=True)
    else:
        # SQLite transactions are exclusive (BEGIN IMMEDIATE), so the readings already stored can
        # be looked up first, and the insert is a plain executemany (faster than RETURNING).
        existing = _existing_times(session, points, by_point)
        if existing:
            _keep_only(by_point, existing, keep_listed=False)
        rows = _sqlite_params(by_point, source, entered_by_id)
        if rows:
            result = connection.exec_driver_sql(_sqlite_insert_sql(), rows)
            if result.rowcount != len(rows):  # pragma: no cover - only if a writer bypassed the lock
                raise RuntimeError("readings changed while they were being stored")
    inserted = sum(len(readings) for readings in by_point.values())
    report.inserted += inserted
    report.duplicates += offered - inserted


def _keep_only(by_point: dict[int, _Readings], times: dict[int, set[datetime]], *, keep_listed: bool) -> None:
    for point_id in list(by_point):
        listed = times.get(point_id, set())
        if not keep_listed and not listed:
            continue
        by_point[point_id] = [reading for reading in by_point[point_id] if (reading[0] in listed) == keep_listed]


@cache
def _sqlite_insert_sql() -> str:
    """``INSERT INTO reading (…) VALUES (?, …) ON CONFLICT DO NOTHING``, compiled once."""
    stmt = sqlite.insert(READING_TABLE).on_conflict_do_nothing()
    return str(stmt.compile(dialect=sqlite.dialect(), column_keys=list(_COLUMNS)))


_COLUMNS = ("point_id", "taken_at", "value", "state", "source", "entered_by_id")


def _sqlite_params(
    by_point: dict[int, _Readings], source: ReadingSource, entered_by_id: int | None
) -> list[tuple[int, str, float, str, str, int | None]]:
    """The rows as the driver takes them, bypassing SQLAlchemy's per-row parameter processing
    (most of the cost of a Core executemany): times as the UTC text :class:`db.UTCDateTime`
    stores on SQLite (``2026-01-05 08:00:00.000000``; a test holds the two to the same text),
    choices as their codes."""
    source_code = source.value
    codes = {state: state.value for state in ConditionState}
    # Sources send many points per instant: format each instant once.
    texts = {
        taken_at: taken_at.astimezone(UTC).isoformat(" ", "microseconds")[:26]
        for taken_at in {reading[0] for readings in by_point.values() for reading in readings}
    }
    return [
        (point_id, texts[taken_at], value, codes[state], source_code, entered_by_id)
        for point_id, readings in by_point.items()
        for taken_at, value, state in readings
    ]


def _existing_times(
    session: Session, points: dict[int, _Point], by_point: dict[int, _Readings]
) -> dict[int, set[datetime]]:
    """The times of ``by_point``'s readings already stored, by point.

    The points were read with the time of their newest stored reading; only points whose chunk
    reaches back to it (a re-sent batch, late or back-filled data) are range-scanned. A fresh
    batch, newer than everything stored, costs no query at all."""
    point_col, taken_col = col(Reading.point_id), col(Reading.taken_at)
    overlapping = [
        (point_id, readings[0][0], min(readings[-1][0], newest))
        for point_id, readings in by_point.items()
        if (newest := points[point_id].newest_stored) is not None and readings[0][0] <= newest
    ]
    found: dict[int, set[datetime]] = {}
    for start in range(0, len(overlapping), _RANGE_QUERY_POINTS):
        condition = or_(
            *(
                and_(point_col == point_id, taken_col >= low, taken_col <= high)
                for point_id, low, high in overlapping[start : start + _RANGE_QUERY_POINTS]
            )
        )
        for point_id, taken_at in session.execute(select(point_col, taken_col).where(condition)):
            found.setdefault(point_id, set()).add(taken_at)
    return found


def _apply(
    session: Session,
    points: dict[int, _Point],
    by_point: dict[int, _Readings],
    active_alerts: dict[int, Any],
    actor: Actor,
    report: IngestReport,
) -> None:
    """Per point: move latest, run the alert logic, move runtime meters; then store the moved
    ``latest_*`` of all points with one executemany UPDATE.

    A point without an active alert whose new readings are all normal — nearly every point of
    nearly every chunk — cannot raise anything: its new latest values are computed here from the
    plain row, as :func:`alerts.apply_readings` computes them. Only a point with an active alert
    or a warning/alarm reading is loaded as an ORM object and walked by the alert logic."""
    normal = ConditionState.NORMAL
    moving: list[tuple[int, _Point, _Readings, Any]] = []
    walked: list[int] = []  # the points the alert logic walks, as ORM objects
    for point_id, readings in by_point.items():
        if not readings:
            continue
        point = points[point_id]
        latest_at = point.latest_taken_at
        if latest_at is not None and readings[0][0] <= latest_at:
            # Late or back-filled readings are stored but do not move "latest".
            readings = [reading for reading in readings if reading[0] > latest_at]
            if not readings:
                continue
        alert = active_alerts.get(point_id)
        moving.append((point_id, point, readings, alert))
        if alert is not None or not all(reading[2] is normal for reading in readings):
            walked.append(point_id)
    orm_points: dict[int | None, MeasurementPoint] = {}
    if walked:  # one query (points the session holds already are taken as they are)
        found = session.scalars(select(MeasurementPoint).where(col(MeasurementPoint.id).in_(walked)))
        orm_points = {orm_point.id: orm_point for orm_point in found}
    moved: list[dict[str, Any]] = []
    for point_id, point, readings, alert in moving:
        orm_point = orm_points.get(point_id)
        if orm_point is None:
            last_at, last_value = readings[-1][0], readings[-1][1]
            new: dict[str, Any] = {
                "point_id": point_id,
                "new_latest_value": last_value,
                "new_latest_taken_at": last_at,
                "new_latest_state": normal,
                "new_state_since": point.state_since if point.latest_state == normal else readings[0][0],
                "new_consecutive_warnings": 0,
            }
        else:
            outcome = alerts.apply_readings(session, orm_point, readings, alert)
            report.alerts_opened.extend(outcome.opened_orders)
            new = {"point_id": point_id}
            for name in _LATEST_COLUMNS:
                value = getattr(orm_point, name)
                new[f"new_{name}"] = value
                # Stored by the UPDATE below, not by a flush of this object.
                set_committed_value(orm_point, name, value)
            last_at, last_value = new["new_latest_taken_at"], new["new_latest_value"]
        moved.append(new)
        if point.quantity == Quantity.RUNTIME_HOURS and last_value is not None:
            scheduler.record_runtime(
                session, point.asset_id, Decimal(repr(last_value)), last_at.astimezone(UTC), actor=actor
            )
    if moved:
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(_sqlite_update_sql(), _sqlite_update_params(moved))
        else:
            connection.execute(_UPDATE_LATEST, moved)
        _sync_loaded_points(session, moved)
    session.flush()


@cache
def _sqlite_update_sql() -> str:
    """``UPDATE measurement_point SET latest_value=?, … WHERE id = ?``, compiled once, its
    parameters in the order of :func:`_sqlite_update_params`."""
    compiled = _UPDATE_LATEST.compile(dialect=sqlite.dialect())
    order = [f"new_{name}" for name in _LATEST_COLUMNS] + ["point_id"]
    if list(compiled.positiontup or ()) != order:  # pragma: no cover - a SQLAlchemy change
        raise RuntimeError(f"unexpected parameter order {compiled.positiontup}")
    return str(compiled)


def _sqlite_update_params(
    moved: list[dict[str, Any]],
) -> list[tuple[float | None, str | None, str | None, str | None, int, int]]:
    """The moved points as the driver takes them (as :func:`_sqlite_params` does for readings):
    SQLAlchemy's per-row parameter processing would cost more than the UPDATE itself. Times as
    the UTC text :class:`db.UTCDateTime` stores, each instant formatted once (points read at
    the same instants share them)."""
    texts: dict[datetime | None, str | None] = {None: None}

    def text(moment: datetime | None) -> str | None:
        found = texts.get(moment, _MISSING)
        if found is _MISSING:
            found = texts[moment] = moment.astimezone(UTC).isoformat(" ", "microseconds")[:26]  # type: ignore[union-attr]
        return found  # type: ignore[no-any-return]

    codes: dict[Any, str | None] = {None: None}
    for state in ConditionState:
        codes[state] = codes[state.value] = state.value
    return [
        (
            new["new_latest_value"],
            text(new["new_latest_taken_at"]),
            codes[new["new_latest_state"]],
            text(new["new_state_since"]),
            new["new_consecutive_warnings"],
            new["point_id"],
        )
        for new in moved
    ]


def _sync_loaded_points(session: Session, moved: list[dict[str, Any]]) -> None:
    """Give the points this session has loaded as objects (a page, a test, an earlier chunk's
    alert) the values the UPDATE stored, as if loaded from the database."""
    loaded = {
        state.identity[0]: state.obj()
        for state in session.identity_map.all_states()
        if state.class_ is MeasurementPoint and state.identity is not None
    }
    if not loaded:
        return
    for new in moved:
        point = loaded.get(new["point_id"])
        if point is not None:
            for name in _LATEST_COLUMNS:
                set_committed_value(point, name, new[f"new_{name}"])
