"""The year's scorecard over a large plant: the page and the API against their SQL alone.

    .venv/bin/python bench/bench_scorecard.py [PATH] [--lines 1000000] [--readings 10000000]
        [--points 1000] [--runs 5] [--keep]

Builds a plant (default ``bench/var/scorecard.db``, replaced unless ``--keep`` finds it built; on
PostgreSQL when ``MAINTENANCE_DATABASE_URL`` points there, which must be an empty database) with
``bench_budget.build``: the demo org, 2,000 generated assets, ``--lines`` cost lines over
``--lines`` ÷ 5 work orders, then the demo plant's parts the scorecard reads: the demo registry
(its tags are what the next parts name), special equipment, leak-free, the budget, the key
projects with their milestones, a year of operating log for every unit, the accidents and the
savings ledgers. Then ``--points`` vibration points (``generate.create_points``) and
``--readings`` readings spread over them, ten minutes apart up to :data:`AS_OF`, written by one
``INSERT … SELECT`` (a recursive counter on SQLite, ``generate_series`` on PostgreSQL).

Then, as of :data:`AS_OF`, each case runs ``--runs`` rounds of app + baseline, alternating which
goes first; the ratio is the median of the rounds' ratios (see README.md):

- **API**: ``GET /api/v1/scorecard/{YEAR}?as_of=…`` with an admin's ``scorecard:read`` token;
- **page**: ``GET /scorecard?year=…&as_of=…`` logged in as admin;
- **baseline**: the SELECT statements that very request sent to the database (caught on their way
  by a ``before_cursor_execute`` listener during one request), run alone with their parameters on
  a raw DBAPI cursor, rows fetched.

Target: ≤ 1.5×. Then every distinct caught statement is explained (SQLite ``EXPLAIN QUERY PLAN``,
PostgreSQL ``EXPLAIN``) and any that reads one of :data:`LARGE` without an index is printed, and on
SQLite any that reads one of their indexes from end to end.
Timings are printed, never tested.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_budget import api_token, build, caught_by, configure, log_in, raw_baseline, report
from generate import BENCH_DIR
from results import Result, add_json_option, emit

DEFAULT_DB = BENCH_DIR / "var" / "scorecard.db"
YEAR = 2026
AS_OF = date(YEAR, 9, 30)
STEP_MINUTES = 10
LARGE = ("cost_line", "reading", "work_order", "asset", "asset_version")
PARTS = (
    "budget",
    "assets",
    "special equipment",
    "leak-free",
    "key projects",
    "operating log",
    "accidents",
    "savings ledgers",
)
# run_all.py's arguments: the quick run on 3/10 of the plant, the full one on all of it.
QUICK = ["--lines", "300000", "--readings", "3000000", "--runs", "3"]
FULL = ["--lines", "1000000", "--readings", "10000000", "--runs", "5"]

Statements = list[tuple[str, Any]]


def add_readings(url: str, points: int, readings: int) -> None:
    """``points`` measurement points and ``readings`` readings round the points, the newest at AS_OF."""
    from generate import create_points
    from sqlalchemy import func, select, text

    from maintenance.audit.service import SystemActor
    from maintenance.db import get_engine, session_scope
    from maintenance.monitoring.models import Reading
    from maintenance.org.permissions import EVERY_CAPABILITY

    started = time.perf_counter()
    with session_scope() as session:
        create_points(session, points, SystemActor(username="bench", capabilities=EVERY_CAPABILITY))
    per_point = max(readings // points, 1)
    end = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 2, tzinfo=UTC)
    start = end - timedelta(minutes=STEP_MINUTES * (per_point - 1))
    value = "1.0 + (p.id % 17) * 0.1 + (n.i % 7) * 0.05"
    if url.startswith("sqlite"):  # SQLAlchemy's SQLite DATETIME text: 'YYYY-MM-DD HH:MM:SS.ffffff'
        statement = f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last)
            INSERT INTO reading (point_id, taken_at, value, state, source, entered_by_id)
            SELECT p.id, strftime('%Y-%m-%d %H:%M:%S.000000', :start, '+' || (n.i * {STEP_MINUTES}) || ' minutes'),
                   {value}, 'normal', 'api', NULL
            FROM measurement_point AS p CROSS JOIN n"""
        parameters: dict[str, Any] = {"last": per_point - 1, "start": start.strftime("%Y-%m-%d %H:%M:%S")}
    else:
        statement = f"""
            INSERT INTO reading (point_id, taken_at, value, state, source, entered_by_id)
            SELECT p.id, CAST(:start AS timestamptz) + n.i * interval '{STEP_MINUTES} minutes',
                   {value}, 'normal', 'api', NULL
            FROM measurement_point AS p CROSS JOIN generate_series(0, :last) AS n(i)"""
        parameters = {"last": per_point - 1, "start": start.isoformat()}
    engine = get_engine()
    with engine.begin() as connection:
        connection.execute(text(statement), parameters)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Reading)).scalar_one()
    print(f"added {points:,} points and {count:,} readings in {time.perf_counter() - started:.1f} s", flush=True)


def scans(engine: Any, statements: Statements) -> list[tuple[str, str, list[str]]]:
    """(kind, statement, plan) of each distinct statement that reads a whole table of LARGE: kind
    "no index" (the table's rows one by one), or on SQLite "whole index" (one of its indexes from
    end to end, ``SCAN t USING INDEX``: no row lookups, but every entry)."""
    found: list[tuple[str, str, list[str]]] = []
    sqlite = engine.dialect.name == "sqlite"
    seen: set[str] = set()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for sql, params in statements:
            if sql in seen:
                continue
            seen.add(sql)
            if sqlite:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                plan = [row[3] for row in cursor.fetchall()]
                read = [re.match(r"SCAN (\w+)(?: AS \w+)?( USING .*INDEX)?", line) for line in plan]
                large = [match for match in read if match and re.sub(r"_\d+$", "", match[1]) in LARGE]
            else:
                cursor.execute("EXPLAIN " + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
                read = [re.search(r"Seq Scan on (\w+)()", line) for line in plan]
                large = [match for match in read if match and match[1] in LARGE]
            if any(not match[2] for match in large):
                found.append(("no index", sql, plan))
            elif large:
                found.append(("whole index", sql, plan))
    finally:
        raw.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DB)
    parser.add_argument("--lines", type=int, default=1_000_000, help="cost lines (default 1000000)")
    parser.add_argument("--readings", type=int, default=10_000_000, help="readings (default 10000000)")
    parser.add_argument("--points", type=int, default=1000, help="measurement points (default 1000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse the SQLite file if it is there")
    add_json_option(parser)
    args = parser.parse_args()
    url = configure(args.path)
    if not (args.keep and url.startswith("sqlite") and args.path.exists()):
        build(args.path, url, args.lines, PARTS)
        add_readings(url, args.points, args.readings)

    from fastapi.testclient import TestClient

    from maintenance.db import get_engine
    from maintenance.main import create_app

    engine = get_engine()
    plaintext = api_token(engine, ["scorecard:read"])
    print(f"load average {os.getloadavg()[0]:.2f}; year {YEAR} as of {AS_OF}")
    work = f"{YEAR} as of {AS_OF:%d %b}, {args.lines:,} cost lines, {args.readings:,} readings"
    results: list[Result] = []
    with TestClient(create_app(), base_url="http://testserver", follow_redirects=False) as client:
        bearer = {"Authorization": f"Bearer {plaintext}"}
        api_url = f"/api/v1/scorecard/{YEAR}?as_of={AS_OF.isoformat()}"
        page_url = f"/scorecard?year={YEAR}&as_of={AS_OF.isoformat()}"

        def api() -> None:
            assert client.get(api_url, headers=bearer).status_code == 200

        def page() -> None:
            assert client.get(page_url).status_code == 200

        cases: list[tuple[str, Callable[[], None], Statements]] = []
        api_statements = caught_by(engine, api)
        results.append(report("scorecard", f"API, {work}", api, raw_baseline(engine, api_statements), args.runs))
        cases.append(("API", api, api_statements))
        log_in(client, "admin")
        page_statements = caught_by(engine, page)
        results.append(report("scorecard", f"page, {work}", page, raw_baseline(engine, page_statements), args.runs))
        cases.append(("page", page, page_statements))
    for name, _request, statements in cases:
        found = scans(engine, statements)
        kinds = [kind for kind, _sql, _plan in found]
        print(
            f"{name}: {len(statements)} statements; of {', '.join(LARGE)}: {kinds.count('no index')} read"
            f" without an index, {kinds.count('whole index')} through a whole index"
        )
        for kind, sql, plan in found:
            print(f"  {kind}: " + " ".join(sql.split())[:240])
            for line in plan:
                print("      " + line)
    emit(results, args.json)


if __name__ == "__main__":
    main()
