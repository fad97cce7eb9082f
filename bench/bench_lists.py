"""Asset list scaling benchmark: does a page cost the same at 10,000 and at 100,000 assets?

    .venv/bin/python bench/bench_lists.py [--sizes 10000 100000] [--million] [--runs 5]

For each size a child process builds (or reuses) a plant with ``generate.populate`` — SQLite files
``bench/var/lists-<N>.db`` by default, or, when ``MAINTENANCE_BENCH_DATABASE_URL`` names a
PostgreSQL server, a database ``bench_lists_<N>`` on it (created, and rebuilt when its asset count
differs) — and times, through the real app (Starlette ``TestClient``, logged in as admin; the API
with an ``assets:read`` token), for every sort of the list in both directions:

- page: the first page, a middle page (``after=`` the cursor of the row in the middle of the
  list), the last page (``last=true``), each as htmx asks for it (the ``results`` fragment);
- API: ``GET /api/v1/assets`` first page and the middle page by ``cursor``;
- for information, the API's middle page by ``page=N`` (OFFSET, what both did before).

Each size is measured ``--rounds`` times, the sizes alternating (one child process each time),
so a change of the machine's load falls on every size; a sort's time is the median of the rounds'
medians of ``--runs`` requests after a warm-up. The parent prints, per case, the median over the
sorts at each size and the ratio of the largest size to the smallest; the target is ≤ 1.5×.
Not a test: the load average is printed so a busy machine can be told apart from a slow page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from generate import BENCH_DIR, ROOT
from results import Result, add_json_option, at_most, emit

TARGET = 1.5
PG_ENV = "MAINTENANCE_BENCH_DATABASE_URL"
SORT_KEYS = ("tag", "name", "class", "status", "criticality", "workshop", "commissioned", "value", "fixed_asset")
CASES = ("page first", "page middle", "page last", "API first", "API middle", "API middle by page=N (OFFSET)")
TARGETED = CASES[:5]
# run_all.py's arguments: the plants are built once and reused while their sizes match.
QUICK = ["--sizes", "10000", "100000", "--runs", "3", "--rounds", "2"]
FULL = ["--sizes", "10000", "100000", "--million", "--runs", "5", "--rounds", "3"]


def database_url(size: int) -> str:
    """The database of the plant of ``size`` assets, made to exist (empty) when on PostgreSQL."""
    server = os.environ.get(PG_ENV, "")
    if not server.startswith("postgresql"):
        (BENCH_DIR / "var").mkdir(exist_ok=True)
        return f"sqlite:///{BENCH_DIR / 'var' / f'lists-{size}.db'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_lists_{size}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def build_if_needed(size: int, url: str) -> None:
    from sqlalchemy import create_engine, func, inspect, select, text

    engine = create_engine(url)
    try:
        if "asset" in inspect(engine).get_table_names():
            with engine.connect() as connection:
                if connection.scalar(select(func.count()).select_from(text("asset"))) == size:
                    return
    finally:
        engine.dispose()
    if url.startswith("sqlite"):
        from generate import remove_database

        path = Path(url.removeprefix("sqlite:///"))
        remove_database(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    from generate import populate

    populate(size, 2026, url)


def measure(size: int, runs: int) -> dict[str, list[float]]:
    """Every case's median time (ms) per sort, on the plant of ``size`` assets."""
    url = database_url(size)
    os.environ["MAINTENANCE_DATABASE_URL"] = url
    os.environ.setdefault("MAINTENANCE_VAR_DIR", str(BENCH_DIR / "var"))
    build_if_needed(size, url)

    from bench_budget import api_token, log_in
    from fastapi.testclient import TestClient
    from sqlalchemy import func
    from sqlmodel import Session

    from maintenance.assets import service
    from maintenance.assets.filters import AssetFilters
    from maintenance.db import get_engine
    from maintenance.main import create_app

    engine = get_engine()
    client = TestClient(create_app(), base_url="http://testserver", follow_redirects=False)
    client.__enter__()
    log_in(client, "admin")
    bearer = {"Authorization": f"Bearer {api_token(engine, ['assets:read'])}"}
    fragment = {"HX-Request": "true"}

    def timed(url: str, headers: dict[str, str]) -> float:
        response = client.get(url, headers=headers)  # warm-up, and a check
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    results: dict[str, list[float]] = {case: [] for case in CASES}
    for key in SORT_KEYS:
        for sort in (key, f"-{key}"):
            filters = AssetFilters(sort=sort)
            with Session(engine) as session:
                total = session.scalar(service.list_assets(filters).order_by(None).with_only_columns(func.count())) or 0
                middle_row = session.scalars(service.list_assets(filters).offset(total // 2).limit(1)).one()
                middle = filters.order.encode(middle_row)
            middle_page = total // 2 // 50 + 1
            results["page first"].append(timed(f"/assets?sort={sort}", fragment))
            results["page middle"].append(timed(f"/assets?sort={sort}&after={middle}", fragment))
            results["page last"].append(timed(f"/assets?sort={sort}&last=true", fragment))
            results["API first"].append(timed(f"/api/v1/assets?sort={sort}", bearer))
            results["API middle"].append(timed(f"/api/v1/assets?sort={sort}&cursor={middle}", bearer))
            results[CASES[5]].append(timed(f"/api/v1/assets?sort={sort}&page={middle_page}", bearer))
    client.__exit__(None, None, None)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="plant sizes (assets)")
    parser.add_argument("--million", action="store_true", help="add a plant of 1,000,000 assets")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per case and sort (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="child runs per size, sizes alternating (default 3)")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # the child's job: one size
    add_json_option(parser)
    args = parser.parse_args()
    if args.measure:
        sys.path.insert(0, str(ROOT / "src"))
        print("RESULT " + json.dumps(measure(args.measure, args.runs)), flush=True)
        return

    sizes = sorted({*args.sizes, *([1_000_000] if args.million else [])})
    backend = "PostgreSQL" if os.environ.get(PG_ENV, "").startswith("postgresql") else "SQLite"
    load_before = os.getloadavg()
    rounds: dict[int, list[dict[str, list[float]]]] = {size: [] for size in sizes}
    for _ in range(args.rounds):  # sizes alternate, so a change of the machine's load hits them all
        for size in sizes:
            child = subprocess.run(  # noqa: S603 (this script, again)
                [sys.executable, __file__, "--measure", str(size), "--runs", str(args.runs)],
                capture_output=True,
                text=True,
            )
            found = re.search(r"^RESULT (.*)$", child.stdout, re.MULTILINE)
            if child.returncode or not found:
                raise SystemExit(f"measuring {size:,} assets failed:\n{child.stdout}{child.stderr}")
            rounds[size].append(json.loads(found[1]))
    # Per case and sort: the median of the rounds.
    by_size = {
        size: {
            case: [statistics.median(times) for times in zip(*(r[case] for r in runs), strict=True)] for case in CASES
        }
        for size, runs in rounds.items()
    }
    load_after = os.getloadavg()

    small, large = sizes[0], sizes[-1]
    print(
        f"{backend}; per case the median over the 18 sorts of each sort's time (the median of {args.rounds} "
        f"rounds of the median of {args.runs} requests)"
    )
    print(f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
    results = []
    for case in CASES:
        medians = [statistics.median(by_size[size][case]) for size in sizes]
        ratios = [big / little for big, little in zip(by_size[large][case], by_size[small][case], strict=True)]
        ratio = medians[-1] / medians[0]
        target, passed = at_most(TARGET, ratio) if case in TARGETED else ("", None)
        each = ", ".join(f"{size:,}: {value:.1f} ms" for size, value in zip(sizes, medians, strict=True))
        note = f"{backend}; ours = {large:,} assets, baseline = {small:,}; {each}; worst sort {max(ratios):.2f}×"
        work = f"asset list, {case}, {large:,} ÷ {small:,} assets"
        results.append(Result("lists", work, medians[-1] / 1000, medians[0] / 1000, ratio, target, passed, note))
    emit(results, args.json)


if __name__ == "__main__":
    main()
