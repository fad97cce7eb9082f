"""A bounded load test on loopback: engineers walking rounds and managers reading their pages.

``bench/bench_load.py [--engine sqlite|postgresql|both] [--database-url URL] [--engineers 50]
[--managers 5] [--seconds 60] [--baseline-seconds 10]``

For each engine it builds a fresh plant (the demo's org and registry, loaded as
``tests/live_server.py`` loads its small plant, plus, per simulated engineer, a user and routes
of their own: :func:`seed_load_plant`, run as ``python -m bench.bench_load seed …`` in the
server's environment), serves it as production does (``maintenance serve``, default workers
for the engine) on a free loopback port, then:

1. **baseline**: one engineer alone, then one manager alone, for ``--baseline-seconds`` each: the
   unloaded time of every kind of request;
2. **load**: ``--engineers`` engineers and ``--managers`` managers at once for ``--seconds``, each
   a closed loop (its next request when the last one was answered, no think time).

An engineer logs in, opens the rounds board, starts (or reopens) the round of one of its routes,
opens it and posts each stop's value or check as the page's htmx form does (multipart, the CSRF
token in ``X-CSRF-Token``), finishes the round and moves on to its next route; with every route
walked it keeps reading the board and its last round. A manager logs in and reads the KPIs, the
scorecard and the budget, again and again.

The table gives per kind of request: count, req/s, p50/p95/p99, max, errors (5xx, other 4xx,
transport errors, timeouts) and business answers apart (409/422: a refused entry, said in the
page), and the ratio of the loaded percentiles to the unloaded ones. The same code runs in CI
(``tests/test_load.py``: a few engineers for a few seconds, checking answers, not times).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import shutil
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2

if TYPE_CHECKING:
    from results import Result

ROOT = Path(__file__).resolve().parents[1]
LOAD_PASSWORD = "load-test-2026"  # noqa: S105 (every simulated user's)
ENGINEER_PREFIX = "load-eng-"
MANAGER_PREFIX = "load-mgr-"
REQUEST_TIMEOUT_S = 30.0
# The demo's parts the load needs (its users' workshops and assets); the routes are the load's own.
LOAD_PLANT_PARTS = ("org", "assets")
MANAGER_PAGES = ("/orders/kpis", "/scorecard", "/budget")
BUSINESS_STATUSES = frozenset({409, 422})  # a refusal the page explains: not an error
NOT_OK_SHARE = 0.02  # checks found not OK (each raises a corrective order)
ALARM_SHARE = 0.02  # values beyond the alarm limit (the point's CBM order)

LOCAL_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# run_all.py's arguments: both engines, the 50 engineers and 5 managers; half a minute of
# load for the quick run, a minute for the full one.
QUICK = ["--engine", "both", "--seconds", "30", "--baseline-seconds", "5"]
FULL = ["--engine", "both", "--seconds", "60"]
# The rows of the one table: every request, and the round entries saved.
SUMMARY_KINDS = {"all": "every request", "POST stop": "round entries saved (POST stop)"}

_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')
_STOP_CARD = re.compile(r'<div class="card mb-2 stop-card')
_STOP_FORM = re.compile(r'hx-post="/rounds/(\d+)/stops/(\d+)"')


# --- The plant --------------------------------------------------------------------------------


def seed_load_plant(engineers: int, managers: int, routes: int, stops: int) -> dict[str, Any]:
    """Migrate, load the demo's org and registry (:func:`tests.live_server.load_demo_parts`) and
    add the simulated users: ``engineers`` engineers, spread over the workshops that have assets, each
    with ``routes`` daily routes of ``stops`` stops of their own (every other stop a vibration
    point made for it, the others an OK / not-OK check on an asset), and ``managers`` managers.
    Returns the users and each engineer's route ids."""
    from sqlalchemy import select
    from sqlmodel import col

    from maintenance.assets.models import Asset
    from maintenance.db import session_scope
    from maintenance.inspections import rounds
    from maintenance.inspections.models import RouteCreate, StopFields
    from maintenance.monitoring import service as monitoring
    from maintenance.monitoring.choices import Quantity
    from maintenance.monitoring.models import PointCreate
    from maintenance.org import service as org_service
    from maintenance.org.models import Role, UserCreate
    from tests.live_server import load_demo_parts

    load_demo_parts(LOAD_PLANT_PARTS)
    plant: dict[str, Any] = {"engineers": {}, "managers": []}
    with session_scope() as session:
        admin = org_service.get_user_by_username(session, "admin")
        assert admin is not None
        by_workshop: dict[int, list[int]] = defaultdict(list)
        for asset_id, workshop_id in session.execute(
            select(col(Asset.id), col(Asset.workshop_id)).order_by(col(Asset.id))
        ):
            by_workshop[workshop_id].append(asset_id)
        workshops = sorted(by_workshop)
        for number in range(1, engineers + 1):
            workshop_id = workshops[number % len(workshops)]
            assets = by_workshop[workshop_id]
            username = f"{ENGINEER_PREFIX}{number:03d}"
            org_service.create_user(
                session,
                UserCreate(username=username, password=LOAD_PASSWORD, role=Role.ENGINEER, workshop_ids=[workshop_id]),
                actor=admin,
            )
            route_ids = []
            for route_number in range(1, routes + 1):
                code = f"LOAD-{number:03d}-{route_number}"
                route = rounds.create_route(
                    session, RouteCreate(code=code, name=f"负荷测试路线 {code}", workshop_id=workshop_id), actor=admin
                )
                for stop_number in range(stops):
                    asset_id = assets[stop_number % len(assets)]
                    if stop_number % 2:
                        stop = StopFields(asset_id=asset_id, check_text=f"检查项 {stop_number}")
                    else:
                        point = monitoring.create_point(
                            session,
                            PointCreate(
                                code=f"{code}-V{stop_number}",
                                asset_id=asset_id,
                                name="驱动端水平振动",
                                quantity=Quantity.VIBRATION,
                                warning_high=4.5,
                                alarm_high=7.1,
                            ),
                            actor=admin,
                        )
                        stop = StopFields(point_id=point.id)
                    rounds.add_stop(session, route, stop, actor=admin)
                route_ids.append(route.id)
            plant["engineers"][username] = route_ids
        for number in range(1, managers + 1):
            username = f"{MANAGER_PREFIX}{number:03d}"
            org_service.create_user(
                session, UserCreate(username=username, password=LOAD_PASSWORD, role=Role.MANAGER), actor=admin
            )
            plant["managers"].append(username)
    return plant


# --- Measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A round entry the server acknowledged: its stop card came back entered."""

    round_id: int
    stop_id: int
    value: float | None
    result: str | None


@dataclass
class Recorder:
    """Every request's time by kind, what went wrong, and the entries acknowledged."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    business: Counter[str] = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    acknowledged: list[Entry] = field(default_factory=list)
    engineers_done: int = 0  # engineers who walked all their routes before the end
    elapsed: float = 0.0  # seconds the users ran

    def error(self, kind: str, reason: str) -> None:
        self.errors[kind] += 1
        if len(self.error_examples) < 20:
            self.error_examples.append(f"{kind}: {reason}")

    async def send(
        self, client: httpx2.AsyncClient, kind: str, method: str, url: str, **options: Any
    ) -> httpx2.Response | None:
        """The response, or None after a transport error or a timeout (counted as errors)."""
        started = time.perf_counter()
        try:
            response = await client.request(method, url, **options)
        except httpx2.HTTPError as error:
            self.times[kind].append(time.perf_counter() - started)
            self.error(kind, f"{type(error).__name__}: {error}")
            return None
        self.times[kind].append(time.perf_counter() - started)
        if response.status_code in BUSINESS_STATUSES:
            self.business[kind] += 1
        elif response.status_code >= 400:
            self.error(kind, f"HTTP {response.status_code} {response.text[:200]!r}")
        return response


def csrf_of(response: httpx2.Response | None) -> str:
    match = _CSRF.search(response.text) if response is not None else None
    return match.group(1) if match else ""


async def log_in(recorder: Recorder, client: httpx2.AsyncClient, username: str) -> bool:
    page = await recorder.send(client, "GET /login", "GET", "/login")
    form = {"username": username, "password": LOAD_PASSWORD, "csrf_token": csrf_of(page), "next": "/"}
    answer = await recorder.send(client, "POST /login", "POST", "/login", data=form)
    return answer is not None and answer.status_code == 303


def open_stops(page: str) -> list[tuple[int, int, bool]]:
    """The stops of a round page still to enter: (round id, stop id, reads a value)."""
    found = []
    for card in _STOP_CARD.split(page)[1:]:
        form = _STOP_FORM.search(card)
        if form:
            found.append((int(form.group(1)), int(form.group(2)), 'name="value"' in card))
    return found


async def walk_round(
    recorder: Recorder, client: httpx2.AsyncClient, rng: random.Random, route_id: int, until: float
) -> str | None:
    """Start the route's round from the board, enter its stops, finish it; the round's URL, or
    None when the board, the start or the round's page failed (an error counted)."""
    board = await recorder.send(client, "GET /rounds", "GET", "/rounds")
    if board is None or board.status_code != 200:
        return None
    token = csrf_of(board)
    started = await recorder.send(
        client, "POST /rounds/start", "POST", "/rounds/start", data={"route_id": route_id, "csrf_token": token}
    )
    if started is None or started.status_code != 303:
        return None
    url = started.headers["location"]
    page = await recorder.send(client, "GET /rounds/{id}", "GET", url)
    if page is None or page.status_code != 200:
        return None
    token = csrf_of(page) or token
    for round_id, stop_id, reads_value in open_stops(page.text):
        if time.monotonic() >= until:
            return url
        fields: dict[str, Any] = {"csrf_token": token, "note": "", "client_id": str(uuid.uuid4())}
        value: float | None = None
        result: str | None = None
        if reads_value:
            value = round(rng.uniform(7.5, 9.0) if rng.random() < ALARM_SHARE else rng.uniform(1.0, 4.0), 2)
            fields["value"] = str(value)
        else:
            result = "not_ok" if rng.random() < NOT_OK_SHARE else "ok"
            fields["result"] = result
            fields["note"] = "机封渗漏" if result == "not_ok" else ""
        answer = await recorder.send(
            client,
            "POST stop",
            "POST",
            f"/rounds/{round_id}/stops/{stop_id}",
            data=fields,
            files={"photo": ("", b"", "application/octet-stream")},  # the empty file input a browser sends
            headers={"HX-Request": "true", "X-CSRF-Token": token},
        )
        if answer is not None and answer.status_code == 200 and 'data-entered="true"' in answer.text:
            recorder.acknowledged.append(Entry(round_id, stop_id, value, result))
    await recorder.send(client, "POST finish", "POST", f"{url}/finish", data={"csrf_token": token})
    return url


async def engineer(
    recorder: Recorder, client: httpx2.AsyncClient, username: str, route_ids: Sequence[int], until: float
) -> None:
    rng = random.Random(username)
    last = None
    pending = list(route_ids)
    while pending and time.monotonic() < until:
        walked = await walk_round(recorder, client, rng, pending[0], until)
        if walked:  # else the same route again
            last = walked
            pending.pop(0)
    if pending or time.monotonic() >= until:  # the time ran out first (on the last route, maybe)
        return
    recorder.engineers_done += 1
    while time.monotonic() < until:  # every route walked: keeps looking
        await recorder.send(client, "GET /rounds", "GET", "/rounds")
        if last:
            await recorder.send(client, "GET /rounds/{id}", "GET", last)


async def manager(recorder: Recorder, client: httpx2.AsyncClient, until: float) -> None:
    while time.monotonic() < until:
        for page in MANAGER_PAGES:
            await recorder.send(client, f"GET {page}", "GET", page)


async def _run(
    base_url: str,
    engineers: dict[str, list[int]],
    managers: Sequence[str],
    seconds: float,
    recorder: Recorder,
    logins: Recorder,
) -> None:
    """Everyone logs in (into ``logins``; as many at a time as the machine has cores: a password
    check is CPU-bound on purpose, and all at once they would queue past the client's timeout),
    then all work at once for ``seconds`` (into ``recorder``)."""
    usernames = [*engineers, *managers]
    clients = [httpx2.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) for _name in usernames]
    try:
        started = time.monotonic()
        slots = asyncio.Semaphore(os.cpu_count() or 1)

        async def log_in_when_free(client: httpx2.AsyncClient, username: str) -> bool:
            async with slots:
                return await log_in(logins, client, username)

        signed_in = await asyncio.gather(*map(log_in_when_free, clients, usernames))
        logins.elapsed += time.monotonic() - started
        until = time.monotonic() + seconds
        users = [
            engineer(recorder, client, name, engineers[name], until)
            if name in engineers
            else manager(recorder, client, until)
            for client, name, ok in zip(clients, usernames, signed_in, strict=True)
            if ok
        ]
        started = time.monotonic()
        await asyncio.gather(*users)
        recorder.elapsed += time.monotonic() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def run_load(
    base_url: str,
    engineers: dict[str, list[int]],
    managers: Sequence[str],
    seconds: float,
    recorder: Recorder | None = None,
    logins: Recorder | None = None,
) -> tuple[Recorder, Recorder]:
    """The engineers (username: their route ids) and managers log in, then work at once for
    ``seconds``; (their work, their logins), each added to the recorder given (new ones by default)."""
    recorder = recorder or Recorder()
    logins = logins or Recorder()
    asyncio.run(_run(base_url, engineers, managers, seconds, recorder, logins))
    return recorder, logins


# --- The report -------------------------------------------------------------------------------


def percentiles(times: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 (inclusive method: a single time is all three; none, zeros)."""
    if len(times) <= 1:
        return (times[0], times[0], times[0]) if times else (0.0, 0.0, 0.0)
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def report(loaded: Recorder, unloaded: Recorder | None) -> str:
    """The Markdown table: per kind, the loaded figures and their ratio to the unloaded ones."""
    lines = [
        "| request | count | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | 409/422 | unloaded p50/p95/p99 ms "
        "| ratio p50/p95/p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    kinds = sorted(loaded.times)
    for kind in [*kinds, "all"]:
        times = [t for name in kinds for t in loaded.times[name]] if kind == "all" else loaded.times[kind]
        errors = sum(loaded.errors.values()) if kind == "all" else loaded.errors[kind]
        business = sum(loaded.business.values()) if kind == "all" else loaded.business[kind]
        p50, p95, p99 = percentiles(times)
        base, ratio = "", ""
        if unloaded is not None and unloaded.times.get(kind):
            alone = percentiles(unloaded.times[kind])
            base = " / ".join(_ms(t) for t in alone)
            ratio = " / ".join(f"{a / b:.1f}×" for a, b in zip((p50, p95, p99), alone, strict=True))
        lines.append(
            f"| {kind} | {len(times):,} | {len(times) / loaded.elapsed:.1f} | {_ms(p50)} | {_ms(p95)} | {_ms(p99)} "
            f"| {_ms(max(times, default=0))} | {errors} | {business} | {base} | {ratio} |"
        )
    return "\n".join(lines)


# --- The run ----------------------------------------------------------------------------------


@contextmanager
def served_plant(
    engine: str, database_url: str, work: Path, engineers: int, managers: int, routes: int, stops: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(base URL, plant): a fresh plant on ``engine`` served by ``maintenance serve``."""
    from tests.live_server import live_database, run_python, server_env, serving

    server = database_url if engine == "postgresql" else ""
    with live_database(work, server) as url:
        env = server_env(work, url)
        started = time.perf_counter()
        args = ["--engineers", str(engineers), "--managers", str(managers), "--routes", str(routes)]
        output = run_python(env, "bench.bench_load", "seed", *args, "--stops", str(stops))
        plant = json.loads(output.strip().splitlines()[-1])
        print(f"{engine}: plant built in {time.perf_counter() - started:.1f} s ({url})", flush=True)
        with serving(env, work, cli=True) as base_url:
            wait_until_served(base_url)
            yield base_url, plant


def wait_until_served(base_url: str) -> None:
    """Until the login page answers: uvicorn says it runs once it listens, before its workers
    have imported the app (which takes seconds on a busy machine)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx2.get(f"{base_url}/login", timeout=REQUEST_TIMEOUT_S).status_code == 200:
                return
        except httpx2.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def summary(engine: str, loaded: Recorder, unloaded: Recorder | None, args: argparse.Namespace) -> list[Result]:
    """run_all's rows: p95 under load against p95 of one client alone; the target is no error."""
    # Imported here: the seeding process and tests/test_load.py import this module as
    # bench.bench_load, without bench/ on the path.
    from results import Result

    kinds = sorted(loaded.times)
    rows = []
    for kind, work in SUMMARY_KINDS.items():
        times = [t for name in kinds for t in loaded.times[name]] if kind == "all" else loaded.times[kind]
        alone_times = [] if unloaded is None else [t for name in kinds for t in unloaded.times.get(name, [])]
        if unloaded is not None and kind != "all":
            alone_times = unloaded.times.get(kind, [])
        errors = sum(loaded.errors.values()) if kind == "all" else loaded.errors[kind]
        p50, p95, p99 = percentiles(times)
        alone = percentiles(alone_times)[1] if alone_times else None
        rows.append(
            Result(
                "load",
                f"{engine}, {args.engineers} engineers + {args.managers} managers for {args.seconds:.0f} s: {work}, "
                "p95 loaded (ours) against one client alone (baseline)",
                p95,
                alone,
                p95 / alone if alone else None,
                "0 errors",
                errors == 0,
                f"{len(times) / loaded.elapsed:.1f} req/s; p50 {_ms(p50)} ms, p99 {_ms(p99)} ms; {errors} errors",
            )
        )
    return rows


def measure(engine: str, args: argparse.Namespace) -> list[Result]:
    work = ROOT / "bench" / "var" / f"load-{engine}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    server_log = logging.FileHandler(work / "server.log")
    logging.getLogger("tests.live_server").addHandler(server_log)
    logging.getLogger("tests.live_server").setLevel(logging.INFO)
    # One more engineer and manager than the load uses: the baseline's, with routes of their own.
    extra = 1 if args.baseline_seconds else 0
    with served_plant(
        engine, args.database_url, work, args.engineers + extra, args.managers + extra, args.routes, args.stops
    ) as (base_url, plant):
        engineers = dict(plant["engineers"])
        managers = list(plant["managers"])
        unloaded = None
        if extra:  # one engineer alone, then one manager alone
            unloaded, alone = run_load(base_url, dict([engineers.popitem()]), [], args.baseline_seconds)
            run_load(base_url, {}, [managers.pop()], args.baseline_seconds, unloaded, alone)
        load_before = os.getloadavg()[0]
        loaded, logins = run_load(base_url, engineers, managers, args.seconds)
        load_after = os.getloadavg()[0]
    logging.getLogger("tests.live_server").removeHandler(server_log)
    login_times = logins.times["POST /login"]
    print(
        f"\n{engine}: {len(engineers)} engineers + {len(managers)} managers for {args.seconds:.0f} s; "
        f"load average {load_before:.2f} before, {load_after:.2f} after; {len(loaded.acknowledged):,} entries "
        f"acknowledged; {loaded.engineers_done} engineers walked all their routes"
    )
    print(
        f"before that, everyone logged in ({os.cpu_count()} at a time) in {logins.elapsed:.1f} s: "
        f"POST /login p50 {_ms(percentiles(login_times)[0])} ms, max {_ms(max(login_times, default=0))} ms, "
        f"{sum(logins.errors.values())} errors\n"
    )
    print(report(loaded, unloaded))
    for example in logins.error_examples + loaded.error_examples:
        print(f"  error: {example}")
    print(f"server log: {work / 'server.log'}")
    return summary(engine, loaded, unloaded, args)


def main() -> None:
    if sys.argv[1:2] == ["seed"]:
        seeding = argparse.ArgumentParser(prog="python -m bench.bench_load seed")
        for name in ("engineers", "managers", "routes", "stops"):
            seeding.add_argument(f"--{name}", type=int, required=True)
        given = seeding.parse_args(sys.argv[2:])
        print(json.dumps(seed_load_plant(given.engineers, given.managers, given.routes, given.stops)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("MAINTENANCE_BENCH_DATABASE_URL") or LOCAL_POSTGRESQL,
        help="a PostgreSQL database URL: the plant goes into a database of its own beside it, dropped afterwards",
    )
    parser.add_argument("--engineers", type=int, default=50)
    parser.add_argument("--managers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline-seconds", type=float, default=10, help="0: no baseline")
    parser.add_argument("--routes", type=int, default=2, help="routes per engineer")
    parser.add_argument("--stops", type=int, default=20, help="stops per route")
    from results import add_json_option, emit

    add_json_option(parser)
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    if "postgresql" in engines and not args.database_url.startswith("postgresql"):
        parser.error("--database-url postgresql+psycopg://… is needed for PostgreSQL")
    emit([row for engine in engines for row in measure(engine, args)], args.json)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # tests.live_server and, in the seeding process, bench.bench_load
    main()
