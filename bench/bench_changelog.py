"""Change-log writers at once on PostgreSQL: saves per second by 1 worker and by 4, with the log's
16 parallel chains against the single chain (one advisory lock for every writer) as it was.

    .venv/bin/python bench/bench_changelog.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] \\
        [--saves 400] [--rounds 3] [--json FILE]

``--database-url`` (default ``$MAINTENANCE_BENCH_DATABASE_URL``, else the local server as above) names a
PostgreSQL server (any database on it): the bench creates a database
of its own there (``bench_changelog_<hex>``), migrates it and drops it at the end. A save is one
transaction that adds a site and logs it (``audit.record_create``) and commits, as a form or an
API call does. Workers are processes (no shared interpreter lock), each with its own engine; they
connect and save once before the clock starts, then ``--saves`` saves are shared among them.

The baseline runs in the same process tree on the same database: the writers spread over one
chain instead of 16 (``maintenance.audit.service.writer_chains`` set to 1 in each worker, not a
setting users see), which is the single chain and its one lock as they were. Each round runs all
four cases (the order of the two modes alternates); the figures are the medians of the rounds.
The ratio that matters is saves/s with 4 workers ÷ with 1, for each mode.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from results import Result, add_json_option, at_least, emit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WORKERS = (1, 4)
DEFAULT_SERVER = (
    os.environ.get("MAINTENANCE_BENCH_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# With the chains, 4 writers must get through clearly more than 1 (the machine's cores bound it).
SCALING_TARGET = 1.2
# run_all.py's arguments: the quick run a minute or two, the full one more saves per case.
QUICK = ["--saves", "200", "--rounds", "3"]
FULL = ["--saves", "1000", "--rounds", "5"]


def _environment(url: str) -> None:
    """Settings are read once, before any maintenance import (here and in each worker)."""
    os.environ["MAINTENANCE_DATABASE_URL"] = url
    os.environ.setdefault("MAINTENANCE_VAR_DIR", tempfile.mkdtemp(prefix="bench-changelog-"))
    os.environ.pop("MAINTENANCE_AUDIT_KEY", None)
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))


def _save(session: Any, code: str) -> None:
    from maintenance.audit import service as audit
    from maintenance.org.models import Site

    with session.begin():
        site = Site(code=code, name=f"厂区 {code}")
        session.add(site)
        session.flush()
        audit.record_create(session, audit.SystemActor(username="bench"), site)


def _worker(url: str, chains: int, saves: int, prefix: str, start: Barrier, results: Any) -> None:
    _environment(url)
    from sqlmodel import Session

    from maintenance.audit import service as audit
    from maintenance.db import build_engine

    audit.writer_chains = chains
    engine = build_engine(url)
    with Session(engine) as session:
        _save(session, f"{prefix}-warm")
        start.wait()
        for n in range(saves):
            _save(session, f"{prefix}-{n}")
    engine.dispose()
    results.put(saves)


def run_case(url: str, chains: int, workers: int, saves: int, tag: str) -> float:
    """Saves per second of ``workers`` processes sharing ``saves`` saves."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers + 1)
    results = context.Queue()
    share = saves // workers
    processes = [
        context.Process(target=_worker, args=(url, chains, share, f"{tag}-w{n}", start, results))
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    done = sum(results.get(timeout=600) for _ in processes)
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join(60)
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a PostgreSQL server (postgresql+psycopg://…)")
    parser.add_argument("--saves", type=int, default=400, help="saves per case, shared among the workers")
    parser.add_argument("--rounds", type=int, default=3)
    add_json_option(parser)
    args = parser.parse_args()

    from sqlalchemy import create_engine, make_url, text

    server = make_url(args.database_url)
    if server.get_backend_name() != "postgresql":
        parser.error("--database-url must be PostgreSQL: on SQLite one transaction writes at a time anyway")
    name = f"bench_changelog_{secrets.token_hex(4)}"
    url = server.set(database=name).render_as_string(hide_password=False)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _environment(url)
        from alembic import command

        from maintenance.audit import service as audit
        from maintenance.audit.models import CHAINS
        from maintenance.cli import alembic_config
        from maintenance.db import build_engine

        engine = build_engine(url)
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

        modes = {"1 chain, one lock (as before)": 1, f"{CHAINS} chains": CHAINS}
        rates: dict[tuple[str, int], list[float]] = {(mode, workers): [] for mode in modes for workers in WORKERS}
        for round_number in range(args.rounds):
            order = list(modes.items()) if round_number % 2 == 0 else list(reversed(modes.items()))
            for mode, chains in order:
                for workers in WORKERS:
                    tag = f"r{round_number}c{chains}w{workers}"
                    rates[mode, workers].append(run_case(url, chains, workers, args.saves, tag))

        from sqlmodel import Session

        with Session(engine) as session:
            report = audit.verify_chain(session)
        engine.dispose()

        medians = {key: statistics.median(values) for key, values in rates.items()}
        print(f"{args.saves} saves per case, {args.rounds} rounds, medians; load average {os.getloadavg()[0]:.1f}")
        print(
            f"log afterwards: {report.rows} rows on {report.used_chains} chains, "
            f"verify {'ok' if report.ok else 'FAILED: ' + '; '.join(report.problems())}"
        )
        results = []
        for mode, chains in modes.items():
            one, four = medians[mode, 1], medians[mode, 4]
            target, passed = at_least(SCALING_TARGET, four / one) if chains == CHAINS else ("", None)
            results.append(
                Result(
                    "changelog",
                    f"PostgreSQL, {mode}: a logged save by 4 writers at once (ours) against 1 writer (baseline)",
                    1 / four,
                    1 / one,
                    four / one,
                    target,
                    passed and report.ok if passed is not None else None,
                    f"{four:.0f} vs {one:.0f} saves/s; ratio = throughput 4 ÷ 1"
                    + ("" if chains == CHAINS else "; for information"),
                )
            )
        emit(results, args.json)
        if not report.ok:
            raise SystemExit("the change log did not verify after the bench")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
