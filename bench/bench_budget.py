"""The budget over a million cost lines: the page and the API against their aggregate SQL alone.

    .venv/bin/python bench/bench_budget.py [PATH] [--lines 1000000] [--runs 5] [--keep]

Builds a plant (default ``bench/var/budget.db``, replaced unless ``--keep`` finds it built; on
PostgreSQL when ``MAINTENANCE_DATABASE_URL`` points there, which must be an empty database): the
demo org, 2,000 assets (``generate.py``'s generator), ``--lines`` ÷ 5 work orders with five cost
lines each (one per kind) and the demo budget (target, baselines, allocation, journal) for
:data:`YEAR`. Orders: 80 % finished in :data:`YEAR` and 10 % the year before (completed, finish
times spread over the year), 5 % approved and unfinished (committed), 5 % drafts; one in twenty a
turnaround order. Orders go in by ``executemany`` in batches, the lines by one
``INSERT … SELECT`` from the orders crossed with the five kinds, so a million lines take seconds.

Then, on :data:`AS_OF`, each case runs ``--runs`` rounds of app + baseline, alternating which goes
first; the ratio is the median of the rounds' ratios (see README.md):

- **API**: ``GET /api/v1/budget/{YEAR}?as_of=…`` with an admin's ``budget:read`` token;
- **page**: ``GET /budget?year=…&as_of=…`` logged in as admin, when ``/budget`` answers 200
  (the overview page is built on another branch; else it is reported skipped);
- **baseline**: the statements ``budget_report`` issues, caught once on their way to the
  database, executed alone with their parameters on a raw DBAPI cursor, rows fetched.

Target: ≤ 1.5×. Timings are printed, never tested.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from generate import BENCH_DIR, ROOT, Generator, remove_database, version_of
from results import Result, add_json_option, at_most, emit

DEFAULT_DB = BENCH_DIR / "var" / "budget.db"
YEAR = 2026
AS_OF = date(YEAR, 9, 30)
ASSETS = 2_000
BATCH = 10_000
TARGET = 1.5
KINDS = ("labour", "material", "service", "refurbished", "localised")
# run_all.py's arguments: the quick run on 300,000 lines (with fewer, the request's fixed cost outweighs
# the SQL), the full one on the million.
QUICK = ["--lines", "300000", "--runs", "3"]
FULL = ["--lines", "1000000", "--runs", "5"]


def configure(db_path: Path) -> str:
    """The database the run uses: PostgreSQL if the environment names it, else ``db_path``."""
    url = os.environ.get("MAINTENANCE_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = f"sqlite:///{db_path}"
        os.environ["MAINTENANCE_DATABASE_URL"] = url
    os.environ.setdefault("MAINTENANCE_VAR_DIR", str(BENCH_DIR / "var"))
    sys.path.insert(0, str(ROOT / "src"))
    return url


def build(db_path: Path, url: str, lines: int, parts: Sequence[str] = ("budget",)) -> None:
    """The plant above; ``parts`` are the names of the demo plant's parts (``demo.plant.PARTS``)
    loaded after the orders and their lines, in that order."""
    from alembic import command
    from sqlalchemy import func, insert, literal, select, union_all

    from maintenance.assets.models import Asset, AssetVersion
    from maintenance.cli import alembic_config
    from maintenance.config import get_settings
    from maintenance.db import get_engine, session_scope
    from maintenance.demo import org as org_demo
    from maintenance.demo.plant import PARTS, SEED_ACTOR
    from maintenance.orders.models import CostLine, WorkOrder
    from maintenance.org.models import Site, Unit, Workshop

    started = time.perf_counter()
    if url.startswith("sqlite"):
        remove_database(db_path)
        db_path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(), "head")
    seed_day = datetime(YEAR, 12, 31, 4, tzinfo=UTC)  # the journal of the whole year
    with session_scope() as session:
        if session.scalar(select(func.count()).select_from(WorkOrder)):
            raise SystemExit(f"{url} already holds work orders: give an empty database")
        org_demo.load(session, get_settings().seed_dir, SEED_ACTOR, seed_day)
    engine = get_engine()
    rng = random.Random(2026)
    with engine.begin() as connection:
        site_id = connection.execute(select(Site.id)).scalar_one()
        workshops = {code: wid for wid, code in connection.execute(select(Workshop.id, Workshop.code))}
        units = {
            code: (uid, wid) for uid, code, wid in connection.execute(select(Unit.id, Unit.code, Unit.workshop_id))
        }
        assets = list(Generator(rng, workshops, units, site_id).rows(ASSETS))
        connection.execute(insert(Asset.__table__), assets)  # type: ignore[attr-defined]
        connection.execute(insert(AssetVersion.__table__), [version_of(row) for row in assets])  # type: ignore[attr-defined]
        placed = [(row["id"], row["workshop_id"]) for row in assets]
        order_insert = insert(WorkOrder.__table__)  # type: ignore[attr-defined]
        batch: list[dict[str, Any]] = []
        for number in range(1, lines // len(KINDS) + 1):
            batch.append(_order(rng, number, *placed[number % len(placed)]))
            if len(batch) == BATCH:
                connection.execute(order_insert, batch)
                batch = []
        if batch:
            connection.execute(order_insert, batch)
        kinds = union_all(  # five rows (kind, step): every order gets one line of each kind
            *(select(literal(kind).label("kind"), literal(step).label("step")) for step, kind in enumerate(KINDS))
        ).subquery("kinds")
        order = WorkOrder.__table__  # type: ignore[attr-defined]
        amount = (order.c.id % 97 + kinds.c.step + 1) * 100
        connection.execute(
            insert(CostLine.__table__).from_select(  # type: ignore[attr-defined]
                [
                    "order_id",
                    "kind",
                    "description",
                    "item_code",
                    "uom",
                    "provider",
                    "planned_quantity",
                    "planned_unit_price_cny",
                    "quantity",
                    "unit_price_cny",
                    "returned_quantity",
                    "planned_cny",
                    "actual_cny",
                    "saving_cny",
                    "created_at",
                ],
                select(
                    order.c.id,
                    kinds.c.kind,
                    literal("bench"),
                    literal(""),
                    literal(""),
                    literal("in_house"),
                    literal(1),
                    amount,
                    literal(1),
                    amount + 50,
                    literal(0),
                    amount,
                    amount + 50,
                    literal(0),
                    order.c.created_at,
                ).select_from(order.join(kinds, literal(True))),
            )
        )
    modules = dict(PARTS)
    for name in parts:
        with session_scope() as session:
            modules[name].load(session, get_settings().seed_dir, SEED_ACTOR, seed_day)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(CostLine)).scalar_one()
    print(f"built {url}: {count:,} cost lines in {time.perf_counter() - started:.1f} s", flush=True)


def _order(rng: random.Random, number: int, asset_id: int, workshop_id: int) -> dict[str, Any]:
    """A work order's row: finished in YEAR (80 %) or the year before (10 %), committed (5 %) or a draft."""
    roll = rng.random()
    year = YEAR if roll < 0.80 else YEAR - 1
    finished = datetime(year, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 24 * 60))
    approved = finished - timedelta(days=rng.randrange(1, 30))
    state, finish = "completed", finished
    if roll >= 0.95:
        state, approved, finish = "draft", None, None  # type: ignore[assignment]
    elif roll >= 0.90:
        state, finish = "approved", None  # type: ignore[assignment]
    raised = (approved or finished) - timedelta(days=1)
    return {
        "id": number,
        "number": f"WO-B-{number:07d}",
        "order_type": "TA" if number % 20 == 0 else "PM",
        "asset_id": asset_id,
        "workshop_id": workshop_id,
        "title": "bench",
        "description": "",
        "priority": "3",
        "provider": "in_house",
        "assignee_name": "",
        "is_revamp_tie_in": False,
        "planned_start_date": None,
        "planned_finish_date": finished.date(),
        "state": state,
        "requested_at": raised,
        "approved_at": approved,
        "actual_start_at": finish,
        "actual_finish_at": finish,
        "findings": "",
        "completion_notes": "",
        "planned_cost_cny": Decimal(0),
        "actual_cost_cny": Decimal(0),
        "labour_hours": Decimal(0),
        "version": 1,
        "created_at": raised,
        "updated_at": finish or raised,
    }


def rounds(runs: int, app: Callable[[], object], baseline: Callable[[], object]) -> tuple[float, float, float, float]:
    """(app ms, baseline ms, median ratio, worst ratio) over ``runs`` alternating rounds."""
    app(), baseline()  # warm both
    app_ms, base_ms, ratios = [], [], []
    for run in range(runs):
        pair = [app, baseline] if run % 2 == 0 else [baseline, app]
        times = {}
        for side in pair:
            start = time.perf_counter()
            side()
            times[side] = (time.perf_counter() - start) * 1000
        app_ms.append(times[app])
        base_ms.append(times[baseline])
        ratios.append(times[app] / times[baseline])
    return statistics.median(app_ms), statistics.median(base_ms), statistics.median(ratios), max(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DB)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse the SQLite file if it is there")
    add_json_option(parser)
    args = parser.parse_args()
    url = configure(args.path)
    if not (args.keep and url.startswith("sqlite") and args.path.exists()):
        build(args.path, url, args.lines)

    from fastapi.testclient import TestClient

    from maintenance.budget.service import budget_report
    from maintenance.db import get_engine
    from maintenance.main import create_app

    engine = get_engine()
    plaintext = api_token(engine, ["budget:read"])
    statements = capture(engine, lambda session: budget_report(session, YEAR, AS_OF))
    baseline = raw_baseline(engine, statements)

    query = f"year={YEAR}&as_of={AS_OF.isoformat()}"
    print(f"load average {os.getloadavg()[0]:.2f}; {len(statements)} aggregate statements; as of {AS_OF}")
    work = f"{YEAR} as of {AS_OF:%d %b}, {args.lines:,} cost lines"
    results: list[Result] = []
    with TestClient(create_app(), base_url="http://testserver", follow_redirects=False) as client:
        bearer = {"Authorization": f"Bearer {plaintext}"}

        def api() -> None:
            assert client.get(f"/api/v1/budget/{YEAR}?as_of={AS_OF.isoformat()}", headers=bearer).status_code == 200

        results.append(report("budget", f"API, {work}", api, baseline, args.runs))
        log_in(client, "admin")
        status = client.get(f"/budget?{query}").status_code
        if status == 200:

            def page() -> None:
                assert client.get(f"/budget?{query}").status_code == 200

            results.append(report("budget", f"page, {work}", page, baseline, args.runs))
        else:
            print(f"page skipped: GET /budget answers {status} (the overview page is not on this branch)")
    emit(results, args.json)


def api_token(engine: Any, scopes: list[str]) -> str:
    """The plaintext of a new API token of ``admin`` with ``scopes``."""
    from sqlmodel import Session, col, select

    from maintenance.org import service as org_service
    from maintenance.org.models import User

    with Session(engine) as session:
        admin = session.exec(select(User).where(col(User.username) == "admin")).one()
        _token, plaintext = org_service.create_api_token(session, admin, name="bench", scopes=scopes, actor=admin)
        session.commit()
    return plaintext


def capture(engine: Any, call: Callable[[Any], object]) -> list[tuple[str, Any]]:
    """The SELECT statements (with their parameters) ``call(session)`` sends to the database."""
    from sqlmodel import Session

    with Session(engine) as session:
        return caught_by(engine, lambda: call(session))


def caught_by(engine: Any, run: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SELECT statements (with their parameters) sent to ``engine`` while ``run()`` runs."""
    from sqlalchemy import event

    caught: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        caught.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", catch)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    return [(sql, params) for sql, params in caught if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


def raw_baseline(engine: Any, statements: list[tuple[str, Any]]) -> Callable[[], None]:
    """The baseline: ``statements`` run alone on a raw DBAPI cursor, rows fetched."""

    def baseline() -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
        finally:
            raw.close()

    return baseline


def log_in(client: Any, username: str) -> None:
    """Log ``client`` (a TestClient) in as ``username`` with the demo password."""
    login = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert csrf, "the login page carries a CSRF token"
    form = {"username": username, "password": "demo2026", "csrf_token": csrf[1], "next": "/"}
    assert client.post("/login", data=form).status_code == 303, f"{username} login"


def report(bench: str, work: str, app: Callable[[], None], baseline: Callable[[], None], runs: int) -> Result:
    """``app`` against ``baseline`` (the SQL alone) over ``runs`` rounds, as a result row."""
    app_ms, base_ms, ratio, worst = rounds(runs, app, baseline)
    target, passed = at_most(TARGET, ratio)
    note = f"baseline: the SQL alone; worst round {worst:.2f}×"
    print(f"{work}: {app_ms:.1f} ms ÷ {base_ms:.1f} ms = {ratio:.2f}×", flush=True)
    return Result(bench, work, app_ms / 1000, base_ms / 1000, ratio, target, passed, note)


if __name__ == "__main__":
    main()
