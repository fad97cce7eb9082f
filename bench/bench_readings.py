"""Readings ingest benchmark: the API and the file import against raw sqlite3 in the same run.

    .venv/bin/python bench/bench_readings.py [--rows 1000000] [--points 1000] [--only api|csv]

A fresh database (default ``bench/var/readings.db``) is built by ``generate.py`` with as many
assets as points, one vibration point per asset is added through the service, and an API token
with the scope ``readings:write`` is created for ``admin``. The same deterministic rows —
``--rows`` readings spread round-robin over the points, ten minutes apart, ending a day ago,
values mostly normal with 1 % of the points drifting into warning and alarm (so the alert path
and its CBM orders are exercised as in a plant) — are then stored three ways:

a. API: ``POST /api/v1/readings`` in batches of 5,000 (JSON ``[{point, taken_at, value}]``,
   ``Authorization: Bearer …``) through the real app in-process (Starlette ``TestClient``); each
   request is its own transaction, as in production. The app is built and started inside the
   timed part, but its modules are imported before (a server imports them once, at start; that
   second and a half is no part of storing readings).
b. CSV import: the rows written beforehand (not timed) to a UTF-8 CSV file with plant-time
   timestamps, then :func:`maintenance.monitoring.readings.imports.import_readings` on it, streamed, in
   one transaction (what ``maintenance import readings FILE`` does).
c. Baseline: stdlib ``sqlite3`` ``executemany`` of the same rows, in batches of 5,000, into a
   table of the same shape (the six columns of ``reading``, primary key (point_id, taken_at),
   same PRAGMAs: WAL, synchronous=NORMAL) in a file of its own, one transaction. The rows come
   from the same generator, already resolved to point ids and with the stored timestamp text.

Before each app case the database is restored from a copy taken after the setup, so both cases
start from an empty ``reading`` table. The ratio is rows/s of the app ÷ rows/s of the baseline
(higher is better; targets ≥ 0.4× API, ≥ 0.4× CSV). Peak RSS (``getrusage``) after each phase
shows that memory does not grow with the number of rows: nothing holds all rows.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import resource
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from generate import BENCH_DIR, configure_environment, create_points, generate
from results import Result, add_json_option, at_least, emit

DEFAULT_DB = BENCH_DIR / "var" / "readings.db"
BATCH = 5000
STEP = timedelta(minutes=10)
API_TARGET, CSV_TARGET = 0.4, 0.4
# run_all.py's arguments: 100,000 readings for the quick run (a few minutes), a million for the full one.
QUICK = ["--rows", "100000", "--points", "200"]
FULL = ["--rows", "1000000"]
BASELINE_DDL = """
CREATE TABLE reading (
    point_id INTEGER NOT NULL,
    taken_at DATETIME NOT NULL,
    value FLOAT NOT NULL,
    state VARCHAR(7) NOT NULL,
    source VARCHAR(6) NOT NULL,
    entered_by_id INTEGER,
    PRIMARY KEY (point_id, taken_at)
)
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Rows:
    """The benchmark's readings: (point index, UTC time, value), the same on every pass."""

    def __init__(self, count: int, points: int) -> None:
        self.count, self.points = count, points
        per_point = -(-count // points)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.start = now - timedelta(days=1) - per_point * STEP
        self.per_point = per_point

    def __iter__(self) -> Iterator[tuple[int, datetime, float]]:
        start, points, per_point = self.start, self.points, self.per_point
        for i in range(self.count):
            point, step = i % points, i // points
            value = 1.0 + (point % 17) * 0.1 + (i % 7) * 0.05
            if point % 100 == 0:  # 1 % of the points develop a fault over the run
                value += 7.0 * step / per_point
            yield point, start + step * STEP, round(value, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"database to build (default {DEFAULT_DB})")
    parser.add_argument("--rows", type=int, default=1_000_000, help="readings per case (default 1000000)")
    parser.add_argument("--points", type=int, default=1000, help="measurement points (default 1000)")
    parser.add_argument("--only", choices=("api", "csv"), action="append", help="run only these cases")
    parser.add_argument("--keep-csv", action="store_true", help="keep the generated CSV file")
    add_json_option(parser)
    args = parser.parse_args()
    db_path: Path = args.db.resolve()
    configure_environment(db_path)
    load_before = os.getloadavg()

    generate(db_path, args.points, 2026)  # migrated, demo org, N assets; replaces the file

    from fastapi.testclient import TestClient
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select
    from sqlmodel import Session

    from maintenance.audit.service import SystemActor
    from maintenance.db import get_engine, plant_timezone, session_scope
    from maintenance.main import create_app  # the app's modules, imported once as a server does at start
    from maintenance.monitoring.readings import imports
    from maintenance.monitoring.readings.ingest import IngestMode
    from maintenance.org import service as org_service
    from maintenance.org.models import User
    from maintenance.org.permissions import EVERY_CAPABILITY

    console = Console(width=160)
    actor = SystemActor(username="bench", capabilities=EVERY_CAPABILITY)
    rss: list[tuple[str, float]] = [("after building the database", peak_rss_mb())]

    # --- Points and a token --------------------------------------------------------------------
    with console.status(f"creating {args.points} measurement points"), session_scope() as session:
        codes = create_points(session, args.points, actor)
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        _token, bearer = org_service.create_api_token(
            session, admin, name="bench", scopes=["readings:write"], actor=actor
        )
    with Session(get_engine()) as session:
        ids: dict[str, int] = {code: point_id for code, point_id in session.execute(_point_ids())}  # noqa: C416
    point_ids = [ids[code] for code in codes]
    restore = keep_pristine(db_path)
    rows = Rows(args.rows, len(codes))
    zone = plant_timezone()

    # --- The baseline ------------------------------------------------------------------------------
    baseline_path = db_path.with_name(db_path.stem + "-baseline.db")

    def baseline() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{baseline_path}{suffix}").unlink(missing_ok=True)
        with closing(sqlite3.connect(baseline_path, isolation_level=None)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(BASELINE_DDL)
            connection.execute("BEGIN IMMEDIATE")
            insert = "INSERT INTO reading VALUES (?, ?, ?, ?, ?, ?)"
            batch: list[tuple[Any, ...]] = []
            for point, taken_at, value in rows:
                batch.append(
                    (point_ids[point], taken_at.strftime("%Y-%m-%d %H:%M:%S.%f"), value, "normal", "api", None)
                )
                if len(batch) == BATCH:
                    connection.executemany(insert, batch)
                    batch = []
            if batch:
                connection.executemany(insert, batch)
            connection.execute("COMMIT")
            stored = connection.execute("SELECT count(*) FROM reading").fetchone()[0]
        assert stored == rows.count, (stored, rows.count)

    # --- a. The API --------------------------------------------------------------------------------
    def api() -> dict[str, int]:
        totals = {"inserted": 0, "duplicates": 0, "rejected": 0, "orders": 0}
        headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
        with TestClient(create_app(), base_url="http://testserver") as client:
            batch: list[dict[str, Any]] = []

            def send() -> None:
                response = client.post("/api/v1/readings", content=json.dumps(batch), headers=headers)
                assert response.status_code in (200, 201), (response.status_code, response.text[:500])
                body = response.json()
                totals["inserted"] += body["inserted"]
                totals["duplicates"] += body["duplicates"]
                totals["rejected"] += body.get("rejected_count", len(body.get("rejected", [])))
                totals["orders"] += len(body.get("alerts_opened", []))

            for point, taken_at, value in rows:
                batch.append({"point": codes[point], "taken_at": taken_at.isoformat(), "value": value})
                if len(batch) == BATCH:
                    send()
                    batch = []
            if batch:
                send()
        assert totals["inserted"] == rows.count, totals
        return totals

    # --- b. The CSV import ----------------------------------------------------------------------------
    csv_path = db_path.with_name(f"readings-{rows.count}.csv")

    def write_csv() -> None:
        with csv_path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["测点编号", "时间", "数值"])
            for point, taken_at, value in rows:
                writer.writerow([codes[point], taken_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), value])

    def csv_import() -> dict[str, int]:
        with session_scope() as session, csv_path.open("rb") as handle:
            report = imports.import_readings(
                session, handle, csv_path.name, actor=actor, mode=IngestMode.ALL_OR_NOTHING, max_bytes=None
            )
        assert report.inserted == rows.count, (report.inserted, report.errors[:5])
        return {
            "inserted": report.inserted,
            "duplicates": report.duplicates,
            "rejected": report.rejected,
            "orders": len(report.alerts_opened),
        }

    cases: list[tuple[str, Callable[[], dict[str, int]], float]] = []
    if not args.only or "api" in args.only:
        cases.append((f"API: POST /api/v1/readings, batches of {BATCH:,}", api, API_TARGET))
    if not args.only or "csv" in args.only:
        with console.status(f"writing {csv_path.name}"):
            write_csv()
        cases.append(
            (f"CSV import: import_readings on a {csv_path.stat().st_size / 1e6:.0f} MB file", csv_import, CSV_TARGET)
        )

    console.print(
        f"[bold]{db_path}[/bold]: {args.points:,} points, {rows.count:,} readings per case "
        f"({rows.per_point:,} per point); {os.cpu_count()} CPUs; load average {_load(load_before)} before"
    )
    results = []
    for index, (name, app_case, target) in enumerate(cases):
        restore()
        # Alternate which side goes first, so that a change in the machine's load hits both alike.
        order = ("app", "baseline") if index % 2 == 0 else ("baseline", "app")
        timings: dict[str, tuple[float, float]] = {}
        outcome: dict[str, int] = {}
        for side in order:
            with console.status(f"{name}: {side}"):
                gc.collect()
                wall, cpu = time.perf_counter(), time.process_time()
                if side == "app":
                    outcome = app_case()
                else:
                    baseline()
                timings[side] = (time.perf_counter() - wall, time.process_time() - cpu)
            rss.append((f"after {name.split(':')[0]} ({side})", peak_rss_mb()))
        results.append((name, target, timings, outcome))
    load_after = os.getloadavg()

    measured = []
    for name, limit, timings, outcome in results:
        app_wall, app_cpu = timings["app"]
        base_wall, base_cpu = timings["baseline"]
        ratio = base_wall / app_wall  # rows/s ÷ rows/s: higher is better
        target, passed = at_least(limit, ratio)
        note = (
            f"ratio = rows/s ÷ baseline rows/s ({rows.count / app_wall:,.0f} ÷ {rows.count / base_wall:,.0f}); "
            f"CPU ratio {base_cpu / app_cpu:.2f}×; {outcome.get('orders', 0)} CBM orders; "
            "baseline: sqlite3 executemany"
        )
        measured.append(
            Result("readings", f"{name}, {rows.count:,} rows", app_wall, base_wall, ratio, target, passed, note)
        )
    emit(measured, args.json)
    memory = Table(title="Peak RSS of this process (getrusage ru_maxrss), after each phase")
    memory.add_column("phase")
    memory.add_column("peak RSS", justify="right")
    for phase, value in rss:
        memory.add_row(phase, f"{value:.0f} MB")
    console.print(memory)
    console.print(f"load average after: {_load(load_after)}")
    if not args.keep_csv:
        csv_path.unlink(missing_ok=True)


def keep_pristine(db_path: Path) -> Callable[[], None]:
    """Copy the database as set up; the function returned puts that copy back (before each case)."""
    from maintenance.db import get_engine

    get_engine().dispose()
    pristine = db_path.with_name(db_path.stem + "-pristine.db")
    shutil.copyfile(db_path, pristine)

    def restore() -> None:
        get_engine().dispose()
        with closing(sqlite3.connect(pristine)) as source, closing(sqlite3.connect(db_path)) as target:
            source.backup(target)

    return restore


def _point_ids() -> Any:
    from sqlalchemy import select

    from maintenance.monitoring.models import MeasurementPoint

    return select(MeasurementPoint.code, MeasurementPoint.id)


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
