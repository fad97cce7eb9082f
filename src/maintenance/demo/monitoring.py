"""The condition-monitoring part of the demo plant: measurement points on 华东化工's machines,
vessels and piping with 90 days of readings, a few of them developing faults.

What ``seed/monitoring/`` holds (CSV, UTF-8, edited by hand):

- ``points.csv``: the points as a user would enter them (code, asset tag, name, quantity, unit,
  ISO 10816-3 preset or limits, initial/required thickness) plus how their readings run:
  ``baseline`` (the healthy value), ``noise`` (standard deviation at the baseline; it grows in
  proportion when a fault raises the level) and ``every_hours`` (24: daily at 08:00 plant time;
  8: at 00:00, 08:00 and 16:00). Runtime-hours points count up from ``baseline`` by about
  ``noise`` hours a day. Vibration points on machines above 300 kW use group 1, 15–300 kW group 2;
  cooling-tower fans stand on the tower's structure (flexible), everything else on rigid
  foundations. Bearing temperatures warn at 80 °C and alarm at 95 °C.
- ``faults.csv``: the stories. From ``start_days_ago`` the level rises (accelerating, as wear
  does) to ``peak_value`` at ``peak_days_ago`` and stays there; ``after`` = ``repaired`` brings it
  back to the baseline from ``end_days_ago``, ``stopped`` ends the readings then (the machine was
  shut down for repair; a runtime meter stops counting but is still read).
- ``thickness.csv``: the wall-thickness survey of each thickness monitoring location (CML),
  ``years_ago`` before the latest survey three weeks ago.

Readings are generated with ``random.Random`` seeded per point (``SEED`` and the point's code),
relative to :func:`plant_today`, up to the present moment — the same day gives the same values.
They go in through :func:`ingest.ingest_readings` (source "file import", all or nothing) exactly as
a historian export would, so the states, the alerts and the CBM orders are raised by the
production code: P-1101A's bearing wear, C-1201's hot bearing, P-2201A and BL-4103 (alarm, then
stopped for the repair the registry shows), BL-3101B (alarm, back to normal after its repair: the
alert shows it, the order waits to be closed) and a feed line below its required wall thickness.

The runtime meters of C-1302A/B feed their runtime PM plans when the orders part has made them
(the ingest moves them); without the plans the readings are stored all the same.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets import service as asset_service
from maintenance.audit.service import Actor
from maintenance.db import plant_timezone
from maintenance.demo.seed_files import read_csv
from maintenance.monitoring import service
from maintenance.monitoring.choices import LimitPreset, Quantity, ReadingSource
from maintenance.monitoring.models import MeasurementPoint, PointCreate
from maintenance.monitoring.readings.ingest import IngestMode, IngestReport, ReadingIn, ingest_readings
from maintenance.monitoring.thickness.assessment import add_years
from maintenance.org import service as org_service

SEED = 20261123
DAYS = 90
SURVEY_DAYS_AGO = 21  # the latest wall-thickness survey
SURVEY_AT = time(10)  # plant time
DECIMALS = {
    Quantity.VIBRATION: 2,
    Quantity.BEARING_TEMPERATURE: 1,
    Quantity.TEMPERATURE: 1,
    Quantity.PRESSURE: 4,
    Quantity.CURRENT: 1,
    Quantity.RUNTIME_HOURS: 1,
    Quantity.WALL_THICKNESS: 2,
}
POINT_FIELDS = (
    "code",
    "name",
    "unit",
    "warning_high",
    "alarm_high",
    "warning_low",
    "alarm_low",
    "warnings_to_raise",
    "initial_thickness_mm",
    "initial_date",
    "required_thickness_mm",
)


@dataclass(frozen=True)
class Signal:
    """How one point's readings run."""

    code: str
    quantity: Quantity
    baseline: float
    noise: float
    every_hours: int


@dataclass(frozen=True)
class Fault:
    code: str
    start_days_ago: float | None
    peak_days_ago: float | None
    peak_value: float | None
    after: str  # "", "repaired" or "stopped"
    end_days_ago: float | None


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def read_signals(seed_dir: Path) -> list[Signal]:
    return [
        Signal(
            row["code"], Quantity(row["quantity"]), float(row["baseline"]), float(row["noise"]), int(row["every_hours"])
        )
        for row in read_csv(seed_dir / "monitoring" / "points.csv")
        if row["quantity"] != Quantity.WALL_THICKNESS
    ]


def read_faults(seed_dir: Path) -> dict[str, Fault]:
    faults = {}
    for row in read_csv(seed_dir / "monitoring" / "faults.csv"):
        if row["after"] not in ("", "repaired", "stopped"):
            raise ValueError(f"faults.csv: {row['code']}: unknown 'after' {row['after']!r}")
        faults[row["code"]] = Fault(
            row["code"],
            _number(row["start_days_ago"]),
            _number(row["peak_days_ago"]),
            _number(row["peak_value"]),
            row["after"],
            _number(row["end_days_ago"]),
        )
    return faults


def is_loaded(session: Session, seed_dir: Path) -> bool:
    first = next(read_csv(seed_dir / "monitoring" / "points.csv"))
    return (
        session.scalar(select(col(MeasurementPoint.id)).where(col(MeasurementPoint.code) == first["code"])) is not None
    )


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> IngestReport:
    create_points(session, seed_dir, actor)
    rows = demo_readings(seed_dir, now.astimezone(plant_timezone()).date(), now)
    return ingest_readings(session, rows, source=ReadingSource.IMPORT, actor=actor, mode=IngestMode.ALL_OR_NOTHING)


def create_points(session: Session, seed_dir: Path, actor: Actor) -> list[MeasurementPoint]:
    site = org_service.get_site_by_code(session, next(read_csv(seed_dir / "org" / "site.csv"))["code"])
    if site is None:
        raise ValueError("the monitoring demo needs the org part loaded first")
    points = []
    for row in read_csv(seed_dir / "monitoring" / "points.csv"):
        asset = asset_service.get_asset_by_tag(session, row["asset_tag"], site_id=site.id)
        if asset is None:
            raise ValueError(f"points.csv: {row['code']}: no asset {row['asset_tag']}")
        data: dict[str, Any] = {name: row[name] for name in POINT_FIELDS if row[name].strip()}
        data |= {
            "asset_id": asset.id,
            "quantity": Quantity(row["quantity"]),
            "preset": LimitPreset(row["preset"]) if row["preset"] else LimitPreset.NONE,
        }
        points.append(service.create_point(session, PointCreate.model_validate(data), actor=actor))
    return points


# --- Readings -----------------------------------------------------------------------------


def _level(signal: Signal, fault: Fault | None, days_ago: float) -> float:
    """The noiseless value ``days_ago`` days before the anchor."""
    if fault is None or fault.peak_value is None or fault.start_days_ago is None:
        return signal.baseline
    if fault.after == "repaired" and fault.end_days_ago is not None and days_ago <= fault.end_days_ago:
        return signal.baseline
    peak_days_ago = fault.peak_days_ago or 0.0
    if days_ago >= fault.start_days_ago:
        return signal.baseline
    if days_ago <= peak_days_ago:
        return fault.peak_value
    progress = (fault.start_days_ago - days_ago) / (fault.start_days_ago - peak_days_ago)
    return signal.baseline + (fault.peak_value - signal.baseline) * progress**2


def signal_readings(signal: Signal, fault: Fault | None, today: date, until: datetime) -> Iterator[ReadingIn]:
    """One point's readings over the last :data:`DAYS` days, oldest first, none after ``until``."""
    zone = plant_timezone()
    rng = random.Random(f"{SEED}:{signal.code}")  # noqa: S311 (a reproducible demo, not secrets)
    anchor = datetime.combine(today, time(8), tzinfo=zone)  # "0 days ago" is today's 08:00 reading
    start = datetime.combine(today - timedelta(days=DAYS), time(0), tzinfo=zone)
    decimals = DECIMALS[signal.quantity]
    stopped = fault.end_days_ago if fault is not None and fault.after == "stopped" else None
    meter = signal.baseline
    step = timedelta(hours=signal.every_hours)
    at = start + (timedelta(hours=8) if signal.every_hours == 24 else timedelta(0))
    while at <= until:
        days_ago = (anchor - at) / timedelta(days=1)
        running = stopped is None or days_ago > stopped
        if signal.quantity == Quantity.RUNTIME_HOURS:
            if running:
                meter += max(0.0, min(24.0, rng.gauss(signal.noise, 0.8))) * signal.every_hours / 24
            value = meter
        elif not running:
            break
        else:
            level = _level(signal, fault, days_ago)
            # Noise grows with the level, less than in proportion (a worn bearing scatters more).
            value = max(0.0, level + rng.gauss(0, signal.noise * math.sqrt(level / signal.baseline)))
        yield ReadingIn(signal.code, at.astimezone(UTC), round(value, decimals))
        at += step


def thickness_readings(seed_dir: Path, today: date) -> Iterator[ReadingIn]:
    zone = plant_timezone()
    latest = today - timedelta(days=SURVEY_DAYS_AGO)
    rows = sorted(read_csv(seed_dir / "monitoring" / "thickness.csv"), key=lambda row: -int(row["years_ago"]))
    for row in rows:
        day = add_years(latest, -int(row["years_ago"]))
        at = datetime.combine(day, SURVEY_AT, tzinfo=zone).astimezone(UTC)
        yield ReadingIn(row["code"], at, float(Decimal(row["thickness_mm"])))


def demo_readings(seed_dir: Path, today: date, until: datetime) -> Iterator[ReadingIn]:
    """Every demo reading: point by point, each point's oldest first; then the thickness surveys."""
    faults = read_faults(seed_dir)
    signals = read_signals(seed_dir)
    unknown = set(faults) - {signal.code for signal in signals}
    if unknown:
        raise ValueError(f"faults.csv: no such point in points.csv: {', '.join(sorted(unknown))}")
    for signal in signals:
        yield from signal_readings(signal, faults.get(signal.code), today, until)
    yield from thickness_readings(seed_dir, today)
