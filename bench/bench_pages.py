"""Every page of the demo plant: server time and queries, against the framework's floor.

    .venv/bin/python bench/bench_pages.py [--runs 5] [--user wangzr]

The demo plant (``maintenance seed --demo``, as ``make run`` loads it) is built once into
``bench/var/demo.db``. Every GET route of the app that renders a page is filled with the first
id of its table (``/orders/{order_id}`` → the first order) and requested as the user would (full
page, logged in, Starlette TestClient, warmed up once), ``--runs`` times; the median server time
is printed with the number of SQL statements it ran and its ratio to the baseline measured in the
same run: ``GET /login``, the cheapest page through the same middleware, session and templates.
Pages over the 300 ms target are marked. Timings are not tests; the load average says how busy
the machine was.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from generate import BENCH_DIR, ROOT, configure_environment
from results import Result, add_json_option, emit

DEMO_DB = BENCH_DIR / "var" / "demo.db"
TARGET_MS = 300.0
# Path parameter → (table, column) whose first row fills it.
FILL = {
    "asset_id": ("asset", "id"),
    "order_id": ("work_order", "id"),
    "point_id": ("measurement_point", "id"),
    "plan_id": ("pm_plan", "id"),
    "turnaround_id": ("turnaround", "id"),
    "round_id": ("inspection_round", "id"),
    "route_id": ("inspection_route", "id"),
    "campaign_id": ("inspection_campaign", "id"),
    "stocktake_id": ("stocktake", "id"),
    "user_id": ("app_user", "id"),
    "workshop_id": ("workshop", "id"),
    "unit_id": ("unit", "id"),
    "number": ("work_order", "number"),
    "tag": ("asset", "tag"),
    "code": ("measurement_point", "code"),
}
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")
# run_all.py's arguments: the demo plant is the same at both scales.
QUICK = ["--runs", "3"]
FULL = ["--runs", "5"]


def build_demo(db_path: Path) -> None:
    env = {**os.environ, "MAINTENANCE_DATABASE_URL": f"sqlite:///{db_path}"}
    for args in (("db", "upgrade"), ("seed", "--demo")):
        subprocess.run([sys.executable, "-m", "maintenance.cli", *args], env=env, check=True, cwd=ROOT)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--user", default="wangzr", help="a demo login (password demo2026)")
    add_json_option(parser)
    args = parser.parse_args()
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    configure_environment(DEMO_DB)
    if not DEMO_DB.exists():
        print(f"building the demo plant into {DEMO_DB} …", flush=True)
        build_demo(DEMO_DB)

    from fastapi.routing import iter_route_contexts
    from fastapi.testclient import TestClient
    from sqlalchemy import event, text
    from starlette.routing import Route

    from maintenance.db import get_engine
    from maintenance.main import create_app

    engine = get_engine()
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *_a, **_k: statements.__setitem__(0, statements[0] + 1))
    with engine.connect() as connection:
        first = {
            name: connection.scalar(text(f"SELECT {column} FROM {table} ORDER BY id LIMIT 1"))
            for name, (table, column) in FILL.items()
        }
    app = create_app(warm_up=True)
    paths = sorted(
        {
            context.path
            for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, Route)
            and "GET" in (context.methods or ())
            and not context.path.startswith(("/api/", "/openapi", "/logout"))
        }
    )
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert token, "the login page carries a CSRF token"
        form = {"username": args.user, "password": "demo2026", "csrf_token": token[1], "next": "/"}
        assert client.post("/login", data=form).status_code == 303, "demo login"

        def measure(url: str) -> tuple[float, int, int]:
            client.get(url)  # warm
            times = []
            for _run in range(args.runs):
                statements[0] = 0
                start = time.perf_counter()
                status = client.get(url).status_code
                times.append((time.perf_counter() - start) * 1000)
            return statistics.median(times), statements[0], status

        baseline_ms, _q, _s = measure("/login")
        rows = []
        for path in paths:
            names = _PARAM.findall(path)
            if any(first.get(name) is None for name in names):
                continue
            url = _PARAM.sub(lambda match: str(first[match[1]]), path)
            rows.append((url, *measure(url)))

    print(f"load average {os.getloadavg()[0]:.2f}; baseline GET /login {baseline_ms:.1f} ms; {len(rows)} pages")
    print(f"{'ms':>8} {'× /login':>9} {'queries':>8} {'status':>6}  page")
    slowest_first = sorted(rows, key=lambda row: -row[1])
    for url, ms, queries, status in slowest_first:
        mark = "  over target" if ms > TARGET_MS else ""
        print(f"{ms:8.1f} {ms / baseline_ms:9.1f} {queries:8d} {status:6d}  {url}{mark}")
    # The table: every page over the target, then the slowest of those within it for all the others.
    over = [row for row in slowest_first if row[1] > TARGET_MS]
    within = [row for row in slowest_first if row[1] <= TARGET_MS]
    shown = [(f"page {row[0]}", row) for row in over]
    if within:
        shown.append((f"slowest of the other {len(within)} pages: {within[0][0]}", within[0]))
    results = [
        Result(
            "pages",
            work,
            ms / 1000,
            baseline_ms / 1000,
            ms / baseline_ms,
            f"≤ {TARGET_MS:g} ms",
            ms <= TARGET_MS,
            f"baseline: GET /login; {queries} statements",
        )
        for work, (_url, ms, queries, _status) in shown
    ]
    emit(results, args.json)


if __name__ == "__main__":
    main()
